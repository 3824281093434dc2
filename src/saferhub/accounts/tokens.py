"""API tokens for partners' own systems: making, revoking, and authenticating bearer requests.

A general token acts as its account across the API, so only accounts without personal data may
have one. A MARAC submission token is accepted by one route only, POST /api/marac/referrals/
(`marac_submit_auth`); every other route refuses it as it refuses an unknown token."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from ninja.security import HttpBearer

from saferhub.accounts.models import ApiToken, ApiTokenScope
from saferhub.audit.models import AuditAction
from saferhub.audit.trail import audit_event

PREFIX = "shub_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str, days: int | None = 365, by=None,
                     scope: str = ApiTokenScope.GENERAL) -> tuple[ApiToken, str]:
    """Make a token for `user`; return it with the token text, which is never shown again."""
    if not user.is_active:
        raise ValidationError("The account is not active")
    if scope not in ApiTokenScope.values:
        raise ValidationError({"scope": f"A token's scope is one of: {', '.join(ApiTokenScope.values)}"})
    if scope == ApiTokenScope.GENERAL and user.sees_personal_data:
        raise ValidationError("Accounts that can see personal data sign in with two-factor authentication and cannot have "
                              "general API tokens; a MARAC submission token (scope marac_submit) is allowed")
    if scope == ApiTokenScope.MARAC_SUBMIT:
        from saferhub.marac.referral_services import may_refer

        if not may_refer(user):
            raise ValidationError("A MARAC submission token needs an account that may make MARAC referrals (a contributor "
                                  "or above with access to personal data, in an organisation)")
    if not name.strip():
        raise ValidationError({"name": "Say which system will use the token"})
    token = PREFIX + secrets.token_urlsafe(32)
    record = ApiToken.objects.create(
        user=user, name=name.strip(), prefix=token[:10], digest=_digest(token), scope=scope,
        expires_at=timezone.now() + timedelta(days=days) if days else None)
    audit_event(user=by, action=AuditAction.CREATE, record_type="api_token", record_id=record.pk,
                record_label=f"API token {record.prefix}… for {user.username}", purpose=name.strip(),
                detail={"scope": scope})
    return record, token


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by=None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_event(user=by, action=AuditAction.UPDATE, record_type="api_token", record_id=token.pk,
                    record_label=f"API token {token.prefix}…", fields=["revoked_at"])
    return token


def api_token_record(token: str, *, scope: str = ApiTokenScope.GENERAL) -> ApiToken | None:
    """The live token of this scope (not revoked or expired, its account active), or None. Using
    it stamps last_used_at."""
    if not token or not token.startswith(PREFIX):
        return None
    record = ApiToken.objects.select_related("user__organisation").filter(digest=_digest(token), scope=scope).first()
    now = timezone.now()
    if (record is None or record.revoked_at is not None or (record.expires_at and record.expires_at <= now)
            or not record.user.is_active):
        return None
    # A general token acts as the account everywhere, which an account seeing personal data may
    # only do with its second factor: one issued before the account gained access stops working.
    if scope == ApiTokenScope.GENERAL and record.user.sees_personal_data:
        return None
    if record.last_used_at is None or now - record.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return record


def api_token_user(token: str):
    """The active user a general token belongs to, or None."""
    record = api_token_record(token)
    return record.user if record is not None else None


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer shub_…`: the request acts as the token's user, with that user's
    permissions. No CSRF token is needed: no cookie is involved."""

    def authenticate(self, request, token):
        user = api_token_user(token)
        if user is not None:
            request.user = user
        return user


api_token_auth = ApiTokenAuth()


class MaracSubmitTokenAuth(HttpBearer):
    """`Authorization: Bearer shub_…` with a MARAC submission token, for the one route that takes
    it. The request acts as the token's user and carries the token record as `request.api_token`,
    so the route can answer with a receipt instead of the referral and name the token in the audit
    trail."""

    def authenticate(self, request, token):
        record = api_token_record(token, scope=ApiTokenScope.MARAC_SUBMIT)
        if record is None:
            return None
        request.user, request.api_token = record.user, record
        return record.user


marac_submit_auth = MaracSubmitTokenAuth()
