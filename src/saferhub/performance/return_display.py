"""How a data return reads on its pages: the figures grid (one row per element and breakdown option,
a column per month and the quarter), its edit history in words, and upload problems in words."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from saferhub.audit.models import ChangeAction
from saferhub.audit.services import history_for
from saferhub.core.importing import ImportProblem
from saferhub.performance.expressions import REFERENCE
from saferhub.performance.models import DataElement, DataReturn, Frequency, PeriodType, ReturnStatus, ValidationRule
from saferhub.performance.periods import FinancialQuarter, month_label
from saferhub.performance.returns_file import template_rows
from saferhub.performance.validation import ValueSet


def exact(value: float | None) -> str:
    """A figure as held, with thousands separators and every decimal place: the internal view
    shows what the service reported, unrounded."""
    if value is None:
        return ""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def plain(value: float | None) -> str:
    """A figure as typed into a form box: no separators."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def cell_key(element: str, option: str, month: dt.date | None) -> str:
    """The form field name (and element id) of one figure: `enquiries.2023-11`,
    `individuals.female.total`. Slugs hold no dots, so the parts cannot run together."""
    return ".".join([element, *([option] if option else []), f"{month:%Y-%m}" if month else "total"])


@dataclass
class Cell:
    key: str
    label: str  # what a screen reader hears: "Enquiries, November 2023"
    month: dt.date | None
    value: float | None
    asked: bool  # whether the template (and so the web form) asks for this figure

    @property
    def text(self) -> str:
        return exact(self.value)


@dataclass
class FigureRow:
    element: DataElement
    option_code: str
    option_label: str
    cells: list[Cell] = field(default_factory=list)

    @property
    def is_option(self) -> bool:
        return bool(self.option_code)

    @property
    def heading(self) -> str:
        return self.option_label if self.option_code else self.element.name

    @property
    def months_asked(self) -> bool:
        return any(c.asked for c in self.cells if c.month)

    @property
    def has_values(self) -> bool:
        return any(c.value is not None for c in self.cells)


def _row(element: DataElement, option_code: str, option_label: str, quarter: FinancialQuarter,
         values: ValueSet, *, in_template: bool) -> FigureRow:
    name = element.name + (f", {option_label}" if option_code else "")
    monthly = in_template and element.frequency == Frequency.MONTHLY and not option_code
    option = option_code or None
    cells = [Cell(cell_key(element.slug, option_code, m), f"{name}, {month_label(m)}", m,
                  values.get(element.slug, option, m), monthly) for m in quarter.months]
    cells.append(Cell(cell_key(element.slug, option_code, None), f"{name}, {quarter.label} total", None,
                      values.get(element.slug, option), in_template))
    return FigureRow(element, option_code, option_label, cells)


def figure_rows(service, quarter: FinancialQuarter, values: ValueSet, elements: dict[str, DataElement]) -> list[FigureRow]:
    """The template's rows filled with `values`, then any figure held that the template no longer
    asks for (an element since taken off the service), so nothing held is hidden."""
    rows, seen = [], set()
    for spec in template_rows(service):
        rows.append(_row(spec.element, spec.option_code, spec.option_label, quarter, values, in_template=True))
        seen.add((spec.element.slug, spec.option_code))
    extra = sorted({(k.element, k.option or "") for k in values.values} - seen)
    for slug, code in extra:
        element = elements.get(slug)
        if element is None:
            continue
        labels = {o.code: o.label for o in element.breakdown.options.all()} if element.breakdown_id else {}
        rows.append(_row(element, code, labels.get(code, code) if code else "Total", quarter, values, in_template=False))
    return rows


def readable_side(text: str, elements: dict[str, DataElement]) -> str:
    """A rule side as people say it: `#{individuals.female} * 2` → `Individuals (Female) * 2`.
    Labels that are not expressions (a breakdown rule's own wording) pass through."""

    def name(match) -> str:
        element = elements.get(match.group(1))
        if element is None:
            return match.group(0)
        option = match.group(2)
        if not option:
            return element.name
        if option == "*":
            return f"{element.name} (all breakdown options)"
        labels = {o.code: o.label for o in element.breakdown.options.all()} if element.breakdown_id else {}
        return f"{element.name} ({labels.get(option, option)})"

    return REFERENCE.sub(name, text)


