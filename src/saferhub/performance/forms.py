"""Forms for data returns: the figures typed into the web form, an uploaded template, and the reason
for reopening a return. Each checks what was typed or sent; the services decide what may be saved."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError

from saferhub.core.importing import ImportFailed
from saferhub.performance.periods import FinancialQuarter, month_label
from saferhub.performance.return_display import FigureRow, plain, problem_text
from saferhub.performance.returns_file import read_csv, read_xlsx
from saferhub.performance.validation import ValueSet
from saferhub.strategy.forms import GovukForm

# A filled-in template is a few kilobytes; anything far bigger is not one.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class FigureField(forms.CharField):
    """One figure: empty (not known) or a number of 0 or more. Commas are allowed, as people type
    1,627; the message names the figure because the form has dozens of boxes."""

    def __init__(self, *, figure_label: str, **kwargs):
        super().__init__(required=False, strip=True, **kwargs)
        self.figure_label = figure_label

    def to_python(self, value):
        text = super().to_python(value).replace(",", "")
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number < 0:
            raise ValidationError(f"Enter a number of 0 or more for {self.figure_label}", code="invalid")
        return float(number)

    def validate(self, value):
        pass

    def run_validators(self, value):
        pass


class ReturnFiguresForm(GovukForm):
    """A box for every figure the service's template asks for, named like `enquiries.2023-11`."""

    def __init__(self, data=None, *, rows: list[FigureRow], quarter: FinancialQuarter):
        super().__init__(data)
        self.rows, self.quarter = rows, quarter
        for row in rows:
            for cell in row.cells:
                if cell.asked:
                    self.fields[cell.key] = FigureField(figure_label=cell.label, initial=plain(cell.value))

    def clean(self):
        cleaned = super().clean()
        for row in self.rows:
            if not row.months_asked:
                continue
            months = [c for c in row.cells if c.month]
            total = next(c for c in row.cells if c.month is None)
            if any(c.key in self.errors for c in row.cells):
                continue
            given = [cleaned.get(c.key) is not None for c in months]
            if any(given) and not all(given):
                for cell, present in zip(months, given):
                    if not present:
                        self.add_error(cell.key, f"Enter a number for {cell.label}: {row.element.name} is reported monthly")
            elif not any(given) and cleaned.get(total.key) is not None:
                self.add_error(months[0].key, f"Enter each month of {self.quarter.label} for {row.element.name}: "
                               f"it is reported monthly, starting with {month_label(months[0].month)}")
        return cleaned

    def values(self) -> ValueSet:
        values = ValueSet(self.quarter)
        for row in self.rows:
            for cell in row.cells:
                number = self.cleaned_data.get(cell.key) if cell.asked else None
                if number is not None:
                    values.set(row.element.slug, number, option=row.option_code or None, month=cell.month)
        return values


class ReturnUploadForm(GovukForm):
    """A completed XLSX or CSV template. Cleaning reads it, so a bad file fails here naming every
    problem by sheet, row and column, and nothing reaches the services."""

    file = forms.FileField(error_messages={
        "required": "Select a completed template",
        "empty": "The selected file is empty",
        "invalid": "Select a completed template",
        "missing": "Select a completed template",
    })

    def __init__(self, data=None, files=None, *, service=None, quarter: FinancialQuarter | None = None):
        super().__init__(data, files)
        self.service, self.quarter = service, quarter

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name or ""
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension not in ("xlsx", "csv"):
            raise ValidationError("The selected file must be an XLSX or CSV file made from the template")
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError("The selected file must be smaller than 5MB")
        content = upload.read()
        try:
            if extension == "xlsx":
                values = read_xlsx(content, filename=name, service=self.service, quarter=self.quarter)
            else:
                try:
                    text = content.decode("utf-8-sig")
                except UnicodeDecodeError:
                    raise ValidationError("The selected file must be a CSV file saved as UTF-8 text") from None
                values = read_csv(text, filename=name, service=self.service, quarter=self.quarter)
        except ImportFailed as failed:
            raise ValidationError([problem_text(p) for p in failed.problems]) from None
        self.cleaned_data["values"] = values
        return upload

    def error_summary(self) -> list[dict]:
        # Every problem in the file, not just the first: fixing one at a time would take many uploads.
        summary = [{"text": message, "href": "#file"} for message in self.non_field_errors()]
        return summary + [{"text": message, "href": "#file"} for message in self.errors.get("file", [])]

    def error_message(self, name: str) -> dict | None:
        messages = self.errors.get(name)
        if not messages:
            return None
        if len(messages) == 1:
            return {"text": messages[0]}
        return {"text": f"The selected file has {len(messages)} problems, listed at the top of the page; nothing was saved"}


class ReopenForm(GovukForm):
    reason = forms.CharField(max_length=1000, error_messages={
        "required": "Say why the return is being reopened",
        "max_length": "The reason must be 1,000 characters or fewer",
    })
