"""Reads for the performance dashboards: the overview, one service, one strategy's figures and the
year-on-year comparison. Each reads its figures in one query (analysis.Figures) whatever the number
of elements, services or years held, then builds its tables and charts in memory. Dashboards are
internal: they show exact figures, from approved returns only, as the published report does."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from django.db import connection
from django.db.models import Exists, Max, OuterRef, Q, Subquery
from django.http import Http404

from saferhub.commissioning.models import Service
from saferhub.performance import analysis
from saferhub.performance.analysis import Figures, TargetStatus, quarter_starts
from saferhub.performance.charts import Chart, breakdown_chart, targets_chart, trend_chart, year_on_year_chart
from saferhub.performance.models import (
    ComputedIndicator, DataElement, DataReturn, Frequency, PeriodType, ReturnStatus, Target, Unit,
)
from saferhub.performance.periods import FinancialQuarter, add_months, month_label
from saferhub.performance.tables import Change, Column, Table, figure_text
from saferhub.strategy.models import Strategy, StrategyItem

TREND_QUARTERS = 8
YEARS_DEFAULT = 3
YEARS_MAX = 10
RAG_LABELS = {"red": "Red", "amber": "Amber", "green": "Green", "": "No figure yet"}


@dataclass
class Block:
    """A table, with the chart that draws it when there is one."""

    table: Table
    chart: Chart | None = None


@dataclass
class ElementPanel:
    element: DataElement
    quarter: FinancialQuarter
    current: float | None
    last_year: float | None
    change: Change
    latest: tuple[FinancialQuarter, float] | None = None  # the latest figure up to the quarter
    sentences: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)

    @property
    def current_text(self) -> str:
        return _text(self.current, self.element)

    @property
    def last_year_text(self) -> str:
        return _text(self.last_year, self.element)

    @property
    def latest_text(self) -> str:
        return f"{_text(self.latest[1], self.element)} ({self.latest[0].label})" if self.latest else ""


@dataclass
class Page:
    """What every dashboard offers for its exports and chart images: tables and charts by key."""

    def all_blocks(self) -> list[Block]:
        return []

    def table(self, key: str) -> Table:
        for block in self.all_blocks():
            if block.table.key == key:
                return block.table
        raise Http404("No such table")

    def chart(self, key: str) -> Chart:
        for block in self.all_blocks():
            if block.chart is not None and block.chart.key == key:
                return block.chart
        raise Http404("No such chart")


def quarter_from_param(text: str | None) -> FinancialQuarter | None:
    """A quarter from a query string: 2023-24-q3 or 2023/24-Q3; None when absent or not a quarter."""
    if not text:
        return None
    for parse in (FinancialQuarter.from_slug, FinancialQuarter.parse):
        try:
            return parse(text.strip())
        except ValueError:
            continue
    return None


def approved_quarters() -> list[FinancialQuarter]:
    """Every quarter with an approved return, newest first."""
    starts = DataReturn.objects.filter(status=ReturnStatus.APPROVED).order_by().values_list("quarter_start", flat=True).distinct()
    return sorted({FinancialQuarter.from_date(start) for start in starts}, reverse=True)


# Unit.values builds a new list on every access; a summary of 200 figures asks thousands of times.
_UNITS = frozenset(Unit.values)


def unit_of(element) -> str:
    return element.unit if element.unit in _UNITS else Unit.COUNT


def _figure_column(heading: str, element) -> Column:
    return Column(heading, unit_of(element))


# --- Element panels ------------------------------------------------------------------------------

def _load_starts(quarter: FinancialQuarter, years: int = YEARS_DEFAULT) -> set[dt.date]:
    """Every period a panel reads: the last eight quarters (trend, rolling twelve months a year
    apart) and the same quarter in each of `years` years (year on year), with their months."""
    quarters = [quarter]
    while len(quarters) < TREND_QUARTERS:
        quarters.append(quarters[-1].previous())
    quarters += [quarter.same_quarter_years_ago(n) for n in range(years)]
    return quarter_starts(quarters)


def year_on_year_block(element: DataElement, quarter: FinancialQuarter, figures: Figures, *, years: int = YEARS_DEFAULT,
                       key_prefix: str = "", keep_empty_years: bool = False) -> Block | None:
    """The quarter's months (and total) in each of `years` financial years, with the change in the
    latest year; None when no month of any of those years was reported."""
    table_data = analysis.year_on_year(element=element, quarter=quarter, years=years, figures=figures)
    month_rows = table_data.rows[:-1]
    if not month_rows:
        return None
    keep = [n for n in range(len(table_data.years))
            if keep_empty_years or any(row.values[n] is not None for row in table_data.rows)]
    if not keep:
        return None
    labels = [table_data.years[n] for n in keep]
    unit = unit_of(element)
    columns = [Column("Month")] + [Column(label, unit) for label in labels]
    if len(labels) > 1:
        columns.append(Column(f"Change {labels[-2]} to {labels[-1]}", "change"))
    rows = []
    for row in table_data.rows:
        values = [row.values[n] for n in keep]
        cells = [row.label, *values]
        if len(labels) > 1:
            cells.append(Change(values[-2], values[-1], unit, element.polarity))
        rows.append(cells)
    months = [row.label for row in month_rows]
    key = f"{key_prefix}{element.slug}-year-on-year"
    table = Table(key, f"{element.name} by month, {months[0]} to {months[-1]}, {labels[0]} to {labels[-1]}"
                  if len(labels) > 1 else f"{element.name} by month, {quarter.label}", columns, rows)
    chart = year_on_year_chart(key=key, subject=element.name, months=months, years=labels,
                               values=[[row.values[n] for row in month_rows] for n in keep], unit=unit)
    return Block(table, chart)


def rolling_sentence(element: DataElement, quarter: FinancialQuarter, figures: Figures) -> str | None:
    end = quarter.months[-1]
    current = analysis.rolling_twelve_months(element=element, end_month=end, figures=figures)
    if current is None:
        return None
    previous = analysis.rolling_twelve_months(element=element, end_month=add_months(end, -12), figures=figures)
    sentence = f"Rolling 12 months to {month_label(end)}: {_text(current, element)}"
    change = Change(previous, current, unit_of(element), element.polarity)
    if change.text:
        sentence += f", {change.text_with_assessment} on the 12 months to {month_label(add_months(end, -12))} ({_text(previous, element)})"
    return sentence + "."


def _text(value, element) -> str:
    return figure_text(value, unit_of(element))


def breakdown_block(element: DataElement, quarter: FinancialQuarter, figures: Figures, *, key_prefix: str = "") -> Block | None:
    """The element by its breakdown's options: this quarter, the same quarter a year before and the
    change, with the total when one was reported."""
    if element.breakdown_id is None:
        return None
    year_ago = quarter.same_quarter_years_ago(1)
    current, previous = figures.options(element.slug, quarter), figures.options(element.slug, year_ago)
    if not current and not previous:
        return None
    unit = unit_of(element)
    options = list(element.breakdown.options.all())
    columns = [Column(element.breakdown.name), Column(quarter.label, unit)]
    with_previous = bool(previous)
    if with_previous:
        columns += [Column(year_ago.label, unit), Column("Change", "change")]
    rows = []
    for option in options:
        row = [option.label, current.get(option.code)]
        if with_previous:
            row += [previous.get(option.code), Change(previous.get(option.code), current.get(option.code), unit, element.polarity)]
        rows.append(row)
    total, total_before = figures.quarter_value(element.slug, quarter), figures.quarter_value(element.slug, year_ago)
    if unit != Unit.PERCENT and (total is not None or total_before is not None):
        row = ["Total", total]
        if with_previous:
            row += [total_before, Change(total_before, total, unit, element.polarity)]
        rows.append(row)
    key = f"{key_prefix}{element.slug}-by-{element.breakdown.slug}"
    table = Table(key, f"{element.name} by {element.breakdown.name.lower()}, {quarter.label}", columns, rows)
    series = [(quarter.label, [current.get(o.code) for o in options])]
    if with_previous:
        series.append((year_ago.label, [previous.get(o.code) for o in options]))
    chart = breakdown_chart(key=key, subject=f"{element.name} by {element.breakdown.name.lower()}",
                            categories=[o.label for o in options], series=series, unit=unit)
    return Block(table, chart)


def trend_block(element: DataElement, quarter: FinancialQuarter, figures: Figures, *, key_prefix: str = "") -> Block | None:
    series = analysis.quarterly_series(element=element, last=quarter, count=TREND_QUARTERS, figures=figures)
    if sum(value is not None for _, value in series) < 2:
        return None
    unit = unit_of(element)
    key = f"{key_prefix}{element.slug}-trend"
    table = Table(key, f"{element.name}, the {TREND_QUARTERS} quarters to {quarter.label}",
                  [Column("Quarter"), Column(element.name, unit)], [[q.label, v] for q, v in series])
    chart = trend_chart(key=key, subject=element.name, labels=[q.label for q, _ in series],
                        values=[v for _, v in series], unit=unit)
    return Block(table, chart)


def element_panel(element: DataElement, quarter: FinancialQuarter, figures: Figures, *, key_prefix: str = "") -> ElementPanel:
    unit = unit_of(element)
    current = figures.quarter_value(element.slug, quarter)
    last_year = figures.quarter_value(element.slug, quarter.same_quarter_years_ago(1))
    panel = ElementPanel(element, quarter, current, last_year, Change(last_year, current, unit, element.polarity))
    series = analysis.quarterly_series(element=element, last=quarter, count=TREND_QUARTERS, figures=figures)
    reported = [(q, v) for q, v in series if v is not None]
    panel.latest = reported[-1] if reported else None
    if element.frequency == Frequency.MONTHLY or figures.has_months(element.slug):
        block = year_on_year_block(element, quarter, figures, key_prefix=key_prefix)
        if block:
            panel.blocks.append(block)
        sentence = rolling_sentence(element, quarter, figures)
        if sentence:
            panel.sentences.append(sentence)
    for block in (breakdown_block(element, quarter, figures, key_prefix=key_prefix),
                  trend_block(element, quarter, figures, key_prefix=key_prefix)):
        if block:
            panel.blocks.append(block)
    return panel


def _indicator_text(value: float | None, unit: str) -> str | None:
    """A ratio to two decimal places (1.53 enquiries per individual), a percentage to one."""
    if value is None:
        return None
    if unit == Unit.PERCENT:
        return f"{value:,.1f}".removesuffix(".0") + "%"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _indicator_table(key: str, indicators, quarter: FinancialQuarter, figures: Figures) -> Table | None:
    if not indicators:
        return None
    year_ago = quarter.same_quarter_years_ago(1)
    rows = []
    for indicator in indicators:
        now = analysis.computed_value(indicator, quarter=quarter, figures=figures)
        before = analysis.computed_value(indicator, quarter=year_ago, figures=figures)
        unit = unit_of(indicator)
        rows.append([indicator.name, _indicator_text(now, unit), _indicator_text(before, unit),
                     Change(before, now, unit, indicator.polarity)])
    return Table(key, f"Computed indicators, {quarter.label}",
                 [Column("Indicator"), Column(quarter.label, "number"), Column(year_ago.label, "number"), Column("Change", "change")], rows)


def _targets_block(key: str, statuses: list[TargetStatus]) -> Block | None:
    if not statuses:
        return None
    rows = []
    for s in statuses:
        t = s.target
        rows.append([
            t.data_element.name + (f" ({t.service.name})" if t.service_id else ""),
            t.value, f"{t.due.day} {t.due:%B %Y}", s.actual, s.as_of.label if s.as_of else None,
            RAG_LABELS[s.rag], s.explanation,
        ])
    table = Table(key, "Targets against the latest figures",
                  [Column("Target"), Column("Target figure", "number"), Column("Due"), Column("Latest figure", "number"),
                   Column("As of"), Column("Rating"), Column("Explanation")], rows)
    names = [s.target.data_element.name for s in statuses]
    # Two targets for one figure (one per service) need telling apart on the chart's axis.
    labels = [f"{name} ({s.target.service.name})" if names.count(name) > 1 and s.target.service_id else name
              for name, s in zip(names, statuses)]
    labels = [label if labels.count(label) == 1 else f"{label} by {s.target.due:%B %Y}" for label, s in zip(labels, statuses)]
    chart = targets_chart(key=key, rows=[{"label": label, "actual": s.actual, "target": s.target.value}
                                         for label, s in zip(labels, statuses)])
    return Block(table, chart)


def _targets(query) -> list[TargetStatus]:
    targets = query.select_related("data_element", "service").order_by("due", "pk")
    return analysis.target_statuses(targets, today=dt.date.today())


def service_targets(service: Service, element_ids) -> list[TargetStatus]:
    """The service's own targets, and the partnership's on its elements (`element_ids`). The
    partnership's targets are few, so they are picked here rather than by naming the service's
    hundreds of elements in the query; and through the services relation an OR would repeat each of
    the service's own targets once for every service reporting its element."""
    element_ids = set(element_ids)
    targets = [t for t in Target.objects.filter(Q(service=service) | Q(service__isnull=True))
               .select_related("data_element", "service").order_by("due", "pk")
               if t.service_id or t.data_element_id in element_ids]
    return analysis.target_statuses(targets, today=dt.date.today())


