"""Links between MARAC referrals: repeat matches (candidate earlier referrals for the same victim and
perpetrator, found through the people register's blind indexes, for the coordinator to confirm or
reject) and transfers of a case from one MARAC area to another with its history."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from saferhub.core.encryption import EncryptedTextField
from saferhub.people.access import case_scoped

__all__ = ["RepeatMatch", "MatchDecision", "RepeatMatchQuerySet", "ReferralTransfer", "ReferralTransferQuerySet"]


class MatchDecision(models.TextChoices):
    PENDING = "pending", "To confirm"
    CONFIRMED = "confirmed", "Confirmed"
    REJECTED = "rejected", "Rejected"


RepeatMatchQuerySet = case_scoped("referral__case")


class RepeatMatch(models.Model):
    """An earlier referral that may concern the same victim and perpetrator as `referral`.

    Exact matches (the same people, or an exact blind-index match on both) are decided when they
    are found; near matches wait for the coordinator. A match within the area's repeat window makes
    the referral a repeat once confirmed; one outside it is previous MARAC history only."""

    referral = models.ForeignKey("marac.MaracReferral", on_delete=models.CASCADE, related_name="repeat_matches")
    earlier = models.ForeignKey("marac.MaracReferral", on_delete=models.CASCADE, related_name="later_matches")
    exact = models.BooleanField(default=False, help_text="Same person on an exact blind-index match")
    reasons = models.JSONField(default=list, help_text="Which indexes matched and how names compared, never the values")
    score = models.FloatField(default=0, help_text="Match weight: the sum of the comparisons' agreement weights")
    days_apart = models.PositiveIntegerField(default=0, help_text="Days from the earlier referral to this one")
    within_window = models.BooleanField(default=False, help_text="Within the area's repeat window of the earlier referral")
    decision = models.CharField(max_length=10, choices=MatchDecision.choices, default=MatchDecision.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    # The coordinator's reason may name people: encrypted.
    decision_reason = EncryptedTextField(blank=True)
    found_at = models.DateTimeField(auto_now_add=True)

    objects = RepeatMatchQuerySet.as_manager()

    class Meta:
        ordering = ["referral", "-within_window", "days_apart", "pk"]
        constraints = [models.UniqueConstraint(fields=["referral", "earlier"], name="one_match_per_pair")]
        indexes = [models.Index(fields=["decision", "found_at"], name="marac_repeat_decision_idx")]

    def __str__(self) -> str:
        return f"Repeat match {self.pk}"

    @property
    def is_repeat(self) -> bool:
        return self.within_window and self.decision == MatchDecision.CONFIRMED


class ReferralTransferQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view"):
        """Transfers the user may see: those whose old or new referral's case they may see."""
        from django.db.models import Q

        from saferhub.people.access import _may_act, visible_case_ids

        if not _may_act(user, action):
            return self.none()
        visible = visible_case_ids(user, action)
        return self.filter(Q(from_referral__case__in=visible) | Q(to_referral__case__in=visible))


class ReferralTransfer(models.Model):
    """A case moved from one MARAC area to another. The old referral stays in its area, marked
    transferred, as the record of what that MARAC did; the receiving area gets a new referral (and
    case) holding the same people, linked here, and its coordinating organisation is made a party to
    the old case so that its coordinator can read the history."""

    from_referral = models.OneToOneField("marac.MaracReferral", on_delete=models.PROTECT, related_name="transferred_to")
    to_referral = models.OneToOneField("marac.MaracReferral", on_delete=models.PROTECT, related_name="transferred_from")
    from_area = models.ForeignKey("marac.MaracArea", on_delete=models.PROTECT, related_name="+")
    to_area = models.ForeignKey("marac.MaracArea", on_delete=models.PROTECT, related_name="+")
    # Free text that may name people: encrypted.
    reason = EncryptedTextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    objects = ReferralTransferQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"Transfer {self.pk}"
