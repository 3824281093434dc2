"""MARAC meetings: regular and emergency, their agenda (DOMAIN.md §3 order), attendance with the
confidentiality statement, agency research and minutes."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from saferhub.core.encryption import EncryptedTextField
from saferhub.partners.models import Organisation

__all__ = ["MaracMeeting", "MeetingKind", "MeetingStatus", "AgendaItem", "AgendaSection", "Attendance",
           "AgencyResearch"]


class MeetingKind(models.TextChoices):
    REGULAR = "regular", "Regular"
    EMERGENCY = "emergency", "Emergency"


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    HELD = "held", "Held"
    CANCELLED = "cancelled", "Cancelled"


class MaracMeeting(models.Model):
    area = models.ForeignKey("marac.MaracArea", on_delete=models.PROTECT, related_name="meetings")
    starts_at = models.DateTimeField()
    venue = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=10, choices=MeetingKind.choices, default=MeetingKind.REGULAR)
    status = models.CharField(max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED)
    chair = models.CharField(max_length=120, blank=True, help_text="Role and agency, e.g. 'DI, NYP'")
    agenda_built_at = models.DateTimeField(null=True, blank=True)
    # Minutes (never names of victims: references only).
    minutes = EncryptedTextField(blank=True)
    apologies = models.JSONField(default=list, blank=True, help_text="Organisation ids that sent apologies")
    information_sent = models.JSONField(default=list, blank=True, help_text="Organisation ids that sent information")

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["area", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.area} MARAC {self.starts_at:%d %B %Y}"


class AgendaSection(models.IntegerChoices):
    # DOMAIN.md §3: the order a MARAC agenda takes.
    INTRODUCTIONS = 10, "Introductions and confidentiality statement"
    INCOMPLETE_ACTIONS = 20, "Incomplete actions from the last meeting"
    CHILDREN = 30, "New cases involving children"
    ADULTS = 40, "Adult-only cases"
    ANNIVERSARY = 50, "Cases 12 months since their last MARAC"
    OTHER_BUSINESS = 60, "Any other business"


class AgendaItem(models.Model):
    meeting = models.ForeignKey(MaracMeeting, on_delete=models.CASCADE, related_name="agenda")
    section = models.PositiveSmallIntegerField(choices=AgendaSection.choices)
    position = models.PositiveIntegerField()
    referral = models.ForeignKey("marac.MaracReferral", on_delete=models.CASCADE, null=True, blank=True, related_name="agenda_items")
    action = models.ForeignKey("marac.MaracAction", on_delete=models.CASCADE, null=True, blank=True, related_name="agenda_items")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["meeting", "section", "position"]


class Attendance(models.Model):
    meeting = models.ForeignKey(MaracMeeting, on_delete=models.CASCADE, related_name="attendance")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    role = models.CharField(max_length=120, blank=True)
    confidentiality_signed_at = models.DateTimeField(null=True, blank=True)
    left_after_children_cases = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="one_attendance_per_user")]


class AgencyResearch(models.Model):
    """What one agency found in its own records before the meeting: visible only to the agencies of
    that meeting (and only once their attendee has signed the confidentiality statement)."""

    meeting = models.ForeignKey(MaracMeeting, on_delete=models.CASCADE, related_name="research")
    referral = models.ForeignKey("marac.MaracReferral", on_delete=models.CASCADE, related_name="research")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "referral", "organisation"], name="one_research_per_agency")]
