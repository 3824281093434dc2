"""Data return templates a service downloads (XLSX or CSV), and reading them back once filled in.

Reading checks everything before anything is saved and names the sheet, row and column of every
problem: the wrong template, text in a number cell, a negative count, a missing month."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from saferhub.core.importing import ImportFailed, ImportProblem
from saferhub.performance.models import DataElement, Frequency
from saferhub.performance.periods import FinancialQuarter, month_label
from saferhub.performance.validation import ValueSet

SHEET = "Return"
ABOUT = "About"
TEMPLATE_VERSION = "saferhub-return-1"
HEADER_ROW = 4  # in the XLSX: title, instructions, blank, then the header


@dataclass(frozen=True)
class TemplateRow:
    element: DataElement
    option_code: str
    option_label: str


def template_rows(service) -> list[TemplateRow]:
    rows = []
    elements = DataElement.objects.filter(services=service).select_related("breakdown").prefetch_related("breakdown__options")
    for element in elements.order_by("order", "name"):
        rows.append(TemplateRow(element, "", "Total"))
        if element.breakdown_id:
            rows += [TemplateRow(element, o.code, o.label) for o in element.breakdown.options.all()]
    return rows


def _columns(quarter: FinancialQuarter) -> list[str]:
    return ["Data element code", "Data element", "Breakdown option code", "Breakdown option",
            *(month_label(m) for m in quarter.months), f"{quarter.label} total"]


def template_xlsx(service, quarter: FinancialQuarter) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws["A1"] = f"Data return: {service.name} – {quarter.label}"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = ("Enter counts as whole numbers (0 where there were none; leave a cell empty only when the figure "
                "is not known). Monthly figures go in the month columns; do not change the grey columns.")
    columns = _columns(quarter)
    for col, title in enumerate(columns, start=1):
        cell = ws.cell(row=HEADER_ROW, column=col, value=title)
        cell.font = Font(bold=True)
    grey = PatternFill("solid", fgColor="DDDDDD")
    for r, row in enumerate(template_rows(service), start=HEADER_ROW + 1):
        values = [row.element.slug, row.element.name + ("" if row.option_code else f" ({row.element.get_frequency_display().lower()})"),
                  row.option_code, row.option_label]
        for col, value in enumerate(values, start=1):
            ws.cell(row=r, column=col, value=value).fill = grey
    for col, width in enumerate([28, 48, 24, 32, 16, 16, 16, 18], start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=5)
    about = wb.create_sheet(ABOUT)
    for r, (key, value) in enumerate([("template", TEMPLATE_VERSION), ("service", service.slug), ("quarter", quarter.key)], start=1):
        about.cell(row=r, column=1, value=key)
        about.cell(row=r, column=2, value=value)
    about.sheet_state = "hidden"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def template_csv(service, quarter: FinancialQuarter) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["service", "quarter", *_columns(quarter)])
    for row in template_rows(service):
        writer.writerow([service.slug, quarter.key, row.element.slug, row.element.name, row.option_code, row.option_label, "", "", "", ""])
    return out.getvalue()


class _Reader:
    def __init__(self, filename: str, service, quarter: FinancialQuarter, sheet: str = ""):
        self.filename, self.service, self.quarter, self.sheet = filename, service, quarter, sheet
        self.problems: list[ImportProblem] = []
        self.values = ValueSet(quarter)
        self.expected = {(r.element.slug, r.option_code): r for r in template_rows(service)}
        self.seen: set[tuple[str, str]] = set()

    def problem(self, row, column, message):
        self.problems.append(ImportProblem(self.filename, row, column, message, sheet=self.sheet))

    def number(self, raw, row, column) -> float | None:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if isinstance(raw, bool):
            self.problem(row, column, f"'{raw}' is not a number")
            return None
        try:
            value = Decimal(str(raw).strip().replace(",", ""))
        except (InvalidOperation, ValueError):
            self.problem(row, column, f"'{raw}' is not a number")
            return None
        if not value.is_finite():
            self.problem(row, column, f"'{raw}' is not a number")
            return None
        if value < 0:
            self.problem(row, column, f"{raw} is negative; figures cannot be below zero")
            return None
        return float(value)

    def row(self, row_no, element_code, option_code, months_raw, total_raw, headers):
        element_code = (element_code or "").strip()
        option_code = (option_code or "").strip()
        if not element_code and all(v in (None, "") for v in [*months_raw, total_raw]):
            return
        spec = self.expected.get((element_code, option_code))
        if spec is None:
            self.problem(row_no, headers[0], f"'{element_code}{'/' + option_code if option_code else ''}' is not a figure "
                         f"this template asks {self.service.name} for")
            return
        if (element_code, option_code) in self.seen:
            self.problem(row_no, headers[0], f"'{element_code}{'/' + option_code if option_code else ''}' appears twice")
            return
        self.seen.add((element_code, option_code))
        months = [self.number(v, row_no, headers[2 + i]) for i, v in enumerate(months_raw)]
        total = self.number(total_raw, row_no, headers[5])
        element = spec.element
        if element.frequency == Frequency.MONTHLY and not option_code:
            given = [m is not None for m in months]
            raw_given = [v not in (None, "") for v in months_raw]
            if any(raw_given) and not all(raw_given):
                for i, present in enumerate(raw_given):
                    if not present:
                        self.problem(row_no, headers[2 + i], f"{element.name} is reported monthly: enter {month_label(self.quarter.months[i])}")
            elif total is not None and not any(given) and not any(raw_given):
                self.problem(row_no, headers[2], f"{element.name} is reported monthly: enter each month of {self.quarter.label}")
        elif any(v not in (None, "") for v in months_raw):
            self.problem(row_no, headers[2], f"{element.name}{' (' + spec.option_label + ')' if option_code else ''} is reported "
                         f"for the quarter only: leave the month columns empty")
            months = [None, None, None]
        option = option_code or None
        for month, value in zip(self.quarter.months, months):
            if value is not None:
                self.values.set(element.slug, value, option=option, month=month)
        if total is not None:
            self.values.set(element.slug, total, option=option)


def read_xlsx(content: bytes, *, filename: str, service, quarter: FinancialQuarter) -> ValueSet:
    """The figures in a filled-in XLSX template. Raises ImportFailed naming every problem."""
    try:
        wb = load_workbook(io.BytesIO(content), data_only=True, read_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise ImportFailed([ImportProblem(filename, "-", "-", f"is not an Excel workbook (.xlsx): {exc.__class__.__name__}")]) from exc
    if SHEET not in wb.sheetnames or ABOUT not in wb.sheetnames:
        raise ImportFailed([ImportProblem(filename, "-", "-", f"is not a Saferhub return template: it needs the sheets '{SHEET}' and '{ABOUT}'. Download the template for this service and quarter.")])
    about = {str(r[0]).strip(): str(r[1]).strip() for r in wb[ABOUT].iter_rows(values_only=True) if r and r[0] is not None and len(r) > 1}
    reader = _Reader(filename, service, quarter, sheet=SHEET)
    if about.get("template") != TEMPLATE_VERSION:
        reader.problems.append(ImportProblem(filename, 1, "template", "is not a Saferhub return template", sheet=ABOUT))
    if about.get("service") != service.slug:
        reader.problems.append(ImportProblem(filename, 2, "service", f"this template is for '{about.get('service')}', not {service.name} ('{service.slug}'): download the right template", sheet=ABOUT))
    if about.get("quarter") != quarter.key:
        reader.problems.append(ImportProblem(filename, 3, "quarter", f"this template is for {about.get('quarter')}, not {quarter.key}", sheet=ABOUT))
    if reader.problems:
        raise ImportFailed(reader.problems)
    rows = wb[SHEET].iter_rows(min_row=HEADER_ROW, values_only=True)
    headers = [str(h) if h is not None else "" for h in next(rows, [])]
    expected = _columns(quarter)
    if headers[: len(expected)] != expected:
        raise ImportFailed([ImportProblem(filename, HEADER_ROW, "header", f"the columns should be: {', '.join(expected)}", sheet=SHEET)])
    column_names = [expected[0], expected[3], *expected[4:]]
    for row_no, row in enumerate(rows, start=HEADER_ROW + 1):
        row = list(row) + [None] * (8 - len(row))
        reader.row(row_no, _text(row[0]), _text(row[2]), row[4:7], row[7], column_names)
    if reader.problems:
        raise ImportFailed(reader.problems)
    return reader.values


def read_csv(text: str, *, filename: str, service, quarter: FinancialQuarter) -> ValueSet:
    rows = list(csv.reader(io.StringIO(text)))
    expected = ["service", "quarter", *_columns(quarter)]
    if not rows or [h.strip() for h in rows[0][: len(expected)]] != expected:
        raise ImportFailed([ImportProblem(filename, 1, "header", f"is not a Saferhub return template for {quarter.label}: the columns should be: {', '.join(expected)}")])
    reader = _Reader(filename, service, quarter)
    column_names = [expected[2], expected[5], *expected[6:]]
    for row_no, row in enumerate(rows[1:], start=2):
        row = row + [""] * (10 - len(row))
        if not any(cell.strip() for cell in row):
            continue
        if row[0].strip() != service.slug:
            reader.problem(row_no, "service", f"this row is for '{row[0]}', not {service.name} ('{service.slug}')")
            continue
        if row[1].strip() != quarter.key:
            reader.problem(row_no, "quarter", f"this row is for {row[1]}, not {quarter.key}")
            continue
        reader.row(row_no, row[2], row[4], row[6:9], row[9], column_names)
    if reader.problems:
        raise ImportFailed(reader.problems)
    return reader.values


def _text(value) -> str:
    return "" if value is None else str(value).strip()
