"""The quarterly performance report, in the manner of the partnership's own (seed 002, section 2):
a section per service with an approved return, opening with what the figures say, then the
year-on-year month tables and the breakdowns, with charts. The published version passes every
count through statistical disclosure control; the internal version shows exact figures and lists
the quarter's validation findings in an appendix. Rendered as HTML, tagged PDF and DOCX."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.template.loader import render_to_string
from markupsafe import Markup
from weasyprint import HTML, URLFetcher

from saferhub.commissioning.models import Service, ServiceKind
from saferhub.performance import analysis
from saferhub.performance.analysis import Figures, quarter_starts
from saferhub.performance.charts import Chart, breakdown_chart, in_sentence, year_on_year_chart
from saferhub.performance.models import DataElement, DataReturn, Frequency, PeriodType, ReturnStatus, Target, Unit
from saferhub.performance.periods import FinancialQuarter, financial_year_label
from saferhub.performance.report_docx import document_docx
from saferhub.performance.selectors import period_violations
from saferhub.performance.tables import Change, Column, Table, figure_text
from saferhub.publishing.disclosure import DisclosurePolicy, Suppressed, protect_breakdowns, protect_series

REPORT_FORMATS = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
STYLESHEET = Path(__file__).resolve().parent / "static" / "performance" / "report.css"
KIND_HEADINGS = [
    (ServiceKind.COMMISSIONED, "Commissioned services"),
    (ServiceKind.GRANT_FUNDED, "Grant-funded interventions"),
    (ServiceKind.PARTNER_PROGRAMME, "Partners’ own programmes"),
]
UNBROKEN = "Not recorded in the breakdown"
UNBROKEN_CODE = "-unbroken"  # cannot clash with an option code, which is a slug
YEARS = 3


class ReportError(ValueError):
    """The report cannot be written as asked (an unknown quarter, no approved returns, …)."""


@dataclass
class ReportBlock:
    kind: str  # paragraph, list, table
    text: str = ""
    items: list[str] = field(default_factory=list)
    table: Table | None = None
    chart: Chart | None = None


@dataclass
class ReportSection:
    heading: str
    anchor: str
    service: Service
    blocks: list[ReportBlock] = field(default_factory=list)


@dataclass
class ReportGroup:
    heading: str
    sections: list[ReportSection]


@dataclass
class AppendixRow:
    service: str
    rule: str
    importance: str
    detail: str
    comment: str


@dataclass
class PerformanceReport:
    quarter: FinancialQuarter
    published: bool
    groups: list[ReportGroup]
    notes: list[str]
    appendix: list[AppendixRow]
    generated_on: dt.date
    lang: str = "en-GB"

    @property
    def title(self) -> str:
        return f"Quarterly performance report, {self.quarter.label}"

    @property
    def sections(self) -> list[ReportSection]:
        return [s for g in self.groups for s in g.sections]

    @property
    def appendix_table(self) -> Table:
        return Table("appendix", f"Validation findings in the approved returns for {self.quarter.label}",
                     [Column("Service"), Column("Rule"), Column("Importance"), Column("Detail"), Column("Comment")],
                     [[r.service, r.rule, r.importance, r.detail, r.comment] for r in self.appendix])

    @property
    def period_text(self) -> str:
        first, last = self.quarter.months[0], self.quarter.months[-1]
        return f"{first:%B} to {last:%B %Y}" if first.year == last.year else f"{first:%B %Y} to {last:%B %Y}"


# --- Published figures ---------------------------------------------------------------------------

@dataclass
class ElementFigures:
    """An element's figures for one quarter as the report shows them: numbers, or Suppressed."""

    total: object = None
    months: dict = field(default_factory=dict)  # month start -> figure
    options: dict = field(default_factory=dict)  # option code (or UNBROKEN_CODE) -> figure


def _count(value: float) -> int:
    return int(round(value))