# --- The overview --------------------------------------------------------------------------------

@dataclass
class ServiceRow:
    service: Service
    latest_quarter: FinancialQuarter | None
    latest_status: str
    latest_approved: FinancialQuarter | None
    headline: str  # "Enquiries received by the Hub: 2,491"

    @property
    def status_label(self) -> str:
        return ReturnStatus(self.latest_status).label if self.latest_status else "No return yet"


@dataclass
class Overview(Page):
    services: list[ServiceRow]
    targets: list[TargetStatus]
    targets_block: Block | None
    strategies: list[Strategy]
    report_quarters: list[FinancialQuarter]

    def all_blocks(self) -> list[Block]:
        return [self.targets_block] if self.targets_block else []


def overview() -> Overview:
    """Every service with its latest return and headline figure, the targets with their RAG, and
    the strategies whose items have figures linked to them."""
    rows = sorted(_service_rows(Service.objects.all()).values(), key=lambda r: (r.service.name.lower(), r.service.pk))
    statuses = _targets(Target.objects.all())
    linked = (Q(items__data_elements__isnull=False) | Q(items__services__isnull=False)
              | Q(items__computed_indicators__isnull=False))
    strategies = list(Strategy.objects.filter(linked).distinct().order_by("order", "title"))
    return Overview(rows, statuses, _targets_block("targets", statuses), strategies, approved_quarters())


