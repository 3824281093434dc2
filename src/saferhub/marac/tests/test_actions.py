"""MARAC action plans: adding actions (an agency not yet party becomes one, with the disclosure
recorded), recording outcomes (completing needs an outcome, the two incomplete categories a reason),
who may update (the assigned agency or the coordinators; anyone else who can see the case is
refused, anyone who cannot is told it does not exist), overdue selection, the audit trail, the
pages and the next agenda's two minute categories."""
import datetime as dt
import html

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from saferhub.accounts.testing import otp_login
from saferhub.audit.models import AuditEvent
from saferhub.core.factories import OrganisationFactory
from saferhub.marac.action_selectors import action_plan, actions_for_my_agency, actions_overdue, is_overdue
from saferhub.marac.action_services import action_add, action_update_status
from saferhub.marac.models import ActionStatus, MaracAction, MeetingStatus
from saferhub.marac.tests.factories import action_make, area_make, meeting_make, referral_make
from saferhub.partners.models import PersonalDataScope, Role
from saferhub.people.models import CaseParty, Disclosure

pytestmark = pytest.mark.django_db
DESCRIPTION = "Zebulon-safety-plan with the named household"


@pytest.fixture
def plan(organisation, other_organisation, make_user):
    """NYP coordinates the area; IDAS attends; a health trust sees nothing of the case."""
    def person(name, org, scope=PersonalDataScope.PARTIES, role=Role.CONTRIBUTOR):
        return make_user(role, org=org, username=name, personal_data_scope=scope, email=f"{name}@example.org")

    health = OrganisationFactory(slug="test-health", name="Test Health Trust", type="health")
    coordinator = person("coordinator", organisation)
    area = area_make(organisation=organisation, coordinators=[coordinator])
    police = person("officer", organisation)
    idva = person("idva", other_organisation)
    idas_colleague = person("idas_colleague", other_organisation)
    nurse = person("nurse", health)
    viewer = person("nyp_viewer", organisation, role=Role.VIEWER)
    referral = referral_make(area=area, user=police)
    CaseParty.objects.get_or_create(case=referral.case, organisation=other_organisation, defaults={"reason": "Attends"})
    return {"area": area, "referral": referral, "coordinator": coordinator, "police": police, "idva": idva,
            "idas_colleague": idas_colleague, "nurse": nurse, "viewer": viewer, "health": health,
            "idas": other_organisation, "nyp": organisation}


def _add(plan, **values):
    defaults = {"user": plan["coordinator"], "referral_id": plan["referral"].pk, "organisation": plan["idas"],
                "assignee": plan["idva"], "description": DESCRIPTION,
                "deadline": timezone.localdate() + dt.timedelta(days=14)}
    return action_add(**(defaults | values))


