"""Reading strategy files (YAML, JSON and XLSX action trackers, see docs/strategy-file-format.md)
into one plain description of a strategy, noting every problem with where it is; and writing the
empty XLSX tracker template. `strategy.importer` checks and writes what this reads."""
from __future__ import annotations

import calendar
import functools
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from saferhub.core.importing import ImportProblem, date_parse
from saferhub.core.xlsx_reader import WorkbookUnreadable, XlsxWorkbook
from saferhub.strategy.models import ActionStatus, PeriodKind, Rag
from saferhub.strategy.services import PATH_SEGMENT_WIDTH

STRATEGY_FIELDS = [
    "slug", "title", "short_title", "summary", "background", "level_names", "owner", "governance_body",
    "start_date", "end_date",
]
ITEM_FIELDS = ["code", "parent_code", "title", "short_title", "description"]
ACTION_FIELDS = [
    "reference", "item_code", "title", "description", "lead", "support", "governance_body", "start_date",
    "due_date", "timescale", "status", "rag", "outcome_measures",
]
PROGRESS_FIELDS = [
    "action_reference", "period", "period_start", "period_end", "actions_taken", "next_steps", "status",
    "rag", "organisation",
]
# Sheets of an XLSX tracker, their columns, and which columns must be present.
TRACKER_SHEETS = {
    "Strategy": (["field", "value"], {"field", "value"}),
    "Items": (ITEM_FIELDS, {"code", "title"}),
    "Actions": (ACTION_FIELDS, {"reference", "item_code", "title", "lead"}),
    "Progress": (PROGRESS_FIELDS, {"action_reference", "period"}),
}
OPTIONAL_SHEETS = {"Progress"}

YAML_STRATEGY_KEYS = set(STRATEGY_FIELDS) | {"periods", "items"}
YAML_ITEM_KEYS = {"code", "title", "short_title", "description", "items", "actions"}
YAML_ACTION_KEYS = (set(ACTION_FIELDS) - {"item_code"}) | {"progress"}
YAML_PROGRESS_KEYS = {"period", "actions_taken", "next_steps", "status", "rag", "organisation"}
YAML_PERIOD_KEYS = {"label", "start", "end", "kind"}


@dataclass(frozen=True)
class Where:
    """Where a record is: a YAML path (`items[2].actions[0]`) or a spreadsheet sheet and row."""

    file: str
    row: int | str
    sheet: str = ""

    def problem(self, field_name: str, message: str, *, key: str | None = None) -> ImportProblem:
        if self.sheet:
            return ImportProblem(self.file, self.row, field_name, message, sheet=self.sheet)
        key = key or field_name
        return ImportProblem(self.file, f"{self.row}.{key}" if self.row != "" else key, field_name, message)


@dataclass
class PeriodSpec:
    label: str
    start: dt.date | None
    end: dt.date | None
    kind: str
    where: Where


@dataclass
class ItemSpec:
    code: str
    title: str
    short_title: str
    description: str
    parent: int | None  # index in StrategySpec.items
    depth: int
    order: int  # 1-based position among siblings
    path: str
    where: Where


@dataclass
class ActionSpec:
    item: int  # index in StrategySpec.items
    order: int  # 1-based position among the item's actions
    reference: str
    title: str
    description: str
    lead: list[str]
    support: list[str]
    governance_body: str
    start_date: dt.date | None
    due_date: dt.date | None
    timescale: str
    status: str
    rag: str
    outcome_measures: str
    where: Where
    # YAML path or field name of each list entry, for naming the bad slug exactly.
    lead_keys: list[str] = field(default_factory=list)
    support_keys: list[str] = field(default_factory=list)


@dataclass
class ProgressSpec:
    action: int  # index in StrategySpec.actions
    period: str
    actions_taken: str
    next_steps: str
    status: str
    rag: str
    organisation: str
    where: Where


@dataclass
class StrategySpec:
    file: str
    values: dict[str, Any] = field(default_factory=dict)
    where: dict[str, Where] = field(default_factory=dict)
    periods: list[PeriodSpec] = field(default_factory=list)
    items: list[ItemSpec] = field(default_factory=list)
    actions: list[ActionSpec] = field(default_factory=list)
    progress: list[ProgressSpec] = field(default_factory=list)

    def where_of(self, name: str) -> Where:
        return self.where.get(name) or Where(self.file, "")