# --- One service ---------------------------------------------------------------------------------

class SummaryElement(NamedTuple):
    """A data element as a service's summary shows it. Read as tuples with one query of the
    cursor: 200 model instances cost the summary more than its query of figures."""

    pk: int
    slug: str
    name: str
    unit: str
    polarity: str
    breakdown_id: int | None
    serving: bool  # linked to a strategy item


# The service's elements in the order of its pages (as DataElement.Meta.ordering, then by id).
_SUMMARY_ELEMENTS_SQL = (
    'SELECT e.id, e.slug, e.name, e.unit, e.polarity, e.breakdown_id, '
    'EXISTS (SELECT 1 FROM performance_dataelement_strategy_items s WHERE s.dataelement_id = e.id) '
    'FROM performance_dataelement e INNER JOIN performance_dataelement_services l ON l.dataelement_id = e.id '
    'WHERE l.service_id = %s ORDER BY e."order", e.name, e.id'
)


def _summary_elements(service: Service) -> list[SummaryElement]:
    with connection.cursor() as cursor:
        cursor.execute(_SUMMARY_ELEMENTS_SQL, [service.pk])
        return [SummaryElement(pk, slug, name, unit, polarity, breakdown_id, bool(serving))
                for pk, slug, name, unit, polarity, breakdown_id, serving in cursor.fetchall()]


