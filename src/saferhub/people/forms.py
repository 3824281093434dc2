"""Forms for the people register and cases: Django validates what was typed, the templates render it
with the GOV.UK Frontend macros. Rules about who may do what live in people.services."""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict

from saferhub.people.models import IDENTIFIER_KINDS, CaseKind, LawfulBasis, ParticipantRole, Person
from saferhub.people.vocabulary import (
    CHARACTERISTICS, NOT_RECORDED, characteristic_label, nhs_number_valid, postcode_normalise, pupil_number_valid,
)
from saferhub.strategy.forms import GovukDateField, GovukForm

MAX_ROWS = 10
IDENTIFIER_FIELDS = [k.value for k in IDENTIFIER_KINDS]
IDENTIFIER_CHOICES = [(k.value, k.label) for k in IDENTIFIER_KINDS]
ADDRESS_PARTS = ("line1", "line2", "town", "postcode")


def _text(max_length: int, required_message: str | None = None, noun: str = "This", **kwargs) -> forms.CharField:
    messages = {"max_length": f"{noun} must be {max_length} characters or fewer",
                "null_characters_not_allowed": f"{noun} must not include null characters"}
    if required_message:
        messages["required"] = required_message
    return forms.CharField(max_length=max_length, required=bool(required_message), error_messages=messages, **kwargs)


def _basis_field(required_message: str) -> forms.ChoiceField:
    return forms.ChoiceField(choices=LawfulBasis.choices, error_messages={
        "required": required_message, "invalid_choice": required_message})


def lawful_basis_purpose(basis: str, purpose: str) -> str:
    """How a lawful basis and a stated purpose are written into the audit trail."""
    return f"{LawfulBasis(basis).label}: {purpose.strip()}"


def _address_parts(address: dict) -> dict:
    """A stored address as the form's boxes: first line, the middle lines, town (the last line)."""
    lines = [line for line in address.get("lines", []) if line]
    return {
        "line1": lines[0] if lines else "",
        "line2": ", ".join(lines[1:-1]) if len(lines) > 2 else "",
        "town": lines[-1] if len(lines) > 1 else "",
        "postcode": address.get("postcode", ""),
    }


# Finding a person --------------------------------------------------------------------------------

class PersonSearchForm(GovukForm):
    first_name = _text(100, noun="The first name")
    last_name = _text(100, noun="The last name")
    date_of_birth = GovukDateField(noun="date of birth")
    identifier_kind = forms.ChoiceField(choices=[("", "Choose a kind of identifier"), *IDENTIFIER_CHOICES], required=False,
                                        error_messages={"invalid_choice": "Select a kind of identifier from the list"})
    identifier = _text(40, noun="The identifier")

    def clean(self):
        data = super().clean()
        by_name = any(data.get(f) for f in ("first_name", "last_name", "date_of_birth")) or "date_of_birth" in self.errors
        by_identifier = bool(data.get("identifier_kind") or (data.get("identifier") or "").strip())
        if not by_name and not by_identifier:
            self.add_error("first_name", "Enter a first name, last name and date of birth, or an identifier")
            return data
        if by_name:
            if not (data.get("first_name") or "").strip():
                self.add_error("first_name", "Enter a first name")
            if not (data.get("last_name") or "").strip():
                self.add_error("last_name", "Enter a last name")
            if data.get("date_of_birth") is None and "date_of_birth" not in self.errors:
                self.add_error("date_of_birth", "Enter a date of birth")
        if by_identifier:
            if not data.get("identifier_kind") and "identifier_kind" not in self.errors:
                self.add_error("identifier_kind", "Select the kind of identifier")
            if not (data.get("identifier") or "").strip():
                self.add_error("identifier", "Enter the identifier")
        return data

    def search_values(self) -> dict:
        data = self.cleaned_data
        return {"first_name": data.get("first_name") or "", "last_name": data.get("last_name") or "",
                "date_of_birth": data.get("date_of_birth"), "identifier_kind": data.get("identifier_kind") or "",
                "identifier": data.get("identifier") or ""}

    def identifier_kind_items(self) -> list[dict]:
        chosen = self.value("identifier_kind")
        return [{"value": v, "text": t, "selected": v == chosen} for v, t in self.fields["identifier_kind"].choices]


