"""Forms of MATAC casework: Django checks what was typed, the templates render it with the GOV.UK
macros, and the rules about what may be recorded live in matac.casework_services."""
from __future__ import annotations

from django import forms

from saferhub.matac.models import Decision, ExitReason, Intervention, MatacActionStatus, Pathway, RiskView
from saferhub.strategy.forms import GovukDateField, GovukForm

NOMINAL_MAX = 60
TEXT_MAX = 5000


def _text(max_length: int, noun: str, required_message: str | None = None) -> forms.CharField:
    messages = {"max_length": f"{noun} must be {max_length:,} characters or fewer",
                "null_characters_not_allowed": f"{noun} must not include null characters"}
    if required_message:
        messages["required"] = required_message
    return forms.CharField(max_length=max_length, required=bool(required_message), error_messages=messages, strip=True)


def _choice(choices, message: str, required: bool = True) -> forms.ChoiceField:
    return forms.ChoiceField(choices=choices, required=required,
                             error_messages={"required": message, "invalid_choice": message})


def _whole(noun: str, minimum: int, maximum: int, required: bool = True) -> forms.IntegerField:
    return forms.IntegerField(min_value=minimum, max_value=maximum, required=required, error_messages={
        "required": f"Enter the {noun}", "invalid": f"The {noun} must be a whole number",
        "min_value": f"The {noun} must be {minimum} or more", "max_value": f"The {noun} must be {maximum:,} or fewer"})


class CaseworkForm(GovukForm):
    """Select lists built from (value, text) pairs the view passes in."""

    def __init__(self, *args, options: dict[str, list[tuple[str, str]]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.options = options or {}
        for name, pairs in self.options.items():
            field = self.fields[name]
            field.choices = [("", ""), *pairs]

    def select_items(self, name: str, prompt: str) -> list[dict]:
        chosen = self.value(name)
        items = [{"value": "", "text": prompt, "selected": not chosen}]
        return items + [{"value": v, "text": t, "selected": v == chosen} for v, t in self.options.get(name, [])]

    def radio_items(self, name: str) -> list[dict]:
        return [{"value": str(v), "text": str(t)} for v, t in self.fields[name].choices if v != ""]


class NomineeFields(CaseworkForm):
    first_name = _text(100, "The first name")
    last_name = _text(100, "The last name")
    date_of_birth = GovukDateField(noun="date of birth")
    meeting = _choice([], "Select a meeting from the list", required=False)


class RankedNominationForm(NomineeFields):
    run = _choice([], "Select the ranked list")
    rank = _whole("place on the list", 1, 10_000_000)

    field_order = ["run", "rank", "first_name", "last_name", "date_of_birth", "meeting"]


class ReferralNominationForm(NomineeFields):
    perpetrator_id = _text(NOMINAL_MAX, "The police nominal id", "Enter the police nominal id")
    reasons = _text(TEXT_MAX, "The reasons", "Say why your agency is referring this person")
    reference_date = GovukDateField(noun="date to score at")

    field_order = ["perpetrator_id", "reasons", "reference_date", "first_name", "last_name", "date_of_birth", "meeting"]


class DecisionForm(CaseworkForm):
    meeting = _choice([], "Select the meeting that made the decision")
    decision = _choice(Decision.choices, "Select adopt, do not adopt or defer")
    reason = _text(TEXT_MAX, "The reason")
    lead_agency = _choice([], "Select the lead agency from the list", required=False)


class ActionForm(CaseworkForm):
    intervention = _choice(Intervention.choices, "Select the type of intervention")
    pathway = _choice(Pathway.choices, "Select the criminogenic pathway")
    agency = _choice([], "Select the agency")
    owner = _choice([], "Select a member of staff from the list", required=False)
    description = _text(TEXT_MAX, "The description", "Describe the action")
    deadline = GovukDateField(noun="deadline", required=True)


class ActionUpdateForm(CaseworkForm):
    status = _choice(MatacActionStatus.choices, "Select the action's status")
    outcome = _text(TEXT_MAX, "The outcome")
    deadline = GovukDateField(noun="deadline", required=True)


class ReviewForm(CaseworkForm):
    reviewed_on = GovukDateField(noun="date of the review", required=True)
    risk_view = _choice(RiskView.choices, "Select the panel's view of the risk")
    notes = _text(TEXT_MAX, "The notes", "Enter the review notes")
    meeting = _choice([], "Select a meeting from the list", required=False)


class ExitForm(CaseworkForm):
    exited_on = GovukDateField(noun="date of exit", required=True)
    reason = _choice(ExitReason.choices, "Select the reason for exit")
    other_reason = _text(TEXT_MAX, "The other reason")


class ScheduleForm(CaseworkForm):
    count = _whole("number of meetings", 1, 26)


class CohortForm(CaseworkForm):
    start = GovukDateField(noun="start of the adoption period", required=True)
    end = GovukDateField(noun="end of the adoption period", required=True)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The end of the adoption period must be on or after its start")
        return data
