"""Retention: closed cases past their schedule are deleted or anonymised, cases under legal hold
are kept, people still in another case are left alone, a dry run changes nothing, every step is
audited and the chain still verifies; the task runs through django-tasks and the scheduler."""
import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.http import Http404
from django.utils import timezone

from saferhub.audit.models import AuditEvent
from saferhub.audit.trail import chain_verify
from saferhub.partners.models import PersonalDataScope, Role
from saferhub.people import services
from saferhub.people.models import (
    BreakGlassAccess, Case, CaseKind, CaseParty, CaseStatus, Disclosure, Person, PersonIdentifier, PersonIndex,
    RetentionSchedule,
)
from saferhub.people.retention import default_schedules_load, retention_apply, retention_due, retention_held

TODAY = dt.date(2026, 6, 1)


def closed(case: Case, years: float = 0, days: int = 0) -> Case:
    """Close `case` that long before TODAY (at noon, local time)."""
    day = TODAY - dt.timedelta(days=round(years * 365.25) + days)
    when = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED, closed_at=when)
    case.refresh_from_db()
    return case


@pytest.fixture
def caseworker(make_user):
    return make_user(Role.CONTRIBUTOR, username="caseworker", personal_data_scope=PersonalDataScope.PARTIES)


@pytest.fixture
def world(db, caseworker, other_organisation, make_user):
    """Cases of every fate, with people shared between some of them."""
    default_schedules_load()
    n = iter(range(1, 100))

    def case(kind, summary="Referred after an incident"):
        return services.case_open(user=caseworker, kind=kind, reference=f"{kind.upper()}-T-{next(n)}", purpose="Test",
                                  summary=summary, parties=[other_organisation])

    def person(first, last, identifier=""):
        return services.person_register(user=caseworker, purpose="Test", first_name=first, last_name=last,
                                        date_of_birth=dt.date(1985, 3, 3), gender="Female",
                                        addresses=[{"lines": ["2 Example Road"], "postcode": "YO1 0AA"}],
                                        identifiers={"nhs_number": identifier} if identifier else {})

    def join(case, person, role="victim"):
        services.case_participant_add(user=caseworker, case_id=case.pk, person_id=person.pk, role=role, purpose="Test")

    w = {
        "old_marac": case(CaseKind.MARAC), "open_marac": case(CaseKind.MARAC), "held": case(CaseKind.MARAC),
        "old_dhr": case(CaseKind.DOMESTIC_HOMICIDE_REVIEW, "Review of the death of a resident"),
        "recent_marac": case(CaseKind.MARAC), "scrutiny": case(CaseKind.SCRUTINY),
        "only_old": person("Alice", "Onlyold", "999 000 0011"), "shared": person("Beth", "Shared", "999 000 0022"),
        "held_person": person("Cara", "Held"), "dhr_only": person("Dina", "Reviewed", "999 000 0033"),
        "perpetrator": person("Evan", "Testcase"),
    }
    join(w["old_marac"], w["only_old"])
    join(w["old_marac"], w["perpetrator"], "perpetrator")
    join(w["old_marac"], w["shared"])
    join(w["open_marac"], w["shared"])
    join(w["held"], w["held_person"])
    join(w["old_dhr"], w["dhr_only"])
    join(w["old_dhr"], w["shared"], "other")
    join(w["recent_marac"], w["perpetrator"], "perpetrator")
    services.disclosure_record(user=caseworker, case=w["old_marac"], to_organisation=other_organisation,
                               lawful_basis="safeguarding", purpose="Safety planning", person=w["only_old"])
    services.disclosure_record(user=caseworker, case=w["old_dhr"], to_organisation=other_organisation,
                               lawful_basis="public_task", purpose="The review panel")
    outsider = make_user(Role.CONTRIBUTOR, org=other_organisation, username="outsider",
                         personal_data_scope=PersonalDataScope.PARTIES)
    services.break_glass_open(user=outsider, case_id=w["old_dhr"].pk, reason="Checking the review panel's findings today")
    services.break_glass_open(user=outsider, case_id=w["old_marac"].pk, reason="Out of hours call about the victim's safety")
    closed(w["old_marac"], years=7)
    closed(w["held"], years=7)
    closed(w["old_dhr"], years=11)
    closed(w["recent_marac"], years=5)
    closed(w["scrutiny"], years=30)
    Case.objects.filter(pk=w["held"].pk).update(legal_hold=True, legal_hold_reason="Civil proceedings")
    return w


def exists(obj) -> bool:
    return type(obj).objects.filter(pk=obj.pk).exists()


