"""How dates and numbers are written on every page and document (GOV.UK style: 5 June 2023)."""
import datetime as dt

from django.utils import timezone


def date_uk(value: dt.date | None, default: str = "") -> str:
    if not value:
        return default
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value.day} {value:%B %Y}"


def datetime_uk(value: dt.datetime | None, default: str = "") -> str:
    if not value:
        return default
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    hour = local.strftime("%I").lstrip("0") or "12"
    return f"{date_uk(local)} at {hour}:{local:%M}{local:%p}".replace("AM", "am").replace("PM", "pm")


def number(value: int | float | None, default: str = "") -> str:
    if value is None:
        return default
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"