@dataclass
class ElementRow:
    """One data element on a service's summary: the quarter's total, a year before, the change."""

    element: SummaryElement
    current: float | None
    last_year: float | None
    change: Change
    key: bool = False  # a headline figure: it has a target or serves a strategy item
    targets: list[TargetStatus] = field(default_factory=list)

    def _figure(self, value) -> str:
        if value is None and self.element.breakdown_id:
            return "No total reported"
        return _text(value, self.element)

    # Written out once: the page and its table of every figure both show them.
    @cached_property
    def current_text(self) -> str:
        return self._figure(self.current)

    @cached_property
    def last_year_text(self) -> str:
        return self._figure(self.last_year)


@dataclass
class ServiceDashboard(Page):
    """A service's summary for a quarter: headline figures with their targets, then every data
    element in one table linking to its own page (ServiceElementPage) with its charts and tables.
    The summary reads the totals of two quarters only, so it stays quick with hundreds of elements
    and however many years are held."""

    service: Service
    quarter: FinancialQuarter
    quarters: list[tuple[FinancialQuarter, str]]  # every quarter with a return, and its status
    data_return: DataReturn | None
    rows: list[ElementRow]
    indicators: Table | None
    targets: Block | None
    target_statuses: list[TargetStatus]
    funding: Table | None
    strategy_items: list[StrategyItem]

    @property
    def headline(self) -> list[ElementRow]:
        return [row for row in self.rows if row.key]

    @property
    def reported(self) -> int:
        return sum(1 for row in self.rows if row.current is not None)

    @cached_property
    def summary(self) -> Table:
        year_ago = self.quarter.same_quarter_years_ago(1)
        return _summary_table("summary", f"{self.service.name}: every figure, {self.quarter.label} and {year_ago.label}",
                              self.rows, self.quarter)

    def all_blocks(self) -> list[Block]:
        blocks = [Block(self.summary)] + [Block(t) for t in (self.indicators, self.funding) if t is not None]
        return blocks + ([self.targets] if self.targets else [])


def _default_quarter(returns: list[DataReturn]) -> FinancialQuarter:
    approved = [r for r in returns if r.status == ReturnStatus.APPROVED]
    chosen = approved or returns
    if chosen:
        return FinancialQuarter.from_date(max(r.quarter_start for r in chosen))
    return FinancialQuarter.from_date(dt.date.today()).previous()


def _service(slug: str) -> Service:
    service = Service.objects.select_related("provider").filter(slug=slug).first()
    if service is None:
        raise Http404("No such service")
    return service


def _returns(service: Service) -> list[DataReturn]:
    """The service's returns, newest first, with only what the pages show of them (the quarter and
    its status): the rest, the warnings' JSON above all, cost more to read than the query."""
    return list(DataReturn.objects.filter(service=service).only("service_id", "quarter_start", "status")
                .order_by("-quarter_start"))