def strategy_file_read(path: str | Path) -> tuple[StrategySpec | None, list[ImportProblem]]:
    """Read one strategy file of any supported kind."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in {".yaml", ".yml", ".json"}:
        return _structured_file_read(path)
    if suffix == ".xlsx":
        return _tracker_read(path)
    return None, [ImportProblem(str(path), "-", "file", "Unsupported file type: use .yaml, .yml, .json or .xlsx")]


# Values ------------------------------------------------------------------------------------------


class _Values:
    """Turns raw cell or YAML values into clean ones, noting problems."""

    def __init__(self, problems: list[ImportProblem]):
        self.problems = problems

    def text(self, raw: Any, where: Where, name: str, *, key: str | None = None) -> str:
        if raw is None:
            return ""
        if isinstance(raw, bool):
            self.problems.append(where.problem(name, "Enter text, not true or false", key=key))
            return ""
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, (int, float)):
            return str(raw)
        if isinstance(raw, dt.datetime) and raw.time() == dt.time(0, 0):
            return raw.date().isoformat()  # spreadsheets turn text like "June 2023" into dates
        if isinstance(raw, (dt.date, dt.datetime)):
            return raw.isoformat()
        if not isinstance(raw, str):
            self.problems.append(where.problem(name, "Enter text", key=key))
            return ""
        return raw.strip()

    def date(self, raw: Any, where: Where, name: str, *, key: str | None = None) -> dt.date | None:
        if isinstance(raw, bool) or isinstance(raw, (int, float)):
            self.problems.append(where.problem(name, f"Enter a date as YYYY-MM-DD, not '{raw}'", key=key))
            return None
        try:
            return date_parse(raw)
        except ValueError as error:
            self.problems.append(where.problem(name, str(error), key=key))
            return None

    def choice(self, raw: Any, where: Where, name: str, choices: type, *, default: str = "") -> str:
        """One of `choices`, given as its value or its label in any case ('on_track', 'On track')."""
        value = self.text(raw, where, name)
        if not value:
            return default
        found = _choice_names(choices).get(value.lower().replace("-", " ").replace("_", " "))
        if found is None:
            allowed = ", ".join(v for v in choices.values if v)
            self.problems.append(where.problem(name, f"'{value}' is not one of {allowed}"))
            return default
        return found

    def slugs(self, raw: Any, where: Where, name: str) -> tuple[list[str], list[str]]:
        """A list of slugs from a YAML list or comma-separated text, with each one's YAML key."""
        if raw is None or raw == "":
            return [], []
        if isinstance(raw, str):
            parts = [p.strip() for p in raw.split(",")]
            slugs = [p for p in parts if p]
            return slugs, [name] * len(slugs)
        if isinstance(raw, list) and all(isinstance(v, str) for v in raw):
            pairs = [(v.strip(), f"{name}[{i}]") for i, v in enumerate(raw) if v.strip()]
            return [p[0] for p in pairs], [p[1] for p in pairs]
        self.problems.append(where.problem(name, "Enter organisation slugs as a list or separated by commas"))
        return [], []


@functools.cache
def _choice_names(choices: type) -> dict[str, str]:
    names = {}
    for value, label in choices.choices:
        if value:
            names[value.replace("_", " ")] = value
            names[label.lower()] = value
    return names


def _unknown_keys(entry: dict, allowed: set[str], where: Where, problems: list[ImportProblem]) -> None:
    for key in entry:
        if key not in allowed:
            problems.append(where.problem(str(key), f"Unknown field; expected one of {', '.join(sorted(allowed))}"))


# YAML and JSON -----------------------------------------------------------------------------------


