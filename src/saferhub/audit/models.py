"""The edit history: every change to partnership records, with who, when, before and after."""
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class ChangeAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"
    PUBLISH = "publish", "Published"
    IMPORT = "import", "Imported"


class ChangeRecord(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=300)
    action = models.CharField(max_length=20, choices=ChangeAction.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    actor_name = models.CharField(max_length=200, blank=True, help_text="Kept if the account is later removed")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-at"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_repr} by {self.actor_name or 'system'}"

    @property
    def changed_fields(self) -> list[str]:
        keys = list(dict.fromkeys([*self.before.keys(), *self.after.keys()]))
        return [k for k in keys if self.before.get(k) != self.after.get(k)]


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    LIST = "list", "Listed"
    SEARCH = "search", "Searched"
    EXPORT = "export", "Exported"
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"
    ANONYMISE = "anonymise", "Anonymised"
    DISCLOSE = "disclose", "Disclosed to another organisation"
    BREAK_GLASS = "break_glass", "Opened outside their scope (break-glass)"
    SIGN_IN = "sign_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Failed sign-in"


class AuditEvent(models.Model):
    """One read or write of personal data. Events form a hash chain: each event's hash covers its
    own content and the hash of the event before it, so editing, deleting or reordering any event
    breaks the chain from that point on (`saferhub audit verify`)."""

    sequence = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_name = models.CharField(max_length=200, blank=True)
    organisation = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=60, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    record_type = models.CharField(max_length=60, db_index=True)
    record_id = models.CharField(max_length=64, blank=True, db_index=True)
    record_label = models.CharField(max_length=200, blank=True, help_text="Never personal data: a reference such as 'Person 41'")
    # Names of the fields changed; never the values of encrypted fields.
    fields = models.JSONField(default=list, blank=True)
    purpose = models.CharField(max_length=300, blank=True, help_text="Purpose or lawful basis")
    detail = models.JSONField(default=dict, blank=True, help_text="What was searched for (as indexes), counts, break-glass reasons…")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["sequence"]
        indexes = [models.Index(fields=["record_type", "record_id", "sequence"])]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.actor_name or 'system'} {self.get_action_display()} {self.record_type} {self.record_id}"


class AuditChainHead(models.Model):
    """The single row holding the newest event's sequence and hash; writers lock it so events are
    chained one at a time, in commit order."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    sequence = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