def _return_choices(returns: list[DataReturn]) -> list[tuple[FinancialQuarter, str]]:
    # The status's label from its enumeration: get_status_display() flattens the field's choices
    # on every call, about 1 ms for a service's 40 returns.
    labels = dict(ReturnStatus.choices)
    return [(FinancialQuarter.from_date(r.quarter_start), labels.get(r.status, r.status)) for r in returns]


def _summary_table(key: str, caption: str, rows: list[ElementRow], quarter: FinancialQuarter) -> Table:
    year_ago = quarter.same_quarter_years_ago(1)
    # Figures of different units share a column, so each is written out with its own unit.
    return Table(key, caption, [Column("Figure"), Column(quarter.label, "number"), Column(year_ago.label, "number"),
                                Column("Change", "change")],
                 [[r.element.name, r.current_text, r.last_year_text, r.change] for r in rows])


def service_dashboard(*, slug: str, quarter: FinancialQuarter | None = None) -> ServiceDashboard:
    """The service's summary for `quarter` (default: its latest approved return)."""
    service = _service(slug)
    returns = _returns(service)
    quarter = quarter or _default_quarter(returns)
    year_ago = quarter.same_quarter_years_ago(1)
    # The summary names no breakdown, only whether there is one; whether an element serves a
    # strategy item comes with it rather than in a query of its own.
    elements = _summary_elements(service)
    indicators = list(service.computed_indicators.order_by("name"))
    # Totals only, for the two quarters compared, plus the options an indicator refers to.
    references = [ref for i in indicators for expression in (i.numerator, i.denominator)
                  for ref in analysis.parsed_expression(expression).references]
    starts = quarter_starts([quarter, year_ago])
    optioned = {ref.element for ref in references if ref.option is not None}
    own_slugs = {e.pk: e.slug for e in elements}
    if {ref.element for ref in references} <= set(own_slugs.values()):
        # The usual case: every figure the page reads is the service's own, so the query reads
        # the service's periods and keeps its elements (Figures.load, element_slugs).
        figures = Figures.load(element_slugs=own_slugs, services=[service], starts=starts, totals_only=True,
                               period_types=PeriodType.values, options_of=optioned)
    else:
        figures = Figures.load(elements=set(own_slugs.values()) | {ref.element for ref in references}, services=[service],
                               starts=starts, totals_only=True, period_types=PeriodType.values, options_of=optioned)
    statuses = service_targets(service, own_slugs)
    by_element: dict[int, list[TargetStatus]] = {}
    for status in statuses:
        by_element.setdefault(status.target.data_element_id, []).append(status)
    rows = []
    for element in elements:
        current = figures.quarter_value(element.slug, quarter)
        last_year = figures.quarter_value(element.slug, year_ago)
        own = by_element.get(element.pk, [])
        rows.append(ElementRow(element, current, last_year, Change(last_year, current, unit_of(element), element.polarity),
                               key=bool(own) or element.serving, targets=own))
    allocations = list(service.allocations.order_by("-financial_year", "stream__name")
                       .values_list("stream__name", "financial_year", "amount", "period_note"))
    funding = Table("funding", f"Funding for {service.name}",
                    [Column("Funding stream"), Column("Financial year"), Column("Amount", Unit.POUNDS), Column("Note")],
                    [[stream, year, float(amount) if amount else None, note] for stream, year, amount, note in allocations]
                    ) if allocations else None
    return ServiceDashboard(
        service=service, quarter=quarter, quarters=_return_choices(returns),
        data_return=next((r for r in returns if r.quarter_start == quarter.start), None),
        rows=rows, indicators=_indicator_table("indicators", indicators, quarter, figures),
        targets=_targets_block("targets", statuses), target_statuses=statuses, funding=funding,
        strategy_items=list(service.strategy_items.select_related("strategy").order_by("strategy__order", "path")),
    )


@dataclass
class ServiceElementPage(Page):
    """One data element of a service: its figures with their charts and tables, its targets, and
    links to the service's elements before and after it."""

    service: Service
    element: DataElement
    quarter: FinancialQuarter
    quarters: list[tuple[FinancialQuarter, str]]
    data_return: DataReturn | None
    panel: ElementPanel
    targets: Block | None
    target_statuses: list[TargetStatus]
    previous: tuple[str, str] | None  # (slug, name) of the element before it on the service
    next: tuple[str, str] | None
    position: int  # 1-based, among `count` elements the service reports
    count: int

    def all_blocks(self) -> list[Block]:
        return self.panel.blocks + ([self.targets] if self.targets else [])


def _service_element(service: Service, element_slug: str) -> DataElement:
    element = (service.data_elements.select_related("breakdown").prefetch_related("breakdown__options")
               .filter(slug=element_slug).first())
    if element is None:
        raise Http404("No such figure for this service")
    return element


