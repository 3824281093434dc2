"""Synthetic police domestic abuse incident extracts for MATAC tests and benchmarks: realistic in
shape (most perpetrators have one to three incidents against one victim; a long tail of serial
perpetrators moves from victim to victim), clearly fake in every identifier, and deterministic for
a given seed. Large extracts are built in numpy batches and streamed to Parquet or CSV, so ten
million incidents never sit in memory as Python objects."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from saferhub.matac.scheme import CATEGORIES

EPOCH = dt.date(1970, 1, 1)

# The share of incident rows each offence category takes, in the order of scheme.CATEGORIES.
# Ordinary perpetrators are mostly non-crime incidents, common assault and harassment; the serial
# tail carries more coercive control, stalking and serious violence.
ORDINARY_MIX = (0.34, 0.09, 0.15, 0.21, 0.04, 0.05, 0.02, 0.04, 0.02, 0.012, 0.008, 0.006, 0.004)
SERIAL_MIX = (0.22, 0.08, 0.14, 0.18, 0.08, 0.07, 0.05, 0.08, 0.04, 0.025, 0.015, 0.01, 0.005)

# The former district areas of North Yorkshire and York, as a police extract's location field.
LOCATIONS = (
    "York", "Scarborough", "Harrogate", "Hambleton", "Richmondshire", "Ryedale", "Selby", "Craven",
)

BAD_ROW_KINDS = (
    "missing_incident_id", "missing_perpetrator_id", "missing_victim_id", "missing_incident_date",
    "future_incident_date", "unknown_offence_category", "dob_after_incident",
)

# Perpetrators are drawn in batches of this many; fixed so a seed always gives the same extract.
PERPETRATOR_BATCH = 100_000
SERIAL_SHARE = 0.07
EXTRA_VICTIM_SHARE = 0.05
DOB_DISAGREEMENT_SHARE = 0.01


@dataclass(frozen=True)
class ExtractSpec:
    """What to generate: the number of distinct incidents, the seed, the last day of the extract
    and how many years it covers, a share of deliberately bad rows, and whether to add the optional
    crime flag and location columns."""

    incidents: int
    seed: int = 2026
    end_date: dt.date = dt.date(2026, 3, 31)
    years: float = 4.0
    bad_fraction: float = 0.0
    optional_columns: bool = True

    def __post_init__(self):
        if self.incidents < 1:
            raise ValueError("incidents must be at least 1")
        if not 0 <= self.bad_fraction < 1:
            raise ValueError("bad_fraction must be at least 0 and below 1")
        if self.years <= 0:
            raise ValueError("years must be positive")


@dataclass
class ExtractSummary:
    """What an extract holds: rows, distinct incidents, perpetrators and victims, and the bad rows
    by kind."""

    rows: int = 0
    incidents: int = 0
    perpetrators: int = 0
    victims: int = 0
    bad_rows: Counter = field(default_factory=Counter)


def _days(value: dt.date) -> int:
    return (value - EPOCH).days


def _padded_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, type=pa.int64()), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _incident_ids(numbers: np.ndarray, days: np.ndarray) -> pa.Array:
    # Police references read "SYN-<year of the incident>-<8 digits>"; the SYN prefix marks them fake.
    years = pc.year(pa.array(days.astype(np.int32), type=pa.date32()))
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, type=pa.int64()), pa.string()), width=8, padding="0")
    return pc.binary_join_element_wise("SYN", pc.cast(years, pa.string()), digits, "-")


def _draw_perpetrators(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Incidents, victims and serial flag for `count` perpetrators."""
    serial = rng.random(count) < SERIAL_SHARE
    ordinary_incidents = rng.choice(np.array([1, 2, 3]), size=count, p=[0.6, 0.27, 0.13])
    # The tail: four or more incidents, geometric with a long reach, capped at 60.
    tail_incidents = np.minimum(3 + rng.geometric(0.11, size=count), 60)
    incidents = np.where(serial, tail_incidents, ordinary_incidents)
    ordinary_victims = np.where(rng.random(count) < 0.06, 2, 1)
    # Of the tail, two in five stay with one victim (repeat, not serial); the rest have 2 to 9.
    tail_victims = np.where(rng.random(count) < 0.4, 1, np.minimum(1 + rng.geometric(0.4, size=count), 9))
    victims = np.minimum(np.where(serial, tail_victims, ordinary_victims), incidents)
    return incidents.astype(np.int64), victims.astype(np.int64), serial