# Registering and editing a person ----------------------------------------------------------------

class PersonForm(GovukForm):
    """A person's record. Aliases and addresses are rows; 'Add another' buttons post the form back
    with one more empty row (no script needed), and an emptied row is removed on saving."""

    first_name = _text(100, "Enter the person's first name", noun="The first name")
    last_name = _text(100, "Enter the person's last name", noun="The last name")
    date_of_birth = GovukDateField(noun="date of birth")
    gender = forms.ChoiceField(required=False)
    ethnicity = forms.ChoiceField(required=False)
    disability = forms.ChoiceField(required=False)
    sexuality = forms.ChoiceField(required=False)
    police_nominal = _text(40, noun="The police nominal id")
    nhs_number = _text(20, noun="The NHS number")
    pupil_number = _text(20, noun="The unique pupil number")
    lawful_basis = _basis_field("Select the lawful basis for recording this information")
    purpose = _text(200, "Enter why you are recording this information", noun="The purpose")

    def __init__(self, data=None, *, person: Person | None = None, identifiers: dict[str, str] | None = None):
        initial = {}
        aliases, addresses = [], []
        if person is not None:
            initial = {name: getattr(person, name) for name in ("first_name", "last_name", "date_of_birth", *CHARACTERISTICS)}
            initial.update(identifiers or {})
            aliases, addresses = list(person.aliases or []), list(person.addresses or [])
        super().__init__(data, initial=initial)
        self.adding = data is not None and ("add_alias" in data or "add_address" in data)
        for name, answers in CHARACTERISTICS.items():
            choices = [("", NOT_RECORDED), *answers]
            current = initial.get(name) or ""
            if current and current not in dict(answers):
                choices.append((current, characteristic_label(name, current)))
            self.fields[name].choices = choices
        self.alias_count = self._rows(data, "alias", len(aliases))
        self.address_count = self._rows(data, "address", len(addresses))
        for i in range(self.alias_count):
            alias = aliases[i] if i < len(aliases) else {}
            for part in ("first_name", "last_name"):
                self.fields[f"alias-{i}-{part}"] = _text(100, noun="The alias")
                self.initial[f"alias-{i}-{part}"] = alias.get(part, "")
        for i in range(self.address_count):
            values = _address_parts(addresses[i] if i < len(addresses) else {})
            for part in ADDRESS_PARTS:
                self.fields[f"address-{i}-{part}"] = _text(10 if part == "postcode" else 120, noun="This part of the address")
                self.initial[f"address-{i}-{part}"] = values[part]
        rows = [f"alias-{i}-{p}" for i in range(self.alias_count) for p in ("first_name", "last_name")]
        rows += [f"address-{i}-{p}" for i in range(self.address_count) for p in ADDRESS_PARTS]
        self.order_fields(["first_name", "last_name", *rows[:2 * self.alias_count], "date_of_birth", *CHARACTERISTICS,
                           *rows[2 * self.alias_count:], *IDENTIFIER_FIELDS, "lawful_basis", "purpose"])

    @staticmethod
    def _rows(data, kind: str, existing: int) -> int:
        if data is None:
            return min(max(existing, 1), MAX_ROWS)
        try:
            count = int(data.get(f"{kind}_count") or 1)
        except ValueError:
            count = 1
        if f"add_{kind}" in data:
            count += 1
        return min(max(count, 1), MAX_ROWS)

    def full_clean(self):
        # A request for another row is not a submission: nothing is checked or saved yet.
        if self.adding:
            self._errors, self.cleaned_data = ErrorDict(), {}
            return
        super().full_clean()

    def clean(self):
        data = super().clean()
        nhs = (data.get("nhs_number") or "").strip()
        if nhs and not nhs_number_valid(nhs):
            self.add_error("nhs_number", "Enter a real NHS number, 10 digits like 999 000 0018")
        upn = (data.get("pupil_number") or "").strip()
        if upn and not pupil_number_valid(upn):
            self.add_error("pupil_number", "Enter a real unique pupil number: a letter then 12 letters or numbers")
        for i in range(self.alias_count):
            first, last = (data.get(f"alias-{i}-first_name") or "").strip(), (data.get(f"alias-{i}-last_name") or "").strip()
            if first and not last:
                self.add_error(f"alias-{i}-last_name", f"Enter the last name of alias {i + 1}")
            if last and not first:
                self.add_error(f"alias-{i}-first_name", f"Enter the first name of alias {i + 1}")
        for i in range(self.address_count):
            parts = {p: (data.get(f"address-{i}-{p}") or "").strip() for p in ADDRESS_PARTS}
            if any(parts.values()) and not parts["line1"]:
                self.add_error(f"address-{i}-line1", f"Enter the first line of address {i + 1}")
            if parts["postcode"] and not postcode_normalise(parts["postcode"]):
                self.add_error(f"address-{i}-postcode", f"Enter a real postcode for address {i + 1}, like YO1 7HH")
        return data

    def alias_rows(self) -> list[dict]:
        return [{"number": i + 1, "first_name": f"alias-{i}-first_name", "last_name": f"alias-{i}-last_name"}
                for i in range(self.alias_count)]

    def address_rows(self) -> list[dict]:
        return [{"number": i + 1, **{part: f"address-{i}-{part}" for part in ADDRESS_PARTS}} for i in range(self.address_count)]

    def choice_select_items(self, name: str) -> list[dict]:
        chosen = self.value(name)
        return [{"value": v, "text": t, "selected": v == chosen} for v, t in self.fields[name].choices]

    def person_values(self) -> dict:
        data = self.cleaned_data
        aliases = []
        for i in range(self.alias_count):
            first, last = (data.get(f"alias-{i}-first_name") or "").strip(), (data.get(f"alias-{i}-last_name") or "").strip()
            if first and last:
                aliases.append({"first_name": first, "last_name": last})
        addresses = []
        for i in range(self.address_count):
            parts = {p: (data.get(f"address-{i}-{p}") or "").strip() for p in ADDRESS_PARTS}
            if parts["line1"]:
                lines = [parts[p] for p in ("line1", "line2", "town") if parts[p]]
                addresses.append({"lines": lines, "postcode": postcode_normalise(parts["postcode"])})
        return {
            "first_name": data["first_name"].strip(), "last_name": data["last_name"].strip(),
            "date_of_birth": data.get("date_of_birth"), "aliases": aliases, "addresses": addresses,
            **{name: data.get(name) or "" for name in CHARACTERISTICS},
        }

    def identifier_values(self, *, include_empty: bool) -> dict[str, str]:
        values = {kind: (self.cleaned_data.get(kind) or "").strip() for kind in IDENTIFIER_FIELDS}
        return values if include_empty else {k: v for k, v in values.items() if v}

    def purpose_text(self) -> str:
        return lawful_basis_purpose(self.cleaned_data["lawful_basis"], self.cleaned_data["purpose"])


