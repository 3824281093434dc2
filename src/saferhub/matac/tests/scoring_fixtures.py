"""Shared builders for the MATAC scoring tests: synthetic extract rows, CSV files and a store in a
temporary directory (every id and date of birth here is invented)."""
import csv
import datetime as dt
from pathlib import Path

import pytest

from saferhub.matac.scheme import DEFAULT_GRAVITY_WEIGHTS
from saferhub.matac.store import IncidentStore

REF = dt.date(2025, 6, 30)
HEADER = ["incident_id", "incident_date", "perpetrator_id", "perpetrator_dob", "victim_id", "offence_category"]


def row(incident, days_before, perp="P1", victim="V1", category="common_assault", dob="1980-01-01", ref=REF):
    """One extract row, dated `days_before` the reference date."""
    date = ref - dt.timedelta(days=days_before)
    return {"incident_id": incident, "incident_date": date.isoformat(), "perpetrator_id": perp,
            "perpetrator_dob": dob if isinstance(dob, str) else dob.isoformat(), "victim_id": victim,
            "offence_category": category}


def write_csv(path: Path, rows, header=HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def categories_summing_to(total: int) -> list[str]:
    """Two or more categories whose default weights add up to `total` (total >= 2)."""
    by_weight = {}
    for category, weight in DEFAULT_GRAVITY_WEIGHTS.items():
        by_weight.setdefault(weight, category)
    weights = sorted(by_weight, reverse=True)
    parts, left = [], total
    while left:
        weight = next(w for w in weights if w <= left and (left - w == 0 or left - w >= 1))
        if not parts and weight == total:
            weight = next(w for w in weights if w < total)
        parts.append(weight)
        left -= weight
    assert sum(parts) == total and len(parts) >= 2
    return [by_weight[w] for w in parts]


@pytest.fixture
def matac_store(settings, tmp_path):
    settings.MATAC_STORE_DIR = str(tmp_path / "store")
    return IncidentStore()
