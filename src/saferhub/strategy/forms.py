"""Forms for recording progress and editing actions and items: Django validates what was typed,
the templates render it with the GOV.UK Frontend macros (error summary, inline errors, date inputs)."""
import datetime as dt

from django import forms
from django.core.exceptions import ValidationError

from saferhub.partners.models import GovernanceBody, Organisation
from saferhub.strategy.models import Action, ActionStatus, Rag, ReportingPeriod, Strategy, StrategyItem

DATE_PARTS = ("day", "month", "year")
# Radios must offer a real choice for "not set", so it travels as its own value.
RAG_NOT_SET = "not_set"
RAG_CHOICES = [(Rag.RED.value, "Red"), (Rag.AMBER.value, "Amber"), (Rag.GREEN.value, "Green"), (RAG_NOT_SET, "Not set")]
NEW_PERIOD = "new"


def rag_from_form(value: str) -> str:
    return "" if value == RAG_NOT_SET else value


def rag_to_form(value: str) -> str:
    return value or RAG_NOT_SET


class GovukDateWidget(forms.MultiWidget):
    """Three boxes named like GOV.UK's date input: `<name>-day`, `<name>-month`, `<name>-year`."""

    def __init__(self, attrs=None):
        super().__init__([forms.TextInput(), forms.TextInput(), forms.TextInput()], attrs)
        self.widgets_names = [f"-{part}" for part in DATE_PARTS]

    def decompress(self, value):
        if isinstance(value, dt.date):
            return [str(value.day), str(value.month), str(value.year)]
        return ["", "", ""]