def _structured_file_read(path: Path) -> tuple[StrategySpec | None, list[ImportProblem]]:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, [ImportProblem(file, "-", "file", f"Cannot read the file: {error}")]
    try:
        if path.suffix.lower() == ".json":
            document = json.loads(text)
        else:
            document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except json.JSONDecodeError as error:
        return None, [ImportProblem(file, f"line {error.lineno}", "file", f"Not valid JSON: {error.msg}")]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        row = f"line {mark.line + 1}" if mark else "-"
        return None, [ImportProblem(file, row, "file", f"Not valid YAML: {getattr(error, 'problem', None) or error}")]
    if not isinstance(document, dict):
        return None, [ImportProblem(file, "-", "file", "Expected a mapping of strategy fields at the top of the file")]

    problems: list[ImportProblem] = []
    values = _Values(problems)
    spec = StrategySpec(file=file)
    top = Where(file, "")
    _unknown_keys(document, YAML_STRATEGY_KEYS, top, problems)
    for name in STRATEGY_FIELDS:
        spec.where[name] = top
        raw = document.get(name)
        if name in {"start_date", "end_date"}:
            spec.values[name] = values.date(raw, top, name)
        elif name == "level_names":
            if raw is None:
                spec.values[name] = []
            elif isinstance(raw, list) and all(isinstance(v, str) and v.strip() for v in raw):
                spec.values[name] = [v.strip() for v in raw]
            elif isinstance(raw, str):
                spec.values[name] = [v.strip() for v in raw.split(",") if v.strip()]
            else:
                problems.append(top.problem(name, "Enter a list of level names, top first"))
                spec.values[name] = []
        else:
            spec.values[name] = values.text(raw, top, name)

    periods = document.get("periods") or []
    if not isinstance(periods, list):
        problems.append(top.problem("periods", "Enter a list of reporting periods"))
        periods = []
    for index, entry in enumerate(periods):
        where = Where(file, f"periods[{index}]")
        if not isinstance(entry, dict):
            problems.append(where.problem("period", "Expected label, start, end and kind", key=""))
            continue
        _unknown_keys(entry, YAML_PERIOD_KEYS, where, problems)
        spec.periods.append(PeriodSpec(
            label=values.text(entry.get("label"), where, "label"),
            start=values.date(entry.get("start"), where, "start"),
            end=values.date(entry.get("end"), where, "end"),
            kind=values.choice(entry.get("kind"), where, "kind", PeriodKind, default=PeriodKind.CUSTOM),
            where=where,
        ))

    items = document.get("items") or []
    if not isinstance(items, list):
        problems.append(top.problem("items", "Enter a list of items"))
        items = []
    _yaml_items_read(items, spec, values, parent=None, depth=0, prefix="", where_prefix="items")
    return spec, problems


def _yaml_items_read(entries: list, spec: StrategySpec, values: _Values, *, parent: int | None, depth: int,
                     prefix: str, where_prefix: str) -> None:
    problems = values.problems
    for position, entry in enumerate(entries, start=1):
        where = Where(spec.file, f"{where_prefix}[{position - 1}]")
        if not isinstance(entry, dict):
            problems.append(where.problem("item", "Expected an item with code, title, items and actions", key=""))
            continue
        _unknown_keys(entry, YAML_ITEM_KEYS, where, problems)
        path = f"{prefix}{position:0{PATH_SEGMENT_WIDTH}d}"
        index = len(spec.items)
        spec.items.append(ItemSpec(
            code=values.text(entry.get("code"), where, "code"),
            title=values.text(entry.get("title"), where, "title"),
            short_title=values.text(entry.get("short_title"), where, "short_title"),
            description=values.text(entry.get("description"), where, "description"),
            parent=parent, depth=depth, order=position, path=path, where=where,
        ))
        actions = entry.get("actions") or []
        if not isinstance(actions, list):
            problems.append(where.problem("actions", "Enter a list of actions"))
            actions = []
        for order, action in enumerate(actions, start=1):
            _yaml_action_read(action, spec, values, item=index, order=order,
                              where=Where(spec.file, f"{where.row}.actions[{order - 1}]"))
        children = entry.get("items") or []
        if not isinstance(children, list):
            problems.append(where.problem("items", "Enter a list of items"))
            children = []
        _yaml_items_read(children, spec, values, parent=index, depth=depth + 1, prefix=path + ".",
                         where_prefix=f"{where.row}.items")


