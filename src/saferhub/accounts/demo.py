"""Two-factor sign-in for the demonstration accounts: one fixed, published key and backup code, so
anyone trying the demo can sign in as a user who sees personal data. Never used outside the demo."""
from __future__ import annotations

from base64 import b32encode

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

# Public on purpose: printed by `saferhub demo logins` and in the README. 20 bytes, as hex.
DEMO_TOTP_KEY = b"saferhub-demo-2fa-ok".hex()
DEMO_BACKUP_CODE = "demo2fa7"
DEMO_TOTP_NAME = "Demo authenticator app"
DEMO_BACKUP_NAME = "Demo backup code"


def demo_totp_secret() -> str:
    """The demo key as an authenticator app takes it (base32, in groups of four)."""
    encoded = b32encode(bytes.fromhex(DEMO_TOTP_KEY)).decode().rstrip("=")
    return " ".join(encoded[i:i + 4] for i in range(0, len(encoded), 4))


@transaction.atomic
def demo_totp(user) -> TOTPDevice:
    """Give `user` the demo authenticator key and the demo backup code (put back if it was used),
    with no wait left over from wrong codes. Any other devices the user has are left alone."""
    fresh = {"confirmed": True, "throttling_failure_count": 0, "throttling_failure_timestamp": None}
    device, _ = TOTPDevice.objects.update_or_create(user=user, name=DEMO_TOTP_NAME, defaults={"key": DEMO_TOTP_KEY, **fresh})
    backup, _ = StaticDevice.objects.update_or_create(user=user, name=DEMO_BACKUP_NAME, defaults=fresh)
    StaticToken.objects.get_or_create(device=backup, token=DEMO_BACKUP_CODE)
    return device


def demo_totp_line() -> str:
    return f"2FA: add the key {demo_totp_secret()} to an authenticator app, or use backup code {DEMO_BACKUP_CODE}"
