"""Signing in: passwords under throttling, the second factor, backup codes, password changes.

Every sign-in and failed sign-in is written to the audit trail. The attempted password is never
kept anywhere; the attempted username is recorded only when it belongs to an account."""
from __future__ import annotations

import secrets
from base64 import b32encode

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from saferhub.accounts import throttle
from saferhub.audit.context import client_address  # noqa: F401 - used here and by the views
from saferhub.audit.models import AuditAction, ChangeAction
from saferhub.audit.services import change_record
from saferhub.audit.trail import audit_event

LOCKED_MESSAGE = "Too many failed attempts. Try again in 15 minutes."
INVALID_LOGIN_MESSAGE = "Enter a correct username and password"
CODE_LOCKED_MESSAGE = "Too many wrong codes. Try again in 15 minutes."
WRONG_CODE_MESSAGE = "Enter the code shown in your authenticator app now, or one of your backup codes"
CODE_TOO_SOON_MESSAGE = "Wait a few seconds, then enter the code shown in your authenticator app now"
BACKUP_CODE_COUNT = 10
# Set when the identity provider has done the second factor itself (SAFERHUB_OIDC_TRUSTS_MFA).
IDP_MFA_SESSION_KEY = "saferhub_mfa_by_identity_provider"
# Set at sign-in for staff who set up two-factor without needing it: they are asked for it too.
OPTED_IN_SESSION_KEY = "saferhub_two_factor_opted_in"
BACKUP_CODES_SESSION_KEY = "saferhub_backup_codes_to_show"
TOTP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"


def _account_label(user) -> str:
    return f"Account {user.pk}"




def _known_user(username: str):
    User = get_user_model()
    try:
        return User._default_manager.get_by_natural_key(username)
    except User.DoesNotExist:
        return None


def _failed(*, known, reason: str, stage: str = "password") -> None:
    detail = {"reason": reason, "stage": stage}
    if known is not None:
        detail["username"] = known.get_username()
    audit_event(
        user=None, action=AuditAction.SIGN_IN_FAILED, record_type="account",
        record_id=known.pk if known is not None else "",
        record_label=_account_label(known) if known is not None else "",
        detail=detail,
    )


def password_authenticate(*, request: HttpRequest, username: str, password: str):
    """The active user with this username and password. Raises ValidationError (code "locked" or
    "invalid_login") when the username or the address is locked out, or the password is wrong."""
    key = throttle.username_key(username)
    ip_address = client_address(request)
    known = _known_user(username)
    if throttle.locked_until(key) or throttle.address_blocked(ip_address):
        with transaction.atomic():
            _failed(known=known,
                    reason="username locked" if throttle.locked_until(key) else "too many failures from this address")
        raise ValidationError(LOCKED_MESSAGE, code="locked")
    user = authenticate(request, username=username, password=password)
    if user is None:
        with transaction.atomic():
            locked = throttle.failure_record(key=key, ip_address=ip_address, limit=throttle.USERNAME_LIMIT)
            if known is None:
                reason = "unknown username"
            elif not known.is_active:
                reason = "account disabled"
            else:
                reason = "wrong password"
            _failed(known=known, reason=reason + ("; username now locked" if locked else ""))
        if locked:
            raise ValidationError(LOCKED_MESSAGE, code="locked")
        raise ValidationError(INVALID_LOGIN_MESSAGE, code="invalid_login")
    with transaction.atomic():
        throttle.failures_clear(key)
        audit_event(user=user, action=AuditAction.SIGN_IN, record_type="account", record_id=user.pk,
                    record_label=_account_label(user), detail={"method": "password", "username": user.get_username()})
    return user


def sign_in_failed_record(*, reason: str, stage: str) -> None:
    """Audit a failed sign-in that matched no one account (single sign-on)."""
    with transaction.atomic():
        _failed(known=None, reason=reason, stage=stage)


def sign_in_record(*, user, method: str) -> None:
    """Audit a sign-in that did not go through a password (single sign-on)."""
    with transaction.atomic():
        audit_event(user=user, action=AuditAction.SIGN_IN, record_type="account", record_id=user.pk,
                    record_label=_account_label(user), detail={"method": method, "username": user.get_username()})


def has_confirmed_device(user) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def second_factor_required(request: HttpRequest) -> bool:
    """Whether this signed-in session needs a second factor: always for staff who can see personal
    data, and for staff who set one up of their own accord."""
    user = request.user
    return bool(user.is_authenticated and (user.sees_personal_data or request.session.get(OPTED_IN_SESSION_KEY)))


def second_factor_verified(request: HttpRequest) -> bool:
    user = request.user
    if not user.is_authenticated:
        return False
    if request.session.get(IDP_MFA_SESSION_KEY) and getattr(settings, "SAFERHUB_OIDC_TRUSTS_MFA", False):
        return True
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def sign_in_complete(*, request: HttpRequest, user) -> None:
    """After signing in (password or single sign-on): remember whether this user chose to have a second factor."""
    if not user.sees_personal_data and has_confirmed_device(user):
        request.session[OPTED_IN_SESSION_KEY] = True


