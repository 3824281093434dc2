"""The form managers fill in to start a Progress Update or revise its background."""
from django import forms

from saferhub.strategy.models import ReportingPeriod, Strategy


class ReportForm(forms.Form):
    strategy = forms.ModelChoiceField(
        queryset=Strategy.objects.all(), error_messages={"required": "Select a strategy", "invalid_choice": "Select a strategy"}
    )
    period = forms.ModelChoiceField(
        queryset=ReportingPeriod.objects.all(),
        error_messages={"required": "Select a reporting period", "invalid_choice": "Select a reporting period"},
    )
    background = forms.CharField(required=False, widget=forms.Textarea, max_length=20000,
                                 error_messages={"max_length": "Background must be 20,000 characters or fewer"})

    def select_items(self, name: str) -> list[dict]:
        """Options for a GOV.UK select, keeping the chosen one."""
        chosen = str(self[name].value() or "")
        items = [{"value": "", "text": "Choose…", "selected": not chosen}]
        for choice in self.fields[name].queryset:
            items.append({"value": str(choice.pk), "text": str(choice), "selected": str(choice.pk) == chosen})
        return items

    def error_list(self) -> list[dict]:
        return [{"text": errors[0], "href": f"#id_{name}"} for name, errors in self.errors.items()]