def _yaml_action_read(entry: Any, spec: StrategySpec, values: _Values, *, item: int, order: int, where: Where) -> None:
    problems = values.problems
    if not isinstance(entry, dict):
        problems.append(where.problem("action", "Expected an action with reference, title and lead", key=""))
        return
    _unknown_keys(entry, YAML_ACTION_KEYS, where, problems)
    lead, lead_keys = values.slugs(entry.get("lead"), where, "lead")
    support, support_keys = values.slugs(entry.get("support"), where, "support")
    index = len(spec.actions)
    spec.actions.append(ActionSpec(
        item=item, order=order,
        reference=values.text(entry.get("reference"), where, "reference"),
        title=values.text(entry.get("title"), where, "title"),
        description=values.text(entry.get("description"), where, "description"),
        lead=lead, support=support, lead_keys=lead_keys, support_keys=support_keys,
        governance_body=values.text(entry.get("governance_body"), where, "governance_body"),
        start_date=values.date(entry.get("start_date"), where, "start_date"),
        due_date=values.date(entry.get("due_date"), where, "due_date"),
        timescale=values.text(entry.get("timescale"), where, "timescale"),
        status=values.choice(entry.get("status"), where, "status", ActionStatus, default=ActionStatus.NOT_STARTED),
        rag=values.choice(entry.get("rag"), where, "rag", Rag),
        outcome_measures=values.text(entry.get("outcome_measures"), where, "outcome_measures"),
        where=where,
    ))
    progress = entry.get("progress") or []
    if not isinstance(progress, list):
        problems.append(where.problem("progress", "Enter a list of progress entries, one per period"))
        progress = []
    for position, update in enumerate(progress):
        update_where = Where(spec.file, f"{where.row}.progress[{position}]")
        if not isinstance(update, dict):
            problems.append(update_where.problem("progress", "Expected period, actions_taken, next_steps, status", key=""))
            continue
        _unknown_keys(update, YAML_PROGRESS_KEYS, update_where, problems)
        spec.progress.append(ProgressSpec(
            action=index,
            period=values.text(update.get("period"), update_where, "period"),
            actions_taken=values.text(update.get("actions_taken"), update_where, "actions_taken"),
            next_steps=values.text(update.get("next_steps"), update_where, "next_steps"),
            status=values.choice(update.get("status"), update_where, "status", ActionStatus),
            rag=values.choice(update.get("rag"), update_where, "rag", Rag),
            organisation=values.text(update.get("organisation"), update_where, "organisation"),
            where=update_where,
        ))


# XLSX action trackers ------------------------------------------------------------------------------


def _tracker_read(path: Path) -> tuple[StrategySpec | None, list[ImportProblem]]:
    file = str(path)
    try:
        workbook = XlsxWorkbook(path)
    except WorkbookUnreadable as error:
        return None, [ImportProblem(file, "-", "file", f"Not an XLSX workbook this can read: {error}")]
    problems: list[ImportProblem] = []
    with workbook:
        sheets = {}
        names = {name.strip().lower(): name for name in workbook.sheetnames}
        for sheet_name, (columns, required) in TRACKER_SHEETS.items():
            actual = names.get(sheet_name.lower())
            if actual is None:
                if sheet_name not in OPTIONAL_SHEETS:
                    problems.append(ImportProblem(file, "-", sheet_name, f"The workbook has no '{sheet_name}' sheet"))
                sheets[sheet_name] = []
                continue
            sheets[sheet_name] = _sheet_rows(workbook.rows(actual), sheet_name, columns, required, file, problems)
    if any(p.field in TRACKER_SHEETS and p.row == "-" for p in problems):
        return None, problems

    values = _Values(problems)
    spec = StrategySpec(file=file)
    _tracker_strategy_read(sheets["Strategy"], spec, values)
    _tracker_items_read(sheets["Items"], spec, values)
    _tracker_actions_read(sheets["Actions"], spec, values)
    _tracker_progress_read(sheets["Progress"], spec, values)
    return spec, problems


def _sheet_rows(rows, sheet_name: str, columns: list[str], required: set[str], file: str,
                problems: list[ImportProblem]) -> list[tuple[Where, dict[str, Any]]]:
    """The sheet's non-empty rows as (where, {column: value}), the first row naming the columns."""
    first = next(rows, None)
    header = first[1] if first else []
    if not any(cell is not None and str(cell).strip() for cell in header):
        problems.append(ImportProblem(file, 1, "header", f"The header row is empty; expected {', '.join(columns)}", sheet=sheet_name))
        return []
    positions: dict[str, int] = {}
    for position, cell in enumerate(header):
        name = str(cell).strip().lower() if cell is not None else ""
        if not name:
            continue
        if name not in columns:
            problems.append(ImportProblem(file, first[0], name, f"Unknown column; expected {', '.join(columns)}", sheet=sheet_name))
        elif name in positions:
            problems.append(ImportProblem(file, first[0], name, "This column appears twice", sheet=sheet_name))
        else:
            positions[name] = position
    for name in columns:
        if name in required and name not in positions:
            problems.append(ImportProblem(file, first[0], name, f"No '{name}' column in the header row", sheet=sheet_name))
    result = []
    for number, row in rows:
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row):
            continue
        record = {name: (row[position] if position < len(row) else None) for name, position in positions.items()}
        result.append((Where(file, number, sheet_name), record))
    return result