def _normalise(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def second_factor_verify(*, request: HttpRequest, user, code: str):
    """Check a code from the user's authenticator app or one of their backup codes and mark the
    session verified. Raises ValidationError (codes "locked", "too_soon", "wrong_code")."""
    key = throttle.code_key(user.pk)
    if throttle.locked_until(key):
        with transaction.atomic():
            _failed(known=user, reason="code entry locked", stage="second factor")
        raise ValidationError(CODE_LOCKED_MESSAGE, code="locked")
    code = _normalise(code)
    device = None
    throttled = False
    with transaction.atomic():
        model = TOTPDevice if len(code) == 6 and code.isdigit() else StaticDevice
        for candidate in model.objects.select_for_update().filter(user=user, confirmed=True).order_by("id") if code else []:
            allowed, _ = candidate.verify_is_allowed()
            throttled = throttled or not allowed
            if allowed and candidate.verify_token(code):
                device = candidate
                break
    if device is None:
        with transaction.atomic():
            locked = throttle.failure_record(key=key, ip_address=None, limit=throttle.CODE_LIMIT)
            _failed(known=user, stage="second factor",
                    reason=("wrong code" if not throttled else "code entered too soon after a wrong one")
                    + ("; code entry now locked" if locked else ""))
        if locked:
            raise ValidationError(CODE_LOCKED_MESSAGE, code="locked")
        if throttled:
            raise ValidationError(CODE_TOO_SOON_MESSAGE, code="too_soon")
        raise ValidationError(WRONG_CODE_MESSAGE, code="wrong_code")
    with transaction.atomic():
        throttle.failures_clear(key)
        audit_event(user=user, action=AuditAction.SIGN_IN, record_type="account", record_id=user.pk,
                    record_label=_account_label(user),
                    detail={"method": "authenticator app" if isinstance(device, TOTPDevice) else "backup code",
                            "username": user.get_username()})
    # A new session key once the second factor is done, as after any rise in privilege.
    request.session.cycle_key()
    otp_login(request, device)
    return device


def totp_device_pending(*, user) -> TOTPDevice:
    """The authenticator app being set up: the user's unconfirmed device, made if there is none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_secret(device: TOTPDevice) -> str:
    """The device's key as authenticator apps take it: base32, in groups of four."""
    encoded = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(encoded[i:i + 4] for i in range(0, len(encoded), 4))


def backup_codes_issue(*, user) -> list[str]:
    """Replace the user's backup codes with BACKUP_CODE_COUNT new ones; return them (they are shown once)."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
        codes = []
        while len(codes) < BACKUP_CODE_COUNT:
            code = b32encode(secrets.token_bytes(5)).decode().lower()
            if code not in codes:
                codes.append(code)
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
        audit_event(user=user, action=AuditAction.UPDATE, record_type="account", record_id=user.pk,
                    record_label=_account_label(user), fields=["backup_codes"])
    return codes


def format_backup_code(code: str) -> str:
    return f"{code[:4]} {code[4:]}"


def totp_device_confirm(*, request: HttpRequest, user, code: str) -> list[str]:
    """Confirm the authenticator app being set up with a code from it: it replaces any earlier app,
    the session counts as verified, and new backup codes are issued and returned.
    Raises ValidationError when the code is wrong."""
    key = throttle.code_key(user.pk)
    if throttle.locked_until(key):
        raise ValidationError(CODE_LOCKED_MESSAGE, code="locked")
    code = _normalise(code)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-id").first()
        if device is None or not code.isdigit() or not device.verify_token(code):
            # Outside this block the failure is counted even though nothing else changed.
            device = None
        else:
            had_app = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            change_record(actor=user, instance=user, action=ChangeAction.UPDATE,
                          before={"two_factor": "authenticator app" if had_app else "not set up"},
                          after={"two_factor": "authenticator app (replaced)" if had_app else "authenticator app"})
            audit_event(user=user, action=AuditAction.UPDATE, record_type="account", record_id=user.pk,
                        record_label=_account_label(user), fields=["two_factor"])
    if device is None:
        with transaction.atomic():
            locked = throttle.failure_record(key=key, ip_address=None, limit=throttle.CODE_LIMIT)
        if locked:
            raise ValidationError(CODE_LOCKED_MESSAGE, code="locked")
        raise ValidationError("Enter the 6-digit code your authenticator app shows for Saferhub", code="wrong_code")
    throttle.failures_clear(key)
    request.session.cycle_key()
    otp_login(request, device)
    return backup_codes_issue(user=user)


@transaction.atomic
def password_change(*, user, new_password: str) -> None:
    """Set a new password (already checked against the password policy)."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
    change_record(actor=user, instance=user, action=ChangeAction.UPDATE,
                  before={"password": "previous password"}, after={"password": "changed"})
    audit_event(user=user, action=AuditAction.UPDATE, record_type="account", record_id=user.pk,
                record_label=_account_label(user), fields=["password"])
