"""The pandas baseline the benchmark measures against gives the DuckDB engine's ranked list, so
the benchmark compares like with like."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from saferhub.matac.engines import ScoreRow
from saferhub.matac.engines.pandas_engine import incidents_read, score_pandas
from saferhub.matac.scheme import DEFAULT_SCHEME
from saferhub.matac.tests import rfgv_cases


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return rfgv_cases.generated_extract(tmp_path_factory.mktemp("pandas") / "generated.parquet", incidents=4000, seed=5)


@pytest.mark.parametrize("reference_date", (dt.date(2026, 3, 31), dt.date(2025, 9, 1), dt.date(2024, 1, 31)))
def test_pandas_ranks_generated_extracts_exactly_as_duckdb(generated, reference_date):
    duckdb_rows = rfgv_cases.duckdb_ranking([generated], scheme=DEFAULT_SCHEME, reference_date=reference_date)
    pandas_rows = score_pandas(scheme=DEFAULT_SCHEME, reference_date=reference_date, source=[generated])
    assert len(duckdb_rows) > 50
    assert pandas_rows == duckdb_rows


def test_pandas_top_and_chosen_people_keep_their_rank(generated):
    reference = dt.date(2026, 3, 31)
    frame = incidents_read(generated)
    full = score_pandas(scheme=DEFAULT_SCHEME, reference_date=reference, source=frame)
    assert score_pandas(scheme=DEFAULT_SCHEME, reference_date=reference, source=frame, top=10) == full[:10]
    chosen = score_pandas(scheme=DEFAULT_SCHEME, reference_date=reference, source=frame,
                          perpetrator_ids=[full[7].perpetrator_id, "SYN-P-NOT-THERE"])
    assert chosen == [full[7]]


def test_pandas_gets_every_boundary_case_right(tmp_path):
    cases = rfgv_cases.boundary_cases()
    path = rfgv_cases.write(cases.table(), tmp_path / "boundaries.parquet")
    rows = score_pandas(scheme=DEFAULT_SCHEME, reference_date=rfgv_cases.REFERENCE, source=[path])
    by_person = {row.perpetrator_id: row for row in rows}
    assert set(by_person) == set(cases.expected)
    for person, figures in cases.expected.items():
        assert dataclasses.asdict(by_person[person]) == {
            "rank": by_person[person].rank, "perpetrator_id": person, **dataclasses.asdict(figures)}
    ranked = [row.perpetrator_id for row in rows]
    assert [person for person in ranked if person in rfgv_cases.TIE_ORDER] == rfgv_cases.TIE_ORDER
    assert rows == rfgv_cases.duckdb_ranking([path], scheme=DEFAULT_SCHEME, reference_date=rfgv_cases.REFERENCE)
    assert all(isinstance(row, ScoreRow) for row in rows)


def test_pandas_follows_the_scheme(tmp_path):
    cases = rfgv_cases.leap_day_cases()
    path = rfgv_cases.write(cases.table(), tmp_path / "leap.parquet")
    rows = score_pandas(scheme=DEFAULT_SCHEME.with_changes(min_age=17), reference_date=rfgv_cases.REFERENCE, source=[path])
    assert [(row.perpetrator_id, row.age_at_last_incident) for row in rows] == [("SYN-P-LEAP-01", 17)]
