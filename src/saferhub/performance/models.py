"""The performance framework: data elements with breakdowns, computed indicators, targets, the
quarterly data returns services send, their values, and validation rules held as data."""
from django.conf import settings
from django.db import models
from django.db.models import Q

from saferhub.commissioning.models import Service
from saferhub.partners.models import Organisation
from saferhub.strategy.models import StrategyItem


class Breakdown(models.Model):
    """A way of splitting a count: gender, referrer agency, item provided. Its options are data."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BreakdownOption(models.Model):
    breakdown = models.ForeignKey(Breakdown, on_delete=models.CASCADE, related_name="options")
    code = models.SlugField(max_length=80)
    label = models.CharField(max_length=120)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["breakdown", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["breakdown", "code"], name="option_code_unique_in_breakdown")]

    def __str__(self) -> str:
        return self.label


class Unit(models.TextChoices):
    COUNT = "count", "Count"
    HOURS = "hours", "Hours"
    PERCENT = "percent", "Percentage"
    POUNDS = "pounds", "Pounds"


class Polarity(models.TextChoices):
    HIGHER_IS_BETTER = "higher", "Higher is better"
    LOWER_IS_BETTER = "lower", "Lower is better"
    NEUTRAL = "neutral", "Neither (context)"


class Frequency(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


class DataElement(models.Model):
    """One figure a service reports each period, optionally split by one breakdown."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    definition = models.TextField(blank=True)
    unit = models.CharField(max_length=20, choices=Unit.choices, default=Unit.COUNT)
    polarity = models.CharField(max_length=10, choices=Polarity.choices, default=Polarity.NEUTRAL)
    frequency = models.CharField(
        max_length=10, choices=Frequency.choices, default=Frequency.QUARTERLY,
        help_text="Monthly elements are reported month by month inside each quarterly return",
    )
    breakdown = models.ForeignKey(Breakdown, on_delete=models.PROTECT, null=True, blank=True, related_name="data_elements")
    owner = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="data_elements")
    services = models.ManyToManyField(Service, related_name="data_elements", blank=True)
    strategy_items = models.ManyToManyField(StrategyItem, related_name="data_elements", blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class ComputedIndicator(models.Model):
    """An indicator computed from data elements, e.g. a percentage: numerator ÷ denominator × 100.
    Expressions refer to data elements as #{slug}, an option as #{slug.option}, all options summed
    as #{slug.*}."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    definition = models.TextField(blank=True)
    numerator = models.CharField(max_length=500)
    denominator = models.CharField(max_length=500, default="1")
    multiplier = models.FloatField(default=1)
    unit = models.CharField(max_length=20, choices=Unit.choices, default=Unit.COUNT)
    polarity = models.CharField(max_length=10, choices=Polarity.choices, default=Polarity.NEUTRAL)
    services = models.ManyToManyField(Service, related_name="computed_indicators", blank=True)
    strategy_items = models.ManyToManyField(StrategyItem, related_name="computed_indicators", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Target(models.Model):
    """What a figure should reach by a date, e.g. 50 trained SOLOs by 31 December 2023."""

    data_element = models.ForeignKey(DataElement, on_delete=models.CASCADE, related_name="targets")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, null=True, blank=True, related_name="targets")
    due = models.DateField()
    value = models.FloatField()
    # How close to the target still counts as amber, as a fraction of the target.
    amber_tolerance = models.FloatField(default=0.1)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["due"]

    def __str__(self) -> str:
        return f"{self.data_element}: {self.value:g} by {self.due:%d %B %Y}"


class ReturnStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"


class DataReturn(models.Model):
    """The figures one service sends for one financial quarter. Approved returns are locked."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="returns")
    # The first day of the financial quarter (1 Apr, 1 Jul, 1 Oct or 1 Jan).
    quarter_start = models.DateField()
    status = models.CharField(max_length=20, choices=ReturnStatus.choices, default=ReturnStatus.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Comments explaining warnings, keyed by validation rule slug.
    warning_comments = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-quarter_start", "service__name"]
        constraints = [models.UniqueConstraint(fields=["service", "quarter_start"], name="one_return_per_service_quarter")]

    def __str__(self) -> str:
        from saferhub.performance.periods import FinancialQuarter

        return f"{self.service} – {FinancialQuarter.from_date(self.quarter_start).label}"


class PeriodType(models.TextChoices):
    MONTH = "M", "Month"
    QUARTER = "Q", "Quarter"


class DataValue(models.Model):
    """One figure: a data element's value for a service in a month or quarter, for one breakdown
    option or (option empty) the total. Kept lean: the benchmark holds ten million of these."""

    data_element = models.ForeignKey(DataElement, on_delete=models.PROTECT, related_name="values")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="values")
    period_type = models.CharField(max_length=1, choices=PeriodType.choices)
    period_start = models.DateField()
    option = models.ForeignKey(BreakdownOption, on_delete=models.PROTECT, null=True, blank=True, related_name="values")
    value = models.FloatField()
    data_return = models.ForeignKey(DataReturn, on_delete=models.CASCADE, null=True, blank=True, related_name="values")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["data_element", "service", "period_type", "period_start", "option"],
                condition=Q(option__isnull=False), name="one_value_per_option",
            ),
            models.UniqueConstraint(
                fields=["data_element", "service", "period_type", "period_start"],
                condition=Q(option__isnull=True), name="one_total_value",
            ),
        ]
        indexes = [
            models.Index(fields=["data_element", "period_type", "period_start", "service"], name="value_element_period_idx"),
            # A service's summary reads every element of one service for a few periods: through
            # this index it reads those periods only, whatever the years held, with or without
            # the database's statistics (benchmarks/README.md).
            models.Index(fields=["service", "period_start"], name="value_service_period_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.data_element} {self.period_start} = {self.value:g}"


class Operator(models.TextChoices):
    EQUAL = "==", "equal to"
    NOT_EQUAL = "!=", "not equal to"
    GREATER = ">", "greater than"
    GREATER_OR_EQUAL = ">=", "greater than or equal to"
    LESS = "<", "less than"
    LESS_OR_EQUAL = "<=", "less than or equal to"
    COMPULSORY_PAIR = "compulsory_pair", "both or neither present"
    EXCLUSIVE_PAIR = "exclusive_pair", "not both present"


class Importance(models.TextChoices):
    ERROR = "error", "Error: the return cannot be submitted"
    WARNING = "warning", "Warning: needs a comment"


class MissingValueStrategy(models.TextChoices):
    SKIP_IF_ANY_VALUE_MISSING = "skip_if_any", "Skip if any value is missing"
    SKIP_IF_ALL_VALUES_MISSING = "skip_if_all", "Skip if all values are missing"
    NEVER_SKIP = "never_skip", "Never skip (missing counts as 0)"


class RuleKind(models.TextChoices):
    EXPRESSION = "expression", "Left side compared with right side"
    BREAKDOWN_TOTALS = "breakdown_totals", "Every breakdown adds up to its total"
    MONTHS_TO_QUARTER = "months_to_quarter", "Months add up to the quarter"


class ValidationRule(models.Model):
    """A check on a return, in the manner of DHIS2's validation rules."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=RuleKind.choices, default=RuleKind.EXPRESSION)
    left_side = models.CharField(max_length=500, blank=True)
    operator = models.CharField(max_length=20, choices=Operator.choices, default=Operator.EQUAL)
    right_side = models.CharField(max_length=500, blank=True)
    left_missing = models.CharField(max_length=12, choices=MissingValueStrategy.choices, default=MissingValueStrategy.SKIP_IF_ANY_VALUE_MISSING)
    right_missing = models.CharField(max_length=12, choices=MissingValueStrategy.choices, default=MissingValueStrategy.SKIP_IF_ANY_VALUE_MISSING)
    importance = models.CharField(max_length=10, choices=Importance.choices, default=Importance.ERROR)
    message = models.CharField(max_length=300)
    # Which services it applies to; none means every service reporting the elements it names.
    services = models.ManyToManyField(Service, related_name="validation_rules", blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class ReportVersion(models.TextChoices):
    PUBLISHED = "published", "Published"
    INTERNAL = "internal", "Internal"


class ReportFileStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PREPARING = "preparing", "Being prepared"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class ReportFile(models.Model):
    """A quarterly performance report prepared by the task worker, so a download never renders it in
    the request. One row per quarter, version and format, replaced when prepared again; the file
    prepared before stays downloadable until then. What it was built from says when it is out of date."""

    quarter_start = models.DateField()
    version = models.CharField(max_length=20, choices=ReportVersion.choices)
    file_format = models.CharField(max_length=10)
    status = models.CharField(max_length=20, choices=ReportFileStatus.choices, default=ReportFileStatus.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    # Shown to the user: a plain sentence, never a traceback (that goes to the worker's log).
    error = models.TextField(blank=True)
    content = models.BinaryField(default=b"", blank=True)
    filename = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    prepared_at = models.DateTimeField(null=True, blank=True)
    # What the stored file was built from: the approved returns of the quarter and of the same
    # quarter in the years it compares with, and the disclosure control settings (published only).
    approved_returns = models.PositiveIntegerField(default=0)
    last_approved_at = models.DateTimeField(null=True, blank=True)
    disclosure = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-quarter_start", "version", "file_format"]
        constraints = [models.UniqueConstraint(fields=["quarter_start", "version", "file_format"],
                                               name="one_report_file_per_quarter_version_format")]

    def __str__(self) -> str:
        from saferhub.performance.periods import FinancialQuarter

        return f"Performance report {FinancialQuarter.from_date(self.quarter_start).label}, {self.version} {self.file_format.upper()}"