def _tracker_strategy_read(rows, spec: StrategySpec, values: _Values) -> None:
    raw: dict[str, Any] = {}
    for where, record in rows:
        name = values.text(record.get("field"), where, "field").lower()
        if not name:
            values.problems.append(where.problem("field", "Enter the name of the strategy field"))
            continue
        if name not in STRATEGY_FIELDS:
            values.problems.append(where.problem("field", f"Unknown strategy field '{name}'; expected one of {', '.join(STRATEGY_FIELDS)}"))
            continue
        if name in raw:
            values.problems.append(where.problem(name, f"'{name}' is given twice (first on row {spec.where[name].row})"))
            continue
        raw[name] = record.get("value")
        spec.where[name] = where
    for name in STRATEGY_FIELDS:
        where = spec.where.get(name) or Where(spec.file, 1, "Strategy")
        spec.where[name] = where
        if name in {"start_date", "end_date"}:
            spec.values[name] = values.date(raw.get(name), where, name)
        elif name == "level_names":
            spec.values[name] = [v.strip() for v in values.text(raw.get(name), where, name).split(",") if v.strip()]
        else:
            spec.values[name] = values.text(raw.get(name), where, name)


def _tracker_items_read(rows, spec: StrategySpec, values: _Values) -> None:
    by_code: dict[str, int] = {}
    children: dict[int | None, int] = {}
    for where, record in rows:
        code = values.text(record.get("code"), where, "code")
        parent_code = values.text(record.get("parent_code"), where, "parent_code")
        parent = None
        if parent_code:
            parent = by_code.get(parent_code)
            if parent is None:
                later = any(str(r.get("code") or "").strip() == parent_code for w, r in rows if w.row > where.row)
                message = (f"'{parent_code}' is defined on a later row; put parents above their children" if later
                           else f"No item has the code '{parent_code}'")
                values.problems.append(where.problem("parent_code", message))
                continue
        position = children.get(parent, 0) + 1
        children[parent] = position
        prefix = spec.items[parent].path + "." if parent is not None else ""
        index = len(spec.items)
        spec.items.append(ItemSpec(
            code=code,
            title=values.text(record.get("title"), where, "title"),
            short_title=values.text(record.get("short_title"), where, "short_title"),
            description=values.text(record.get("description"), where, "description"),
            parent=parent, depth=spec.items[parent].depth + 1 if parent is not None else 0,
            order=position, path=f"{prefix}{position:0{PATH_SEGMENT_WIDTH}d}", where=where,
        ))
        if code:
            by_code.setdefault(code, index)


def _tracker_actions_read(rows, spec: StrategySpec, values: _Values) -> None:
    items_by_code = {}
    for index, item in enumerate(spec.items):
        if item.code:
            items_by_code.setdefault(item.code, index)
    per_item: dict[int, int] = {}
    for where, record in rows:
        item_code = values.text(record.get("item_code"), where, "item_code")
        item = items_by_code.get(item_code)
        if not item_code:
            values.problems.append(where.problem("item_code", "Enter the code of the item this action belongs to"))
        elif item is None:
            values.problems.append(where.problem("item_code", f"No item has the code '{item_code}'"))
        lead, lead_keys = values.slugs(record.get("lead"), where, "lead")
        support, support_keys = values.slugs(record.get("support"), where, "support")
        order = per_item.get(item, 0) + 1 if item is not None else 0
        if item is not None:
            per_item[item] = order
        spec.actions.append(ActionSpec(
            item=item if item is not None else -1, order=order,
            reference=values.text(record.get("reference"), where, "reference"),
            title=values.text(record.get("title"), where, "title"),
            description=values.text(record.get("description"), where, "description"),
            lead=lead, support=support, lead_keys=lead_keys, support_keys=support_keys,
            governance_body=values.text(record.get("governance_body"), where, "governance_body"),
            start_date=values.date(record.get("start_date"), where, "start_date"),
            due_date=values.date(record.get("due_date"), where, "due_date"),
            timescale=values.text(record.get("timescale"), where, "timescale"),
            status=values.choice(record.get("status"), where, "status", ActionStatus, default=ActionStatus.NOT_STARTED),
            rag=values.choice(record.get("rag"), where, "rag", Rag),
            outcome_measures=values.text(record.get("outcome_measures"), where, "outcome_measures"),
            where=where,
        ))