class ReportFigures:
    """One service's figures, protected for publication when a policy is given (counts only:
    percentages, hours and money are not counts of people and are shown as reported)."""

    def __init__(self, figures: Figures, policy: DisclosurePolicy | None):
        self.figures, self.policy = figures, policy
        self._cache: dict[tuple, ElementFigures] = {}

    def element(self, element: DataElement, quarter: FinancialQuarter) -> ElementFigures:
        key = (element.slug, quarter)
        if key not in self._cache:
            self._cache[key] = self._build(element, quarter)
        return self._cache[key]

    def _build(self, element: DataElement, quarter: FinancialQuarter) -> ElementFigures:
        f, slug = self.figures, element.slug
        total = f.quarter_value(slug, quarter)
        months = f.values(slug, PeriodType.MONTH, quarter.months)
        options = f.options(slug, quarter)
        if options and total is not None and total - sum(options.values()) > 0:
            # The breakdown does not account for everyone in the total (the returns say so, and
            # validation flags it): show the remainder rather than let the table fail to add up.
            options[UNBROKEN_CODE] = total - sum(options.values())
        if self.policy is None or element.unit != Unit.COUNT:
            return ElementFigures(total, months, options)
        return self._protect(total, months, options)

    def _protect(self, total, months: dict, options: dict) -> ElementFigures:
        """The months and the options are two breakdowns of the same total: those adding up to it
        are protected together with it, so a figure withheld in one cannot be worked out from the
        other. A breakdown that does not add up to the total (months missing, or more counted in the
        options than in the total) is protected on its own."""
        result = ElementFigures()
        count_total = None if total is None else _count(total)
        together, apart = [], []
        for parts, target in ((months, result.months), (options, result.options)):
            if not parts:
                continue
            counts = [_count(v) for v in parts.values()]
            complete = parts is options or len(parts) == 3  # all three months of the quarter
            (together if count_total is not None and complete and sum(counts) == count_total else apart).append(
                (parts, target, counts))
        if together:
            protected = protect_breakdowns([counts for _, _, counts in together], total=count_total, policy=self.policy)
            for (parts, target, _), values in zip(together, protected.breakdowns):
                target.update(zip(parts.keys(), values))
            result.total = protected.total
        elif count_total is not None:
            result.total = protect_series([count_total], policy=self.policy).values[0]
        for parts, target, counts in apart:
            target.update(zip(parts.keys(), protect_series(counts, policy=self.policy).values))
        return result


def _plain(value):
    """A figure for a chart: a number, or None when withheld or missing."""
    return None if value is None or isinstance(value, Suppressed) else value


def _cell(value):
    """A figure for a table: the marker when withheld."""
    return str(value) if isinstance(value, Suppressed) else value


def _change(previous, current, element) -> Change | str:
    for value in (previous, current):
        if isinstance(value, Suppressed):
            return str(value)
    return Change(previous, current, element.unit, element.polarity)


def _name(element: DataElement) -> str:
    return element.name.removesuffix(" (per cent)")


def _figure(value, element) -> str:
    return figure_text(_cell(value), element.unit)


# --- Building ------------------------------------------------------------------------------------

def _headline(service: Service, elements, quarter: FinancialQuarter, figures: ReportFigures) -> list[ReportBlock]:
    """'Throughout Q3 of 2023/24 there were 2,491 enquiries received by the Hub (up 5.7% on Q3
    2022/23) and 1,627 individuals the enquiries were for.' and a sentence per percentage."""
    year_ago = quarter.same_quarter_years_ago(1)
    parts, shares = [], []
    for element in elements:
        now = figures.element(element, quarter).total
        if now is None:
            continue
        if element.unit == Unit.PERCENT:
            shares.append(f"{_name(element)}: {_figure(now, element)}.")
            continue
        if element.unit not in (Unit.COUNT, Unit.HOURS):
            continue
        name = in_sentence(element.name)
        if element.unit == Unit.HOURS and not name.lower().startswith("hour"):
            name = f"hours of {name}"
        text = f"{_figure(now, element)} {name}"
        change = _change(figures.element(element, year_ago).total, now, element)
        if isinstance(change, Change) and change.text:
            text += f" ({change.text} on {year_ago.label})"
        parts.append(text)
    blocks = []
    if parts:
        joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        blocks.append(ReportBlock("paragraph", f"Throughout Q{quarter.quarter} of {financial_year_label(quarter.year)} "
                                               f"there were {joined}."))
    blocks += [ReportBlock("paragraph", text) for text in shares]
    return blocks


