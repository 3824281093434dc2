"""RFGV scoring in pandas: the reference baseline the benchmark measures Saferhub against, written
the way a competent analyst would (read the columns needed, filter the window, group by), and
checked against the DuckDB engine so the comparison is like for like. Not one of the engines
`score()` offers: it holds everything in memory."""
from __future__ import annotations

import datetime as dt
import os
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from saferhub.matac.engines import ScoreRow
from saferhub.matac.scheme import Scheme

COLUMNS = ["incident_id", "incident_date", "perpetrator_id", "perpetrator_dob", "victim_id", "offence_category"]


def incidents_read(paths) -> pd.DataFrame:
    """The scoring columns of Parquet files in the normalised schema, dates as datetime64."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    frames = [pq.read_table(os.fspath(path), columns=COLUMNS).to_pandas(date_as_object=False) for path in paths]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _bands(values: pd.Series, bands, comparison: str, otherwise: int) -> np.ndarray:
    tests = {"<=": values.__le__, ">=": values.__ge__, ">": values.__gt__}[comparison]
    return np.select([tests(limit) for limit, _ in bands], [points for _, points in bands], default=otherwise)


def score_pandas(
    *,
    scheme: Scheme,
    reference_date: dt.date,
    source,
    perpetrator_ids: Iterable[str] | None = None,
    top: int | None = None,
) -> list[ScoreRow]:
    """The ranked list, from a DataFrame with COLUMNS or from Parquet paths."""
    scheme.validate()
    frame = source if isinstance(source, pd.DataFrame) else incidents_read(source)
    reference = pd.Timestamp(reference_date)
    start = pd.Timestamp(reference_date - dt.timedelta(days=scheme.window_days - 1))
    dates = pd.to_datetime(frame["incident_date"])
    window = frame.loc[(dates >= start) & (dates <= reference), COLUMNS].copy()
    window["incident_date"] = pd.to_datetime(window["incident_date"])
    window["perpetrator_dob"] = pd.to_datetime(window["perpetrator_dob"])
    window["weight"] = window["offence_category"].map(dict(scheme.gravity_weights))

    per_incident = window.groupby(["perpetrator_id", "incident_id"], sort=False)["weight"].max()
    per_perpetrator = per_incident.groupby(level="perpetrator_id", sort=False).agg(
        incident_count="size", gravity_sum="sum")
    facts = window.groupby("perpetrator_id", sort=False).agg(
        distinct_victims=("victim_id", "nunique"),
        last_incident_date=("incident_date", "max"),
        dob=("perpetrator_dob", "max"),
    )
    people = per_perpetrator.join(facts)
    last, dob = people["last_incident_date"], people["dob"]
    people["age_at_last_incident"] = (
        last.dt.year - dob.dt.year
        - ((last.dt.month * 100 + last.dt.day) < (dob.dt.month * 100 + dob.dt.day)).astype(int)
    )
    people = people[
        (people["incident_count"] >= scheme.min_incidents)
        & (people["distinct_victims"] >= scheme.min_victims)
        & (people["age_at_last_incident"] >= scheme.min_age)
    ].copy()

    days = (reference - people["last_incident_date"]).dt.days
    people["r"] = _bands(days, scheme.recency_bands, "<=", scheme.recency_else)
    people["f"] = _bands(people["incident_count"], scheme.frequency_bands, ">=", scheme.frequency_else)
    people["g"] = _bands(people["gravity_sum"], scheme.gravity_bands, ">", scheme.gravity_else)
    people["v"] = np.minimum(people["distinct_victims"], scheme.victims_cap)
    w = scheme.weights
    people["score"] = w["R"] * people["r"] + w["F"] * people["f"] + w["G"] * people["g"] + w["V"] * people["v"]

    people = people.reset_index().sort_values(
        ["score", "gravity_sum", "last_incident_date", "perpetrator_id"],
        ascending=[False, False, False, True], kind="mergesort",
    )
    people["rank"] = np.arange(1, len(people) + 1)
    if perpetrator_ids is not None:
        people = people[people["perpetrator_id"].isin(set(perpetrator_ids))]
    if top is not None:
        people = people[people["rank"] <= top]
    return [
        ScoreRow(
            rank=int(row.rank), perpetrator_id=row.perpetrator_id, r=int(row.r), f=int(row.f), g=int(row.g),
            v=int(row.v), score=int(row.score), incident_count=int(row.incident_count),
            distinct_victims=int(row.distinct_victims), gravity_sum=int(row.gravity_sum),
            last_incident_date=row.last_incident_date.date(), age_at_last_incident=int(row.age_at_last_incident),
        )
        for row in people.itertuples(index=False)
    ]
