"""MARAC meetings: regular and emergency, their agenda (DOMAIN.md §3 order), attendance with the
confidentiality statement, agency research and minutes."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from saferhub.core.encryption import EncryptedTextField
from saferhub.partners.models import Organisation

__all__ = ["MaracMeeting", "MeetingKind", "MeetingStatus", "AgendaItem", "AgendaSection", "Attendance",
           "AgencyResearch", "CalendarFeedToken"]


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
    # The date of the area's schedule a regular meeting stands for, so scheduling twice adds nothing.
    scheduled_for = models.DateField(null=True, blank=True)
    # An emergency meeting is called for one named referral; why is free text that may name people.
    emergency_referral = models.ForeignKey("marac.MaracReferral", on_delete=models.SET_NULL, null=True, blank=True,
                                           related_name="emergency_meetings")
    emergency_reason = EncryptedTextField(blank=True)
    agenda_built_at = models.DateTimeField(null=True, blank=True)
    agenda_published_at = models.DateTimeField(null=True, blank=True)
    held_at = models.DateTimeField(null=True, blank=True, help_text="When the minutes marked the meeting held")
    # Minutes (never names of victims: references only).
    minutes = EncryptedTextField(blank=True)
    apologies = models.JSONField(default=list, blank=True, help_text="Organisation ids that sent apologies")
    information_sent = models.JSONField(default=list, blank=True, help_text="Organisation ids that sent information")

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["area", "starts_at"]),
                   models.Index(fields=["area", "status", "starts_at"], name="marac_meeting_area_status_idx")]
        constraints = [models.UniqueConstraint(fields=["area", "scheduled_for"], condition=Q(kind="regular"),
                                               name="one_regular_meeting_per_scheduled_date")]

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
    # For an incomplete action: its minute category (ActionStatus not_possible / not_undertaken).
    category = models.CharField(max_length=15, blank=True)
    # Added by a coordinator (a review, any other business): kept when the agenda is rebuilt.
    manual = models.BooleanField(default=False)
    # What the meeting said about the case, for the minutes: may name people, so encrypted.
    minutes_note = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["meeting", "section", "position"]


class Attendance(models.Model):
    meeting = models.ForeignKey(MaracMeeting, on_delete=models.CASCADE, related_name="attendance")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    role = models.CharField(max_length=120, blank=True)
    confidentiality_signed_at = models.DateTimeField(null=True, blank=True)
    # Which wording of the statement they agreed to (meeting_services.CONFIDENTIALITY_VERSION).
    confidentiality_version = models.CharField(max_length=20, blank=True)
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


class CalendarFeedToken(models.Model):
    """A secret address for one member of staff's calendar of MARAC meetings, for calendar programs
    that cannot sign in. Only a digest is stored; revoking it ends the feed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="marac_calendar_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