def test_add_an_action_audited_and_emailed(plan, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        action = _add(plan)
    assert action.status == ActionStatus.OPEN and action.description == DESCRIPTION
    event = AuditEvent.objects.filter(record_type="marac_action", record_id=str(action.pk)).get()
    assert event.action == "create" and "description" in event.fields
    assert DESCRIPTION not in str(event.detail) + event.record_label + event.purpose
    assert [m.to for m in mail.outbox] == [["idva@example.org"]]


def test_an_agency_not_yet_party_becomes_one_with_the_disclosure_recorded(plan):
    _add(plan, organisation=plan["health"], assignee=plan["nurse"])
    case = plan["referral"].case
    assert CaseParty.objects.filter(case=case, organisation=plan["health"]).exists()
    disclosure = Disclosure.objects.get(case=case, to_organisation=plan["health"])
    assert disclosure.lawful_basis == "safeguarding"
    # Its staff now see the plan.
    _, actions = action_plan(user=plan["nurse"], referral_id=plan["referral"].pk)
    assert len(actions) == 1


@pytest.mark.parametrize("values, field", [
    ({"description": "  "}, "description"),
    ({"description": "x" * 2001}, "description"),
    ({"deadline": None}, "deadline"),
    ({"deadline": dt.date(2020, 1, 1)}, "deadline"),
    ({"organisation": None}, "organisation"),
])
def test_bad_input_is_refused_and_nothing_saved(plan, values, field):
    with pytest.raises(ValidationError) as error:
        _add(plan, **values)
    assert field in error.value.message_dict
    assert not MaracAction.objects.exists()


def test_the_assignee_must_work_for_the_agency(plan):
    with pytest.raises(ValidationError) as error:
        _add(plan, assignee=plan["police"])
    assert "IDAS" in error.value.message_dict["assignee"][0]


def test_the_meeting_must_be_of_the_area(plan, organisation):
    elsewhere = meeting_make(area=area_make(organisation=organisation))
    with pytest.raises(ValidationError) as error:
        _add(plan, meeting=elsewhere)
    assert "meeting" in error.value.message_dict


def test_only_those_who_may_change_the_case_add_actions(plan):
    for user in (plan["nurse"], plan["viewer"]):
        with pytest.raises(Http404):
            _add(plan, user=user)


def test_completing_needs_an_outcome_and_the_incomplete_categories_a_reason(plan):
    action = _add(plan)
    for status in (ActionStatus.DONE, ActionStatus.NOT_POSSIBLE, ActionStatus.NOT_UNDERTAKEN):
        with pytest.raises(ValidationError) as error:
            action_update_status(user=plan["idva"], action_id=action.pk, status=status, outcome="  ")
        assert "outcome" in error.value.message_dict
    with pytest.raises(ValidationError):
        action_update_status(user=plan["idva"], action_id=action.pk, status="lost", outcome="x")
    updated = action_update_status(user=plan["idva"], action_id=action.pk, status=ActionStatus.NOT_POSSIBLE,
                                   outcome="Moved out of the area")
    assert updated.status == ActionStatus.NOT_POSSIBLE and updated.completed_at is not None
    updated = action_update_status(user=plan["idva"], action_id=action.pk, status=ActionStatus.OPEN, outcome="")
    assert updated.completed_at is None
    updated = action_update_status(user=plan["idva"], action_id=action.pk, status=ActionStatus.DONE, outcome="Plan in place")
    assert updated.status == ActionStatus.DONE and updated.outcome == "Plan in place"
    events = AuditEvent.objects.filter(record_type="marac_action", action="update")
    assert events.count() == 3 and all("Plan in place" not in str(e.detail) for e in events)


def test_only_the_assigned_agency_or_the_coordinator_may_update(plan):
    action = _add(plan)
    # The assigned agency (anyone in it) and the area's coordinator may.
    action_update_status(user=plan["idas_colleague"], action_id=action.pk, status=ActionStatus.DONE, outcome="Done")
    action_update_status(user=plan["coordinator"], action_id=action.pk, status=ActionStatus.OPEN, outcome="")
    # Another agency that can see the case may not; one that cannot is told it does not exist.
    with pytest.raises(PermissionDenied):
        action_update_status(user=plan["police"], action_id=action.pk, status=ActionStatus.DONE, outcome="Done")
    with pytest.raises(Http404):
        action_update_status(user=plan["nurse"], action_id=action.pk, status=ActionStatus.DONE, outcome="Done")
    with pytest.raises(Http404):
        action_update_status(user=plan["idva"], action_id=999999, status=ActionStatus.DONE, outcome="Done")
    # A viewer of the assigned agency cannot change anything.
    with pytest.raises(PermissionDenied):
        action_update_status(user=plan["viewer"], action_id=action.pk, status=ActionStatus.DONE, outcome="Done")


def test_overdue_selection(plan, organisation):
    today = timezone.localdate()
    referral, area = plan["referral"], plan["area"]
    late = action_make(referral=referral, organisation=plan["idas"], deadline=today - dt.timedelta(days=1))
    due_today = action_make(referral=referral, organisation=plan["idas"], deadline=today)
    action_make(referral=referral, organisation=plan["idas"], deadline=today - dt.timedelta(days=9), status=ActionStatus.DONE)
    action_make(referral=referral, organisation=plan["idas"], deadline=today - dt.timedelta(days=9),
                status=ActionStatus.NOT_UNDERTAKEN)
    other_area = area_make(organisation=organisation)
    elsewhere = referral_make(area=other_area, user=plan["police"])
    action_make(referral=elsewhere, organisation=plan["idas"], deadline=today - dt.timedelta(days=3))
    assert list(actions_overdue(area=area, as_of=today)) == [late]
    assert list(actions_overdue(area=area, as_of=today + dt.timedelta(days=1))) == [late, due_today]
    assert is_overdue(late, today) and not is_overdue(due_today, today)


def test_my_agencys_actions(plan):
    today = timezone.localdate()
    mine = _add(plan)
    _add(plan, organisation=plan["nyp"], assignee=None)
    late = action_make(referral=plan["referral"], organisation=plan["idas"], deadline=today - dt.timedelta(days=2))
    assert {a.pk for a in actions_for_my_agency(user=plan["idva"], as_of=today)} == {mine.pk, late.pk}
    assert [a.pk for a in actions_for_my_agency(user=plan["idva"], as_of=today, overdue_only=True)] == [late.pk]
    assert actions_for_my_agency(user=plan["nurse"], as_of=today) == []
    event = AuditEvent.objects.filter(record_type="marac_action", action="list").last()
    assert event.actor == plan["nurse"]


def test_overdue_actions_go_on_the_next_agenda_in_the_two_minute_categories(plan):
    from saferhub.marac.agenda import agenda_build
    from saferhub.marac.models import AgendaItem, AgendaSection

    today = timezone.localdate()
    area, referral = plan["area"], plan["referral"]
    last = meeting_make(area=area, status=MeetingStatus.HELD, starts_at=timezone.now() - dt.timedelta(days=7))
    overdue = action_make(referral=referral, organisation=plan["idas"], deadline=today - dt.timedelta(days=2), meeting=last)
    not_possible = action_make(referral=referral, organisation=plan["idas"], deadline=today, meeting=last,
                               status=ActionStatus.NOT_POSSIBLE, completed_at=timezone.now() - dt.timedelta(days=1))
    action_make(referral=referral, organisation=plan["idas"], deadline=today + dt.timedelta(days=5), meeting=last)
    upcoming = meeting_make(area=area, starts_at=timezone.now() + dt.timedelta(days=1))
    agenda_build(user=plan["coordinator"], meeting=upcoming)
    items = AgendaItem.objects.filter(meeting=upcoming, section=AgendaSection.INCOMPLETE_ACTIONS)
    assert {(i.action_id, i.category) for i in items} == {(overdue.pk, ActionStatus.NOT_UNDERTAKEN),
                                                          (not_possible.pk, ActionStatus.NOT_POSSIBLE)}


# Pages -------------------------------------------------------------------------------------------

def _text(response) -> str:
    return html.unescape(response.content.decode())


def test_the_plan_page_and_adding_through_it(client, plan, django_capture_on_commit_callbacks):
    otp_login(client, plan["coordinator"])
    referral = plan["referral"]
    url = f"/marac/referrals/{referral.pk}/actions/"
    page = client.get(url)
    assert page.status_code == 200 and "No actions have been agreed" in _text(page)
    assert "no-store" in page["Cache-Control"]
    form = client.get(url + "add/")
    assert form.status_code == 200
    empty = client.post(url + "add/", {})
    assert empty.status_code == 200 and "Select the agency responsible for the action" in _text(empty)
    bad = client.post(url + "add/", {"organisation": plan["idas"].pk, "description": "", "deadline-day": "31",
                                     "deadline-month": "2", "deadline-year": "2030"})
    assert bad.status_code == 200 and "There is a problem" in _text(bad) and "Enter what the agency will do" in _text(bad)
    deadline = timezone.localdate() + dt.timedelta(days=10)
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url + "add/", {"organisation": plan["idas"].pk, "assignee": plan["idva"].pk,
                                          "description": DESCRIPTION, "deadline-day": deadline.day,
                                          "deadline-month": deadline.month, "deadline-year": deadline.year})
    assert done.status_code == 302
    action = MaracAction.objects.get()
    assert DESCRIPTION in _text(client.get(url))
    assert len(mail.outbox) == 1 and DESCRIPTION not in mail.outbox[0].body
    assert action.assignee == plan["idva"]


