"""Forms for MARAC referrals, the coordinator's decision and loading a checklist. The referral
form parses what was typed and shows, against each field, every problem referral_input_check
(the service's own check) finds, so the page and the API give the same errors."""
from __future__ import annotations

from django import forms
from django.forms.utils import ErrorDict

from saferhub.marac.checklist_services import checklist_questions
from saferhub.marac.models import Answer, MaracArea, RiskChecklist
from saferhub.marac.referral_services import ChildInput, PersonInput, ReferralInput, referral_input_check
from saferhub.people.vocabulary import CHARACTERISTICS, NOT_RECORDED
from saferhub.strategy.forms import GovukDateField, GovukForm

MAX_PERPETRATOR_ROWS = 5
MAX_CHILD_ROWS = 12
SAFE_TO_CALL = [("yes", "Yes, it is safe to call"), ("no", "No, do not call")]
CHARACTERISTIC_LABELS = {"gender": "Gender", "ethnicity": "Ethnicity", "disability": "Disability",
                         "sexuality": "Sexual orientation"}


def _text(max_length: int, noun: str, **kwargs) -> forms.CharField:
    return forms.CharField(max_length=max_length, required=False, error_messages={
        "max_length": f"{noun} must be {max_length:,} characters or fewer",
        "null_characters_not_allowed": f"{noun} must not include null characters"}, **kwargs)


def _characteristic(name: str) -> forms.ChoiceField:
    return forms.ChoiceField(choices=[("", NOT_RECORDED), *CHARACTERISTICS[name]], required=False, error_messages={
        "invalid_choice": f"Select the {CHARACTERISTIC_LABELS[name].lower()} from the list"})


