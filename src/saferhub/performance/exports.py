"""Any dashboard table as a CSV or Excel file: the caption, the column headings and the rows, with
numbers kept as numbers so they can be worked with."""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from saferhub.performance.tables import Table

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHANGE_NOTE = "Changes are in per cent, or in percentage points for figures that are percentages."


def _safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def table_csv(table: Table) -> bytes:
    """UTF-8 with a byte order mark, so Excel reads the £ and the curly quotes correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_safe(c.heading) for c in table.columns])
    for row in table.export_rows():
        writer.writerow(["" if cell is None else _safe(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def table_xlsx(table: Table) -> bytes:
    """One sheet: the caption in the first row, the headings in bold below it, then the rows."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Figures"
    sheet.append([table.caption])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([c.heading for c in table.columns])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in table.export_rows():
        sheet.append([_safe(cell) for cell in row])
    for n, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = 40 if n == 1 else max(14, min(40, len(column.heading) + 2))
    notes = [table.note] if table.note else []
    if any(c.kind == "change" for c in table.columns):
        notes.append(CHANGE_NOTE)
    if notes:
        sheet.append([])
        for note in notes:
            sheet.append([note])
    sheet.freeze_panes = "B3"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table_export(table: Table, fmt: str) -> bytes:
    if fmt == "csv":
        return table_csv(table)
    if fmt == "xlsx":
        return table_xlsx(table)
    raise ValueError(f"Unknown format {fmt!r}: use csv or xlsx")
