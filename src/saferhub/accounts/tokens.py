"""API tokens for partners' own systems: making, revoking, and authenticating bearer requests."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from ninja.security import HttpBearer

from saferhub.accounts.models import ApiToken
from saferhub.audit.models import AuditAction
from saferhub.audit.trail import audit_event

PREFIX = "shub_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str, days: int | None = 365, by=None) -> tuple[ApiToken, str]:
    """Make a token for `user`; return it with the token text, which is never shown again."""
    if not user.is_active:
        raise ValidationError("The account is not active")
    if user.sees_personal_data:
        raise ValidationError("Accounts that can see personal data sign in with two-factor authentication and cannot have API tokens")
    if not name.strip():
        raise ValidationError({"name": "Say which system will use the token"})
    token = PREFIX + secrets.token_urlsafe(32)
    record = ApiToken.objects.create(
        user=user, name=name.strip(), prefix=token[:10], digest=_digest(token),
        expires_at=timezone.now() + timedelta(days=days) if days else None)
    audit_event(user=by, action=AuditAction.CREATE, record_type="api_token", record_id=record.pk,
                record_label=f"API token {record.prefix}… for {user.username}", purpose=name.strip())
    return record, token


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by=None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_event(user=by, action=AuditAction.UPDATE, record_type="api_token", record_id=token.pk,
                    record_label=f"API token {token.prefix}…", fields=["revoked_at"])
    return token


def api_token_user(token: str):
    """The active user a token belongs to, or None."""
    if not token or not token.startswith(PREFIX):
        return None
    record = ApiToken.objects.select_related("user__organisation").filter(digest=_digest(token)).first()
    now = timezone.now()
    if (record is None or record.revoked_at is not None or (record.expires_at and record.expires_at <= now)
            or not record.user.is_active or record.user.sees_personal_data):
        return None
    if record.last_used_at is None or now - record.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return record.user


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer shub_…`: the request acts as the token's user, with that user's
    permissions. No CSRF token is needed: no cookie is involved."""

    def authenticate(self, request, token):
        user = api_token_user(token)
        if user is not None:
            request.user = user
        return user


api_token_auth = ApiTokenAuth()