class _Generator:
    """Walks perpetrator batches, keeping the running counters of incidents and victims."""

    def __init__(self, spec: ExtractSpec):
        self.spec = spec
        self.rng = np.random.default_rng(spec.seed)
        self.end = _days(spec.end_date)
        self.span = int(round(spec.years * 365.25))
        self.start = self.end - self.span + 1
        self.next_incident = 1
        self.next_perpetrator = 1
        self.next_victim = 1
        self.summary = ExtractSummary()

    def batches(self) -> Iterator[pa.RecordBatch]:
        while self.summary.incidents < self.spec.incidents:
            yield self._batch(self.spec.incidents - self.summary.incidents)

    def _batch(self, wanted: int) -> pa.RecordBatch:
        rng = self.rng
        incidents, victims, serial = _draw_perpetrators(rng, PERPETRATOR_BATCH)
        running = np.cumsum(incidents)
        if running[-1] >= wanted:
            keep = int(np.searchsorted(running, wanted)) + 1
            incidents, victims, serial = incidents[:keep], victims[:keep], serial[:keep]
            incidents[-1] -= int(incidents.sum() - wanted)
            victims = np.minimum(victims, incidents)
        people = len(incidents)
        total = int(incidents.sum())

        # Each perpetrator is active for a stretch of the extract: a year at most for most, up to
        # three years for the tail. Incidents fall at random within it, in date order.
        first = self.start + rng.integers(0, self.span, size=people)
        reach = np.where(serial, rng.integers(60, 1100, size=people), rng.integers(1, 366, size=people))
        reach = np.minimum(reach, self.end - first + 1)
        owner = np.repeat(np.arange(people), incidents)
        starts = np.repeat(np.cumsum(incidents) - incidents, incidents)
        rank = np.arange(total) - starts
        offsets = rng.random(total)
        offsets = offsets[np.lexsort((offsets, owner))]
        days = first[owner] + np.floor(offsets * reach[owner]).astype(np.int64)
        days[rank == 0] = first[owner[rank == 0]]

        # Victims in turn: a serial perpetrator moves on from one victim to the next over time.
        victim_base = self.next_victim + np.cumsum(victims) - victims
        victim = victim_base[owner] + (rank * victims[owner]) // incidents[owner]
        self.next_victim += int(victims.sum())

        mix = np.where(serial[owner], 1, 0)
        category = np.where(
            mix == 1,
            rng.choice(len(CATEGORIES), size=total, p=_normalised(SERIAL_MIX)),
            rng.choice(len(CATEGORIES), size=total, p=_normalised(ORDINARY_MIX)),
        )
        incident_number = self.next_incident + np.arange(total)
        self.next_incident += total

        # Ages 14 to 80 at the first incident, most between 20 and 45.
        age_days = np.floor(np.clip(14 + rng.gamma(3.0, 6.5, size=people), 14, 80.9) * 365.25).astype(np.int64)
        dob = first - age_days
        perpetrator_number = self.next_perpetrator + np.arange(people)
        self.next_perpetrator += people
        location = rng.integers(0, len(LOCATIONS), size=people)[owner]

        # Some incidents have a second victim (a child or another family member): a second row.
        extra = np.flatnonzero(rng.random(total) < EXTRA_VICTIM_SHARE)
        extra_victims = self.next_victim + np.arange(len(extra))
        self.next_victim += len(extra)
        rows_owner = np.concatenate([owner, owner[extra]])
        rows_days = np.concatenate([days, days[extra]])
        rows_victim = np.concatenate([victim, extra_victims])
        rows_category = np.concatenate([category, category[extra]])
        rows_incident = np.concatenate([incident_number, incident_number[extra]])
        rows_location = np.concatenate([location, location[extra]])
        rows_dob = dob[rows_owner].copy()
        # Records disagree now and then: a perpetrator's date of birth a year out on some rows.
        disagree = rng.random(len(rows_dob)) < DOB_DISAGREEMENT_SHARE
        rows_dob[disagree] += np.where(rng.random(int(disagree.sum())) < 0.5, -365, 365)

        # Extracts arrive in no useful order.
        order = rng.permutation(len(rows_owner))
        rows_owner, rows_days, rows_victim = rows_owner[order], rows_days[order], rows_victim[order]
        rows_category, rows_incident = rows_category[order], rows_incident[order]
        rows_location, rows_dob = rows_location[order], rows_dob[order]

        columns = {
            "incident_id": _incident_ids(rows_incident, rows_days),
            "incident_date": pa.array(rows_days.astype(np.int32), type=pa.date32()),
            "perpetrator_id": _padded_ids("SYN-P", perpetrator_number[rows_owner], 8),
            "perpetrator_dob": pa.array(rows_dob.astype(np.int32), type=pa.date32()),
            "victim_id": _padded_ids("SYN-V", rows_victim, 9),
            "offence_category": pa.array(np.array(CATEGORIES, dtype=object)[rows_category], type=pa.string()),
        }
        if self.spec.optional_columns:
            columns["crime_flag"] = pa.array(rows_category != CATEGORIES.index("non_crime"))
            columns["location"] = pa.array(np.array(LOCATIONS, dtype=object)[rows_location], type=pa.string())
        if self.spec.bad_fraction:
            columns = self._spoil(columns, len(rows_owner))

        self.summary.rows += len(rows_owner)
        self.summary.incidents += total
        self.summary.perpetrators += people
        self.summary.victims += int(victims.sum()) + len(extra)
        return pa.RecordBatch.from_pydict(columns)

    def _spoil(self, columns: dict, rows: int) -> dict:
        """Spoils a share of the rows, one fault each, cycling through BAD_ROW_KINDS."""
        rng = self.rng
        bad = np.flatnonzero(rng.random(rows) < self.spec.bad_fraction)
        kinds = rng.integers(0, len(BAD_ROW_KINDS), size=len(bad))
        columns = {name: column.to_numpy(zero_copy_only=False).copy() for name, column in columns.items()}
        for number, kind in enumerate(BAD_ROW_KINDS):
            where = bad[kinds == number]
            self.summary.bad_rows[kind] += len(where)
            if not len(where):
                continue
            if kind == "missing_incident_id":
                columns["incident_id"][where] = None
            elif kind == "missing_perpetrator_id":
                columns["perpetrator_id"][where] = None
            elif kind == "missing_victim_id":
                columns["victim_id"][where] = None
            elif kind == "missing_incident_date":
                columns["incident_date"] = columns["incident_date"].astype(object)
                columns["incident_date"][where] = None
            elif kind == "future_incident_date":
                columns["incident_date"] = columns["incident_date"].astype(object)
                columns["incident_date"][where] = self.spec.end_date + dt.timedelta(days=3650)
            elif kind == "unknown_offence_category":
                columns["offence_category"][where] = "burglary"
            elif kind == "dob_after_incident":
                columns["perpetrator_dob"] = columns["perpetrator_dob"].astype(object)
                incident = columns["incident_date"][where]
                columns["perpetrator_dob"][where] = [
                    None if day is None else _as_date(day) + dt.timedelta(days=30) for day in incident
                ]
        types = {
            "incident_date": pa.date32(), "perpetrator_dob": pa.date32(), "crime_flag": pa.bool_(),
        }
        return {
            name: pa.array(_as_dates(values) if types.get(name) == pa.date32() else values,
                           type=types.get(name, pa.string()))
            for name, values in columns.items()
        }