class ReferralForm(GovukForm):
    """The whole referral on one page. 'Add another perpetrator' and 'Add another child' post the
    form back with one more row (no script needed); the stalking screen follows the stalking
    question and the stylesheet shows it only while that question is answered yes."""

    area = forms.ChoiceField(error_messages={"required": "Select the MARAC area",
                                             "invalid_choice": "Select a MARAC area from the list"})
    assessed_on = GovukDateField(noun="date the risk checklist was completed")
    incidents_in_window = forms.CharField(max_length=4, required=False, error_messages={
        "max_length": "Enter the number of incidents as a whole number, like 3"})
    professional_judgement = forms.BooleanField(required=False)
    professional_judgement_reasons = _text(5000, "The reasons", widget=forms.Textarea)
    safe_contact_details = _text(5000, "The safe contact details", widget=forms.Textarea)
    safe_to_call = forms.ChoiceField(choices=SAFE_TO_CALL, error_messages={
        "required": "Select whether it is safe to call the victim",
        "invalid_choice": "Select whether it is safe to call the victim"})

    def __init__(self, data=None, *, checklist: RiskChecklist, areas: list[MaracArea]):
        super().__init__(data)
        self.checklist, self.areas = checklist, areas
        self.main_questions, self.stalking_questions = checklist_questions(checklist)
        self.adding = data is not None and ("add_perpetrator" in data or "add_child" in data)
        self.fields["area"].choices = [("", "Choose an area"), *[(str(a.pk), a.name) for a in areas]]
        self._person_fields("victim", "The victim's", characteristics=True)
        self.perpetrator_count = self._rows(data, "perpetrator", MAX_PERPETRATOR_ROWS)
        for i in range(self.perpetrator_count):
            self._person_fields(f"perpetrator-{i}", "The perpetrator's", characteristics=False)
        self.child_count = self._rows(data, "child", MAX_CHILD_ROWS)
        for i in range(self.child_count):
            self._person_fields(f"child-{i}", "The child's", characteristics=False)
            self.fields[f"child-{i}-age"] = forms.CharField(max_length=3, required=False, error_messages={
                "max_length": f"Enter the age of child {i + 1} in years, like 7"})
            self.fields[f"child-{i}-school"] = _text(200, f"The school of child {i + 1}")
        for question in self.main_questions + self.stalking_questions:
            self.fields[f"answer-{question.key}"] = forms.ChoiceField(choices=Answer.choices, required=False, error_messages={
                "invalid_choice": f"Answer question {question.number} with yes, no or not known"})
            self.fields[f"comment-{question.key}"] = _text(2000, f"The comment on question {question.number}")
        order = ["area", "victim-first_name", "victim-last_name", "victim-date_of_birth", *[f"victim-{c}" for c in CHARACTERISTICS]]
        order += [name for name in self.fields if name.startswith(("perpetrator-", "child-"))]
        order += ["assessed_on"] + [f"{kind}-{q.key}" for q in self.main_questions + self.stalking_questions
                                    for kind in ("answer", "comment")]
        order += ["incidents_in_window", "professional_judgement", "professional_judgement_reasons",
                  "safe_contact_details", "safe_to_call"]
        self.order_fields(order)

    def _person_fields(self, prefix: str, noun: str, *, characteristics: bool) -> None:
        self.fields[f"{prefix}-first_name"] = _text(100, f"{noun} first name")
        self.fields[f"{prefix}-last_name"] = _text(100, f"{noun} last name")
        self.fields[f"{prefix}-date_of_birth"] = GovukDateField(noun=f"{noun.lower().replace('the ', '', 1)} date of birth")
        for name in CHARACTERISTICS if characteristics else ("gender",):
            self.fields[f"{prefix}-{name}"] = _characteristic(name)

    @staticmethod
    def _rows(data, kind: str, most: int) -> int:
        if data is None:
            return 1
        try:
            count = int(data.get(f"{kind}_count") or 1)
        except ValueError:
            count = 1
        if f"add_{kind}" in data:
            count += 1
        return min(max(count, 1), most)

    def full_clean(self):
        # A request for another row is not a submission: nothing is checked or saved yet.
        if self.adding:
            self._errors, self.cleaned_data = ErrorDict(), {}
            return
        super().full_clean()

    # Reading the typed values ------------------------------------------------------------------

    def _person(self, prefix: str) -> PersonInput:
        data = self.cleaned_data
        return PersonInput(first_name=data.get(f"{prefix}-first_name") or "", last_name=data.get(f"{prefix}-last_name") or "",
                           date_of_birth=data.get(f"{prefix}-date_of_birth"),
                           **{name: data.get(f"{prefix}-{name}") or "" for name in CHARACTERISTICS
                              if f"{prefix}-{name}" in self.fields})

    def _row_blank(self, prefix: str) -> bool:
        return not any((self.data.get(name) or "").strip() for name in self.data if name.startswith(prefix + "-"))

    def _whole_number(self, name: str, message: str) -> int | None:
        text = (self.cleaned_data.get(name) or "").strip()
        if not text:
            return None
        if not text.isdigit():
            self.add_error(name, message)
            return None
        return int(text)

    def clean(self):
        data = super().clean()
        self.area = next((a for a in self.areas if str(a.pk) == data.get("area")), None)
        perpetrators, self.perpetrator_rows = [], []
        for i in range(self.perpetrator_count):
            if i == 0 or not self._row_blank(f"perpetrator-{i}"):
                perpetrators.append(self._person(f"perpetrator-{i}"))
                self.perpetrator_rows.append(i)
        children, self.child_rows = [], []
        for i in range(self.child_count):
            if self._row_blank(f"child-{i}"):
                continue
            age = self._whole_number(f"child-{i}-age", f"Enter the age of child {i + 1} in years, like 7")
            child = self._person(f"child-{i}")
            children.append(ChildInput(**child.values(), age=age, school=data.get(f"child-{i}-school") or ""))
            self.child_rows.append(i)
        incidents = self._whole_number("incidents_in_window", "Enter the number of incidents as a whole number, like 3")
        answers = {q.key: (data.get(f"answer-{q.key}") or "", data.get(f"comment-{q.key}") or "")
                   for q in self.main_questions + self.stalking_questions if data.get(f"answer-{q.key}")}
        self.referral = ReferralInput(
            victim=self._person("victim"), perpetrators=perpetrators, children=children, answers=answers,
            assessed_on=data.get("assessed_on"),
            incidents_in_window=incidents,
            professional_judgement=bool(data.get("professional_judgement")),
            professional_judgement_reasons=data.get("professional_judgement_reasons") or "",
            safe_contact_details=data.get("safe_contact_details") or "", safe_to_call=data.get("safe_to_call") == "yes")
        for key, message in referral_input_check(area=self.area, checklist=self.checklist, referral=self.referral).items():
            name = self.field_for(key)
            if name is None or not self.errors.get(name):
                self.add_error(name, message)
        return data

    def field_for(self, key: str) -> str | None:
        """The form field a service error key names ('children.0.age' → 'child-3-age' when the
        first child typed is in the fourth row), or None for the whole form."""
        parts = key.split(".")
        if parts[0] == "victim" and len(parts) == 2:
            name = f"victim-{parts[1]}"
        elif parts[0] in ("perpetrators", "children") and len(parts) == 3 and parts[1].isdigit():
            rows = getattr(self, "perpetrator_rows" if parts[0] == "perpetrators" else "child_rows", [])
            index = int(parts[1])
            kind = "perpetrator" if parts[0] == "perpetrators" else "child"
            name = f"{kind}-{rows[index]}-{parts[2]}" if index < len(rows) else None
        elif parts[0] == "perpetrators":
            name = "perpetrator-0-first_name"
        elif parts[0] == "answers" and len(parts) == 2:
            name = f"answer-{parts[1]}"
        else:
            name = key
        return name if name in self.fields else None

    def add_referral_errors(self, error) -> None:
        """A ValidationError from referral_submit, shown against the fields it names."""
        if not hasattr(error, "error_dict"):
            for message in error.messages:
                self.add_error(None, message)
            return
        for key, messages in error.message_dict.items():
            self.add_error(self.field_for(key), messages)

    # What the template needs -----------------------------------------------------------------

    def anchor(self, name):
        if name and name.startswith("answer-"):
            # A radios group's first radio carries the group's name as its id.
            return name
        return super().anchor(name)

    def select_items(self, name: str) -> list[dict]:
        chosen = self.value(name)
        return [{"value": v, "text": t, "selected": v == chosen} for v, t in self.fields[name].choices]

    def answer_items(self, question) -> list[dict]:
        return [{"value": value, "text": text} for value, text in Answer.choices]

    def perpetrator_prefixes(self) -> list[tuple[int, str]]:
        return [(i + 1, f"perpetrator-{i}") for i in range(self.perpetrator_count)]

    def child_prefixes(self) -> list[tuple[int, str]]:
        return [(i + 1, f"child-{i}") for i in range(self.child_count)]


class DeclineForm(GovukForm):
    reason = forms.CharField(max_length=5000, widget=forms.Textarea, error_messages={
        "required": "Give the reason for declining the referral",
        "max_length": "The reason must be 5,000 characters or fewer"})


class ChecklistLoadForm(GovukForm):
    file = forms.FileField(error_messages={"required": "Choose a checklist file to load",
                                           "empty": "The checklist file is empty"})
