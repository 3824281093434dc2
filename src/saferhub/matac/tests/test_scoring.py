"""RFGV scoring in DuckDB: every band boundary, eligibility, the window's edges, tie-breaks, and
ranks that filtering never changes. Data is scored straight from synthetic CSV extracts."""
import datetime as dt

import pytest

from saferhub.matac.engines import score
from saferhub.matac.scheme import DEFAULT_SCHEME
from saferhub.matac.tests.scoring_fixtures import REF, categories_summing_to, row, write_csv


def scored(tmp_path, rows, scheme=DEFAULT_SCHEME, **kwargs):
    return score(scheme=scheme, reference_date=REF, source=write_csv(tmp_path / "extract.csv", rows), **kwargs)


def only(tmp_path, rows, **kwargs):
    result = scored(tmp_path, rows, **kwargs)
    assert len(result) == 1, result
    return result[0]


def pair(last_days, first_days=1000, **extra):
    """Two incidents against two victims; the latest `last_days` before the reference date."""
    return [row("I1", first_days, victim="V1", **extra), row("I2", last_days, victim="V2", **extra)]


@pytest.mark.parametrize("days,points", [(0, 5), (91, 5), (92, 4), (182, 4), (183, 3), (365, 3), (366, 2), (730, 2),
                                         (731, 1)])
def test_recency_band_boundaries(tmp_path, days, points):
    result = only(tmp_path, pair(days, first_days=1094))
    assert result.r == points
    assert result.last_incident_date == REF - dt.timedelta(days=days)


@pytest.mark.parametrize("incidents,points", [(2, 2), (3, 2), (4, 3), (6, 3), (7, 4), (10, 4), (11, 5)])
def test_frequency_band_boundaries(tmp_path, incidents, points):
    rows = [row(f"I{n}", 10 + n, victim=f"V{n % 2}") for n in range(incidents)]
    result = only(tmp_path, rows)
    assert (result.incident_count, result.f) == (incidents, points)


def test_frequency_of_one_incident_when_a_scheme_allows_it(tmp_path):
    scheme = DEFAULT_SCHEME.with_changes(min_incidents=1)
    result = only(tmp_path, [row("I1", 5, victim="V1"), row("I1", 5, victim="V2")], scheme=scheme)
    assert (result.incident_count, result.f, result.distinct_victims) == (1, 1, 2)


@pytest.mark.parametrize("total,points", [(5, 1), (6, 2), (15, 2), (16, 3), (30, 3), (31, 4), (60, 4), (61, 5)])
def test_gravity_band_boundaries(tmp_path, total, points):
    rows = [row(f"I{n}", 10 + n, victim=f"V{n % 2}", category=category)
            for n, category in enumerate(categories_summing_to(total))]
    result = only(tmp_path, rows)
    assert (result.gravity_sum, result.g) == (total, points)


def test_gravity_takes_the_highest_weight_of_an_incident_once(tmp_path):
    rows = [row("I1", 10, victim="V1", category="rape"), row("I1", 10, victim="V2", category="common_assault"),
            row("I2", 20, victim="V2", category="harassment")]
    result = only(tmp_path, rows)
    assert (result.incident_count, result.gravity_sum, result.distinct_victims) == (2, 28, 2)


def test_victims_are_capped_at_five(tmp_path):
    rows = [row(f"I{n}", 10 + n, victim=f"V{n}") for n in range(7)]
    result = only(tmp_path, rows)
    assert (result.distinct_victims, result.v) == (7, 5)
    assert result.score == result.r + result.f + result.g + 2 * 5


def test_score_is_r_f_g_plus_twice_v(tmp_path):
    result = only(tmp_path, pair(100))
    assert (result.r, result.f, result.g, result.v) == (4, 2, 2, 2)
    assert result.score == 4 + 2 + 2 + 2 * 2


def test_exactly_two_victims_is_eligible_one_is_not(tmp_path):
    rows = pair(10, perp="TWO") + [row("I3", 10, perp="ONE", victim="V1"), row("I4", 20, perp="ONE", victim="V1")]
    assert [r.perpetrator_id for r in scored(tmp_path, rows)] == ["TWO"]


