"""Single sign-on routes, mounted under /oidc/ only when SAFERHUB_OIDC_RP_CLIENT_ID is set.

They are reached before signing in, so they are exempt from the sign-in requirement."""
from django.contrib.auth.decorators import login_not_required
from django.urls import path
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from saferhub.accounts.oidc import SaferhubOIDCCallbackView

urlpatterns = [
    path("callback/", login_not_required(SaferhubOIDCCallbackView.as_view()), name="oidc_authentication_callback"),
    path("authenticate/", login_not_required(OIDCAuthenticationRequestView.as_view()), name="oidc_authentication_init"),
]
