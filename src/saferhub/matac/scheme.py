"""MATAC RFGV scoring schemes: the parameters of a scheme, the default of DOMAIN.md §4, checking
a scheme and the band rules every engine must apply identically.

Definitions (the contract every engine, the DuckDB store, the Spark engine and the pandas
baseline implement; docs/matac.md says the same in prose):

- One extract row is (incident_id, perpetrator_id, victim_id): an incident with two victims is
  two rows. The row key is that triple.
- Window: rows with incident_date in [reference_date - (window_days - 1), reference_date], both
  ends included; with 1,095 days the earliest day in the window is 1,094 days before the
  reference date. Rows after the reference date are outside the window.
- F (incident count) = distinct incident_ids of the perpetrator in the window.
- G (gravity sum) = over the perpetrator's distinct incidents in the window, the sum of the
  highest gravity weight among that incident's rows (an incident with two victims counts once).
- distinct victims = distinct victim_ids in the window; V points = min(distinct victims,
  victims_cap).
- last incident date = max incident_date in the window; R uses (reference_date - last).days.
- age at last incident = whole years from the perpetrator's date of birth (the latest one
  recorded for them in the window, max(perpetrator_dob)) to the last incident date; a birthday
  on 29 February is reached on 1 March in a year that is not a leap year.
- Eligible iff F >= min_incidents and distinct victims >= min_victims and age >= min_age.
- R points: the first recency band (limit, points) with days_since_last <= limit, else
  recency_else. F points: the first frequency band with incidents >= limit, else frequency_else.
  G points: the first gravity band with gravity_sum > limit, else gravity_else.
- score = wR*R + wF*F + wG*G + wV*V.
- Order: score desc, gravity_sum desc, last_incident_date desc, perpetrator_id asc (string
  order of the id as text); rank 1..n over every eligible perpetrator. Filtering to some
  perpetrators or to the top N never changes anyone's rank.

The published alternatives named in DOMAIN.md (ONS Crime Severity Score weights, Cambridge Crime
Harm Index) are not offered as presets: their figures are per Home Office offence code, not per
the thirteen categories here, and no mapping from one to the other is published, so any preset
would be our own invention presented as theirs. An administrator may still enter such weights as
a new scheme version."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any, Mapping

from django.core.exceptions import ValidationError

FORMAT = 1

CATEGORIES: tuple[str, ...] = (
    "non_crime", "criminal_damage", "harassment", "common_assault", "breach_of_order", "abh", "stalking",
    "coercive_control", "threats_to_kill", "strangulation", "gbh", "sexual_offence", "rape",
)

CATEGORY_LABELS: Mapping[str, str] = MappingProxyType({
    "non_crime": "Non-crime incident", "criminal_damage": "Criminal damage", "harassment": "Harassment",
    "common_assault": "Common assault", "breach_of_order": "Breach of an order",
    "abh": "Assault occasioning actual bodily harm", "stalking": "Stalking", "coercive_control": "Coercive control",
    "threats_to_kill": "Threats to kill", "strangulation": "Non-fatal strangulation",
    "gbh": "Grievous bodily harm", "sexual_offence": "Sexual offence", "rape": "Rape",
})

DEFAULT_GRAVITY_WEIGHTS: Mapping[str, int] = MappingProxyType({
    "non_crime": 1, "criminal_damage": 2, "harassment": 3, "common_assault": 4, "breach_of_order": 6, "abh": 8,
    "stalking": 8, "coercive_control": 10, "threats_to_kill": 12, "strangulation": 15, "gbh": 20,
    "sexual_offence": 25, "rape": 25,
})

COMPONENTS = ("R", "F", "G", "V")

Bands = tuple[tuple[int, int], ...]


def _freeze_weights(value: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(value))


@dataclass(frozen=True)
class Scheme:
    """Every parameter of RFGV scoring. Immutable: a change is a new ScoringScheme version."""

    window_days: int = 1095
    min_incidents: int = 2
    min_victims: int = 2
    min_age: int = 16
    recency_bands: Bands = ((91, 5), (182, 4), (365, 3), (730, 2))
    recency_else: int = 1
    frequency_bands: Bands = ((11, 5), (7, 4), (4, 3), (2, 2))
    frequency_else: int = 1
    gravity_bands: Bands = ((60, 5), (30, 4), (15, 3), (5, 2))
    gravity_else: int = 1
    victims_cap: int = 5
    weights: Mapping[str, int] = field(default_factory=lambda: _freeze_weights({"R": 1, "F": 1, "G": 1, "V": 2}))
    gravity_weights: Mapping[str, int] = field(default_factory=lambda: _freeze_weights(DEFAULT_GRAVITY_WEIGHTS))

    def __post_init__(self):
        # Accept lists and plain dicts (from JSON or a form) but keep the instance immutable and hashable-free.
        for name in ("recency_bands", "frequency_bands", "gravity_bands"):
            object.__setattr__(self, name, tuple(tuple(band) for band in getattr(self, name)))
        for name in ("weights", "gravity_weights"):
            object.__setattr__(self, name, _freeze_weights(getattr(self, name)))

    def __hash__(self) -> int:
        # The mappings are read-only views, which Python will not hash: hash the canonical JSON.
        return hash(self.to_json())

    # Band rules ---------------------------------------------------------------------------------

    def recency_points(self, days_since_last: int) -> int:
        return next((points for limit, points in self.recency_bands if days_since_last <= limit), self.recency_else)

    def frequency_points(self, incidents: int) -> int:
        return next((points for limit, points in self.frequency_bands if incidents >= limit), self.frequency_else)

    def gravity_points(self, gravity_sum: int) -> int:
        return next((points for limit, points in self.gravity_bands if gravity_sum > limit), self.gravity_else)

    def victim_points(self, distinct_victims: int) -> int:
        return min(distinct_victims, self.victims_cap)

    def total(self, r: int, f: int, g: int, v: int) -> int:
        w = self.weights
        return w["R"] * r + w["F"] * f + w["G"] * g + w["V"] * v

    def eligible(self, incidents: int, distinct_victims: int, age: int | None) -> bool:
        return (incidents >= self.min_incidents and distinct_victims >= self.min_victims
                and age is not None and age >= self.min_age)

    # Serialisation ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"format": FORMAT}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("_bands"):
                value = [list(band) for band in value]
            elif f.name in ("weights", "gravity_weights"):
                value = dict(value)
            data[f.name] = value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Scheme":
        """A checked scheme from a JSON dict; missing parameters take the default; unknown ones,
        or a newer format, are refused."""
        data = dict(data)
        fmt = data.pop("format", FORMAT)
        if fmt != FORMAT:
            raise ValidationError(f"Scheme format {fmt!r} is not supported (this version reads format {FORMAT}).")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(f"Unknown scheme parameters: {', '.join(unknown)}.")
        try:
            scheme = cls(**data)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"The scheme parameters are malformed: {exc}.") from exc
        scheme.validate()
        return scheme

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        """sha256 of the canonical JSON: equal parameters give equal digests."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    def with_changes(self, **changes) -> "Scheme":
        scheme = replace(self, **changes)
        scheme.validate()
        return scheme

    # Checking -----------------------------------------------------------------------------------

    def errors(self) -> list[str]:
        """Every problem with this scheme, each naming the parameter."""
        problems: list[str] = []

        def integer(name: str, value, minimum: int = 0) -> bool:
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append(f"{name} must be a whole number.")
                return False
            if value < minimum:
                problems.append(f"{name} must be at least {minimum}.")
                return False
            return True

        integer("window_days", self.window_days, 1)
        integer("min_incidents", self.min_incidents, 1)
        integer("min_victims", self.min_victims, 1)
        integer("min_age", self.min_age, 0)
        integer("victims_cap", self.victims_cap, 1)
        for prefix, order in (("recency", "ascending"), ("frequency", "descending"), ("gravity", "descending")):
            bands = getattr(self, f"{prefix}_bands")
            name = f"{prefix}_bands"
            integer(f"{prefix}_else", getattr(self, f"{prefix}_else"))
            if not bands:
                problems.append(f"{name} needs at least one band.")
                continue
            if any(len(band) != 2 for band in bands):
                problems.append(f"{name}: each band is a pair (limit, points).")
                continue
            good = all(integer(f"{name} limit", limit) & integer(f"{name} points", points) for limit, points in bands)
            if not good:
                continue
            limits = [limit for limit, _ in bands]
            # Recency bands are tested smallest limit first (≤), the others largest first (≥, >):
            # out of order, a later band could never apply.
            if order == "ascending" and limits != sorted(set(limits)):
                problems.append(f"{name} limits must strictly increase (days since the last incident).")
            if order == "descending" and limits != sorted(set(limits), reverse=True):
                problems.append(f"{name} limits must strictly decrease.")
        if set(self.weights) != set(COMPONENTS):
            problems.append("weights must give exactly R, F, G and V.")
        else:
            for key in COMPONENTS:
                integer(f"weights {key}", self.weights[key])
        missing = [c for c in CATEGORIES if c not in self.gravity_weights]
        extra = sorted(set(self.gravity_weights) - set(CATEGORIES))
        if missing:
            problems.append(f"gravity_weights is missing: {', '.join(missing)}.")
        if extra:
            problems.append(f"gravity_weights has unknown categories: {', '.join(extra)}.")
        for category in CATEGORIES:
            if category in self.gravity_weights:
                integer(f"gravity weight of {category}", self.gravity_weights[category])
        return problems

    def validate(self) -> None:
        problems = self.errors()
        if problems:
            raise ValidationError(problems)


DEFAULT_SCHEME = Scheme()
DEFAULT_SCHEME.validate()