def _tracker_progress_read(rows, spec: StrategySpec, values: _Values) -> None:
    actions_by_reference = {}
    for index, action in enumerate(spec.actions):
        if action.reference:
            actions_by_reference.setdefault(action.reference, index)
    # A period is declared by any row giving its dates; the other rows may name it alone.
    declared: dict[str, PeriodSpec] = {}
    for where, record in rows:
        reference = values.text(record.get("action_reference"), where, "action_reference")
        action = actions_by_reference.get(reference)
        if not reference:
            values.problems.append(where.problem("action_reference", "Enter the reference of the action"))
        elif action is None:
            values.problems.append(where.problem("action_reference", f"No action has the reference '{reference}'"))
        label = values.text(record.get("period"), where, "period")
        start = values.date(record.get("period_start"), where, "period_start")
        end = values.date(record.get("period_end"), where, "period_end")
        if label and (start or end):
            known = declared.get(label)
            if known is None:
                declared[label] = PeriodSpec(label=label, start=start, end=end, kind=_period_kind(start, end), where=where)
                spec.periods.append(declared[label])
            elif (known.start, known.end) != (start, end):
                values.problems.append(where.problem(
                    "period_start" if known.start != start else "period_end",
                    f"Period '{label}' has other dates on row {known.where.row}",
                ))
        spec.progress.append(ProgressSpec(
            action=action if action is not None else -1,
            period=label,
            actions_taken=values.text(record.get("actions_taken"), where, "actions_taken"),
            next_steps=values.text(record.get("next_steps"), where, "next_steps"),
            status=values.choice(record.get("status"), where, "status", ActionStatus),
            rag=values.choice(record.get("rag"), where, "rag", Rag),
            organisation=values.text(record.get("organisation"), where, "organisation"),
            where=where,
        ))


def _period_kind(start: dt.date | None, end: dt.date | None) -> str:
    """The kind of a period given only by its dates: whole calendar months of 1, 3, 6 or 12."""
    if not start or not end or start.day != 1 or end.day != calendar.monthrange(end.year, end.month)[1]:
        return PeriodKind.CUSTOM
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    return {1: PeriodKind.MONTH, 3: PeriodKind.QUARTER, 6: PeriodKind.HALF_YEAR, 12: PeriodKind.YEAR}.get(
        months, PeriodKind.CUSTOM)


# Template ----------------------------------------------------------------------------------------


def tracker_template_write(path: str | Path) -> Path:
    """Write an empty XLSX action tracker: the four sheets with their header rows, the Strategy
    sheet listing its fields, and drop-down lists for status and RAG."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    path = Path(path)
    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for sheet_name, (columns, _required) in TRACKER_SHEETS.items():
        sheet = workbook.create_sheet(sheet_name)
        sheet.append(columns)
        for position, name in enumerate(columns, start=1):
            sheet.cell(row=1, column=position).font = bold
            sheet.column_dimensions[get_column_letter(position)].width = max(14, len(name) + 4)
        sheet.freeze_panes = "A2"
    strategy_sheet = workbook["Strategy"]
    for name in STRATEGY_FIELDS:
        strategy_sheet.append([name, None])
    strategy_sheet.column_dimensions["B"].width = 80

    statuses = ",".join(v for v in ActionStatus.values)
    rags = ",".join(v for v in Rag.values if v)
    for sheet_name, columns in (("Actions", ACTION_FIELDS), ("Progress", PROGRESS_FIELDS)):
        sheet = workbook[sheet_name]
        for name, allowed in (("status", statuses), ("rag", rags)):
            letter = get_column_letter(columns.index(name) + 1)
            validation = DataValidation(type="list", formula1=f'"{allowed}"', allow_blank=True)
            validation.add(f"{letter}2:{letter}10000")
            sheet.add_data_validation(validation)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path
