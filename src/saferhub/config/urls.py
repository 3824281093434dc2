"""Top-level URLs: each domain app mounts its own."""
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from saferhub.accounts import views as accounts_views
from saferhub.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("sign-in/", core_views.SignInView.as_view(), name="login"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include("saferhub.accounts.urls")),
    path("accessibility/", core_views.accessibility, name="accessibility"),
    path("partners/", include("saferhub.partners.urls")),
    path("strategies/", include("saferhub.strategy.urls")),
    path("reports/", include("saferhub.publishing.urls")),
    path("performance/", include("saferhub.performance.urls")),
    path("returns/", include("saferhub.performance.returns_urls")),
    path("people/", include("saferhub.people.urls")),
    path("marac/", include("saferhub.marac.urls")),
    path("matac/", include("saferhub.matac.urls")),
    path("api/", include("saferhub.config.api_urls")),
    path("django-admin/login/", accounts_views.admin_login),
    path("django-admin/", admin.site.urls),
]

if settings.SAFERHUB_OIDC_ENABLED:
    urlpatterns.append(path("oidc/", include("saferhub.accounts.oidc_urls")))
