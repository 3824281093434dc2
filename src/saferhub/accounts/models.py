"""Failed sign-ins and wrong codes, kept only as long as throttling needs them, and the locks they cause."""
from django.conf import settings
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


class ApiTokenScope(models.TextChoices):
    GENERAL = "general", "General: the API as the account, with its permissions"
    MARAC_SUBMIT = "marac_submit", "MARAC submission: make MARAC referrals, read nothing"


class ApiToken(models.Model):
    """A bearer token a partner's own system uses to call the API as one member of staff (a
    provider submitting its data returns). Only its SHA-256 digest is stored; the token is shown
    once when made. General tokens are refused for accounts that can see personal data, since a
    token cannot carry the second factor those accounts need. A MARAC submission token may belong
    to such an account because it can only make MARAC referrals and gets nothing back about anyone
    (a police or hospital case system referring by machine)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="Which system uses it, e.g. IDAS case management")
    prefix = models.CharField(max_length=12, help_text="The token's first characters, to tell tokens apart")
    digest = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=20, choices=ApiTokenScope.choices, default=ApiTokenScope.GENERAL)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
