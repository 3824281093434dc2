"""MATAC casework services: the 4-weekly schedule, nominations from a ranked list and from a
partner referral (scored against the same data, unknown and ineligible ids still recorded), the
decision rules, the action plan, reviews, exit, access (404 outside scope) and the audit trail."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from saferhub.audit.models import AuditEvent
from saferhub.matac import casework_services as services
from saferhub.matac.models import (
    Adoption, Decision, MatacAction, MatacMeeting, MatacScore, MeetingStatus, Nomination, NominationSource,
    NominationStatus, ScoreStage,
)
from saferhub.matac.scoring_services import scoring_run_create
from saferhub.matac.tests.casework_fixtures import TODAY, days_ago, meeting_on, mw, store  # noqa: F401
from saferhub.people.models import Case, CaseParticipant, CaseStatus, IndexKind, Person, PersonIdentifier

pytestmark = pytest.mark.django_db

NAMES = {"first_name": "Synthia", "last_name": "Testcase", "date_of_birth": dt.date(1985, 6, 1)}


def refer(mw, pid="NOM-A", user="officer", reference_date=None, **extra):
    return services.nomination_from_referral(user=mw[user], panel_id=mw["panel"].pk, perpetrator_id=pid,
                                             reasons="Escalating pattern across two relationships",
                                             reference_date=reference_date, **{**NAMES, **extra})


def adopt(mw, nomination, date, user="officer", lead=None):
    meeting = meeting_on(mw["panel"], date)
    return services.nomination_decide(user=mw[user], nomination_id=nomination.pk, meeting_id=meeting.pk,
                                      decision=Decision.ADOPT, lead_agency_id=(lead or mw["police"]).pk)


# The schedule -----------------------------------------------------------------------------------

def test_meeting_dates_every_four_weeks_from_the_first_date():
    first = dt.date(2026, 1, 8)
    assert services.meeting_dates(first=first, interval_days=28, start=dt.date(2025, 12, 1), count=3) == [
        dt.date(2026, 1, 8), dt.date(2026, 2, 5), dt.date(2026, 3, 5)]
    # A start on a meeting day includes it; the day after goes to the next one.
    assert services.meeting_dates(first=first, interval_days=28, start=dt.date(2026, 2, 5), count=1) == [dt.date(2026, 2, 5)]
    assert services.meeting_dates(first=first, interval_days=28, start=dt.date(2026, 2, 6), count=2) == [
        dt.date(2026, 3, 5), dt.date(2026, 4, 2)]


def test_meeting_schedule_creates_the_next_meetings_once(mw):
    panel = mw["panel"]
    meetings = services.meeting_schedule(user=mw["officer"], panel_id=panel.pk, count=4)
    assert len(meetings) == 4
    assert all((b.date - a.date).days == 28 for a, b in zip(meetings, meetings[1:]))
    assert meetings[0].date >= TODAY and (meetings[0].date - TODAY).days < 28
    assert ((meetings[0].date - panel.first_meeting_date).days % 28) == 0
    assert meetings[0].venue == "Police HQ" and meetings[0].chair_role == "Detective Chief Inspector"
    again = services.meeting_schedule(user=mw["officer"], panel_id=panel.pk, count=4)
    assert [m.pk for m in again] == [m.pk for m in meetings]
    assert MatacMeeting.objects.count() == 4


def test_meeting_schedule_refuses_outsiders_and_bad_counts(mw):
    with pytest.raises(Http404):
        services.meeting_schedule(user=mw["outsider"], panel_id=mw["panel"].pk, count=2)
    with pytest.raises(Http404):
        services.meeting_schedule(user=mw["police_viewer"], panel_id=mw["panel"].pk, count=2)
    with pytest.raises(ValidationError) as error:
        services.meeting_schedule(user=mw["officer"], panel_id=mw["panel"].pk, count=0)
    assert "count" in error.value.message_dict


# Nominations ------------------------------------------------------------------------------------

def test_nomination_from_a_ranked_list_takes_the_lists_score_and_registers_the_person(mw):
    run = scoring_run_create(user=mw["officer"], reference_date=TODAY)
    top = run.rows.order_by("rank").first()
    nomination = services.nomination_from_run(user=mw["officer"], panel_id=mw["panel"].pk, run_id=run.pk, rank=1, **NAMES)
    assert nomination.source == NominationSource.RANKED_LIST and nomination.rank == 1 and nomination.run == run
    assert nomination.perpetrator_id == top.perpetrator_id
    score = nomination.scores.get(stage=ScoreStage.NOMINATION)
    assert score.eligible and score.score == top.score and score.rank == 1 and score.reference_date == TODAY
    assert (score.r, score.f, score.g, score.v) == (top.r, top.f, top.g, top.v)
    case = nomination.case
    assert case.kind == "matac" and case.owner == mw["police"] and case.reference.startswith("MATAC-")
    assert set(case.parties.all()) == {mw["police"], mw["idas"]}
    participant = CaseParticipant.objects.get(case=case)
    assert participant.role == "perpetrator" and participant.person == nomination.person
    identifier = PersonIdentifier.objects.get(person=nomination.person, kind=IndexKind.POLICE_NOMINAL)
    assert identifier.value == top.perpetrator_id
    assert nomination.status == NominationStatus.AWAITING


def test_a_person_already_on_the_register_is_reused_by_their_nominal_id(mw):
    from saferhub.people.services import person_register

    person = person_register(user=mw["officer"], purpose="test", identifiers={"police_nominal": "NOM-A"},
                             first_name="Known", last_name="Person")
    nomination = refer(mw, first_name="", last_name="", date_of_birth=None)
    assert nomination.person == person
    assert Person.objects.count() == 1


def test_an_unknown_nominal_without_names_is_refused(mw):
    with pytest.raises(ValidationError) as error:
        refer(mw, pid="NOM-NEW", first_name="", last_name="")
    assert "first_name" in error.value.message_dict
    assert not Nomination.objects.exists() and not Case.objects.exists()


def test_a_partner_referral_is_scored_against_the_same_data(mw):
    nomination = refer(mw, pid="NOM-B", user="idas_worker")
    assert nomination.source == NominationSource.PARTNER_REFERRAL
    assert nomination.referring_organisation == mw["idas"] and nomination.reasons.startswith("Escalating")
    assert nomination.case.owner == mw["police"]
    score = nomination.scores.get(stage=ScoreStage.NOMINATION)
    run = scoring_run_create(user=mw["officer"], reference_date=TODAY)
    listed = run.rows.get(rank=score.rank)
    assert score.eligible and listed.perpetrator_id == "NOM-B" and listed.score == score.score


@pytest.mark.parametrize("pid, reason", [
    ("NOM-S", "1 distinct victim"),
    ("NOM-Y", "aged 15"),
    ("NOM-UNKNOWN", "No incident in the police data"),
])
def test_an_ineligible_or_unknown_referral_is_recorded_with_why(mw, pid, reason):
    nomination = refer(mw, pid=pid)
    score = nomination.scores.get(stage=ScoreStage.NOMINATION)
    assert not score.eligible and score.score is None and score.rank is None
    assert reason in score.not_eligible_reason


def test_referral_input_errors(mw):
    for kwargs, field in (({"pid": "  "}, "perpetrator_id"), ({"reference_date": TODAY + dt.timedelta(days=1)}, "reference_date")):
        with pytest.raises(ValidationError) as error:
            refer(mw, **kwargs)
        assert field in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.nomination_from_referral(user=mw["officer"], panel_id=mw["panel"].pk, perpetrator_id="NOM-A", reasons=" ", **NAMES)
    assert "reasons" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.nomination_from_run(user=mw["officer"], panel_id=mw["panel"].pk,
                                     run_id=scoring_run_create(user=mw["officer"], reference_date=TODAY).pk, rank=999, **NAMES)
    assert "rank" in error.value.message_dict


def test_a_person_with_an_open_case_cannot_be_nominated_twice(mw):
    first = refer(mw)
    with pytest.raises(ValidationError) as error:
        refer(mw, first_name="", last_name="")
    assert first.case.reference in error.value.message_dict["perpetrator_id"][0]


def test_outsiders_cannot_nominate(mw):
    for name in ("outsider", "police_viewer", "no_scope"):
        with pytest.raises(Http404):
            refer(mw, user=name)


# Decisions --------------------------------------------------------------------------------------

def test_adopt_at_a_meeting_records_the_adoption_and_the_score_at_adoption(mw):
    nomination = refer(mw, pid="NOM-A", reference_date=days_ago(410))
    decision = adopt(mw, nomination, days_ago(400), lead=mw["idas"])
    nomination.refresh_from_db()
    assert nomination.status == NominationStatus.ADOPTED and nomination.meeting == decision.meeting
    adoption = Adoption.objects.get(nomination=nomination)
    assert adoption.adopted_on == days_ago(400) and adoption.lead_agency == mw["idas"] and adoption.decision == decision
    at_adoption = nomination.scores.get(stage=ScoreStage.ADOPTION)
    assert at_adoption.reference_date == days_ago(400) and at_adoption.eligible and at_adoption.r == 5
    assert decision.meeting.status == MeetingStatus.HELD


def test_the_case_trail_shows_the_nomination_events(mw):
    """"Who has seen" a MATAC case lists the events on its nomination, and no other case's."""
    from saferhub.people.selectors import case_events

    nomination = refer(mw, pid="NOM-A", reference_date=days_ago(410))
    other = refer(mw, pid="NOM-B")
    adopt(mw, nomination, days_ago(400), lead=mw["idas"])
    events = case_events(nomination.case)
    assert set(events.filter(record_type="matac_nomination").values_list("record_id", flat=True)) == {str(nomination.pk)}
    assert set(events.filter(record_type="matac_nomination").values_list("action", flat=True)) >= {"create", "update"}
    assert not case_events(other.case).filter(record_id=str(nomination.pk), record_type="matac_nomination").exists()


