"""Forms of the MARAC meeting pages: Django checks what was typed; who may do what, and the rules
about meetings, live in marac.meeting_services."""
from __future__ import annotations

import datetime as dt

from django import forms

from saferhub.marac.models import AgendaItem, AgendaSection
from saferhub.strategy.forms import GovukDateField, GovukForm


def _text(max_length: int, required: str | None = None, noun: str = "This", **kwargs) -> forms.CharField:
    messages = {"max_length": f"{noun} must be {max_length:,} characters or fewer",
                "null_characters_not_allowed": f"{noun} must not include null characters"}
    if required:
        messages["required"] = required
    return forms.CharField(max_length=max_length, required=bool(required), error_messages=messages, **kwargs)


class ScheduleForm(GovukForm):
    area = forms.ChoiceField(error_messages={"required": "Select the MARAC area", "invalid_choice": "Select a MARAC area from the list"})
    until = GovukDateField(noun="date to schedule until", required=True)

    def __init__(self, *args, areas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.areas = {str(a.pk): a for a in areas}
        self.fields["area"].choices = [(str(a.pk), a.name) for a in areas]

    def area_items(self) -> list[dict]:
        chosen = self.value("area")
        return [{"value": pk, "text": a.name, "selected": pk == chosen} for pk, a in self.areas.items()]

    def chosen_area(self):
        return self.areas[self.cleaned_data["area"]]


class EmergencyForm(GovukForm):
    reference = _text(40, "Enter the case reference of the referral", noun="The case reference")
    date = GovukDateField(noun="date of the meeting", required=True)
    time = _text(5, "Enter the time of the meeting", noun="The time")
    venue = _text(200, noun="The venue")
    reason = _text(5000, "Say why the case cannot wait for the next meeting", noun="The reason", widget=forms.Textarea)

    def clean_time(self):
        text = (self.cleaned_data.get("time") or "").strip().replace(".", ":")
        try:
            hour, minute = (int(part) for part in text.split(":"))
            return dt.time(hour, minute)
        except (ValueError, TypeError):
            raise forms.ValidationError("Enter the time as hours and minutes on the 24-hour clock, like 14:30") from None

    def starts_at(self) -> dt.datetime:
        from django.utils import timezone

        return timezone.make_aware(dt.datetime.combine(self.cleaned_data["date"], self.cleaned_data["time"]))


class AttendeeForm(GovukForm):
    attendee = forms.ChoiceField(error_messages={"required": "Select who is attending",
                                                 "invalid_choice": "Select someone from the list"})
    role = _text(120, noun="The role")

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.users = {str(u.pk): u for u in users}
        self.fields["attendee"].choices = [(pk, str(u)) for pk, u in self.users.items()]

    def attendee_items(self) -> list[dict]:
        chosen = self.value("attendee")
        return [{"value": "", "text": "Choose someone"}] + [
            {"value": pk, "text": f"{u.display_name} ({u.organisation.name})", "selected": pk == chosen}
            for pk, u in self.users.items()]

    def chosen(self):
        return self.users[self.cleaned_data["attendee"]]


class StatementForm(GovukForm):
    agree = forms.BooleanField(error_messages={"required": "Confirm that you agree to the confidentiality statement"})


class ResearchForm(GovukForm):
    text = _text(10000, "Enter what your agency found in its records, or say it found nothing",
                 noun="The research", widget=forms.Textarea)


class AgendaItemForm(GovukForm):
    KINDS = [(str(AgendaSection.ANNIVERSARY.value), "A case for review (12 months since its last MARAC, or any case the area wants to review)"),
             (str(AgendaSection.OTHER_BUSINESS.value), "An item of any other business")]
    kind = forms.ChoiceField(choices=KINDS, error_messages={"required": "Select what to add",
                                                            "invalid_choice": "Select what to add"})
    reference = _text(40, noun="The case reference")
    note = _text(300, noun="The item")

    def clean(self):
        data = super().clean()
        if data.get("kind") == str(AgendaSection.ANNIVERSARY.value) and not (data.get("reference") or "").strip():
            self.add_error("reference", "Enter the case reference of the case to review")
        if data.get("kind") == str(AgendaSection.OTHER_BUSINESS.value) and not (data.get("note") or "").strip():
            self.add_error("note", "Enter the item of business")
        return data


class MinutesForm(GovukForm):
    chair = _text(120, noun="The chair")
    venue = _text(200, noun="The venue")
    minutes = _text(20000, noun="The minutes", widget=forms.Textarea)
    apologies = forms.MultipleChoiceField(required=False, error_messages={"invalid_choice": "Select agencies from the list"})
    information_sent = forms.MultipleChoiceField(required=False, error_messages={"invalid_choice": "Select agencies from the list"})
    left_after_children = forms.MultipleChoiceField(required=False, error_messages={
        "invalid_choice": "Select attendees of this meeting"})
    mark_held = forms.BooleanField(required=False)

    def __init__(self, *args, organisations=(), cases: list[AgendaItem] = (), attendance=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.attendance = list(attendance)
        self.fields["left_after_children"].choices = [(str(a.pk), str(a.pk)) for a in self.attendance]
        self.organisations = list(organisations)
        choices = [(str(o.pk), o.name) for o in self.organisations]
        self.fields["apologies"].choices = choices
        self.fields["information_sent"].choices = choices
        self.cases = list(cases)
        for item in self.cases:
            self.fields[f"note_{item.pk}"] = _text(5000, noun=f"The note on {item.referral.case.reference}",
                                                   widget=forms.Textarea, initial=item.minutes_note)

    def organisation_items(self, name: str) -> list[dict]:
        chosen = set(self.values(name))
        return [{"value": str(o.pk), "text": o.name, "checked": str(o.pk) in chosen} for o in self.organisations]

    def attendee_items(self) -> list[dict]:
        chosen = set(self.values("left_after_children"))
        return [{"value": str(a.pk), "checked": str(a.pk) in chosen,
                 "text": f"{a.user.display_name if a.user_id else 'Representative'} ({a.organisation.name})"}
                for a in self.attendance]

    def case_notes(self) -> dict[int, str]:
        return {item.pk: self.cleaned_data.get(f"note_{item.pk}", "") for item in self.cases}

    def ids(self, name: str) -> list[int]:
        return [int(v) for v in self.cleaned_data.get(name) or []]
