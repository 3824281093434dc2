"""The action tracker as CSV or XLSX: the same actions, in the same order, as the filtered page,
written a chunk of rows at a time so 20,000 actions never sit in memory at once."""
import csv
import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from saferhub.strategy.models import Action, ActionStatus, Rag

STATUS_LABELS = dict(ActionStatus.choices)
RAG_LABELS = {value: label for value, label in Rag.choices if value}
# (header, width in the spreadsheet)
COLUMNS = [
    ("Strategy", 30), ("Item", 14), ("Reference", 14), ("Action", 50), ("Description", 60),
    ("Lead organisations", 30), ("Supporting organisations", 30), ("Governance body", 30),
    ("Start date", 12), ("Due date", 12), ("Timescale", 20), ("Status", 12), ("RAG", 10),
    ("Deadline", 10), ("Latest progress period", 16), ("Latest progress recorded", 14),
    ("Latest actions taken", 60), ("Latest next steps", 60),
]
MINE_COLUMN = ("Your organisation", 14)
DATE_FORMAT = "d mmm yyyy"
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def headers(*, mine: bool) -> list[str]:
    return [name for name, _ in _columns(mine)]


def _columns(mine: bool) -> list[tuple[str, int]]:
    return [*COLUMNS, MINE_COLUMN] if mine else COLUMNS


def _deadline(record: dict, today: dt.date) -> str:
    action = Action(status=record["status"], due_date=record["due_date"])
    return "Overdue" if action.is_overdue(today) else "Due soon" if action.is_due_soon(today) else ""


def _item_label(record: dict) -> str:
    return record["item__code"] or (record["item__short_title"] or record["item__title"])[:80]


def action_row(record: dict, *, mine: bool, today: dt.date) -> list:
    """One action's cells (from selectors.action_export_records) as text, dates or None."""
    latest = record["latest"] or {}
    row = [
        record["item__strategy__short_title"] or record["item__strategy__title"],
        _item_label(record),
        record["reference"],
        record["title"],
        record["description"],
        "; ".join(record["leads"]),
        "; ".join(record["supporters"]),
        record["body"] or "",
        record["start_date"],
        record["due_date"],
        record["timescale"],
        STATUS_LABELS.get(record["status"], record["status"]),
        RAG_LABELS.get(record["rag"], "Not rated"),
        _deadline(record, today),
        latest.get("period", ""),
        latest.get("recorded_on"),
        latest.get("actions_taken", ""),
        latest.get("next_steps", ""),
    ]
    if mine:
        row.append("Lead" if record["organisation_leads"] else "Supporting")
    return row


def action_rows(records: Iterable[dict], *, mine: bool, today: dt.date) -> Iterator[list]:
    for record in records:
        yield action_row(record, mine=mine, today=today)


class _Echo:
    """A file whose write() hands back what it was given, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def _csv_safe(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(rows: Iterable[list], *, mine: bool) -> Iterator[str]:
    """The CSV text, a line at a time, starting with a byte-order mark so spreadsheet programs
    read it as UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(headers(mine=mine))
    for row in rows:
        yield writer.writerow([_csv_safe(value) for value in row])


def xlsx_file(rows: Iterable[list], *, mine: bool):
    """A temporary file holding the workbook: one sheet, a bold frozen header row with filters,
    dates as dates. openpyxl's write-only mode streams rows to disk instead of keeping them."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Actions")
    columns = _columns(mine)
    for index, (_, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for name, _ in columns:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)

    def date_cell(value: dt.date) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell

    def text_cell(value: str) -> WriteOnlyCell:
        # openpyxl would store text starting "=" as a formula; keep it text.
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell

    count = 0
    for row in rows:
        # Plain values let openpyxl reuse one cell object; only dates and formula-like text need their own.
        sheet.append([
            date_cell(value) if isinstance(value, dt.date)
            else text_cell(value) if isinstance(value, str) and value.startswith("=")
            else value
            for value in row
        ])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    output = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(output)
    output.seek(0)
    return output
