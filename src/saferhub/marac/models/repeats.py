"""Repeat matches: candidate earlier referrals for the same victim and perpetrator, found through
the people register's blind indexes, for the coordinator to confirm or reject."""
from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ["RepeatMatch", "MatchDecision"]


class MatchDecision(models.TextChoices):
    PENDING = "pending", "To confirm"
    CONFIRMED = "confirmed", "Confirmed"
    REJECTED = "rejected", "Rejected"


class RepeatMatch(models.Model):
    referral = models.ForeignKey("marac.MaracReferral", on_delete=models.CASCADE, related_name="repeat_matches")
    earlier = models.ForeignKey("marac.MaracReferral", on_delete=models.CASCADE, related_name="+")
    exact = models.BooleanField(default=False, help_text="Same person on an exact blind-index match")
    reasons = models.JSONField(default=list, help_text="Which indexes matched, never the values")
    decision = models.CharField(max_length=10, choices=MatchDecision.choices, default=MatchDecision.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["referral", "earlier"], name="one_match_per_pair")]