def _as_date(value) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(np.datetime64(value, "D")))


def _as_dates(values: np.ndarray) -> list:
    return [None if value is None else _as_date(value) for value in values]


def _normalised(shares: tuple) -> np.ndarray:
    weights = np.array(shares, dtype=float)
    return weights / weights.sum()


def extract_batches(spec: ExtractSpec, summary: ExtractSummary | None = None) -> Iterator[pa.RecordBatch]:
    """The extract of `spec` as Arrow record batches; `summary`, when given, fills as they go."""
    generator = _Generator(spec)
    if summary is not None:
        generator.summary = summary
    yield from generator.batches()


def extract_table(spec: ExtractSpec) -> tuple[pa.Table, ExtractSummary]:
    """The whole extract of `spec` in memory, for tests and small runs."""
    summary = ExtractSummary()
    batches = list(extract_batches(spec, summary))
    return pa.Table.from_batches(batches), summary


def extract_write(spec: ExtractSpec, path: str | Path) -> ExtractSummary:
    """Writes the extract of `spec` to `path`: Parquet for `.parquet`, CSV for `.csv`. Returns what
    was written."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".parquet", ".csv"}:
        raise ValueError(f"{path}: the extract file must end in .parquet or .csv")
    summary = ExtractSummary()
    writer = None
    try:
        for batch in extract_batches(spec, summary):
            if writer is None:
                if suffix == ".parquet":
                    writer = pq.ParquetWriter(path, batch.schema, compression="zstd")
                else:
                    writer = pa_csv.CSVWriter(path, batch.schema)
            if suffix == ".parquet":
                writer.write_batch(batch, row_group_size=1_000_000)
            else:
                writer.write_batch(batch)
    finally:
        if writer is not None:
            writer.close()
    return summary
