"""The password policy's own rule: a password may not contain the username or the organisation's name."""
from __future__ import annotations

from django.core.exceptions import ValidationError


def _squash(text: str) -> str:
    return "".join(ch for ch in (text or "").casefold() if ch.isalnum())


class NoUsernameOrOrganisationValidator:
    """Rejects a password that contains the username or the organisation's name or abbreviation,
    ignoring case, spaces and punctuation ("NorthYorkshirePolice2024!" contains "North Yorkshire Police")."""

    min_part_length = 3

    def validate(self, password: str, user=None) -> None:
        if user is None:
            return
        squashed = _squash(password)
        if not squashed:
            return
        username = _squash(user.get_username())
        if len(username) >= self.min_part_length and username in squashed:
            raise ValidationError("Your password must not contain your username", code="password_contains_username")
        organisation = getattr(user, "organisation", None) if getattr(user, "organisation_id", None) else None
        if organisation is not None:
            for part in (organisation.name, organisation.short_name, *(organisation.aliases or [])):
                part = _squash(part)
                if len(part) >= self.min_part_length and part in squashed:
                    raise ValidationError("Your password must not contain the name of your organisation",
                                          code="password_contains_organisation")

    def get_help_text(self) -> str:
        return "Your password must not contain your username or the name of your organisation."
