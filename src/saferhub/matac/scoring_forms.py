"""Forms of the MATAC scoring pages: extract upload, a scoring run, a person's score and a new
scheme version. Checks of meaning (dates in range, scheme parameters) live in the services."""
from __future__ import annotations

import json

from django import forms

from saferhub.matac.engines import ENGINES
from saferhub.matac.models import ScoringScheme
from saferhub.strategy.forms import GovukDateField, GovukForm

MAX_UPLOAD_BYTES = 2 * 1024 ** 3


class ExtractUploadForm(GovukForm):
    extract = forms.FileField(error_messages={"required": "Select a police extract file (CSV or Parquet)",
                                              "empty": "The selected file is empty"})

    def clean_extract(self):
        upload = self.cleaned_data["extract"]
        name = (upload.name or "").lower()
        if not name.endswith((".csv", ".parquet", ".pq")):
            raise forms.ValidationError("The selected file must be a CSV or Parquet file")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The selected file must be smaller than 2 GB; use `saferhub matac import` for larger ones")
        return upload


def _scheme_choices():
    return [(str(s.pk), f"{s.label}{' (default)' if s.is_default else ''}") for s in ScoringScheme.objects.order_by("name", "-version")]


class RunForm(GovukForm):
    reference_date = GovukDateField(noun="reference date", required=True)
    top = forms.IntegerField(min_value=1, max_value=100000, error_messages={
        "required": "Enter how many perpetrators to list", "invalid": "How many to list must be a whole number",
        "min_value": "How many to list must be 1 or more", "max_value": "How many to list must be 100,000 or fewer"})
    scheme = forms.ChoiceField(error_messages={"required": "Select a scoring scheme", "invalid_choice": "Select a scoring scheme from the list"})
    engine = forms.ChoiceField(choices=[(e, e) for e in ENGINES], error_messages={
        "required": "Select an engine", "invalid_choice": "Select DuckDB or Spark"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scheme"].choices = _scheme_choices()

    def scheme_items(self) -> list[dict]:
        chosen = self.value("scheme")
        return [{"value": v, "text": t, "selected": v == chosen} for v, t in self.fields["scheme"].choices]

    def engine_items(self) -> list[dict]:
        labels = {"duckdb": "DuckDB (this server)", "spark": "Apache Spark"}
        return [{"value": e, "text": labels[e]} for e in ENGINES]


class PersonScoreForm(GovukForm):
    perpetrator_id = forms.CharField(max_length=64, strip=True, error_messages={
        "required": "Enter the police nominal id of the person", "max_length": "A police nominal id has 64 characters or fewer"})
    reference_date = GovukDateField(noun="reference date", required=True)
    scheme = forms.ChoiceField(error_messages={"required": "Select a scoring scheme", "invalid_choice": "Select a scoring scheme from the list"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scheme"].choices = _scheme_choices()

    def scheme_items(self) -> list[dict]:
        chosen = self.value("scheme")
        return [{"value": v, "text": t, "selected": v == chosen} for v, t in self.fields["scheme"].choices]


class SchemeVersionForm(GovukForm):
    parameters = forms.CharField(error_messages={"required": "Enter the scheme parameters as JSON"})
    note = forms.CharField(max_length=500, error_messages={
        "required": "Enter why this version is being made", "max_length": "The reason must be 500 characters or fewer"})
    make_default = forms.BooleanField(required=False)

    def clean_parameters(self):
        text = self.cleaned_data["parameters"]
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"The parameters are not valid JSON (line {exc.lineno}, column {exc.colno})")
        if not isinstance(value, dict):
            raise forms.ValidationError("The parameters must be a JSON object")
        return value