def test_update_page_permissions_and_outcome(client, plan):
    action = _add(plan)
    url = f"/marac/actions/{action.pk}/update/"
    otp_login(client, plan["nurse"])
    assert client.get(url).status_code == 404
    assert client.get(f"/marac/referrals/{plan['referral'].pk}/actions/").status_code == 404
    client.logout()
    otp_login(client, plan["police"])
    assert client.get(url).status_code == 403
    client.logout()
    otp_login(client, plan["idva"])
    assert client.get(url).status_code == 200
    missing = client.post(url, {"status": "done", "outcome": ""})
    assert missing.status_code == 200 and "Say what was done" in _text(missing)
    assert client.post(url, {"status": "done", "outcome": "Plan agreed"}).status_code == 302
    assert MaracAction.objects.get().status == ActionStatus.DONE


def test_my_actions_page_flags_overdue(client, plan):
    today = timezone.localdate()
    _add(plan)
    action_make(referral=plan["referral"], organisation=plan["idas"], deadline=today - dt.timedelta(days=3),
                description="Overdue thing")
    otp_login(client, plan["idva"])
    page = _text(client.get("/marac/actions/"))
    assert "Overdue" in page and "1 is overdue" in page and plan["referral"].case.reference in page
    only = _text(client.get("/marac/actions/?overdue=1"))
    assert "Overdue thing" in only and DESCRIPTION not in only
    client.logout()
    otp_login(client, plan["nurse"])
    assert plan["referral"].case.reference not in _text(client.get("/marac/actions/"))


def test_no_personal_data_scope_no_pages(client, plan, make_user):
    user = make_user(Role.CONTRIBUTOR, org=plan["idas"], username="no_scope", personal_data_scope=PersonalDataScope.NONE)
    client.force_login(user)
    assert client.get("/marac/actions/").status_code == 403