def _month_block(element: DataElement, quarter: FinancialQuarter, figures: ReportFigures, key: str) -> ReportBlock | None:
    years = [quarter.same_quarter_years_ago(n) for n in reversed(range(YEARS))]
    columns = [(q, figures.element(element, q)) for q in years]
    columns = [(q, e) for q, e in columns if e.months]
    if not columns:
        return None
    labels = [financial_year_label(q.year) for q, _ in columns]
    heads = [Column("Month")] + [Column(label, element.unit) for label in labels]
    if len(columns) > 1:
        heads.append(Column(f"Change {labels[-2]} to {labels[-1]}", "change"))
    rows = []
    for i, month in enumerate(quarter.months):
        values = [e.months.get(q.months[i]) for q, e in columns]
        row = [f"{month:%B}", *[_cell(v) for v in values]]
        if len(columns) > 1:
            row.append(_change(values[-2], values[-1], element))
        rows.append(row)
    totals = [e.total for _, e in columns]
    row = [f"Q{quarter.quarter} total", *[_cell(v) for v in totals]]
    if len(columns) > 1:
        row.append(_change(totals[-2], totals[-1], element))
    rows.append(row)
    caption = (f"{element.name} by month, {quarter.months[0]:%B} to {quarter.months[-1]:%B}, {labels[0]} to {labels[-1]}"
               if len(columns) > 1 else f"{element.name} by month, {quarter.label}")
    table = Table(key, caption, heads, rows)
    chart = None
    if len(columns) > 1:
        chart = year_on_year_chart(key=key, subject=element.name, months=[f"{m:%B}" for m in quarter.months], years=labels,
                                   values=[[_plain(e.months.get(q.months[i])) for i in range(3)] for q, e in columns],
                                   unit=element.unit)
    return ReportBlock("table", table=table, chart=chart)


def _breakdown_block(group: list[DataElement], quarter: FinancialQuarter, figures: ReportFigures, key: str) -> ReportBlock | None:
    """One table per breakdown: the options down the side; across, this quarter and the same
    quarter a year before (one element), or each element (several sharing the breakdown, like items
    provided and individuals provided to)."""
    breakdown = group[0].breakdown
    options = [(o.code, o.label) for o in breakdown.options.all()]
    year_ago = quarter.same_quarter_years_ago(1)
    if len(group) == 1:
        element = group[0]
        series = [(quarter.label, figures.element(element, quarter))]
        before = figures.element(element, year_ago)
        if before.options:
            series.append((year_ago.label, before))
    else:
        series = [(e.name, figures.element(e, quarter)) for e in group]
    if not any(s.options for _, s in series):
        return None
    if any(UNBROKEN_CODE in s.options for _, s in series):
        options.append((UNBROKEN_CODE, UNBROKEN))
    unit = group[0].unit if len({e.unit for e in group}) == 1 else "number"
    heads = [Column(breakdown.name)] + [Column(name, unit) for name, _ in series]
    compare = len(group) == 1 and len(series) == 2
    if compare:
        heads.append(Column("Change", "change"))
    rows = []
    for code, label in options:
        values = [s.options.get(code) for _, s in series]
        row = [label, *[_cell(v) for v in values]]
        if compare:
            row.append(_change(values[1], values[0], group[0]))
        rows.append(row)
    totals = [s.total for _, s in series]
    if unit != Unit.PERCENT and any(t is not None for t in totals):
        row = ["Total", *[_cell(t) for t in totals]]
        if compare:
            row.append(_change(totals[1], totals[0], group[0]))
        rows.append(row)
    subject = group[0].name if len(group) == 1 else " and ".join([group[0].name, *(in_sentence(e.name) for e in group[1:])])
    table = Table(key, f"{subject}, by {breakdown.name.lower()}, {quarter.label}", heads, rows)
    chart = None
    if unit in (Unit.COUNT, Unit.HOURS, Unit.PERCENT) and len(options) >= 3:
        chart = breakdown_chart(key=key, subject=f"{subject} by {breakdown.name.lower()}", categories=[label for _, label in options],
                                series=[(name, [_plain(s.options.get(code)) for code, _ in options]) for name, s in series],
                                unit=unit)
    return ReportBlock("table", table=table, chart=chart)