def test_one_incident_with_two_victims_is_not_eligible(tmp_path):
    assert scored(tmp_path, [row("I1", 10, victim="V1"), row("I1", 10, victim="V2")]) == []




def test_aged_sixteen_on_the_last_incident_day_is_eligible(tmp_path):
    last = REF - dt.timedelta(days=10)
    dob = last.replace(year=last.year - 16)
    result = only(tmp_path, pair(10, first_days=100, dob=dob.isoformat()))
    assert result.age_at_last_incident == 16


def test_the_day_before_the_sixteenth_birthday_is_not_eligible(tmp_path):
    last = REF - dt.timedelta(days=10)
    dob = last.replace(year=last.year - 16) + dt.timedelta(days=1)
    assert scored(tmp_path, pair(10, first_days=100, dob=dob.isoformat())) == []


def test_age_uses_the_latest_dob_recorded_in_the_window(tmp_path):
    last = REF - dt.timedelta(days=10)
    young = last.replace(year=last.year - 15).isoformat()
    rows = [row("I1", 100, victim="V1", dob="1980-01-01"), row("I2", 10, victim="V2", dob=young)]
    assert scored(tmp_path, rows) == []


def test_leap_day_birthday_counts_from_first_of_march(tmp_path):
    ref = dt.date(2026, 3, 1)
    rows = [row("I1", 30, victim="V1", dob="2008-02-29", ref=ref), row("I2", 0, victim="V2", dob="2008-02-29", ref=ref)]
    result = score(scheme=DEFAULT_SCHEME, reference_date=ref, source=write_csv(tmp_path / "x.csv", rows))
    assert result[0].age_at_last_incident == 18
    rows = [row("I1", 30, victim="V1", dob="2010-02-28", ref=ref), row("I2", 1, victim="V2", dob="2010-02-28", ref=ref)]
    rows[1]["perpetrator_dob"] = "2010-03-01"
    assert score(scheme=DEFAULT_SCHEME, reference_date=ref, source=write_csv(tmp_path / "y.csv", rows)) == []


def test_window_edges_day_1094_in_day_1095_out(tmp_path):
    rows = [row("EDGE_IN", 1094, victim="V1"), row("EDGE_OUT", 1095, victim="V2"), row("I3", 10, victim="V3")]
    result = only(tmp_path, rows)
    assert result.incident_count == 2 and result.distinct_victims == 2


def test_only_an_incident_outside_the_window_makes_one_ineligible(tmp_path):
    rows = [row("OUT", 1095, victim="V1"), row("I2", 10, victim="V2")]
    assert scored(tmp_path, rows) == []


def test_incidents_after_the_reference_date_are_excluded(tmp_path):
    ref = REF - dt.timedelta(days=30)
    rows = [row("I1", 100, victim="V1"), row("I2", 50, victim="V2"), row("LATER", 10, victim="V3")]
    result = score(scheme=DEFAULT_SCHEME, reference_date=ref, source=write_csv(tmp_path / "x.csv", rows))
    assert result[0].incident_count == 2 and result[0].last_incident_date == REF - dt.timedelta(days=50)
    assert result[0].r == 5


def test_tie_break_one_gravity_sum(tmp_path):
    # Both G band 3 (sum 16 vs 20), same R, F, V: the higher gravity sum ranks first.
    rows = [row("A1", 10, perp="A", victim="V1", category="common_assault"),
            row("A2", 20, perp="A", victim="V2", category="threats_to_kill"),
            row("B1", 10, perp="B", victim="V1", category="common_assault"),
            row("B2", 20, perp="B", victim="V2", category="gbh")]
    result = scored(tmp_path, rows)
    assert [(r.rank, r.perpetrator_id, r.score) for r in result] == [(1, "B", result[0].score), (2, "A", result[0].score)]


def test_tie_break_two_most_recent_incident(tmp_path):
    rows = [row("A1", 10, perp="A", victim="V1"), row("A2", 200, perp="A", victim="V2"),
            row("B1", 11, perp="B", victim="V1"), row("B2", 200, perp="B", victim="V2")]
    result = scored(tmp_path, rows)
    assert result[0].score == result[1].score and result[0].gravity_sum == result[1].gravity_sum
    assert [r.perpetrator_id for r in result] == ["A", "B"]