class GovukDateField(forms.Field):
    """A date typed as day, month and year, with the GOV.UK error messages for dates.
    `noun` names the date in messages: 'start date' gives 'Enter a real start date'."""

    widget = GovukDateWidget

    def __init__(self, *, noun: str, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.noun = noun
        # Which box the error summary should link to; set while cleaning.
        self.error_part = "day"

    def clean(self, value):
        parts = [str(v).strip() if v is not None else "" for v in (value or ["", "", ""])]
        parts += [""] * (3 - len(parts))
        day, month, year = parts[:3]
        self.error_part = "day"
        if not any(parts):
            if self.required:
                raise ValidationError(f"Enter the {self.noun}", code="required")
            return None
        missing = [name for name, text in zip(DATE_PARTS, (day, month, year)) if not text]
        if missing:
            self.error_part = missing[0]
            raise ValidationError(f"The {self.noun} must include a {' and a '.join(missing)}", code="incomplete")
        if not (day.isdigit() and month.isdigit() and year.isdigit()):
            raise ValidationError(f"Enter a real {self.noun}", code="invalid")
        if len(year) != 4:
            self.error_part = "year"
            raise ValidationError(f"The year of the {self.noun} must include 4 numbers", code="year")
        try:
            return dt.date(int(year), int(month), int(day))
        except (ValueError, OverflowError):  # a day or month of 20 digits overflows instead
            raise ValidationError(f"Enter a real {self.noun}", code="invalid") from None


class GovukForm(forms.Form):
    """What the GOV.UK macros need from a form: error messages, summary links and values.
    Every control's id is its field's name (a date's boxes `<name>-day` …), so links match."""

    def anchor(self, name: str | None) -> str:
        if name is None or name not in self.fields:
            name = next(iter(self.fields))
        field = self.fields[name]
        if isinstance(field, GovukDateField):
            return f"{name}-{field.error_part}"
        return name

    def error_summary(self) -> list[dict]:
        summary = [{"text": message, "href": "#" + self.anchor(None)} for message in self.non_field_errors()]
        for name in self.fields:
            if self.errors.get(name):
                summary.append({"text": self.errors[name][0], "href": "#" + self.anchor(name)})
        return summary

    def error_message(self, name: str) -> dict | None:
        messages = self.errors.get(name)
        return {"text": messages[0]} if messages else None

    def value(self, name: str) -> str:
        value = self[name].value()
        if value is None:
            return ""
        if isinstance(value, (Organisation, GovernanceBody, StrategyItem, ReportingPeriod)):
            return str(value.pk)
        return str(value)

    def values(self, name: str) -> list[str]:
        return [str(v.pk) if hasattr(v, "pk") else str(v) for v in (self[name].value() or [])]

    def date_items(self, name: str) -> list[dict]:
        field = self.fields[name]
        value = self[name].value()
        parts = field.widget.decompress(value) if not isinstance(value, (list, tuple)) else list(value)
        has_error = name in self.errors
        items = []
        for part, text in zip(DATE_PARTS, parts):
            width = "govuk-input--width-4" if part == "year" else "govuk-input--width-2"
            error = " govuk-input--error" if has_error and (field.error_part == part or field.error_part == "day") else ""
            items.append({"name": part, "value": text or "", "classes": width + error})
        return items

    def choice_items(self, name: str) -> list[dict]:
        return [{"value": str(value), "text": str(text)} for value, text in self.fields[name].choices if value != ""]

    def add_service_errors(self, error: ValidationError, field_names: dict[str, str] | None = None) -> None:
        """Show a service's ValidationError against the fields it concerns."""
        field_names = field_names or {}
        if not hasattr(error, "error_dict"):
            for message in error.messages:
                self.add_error(None, message)
            return
        for key, messages in error.message_dict.items():
            name = field_names.get(key, key)
            self.add_error(name if name in self.fields else None, messages)


def _period_text(period: ReportingPeriod) -> str:
    return f"{period.label} ({period.start.day} {period.start:%B %Y} to {period.end.day} {period.end:%B %Y})"


class ProgressForm(GovukForm):
    period = forms.ChoiceField(error_messages={
        "required": "Select a reporting period",
        "invalid_choice": "Select a reporting period from the list",
    })
    period_label = forms.CharField(required=False, max_length=60, error_messages={
        "max_length": "The name of the reporting period must be 60 characters or fewer",
    })
    period_start = GovukDateField(noun="start date")
    period_end = GovukDateField(noun="end date")
    actions_taken = forms.CharField(required=False, widget=forms.Textarea)
    next_steps = forms.CharField(required=False, widget=forms.Textarea)
    status = forms.ChoiceField(choices=ActionStatus.choices, error_messages={
        "required": "Select a status", "invalid_choice": "Select a status",
    })
    rag = forms.ChoiceField(choices=RAG_CHOICES, error_messages={
        "required": "Select a RAG rating", "invalid_choice": "Select a RAG rating",
    })

    def __init__(self, *args, periods: list[ReportingPeriod], recorded_period_ids: set[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.periods = {str(p.pk): p for p in periods}
        choices = []
        for period in periods:
            text = _period_text(period)
            if period.pk in recorded_period_ids:
                text += " – progress already recorded, saving revises it"
            choices.append((str(period.pk), text))
        choices.append((NEW_PERIOD, "A new reporting period"))
        self.fields["period"].choices = choices

    def clean(self):
        cleaned = super().clean()
        choice = cleaned.get("period")
        label = (cleaned.get("period_label") or "").strip()
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        new_given = bool(label) or any(n in self.errors or cleaned.get(n) for n in ("period_start", "period_end"))
        if choice == NEW_PERIOD:
            if not label and "period_label" not in self.errors:
                self.add_error("period_label", "Enter a name for the new reporting period")
            if start is None and "period_start" not in self.errors:
                self.add_error("period_start", "Enter the start date")
            if end is None and "period_end" not in self.errors:
                self.add_error("period_end", "Enter the end date")
            if start and end and end < start:
                self.add_error("period_end", "The end date must be on or after the start date")
        elif choice and new_given:
            self.add_error("period", "Select ‘A new reporting period’ to add the period you entered, "
                                     "or clear the new period's name and dates")
        if not (cleaned.get("actions_taken") or "").strip() and not (cleaned.get("next_steps") or "").strip():
            self.add_error("actions_taken", "Enter the actions taken in the period, or the next steps")
        cleaned["period_label"] = label
        return cleaned

    @property
    def chosen_period(self) -> ReportingPeriod | None:
        """The existing period chosen (None for a new one)."""
        return self.periods.get(self.cleaned_data.get("period"))


class ActionForm(GovukForm):
    title = forms.CharField(max_length=300, error_messages={
        "required": "Enter a title", "max_length": "The title must be 300 characters or fewer",
    })
    reference = forms.CharField(required=False, max_length=40, error_messages={
        "max_length": "The reference must be 40 characters or fewer",
    })
    description = forms.CharField(required=False, widget=forms.Textarea)
    lead_organisations = forms.ModelMultipleChoiceField(queryset=Organisation.objects.none(), error_messages={
        "required": "Select at least one lead organisation",
        "invalid_choice": "Select lead organisations from the list",
        "invalid_pk_value": "Select lead organisations from the list",
    })
    supporting_organisations = forms.ModelMultipleChoiceField(
        queryset=Organisation.objects.none(), required=False, error_messages={
            "invalid_choice": "Select supporting organisations from the list",
            "invalid_pk_value": "Select supporting organisations from the list",
        })
    governance_body = forms.ModelChoiceField(
        queryset=GovernanceBody.objects.all(), required=False, empty_label="None",
        error_messages={"invalid_choice": "Select a governance body from the list"},
    )
    start_date = GovukDateField(noun="start date")
    due_date = GovukDateField(noun="due date")
    timescale = forms.CharField(required=False, max_length=120, error_messages={
        "max_length": "The timescale must be 120 characters or fewer",
    })
    status = forms.ChoiceField(choices=ActionStatus.choices, error_messages={
        "required": "Select a status", "invalid_choice": "Select a status",
    })
    rag = forms.ChoiceField(choices=RAG_CHOICES, error_messages={
        "required": "Select a RAG rating", "invalid_choice": "Select a RAG rating",
    })
    outcome_measures = forms.CharField(required=False, widget=forms.Textarea)

    def __init__(self, *args, action: Action | None = None, **kwargs):
        if action is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": action.title, "reference": action.reference, "description": action.description,
                "lead_organisations": list(action.lead_organisations.all()),
                "supporting_organisations": list(action.supporting_organisations.all()),
                "governance_body": action.governance_body, "start_date": action.start_date,
                "due_date": action.due_date, "timescale": action.timescale, "status": action.status,
                "rag": rag_to_form(action.rag), "outcome_measures": action.outcome_measures,
            }
        kwargs.setdefault("initial", {"status": ActionStatus.NOT_STARTED, "rag": RAG_NOT_SET})
        super().__init__(*args, **kwargs)
        # Organisations no longer active stay offered to the actions they are already on.
        current = set()
        if action is not None:
            current = {o.pk for o in action.lead_organisations.all()} | {o.pk for o in action.supporting_organisations.all()}
        organisations = Organisation.objects.filter(active=True) | Organisation.objects.filter(pk__in=current)
        organisations = organisations.distinct().order_by("name")
        self.fields["lead_organisations"].queryset = organisations
        self.fields["supporting_organisations"].queryset = organisations

    def clean(self):
        cleaned = super().clean()
        start, due = cleaned.get("start_date"), cleaned.get("due_date")
        if start and due and due < start:
            self.add_error("due_date", "The due date must be on or after the start date")
        return cleaned

    def organisation_items(self) -> list[dict]:
        return [{"value": str(o.pk), "text": o.name} for o in self.fields["lead_organisations"].queryset]

    def governance_body_items(self) -> list[dict]:
        selected = self.value("governance_body")
        items = [{"value": "", "text": "None", "selected": not selected}]
        items += [{"value": str(b.pk), "text": b.name, "selected": str(b.pk) == selected}
                  for b in self.fields["governance_body"].queryset]
        return items

    def service_values(self) -> dict:
        data = dict(self.cleaned_data)
        data["rag"] = rag_from_form(data["rag"])
        data["lead_organisations"] = list(data["lead_organisations"])
        data["supporting_organisations"] = list(data["supporting_organisations"])
        return data


class ItemForm(GovukForm):
    parent = forms.ModelChoiceField(queryset=StrategyItem.objects.none(), required=False, error_messages={
        "invalid_choice": "Select a parent item from the list",
    })
    code = forms.CharField(required=False, max_length=40, error_messages={
        "max_length": "The code must be 40 characters or fewer",
    })
    title = forms.CharField(widget=forms.Textarea, error_messages={"required": "Enter a title"})
    short_title = forms.CharField(required=False, max_length=200, error_messages={
        "max_length": "The short title must be 200 characters or fewer",
    })
    description = forms.CharField(required=False, widget=forms.Textarea)
    position = forms.IntegerField(required=False, min_value=1, max_value=9999, error_messages={
        "invalid": "The position must be a whole number, like 2",
        "min_value": "The position must be 1 or more",
        "max_value": "The position must be 9999 or less",
    })

    def __init__(self, *args, strategy: Strategy, item: StrategyItem | None = None, **kwargs):
        if item is not None and "initial" not in kwargs:
            kwargs["initial"] = {"parent": item.parent, "code": item.code, "title": item.title,
                                 "short_title": item.short_title, "description": item.description}
        super().__init__(*args, **kwargs)
        self.strategy = strategy
        parents = StrategyItem.objects.filter(strategy=strategy).select_related("strategy").order_by("path")
        if item is not None:
            # An item cannot go under itself or anything beneath it.
            parents = parents.exclude(pk=item.pk).exclude(path__startswith=item.path + ".")
        self.fields["parent"].queryset = parents

    def parent_items(self) -> list[dict]:
        selected = self.value("parent")
        top = self.strategy.level_name(0)
        items = [{"value": "", "text": f"None: it is a top-level {top.lower()}", "selected": not selected}]
        for candidate in self.fields["parent"].queryset:
            wording = candidate.short_title or candidate.title
            if len(wording) > 70:
                wording = wording[:69].rstrip() + "…"
            prefix = "– " * candidate.depth
            name = f"{candidate.level_name} {candidate.code}" if candidate.code and not candidate.code.startswith(
                candidate.level_name) else (candidate.code or candidate.level_name)
            items.append({"value": str(candidate.pk), "text": f"{prefix}{name}: {wording}",
                          "selected": str(candidate.pk) == selected})
        return items
