"""Single sign-on through a partner's identity provider (OpenID Connect, mozilla-django-oidc).

Signing in this way never creates an account: staff are provisioned by administrators, with their
organisation and role, and the identity provider's email is matched to exactly one active account."""
from __future__ import annotations

import logging

from django.conf import settings
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView

from saferhub.accounts import services

logger = logging.getLogger(__name__)


class SaferhubOIDCBackend(OIDCAuthenticationBackend):
    def verify_claims(self, claims) -> bool:
        # An email the provider has not verified could be anyone's.
        return bool(claims.get("email")) and claims.get("email_verified", True) is not False

    def filter_users_by_claims(self, claims):
        email = (claims.get("email") or "").strip()
        if not email:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email__iexact=email, is_active=True)

    def create_user(self, claims):
        return self._refused("no active account has the identity provider's email")

    def get_or_create_user(self, access_token, id_token, payload):
        # Never create, whatever OIDC_CREATE_USER says.
        user_info = self.get_userinfo(access_token, id_token, payload)
        if not self.verify_claims(user_info):
            return self._refused("the identity provider gave no verified email")
        users = list(self.filter_users_by_claims(user_info)[:2])
        if len(users) != 1:
            return self._refused(("no active account has" if not users else "several accounts have") + " the identity provider's email")
        return self.update_user(users[0], user_info)

    @staticmethod
    def _refused(reason: str) -> None:
        logger.warning("Single sign-on refused: %s", reason)
        services.sign_in_failed_record(reason=reason, stage="single sign-on")
        return None


class SaferhubOIDCCallbackView(OIDCAuthenticationCallbackView):
    """Audits the sign-in, and counts the identity provider's own multi-factor sign-in as the
    second factor when SAFERHUB_OIDC_TRUSTS_MFA is set."""

    def login_success(self):
        response = super().login_success()
        services.sign_in_record(user=self.user, method="single sign-on")
        if getattr(settings, "SAFERHUB_OIDC_TRUSTS_MFA", False):
            self.request.session[services.IDP_MFA_SESSION_KEY] = True
        else:
            services.sign_in_complete(request=self.request, user=self.user)
        return response