# Cases -------------------------------------------------------------------------------------------

class CaseOpenForm(GovukForm):
    kind = forms.ChoiceField(choices=CaseKind.choices, error_messages={
        "required": "Select the kind of case", "invalid_choice": "Select the kind of case"})
    reference = forms.RegexField(regex=r"^[A-Za-z0-9][A-Za-z0-9-]{2,39}$", required=False, error_messages={
        "invalid": "The reference must be 3 to 40 letters, numbers and hyphens, like MARAC-2026-0042"})
    summary = _text(5000, noun="The summary", widget=forms.Textarea)
    purpose = _text(200, "Enter why you are opening this case", noun="The purpose")

    def clean_reference(self) -> str:
        return (self.cleaned_data.get("reference") or "").strip().upper()


class ParticipantPickForm(GovukForm):
    person = forms.ChoiceField(error_messages={
        "required": "Select the person to add", "invalid_choice": "Select one of the people found"})
    role = forms.ChoiceField(choices=ParticipantRole.choices, error_messages={
        "required": "Select the person's role in the case", "invalid_choice": "Select the person's role in the case"})
    purpose = _text(200, "Enter why you are adding this person to the case", noun="The purpose")

    def __init__(self, *args, people: list[Person], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [(str(p.pk), p.reference) for p in people]


class _SharingForm(GovukForm):
    lawful_basis = _basis_field("Select the lawful basis for sharing")
    agreement = forms.ModelChoiceField(queryset=None, required=False, error_messages={
        "invalid_choice": "Select an information sharing agreement from the list"})

    def agreement_items(self) -> list[dict]:
        chosen = self.value("agreement")
        items = [{"value": "", "text": "None", "selected": not chosen}]
        for agreement in self.fields["agreement"].queryset:
            bases = ", ".join(LawfulBasis(b).label.lower() for b in agreement.lawful_bases or [] if b in LawfulBasis.values)
            items.append({"value": str(agreement.pk), "text": f"{agreement.name} ({bases})" if bases else agreement.name,
                          "selected": str(agreement.pk) == chosen})
        return items

    def organisation_items(self, name: str) -> list[dict]:
        chosen = self.value(name)
        items = [{"value": "", "text": "Choose an organisation", "selected": not chosen}]
        items += [{"value": str(o.pk), "text": o.name, "selected": str(o.pk) == chosen} for o in self.fields[name].queryset]
        return items


class PartyAddForm(_SharingForm):
    organisation = forms.ModelChoiceField(queryset=None, error_messages={
        "required": "Select the organisation to make a party to the case",
        "invalid_choice": "Select an organisation from the list"})
    purpose = _text(200, "Enter why the organisation needs to be party to the case", noun="The purpose")

    field_order = ["organisation", "lawful_basis", "agreement", "purpose"]

    def __init__(self, *args, organisations, agreements, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        self.fields["agreement"].queryset = agreements


class DisclosureForm(_SharingForm):
    to_organisation = forms.ModelChoiceField(queryset=None, error_messages={
        "required": "Select the organisation the information was shared with",
        "invalid_choice": "Select an organisation from the list"})
    person = forms.ChoiceField(required=False, error_messages={"invalid_choice": "Select a person in this case"})
    purpose = _text(300, "Enter why the information was shared", noun="The purpose")

    field_order = ["to_organisation", "person", "lawful_basis", "agreement", "purpose"]

    def __init__(self, *args, organisations, agreements, participants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_organisation"].queryset = organisations
        self.fields["agreement"].queryset = agreements
        people = {p.person_id: p.person for p in participants}
        self.fields["person"].choices = [("", "The whole case")] + [
            (str(pk), f"{person.full_name} ({person.reference})") for pk, person in people.items()]

    def person_items(self) -> list[dict]:
        chosen = self.value("person")
        return [{"value": v, "text": t, "selected": v == chosen} for v, t in self.fields["person"].choices]


class CaseCloseForm(GovukForm):
    purpose = _text(200, "Enter why the case is being closed", noun="The reason")


class BreakGlassForm(GovukForm):
    reference = _text(40, "Enter the case reference", noun="The reference")
    reason = forms.CharField(max_length=1000, widget=forms.Textarea, error_messages={
        "required": "Explain in at least 20 characters why you need to open this case",
        "max_length": "The reason must be 1,000 characters or fewer"})

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if len(reason) < 20:
            raise ValidationError("Explain in at least 20 characters why you need to open this case")
        return reason


class BreakGlassReviewForm(GovukForm):
    note = forms.CharField(max_length=2000, widget=forms.Textarea, error_messages={
        "required": "Enter a note on your review", "max_length": "The note must be 2,000 characters or fewer"})


class AuditExportForm(GovukForm):
    start = GovukDateField(noun="start date", required=True)
    end = GovukDateField(noun="end date", required=True)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.fields["end"].error_part = "day"
            self.add_error("end", "The end date must be the same as or after the start date")
        return data
