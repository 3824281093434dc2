"""Forms for the second factor and changing a password, shaped for the GOV.UK macros."""
from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError


class GovukErrorsMixin:
    """Error summary entries and inline messages; each control's id is its field's name."""

    def error_summary(self) -> list[dict]:
        first = next(iter(self.fields))
        summary = [{"text": message, "href": "#" + first} for message in self.non_field_errors()]
        for name in self.fields:
            if self.errors.get(name):
                summary.append({"text": self.errors[name][0], "href": "#" + name})
        return summary

    def error_message(self, name: str) -> dict | None:
        messages = self.errors.get(name)
        return {"text": messages[0]} if messages else None


class CodeForm(GovukErrorsMixin, forms.Form):
    code = forms.CharField(max_length=20, strip=True, error_messages={
        "required": "Enter the code shown in your authenticator app, or one of your backup codes",
        "max_length": "Enter the 6-digit code shown in your authenticator app, or an 8-character backup code",
    })


class SetupCodeForm(GovukErrorsMixin, forms.Form):
    code = forms.CharField(max_length=20, strip=True, error_messages={
        "required": "Enter the 6-digit code your authenticator app shows for Saferhub",
        "max_length": "Enter the 6-digit code your authenticator app shows for Saferhub",
    })


class PasswordChangeForm(GovukErrorsMixin, forms.Form):
    current_password = forms.CharField(strip=False, error_messages={"required": "Enter your current password"})
    new_password = forms.CharField(strip=False, error_messages={"required": "Enter a new password"})
    new_password_again = forms.CharField(strip=False, error_messages={"required": "Enter the new password again"})

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_current_password(self) -> str:
        password = self.cleaned_data["current_password"]
        if not self.user.check_password(password):
            raise ValidationError("Your current password is not right", code="password_incorrect")
        return password

    def clean(self):
        cleaned = super().clean()
        new, again = cleaned.get("new_password"), cleaned.get("new_password_again")
        if new and again and new != again:
            self.add_error("new_password_again", ValidationError("The two new passwords do not match", code="mismatch"))
        elif new:
            try:
                password_validation.validate_password(new, self.user)
            except ValidationError as error:
                self.add_error("new_password", error)
            if cleaned.get("current_password") and new == cleaned["current_password"]:
                self.add_error("new_password", ValidationError("Your new password must be different from your current one", code="unchanged"))
        return cleaned

    @staticmethod
    def help_texts() -> list[str]:
        return password_validation.password_validators_help_texts()
