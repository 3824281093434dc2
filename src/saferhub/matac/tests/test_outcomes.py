"""MATAC outcomes: the 12-month re-score (lower, same, higher; due only after the anniversary;
once), the cohort report's shares with known data, its published form with small numbers
withheld, the figures in the performance framework and the command."""
import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.http import Http404

from saferhub.audit.models import AuditEvent
from saferhub.matac import casework_services as services
from saferhub.matac import outcomes
from saferhub.matac.models import Adoption, Decision, ScoreStage
from saferhub.matac.tests.casework_fixtures import TODAY, days_ago, meeting_on, mw, store  # noqa: F401
from saferhub.publishing.disclosure import DisclosurePolicy

pytestmark = pytest.mark.django_db


def adopted(mw, pid, ago, first="Synthetica"):
    nomination = services.nomination_from_referral(
        user=mw["officer"], panel_id=mw["panel"].pk, perpetrator_id=pid, reasons="Serial pattern",
        reference_date=days_ago(ago), first_name=first, last_name=pid)
    meeting = meeting_on(mw["panel"], days_ago(ago))
    services.nomination_decide(user=mw["officer"], nomination_id=nomination.pk, meeting_id=meeting.pk,
                               decision=Decision.ADOPT, lead_agency_id=mw["police"].pk)
    return Adoption.objects.get(nomination=nomination)


@pytest.fixture
def cohort(mw):
    return {pid: adopted(mw, pid, ago) for pid, ago in
            (("NOM-A", 400), ("NOM-B", 400), ("NOM-D", 400), ("NOM-C", 900), ("NOM-S", 10))}


def test_anniversary():
    assert outcomes.anniversary(dt.date(2025, 5, 6)) == dt.date(2026, 5, 6)
    assert outcomes.anniversary(dt.date(2024, 2, 29)) == dt.date(2025, 3, 1)


def test_rescore_at_twelve_months_lower_same_higher(mw, cohort):
    assert [a.nomination.perpetrator_id for a in outcomes.adoptions_due(as_of=days_ago(36))] == ["NOM-C"]
    done = outcomes.rescore_due(as_of=TODAY)
    assert len(done) == 4
    def scores(pid):
        n = cohort[pid].nomination
        return n.scores.get(stage=ScoreStage.ADOPTION), n.scores.get(stage=ScoreStage.TWELVE_MONTHS)
    a0, a12 = scores("NOM-A")
    assert (a0.score, a12.score) == (15, 12) and a12.reference_date == days_ago(35)
    b0, b12 = scores("NOM-B")
    assert (b0.score, b12.score) == (10, 21)
    d0, d12 = scores("NOM-D")
    assert d0.score == d12.score == 10
    c0, c12 = scores("NOM-C")
    assert (c0.score, c12.score) == (13, 10)
    # Once only; the recent adoption is not due.
    assert outcomes.rescore_due(as_of=TODAY) == []
    assert not cohort["NOM-S"].nomination.scores.filter(stage=ScoreStage.TWELVE_MONTHS).exists()
    assert AuditEvent.objects.filter(purpose="MATAC 12-month re-score").count() == 4


def test_cohort_report_with_known_data(mw, cohort):
    outcomes.rescore_due(as_of=TODAY)
    report = outcomes.cohort_report(start=days_ago(1000), end=TODAY, as_of=TODAY)
    assert (report.adopted, report.rescored, report.awaiting_rescore) == (5, 4, 1)
    assert (report.lower, report.same, report.higher) == (2, 1, 1)
    assert report.lower_share == 50.0
    # Only C's last incident (905 days ago) is more than 2 years back.
    assert report.no_incident_two_years == 1 and report.no_incident_share == 20.0
    narrow = outcomes.cohort_report(start=days_ago(950), end=days_ago(850), as_of=TODAY)
    assert (narrow.adopted, narrow.lower, narrow.no_incident_two_years) == (1, 1, 1)
    # As at a date before C's 12-month score was due, C awaits it.
    earlier = outcomes.cohort_report(start=days_ago(950), end=days_ago(850), as_of=days_ago(600))
    assert (earlier.rescored, earlier.awaiting_rescore) == (0, 1)
    with pytest.raises(ValueError):
        outcomes.cohort_report(start=TODAY, end=days_ago(1), as_of=TODAY)


def test_a_score_no_longer_eligible_counts_as_lower(mw):
    adoption = adopted(mw, "NOM-A", 400)
    twelve = adoption.nomination.scores.create(stage=ScoreStage.TWELVE_MONTHS, reference_date=days_ago(35), eligible=False,
                                               not_eligible_reason="Not eligible")
    assert outcomes.points(twelve) == 0
    report = outcomes.cohort_report(start=days_ago(500), end=TODAY, as_of=TODAY)
    assert report.lower == 1