def _figure_label(key: str, elements: dict[str, DataElement]) -> str:
    """`individuals.female@Q2023-10-01` → 'Individuals, Female, Q3 2023/24 total'."""
    name, _, period = key.partition("@")
    slug, _, option = name.partition(".")
    element = elements.get(slug)
    parts = [element.name if element else slug]
    if option:
        labels = {o.code: o.label for o in element.breakdown.options.all()} if element and element.breakdown_id else {}
        parts.append(labels.get(option, option))
    try:
        day = dt.date.fromisoformat(period[1:])
    except ValueError:
        parts.append(period)
    else:
        parts.append(month_label(day) if period[:1] == PeriodType.MONTH else f"{FinancialQuarter.from_date(day).label} total")
    return ", ".join(parts)


@dataclass
class HistoryEntry:
    what: str
    who: str
    at: dt.datetime
    detail: str = ""
    changes: list[dict] = field(default_factory=list)  # {"figure", "before", "after"}


def history_entries(data_return: DataReturn, elements: dict[str, DataElement]) -> list[HistoryEntry]:
    """The return's edit history, newest first, as a person reads it."""
    entries = []
    rule_names = dict(ValidationRule.objects.values_list("slug", "name"))
    for record in history_for(data_return).select_related("actor__organisation"):
        who = record.actor_name or "system"
        if record.actor and record.actor.organisation_id:
            who += f" ({record.actor.organisation.name})"
        status_before, status_after = record.before.get("status"), record.after.get("status")
        if record.action == ChangeAction.CREATE:
            entries.append(HistoryEntry("Started the return", who, record.at))
        elif status_after == ReturnStatus.SUBMITTED:
            comments = record.after.get("warning_comments") or {}
            detail = "; ".join(f"{rule_names.get(slug, slug)}: {text}" for slug, text in comments.items())
            entries.append(HistoryEntry("Submitted the return", who, record.at,
                                        f"Warning comments: {detail}" if detail else ""))
        elif status_after == ReturnStatus.APPROVED:
            entries.append(HistoryEntry("Approved the return", who, record.at))
        elif status_after == ReturnStatus.DRAFT and status_before == ReturnStatus.SUBMITTED:
            entries.append(HistoryEntry("Reopened the return", who, record.at, f"Reason: {record.after.get('reason', '')}"))
        else:
            keys = list(dict.fromkeys([*record.before, *record.after]))
            changes = [
                {"figure": _figure_label(k, elements), "before": exact(record.before.get(k)) or "Not given",
                 "after": exact(record.after.get(k)) or "Not given"}
                for k in keys if record.before.get(k) != record.after.get(k)
            ]
            entries.append(HistoryEntry("Changed the figures", who, record.at, changes=changes))
    return entries


def problem_text(problem: ImportProblem) -> str:
    """'Sheet Return, row 7, column 'Q3 2023/24 total': 'about 200' is not a number'."""
    place = []
    if problem.sheet:
        place.append(f"sheet {problem.sheet}")
    if isinstance(problem.row, int):
        place.append(f"row {problem.row}")
    if problem.field and problem.field not in ("-", "header", "template"):
        place.append(f"column '{problem.field}'")
    where = ", ".join(place)
    if problem.message.startswith("is "):
        # The reader's whole-file messages have the file as their subject.
        return f"{problem.file} {problem.message}" + (f" ({where})" if where else "")
    if not where:
        return f"{problem.file}: {problem.message}"
    return f"{where[0].upper()}{where[1:]}: {problem.message}"


@dataclass
class ViolationView:
    rule_name: str
    rule_slug: str
    message: str
    sides: list[tuple[str, str]]  # (what was compared, its figure)


def violation_view(violation, elements: dict[str, DataElement]) -> ViolationView:
    """A rule violation with both sides of the comparison spelled out."""
    return ViolationView(
        violation.rule.name, violation.rule.slug, violation.message,
        [(readable_side(violation.left_label, elements), exact(violation.left_value) or "missing"),
         (readable_side(violation.right_label, elements), exact(violation.right_value) or "missing")],
    )
