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
