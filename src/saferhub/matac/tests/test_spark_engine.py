"""The Spark engine ranks exactly as the DuckDB engine does, and gets every RFGV boundary right.
One local Spark session serves the whole module and is stopped at its end."""
from __future__ import annotations

import dataclasses
import datetime as dt
import os

import pytest

from saferhub.matac.engines import ScoreRow, score
from saferhub.matac.engines.spark_engine import score_spark, spark_session, spark_session_stop
from saferhub.matac.scheme import DEFAULT_SCHEME
from saferhub.matac.tests import rfgv_cases

REFERENCE_DATES = (dt.date(2026, 3, 31), dt.date(2025, 2, 28), dt.date(2024, 8, 15))


@pytest.fixture(scope="module")
def spark():
    saved = {name: os.environ.get(name) for name in ("SAFERHUB_SPARK_MASTER", "SAFERHUB_SPARK_SHUFFLE_PARTITIONS")}
    os.environ.update(SAFERHUB_SPARK_MASTER="local[2]", SAFERHUB_SPARK_SHUFFLE_PARTITIONS="2")
    # A session left running by an earlier test module would carry its own configuration.
    spark_session_stop()
    session = spark_session()
    try:
        yield session
    finally:
        spark_session_stop()
        # Nothing outlives the module: no session, no running context for a later test to inherit.
        from pyspark import SparkContext
        from pyspark.sql import SparkSession

        assert SparkSession.getActiveSession() is None and SparkContext._active_spark_context is None
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return rfgv_cases.generated_extract(tmp_path_factory.mktemp("spark") / "generated.parquet")


@pytest.fixture(scope="module")
def boundaries(tmp_path_factory):
    cases = rfgv_cases.boundary_cases()
    return cases, rfgv_cases.write(cases.table(), tmp_path_factory.mktemp("spark") / "boundaries.parquet")


def _expected_rows(cases) -> list[ScoreRow]:
    """ScoreRows from the hand-written figures, in the order the scheme defines."""
    ordered = sorted(cases.expected.items(), key=lambda item: item[0])
    ordered.sort(key=lambda item: item[1].last_incident_date, reverse=True)
    ordered.sort(key=lambda item: (item[1].score, item[1].gravity_sum), reverse=True)
    return [ScoreRow(rank=rank, perpetrator_id=person, **dataclasses.asdict(figures))
            for rank, (person, figures) in enumerate(ordered, start=1)]


def test_session_is_local_without_a_web_ui(spark):
    conf = spark.sparkContext.getConf()
    assert spark.sparkContext.master == "local[2]"
    assert conf.get("spark.ui.enabled") == "false"
    assert conf.get("spark.driver.host") == "127.0.0.1"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "2"


@pytest.mark.parametrize("reference_date", REFERENCE_DATES)
def test_spark_ranks_generated_extracts_exactly_as_duckdb(spark, generated, reference_date):
    duckdb_rows = rfgv_cases.duckdb_ranking([generated], scheme=DEFAULT_SCHEME, reference_date=reference_date)
    spark_rows = score(scheme=DEFAULT_SCHEME, reference_date=reference_date, source=[str(generated)], engine="spark")
    assert len(duckdb_rows) > 50
    # The clones tie with their originals on everything but the id.
    scores = [(row.score, row.gravity_sum, row.last_incident_date) for row in duckdb_rows]
    assert len(set(scores)) < len(scores)
    assert spark_rows == duckdb_rows


def test_spark_top_and_chosen_people_keep_their_rank(spark, generated):
    reference = REFERENCE_DATES[0]
    full = rfgv_cases.duckdb_ranking([generated], scheme=DEFAULT_SCHEME, reference_date=reference)
    chosen = [full[0].perpetrator_id, full[40].perpetrator_id, full[-1].perpetrator_id, "SYN-P-NOT-THERE"]
    spark_top = score_spark(scheme=DEFAULT_SCHEME, reference_date=reference, source=[str(generated)], top=25)
    spark_chosen = score_spark(scheme=DEFAULT_SCHEME, reference_date=reference, source=[str(generated)],
                               perpetrator_ids=chosen)
    assert spark_top == full[:25]
    assert spark_chosen == [full[0], full[40], full[-1]]


def test_spark_gets_every_boundary_case_right(spark, boundaries):
    cases, path = boundaries
    rows = score_spark(scheme=DEFAULT_SCHEME, reference_date=rfgv_cases.REFERENCE, source=[str(path)])
    assert rows == _expected_rows(cases)
    ranked = [row.perpetrator_id for row in rows]
    assert [person for person in ranked if person in rfgv_cases.TIE_ORDER] == rfgv_cases.TIE_ORDER
    assert not set(ranked) & set(cases.ineligible)
    assert rows == rfgv_cases.duckdb_ranking([path], scheme=DEFAULT_SCHEME, reference_date=rfgv_cases.REFERENCE)


def test_spark_takes_every_parameter_from_the_scheme(spark, tmp_path):
    cases = rfgv_cases.leap_day_cases()
    path = rfgv_cases.write(cases.table(), tmp_path / "leap.parquet")
    scheme = DEFAULT_SCHEME.with_changes(min_age=17)
    rows = score_spark(scheme=scheme, reference_date=rfgv_cases.REFERENCE, source=[str(path)])
    assert rows == _expected_rows(cases)
    assert [row.perpetrator_id for row in rows] == ["SYN-P-LEAP-01"]
    # A different scheme changes weights, bands and the window at once, and both engines follow it.
    generous = DEFAULT_SCHEME.with_changes(
        window_days=400, weights={"R": 3, "F": 1, "G": 2, "V": 1}, victims_cap=3,
        gravity_weights={**DEFAULT_SCHEME.gravity_weights, "non_crime": 7},
        recency_bands=((30, 9), (400, 6)), recency_else=0,
    )
    rows = score_spark(scheme=generous, reference_date=rfgv_cases.REFERENCE, source=[str(path)])
    assert [(row.perpetrator_id, row.r, row.g, row.gravity_sum, row.score) for row in rows] == [
        ("SYN-P-LEAP-01", 6, 2, 14, 3 * 6 + 2 + 2 * 2 + 2),
        ("SYN-P-LEAP-28", 6, 2, 14, 3 * 6 + 2 + 2 * 2 + 2),
    ]
    assert rows == rfgv_cases.duckdb_ranking([path], scheme=generous, reference_date=rfgv_cases.REFERENCE)


def test_spark_refuses_missing_input(spark, tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.parquet"):
        score_spark(scheme=DEFAULT_SCHEME, reference_date=rfgv_cases.REFERENCE, source=[str(tmp_path / "missing.parquet")])
