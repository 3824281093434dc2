"""Failed sign-ins and wrong codes, kept only as long as throttling needs them, and the locks they cause."""
from django.db import models


class FailedAttempt(models.Model):
    """One failed sign-in or wrong two-factor code. `key` is a keyed hash, so the table never holds
    what someone typed as a username (often a password typed into the wrong box)."""

    at = models.DateTimeField(db_index=True)
    key = models.CharField(max_length=64)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["key", "at"]), models.Index(fields=["ip_address", "at"])]

    def __str__(self) -> str:
        return f"Failed attempt at {self.at:%Y-%m-%d %H:%M:%S}"


class AttemptLock(models.Model):
    """A username (or a user's code entry) refused until `locked_until`."""

    key = models.CharField(max_length=64, unique=True)
    locked_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"Locked until {self.locked_until:%Y-%m-%d %H:%M:%S}"