@dataclass
class _Blocks(Page):
    blocks: list[Block]

    def all_blocks(self) -> list[Block]:
        return self.blocks


def service_element_blocks(*, slug: str, element_slug: str, quarter: FinancialQuarter | None = None) -> Page:
    """Only the element's charts and tables for `quarter`, for its chart images: one element's
    figures are read, not the whole service's."""
    service = _service(slug)
    element = _service_element(service, element_slug)
    if quarter is None:
        quarter = _default_quarter(list(DataReturn.objects.filter(service=service)))
    figures = Figures.load(elements=[element.slug], services=[service], starts=_load_starts(quarter),
                           period_types=PeriodType.values)
    return _Blocks(element_panel(element, quarter, figures).blocks)


def service_element_page(*, slug: str, element_slug: str, quarter: FinancialQuarter | None = None) -> ServiceElementPage:
    """One data element of a service for `quarter` (default: the service's latest approved
    return): the quarter against a year before, year on year by month, by breakdown, the trend
    over eight quarters and rolling twelve months, each chart with its table."""
    service = _service(slug)
    element = _service_element(service, element_slug)
    returns = _returns(service)
    quarter = quarter or _default_quarter(returns)
    figures = Figures.load(elements=[element], services=[service], starts=_load_starts(quarter),
                           period_types=PeriodType.values)
    panel = element_panel(element, quarter, figures)
    statuses = _targets(Target.objects.filter(Q(service=service) | Q(service__isnull=True), data_element=element))
    order = list(service.data_elements.order_by("order", "name").values_list("slug", "name"))
    at = next(n for n, (s, _) in enumerate(order) if s == element.slug)
    return ServiceElementPage(
        service=service, element=element, quarter=quarter, quarters=_return_choices(returns),
        data_return=next((r for r in returns if r.quarter_start == quarter.start), None),
        # No chart: one or two bars add nothing to the table; the service's page charts every target.
        panel=panel, targets=Block(_targets_block(f"{element.slug}-targets", statuses).table) if statuses else None,
        target_statuses=statuses,
        previous=order[at - 1] if at > 0 else None, next=order[at + 1] if at + 1 < len(order) else None,
        position=at + 1, count=len(order),
    )


# --- One strategy's figures ----------------------------------------------------------------------

@dataclass
class ItemFigures:
    item: StrategyItem
    panels: list[ElementPanel]
    services: list[ServiceRow]
    indicators: Table | None


@dataclass
class StrategyDashboard(Page):
    strategy: Strategy
    item: StrategyItem | None  # when the page is narrowed to one item and the items below it
    quarter: FinancialQuarter
    groups: list[ItemFigures]
    targets: Block | None
    target_statuses: list[TargetStatus]

    def all_blocks(self) -> list[Block]:
        blocks = [b for g in self.groups for p in g.panels for b in p.blocks]
        blocks += [Block(g.indicators) for g in self.groups if g.indicators]
        return blocks + ([self.targets] if self.targets else [])


def strategy_dashboard(*, slug: str, item_pk: int | None = None, quarter: FinancialQuarter | None = None) -> StrategyDashboard:
    """The figures linked to a strategy's items, item by item: data elements (summed over every
    service reporting them), services with their headline figure, computed indicators, targets."""
    strategy = Strategy.objects.filter(slug=slug).first()
    if strategy is None:
        raise Http404("No such strategy")
    items = StrategyItem.objects.filter(strategy=strategy)
    chosen = None
    if item_pk is not None:
        chosen = items.filter(pk=item_pk).first()
        if chosen is None:
            raise Http404("No such item")
        items = items.filter(path__startswith=chosen.path)
    items = {i.pk: i for i in items.order_by("path")}
    element_links = list(DataElement.strategy_items.through.objects.filter(strategyitem_id__in=items)
                         .values_list("strategyitem_id", "dataelement_id"))
    service_links = list(Service.strategy_items.through.objects.filter(strategyitem_id__in=items)
                         .values_list("strategyitem_id", "service_id"))
    indicator_links = list(ComputedIndicator.strategy_items.through.objects.filter(strategyitem_id__in=items)
                           .values_list("strategyitem_id", "computedindicator_id"))
    elements = {e.pk: e for e in DataElement.objects.filter(pk__in={e for _, e in element_links})
                .select_related("breakdown").prefetch_related("breakdown__options")}
    services = {s.pk: s for s in Service.objects.filter(pk__in={s for _, s in service_links}).select_related("provider")}
    indicators = {i.pk: i for i in ComputedIndicator.objects.filter(pk__in={i for _, i in indicator_links})}
    reporting = set(DataElement.services.through.objects.filter(dataelement_id__in=elements).values_list("service_id", flat=True))
    if quarter is None:
        latest = DataReturn.objects.filter(status=ReturnStatus.APPROVED, service__in=reporting | set(services)).aggregate(
            latest=Max("quarter_start"))["latest"]
        quarter = FinancialQuarter.from_date(latest) if latest else FinancialQuarter.from_date(dt.date.today()).previous()
    slugs = {e.slug for e in elements.values()} | {s for i in indicators.values() for s in analysis.indicator_elements(i)}
    figures = Figures.load(elements=slugs, starts=_load_starts(quarter), period_types=PeriodType.values) if slugs else Figures()
    service_rows = _service_rows(Service.objects.filter(pk__in=list(services)))
    groups = []
    for item_id, item in items.items():
        panels = [element_panel(elements[e], quarter, figures, key_prefix=f"item-{item_id}-")
                  for i, e in element_links if i == item_id]
        rows = [service_rows[s] for i, s in service_links if i == item_id]
        linked = [indicators[c] for i, c in indicator_links if i == item_id]
        if panels or rows or linked:
            groups.append(ItemFigures(item, sorted(panels, key=lambda p: (p.element.order, p.element.name)),
                                      sorted(rows, key=lambda r: r.service.name),
                                      _indicator_table(f"item-{item_id}-indicators", linked, quarter, figures)))
    statuses = _targets(Target.objects.filter(data_element__in=elements)) if elements else []
    return StrategyDashboard(strategy, chosen, quarter, groups, _targets_block("targets", statuses), statuses)