def _target_lines(service: Service, targets: list[analysis.TargetStatus]) -> list[str]:
    lines = []
    for status in targets:
        target = status.target
        if target.service_id != service.pk:
            continue
        rating = {"red": "Red", "amber": "Amber", "green": "Green"}.get(status.rag, "Not yet rated")
        lines.append(f"{target.data_element.name}: target {target.value:,.0f} by {target.due.day} {target.due:%B %Y}. "
                     f"{rating}: {status.explanation}.")
    return lines


def _section(service: Service, elements: list[DataElement], quarter: FinancialQuarter, figures: ReportFigures,
             targets: list[analysis.TargetStatus]) -> ReportSection:
    section = ReportSection(f"{service.name} {quarter.label}", f"service-{service.slug}", service)
    reported = [e for e in elements if figures.element(e, quarter).total is not None
                or figures.element(e, quarter).months or figures.element(e, quarter).options]
    section.blocks += _headline(service, reported, quarter, figures)
    for element in reported:
        if element.frequency == Frequency.MONTHLY or figures.element(element, quarter).months:
            block = _month_block(element, quarter, figures, f"{service.slug}-{element.slug}-months")
            if block:
                section.blocks.append(block)
    groups: dict[str, list[DataElement]] = {}
    for element in reported:
        if element.breakdown_id and figures.element(element, quarter).options:
            groups.setdefault(element.breakdown.slug, []).append(element)
    for slug, group in groups.items():
        # Elements of different units cannot share a column heading's unit, so they stay apart.
        for unit in dict.fromkeys(e.unit for e in group):
            same = [e for e in group if e.unit == unit]
            block = _breakdown_block(same, quarter, figures, f"{service.slug}-{slug}-{unit}")
            if block:
                section.blocks.append(block)
    definitions = [f"{e.name}: {e.definition}" for e in reported if e.definition]
    lines = _target_lines(service, targets)
    if lines:
        section.blocks.append(ReportBlock("list", "Targets", items=lines))
    if definitions:
        section.blocks.append(ReportBlock("list", "About these figures", items=definitions))
    return section


def performance_report_build(*, quarter: FinancialQuarter, published: bool = True,
                             policy: DisclosurePolicy | None = None, today: dt.date | None = None) -> PerformanceReport:
    """The report for `quarter` from approved returns only. `published` applies disclosure control
    (the policy given, else the configured one) and leaves out the validation appendix."""
    today = today or dt.date.today()
    policy = (policy or DisclosurePolicy.from_settings()) if published else None
    returns = list(DataReturn.objects.filter(quarter_start=quarter.start, status=ReturnStatus.APPROVED)
                   .select_related("service"))
    services = sorted((r.service for r in returns), key=lambda s: ([k for k, _ in KIND_HEADINGS].index(s.kind), s.pk))
    links = list(DataElement.services.through.objects.filter(service__in=services).values_list("service_id", "dataelement_id"))
    elements = {e.pk: e for e in DataElement.objects.filter(pk__in={e for _, e in links})
                .select_related("breakdown").prefetch_related("breakdown__options")}
    wanted = [quarter.same_quarter_years_ago(n) for n in range(YEARS)]
    figures = Figures.load(elements=[e.slug for e in elements.values()], services=services,
                           starts=quarter_starts(wanted), by_service=True) if services else Figures()
    # Targets are rated as at the end of the quarter, on approved figures only.
    targets = analysis.target_statuses(Target.objects.filter(service__in=services).select_related("data_element", "service"),
                                       today=min(today, quarter.end)) if services else []
    groups = []
    for kind, heading in KIND_HEADINGS:
        sections = []
        for service in (s for s in services if s.kind == kind):
            own = sorted((elements[e] for s, e in links if s == service.pk), key=lambda e: (e.order, e.name))
            sections.append(_section(service, own, quarter, ReportFigures(figures.service(service.pk), policy), targets))
        if sections:
            groups.append(ReportGroup(heading, sections))
    notes = [
        f"Figures are from the returns services sent for {quarter.label}, as approved by the partnership. "
        "Changes compare a quarter with the same quarter a year before.",
        "Percentages and hours are shown as reported.",
    ]
    if policy is not None:
        notes.append(policy.explanation + " Zeros are shown.")
    else:
        notes.append("Internal version: exact figures, not for publication. Small counts are withheld in the published version.")
    appendix = [] if published else _appendix(quarter, {r.pk for r in returns})
    return PerformanceReport(quarter, published, groups, notes, appendix, today)