def test_decision_rules(mw):
    nomination = refer(mw)
    meeting = meeting_on(mw["panel"], TODAY)
    decide = lambda **kw: services.nomination_decide(user=mw["officer"], nomination_id=nomination.pk, **kw)  # noqa: E731
    future = meeting_on(mw["panel"], TODAY + dt.timedelta(days=28))
    cancelled = meeting_on(mw["panel"], days_ago(28))
    cancelled.status = MeetingStatus.CANCELLED
    cancelled.save()
    cases = [
        ({"meeting_id": future.pk, "decision": Decision.DEFER}, "meeting"),
        ({"meeting_id": cancelled.pk, "decision": Decision.DEFER}, "meeting"),
        ({"meeting_id": None, "decision": Decision.DEFER}, "meeting"),
        ({"meeting_id": meeting.pk, "decision": "maybe"}, "decision"),
        ({"meeting_id": meeting.pk, "decision": Decision.NOT_ADOPT, "reason": " "}, "reason"),
        ({"meeting_id": meeting.pk, "decision": Decision.ADOPT}, "lead_agency"),
        ({"meeting_id": meeting.pk, "decision": Decision.ADOPT, "lead_agency_id": mw["outsider_org"].pk}, "lead_agency"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationError) as error:
            decide(**kwargs)
        assert field in error.value.message_dict, kwargs
    assert not Adoption.objects.exists() and not nomination.decisions.exists()
    other_panel_meeting = MatacMeeting.objects.create(panel=_other_panel(mw), date=TODAY)
    with pytest.raises(ValidationError):
        decide(meeting_id=other_panel_meeting.pk, decision=Decision.DEFER)


def _other_panel(mw):
    from saferhub.matac.models import MatacPanel

    return MatacPanel.objects.create(slug="other", name="Other", police=mw["police"], first_meeting_date=TODAY)


def test_defer_then_not_adopt_closes_the_case_and_nothing_more_can_be_decided(mw):
    nomination = refer(mw)
    meeting = meeting_on(mw["panel"], TODAY)
    services.nomination_decide(user=mw["officer"], nomination_id=nomination.pk, meeting_id=meeting.pk, decision=Decision.DEFER)
    nomination.refresh_from_db()
    assert nomination.status == NominationStatus.DEFERRED and nomination.case.status == CaseStatus.OPEN
    services.nomination_decide(user=mw["officer"], nomination_id=nomination.pk, meeting_id=meeting.pk,
                               decision=Decision.NOT_ADOPT, reason="Already managed under MAPPA")
    nomination.refresh_from_db()
    assert nomination.status == NominationStatus.NOT_ADOPTED and nomination.case.status == CaseStatus.CLOSED
    assert [d.decision for d in nomination.decisions.all()] == [Decision.DEFER, Decision.NOT_ADOPT]
    with pytest.raises(ValidationError):
        adopt(mw, nomination, TODAY)
    assert not Adoption.objects.exists()


# Action plan, reviews, exit ---------------------------------------------------------------------

@pytest.fixture
def adoption(mw):
    nomination = refer(mw, reference_date=days_ago(30))
    adopt(mw, nomination, days_ago(28))
    return Adoption.objects.get(nomination=nomination)


def test_actions_are_added_and_updated(mw, adoption):
    action = services.action_add(user=mw["idas_worker"], adoption_id=adoption.pk, intervention="support",
                                 pathway="substance_misuse", agency_id=mw["idas"].pk, owner_id=mw["idas_worker"].pk,
                                 description="Referral to the drug and alcohol service", deadline=TODAY + dt.timedelta(days=30))
    assert action.status == "open" and action.owner == mw["idas_worker"]
    with pytest.raises(ValidationError) as error:
        services.action_update(user=mw["officer"], action_id=action.pk, status="done")
    assert "outcome" in error.value.message_dict
    services.action_update(user=mw["officer"], action_id=action.pk, status="done", outcome="Engaged with treatment")
    action.refresh_from_db()
    assert action.status == "done" and action.completed_at and action.outcome == "Engaged with treatment"


def test_action_input_errors(mw, adoption):
    base = dict(intervention="support", pathway="finance", agency_id=mw["idas"].pk, description="Debt advice",
                deadline=TODAY + dt.timedelta(days=10))
    for change, field in (({"intervention": "hug"}, "intervention"), ({"pathway": "astrology"}, "pathway"),
                          ({"agency_id": mw["outsider_org"].pk}, "agency"), ({"description": " "}, "description"),
                          ({"deadline": days_ago(400)}, "deadline"), ({"owner_id": mw["officer"].pk}, "owner")):
        with pytest.raises(ValidationError) as error:
            services.action_add(user=mw["officer"], adoption_id=adoption.pk, **{**base, **change})
        assert field in error.value.message_dict, change
    assert not MatacAction.objects.exists()


def test_reviews_and_exit(mw, adoption):
    review = services.review_record(user=mw["officer"], adoption_id=adoption.pk, reviewed_on=TODAY, notes="Engaging well",
                                    risk_view="lower")
    assert review.notes == "Engaging well"
    with pytest.raises(ValidationError) as error:
        services.review_record(user=mw["officer"], adoption_id=adoption.pk, reviewed_on=TODAY, notes="", risk_view="sideways")
    assert {"notes", "risk_view"} <= set(error.value.message_dict)
    with pytest.raises(ValidationError) as error:
        services.exit_record(user=mw["officer"], adoption_id=adoption.pk, exited_on=TODAY, reason="")
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.exit_record(user=mw["officer"], adoption_id=adoption.pk, exited_on=TODAY, reason="other")
    assert "other_reason" in error.value.message_dict
    exit_ = services.exit_record(user=mw["officer"], adoption_id=adoption.pk, exited_on=TODAY, reason="risk_reduced")
    assert exit_.reason == "risk_reduced"
    adoption.nomination.case.refresh_from_db()
    assert adoption.nomination.case.status == CaseStatus.CLOSED
    # A closed case takes no more actions, reviews or exits.
    with pytest.raises((ValidationError, Http404)):
        services.review_record(user=mw["officer"], adoption_id=adoption.pk, reviewed_on=TODAY, notes="x", risk_view="lower")
    with pytest.raises((ValidationError, Http404)):
        services.action_add(user=mw["officer"], adoption_id=adoption.pk, intervention="support", pathway="finance",
                            agency_id=mw["idas"].pk, description="x", deadline=TODAY)


def test_records_of_a_case_are_404_outside_its_parties(mw, adoption):
    action = services.action_add(user=mw["officer"], adoption_id=adoption.pk, intervention="enforcement",
                                 pathway="attitudes", agency_id=mw["police"].pk, description="Bail conditions",
                                 deadline=TODAY + dt.timedelta(days=5))
    outsider = mw["outsider"]
    calls = [
        lambda: services.nomination_decide(user=outsider, nomination_id=adoption.nomination_id, meeting_id=1, decision="defer"),
        lambda: services.action_add(user=outsider, adoption_id=adoption.pk, intervention="support", pathway="finance",
                                    agency_id=mw["idas"].pk, description="x", deadline=TODAY),
        lambda: services.action_update(user=outsider, action_id=action.pk, status="done", outcome="x"),
        lambda: services.review_record(user=outsider, adoption_id=adoption.pk, reviewed_on=TODAY, notes="x", risk_view="lower"),
        lambda: services.exit_record(user=outsider, adoption_id=adoption.pk, exited_on=TODAY, reason="deceased"),
        lambda: services.action_update(user=mw["police_viewer"], action_id=action.pk, status="done", outcome="x"),
    ]
    for call in calls:
        with pytest.raises(Http404):
            call()
    assert Nomination.objects.restrict(outsider).count() == 0
    assert Nomination.objects.restrict(mw["idas_worker"]).count() == 1
    assert MatacAction.objects.restrict(outsider).count() == 0 and MatacScore.objects.restrict(outsider).count() == 0


def test_audit_events_name_fields_never_values(mw, adoption):
    services.action_add(user=mw["officer"], adoption_id=adoption.pk, intervention="support", pathway="finance",
                        agency_id=mw["idas"].pk, description="Secret debt advice detail", deadline=TODAY)
    services.review_record(user=mw["officer"], adoption_id=adoption.pk, reviewed_on=TODAY, notes="Secret review note",
                           risk_view="lower")
    services.exit_record(user=mw["officer"], adoption_id=adoption.pk, exited_on=TODAY, reason="other", other_reason="Secret why")
    types = set(AuditEvent.objects.values_list("record_type", flat=True))
    assert {"matac_nomination", "matac_action", "matac_review", "matac_exit", "case", "person"} <= types
    reference = adoption.nomination.case.reference
    for event in AuditEvent.objects.filter(record_type__startswith="matac_").exclude(record_type__in=["matac_perpetrator", "matac_run"]):
        assert event.record_label == reference
        text = f"{event.purpose} {event.detail} {event.fields} {event.record_label}"
        for secret in ("Secret", "Synthia", "Testcase", "NOM-A", "1985"):
            assert secret not in text
    assert "other_reason" in AuditEvent.objects.get(record_type="matac_exit").fields
