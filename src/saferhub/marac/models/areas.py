"""MARAC areas: where a MARAC sits, who coordinates it, its referral thresholds and its schedule."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from saferhub.partners.models import Organisation

__all__ = ["MaracArea"]


class MaracArea(models.Model):
    """A MARAC: North Yorkshire, York… Thresholds are the area's own (DOMAIN.md §3 defaults)."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120, unique=True)
    coordinating_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+",
        help_text="The organisation whose coordinators receive referrals; party to every case of the area")
    coordinators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="marac_areas")
    # Referral criteria (DOMAIN.md §3).
    high_risk_threshold = models.PositiveSmallIntegerField(default=14, help_text="'Yes' answers for visible high risk")
    escalation_incidents = models.PositiveSmallIntegerField(default=3, help_text="Incidents for potential escalation")
    escalation_window_days = models.PositiveSmallIntegerField(default=365, help_text="…within this many days")
    repeat_window_days = models.PositiveSmallIntegerField(default=365, help_text="Repeat if within this many days of the last referral")
    # MARAC data: cases per 10,000 adult (16+) women.
    adult_female_population = models.PositiveIntegerField(default=0)
    # Schedule: meetings every `meeting_interval_days` from `first_meeting_date` at `meeting_time`.
    meeting_interval_days = models.PositiveSmallIntegerField(default=7)
    first_meeting_date = models.DateField(null=True, blank=True)
    meeting_time = models.TimeField(null=True, blank=True)
    default_venue = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(high_risk_threshold__gte=1), name="marac_area_threshold_positive"),
            models.CheckConstraint(condition=models.Q(escalation_incidents__gte=1), name="marac_area_incidents_positive"),
            models.CheckConstraint(condition=models.Q(escalation_window_days__gte=1), name="marac_area_window_positive"),
            models.CheckConstraint(condition=models.Q(meeting_interval_days__gte=1), name="marac_area_interval_positive"),
        ]

    def __str__(self) -> str:
        return self.name
