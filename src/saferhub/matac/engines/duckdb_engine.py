"""RFGV scoring in DuckDB SQL (the default engine), and the incidents behind one person's score."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from saferhub.matac.engines import ScoreRow
from saferhub.matac.scheme import Scheme
from saferhub.matac.store import SCORING_COLUMNS, connect, register_source


def _distinct_at_least(column: str, minimum: int) -> str:
    # Most perpetrators have one incident and one victim: for the usual minimum of 2, min <> max
    # tells them apart in one cheap aggregate, before any distinct count.
    if minimum <= 1:
        return "true"
    if minimum == 2:
        return f"min({column}) <> max({column})"
    return f"count(DISTINCT {column}) >= {minimum}"


def _candidates(scheme: Scheme) -> str:
    """The CTE `candidates` (after `stats`, for minimums up to 2): the perpetrators who may have enough distinct incidents and
    victims in the window (everyone eligible is among them; the later steps count exactly).

    For the usual minimum of 2, "min <> max" tells one value from two. Comparing 8-byte hashes of
    the ids does that cheaply for everyone, and proves two values where the hashes differ; where
    they are equal (one value, or two whose hashes collide) the ids themselves are compared, only
    for people with enough rows. So no one is ever left out by a hash collision."""
    exact = (f"{_distinct_at_least('incident_id', scheme.min_incidents)} "
             f"AND {_distinct_at_least('victim_id', scheme.min_victims)}")
    if max(scheme.min_incidents, scheme.min_victims) > 2:
        return f"candidates AS (SELECT perpetrator_id FROM w GROUP BY perpetrator_id HAVING {exact})"
    proved = " AND ".join([*(["incidents_differ"] if scheme.min_incidents == 2 else []),
                           *(["victims_differ"] if scheme.min_victims == 2 else [])]) or "true"
    return f"""stats AS (
    SELECT perpetrator_id, count(*) AS row_count,
        min(hash(incident_id)) <> max(hash(incident_id)) AS incidents_differ,
        min(hash(victim_id)) <> max(hash(victim_id)) AS victims_differ
    FROM w GROUP BY perpetrator_id
), candidates AS (
    SELECT perpetrator_id FROM stats WHERE {proved}
    UNION ALL
    SELECT perpetrator_id FROM w
    WHERE perpetrator_id IN (SELECT perpetrator_id FROM stats
                             WHERE row_count >= {max(scheme.min_incidents, scheme.min_victims)} AND NOT ({proved}))
    GROUP BY perpetrator_id HAVING {exact}
)"""


def _bands(expression: str, bands, comparison: str, otherwise: int) -> str:
    whens = " ".join(f"WHEN {expression} {comparison} {int(limit)} THEN {int(points)}" for limit, points in bands)
    return f"CASE {whens} ELSE {int(otherwise)} END"


def _gravity(scheme: Scheme) -> str:
    whens = " ".join(f"WHEN '{category}' THEN {int(weight)}" for category, weight in scheme.gravity_weights.items())
    return f"CASE offence_category {whens} END"


def _age(dob: str, on: str) -> str:
    return (f"(year({on}) - year({dob}) - CASE WHEN month({on}) * 100 + day({on}) < month({dob}) * 100 + day({dob}) "
            f"THEN 1 ELSE 0 END)")


def scoring_sql(scheme: Scheme, relation: str = "incidents") -> str:
    """The ranked-list query over `relation` with parameters $start, $reference (dates). Every
    literal comes from a validated Scheme (integers and known category names)."""
    scheme.validate()
    w = scheme.weights
    return f"""
