"""Versioned risk checklists: the 24-question DASH-style checklist and the 11-question stalking
screen, shipped with neutral topic labels; licensed wording is loaded as a new version."""
from __future__ import annotations

from django.db import models

__all__ = ["RiskChecklist", "ChecklistQuestion", "ChecklistSection"]


class RiskChecklist(models.Model):
    name = models.CharField(max_length=120)
    version = models.PositiveSmallIntegerField()
    is_current = models.BooleanField(default=False)
    licence_note = models.CharField(max_length=300, blank=True, help_text="Whose wording, under what licence")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="one_checklist_version"),
            # Referrals are written against the one current version; earlier ones stay for old referrals.
            models.UniqueConstraint(fields=["is_current"], condition=models.Q(is_current=True), name="one_current_checklist"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class ChecklistSection(models.TextChoices):
    MAIN = "main", "Risk checklist"
    STALKING = "stalking", "Stalking screen"


class ChecklistQuestion(models.Model):
    checklist = models.ForeignKey(RiskChecklist, on_delete=models.CASCADE, related_name="questions")
    section = models.CharField(max_length=10, choices=ChecklistSection.choices, default=ChecklistSection.MAIN)
    number = models.PositiveSmallIntegerField()
    key = models.SlugField(max_length=60, help_text="Stable topic key, the same across versions, e.g. 'stalking'")
    topic = models.CharField(max_length=200, help_text="Neutral topic label")
    wording = models.TextField(blank=True, help_text="Licensed wording, where loaded")
    triggers_stalking_screen = models.BooleanField(default=False)

    class Meta:
        ordering = ["checklist", "section", "number"]
        constraints = [
            models.UniqueConstraint(fields=["checklist", "section", "number"], name="one_question_number"),
            models.UniqueConstraint(fields=["checklist", "key"], name="one_question_key"),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.topic}"
