"""RFGV scoring engines behind one call: `score(...)` returns the ranked list of eligible
perpetrators as ScoreRow, computed by DuckDB (default) or Apache Spark.

The definitions every engine implements are in saferhub.matac.scheme's docstring.

`source`, by engine:
- duckdb: an `IncidentStore` (saferhub.matac.store, the encrypted store of imported extracts),
  or the path of one extract file (CSV or Parquet in the documented schema), or a list of such
  paths. Extract files are validated exactly as an import would; rejected rows are left out.
- spark: a list of Parquet file paths in the normalised schema (`NORMALISED_COLUMNS`, validated
  rows only). `to_parquet_files(source, directory)` turns any DuckDB source into such files.

Every engine returns rows in rank order; `perpetrator_ids` keeps only those people and `top` only
ranks 1..top, without changing anyone's rank (a rank is always a position in the full list)."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, asdict
from pathlib import Path
from typing import Iterable, Sequence

from saferhub.matac.scheme import Scheme

ENGINES = ("duckdb", "spark")

# The normalised incident relation every engine reads (name, DuckDB type, Spark type).
NORMALISED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("incident_id", "VARCHAR", "string"),
    ("incident_date", "DATE", "date"),
    ("perpetrator_id", "VARCHAR", "string"),
    ("perpetrator_dob", "DATE", "date"),
    ("victim_id", "VARCHAR", "string"),
    ("offence_category", "VARCHAR", "string"),
    ("crime_flag", "BOOLEAN", "boolean"),
    ("location", "VARCHAR", "string"),
)


@dataclass(frozen=True)
class ScoreRow:
    """One eligible perpetrator's place in a ranked list. r, f, g are band points, v is the capped
    victim count; incident_count, distinct_victims and gravity_sum are the raw figures behind them."""

    rank: int
    perpetrator_id: str
    r: int
    f: int
    g: int
    v: int
    score: int
    incident_count: int
    distinct_victims: int
    gravity_sum: int
    last_incident_date: dt.date
    age_at_last_incident: int

    def as_dict(self) -> dict:
        return asdict(self)


def score(
    *,
    scheme: Scheme,
    reference_date: dt.date,
    source,
    engine: str = "duckdb",
    perpetrator_ids: Iterable[str] | None = None,
    top: int | None = None,
) -> list[ScoreRow]:
    """The ranked list of eligible perpetrators at `reference_date` under `scheme`."""
    if engine not in ENGINES:
        raise ValueError(f"Unknown scoring engine {engine!r}: choose one of {', '.join(ENGINES)}.")
    if top is not None and top < 1:
        raise ValueError("top must be at least 1.")
    ids = None if perpetrator_ids is None else sorted({str(p) for p in perpetrator_ids})
    if engine == "spark":
        from saferhub.matac.engines.spark_engine import score_spark

        return score_spark(scheme=scheme, reference_date=reference_date, source=source,
                           perpetrator_ids=ids, top=top)
    from saferhub.matac.engines.duckdb_engine import score_duckdb

    return score_duckdb(scheme=scheme, reference_date=reference_date, source=source, perpetrator_ids=ids, top=top)


def to_parquet_files(source, directory: str | os.PathLike) -> list[str]:
    """Parquet files in the normalised schema holding the validated rows of a DuckDB `source`
    (the store or extract files), for the Spark engine. The files are NOT encrypted: put them in
    a directory only the scoring process can read, and delete them after use."""
    from saferhub.matac.store import normalised_parquet

    return normalised_parquet(source, Path(directory))


def source_paths(source) -> Sequence[Path]:
    """The extract paths of a file source (one path or a list)."""
    if isinstance(source, (str, os.PathLike)):
        return [Path(source)]
    return [Path(p) for p in source]
