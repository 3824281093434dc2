"""The site's URLs with single sign-on mounted, as they are when SAFERHUB_OIDC_RP_CLIENT_ID is set."""
from django.urls import include, path

from saferhub.config.urls import urlpatterns as site_urlpatterns

urlpatterns = [*site_urlpatterns, path("oidc/", include("saferhub.accounts.oidc_urls"))]
