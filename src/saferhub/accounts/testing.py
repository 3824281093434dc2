"""Test helpers for other apps: sign a user in with the second factor already done."""
from __future__ import annotations

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_totp.models import TOTPDevice


def totp_device(user) -> TOTPDevice:
    """The user's confirmed authenticator app, made if they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Test authenticator app", confirmed=True)
    return device


def totp_code(device: TOTPDevice) -> str:
    """A code the device accepts now: the current one, or the next one if the current was used."""
    now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t()
    # A code is accepted once: after a sign-in in this time step, the next step's code (still
    # within the device's tolerance) is the one that works.
    return f"{hotp(device.bin_key, max(now, device.last_t + 1), digits=device.digits):0{device.digits}d}"


def otp_login(client, user) -> TOTPDevice:
    """`client.force_login(user)` with a confirmed authenticator app and the session verified, as
    if the user had entered a code: what tests need for anyone who can see personal data."""
    client.force_login(user)
    device = totp_device(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
