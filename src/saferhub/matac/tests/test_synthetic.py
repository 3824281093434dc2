"""The synthetic extract generator: deterministic, shaped like police data (most perpetrators one
to three incidents and one victim, a tail of serial perpetrators), clearly fake ids, and bad rows
injected in a known number that the import rejects exactly."""
from __future__ import annotations

import datetime as dt
import re

import duckdb
import pyarrow.parquet as pq
import pytest

from saferhub.matac.scheme import CATEGORIES
from saferhub.matac.store import connect, validate_extract
from saferhub.matac.synthetic import BAD_ROW_KINDS, ExtractSpec, extract_table, extract_write

END = dt.date(2026, 3, 31)


@pytest.fixture(scope="module")
def extract():
    table, summary = extract_table(ExtractSpec(incidents=60_000, seed=3, end_date=END))
    con = duckdb.connect()
    con.register("extract", table)
    yield table, summary, con
    con.close()


def test_same_seed_same_extract_and_another_seed_another():
    first, _ = extract_table(ExtractSpec(incidents=5000, seed=9))
    again, _ = extract_table(ExtractSpec(incidents=5000, seed=9))
    other, _ = extract_table(ExtractSpec(incidents=5000, seed=10))
    assert first.equals(again)
    assert not first.equals(other)


def test_counts_match_the_summary(extract):
    table, summary, con = extract
    incidents, perpetrators, victims, rows = con.execute(
        "SELECT count(DISTINCT incident_id), count(DISTINCT perpetrator_id), count(DISTINCT victim_id), count(*) "
        "FROM extract").fetchone()
    assert incidents == summary.incidents == 60_000
    assert (perpetrators, victims, rows) == (summary.perpetrators, summary.victims, summary.rows)
    # Some incidents have a second victim, so there are a few percent more rows than incidents.
    assert 1.02 < rows / incidents < 1.10
    assert con.execute("SELECT count(*) FROM (SELECT DISTINCT incident_id, perpetrator_id, victim_id FROM extract)"
                       ).fetchone()[0] == rows


def test_most_perpetrators_have_few_incidents_and_one_victim_with_a_serial_tail(extract):
    _, _, con = extract
    con.execute("""CREATE OR REPLACE TEMP TABLE people AS SELECT perpetrator_id,
        count(DISTINCT incident_id) AS incidents, count(DISTINCT victim_id) AS victims FROM extract GROUP BY 1""")
    few, one_victim, serial, heavy, most = con.execute("""SELECT avg((incidents <= 3)::INT), avg((victims = 1)::INT),
        sum((incidents >= 2 AND victims >= 2)::INT), sum((incidents >= 11 AND victims >= 3)::INT), max(incidents)
        FROM people""").fetchone()
    assert few > 0.85
    assert one_victim > 0.75
    assert 0.05 < serial / con.execute("SELECT count(*) FROM people").fetchone()[0] < 0.25
    assert heavy > 50
    assert most >= 30


def test_categories_dates_ages_and_ids_look_like_a_police_extract(extract):
    table, _, con = extract
    shares = dict(con.execute("SELECT offence_category, count(*) / sum(count(*)) OVER () FROM extract GROUP BY 1").fetchall())
    assert set(shares) == set(CATEGORIES)
    assert sorted(shares, key=shares.get, reverse=True)[:3] == ["non_crime", "common_assault", "harassment"]
    assert shares["rape"] < 0.01
    first, last = con.execute("SELECT min(incident_date), max(incident_date) FROM extract").fetchone()
    assert last == END and (END - first).days in range(1450, 1462)
    youngest, oldest = con.execute("""SELECT min(age), max(age) FROM (SELECT perpetrator_id,
        min(date_diff('day', perpetrator_dob, incident_date)) / 365.25 AS age FROM extract GROUP BY 1)""").fetchone()
    assert 13.9 < youngest < 14.5 and 78 < oldest < 82
    sample = table.slice(0, 200).to_pylist()
    assert all(re.fullmatch(r"SYN-\d{4}-\d{8}", row["incident_id"]) for row in sample)
    assert all(row["incident_id"][4:8] == str(row["incident_date"].year) for row in sample)
    assert all(re.fullmatch(r"SYN-P\d{8}", row["perpetrator_id"]) for row in sample)
    assert all(re.fullmatch(r"SYN-V\d{9}", row["victim_id"]) for row in sample)
    assert all(row["crime_flag"] == (row["offence_category"] != "non_crime") for row in sample)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_bad_rows_are_injected_in_the_share_asked_and_the_import_rejects_exactly_them(tmp_path, suffix):
    spec = ExtractSpec(incidents=8000, seed=4, bad_fraction=0.03, end_date=END)
    summary = extract_write(spec, tmp_path / f"extract{suffix}")
    bad = sum(summary.bad_rows.values())
    assert set(summary.bad_rows) == set(BAD_ROW_KINDS)
    assert 0.02 < bad / summary.rows < 0.04
    con = connect()
    try:
        result = validate_extract(con, tmp_path / f"extract{suffix}", today=dt.date(2026, 11, 1))
    finally:
        con.close()
    assert result.rows_read == summary.rows
    assert result.rows_rejected == bad
    reasons = " ".join(reasons for _, _, reasons in result.rejects)
    for phrase in ("incident_id is missing", "perpetrator_id is missing", "victim_id is missing",
                   "incident_date is missing", "incident_date is in the future",
                   "offence_category is not a known category", "perpetrator_dob is not before incident_date"):
        assert phrase in reasons


def test_the_same_spec_writes_the_same_parquet_rows(tmp_path):
    spec = ExtractSpec(incidents=3000, seed=21, optional_columns=False)
    extract_write(spec, tmp_path / "a.parquet")
    extract_write(spec, tmp_path / "b.parquet")
    a, b = pq.read_table(tmp_path / "a.parquet"), pq.read_table(tmp_path / "b.parquet")
    assert a.equals(b)
    assert a.column_names == ["incident_id", "incident_date", "perpetrator_id", "perpetrator_dob", "victim_id",
                              "offence_category"]


def test_spec_refuses_nonsense():
    with pytest.raises(ValueError, match="incidents"):
        ExtractSpec(incidents=0)
    with pytest.raises(ValueError, match="bad_fraction"):
        ExtractSpec(incidents=10, bad_fraction=1.5)
    with pytest.raises(ValueError, match=r"\.parquet or \.csv"):
        extract_write(ExtractSpec(incidents=10), "extract.xlsx")
