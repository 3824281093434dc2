"""Strategies as a tree of items (Objective → Outcome → Aim, Priority → Commitment, …), the actions
hanging off any item, and the dated progress recorded against each action in reporting periods."""
import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from saferhub.partners.models import GovernanceBody, Organisation


class Strategy(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=300)
    short_title = models.CharField(max_length=120, blank=True)
    summary = models.TextField(blank=True)
    # The background a Progress Update opens with; each report may edit its own copy.
    background = models.TextField(blank=True)
    # The names of the tree's levels, top first: ["Objective", "Outcome", "Aim"].
    level_names = models.JSONField(default=list)
    owner = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="strategies")
    governance_body = models.ForeignKey(
        GovernanceBody, on_delete=models.SET_NULL, null=True, blank=True, related_name="strategies"
    )
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "title"]
        verbose_name_plural = "strategies"

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("strategy:strategy_detail", args=[self.slug])

    def level_name(self, depth: int) -> str:
        if depth < len(self.level_names):
            return self.level_names[depth]
        return self.level_names[-1] if self.level_names else "Item"


class StrategyItem(models.Model):
    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="items")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    depth = models.PositiveSmallIntegerField(default=0, help_text="0 for the top level")
    # Materialised path of zero-padded sibling positions ("0001.0003"), so one ordered query reads the tree.
    path = models.CharField(max_length=255, db_index=True)
    code = models.CharField(max_length=40, blank=True, help_text="The strategy's own reference: 3.1.1, 4.2a, Objective 1")
    title = models.TextField()
    short_title = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["strategy", "path"]
        constraints = [
            models.UniqueConstraint(fields=["strategy", "code"], condition=~Q(code=""), name="item_code_unique_in_strategy"),
            models.UniqueConstraint(fields=["strategy", "path"], name="item_path_unique_in_strategy"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.short_title or self.title}".strip()

    @property
    def level_name(self) -> str:
        return self.strategy.level_name(self.depth)

    @property
    def label(self) -> str:
        """How a person refers to this item: '3.1.1' or 'Outcome 1.2' or the title."""
        return self.code or (self.short_title or self.title)[:80]

    def get_absolute_url(self) -> str:
        return reverse("strategy:item_detail", args=[self.strategy.slug, self.pk])


class ActionStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    OFF_TRACK = "off_track", "Off track"
    COMPLETE = "complete", "Complete"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = [ActionStatus.NOT_STARTED, ActionStatus.ON_TRACK, ActionStatus.AT_RISK, ActionStatus.OFF_TRACK]


class Rag(models.TextChoices):
    NOT_SET = "", "Not set"
    RED = "red", "Red"
    AMBER = "amber", "Amber"
    GREEN = "green", "Green"


# Actions due within this many days are highlighted as due soon.
DUE_SOON_DAYS = 28


class Action(models.Model):
    item = models.ForeignKey(StrategyItem, on_delete=models.CASCADE, related_name="actions")
    reference = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    lead_organisations = models.ManyToManyField(Organisation, related_name="led_actions", blank=True)
    supporting_organisations = models.ManyToManyField(Organisation, related_name="supported_actions", blank=True)
    governance_body = models.ForeignKey(
        GovernanceBody, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions"
    )
    start_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True, db_index=True)
    timescale = models.CharField(max_length=120, blank=True, help_text="Free text when there are no dates, e.g. 'by end of 2023'")
    status = models.CharField(max_length=20, choices=ActionStatus.choices, default=ActionStatus.NOT_STARTED, db_index=True)
    rag = models.CharField(max_length=10, choices=Rag.choices, default=Rag.NOT_SET, blank=True, db_index=True)
    outcome_measures = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["item__path", "order", "id"]
        indexes = [models.Index(fields=["item", "order"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("strategy:action_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.is_open and self.due_date is not None and self.due_date < today

    def is_due_soon(self, today: dt.date | None = None) -> bool:
        today = today or timezone.localdate()
        return (
            self.is_open
            and self.due_date is not None
            and today <= self.due_date <= today + dt.timedelta(days=DUE_SOON_DAYS)
        )


class PeriodKind(models.TextChoices):
    MONTH = "month", "Month"
    QUARTER = "quarter", "Financial quarter"
    HALF_YEAR = "half_year", "Half year"
    YEAR = "year", "Financial year"
    CUSTOM = "custom", "Custom"


class ReportingPeriod(models.Model):
    """A labelled date range progress is reported in: 'June 2023', '2023/24 Q3', 'H2 2022/23'."""

    label = models.CharField(max_length=60, unique=True)
    start = models.DateField()
    end = models.DateField()
    kind = models.CharField(max_length=20, choices=PeriodKind.choices, default=PeriodKind.CUSTOM)

    class Meta:
        ordering = ["-end", "-start"]
        constraints = [models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="period_end_after_start")]

    def __str__(self) -> str:
        return self.label

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


class ProgressUpdate(models.Model):
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="progress_updates")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.PROTECT, related_name="progress_updates")
    actions_taken = models.TextField(blank=True)
    next_steps = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=ActionStatus.choices)
    rag = models.CharField(max_length=10, choices=Rag.choices, blank=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-period__end", "-recorded_at"]
        constraints = [models.UniqueConstraint(fields=["action", "period"], name="one_update_per_action_period")]
        indexes = [models.Index(fields=["period", "action"])]

    def __str__(self) -> str:
        return f"{self.action} – {self.period}"


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class ProgressReport(models.Model):
    """The public Progress Update of one strategy for one period. Once published it is frozen:
    the HTML, PDF and DOCX generated at publication are kept and served as they were."""

    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="reports")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.PROTECT, related_name="reports")
    title = models.CharField(max_length=300)
    background = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    frozen_html = models.TextField(blank=True)
    frozen_pdf = models.BinaryField(blank=True, default=b"")
    frozen_docx = models.BinaryField(blank=True, default=b"")

    class Meta:
        ordering = ["strategy", "-period__end"]
        constraints = [models.UniqueConstraint(fields=["strategy", "period"], name="one_report_per_strategy_period")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == ReportStatus.PUBLISHED
