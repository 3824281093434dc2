"""Hand-built incident rows at every RFGV boundary, with the score each person must get, and the
generated extracts the engine comparison tests share (Spark, pandas and DuckDB must agree)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from saferhub.matac.engines.duckdb_engine import score_relation
from saferhub.matac.store import ARROW_SCHEMA, connect
from saferhub.matac.synthetic import ExtractSpec, extract_table

REFERENCE = dt.date(2025, 6, 30)
ADULT = dt.date(1980, 1, 1)


def before(days: int) -> dt.date:
    return REFERENCE - dt.timedelta(days=days)


def adult_age(on: dt.date) -> int:
    """Age of someone born on 1 January 1980 (ADULT) on `on`."""
    return on.year - ADULT.year


@dataclass(frozen=True)
class Expected:
    """r, f, g, v, score, incident count, distinct victims, gravity sum, last incident, age."""

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


class Cases:
    """Builds rows person by person; `expected` maps each eligible person to their figures."""

    def __init__(self):
        self.rows: list[dict] = []
        self.expected: dict[str, Expected] = {}
        self.ineligible: list[str] = []
        self._incident = 0

    def incident(self, person: str, day: dt.date, category: str, victims: tuple[str, ...],
                 dob: dt.date = ADULT) -> None:
        self._incident += 1
        for victim in victims:
            self.rows.append({
                "incident_id": f"SYN-CASE-{self._incident:05d}", "incident_date": day, "perpetrator_id": person,
                "perpetrator_dob": dob, "victim_id": f"{person}-V-{victim}", "offence_category": category,
                "crime_flag": category != "non_crime", "location": "York",
            })

    def table(self) -> pa.Table:
        return pa.Table.from_pylist(self.rows, schema=ARROW_SCHEMA)


def boundary_cases() -> Cases:
    cases = Cases()
    # Recency: days since the last incident at each edge of each band. F 2 → 2, G 2 → 1, V 2.
    for days, r in ((0, 5), (91, 5), (92, 4), (182, 4), (183, 3), (365, 3), (366, 2), (730, 2), (731, 1)):
        person = f"SYN-P-R{days:04d}"
        cases.incident(person, before(1000), "non_crime", ("a",))
        cases.incident(person, before(days), "non_crime", ("b",))
        cases.expected[person] = Expected(r, 2, 1, 2, r + 2 + 1 + 4, 2, 2, 2, before(days), adult_age(before(days)))
    # Frequency: incidents at each band edge, all non-crime (weight 1), two victims in turn.
    for count, f in ((2, 2), (3, 2), (4, 3), (6, 3), (7, 4), (10, 4), (11, 5)):
        person = f"SYN-P-F{count:02d}"
        for number in range(count):
            cases.incident(person, before(10 + 20 * number), "non_crime", ("ab"[number % 2],))
        g = 2 if count > 5 else 1
        cases.expected[person] = Expected(5, f, g, 2, 5 + f + g + 4, count, 2, count, before(10), adult_age(before(10)))
    # Gravity: four incidents (F 3) whose weights sum to each band edge.
    for total, g, categories in (
        (5, 1, ("non_crime", "non_crime", "non_crime", "criminal_damage")),
        (6, 2, ("non_crime", "non_crime", "criminal_damage", "criminal_damage")),
        (15, 2, ("harassment", "common_assault", "common_assault", "common_assault")),
        (16, 3, ("common_assault",) * 4),
        (30, 3, ("breach_of_order", "abh", "stalking", "abh")),
        (31, 4, ("non_crime", "coercive_control", "coercive_control", "coercive_control")),
        (60, 4, ("strangulation",) * 4),
        (61, 5, ("rape", "gbh", "strangulation", "non_crime")),
    ):
        person = f"SYN-P-G{total:02d}"
        for number, category in enumerate(categories):
            cases.incident(person, before(30 + 30 * number), category, ("ab"[number % 2],))
        cases.expected[person] = Expected(5, 3, g, 2, 5 + 3 + g + 4, 4, 2, total, before(30), adult_age(before(30)))
    # Victims: six distinct victims are capped at 5 points.
    person = "SYN-P-V6"
    for number in range(6):
        cases.incident(person, before(40 + 10 * number), "non_crime", ("abcdef"[number],))
    cases.expected[person] = Expected(5, 3, 2, 5, 5 + 3 + 2 + 10, 6, 6, 6, before(40), adult_age(before(40)))
    # One incident with two victims is one incident; its highest weight (abh 8, not 4) counts once.
    person = "SYN-P-TWO-VICTIMS"
    cases.incident(person, before(50), "abh", ("a",))
    cases.incident(person, before(50), "common_assault", ("b",))
    cases.rows[-1]["incident_id"] = cases.rows[-2]["incident_id"]
    cases.incident(person, before(60), "non_crime", ("a",))
    cases.expected[person] = Expected(5, 2, 2, 2, 5 + 2 + 2 + 4, 2, 2, 9, before(50), adult_age(before(50)))
    # Window edges: 1,094 days back is in, 1,095 days back and the day after the reference are out.
    person = "SYN-P-WINDOW"
    cases.incident(person, before(1094), "non_crime", ("a",))
    cases.incident(person, before(1095), "rape", ("c",))
    cases.incident(person, REFERENCE + dt.timedelta(days=1), "rape", ("d",))
    cases.incident(person, before(100), "non_crime", ("b",))
    cases.expected[person] = Expected(4, 2, 1, 2, 4 + 2 + 1 + 4, 2, 2, 2, before(100), adult_age(before(100)))
    # Only one victim in the window (the second is 1,095 days back): not eligible.
    person = "SYN-P-WINDOW-ONE-VICTIM"
    cases.incident(person, before(1095), "non_crime", ("b",))
    cases.incident(person, before(1094), "non_crime", ("a",))
    cases.incident(person, before(5), "non_crime", ("a",))
    cases.ineligible.append(person)
    # Many incidents against one victim: repeat, not serial.
    person = "SYN-P-ONE-VICTIM"
    for number in range(8):
        cases.incident(person, before(5 + number), "gbh", ("a",))
    cases.ineligible.append(person)
    # One incident with two victims: one incident only.
    person = "SYN-P-ONE-INCIDENT"
    cases.incident(person, before(5), "rape", ("a", "b"))
    cases.ineligible.append(person)
    # Sixteen on the day of the last incident is old enough; the day before is not.
    person = "SYN-P-AGE-16"
    cases.incident(person, dt.date(2024, 1, 10), "non_crime", ("a",), dob=dt.date(2008, 3, 15))
    cases.incident(person, dt.date(2024, 3, 15), "non_crime", ("b",), dob=dt.date(2008, 3, 15))
    cases.expected[person] = Expected(2, 2, 1, 2, 2 + 2 + 1 + 4, 2, 2, 2, dt.date(2024, 3, 15), 16)
    person = "SYN-P-AGE-15"
    cases.incident(person, dt.date(2024, 1, 10), "non_crime", ("a",), dob=dt.date(2008, 3, 15))
    cases.incident(person, dt.date(2024, 3, 14), "non_crime", ("b",), dob=dt.date(2008, 3, 15))
    cases.ineligible.append(person)
    # Records disagree on the date of birth: the latest one counts (age 15 here, not 35).
    person = "SYN-P-AGE-LATEST-DOB"
    cases.incident(person, before(200), "non_crime", ("a",), dob=dt.date(1990, 1, 1))
    cases.incident(person, before(20), "non_crime", ("b",), dob=dt.date(2009, 7, 1))
    cases.ineligible.append(person)
    # Ties: same score (5+2+1+4), broken by gravity sum, then the latest incident, then the id.
    for person, categories, last in (
        ("SYN-P-TIE-B", ("non_crime", "criminal_damage"), 20),
        ("SYN-P-TIE-A", ("non_crime", "criminal_damage"), 20),
        ("SYN-P-TIE-C", ("non_crime", "criminal_damage"), 21),
        ("SYN-P-TIE-D", ("non_crime", "non_crime"), 19),
    ):
        cases.incident(person, before(400), categories[0], ("a",))
        cases.incident(person, before(last), categories[1], ("b",))
        gravity = 1 + (2 if categories[1] == "criminal_damage" else 1)
        cases.expected[person] = Expected(5, 2, 1, 2, 12, 2, 2, gravity, before(last), adult_age(before(last)))
    return cases


TIE_ORDER = ["SYN-P-TIE-A", "SYN-P-TIE-B", "SYN-P-TIE-C", "SYN-P-TIE-D"]


def leap_day_cases() -> Cases:
    """Born on 29 February 2008: 17 is reached on 1 March 2025 (scheme with min_age 17)."""
    cases = Cases()
    born = dt.date(2008, 2, 29)
    for person, last, age in (("SYN-P-LEAP-28", dt.date(2025, 2, 28), 16), ("SYN-P-LEAP-01", dt.date(2025, 3, 1), 17)):
        cases.incident(person, dt.date(2024, 12, 1), "non_crime", ("a",), dob=born)
        cases.incident(person, last, "non_crime", ("b",), dob=born)
        if age >= 17:
            days = (REFERENCE - last).days
            cases.expected[person] = Expected(4, 2, 1, 2, 4 + 2 + 1 + 4, 2, 2, 2, last, age)
            assert 91 < days <= 182
        else:
            cases.ineligible.append(person)
    return cases


def write(table: pa.Table, path: Path) -> Path:
    pq.write_table(table, path)
    return path


def generated_extract(path: Path, incidents: int = 3000, seed: int = 11) -> Path:
    """A generated extract (normalised schema) with extra people tied with generated ones on
    score, gravity sum and last incident date, so the id tie-break is exercised at scale."""
    table, _ = extract_table(ExtractSpec(incidents=incidents, seed=seed, end_date=dt.date(2026, 3, 31)))
    table = table.cast(ARROW_SCHEMA)
    # Clone every tenth generated person twice, under ids sorting just before theirs ("SYN-P0000012-3"
    # before "SYN-P00000123") and just after ("SYN-P00000123Z"): same figures, so only the id orders them.
    perpetrators = set(sorted(set(table.column("perpetrator_id").to_pylist()))[::10])
    clones = []
    for row in table.to_pylist():
        if row["perpetrator_id"] in perpetrators:
            original = row["perpetrator_id"]
            for clone_id, tag in ((original[:-1] + "-" + original[-1], "A"), (original + "Z", "Z")):
                clones.append(dict(row, perpetrator_id=clone_id, incident_id=f"{row['incident_id']}-{tag}",
                                   victim_id=f"{row['victim_id']}-{tag}"))
    table = pa.concat_tables([table, pa.Table.from_pylist(clones, schema=ARROW_SCHEMA)])
    return write(table, path)


def duckdb_ranking(paths, **kwargs):
    """The DuckDB engine's ranked list over Parquet files in the normalised schema."""
    con = connect()
    try:
        files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
        con.execute(f"CREATE VIEW incidents AS SELECT * FROM read_parquet([{files}])")
        return score_relation(con, **kwargs)
    finally:
        con.close()
