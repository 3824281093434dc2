"""Counting failed attempts in the database, so every process sees the same counts, and locking.

A username is locked for LOCK_DURATION after USERNAME_LIMIT failures within WINDOW, whether or not
the username exists, so the lock says nothing about which usernames are real. An address is refused
while it has IP_LIMIT failures within WINDOW."""
from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.crypto import salted_hmac

from saferhub.accounts.models import AttemptLock, FailedAttempt

WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=15)
USERNAME_LIMIT = 5
IP_LIMIT = 20
CODE_LIMIT = 5


def username_key(username: str) -> str:
    return salted_hmac("saferhub.accounts.username", username.strip().casefold(), algorithm="sha256").hexdigest()


def code_key(user_id: int) -> str:
    return salted_hmac("saferhub.accounts.code", str(user_id), algorithm="sha256").hexdigest()


def locked_until(key: str) -> datetime | None:
    """When the lock on `key` ends, or None when it is not locked."""
    lock = AttemptLock.objects.filter(key=key, locked_until__gt=timezone.now()).first()
    return lock.locked_until if lock else None


def address_blocked(ip_address: str | None) -> bool:
    if not ip_address:
        return False
    since = timezone.now() - WINDOW
    return FailedAttempt.objects.filter(ip_address=ip_address, at__gt=since).count() >= IP_LIMIT


def failure_record(*, key: str, ip_address: str | None, limit: int) -> bool:
    """Count one failure against `key` (and the address); lock `key` when it reaches `limit`
    failures within the window. True when this failure locked it."""
    now = timezone.now()
    # Rows older than the window no longer count towards anything.
    FailedAttempt.objects.filter(at__lte=now - WINDOW).delete()
    AttemptLock.objects.filter(locked_until__lte=now).delete()
    FailedAttempt.objects.create(at=now, key=key, ip_address=ip_address or None)
    if FailedAttempt.objects.filter(key=key, at__gt=now - WINDOW).count() < limit:
        return False
    AttemptLock.objects.update_or_create(key=key, defaults={"locked_until": now + LOCK_DURATION})
    # The lock replaces the count: when it ends, the username starts again from nothing.
    FailedAttempt.objects.filter(key=key).update(key="")
    return True


def failures_clear(key: str) -> None:
    """A success: the failures counted against `key` no longer count (the address's still do)."""
    FailedAttempt.objects.filter(key=key).update(key="")
    AttemptLock.objects.filter(key=key).delete()