def strategy_chart_blocks(*, slug: str, item_pk: int | None, quarter: FinancialQuarter | None, key: str) -> Page:
    """What a chart image of a strategy's figures needs: for an element's chart (key
    item-<item id>-<element slug>-…) with the page's quarter, only that element's figures are read;
    any other chart is found on the whole page."""
    match = re.fullmatch(r"item-(\d+)-(.+)", key)
    if quarter is None or match is None:
        return strategy_dashboard(slug=slug, item_pk=item_pk, quarter=quarter)
    item = StrategyItem.objects.filter(strategy__slug=slug, pk=int(match[1])).first()
    if item is None:
        raise Http404("No such item")
    if item_pk is not None:
        chosen = StrategyItem.objects.filter(strategy__slug=slug, pk=item_pk).first()
        if chosen is None or not item.path.startswith(chosen.path):
            raise Http404("No such chart")
    # One element's slug may begin another's (hub, hub-enquiries): every candidate is drawn.
    candidates = [e for e in DataElement.objects.filter(strategy_items=item).select_related("breakdown")
                  .prefetch_related("breakdown__options") if match[2].startswith(f"{e.slug}-")]
    if not candidates:
        raise Http404("No such chart")
    figures = Figures.load(elements=[e.slug for e in candidates], starts=_load_starts(quarter), period_types=PeriodType.values)
    return _Blocks([block for e in candidates
                    for block in element_panel(e, quarter, figures, key_prefix=f"item-{item.pk}-").blocks])


def _service_rows(services) -> dict[int, ServiceRow]:
    """Each service (of a queryset) with its latest return and headline figure (its first element
    reported in its latest approved quarter), in three queries however many services."""
    latest = DataReturn.objects.filter(service=OuterRef("pk")).order_by("-quarter_start")
    annotated = services.select_related("provider").annotate(
        latest_start=Subquery(latest.values("quarter_start")[:1]),
        latest_status=Subquery(latest.values("status")[:1]),
        approved_start=Subquery(latest.filter(status=ReturnStatus.APPROVED).values("quarter_start")[:1]),
    )
    annotated = list(annotated)
    links = list(DataElement.services.through.objects.filter(service__in=annotated).select_related("dataelement")
                 .order_by("dataelement__order", "dataelement__name"))
    quarters = {FinancialQuarter.from_date(s.approved_start) for s in annotated if s.approved_start}
    figures = Figures.load(elements={link.dataelement.slug for link in links}, services=annotated,
                           starts=quarter_starts(quarters), by_service=True) if quarters else Figures()
    rows = {}
    for service in annotated:
        quarter = FinancialQuarter.from_date(service.approved_start) if service.approved_start else None
        headline = ""
        if quarter:
            own = figures.service(service.pk)
            for link in links:
                if link.service_id != service.pk:
                    continue
                value = own.quarter_value(link.dataelement.slug, quarter)
                if value is not None:
                    headline = f"{link.dataelement.name}: {_text(value, link.dataelement)}"
                    break
        rows[service.pk] = ServiceRow(service, FinancialQuarter.from_date(service.latest_start) if service.latest_start else None,
                                      service.latest_status or "", quarter, headline)
    return rows


# --- Year on year --------------------------------------------------------------------------------

