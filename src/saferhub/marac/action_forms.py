"""Forms for MARAC action plans: adding an action and recording what became of it. Rules about who
may do what, and what an outcome must say, live in marac.action_services."""
from __future__ import annotations

from django import forms

from saferhub.core.formatting import date_uk
from saferhub.marac.action_services import DESCRIPTION_LIMIT, OUTCOME_LIMIT
from saferhub.marac.models import ActionStatus, MaracMeeting
from saferhub.partners.models import Organisation, PersonalDataScope, User
from saferhub.strategy.forms import GovukDateField, GovukForm


class ActionAddForm(GovukForm):
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none(), error_messages={
        "required": "Select the agency responsible for the action",
        "invalid_choice": "Select an agency from the list"})
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False, error_messages={
        "invalid_choice": "Select a person from the list"})
    description = forms.CharField(max_length=DESCRIPTION_LIMIT, error_messages={
        "required": "Enter what the agency will do",
        "max_length": f"The action must be {DESCRIPTION_LIMIT:,} characters or fewer",
        "null_characters_not_allowed": "The action must not include null characters"})
    deadline = GovukDateField(noun="deadline", required=True)
    meeting = forms.ModelChoiceField(queryset=MaracMeeting.objects.none(), required=False, error_messages={
        "invalid_choice": "Select a meeting from the list"})

    def __init__(self, *args, area=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.order_by("name")
        self.fields["assignee"].queryset = (User.objects.filter(is_active=True, organisation__isnull=False,
                                                                personal_data_scope__in=[PersonalDataScope.PARTIES, PersonalDataScope.ALL])
                                            .select_related("organisation").order_by("organisation__name", "last_name", "first_name"))
        meetings = MaracMeeting.objects.filter(area=area) if area is not None else MaracMeeting.objects.none()
        # The area's 12 latest meetings, by id: a sliced queryset cannot be filtered, so the field
        # could not look the chosen meeting up in it and refused every choice.
        latest = list(meetings.order_by("-starts_at").values_list("pk", flat=True)[:12])
        self.fields["meeting"].queryset = MaracMeeting.objects.filter(pk__in=latest).order_by("-starts_at")

    def organisation_items(self) -> list[dict]:
        chosen = self.value("organisation")
        return [{"value": "", "text": "Choose an agency", "selected": not chosen}] + [
            {"value": str(o.pk), "text": o.name, "selected": str(o.pk) == chosen} for o in self.fields["organisation"].queryset]

    def assignee_items(self) -> list[dict]:
        chosen = self.value("assignee")
        return [{"value": "", "text": "No one named: the agency's MARAC representatives", "selected": not chosen}] + [
            {"value": str(u.pk), "text": f"{u.display_name}, {u.organisation.name}", "selected": str(u.pk) == chosen}
            for u in self.fields["assignee"].queryset]

    def meeting_items(self) -> list[dict]:
        chosen = self.value("meeting")
        return [{"value": "", "text": "Not agreed at a meeting", "selected": not chosen}] + [
            {"value": str(m.pk), "text": date_uk(m.starts_at), "selected": str(m.pk) == chosen}
            for m in self.fields["meeting"].queryset]

    def value(self, name: str) -> str:
        value = self[name].value()
        if hasattr(value, "pk"):
            return str(value.pk)
        return "" if value is None else str(value)


class ActionStatusForm(GovukForm):
    status = forms.ChoiceField(choices=ActionStatus.choices, error_messages={
        "required": "Select what became of the action", "invalid_choice": "Select what became of the action"})
    outcome = forms.CharField(max_length=OUTCOME_LIMIT, required=False, error_messages={
        "max_length": f"The outcome must be {OUTCOME_LIMIT:,} characters or fewer",
        "null_characters_not_allowed": "The outcome must not include null characters"})