def test_default_schedules_are_loaded_once_and_keep_changes(db):
    assert default_schedules_load() == 4
    RetentionSchedule.objects.filter(case_kind=CaseKind.MARAC).update(keep_for_days=3000)
    assert default_schedules_load() == 0
    assert RetentionSchedule.objects.get(case_kind=CaseKind.MARAC).keep_for_days == 3000
    assert RetentionSchedule.objects.get(case_kind=CaseKind.DOMESTIC_HOMICIDE_REVIEW).action == "anonymise"


def test_due_and_held_cases(world):
    assert list(retention_due(TODAY)) == [world["old_dhr"], world["old_marac"]]
    assert list(retention_held(TODAY)) == [world["held"]]


def test_due_on_the_day_the_schedule_ends_and_not_the_day_before(world):
    case = world["recent_marac"]
    closed(case, days=2192)
    assert case in retention_due(TODAY)
    closed(case, days=2191)
    assert case not in retention_due(TODAY)


def test_retention_deletes_anonymises_and_keeps_what_it_should(world):
    identifiers_of_old = list(PersonIdentifier.objects.filter(person=world["only_old"]).values_list("pk", flat=True))
    report = retention_apply(today=TODAY)

    assert {o.reference for o in report.done} == {world["old_marac"].reference, world["old_dhr"].reference}
    assert report.held == [(world["held"].pk, world["held"].reference)] and report.failed == []

    # The old MARAC: gone with its links; its only-here people gone with their identifiers and indexes.
    assert not exists(world["old_marac"])
    assert not Disclosure.objects.filter(case_id=world["old_marac"].pk).exists()
    assert not BreakGlassAccess.objects.filter(case_id=world["old_marac"].pk).exists()
    assert not CaseParty.objects.filter(case_id=world["old_marac"].pk).exists()
    assert not exists(world["only_old"])
    assert not PersonIdentifier.objects.filter(pk__in=identifiers_of_old).exists()
    assert not PersonIndex.objects.filter(person_id=world["only_old"].pk).exists()
    # Someone in another case that is kept is not touched.
    perpetrator = Person.objects.get(pk=world["perpetrator"].pk)
    assert perpetrator.first_name == "Evan" and perpetrator.anonymised_at is None
    shared = Person.objects.get(pk=world["shared"].pk)
    assert shared.full_name == "Beth Shared" and shared.identifiers.count() == 1 and shared.indexes.exists()

    # The old review: its shell kept, the summary blanked, its own person anonymised.
    dhr = Case.objects.get(pk=world["old_dhr"].pk)
    assert dhr.summary == "" and dhr.kind == CaseKind.DOMESTIC_HOMICIDE_REVIEW and dhr.closed_at is not None
    assert dhr.party_links.count() == 2 and dhr.participants.count() == 2 and dhr.disclosures.count() == 1
    assert dhr.disclosures.get().purpose == "Removed under the retention schedule"
    assert dhr.break_glass.get().reason == "Removed under the retention schedule"
    reviewed = Person.objects.get(pk=world["dhr_only"].pk)
    assert reviewed.full_name == "Anonymised" and reviewed.anonymised_at is not None
    assert (reviewed.date_of_birth, reviewed.gender, reviewed.addresses, reviewed.aliases) == (None, "", [], [])
    assert not reviewed.identifiers.exists() and not reviewed.indexes.exists()

    # Under legal hold, not yet due, or with no schedule: untouched.
    held = Case.objects.get(pk=world["held"].pk)
    assert held.summary == "Referred after an incident"
    assert Person.objects.get(pk=world["held_person"].pk).first_name == "Cara"
    assert exists(world["recent_marac"]) and exists(world["scrutiny"]) and exists(world["open_marac"])


def test_retention_is_audited_and_the_chain_still_verifies(world):
    first_new = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first()
    retention_apply(today=TODAY)
    events = AuditEvent.objects.filter(sequence__gt=first_new)
    deleted = events.get(record_type="case", action="delete")
    assert deleted.record_id == str(world["old_marac"].pk) and deleted.record_label == world["old_marac"].reference
    assert deleted.purpose.startswith("Retention schedule: MARAC: 2192 days after closure")
    assert deleted.actor is None and deleted.actor_name == "system"
    assert deleted.detail["people_deleted"] == 1 and deleted.detail["people_kept"] == 2
    assert deleted.detail["disclosures"] == 1 and deleted.detail["break_glass"] == 1
    anonymised = events.get(record_type="case", action="anonymise")
    assert anonymised.record_id == str(world["old_dhr"].pk)
    assert anonymised.detail["people_anonymised"] == 1 and anonymised.detail["people_kept"] == 1
    assert set(events.filter(record_type="person").values_list("action", "record_id")) == {
        ("delete", str(world["only_old"].pk)), ("anonymise", str(world["dhr_only"].pk))}
    summary = events.get(record_type="retention")
    assert summary.detail["held"] == [world["held"].reference]
    assert (summary.detail["deleted"], summary.detail["anonymised"]) == (1, 1)
    dump = str(list(events.values()))
    for name in ["Alice", "Onlyold", "Dina", "Reviewed", "999 000"]:
        assert name not in dump
    checked, problem = chain_verify()
    assert problem is None and checked == AuditEvent.objects.count()