class Choice(NamedTuple):
    """An element or service offered in a page's form: no more than the form shows."""

    pk: int
    slug: str
    name: str


@dataclass
class YearOnYearPage(Page):
    elements: list[Choice]
    services: list[Choice]
    quarters: list[FinancialQuarter]
    element: DataElement | None
    service: Service | None
    quarter: FinancialQuarter
    years: int
    comparison: Block | None
    rolling: Table | None

    def all_blocks(self) -> list[Block]:
        return [b for b in (self.comparison, Block(self.rolling) if self.rolling else None) if b]


def year_on_year_page(*, element_slug: str | None, quarter: FinancialQuarter | None, years: int,
                      service_slug: str | None) -> YearOnYearPage:
    """One element's figures for a quarter across `years` financial years, by month where reported
    monthly, with rolling twelve-month totals; over one service or every service reporting it."""
    years = max(2, min(YEARS_MAX, years))
    # The forms' choices as tuples: hundreds of elements made into model instances cost more than
    # the page's query of figures.
    rows = list(DataElement.objects.order_by("order", "name").values_list("pk", "slug", "name", "frequency"))
    elements = [Choice(pk, slug, name) for pk, slug, name, _ in rows]
    reporting = DataElement.services.through.objects.filter(service_id=OuterRef("pk"))
    services = [Choice(*row) for row in Service.objects.filter(Exists(reporting)).order_by("name").values_list("pk", "slug", "name")]
    quarters = approved_quarters()
    chosen = next((row[0] for row in rows if row[1] == element_slug), None)
    if chosen is None:
        chosen = next((row[0] for row in rows if row[3] == Frequency.MONTHLY), rows[0][0] if rows else None)
    element = DataElement.objects.get(pk=chosen) if chosen is not None else None
    service = next((s for s in services if s.slug == service_slug), None)
    quarter = quarter or (quarters[0] if quarters else FinancialQuarter.from_date(dt.date.today()).previous())
    comparison = rolling = None
    if element is not None:
        wanted = [quarter.same_quarter_years_ago(n) for n in range(years)]
        months = [add_months(quarter.months[-1], -n) for n in range(12 * years + 12)]
        # The page shows totals only; naming the period types lets the database read through the
        # (element, period type, period start) index rather than every year of the element.
        figures = Figures.load(elements=[element], services=[service] if service else None,
                               starts=quarter_starts(wanted) | set(months), totals_only=True,
                               period_types=PeriodType.values)
        comparison = year_on_year_block(element, quarter, figures, years=years, keep_empty_years=True)
        if comparison is None:
            comparison = _quarters_block(element, wanted, figures)
        rolling = _rolling_table(element, quarter, years, figures)
    return YearOnYearPage(elements, services, quarters, element, service, quarter, years, comparison, rolling)


def _quarters_block(element, quarters: list[FinancialQuarter], figures: Figures) -> Block:
    """Year on year for a quarterly element: the quarter's figure in each year and its change."""
    quarters = list(reversed(quarters))
    unit = unit_of(element)
    values = [figures.quarter_value(element.slug, q) for q in quarters]
    rows = [[q.label, v, Change(values[n - 1], v, unit, element.polarity) if n else None]
            for n, (q, v) in enumerate(zip(quarters, values))]
    key = f"{element.slug}-year-on-year"
    table = Table(key, f"{element.name}, Q{quarters[-1].quarter} of each year, {quarters[0].label} to {quarters[-1].label}",
                  [Column("Quarter"), Column(element.name, unit), Column("Change on the year before", "change")], rows)
    chart = trend_chart(key=key, subject=element.name, labels=[q.label for q in quarters], values=values, unit=unit)
    return Block(table, chart)


def _rolling_table(element, quarter: FinancialQuarter, years: int, figures: Figures) -> Table | None:
    """Rolling twelve-month totals ending with each month of the quarter, in each year."""
    if not figures.has_months(element.slug):
        return None
    year_quarters = [quarter.same_quarter_years_ago(n) for n in reversed(range(years))]
    labels = [q.label.split(" ", 1)[1] for q in year_quarters]
    rows = []
    for i, month in enumerate(quarter.months):
        values = [analysis.rolling_twelve_months(element=element, end_month=q.months[i], figures=figures) for q in year_quarters]
        rows.append([f"12 months to {month:%B}", *values, Change(values[-2], values[-1], unit_of(element), element.polarity)])
    if all(v is None for row in rows for v in row[1:-1]):
        return None
    return Table(f"{element.slug}-rolling-12-months", f"{element.name}: rolling 12-month totals",
                 [Column("Period")] + [Column(label, unit_of(element)) for label in labels]
                 + [Column(f"Change {labels[-2]} to {labels[-1]}", "change")], rows,
                 note="A rolling total is shown only when all twelve months were reported.")