def test_published_cohort_withholds_small_numbers(mw, cohort):
    outcomes.rescore_due(as_of=TODAY)
    report = outcomes.cohort_report(start=days_ago(1000), end=TODAY, as_of=TODAY)
    published = dict(outcomes.cohort_publish(report, DisclosurePolicy(threshold=5)).rows)
    assert published["People adopted"] == "5"
    assert published["With a lower score at 12 months"] == "[c]"
    assert published["Share with a lower score at 12 months"] == "[c]"
    assert published["With no incident in the last 2 years"] == "[c]"
    shown = dict(outcomes.cohort_publish(report, DisclosurePolicy(threshold=3, method="suppress")).rows)
    assert shown["People adopted"] == "5"
    big = outcomes.CohortReport(start=TODAY, end=TODAY, as_of=TODAY, adopted=40, rescored=30, lower=24, no_incident_two_years=8)
    rows = dict(outcomes.cohort_publish(big, DisclosurePolicy(threshold=5)).rows)
    assert rows["Share with a lower score at 12 months"] == "80%" and rows["Share with no incident in the last 2 years"] == "20%"


def test_rescore_on_demand(mw, cohort):
    score = outcomes.adoption_rescore(user=mw["officer"], adoption_id=cohort["NOM-A"].pk)
    assert score.stage == ScoreStage.TWELVE_MONTHS and score.score == 12
    with pytest.raises(ValidationError):
        outcomes.adoption_rescore(user=mw["officer"], adoption_id=cohort["NOM-S"].pk)
    with pytest.raises(Http404):
        outcomes.adoption_rescore(user=mw["outsider"], adoption_id=cohort["NOM-A"].pk)


def test_figures_are_written_to_the_performance_framework(mw, cohort, client):
    from saferhub.performance.models import DataReturn, DataValue, ReturnStatus
    from saferhub.performance.periods import FinancialQuarter

    outcomes.rescore_due(as_of=TODAY)
    written = outcomes.performance_write(as_of=TODAY)
    first, last = FinancialQuarter.from_date(days_ago(900)), FinancialQuarter.from_date(TODAY).previous()
    quarters = 1 + (last.year * 4 + last.quarter) - (first.year * 4 + first.quarter)
    assert written == quarters
    returns = DataReturn.objects.filter(service__slug="matac-nyy")
    assert returns.count() == quarters and set(returns.values_list("status", flat=True)) == {ReturnStatus.APPROVED}
    adopted_quarter = FinancialQuarter.from_date(days_ago(400))
    value = lambda slug, quarter: DataValue.objects.filter(  # noqa: E731
        data_element__slug=slug, service__slug="matac-nyy", period_start=quarter.start).values_list("value", flat=True).first()
    assert value("matac-adoptions", adopted_quarter) == 3
    assert value("matac-adopted-to-date", adopted_quarter) == 4
    rescored_quarter = FinancialQuarter.from_date(days_ago(35))
    if rescored_quarter.start <= last.start:
        assert value("matac-rescored-12-months", rescored_quarter) == 3
        assert value("matac-lower-score-12-months", rescored_quarter) == 1
    # Shares of fewer people than the disclosure threshold are not given.
    assert not DataValue.objects.filter(data_element__slug="matac-lower-score-12-months-percent").exists()
    # Written again: replaced, not doubled.
    count = DataValue.objects.count()
    outcomes.performance_write(as_of=TODAY)
    assert DataValue.objects.count() == count
    # They chart on the service's performance dashboard.
    from saferhub.accounts.testing import otp_login

    otp_login(client, mw["police_viewer"])
    response = client.get(f"/performance/services/matac-nyy/?quarter={adopted_quarter.slug}")
    assert response.status_code == 200 and "MATAC adoptions" in response.content.decode()
    response = client.get(f"/performance/services/matac-nyy/figures/matac-adopted-to-date/?quarter={adopted_quarter.slug}")
    assert response.status_code == 200


def test_the_command(mw, cohort):
    out = StringIO()
    call_command("matac_outcomes", "--as-of", TODAY.isoformat(), stdout=out)
    text = out.getvalue()
    assert "Re-scored at 12 months: 4" in text
    assert "lower score at 12 months 2 (50.0%)" in text and "no incident in the last 2 years 1 (20.0%)" in text
    assert "NOM-" not in text and "Synthetica" not in text
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("matac_outcomes", "--as-of", "yesterday", stdout=StringIO())
