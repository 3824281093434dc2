"""MATAC outcomes: each adopted person re-scored 12 months after adoption, the cohort report (the
share with a lower score at 12 months and the share with no incident in the last 2 years), its
published form with small-number suppression, and its figures written to the performance
framework so they chart on the dashboards.

Definitions:
- The 12-month score is taken at the anniversary of adoption (29 February adoptions: 1 March).
- A score that is not eligible counts as 0 points: someone who no longer meets the serial
  perpetrator criteria has a lower score than any eligible one. Lower, same and higher compare
  the 12-month points with the points at adoption.
- No incident in the last 2 years: no incident in the 730 days up to and including the date the
  report is taken at, in the incident store.

To the performance framework: for each MATAC panel there is a service `matac-<panel>`, provided
by the panel's police force, reporting the MATAC data elements. Each completed financial quarter
gets one return for that service, written here as approved (the figures are derived from casework,
not typed by anyone, as historical returns are loaded), so the dashboards, the year-on-year page
and the published quarterly report pick them up with their own suppression of small counts.
Re-running replaces the figures of the MATAC returns and records the change."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import slugify
from django_tasks import task

from saferhub.audit.models import AuditAction, ChangeAction
from saferhub.audit.services import change_record
from saferhub.audit.trail import audit_event
from saferhub.matac import casework_scoring
from saferhub.matac.casework_services import _score_store
from saferhub.matac.models import Adoption, MatacPanel, MatacScore, ScoreStage
from saferhub.people import access
from saferhub.publishing.disclosure import DisclosurePolicy, Suppressed, display, protect_series

def anniversary(day: dt.date, years: int = 1) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that is not a leap year
        return dt.date(day.year + years, 3, 1)


def points(score: MatacScore | None) -> int | None:
    if score is None:
        return None
    return score.score if score.eligible and score.score is not None else 0


# Re-scoring -------------------------------------------------------------------------------------

def adoptions_due(*, as_of: dt.date, panel: MatacPanel | None = None) -> list[Adoption]:
    """Adoptions whose first anniversary is on or before `as_of` and that have no 12-month score."""
    adoptions = (Adoption.objects.filter(adopted_on__lte=as_of - dt.timedelta(days=365))
                 .exclude(nomination__scores__stage=ScoreStage.TWELVE_MONTHS)
                 .select_related("nomination__case").order_by("adopted_on", "pk"))
    if panel is not None:
        adoptions = adoptions.filter(nomination__panel=panel)
    return [a for a in adoptions if anniversary(a.adopted_on) <= as_of]


def _rescore(*, user, adoption: Adoption) -> MatacScore:
    nomination = adoption.nomination
    taken = casework_scoring.score_take(user=user, perpetrator_id=nomination.perpetrator_id,
                                        reference_date=anniversary(adoption.adopted_on))
    score = _score_store(nomination=nomination, stage=ScoreStage.TWELVE_MONTHS, taken=taken)
    audit_event(user=user, action=AuditAction.UPDATE, record_type="matac_nomination", record_id=nomination.pk,
                record_label=nomination.case.reference, fields=["score:twelve_months"], purpose="MATAC 12-month re-score")
    return score


@transaction.atomic
def adoption_rescore(*, user, adoption_id: int) -> MatacScore:
    """Re-score one adopted person at their 12-month anniversary, on demand (again, if already
    done: the incident data may have grown since)."""
    from django.core.exceptions import ValidationError
    from django.http import Http404

    adoption = (Adoption.objects.restrict(user, access.CHANGE).select_related("nomination__case")
                .filter(pk=adoption_id).first())
    if adoption is None:
        raise Http404("No such adoption")
    due = anniversary(adoption.adopted_on)
    if due > timezone.localdate():
        raise ValidationError(f"The 12-month re-score is due on {due:%-d %B %Y}; it cannot be taken before then")
    return _rescore(user=user, adoption=adoption)


def rescore_due(*, as_of: dt.date | None = None, user=None, panel: MatacPanel | None = None) -> list[MatacScore]:
    """Re-score every adoption whose anniversary has passed and that has no 12-month score yet.
    Each is its own transaction, so one failure does not undo the others."""
    as_of = as_of or timezone.localdate()
    done = []
    for adoption in adoptions_due(as_of=as_of, panel=panel):
        with transaction.atomic():
            done.append(_rescore(user=user, adoption=adoption))
    return done


# The cohort report ------------------------------------------------------------------------------

@dataclass
class CohortReport:
    start: dt.date
    end: dt.date
    as_of: dt.date
    adopted: int = 0
    rescored: int = 0
    awaiting_rescore: int = 0
    lower: int = 0
    same: int = 0
    higher: int = 0
    no_incident_two_years: int = 0
    exited: int = 0

    @staticmethod
    def share(part: int, base: int) -> float | None:
        return round(100 * part / base, 1) if base else None

    @property
    def lower_share(self) -> float | None:
        return self.share(self.lower, self.rescored)

    @property
    def no_incident_share(self) -> float | None:
        return self.share(self.no_incident_two_years, self.adopted)


def cohort_report(*, start: dt.date, end: dt.date, as_of: dt.date | None = None, panel: MatacPanel | None = None,
                  store=None) -> CohortReport:
    """Figures for the people adopted from `start` to `end` (inclusive), as at `as_of`."""
    as_of = as_of or timezone.localdate()
    if end < start:
        raise ValueError("The end of the adoption period must be on or after its start")
    adoptions = (Adoption.objects.filter(adopted_on__range=(start, min(end, as_of)))
                 .select_related("nomination", "exit")
                 .prefetch_related(Prefetch("nomination__scores", queryset=MatacScore.objects.all())))
    if panel is not None:
        adoptions = adoptions.filter(nomination__panel=panel)
    adoptions = list(adoptions)
    report = CohortReport(start=start, end=end, as_of=as_of, adopted=len(adoptions))
    if not adoptions:
        return report
    facts = casework_scoring.facts_for([a.nomination.perpetrator_id for a in adoptions], reference_date=as_of,
                                       window_days=casework_scoring.TWO_YEARS_DAYS, store=store)
    for adoption in adoptions:
        scores = {s.stage: s for s in adoption.nomination.scores.all()}
        if getattr(adoption, "exit", None) is not None and adoption.exit.exited_on <= as_of:
            report.exited += 1
        last = facts[adoption.nomination.perpetrator_id].last_incident_date
        if last is None or (as_of - last).days >= casework_scoring.TWO_YEARS_DAYS:
            report.no_incident_two_years += 1
        twelve = scores.get(ScoreStage.TWELVE_MONTHS)
        if twelve is None or twelve.reference_date > as_of:
            report.awaiting_rescore += 1
            continue
        report.rescored += 1
        before, after = points(scores.get(ScoreStage.ADOPTION)) or 0, points(twelve)
        if after < before:
            report.lower += 1
        elif after == before:
            report.same += 1
        else:
            report.higher += 1
    return report


@dataclass
class PublishedCohort:
    """The cohort report as it may be shown outside MATAC members: counts protected, and a
    percentage given only when both of its counts are shown."""

    rows: list[tuple[str, str]] = field(default_factory=list)
    footnote: str = ""


def cohort_publish(report: CohortReport, policy: DisclosurePolicy | None = None) -> PublishedCohort:
    policy = policy or DisclosurePolicy.from_settings()
    rescored = protect_series([report.lower, report.rescored - report.lower], total=report.rescored, policy=policy)
    incidents = protect_series([report.no_incident_two_years, report.adopted - report.no_incident_two_years],
                               total=report.adopted, policy=policy)

    def share(series) -> str:
        part, total = series.values[0], series.total
        if isinstance(part, Suppressed) or isinstance(total, Suppressed) or not total:
            return policy.marker if (isinstance(part, Suppressed) or isinstance(total, Suppressed)) else "–"
        return f"{100 * part / total:.0f}%"

    rows = [
        ("People adopted", display(incidents.total)),
        ("Re-scored 12 months after adoption", display(rescored.total)),
        ("With a lower score at 12 months", display(rescored.values[0])),
        ("Share with a lower score at 12 months", share(rescored)),
        ("With no incident in the last 2 years", display(incidents.values[0])),
        ("Share with no incident in the last 2 years", share(incidents)),
    ]
    suppressed = rescored.suppressed_count + incidents.suppressed_count
    return PublishedCohort(rows=rows, footnote=policy.explanation if suppressed else "")


# Charted through the performance framework ------------------------------------------------------

ELEMENTS = [
    # slug, name, unit, polarity, definition
    ("matac-adoptions", "MATAC adoptions", "count", "neutral",
     "People adopted onto MATAC in the quarter."),
    ("matac-adopted-to-date", "MATAC people adopted to date", "count", "neutral",
     "People adopted onto MATAC from the start of the scheme to the end of the quarter."),
    ("matac-rescored-12-months", "MATAC people re-scored at 12 months", "count", "neutral",
     "People whose 12-month anniversary of adoption fell in the quarter and who were re-scored."),
    ("matac-lower-score-12-months", "MATAC lower score at 12 months", "count", "higher",
     "Of the people re-scored at 12 months in the quarter, those with a lower RFGV score than at adoption "
     "(a score no longer eligible counts as 0)."),
    ("matac-lower-score-12-months-percent", "MATAC lower score at 12 months (%)", "percent", "higher",
     "Share of the people re-scored at 12 months in the quarter with a lower score than at adoption. Not given "
     "when fewer people than the disclosure threshold were re-scored."),
    ("matac-no-incident-2-years-percent", "MATAC no incident in last 2 years (%)", "percent", "higher",
     "Of everyone adopted to the end of the quarter, the share with no domestic abuse incident in the police data "
     "in the 2 years to the end of the quarter. Not given for fewer people than the disclosure threshold."),
]


def _service_for(panel: MatacPanel):
    from saferhub.commissioning.models import Service, ServiceKind
    from saferhub.performance.models import DataElement, Frequency

    service, _ = Service.objects.get_or_create(
        slug=f"matac-{slugify(panel.slug)}"[:80],
        defaults={"name": f"MATAC: {panel.name}", "kind": ServiceKind.PARTNER_PROGRAMME, "provider": panel.police,
                  "description": "Multi-Agency Tasking and Coordination: serial perpetrators of domestic abuse adopted, "
                                 "tasked and re-scored 12 months after adoption."})
    elements = {}
    for order, (slug, name, unit, polarity, definition) in enumerate(ELEMENTS):
        element, _ = DataElement.objects.get_or_create(slug=slug, defaults={
            "name": name, "unit": unit, "polarity": polarity, "definition": definition,
            "frequency": Frequency.QUARTERLY, "owner": panel.police, "order": 900 + order})
        element.services.add(service)
        elements[slug] = element
    return service, elements


def _quarter_figures(panel: MatacPanel, quarter, adoptions: list[Adoption], twelve: dict[int, MatacScore],
                     policy: DisclosurePolicy, store) -> dict[str, float]:
    adopted_in = [a for a in adoptions if quarter.start <= a.adopted_on <= quarter.end]
    to_date = [a for a in adoptions if a.adopted_on <= quarter.end]
    rescored = [a for a in adoptions if a.nomination_id in twelve and quarter.start <= anniversary(a.adopted_on) <= quarter.end]
    adopted_points = {a.nomination_id: points(next((s for s in a.nomination.scores.all() if s.stage == ScoreStage.ADOPTION), None)) or 0
                      for a in rescored}
    lower = sum(1 for a in rescored if points(twelve[a.nomination_id]) < adopted_points[a.nomination_id])
    figures = {"matac-adoptions": len(adopted_in), "matac-adopted-to-date": len(to_date),
               "matac-rescored-12-months": len(rescored), "matac-lower-score-12-months": lower}
    if len(rescored) >= policy.threshold:
        figures["matac-lower-score-12-months-percent"] = round(100 * lower / len(rescored), 1)
    if len(to_date) >= policy.threshold:
        facts = casework_scoring.facts_for([a.nomination.perpetrator_id for a in to_date], reference_date=quarter.end,
                                           window_days=casework_scoring.TWO_YEARS_DAYS, store=store)
        quiet = sum(1 for a in to_date if facts[a.nomination.perpetrator_id].last_incident_date is None
                    or (quarter.end - facts[a.nomination.perpetrator_id].last_incident_date).days >= casework_scoring.TWO_YEARS_DAYS)
        figures["matac-no-incident-2-years-percent"] = round(100 * quiet / len(to_date), 1)
    return figures


@transaction.atomic
def performance_write(*, as_of: dt.date | None = None, user=None, panel: MatacPanel | None = None, store=None) -> int:
    """Write each completed quarter's MATAC figures as the approved return of the panel's MATAC
    service, from the quarter of the first adoption to the last quarter ended by `as_of`.
    Returns how many quarterly returns were written."""
    from saferhub.performance.models import DataReturn, DataValue, PeriodType, ReturnStatus
    from saferhub.performance.periods import FinancialQuarter

    as_of = as_of or timezone.localdate()
    policy = DisclosurePolicy.from_settings()
    written = 0
    for each in ([panel] if panel is not None else MatacPanel.objects.filter(active=True)):
        adoptions = list(Adoption.objects.filter(nomination__panel=each, adopted_on__lte=as_of)
                         .select_related("nomination").prefetch_related("nomination__scores").order_by("adopted_on"))
        if not adoptions:
            continue
        service, elements = _service_for(each)
        twelve = {s.nomination_id: s for a in adoptions for s in a.nomination.scores.all()
                  if s.stage == ScoreStage.TWELVE_MONTHS and s.reference_date <= as_of}
        quarter, last = FinancialQuarter.from_date(adoptions[0].adopted_on), FinancialQuarter.from_date(as_of).previous()
        now = timezone.now()
        while quarter.start <= last.start:
            figures = _quarter_figures(each, quarter, adoptions, twelve, policy, store)
            data_return, created = DataReturn.objects.get_or_create(service=service, quarter_start=quarter.start)
            before = {v.data_element.slug: v.value for v in data_return.values.select_related("data_element")}
            data_return.values.all().delete()
            DataValue.objects.bulk_create([
                DataValue(data_element=elements[slug], service=service, period_type=PeriodType.QUARTER,
                          period_start=quarter.start, value=float(value), data_return=data_return)
                for slug, value in figures.items()])
            data_return.status, data_return.submitted_at, data_return.approved_at = ReturnStatus.APPROVED, now, now
            data_return.save(update_fields=["status", "submitted_at", "approved_at"])
            change_record(actor=user, instance=data_return, action=ChangeAction.CREATE if created else ChangeAction.UPDATE,
                          before=before, after={slug: float(v) for slug, v in figures.items()})
            written += 1
            quarter = quarter.next()
    return written


def outcomes_run(*, as_of: dt.date | None = None, user=None) -> tuple[list[MatacScore], int]:
    """What the daily task and `saferhub matac_outcomes` do: re-score the adoptions due, then
    write the quarterly figures to the performance framework."""
    as_of = as_of or timezone.localdate()
    scores = rescore_due(as_of=as_of, user=user)
    return scores, performance_write(as_of=as_of, user=user)


@task()
def outcomes_run_task(as_of: str = "") -> dict:
    """The daily job: re-score adoptions past their anniversary and refresh the MATAC figures in
    the performance framework (ISO date `as_of`; the local date when empty)."""
    day = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    scores, returns = outcomes_run(as_of=day)
    return {"rescored": len(scores), "returns": returns}