def test_tie_break_three_perpetrator_id_ascending(tmp_path):
    rows = []
    for perp in ("P2", "P10", "P1"):
        rows += [row(f"{perp}-1", 10, perp=perp, victim="V1"), row(f"{perp}-2", 200, perp=perp, victim="V2")]
    result = scored(tmp_path, rows)
    assert [(r.rank, r.perpetrator_id) for r in result] == [(1, "P1"), (2, "P10"), (3, "P2")]


def test_score_wins_over_gravity_sum(tmp_path):
    rows = [row("A1", 10, perp="A", victim="V1"), row("A2", 20, perp="A", victim="V2"), row("A3", 30, perp="A", victim="V3"),
            row("A4", 40, perp="A", victim="V4"), row("B1", 10, perp="B", victim="V1", category="rape"), row("B2", 20, perp="B", victim="V2", category="rape")]
    result = scored(tmp_path, rows)
    assert [r.perpetrator_id for r in result] == ["A", "B"]
    assert result[0].score > result[1].score and result[0].gravity_sum < result[1].gravity_sum


def test_top_and_perpetrator_filter_keep_ranks(tmp_path):
    rows = []
    for n, perp in enumerate(["P1", "P2", "P3", "P4"]):
        rows += [row(f"{perp}-1", 10 + n * 100, perp=perp, victim="V1"), row(f"{perp}-2", 20 + n * 100, perp=perp, victim="V2")]
    full = scored(tmp_path, rows)
    assert [r.rank for r in full] == [1, 2, 3, 4]
    assert scored(tmp_path, rows, top=2) == full[:2]
    assert scored(tmp_path, rows, perpetrator_ids=["P3"]) == [full[2]]
    assert scored(tmp_path, rows, perpetrator_ids=["P3", "P1"], top=2) == [full[0]]


def test_weights_and_bands_come_from_the_scheme(tmp_path):
    scheme = DEFAULT_SCHEME.with_changes(weights={"R": 0, "F": 0, "G": 0, "V": 10}, victims_cap=2)
    rows = [row(f"I{n}", 10 + n, victim=f"V{n}") for n in range(4)]
    result = only(tmp_path, rows, scheme=scheme)
    assert (result.v, result.score) == (2, 20)


def test_unknown_engine_is_refused(tmp_path):
    with pytest.raises(ValueError, match="Unknown scoring engine"):
        scored(tmp_path, pair(10), engine="excel")


def test_a_hash_collision_never_leaves_anyone_out(tmp_path):
    """The engine proves "two different ids" from 8-byte hashes where they differ and compares the
    ids themselves where they are equal. With every hash made equal (a temporary macro shadows
    DuckDB's hash(), as if every id collided), each person goes the exact way: same ranked list,
    on generated data and on the boundary cases."""
    from saferhub.matac.engines.duckdb_engine import score_relation
    from saferhub.matac.store import connect
    from saferhub.matac.tests import rfgv_cases

    generated = rfgv_cases.generated_extract(tmp_path / "generated.parquet", incidents=3000, seed=23)
    boundaries = rfgv_cases.write(rfgv_cases.boundary_cases().table(), tmp_path / "boundaries.parquet")
    for path, reference in ((generated, dt.date(2026, 3, 31)), (boundaries, rfgv_cases.REFERENCE)):
        lists = []
        for colliding in (False, True):
            con = connect()
            try:
                con.execute(f"CREATE VIEW incidents AS SELECT * FROM read_parquet('{path}')")
                if colliding:
                    con.execute("CREATE TEMP MACRO hash(a) AS 42::UBIGINT")
                    assert con.execute("SELECT hash('x') = hash('y')").fetchall() == [(True,)]
                lists.append(score_relation(con, scheme=DEFAULT_SCHEME, reference_date=reference))
            finally:
                con.close()
        assert len(lists[0]) > 20 and lists[1] == lists[0]