def test_a_second_run_finds_nothing_more_to_do(world):
    retention_apply(today=TODAY)
    report = retention_apply(today=TODAY)
    assert report.done == [] and len(report.held) == 1
    assert AuditEvent.objects.filter(record_type="case", action="anonymise").count() == 1


def test_a_dry_run_changes_nothing(world):
    counts = (Case.objects.count(), Person.objects.count(), PersonIdentifier.objects.count(), AuditEvent.objects.count())
    report = retention_apply(today=TODAY, dry_run=True)
    assert {(o.reference, o.action) for o in report.done} == {
        (world["old_marac"].reference, "delete"), (world["old_dhr"].reference, "anonymise")}
    assert (Case.objects.count(), Person.objects.count(), PersonIdentifier.objects.count(), AuditEvent.objects.count()) == counts
    assert Case.objects.get(pk=world["old_dhr"].pk).summary == "Review of the death of a resident"
    assert "would be deleted" in report.lines()[0]


def test_someone_left_in_an_anonymised_shell_is_anonymised_when_their_last_case_goes(world):
    retention_apply(today=TODAY)
    # "shared" was kept for the open MARAC; the review's anonymised shell still names them.
    closed(world["open_marac"], years=7)
    retention_apply(today=TODAY)
    shared = Person.objects.get(pk=world["shared"].pk)
    assert shared.full_name == "Anonymised" and not shared.identifiers.exists()
    assert not exists(world["open_marac"])


def test_a_case_another_record_protects_is_reported_and_the_rest_go_ahead(world, monkeypatch):
    from django.db.models import ProtectedError

    from saferhub.people import retention

    real = retention._plan

    def refuse_for_the_review(case, action, anonymised):
        if case.kind == CaseKind.DOMESTIC_HOMICIDE_REVIEW:
            raise ProtectedError("A referral refers to it", set())
        return real(case, action, anonymised)

    monkeypatch.setattr(retention, "_plan", refuse_for_the_review)
    report = retention_apply(today=TODAY)
    assert [o.reference for o in report.failed] == [world["old_dhr"].reference]
    assert [o.reference for o in report.done] == [world["old_marac"].reference]
    assert Case.objects.get(pk=world["old_dhr"].pk).summary == "Review of the death of a resident"


def test_legal_hold_is_set_by_a_data_protection_lead_or_administrator(world, make_user, caseworker, other_organisation):
    case = world["old_marac"]
    with pytest.raises(PermissionDenied):
        services.case_legal_hold_set(user=caseworker, case_id=case.pk, reason="Proceedings")
    lead = make_user(Role.VIEWER, username="dpo", is_data_protection_lead=True)
    with pytest.raises(ValidationError):
        services.case_legal_hold_set(user=lead, case_id=case.pk, reason="  ")
    services.case_legal_hold_set(user=lead, case_id=case.pk, reason="Family court proceedings")
    case.refresh_from_db()
    assert case.legal_hold and case.legal_hold_reason == "Family court proceedings"
    event = AuditEvent.objects.filter(record_type="case", record_id=str(case.pk)).order_by("-sequence").first()
    assert (event.action, event.actor, event.fields) == ("update", lead, ["legal_hold", "legal_hold_reason"])

    report = retention_apply(today=TODAY)
    assert exists(case) and case.reference in [r for _, r in report.held]

    # A lead of an organisation not party to the case cannot see it to release it.
    elsewhere = make_user(Role.VIEWER, org=_third_organisation(), username="dpo2", is_data_protection_lead=True)
    with pytest.raises(Http404):
        services.case_legal_hold_clear(user=elsewhere, case_id=case.pk, reason="Proceedings ended")
    admin = make_user(Role.ADMINISTRATOR, org=_third_organisation(), username="admin2")
    services.case_legal_hold_clear(user=admin, case_id=case.pk, reason="Proceedings ended")
    with pytest.raises(ValidationError):
        services.case_legal_hold_clear(user=admin, case_id=case.pk, reason="Again")
    retention_apply(today=TODAY)
    assert not exists(case)


