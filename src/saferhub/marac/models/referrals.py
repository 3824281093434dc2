"""Referrals to a MARAC: each opens a people.Case of kind "marac" holding the victim, the
perpetrators and the children; the answers to the checklist, the criteria met and safe contact
details live here, encrypted where personal."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from saferhub.core.encryption import EncryptedJSONField, EncryptedTextField
from saferhub.partners.models import Organisation
from saferhub.people.access import case_scoped

__all__ = ["MaracReferral", "ReferralStatus", "Answer", "ChecklistAnswer", "ReferralChild", "Criterion",
           "ReferralQuerySet"]


ReferralQuerySet = case_scoped("case")


class ReferralStatus(models.TextChoices):
    SUBMITTED = "submitted", "Awaiting the coordinator"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    TRANSFERRED = "transferred", "Transferred to another area"


class Criterion(models.TextChoices):
    VISIBLE_HIGH_RISK = "visible_high_risk", "Visible high risk"
    PROFESSIONAL_JUDGEMENT = "professional_judgement", "Professional judgement"
    POTENTIAL_ESCALATION = "potential_escalation", "Potential escalation"
    REPEAT = "repeat", "Repeat"


class MaracReferral(models.Model):
    case = models.OneToOneField("people.Case", on_delete=models.CASCADE, related_name="marac_referral")
    area = models.ForeignKey("marac.MaracArea", on_delete=models.PROTECT, related_name="referrals")
    referring_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    referred_at = models.DateTimeField(help_text="When the referral was submitted")
    status = models.CharField(max_length=12, choices=ReferralStatus.choices, default=ReferralStatus.SUBMITTED)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = EncryptedTextField(blank=True)
    # The checklist and what it found.
    checklist = models.ForeignKey("marac.RiskChecklist", on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(default=0, help_text="'Yes' answers on the main checklist")
    criteria_met = models.JSONField(default=list, help_text="Criterion values, with the explanation in criteria_explained")
    criteria_explained = models.JSONField(default=list, help_text="[{criterion, met, reason}] — never personal values")
    assessed_on = models.DateField(null=True, blank=True, help_text="When the referrer completed the risk checklist")
    professional_judgement = models.BooleanField(default=False, help_text="The referrer refers on professional judgement")
    professional_judgement_reasons = EncryptedTextField(blank=True)
    incidents_in_window = models.PositiveSmallIntegerField(default=0, help_text="DA incidents known to the referrer in the escalation window")
    # Safe contact.
    safe_contact_details = EncryptedTextField(blank=True)
    safe_to_call = models.BooleanField(default=False)
    # Repeats (marac.models.repeats holds the matches the coordinator confirms or rejects).
    repeat_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="repeats")
    is_repeat = models.BooleanField(default=False)
    # Heard at (marac.models.meetings).
    meeting = models.ForeignKey("marac.MaracMeeting", on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals")
    # Monitoring fields for MARAC data, as the referrer records them about the victim.
    has_children = models.BooleanField(default=False)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-referred_at"]
        indexes = [models.Index(fields=["area", "status", "referred_at"]),
                   # Agenda building reads only the referrals awaiting a meeting (marac/agenda.py).
                   # (area, status, meeting IS NULL): every column an equality, so planners pick it.
                   models.Index(fields=["area", "status", "meeting"], name="marac_referral_awaiting_idx")]

    def __str__(self) -> str:
        return f"MARAC referral {self.case.reference}" if self.case_id else "MARAC referral"


class Answer(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    NOT_KNOWN = "not_known", "Not known"


class ChecklistAnswer(models.Model):
    referral = models.ForeignKey(MaracReferral, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey("marac.ChecklistQuestion", on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(max_length=10, choices=Answer.choices)
    comment = EncryptedTextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["referral", "question"], name="one_answer_per_question")]


class ReferralChild(models.Model):
    """A child in the household: the person is a CaseParticipant with role child; school and age at
    referral are kept here for the agenda and MARAC data."""

    referral = models.ForeignKey(MaracReferral, on_delete=models.CASCADE, related_name="children")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    age_at_referral = models.PositiveSmallIntegerField()
    school = EncryptedTextField(blank=True)
    school_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