def _appendix(quarter: FinancialQuarter, approved_ids: set[int]) -> list[AppendixRow]:
    rows = []
    for data_return, violations in period_violations(quarter):
        if data_return.pk not in approved_ids:
            continue
        for v in violations:
            detail = (f"{v.message}: {v.left_label} = {figure_text(v.left_value, 'number') if v.left_value is not None else 'missing'}; "
                      f"{v.right_label} = {figure_text(v.right_value, 'number') if v.right_value is not None else 'missing'}")
            rows.append(AppendixRow(data_return.service.name, v.rule.name, v.rule.get_importance_display().split(":")[0],
                                    detail, data_return.warning_comments.get(v.rule.slug, "")))
    return rows


# --- Rendering -----------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _stylesheet() -> str:
    from saferhub.publishing.renderers.html import page_stylesheet

    return page_stylesheet() + STYLESHEET.read_text(encoding="utf-8")


def report_html(report: PerformanceReport) -> str:
    """A complete page with its own styles and its charts inside it as SVG images."""
    return render_to_string("performance/report_document.html", {"report": report, "stylesheet": Markup(_stylesheet())})


def report_pdf(report: PerformanceReport) -> bytes:
    """Tagged PDF (PDF/UA-1): headings, tables with header cells, and charts as figures with their
    text alternatives."""
    # The charts are data: URLs inside the document; nothing else may be fetched.
    fetcher = URLFetcher(allowed_protocols=("data",))
    return HTML(string=report_html(report), url_fetcher=fetcher).write_pdf(pdf_variant="pdf/ua-1")


def report_docx(report: PerformanceReport) -> bytes:
    return document_docx(report)


def performance_report_render(report: PerformanceReport, fmt: str) -> bytes:
    if fmt == "html":
        return report_html(report).encode("utf-8")
    if fmt == "pdf":
        return report_pdf(report)
    if fmt == "docx":
        return report_docx(report)
    raise ReportError(f"Unknown format {fmt!r}: use one of {', '.join(REPORT_FORMATS)}")


def report_filename(report: PerformanceReport, fmt: str) -> str:
    version = "" if report.published else "-internal"
    return f"performance-report-{report.quarter.slug}{version}.{fmt}"


def performance_report_write(*, period: str, fmt: str, output: str | None = None, internal: bool = False) -> str:
    """`saferhub report performance`: write the report for `period` (e.g. 2023/24-Q3) to a file;
    the published version unless `internal`. Returns what was done, for the console."""
    try:
        quarter = FinancialQuarter.parse(period)
    except ValueError as exc:
        raise ReportError(str(exc)) from None
    if fmt not in REPORT_FORMATS:
        raise ReportError(f"Unknown format {fmt!r}: use one of {', '.join(REPORT_FORMATS)}")
    report = performance_report_build(quarter=quarter, published=not internal)
    if not report.sections:
        raise ReportError(f"No approved returns for {quarter.label}: there is nothing to report")
    content = performance_report_render(report, fmt)
    path = Path(output or report_filename(report, fmt))
    try:
        path.write_bytes(content)
    except OSError as error:
        raise ReportError(f"Cannot write {path}: {error.strerror}") from error
    version = "published version, disclosure control applied" if report.published else "internal version, exact figures"
    return f"Wrote {path} ({len(content):,} bytes; {quarter.label}; {len(report.sections)} services; {version})"
