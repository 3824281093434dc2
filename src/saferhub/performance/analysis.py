"""Comparisons over reported figures: year on year by month and by quarter, percentage change,
rolling twelve months, computed indicators, and targets against actuals with a RAG rating.

Each function reads with one aggregate query whatever the number of years or services held, so a
dashboard does not slow down as returns accumulate."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, Sum

from saferhub.performance.expressions import Expression, Reference
from saferhub.performance.models import ComputedIndicator, DataElement, DataValue, PeriodType, Polarity, Target
from saferhub.performance.periods import FinancialQuarter, add_months, financial_year_label, month_label


def percentage_change(previous: float | None, current: float | None) -> float | None:
    """Change from `previous` to `current` in per cent; None when it cannot be computed."""
    if previous is None or current is None or previous == 0:
        return None
    return (current - previous) / previous * 100


def _values(element: DataElement, services, period_type: str, starts: list[dt.date], option=None) -> dict[dt.date, float]:
    """Sum of the element's figures per period start, over `services` (None: every service)."""
    query = DataValue.objects.filter(data_element=element, period_type=period_type, period_start__in=starts)
    query = query.filter(option__isnull=True) if option is None else query.filter(option__code=option)
    if services is not None:
        query = query.filter(service__in=services)
    rows = query.values("period_start").annotate(total=Sum("value")).values_list("period_start", "total")
    return dict(rows)


@dataclass
class Row:
    label: str
    values: list[float | None]
    changes: list[float | None] = field(default_factory=list)  # against the year before, per column after the first


@dataclass
class YearOnYear:
    element: DataElement
    quarter: FinancialQuarter
    years: list[str]  # column labels: financial years, oldest first
    rows: list[Row]  # one per month, then the quarter

    @property
    def latest_change(self) -> float | None:
        return self.rows[-1].changes[-1] if self.rows and self.rows[-1].changes else None


def year_on_year(*, element: DataElement, quarter: FinancialQuarter, years: int = 3, services=None) -> YearOnYear:
    """The quarter's months (for monthly elements) and the quarter itself, in this and the
    previous `years - 1` financial years: e.g. October–December across 2021/22, 2022/23, 2023/24."""
    quarters = [quarter.same_quarter_years_ago(n) for n in reversed(range(years))]
    month_starts = [m for q in quarters for m in q.months]
    monthly = _values(element, services, PeriodType.MONTH, month_starts)
    quarterly = _values(element, services, PeriodType.QUARTER, [q.start for q in quarters])
    rows = []
    if monthly:
        for i in range(3):
            values = [monthly.get(q.months[i]) for q in quarters]
            rows.append(Row(quarter.months[i].strftime("%B"), values))
    totals = []
    for q in quarters:
        total = quarterly.get(q.start)
        if total is None:
            months = [monthly.get(m) for m in q.months]
            total = sum(months) if all(v is not None for v in months) else None
        totals.append(total)
    rows.append(Row(f"Q{quarter.quarter} total", totals))
    for row in rows:
        row.changes = [percentage_change(a, b) for a, b in zip(row.values, row.values[1:])]
    return YearOnYear(element, quarter, [financial_year_label(q.year) for q in quarters], rows)


def quarterly_series(*, element: DataElement, last: FinancialQuarter, count: int = 8, services=None, option=None) -> list[tuple[FinancialQuarter, float | None]]:
    """The element's figure for each of `count` quarters up to `last`: as reported for the
    quarter, or the sum of its three months when only months were reported."""
    quarters = [last]
    while len(quarters) < count:
        quarters.insert(0, quarters[0].previous())
    quarterly = _values(element, services, PeriodType.QUARTER, [q.start for q in quarters], option)
    monthly = _values(element, services, PeriodType.MONTH, [m for q in quarters for m in q.months], option)
    series = []
    for q in quarters:
        value = quarterly.get(q.start)
        if value is None and all(m in monthly for m in q.months):
            value = sum(monthly[m] for m in q.months)
        series.append((q, value))
    return series


def rolling_twelve_months(*, element: DataElement, end_month: dt.date, services=None) -> float | None:
    """The sum of the twelve months ending with `end_month`; None unless all twelve are reported."""
    months = [add_months(end_month.replace(day=1), -n) for n in range(12)]
    monthly = _values(element, services, PeriodType.MONTH, months)
    if len(monthly) < 12:
        return None
    return sum(monthly.values())


def monthly_series(*, element: DataElement, end_month: dt.date, count: int = 24, services=None) -> list[tuple[str, float | None]]:
    months = [add_months(end_month.replace(day=1), -n) for n in reversed(range(count))]
    monthly = _values(element, services, PeriodType.MONTH, months)
    return [(month_label(m), monthly.get(m)) for m in months]


def computed_value(indicator: ComputedIndicator, *, quarter: FinancialQuarter, services=None) -> float | None:
    """A computed indicator for a quarter: numerator ÷ denominator × multiplier."""
    numerator, denominator = Expression.parse(indicator.numerator), Expression.parse(indicator.denominator)
    refs = {*numerator.references, *denominator.references}
    elements = {e.slug: e for e in DataElement.objects.filter(slug__in={r.element for r in refs}).select_related("breakdown")}
    resolved: dict[Reference, float | None] = {}
    for ref in refs:
        element = elements.get(ref.element)
        if element is None:
            resolved[ref] = None
            continue
        if ref.option == "*":
            codes = list(element.breakdown.options.values_list("code", flat=True)) if element.breakdown_id else []
            parts = [quarterly_series(element=element, last=quarter, count=1, services=services, option=c)[0][1] for c in codes]
            present = [p for p in parts if p is not None]
            resolved[ref] = sum(present) if present else None
        else:
            resolved[ref] = quarterly_series(element=element, last=quarter, count=1, services=services, option=ref.option)[0][1]
    top, bottom = numerator.evaluate(resolved), denominator.evaluate(resolved)
    if top is None or bottom in (None, 0):
        return None
    return top / bottom * indicator.multiplier


@dataclass
class TargetStatus:
    target: Target
    actual: float | None
    as_of: FinancialQuarter | None
    rag: str  # red / amber / green / "" when there is no figure yet
    explanation: str


def target_status(target: Target, *, today: dt.date) -> TargetStatus:
    """The latest reported figure against the target: green when met, amber when within the
    tolerance (or the due date is still ahead and the figure is moving the right way), red otherwise."""
    query = DataValue.objects.filter(data_element=target.data_element, option__isnull=True, period_start__lte=today)
    if target.service_id:
        query = query.filter(service_id=target.service_id)
    latest = query.order_by("-period_start").values_list("period_start", flat=True).first()
    if latest is None:
        return TargetStatus(target, None, None, "", "No figure has been reported yet")
    actual = query.filter(Q(period_start=latest)).aggregate(total=Sum("value"))["total"]
    as_of = FinancialQuarter.from_date(latest)
    higher = target.data_element.polarity != Polarity.LOWER_IS_BETTER
    met = actual >= target.value if higher else actual <= target.value
    gap = abs(target.value - actual)
    if met:
        rag, text = "green", "Target met"
    elif gap <= abs(target.value) * target.amber_tolerance:
        rag, text = "amber", "Close to the target"
    elif today <= target.due:
        rag, text = "amber", f"Not yet met; due {target.due.day} {target.due:%B %Y}"
    else:
        rag, text = "red", f"Missed: the target was due {target.due.day} {target.due:%B %Y}"
    return TargetStatus(target, actual, as_of, rag, f"{text} ({actual:,.0f} against {target.value:,.0f}, {as_of.label})")