def _third_organisation():
    from saferhub.core.factories import OrganisationFactory
    from saferhub.partners.models import Organisation

    return Organisation.objects.filter(slug="york-council").first() or OrganisationFactory(
        slug="york-council", name="City of York Council", type="local_authority")


def test_retention_command_runs_and_prints_what_it_did(world):
    out = StringIO()
    call_command("retention", "run", "--dry-run", "--today", TODAY.isoformat(), stdout=out)
    assert "dry run: nothing changed" in out.getvalue() and world["held"].reference in out.getvalue()
    assert exists(world["old_marac"])
    out = StringIO()
    call_command("retention", "run", "--today", TODAY.isoformat(), stdout=out)
    assert f"{world['old_marac'].reference} (MARAC): deleted" in out.getvalue()
    assert not exists(world["old_marac"])
    out = StringIO()
    call_command("retention", "schedules", stdout=out)
    assert "Domestic homicide review: 3653 days after closure, then anonymise" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("retention", "run", "--today", "1 June")


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_the_task_runs_retention_through_django_tasks(world, immediate_tasks):
    from django_tasks import TaskResultStatus

    from saferhub.people.tasks import retention_run_task

    result = retention_run_task.enqueue(TODAY.isoformat())
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value["deleted"] == [world["old_marac"].reference]
    assert result.return_value["held"] == [world["held"].reference]
    assert not exists(world["old_marac"])


def test_retention_enqueue_command(world, immediate_tasks):
    out = StringIO()
    call_command("retention", "enqueue", stdout=out)
    assert "Retention run queued" in out.getvalue()
    # Today is long after TODAY, so everything due then is due now.
    assert not exists(world["old_marac"])


def test_the_database_worker_runs_a_queued_retention(world, monkeypatch):
    from django_tasks_db.management.commands import db_worker
    from django_tasks_db.models import DBTaskResult

    # The worker drops connections it finds inside a transaction, as the test's own is.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    from saferhub.people.tasks import retention_run_task

    retention_run_task.enqueue(TODAY.isoformat())
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    assert exists(world["old_marac"])
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    result = DBTaskResult.objects.get()
    assert result.status == "SUCCESSFUL", result.traceback
    assert not exists(world["old_marac"])


def test_the_scheduler_queues_once_a_day_after_the_hour(db):
    from django_tasks_db.models import DBTaskResult

    from saferhub.core.management.commands.scheduler import next_run_time, scheduler_step

    def at(day, hour, minute=0):
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))

    # Yesterday, so the queue's own enqueued_at (now) is after every time used here.
    day = timezone.localdate() - dt.timedelta(days=1)
    assert scheduler_step(at(day, 1, 59), 2) is None
    assert scheduler_step(at(day, 2, 0), 2) is not None
    assert scheduler_step(at(day, 9, 30), 2) is None, "already queued today"
    assert DBTaskResult.objects.count() == 1
    assert next_run_time(at(day, 9, 30), 2) == at(day + dt.timedelta(days=1), 2)
    assert next_run_time(at(day, 1, 0), 2) == at(day, 2)
    # A restarted scheduler that remembers nothing still sees today's run in the queue.
    assert scheduler_step(at(day, 23, 0), 2, last_queued=None) is None


def test_the_scheduler_command_once(db, monkeypatch):
    from django_tasks_db.models import DBTaskResult

    from saferhub.core.management.commands import scheduler

    # It drops stale connections between naps; the test's is inside a transaction, so keep it.
    monkeypatch.setattr(scheduler, "close_old_connections", lambda: None)

    out = StringIO()
    call_command("scheduler", "--once", "--hour", "0", stdout=out)
    assert "retention run queued" in out.getvalue()
    assert "MATAC outcomes run queued" in out.getvalue()
    assert "audit trail anchor queued" in out.getvalue()
    call_command("scheduler", "--once", "--hour", "0", stdout=out)
    queued = sorted(DBTaskResult.objects.values_list("task_path", flat=True))
    assert queued == ["saferhub.audit.tasks.anchor_task", "saferhub.matac.outcomes.outcomes_run_task",
                      "saferhub.people.tasks.retention_run_task"], \
        "each daily job queued once, not again on the second call"
    with pytest.raises(CommandError):
        call_command("scheduler", "--once", "--hour", "24")
