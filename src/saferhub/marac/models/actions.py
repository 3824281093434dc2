"""Action plans: what each agency will do for a MARAC case, by when, and what became of it."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from saferhub.core.encryption import EncryptedTextField
from saferhub.partners.models import Organisation
from saferhub.people.access import case_scoped

__all__ = ["MaracAction", "ActionStatus", "MaracActionQuerySet"]


MaracActionQuerySet = case_scoped("referral__case")


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Completed"
    # DOMAIN.md §3: the two minute categories of incomplete actions.
    NOT_POSSIBLE = "not_possible", "Not possible due to change in circumstances"
    NOT_UNDERTAKEN = "not_undertaken", "Agency has not undertaken"


class MaracAction(models.Model):
    referral = models.ForeignKey("marac.MaracReferral", on_delete=models.CASCADE, related_name="actions")
    meeting = models.ForeignKey("marac.MaracMeeting", on_delete=models.SET_NULL, null=True, blank=True, related_name="actions_agreed")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="marac_actions")
    description = EncryptedTextField()
    deadline = models.DateField()
    status = models.CharField(max_length=15, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    outcome = EncryptedTextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = MaracActionQuerySet.as_manager()

    class Meta:
        ordering = ["deadline", "pk"]
        indexes = [models.Index(fields=["status", "deadline"]),
                   # The agenda's "recorded incomplete since the last meeting" (marac/agenda.py).
                   models.Index(fields=["status", "completed_at"], name="marac_action_status_closed_idx")]