WITH w AS (
    SELECT perpetrator_id, incident_id, victim_id, incident_date, perpetrator_dob, offence_category
    FROM {relation} WHERE incident_date BETWEEN $start AND $reference
), {_candidates(scheme)}, cw AS (
    SELECT * FROM w WHERE perpetrator_id IN (SELECT perpetrator_id FROM candidates)
), per_incident AS (
    SELECT perpetrator_id, incident_id, max({_gravity(scheme)}) AS weight
    FROM cw GROUP BY perpetrator_id, incident_id
), per_perpetrator AS (
    SELECT perpetrator_id, count(*) AS incident_count, sum(weight) AS gravity_sum
    FROM per_incident GROUP BY perpetrator_id
), facts AS (
    SELECT perpetrator_id, count(DISTINCT victim_id) AS distinct_victims, max(incident_date) AS last_incident_date,
        max(perpetrator_dob) AS dob
    FROM cw GROUP BY perpetrator_id
), measured AS (
    SELECT p.perpetrator_id, p.incident_count::BIGINT AS incident_count, f.distinct_victims::BIGINT AS distinct_victims,
        p.gravity_sum::BIGINT AS gravity_sum, f.last_incident_date,
        {_age('f.dob', 'f.last_incident_date')} AS age_at_last_incident,
        date_diff('day', f.last_incident_date, $reference) AS days_since_last
    FROM per_perpetrator p JOIN facts f USING (perpetrator_id)
), eligible AS (
    SELECT *,
        {_bands('days_since_last', scheme.recency_bands, '<=', scheme.recency_else)} AS r,
        {_bands('incident_count', scheme.frequency_bands, '>=', scheme.frequency_else)} AS f,
        {_bands('gravity_sum', scheme.gravity_bands, '>', scheme.gravity_else)} AS g,
        least(distinct_victims, {int(scheme.victims_cap)}) AS v
    FROM measured
    WHERE incident_count >= {int(scheme.min_incidents)} AND distinct_victims >= {int(scheme.min_victims)}
      AND age_at_last_incident >= {int(scheme.min_age)}
), scored AS (
    SELECT *, ({int(w['R'])} * r + {int(w['F'])} * f + {int(w['G'])} * g + {int(w['V'])} * v)::BIGINT AS score FROM eligible
)
SELECT row_number() OVER (ORDER BY score DESC, gravity_sum DESC, last_incident_date DESC, perpetrator_id ASC) AS rank,
    perpetrator_id, r, f, g, v, score, incident_count, distinct_victims, gravity_sum, last_incident_date, age_at_last_incident
FROM scored
"""


def window_start(scheme: Scheme, reference_date: dt.date) -> dt.date:
    return reference_date - dt.timedelta(days=scheme.window_days - 1)


def score_duckdb(*, scheme: Scheme, reference_date: dt.date, source, perpetrator_ids=None, top=None) -> list[ScoreRow]:
    con = connect()
    try:
        register_source(con, source, columns=SCORING_COLUMNS)
        return score_relation(con, scheme=scheme, reference_date=reference_date,
                              perpetrator_ids=perpetrator_ids, top=top)
    finally:
        con.close()


def score_relation(con, *, scheme: Scheme, reference_date: dt.date, relation: str = "incidents",
                   perpetrator_ids=None, top=None) -> list[ScoreRow]:
    """Score the relation already registered in `con` (the benchmark times exactly this)."""
    sql = f"SELECT * FROM ({scoring_sql(scheme, relation)}) ranked"
    conditions = []
    params = {"start": window_start(scheme, reference_date), "reference": reference_date}
    if perpetrator_ids is not None:
        conditions.append("list_contains($ids, perpetrator_id)")
        params["ids"] = list(perpetrator_ids)
    if top is not None:
        conditions.append("rank <= $top")
        params["top"] = int(top)
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    sql += " ORDER BY rank"
    return [ScoreRow(*row) for row in con.execute(sql, params).fetchall()]


@dataclass(frozen=True)
class IncidentLine:
    """One incident of a person in the window, as their score counted it."""

    incident_id: str
    incident_date: dt.date
    categories: tuple[str, ...]
    weight: int
    victims: int


@dataclass(frozen=True)
class Facts:
    """Everything behind one person's score, eligible or not."""

    incidents: tuple[IncidentLine, ...]
    distinct_victims: int
    last_incident_date: dt.date | None
    dob: dt.date | None


def perpetrator_facts(*, scheme: Scheme, reference_date: dt.date, source, perpetrator_id: str) -> Facts:
    con = connect()
    try:
        register_source(con, source, columns=SCORING_COLUMNS)
        return facts_relation(con, scheme=scheme, reference_date=reference_date, perpetrator_id=perpetrator_id)
    finally:
        con.close()


def facts_relation(con, *, scheme: Scheme, reference_date: dt.date, perpetrator_id: str,
                   relation: str = "incidents") -> Facts:
    """One person's incidents in the window of the relation already registered in `con`."""
    params = {"start": window_start(scheme, reference_date), "reference": reference_date, "id": perpetrator_id}
    lines = con.execute(f"""
        SELECT incident_id, max(incident_date), list_sort(list(DISTINCT offence_category)),
            max({_gravity(scheme)}), count(DISTINCT victim_id)
        FROM {relation} WHERE perpetrator_id = $id AND incident_date BETWEEN $start AND $reference
        GROUP BY incident_id ORDER BY max(incident_date) DESC, incident_id""", params).fetchall()
    victims, last, dob = con.execute(f"""
        SELECT count(DISTINCT victim_id), max(incident_date), max(perpetrator_dob) FROM {relation}
        WHERE perpetrator_id = $id AND incident_date BETWEEN $start AND $reference""", params).fetchall()[0]
    return Facts(incidents=tuple(IncidentLine(i, d, tuple(c), int(wt), int(v)) for i, d, c, wt, v in lines),
                 distinct_victims=int(victims or 0), last_incident_date=last, dob=dob)
