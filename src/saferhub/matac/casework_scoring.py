"""Casework's view of the scoring side: a person's score taken at a date (from the same incident
data and the current scheme), a place on a stored ranked list, and the plain facts behind a score
that is not eligible (incidents, victims, age in the window; the last incident), read from the
incident store."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from saferhub.matac.engines import ScoreRow

TWO_YEARS_DAYS = 730


@dataclass
class Facts:
    """What the incident data holds on one person up to a date."""

    incidents_in_window: int = 0
    victims_in_window: int = 0
    age_at_last: int | None = None
    last_incident_date: dt.date | None = None


@dataclass
class TakenScore:
    reference_date: dt.date
    scheme_version: str
    scheme_id: int | None
    row: ScoreRow | None
    not_eligible_reason: str = ""
    last_incident_date: dt.date | None = None

    @property
    def eligible(self) -> bool:
        return self.row is not None

    @property
    def no_incident_in_two_years(self) -> bool:
        return self.last_incident_date is None or (self.reference_date - self.last_incident_date).days >= TWO_YEARS_DAYS

    def fields(self) -> dict:
        row = self.row
        values = {
            "eligible": row is not None, "not_eligible_reason": self.not_eligible_reason,
            "last_incident_date": self.last_incident_date, "no_incident_in_two_years": self.no_incident_in_two_years,
            "rank": None, "r": None, "f": None, "g": None, "v": None, "score": None,
            "incident_count": 0, "distinct_victims": 0, "gravity_sum": 0,
        }
        if row is not None:
            values.update(rank=row.rank, r=row.r, f=row.f, g=row.g, v=row.v, score=row.score,
                          incident_count=row.incident_count, distinct_victims=row.distinct_victims,
                          gravity_sum=row.gravity_sum)
        return values


@dataclass
class RankedEntry:
    run_id: int
    perpetrator_id: str
    taken: TakenScore


def _age(dob: dt.date, on: dt.date) -> int:
    # A 29 February birthday is reached on 1 March in other years (as the scheme defines it).
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def facts_for(perpetrator_ids: list[str], *, reference_date: dt.date, window_days: int, store=None) -> dict[str, Facts]:
    """Facts for each id from the incident store, in one DuckDB query."""
    from saferhub.matac.store import IncidentStore, connect

    store = store or IncidentStore()
    wanted = sorted({str(p).strip() for p in perpetrator_ids})
    if not wanted:
        return {}
    con = connect()
    try:
        store.register(con)
        con.execute("CREATE TEMP TABLE wanted (perpetrator_id VARCHAR)")
        con.executemany("INSERT INTO wanted VALUES (?)", [(p,) for p in wanted])
        first = reference_date - dt.timedelta(days=window_days - 1)
        rows = con.execute("""
            SELECT i.perpetrator_id,
                   count(DISTINCT i.incident_id) FILTER (WHERE i.incident_date >= ?),
                   count(DISTINCT i.victim_id) FILTER (WHERE i.incident_date >= ?),
                   max(i.perpetrator_dob) FILTER (WHERE i.incident_date >= ?),
                   max(i.incident_date)
            FROM incidents i JOIN wanted w USING (perpetrator_id)
            WHERE i.incident_date <= ?
            GROUP BY i.perpetrator_id""", [first, first, first, reference_date]).fetchall()
    finally:
        con.close()
    facts = {p: Facts() for p in wanted}
    for pid, incidents, victims, dob, last in rows:
        facts[pid] = Facts(incidents_in_window=incidents, victims_in_window=victims, last_incident_date=last,
                           age_at_last=_age(dob, last) if dob and last and incidents else None)
    return facts


def score_take(*, user, perpetrator_id: str, reference_date: dt.date) -> TakenScore:
    """The person's score at `reference_date` under the default scheme version, or not eligible
    and why (scoring_services.perpetrator_explain: the same engine and data as the ranked lists).
    Only for casework services that have already found the case in the user's scope for change."""
    from saferhub.matac.scoring_services import perpetrator_explain

    # Every caller has found the nomination's case (or the panel) in the user's scope for change.
    explanation = perpetrator_explain(user=user, perpetrator_id=perpetrator_id, reference_date=reference_date,
                                      for_case_in_scope=True)
    reason = ""
    if explanation.row is None:
        reason = ("Not eligible: " + "; ".join(explanation.ineligible)) if explanation.ineligible else "Not eligible under the scheme"
        if not explanation.incidents:
            reason = f"No incident in the police data in the {explanation.scheme.scheme.window_days:,} days to this date"
    facts = facts_for([perpetrator_id], reference_date=reference_date, window_days=1)[perpetrator_id.strip()]
    return TakenScore(reference_date=reference_date, scheme_version=explanation.scheme.label,
                      scheme_id=explanation.scheme.pk, row=explanation.row,
                      not_eligible_reason=reason, last_incident_date=facts.last_incident_date)


def ranked_entry(*, user, run_id: int, rank: int) -> RankedEntry:
    """The person at `rank` on a stored ranked list, with the score the list gives them."""
    from saferhub.matac import access as scoring_access
    from saferhub.matac.models import ScoredPerpetrator

    scoring_access.require_see(user)
    row = ScoredPerpetrator.objects.select_related("run__scheme").filter(run_id=run_id, rank=rank).first()
    if row is None:
        raise ValidationError({"rank": "No one is at that place on the ranked list"})
    taken = TakenScore(reference_date=row.run.reference_date, scheme_version=row.run.scheme.label,
                       scheme_id=row.run.scheme_id, row=row.score_row(),
                       last_incident_date=row.last_incident_date)
    return RankedEntry(run_id=row.run_id, perpetrator_id=row.perpetrator_id, taken=taken)
