"""MARAC reference data: the areas with their coordinating organisation, thresholds, population and
schedule (marac/data/areas.yaml), and the risk checklist Saferhub ships. Loaded by the demo and by
`saferhub marac areas load`."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction

from saferhub.audit.models import ChangeAction
from saferhub.audit.services import change_record, snapshot
from saferhub.marac.checklist_services import checklist_current
from saferhub.marac.models import MaracArea
from saferhub.partners.models import Organisation

AREAS_FILE = Path(__file__).resolve().parent / "data" / "areas.yaml"
WHOLE_NUMBERS = {"high_risk_threshold": (1, 100), "escalation_incidents": (1, 100), "escalation_window_days": (1, 3660),
                 "repeat_window_days": (1, 3660), "adult_female_population": (0, 50_000_000),
                 "meeting_interval_days": (1, 366)}
FIELDS = ["slug", "name", "coordinating_organisation", *WHOLE_NUMBERS, "first_meeting_date", "meeting_time", "default_venue",
          "active"]


def _time(value) -> dt.time | None:
    if value in (None, ""):
        return None
    if isinstance(value, int):  # YAML 1.1 reads 10:00 unquoted as 600 (sexagesimal minutes)
        return dt.time(value // 60, value % 60) if 0 <= value < 24 * 60 else None
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError:
        return None


def _area_values(row, where: str, problems: list[str]) -> dict:
    if not isinstance(row, dict):
        problems.append(f"{where}: must be a mapping")
        return {}
    unknown = set(row) - set(FIELDS)
    if unknown:
        problems.append(f"{where}: unknown field {', '.join(sorted(map(str, unknown)))}")
    values = {"slug": str(row.get("slug") or "").strip(), "name": str(row.get("name") or "").strip()}
    if not values["slug"]:
        problems.append(f"{where}: slug is missing")
    if not values["name"]:
        problems.append(f"{where}: name is missing")
    organisation = Organisation.objects.filter(slug=row.get("coordinating_organisation") or "").first()
    if organisation is None:
        problems.append(f"{where}: coordinating_organisation '{row.get('coordinating_organisation')}' is not an "
                        f"organisation of the partnership (load partners first)")
    values["coordinating_organisation"] = organisation
    for name, (low, high) in WHOLE_NUMBERS.items():
        if name in row:
            value = row[name]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                problems.append(f"{where}: {name} must be a whole number from {low:,} to {high:,}")
            else:
                values[name] = value
    first = row.get("first_meeting_date")
    if first is not None and not isinstance(first, dt.date):
        problems.append(f"{where}: first_meeting_date must be a date like 2024-04-02")
    values["first_meeting_date"] = first if isinstance(first, dt.date) else None
    values["meeting_time"] = _time(row.get("meeting_time"))
    if row.get("meeting_time") not in (None, "") and values["meeting_time"] is None:
        problems.append(f"{where}: meeting_time must be a time like \"10:00\"")
    values["default_venue"] = str(row.get("default_venue") or "").strip()[:200]
    values["active"] = row.get("active", True) is not False
    return values


def _snapshot(area: MaracArea, fields: list[str]) -> dict:
    # The edit history stores JSON; a meeting time is not a date, so snapshot leaves it as it is.
    return {name: value.isoformat() if isinstance(value, dt.time) else value
            for name, value in snapshot(area, fields).items()}


@transaction.atomic
def areas_load(path: Path | str = AREAS_FILE, *, actor=None) -> list[MaracArea]:
    """Create or update the areas in the file, by slug; all or nothing. Coordinators named on an
    area and areas not in the file are left as they are."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError(f"{path}: no such file") from None
    except yaml.YAMLError:
        raise ValidationError(f"{path.name}: not valid YAML") from None
    rows = document.get("areas") if isinstance(document, dict) else None
    if not isinstance(rows, list) or not rows:
        raise ValidationError(f"{path.name}: needs a list of areas under 'areas'")
    problems: list[str] = []
    parsed = [_area_values(row, f"{path.name}: areas[{i}]", problems) for i, row in enumerate(rows)]
    slugs = [v.get("slug") for v in parsed]
    problems += [f"{path.name}: slug '{s}' is used twice" for s in sorted({s for s in slugs if s and slugs.count(s) > 1})]
    if problems:
        raise ValidationError(problems)
    fields = [f for f in FIELDS if f != "slug"]
    areas = []
    for values in parsed:
        area = MaracArea.objects.filter(slug=values["slug"]).first()
        before = _snapshot(area, fields) if area else None
        area = area or MaracArea(slug=values["slug"])
        for name, value in values.items():
            setattr(area, name, value)
        area.save()
        change_record(actor=actor, instance=area, action=ChangeAction.UPDATE if before else ChangeAction.CREATE,
                      before=before or {}, after=_snapshot(area, fields))
        areas.append(area)
    return areas


def marac_reference_load() -> list[str]:
    """What the demo needs before any referral: the two areas and a current risk checklist."""
    areas = areas_load()
    checklist = checklist_current()
    return [f"MARAC areas loaded: {', '.join(a.name for a in areas)}",
            f"Risk checklist current: {checklist} ({checklist.questions.count()} questions)"]
