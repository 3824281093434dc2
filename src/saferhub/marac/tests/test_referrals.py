"""Referral submission (one transaction: case, parties, disclosure, people, answers, criteria,
audit), every kind of bad input with nothing half-saved, and the coordinator's accept and decline."""
import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from saferhub.audit.models import AuditEvent
from saferhub.marac.checklist_services import checklist_current
from saferhub.marac.models import ChecklistAnswer, MaracReferral, ReferralChild, ReferralStatus
from saferhub.marac.referral_services import (
    PersonInput, referral_accept, referral_decline, referral_submit,
)
from saferhub.marac.tests.referral_fixtures import *  # noqa: F401,F403
from saferhub.marac.tests.referral_fixtures import VICTIM_NAME, referral_input
from saferhub.partners.models import PersonalDataScope, Role
from saferhub.people.factories import PersonFactory
from saferhub.people.models import Case, CaseParticipant, Disclosure, LawfulBasis, Person

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()


def _counts() -> tuple:
    return (Case.objects.count(), Person.objects.count(), CaseParticipant.objects.count(), MaracReferral.objects.count(),
            ChecklistAnswer.objects.count(), ReferralChild.objects.count(), Disclosure.objects.count(), AuditEvent.objects.count())


def _errors(area, user, **changes) -> dict:
    checklist_current()
    before = _counts()
    with pytest.raises(ValidationError) as error:
        referral_submit(user=user, area=area, referral=referral_input(**changes))
    assert _counts() == before, "a refused referral must leave nothing behind"
    return {key: messages[0] for key, messages in error.value.message_dict.items()}


def test_a_referral_opens_a_marac_case_shared_with_the_coordinating_organisation(area, referrer, other_organisation):
    referral = referral_submit(user=referrer, area=area, referral=referral_input(
        yes=15, children=[{"first_name": "Pip", "last_name": "Fernsby", "age": 6, "school": "Village Primary"}]))
    case = referral.case
    assert case.kind == "marac" and case.reference.startswith(f"MARAC-{TODAY.year}-")
    assert case.owner == referrer.organisation
    assert set(case.parties.all()) == {referrer.organisation, other_organisation}
    disclosure = Disclosure.objects.get(case=case)
    assert disclosure.to_organisation == other_organisation and disclosure.lawful_basis == LawfulBasis.SAFEGUARDING
    roles = sorted(CaseParticipant.objects.filter(case=case).values_list("role", flat=True))
    assert roles == ["child", "perpetrator", "victim"]
    victim = CaseParticipant.objects.get(case=case, role="victim").person
    assert (victim.first_name, victim.last_name, victim.date_of_birth) == (*VICTIM_NAME, dt.date(1990, 4, 2))
    assert referral.referring_organisation == referrer.organisation and referral.status == ReferralStatus.SUBMITTED
    assert referral.score == 15 and referral.answers.count() == 24 and referral.checklist == checklist_current()
    assert referral.has_children and referral.children.get().age_at_referral == 6
    assert referral.children.get().school == "Village Primary"
    assert referral.safe_to_call and referral.safe_contact_details == "Mobile only, text first"
    event = AuditEvent.objects.get(record_type="marac_referral", record_id=str(referral.pk), action="create")
    assert event.action == "create" and event.record_label == case.reference
    assert VICTIM_NAME[0] not in str(event.detail) + event.record_label + event.purpose


def test_an_existing_person_is_reused_on_an_exact_match_and_a_new_one_registered_otherwise(area, referrer):
    known = PersonFactory(user=referrer, first_name=VICTIM_NAME[0], last_name=VICTIM_NAME[1], date_of_birth=dt.date(1990, 4, 2))
    referral = referral_submit(user=referrer, area=area, referral=referral_input())
    assert CaseParticipant.objects.get(case=referral.case, role="victim").person == known
    other = referral_submit(user=referrer, area=area, referral=referral_input(victim_dob=dt.date(1991, 4, 2)))
    assert CaseParticipant.objects.get(case=other.case, role="victim").person != known


def test_a_person_another_agency_holds_is_not_reused_so_nothing_of_theirs_is_shown(area, referrer, outsider):
    theirs = PersonFactory(user=outsider, first_name=VICTIM_NAME[0], last_name=VICTIM_NAME[1], date_of_birth=dt.date(1990, 4, 2))
    referral = referral_submit(user=referrer, area=area, referral=referral_input())
    assert CaseParticipant.objects.get(case=referral.case, role="victim").person != theirs


def test_stalking_yes_requires_the_stalking_screen_and_records_it(area, referrer):
    answers = referral_input(yes=14, stalking=True).answers
    assert answers["stalking"][0] == "yes"
    incomplete = {k: v for k, v in answers.items() if k != "stalking-threats"}
    errors = _errors(area, referrer, answers=incomplete)
    assert errors == {"answers.stalking-threats": "Answer the stalking screen's question 8 (Threats of physical or sexual violence): yes, no or not known"}
    referral = referral_submit(user=referrer, area=area, referral=referral_input(yes=14, stalking=True))
    assert referral.answers.filter(question__section="stalking").count() == 11
    assert referral.score == 14


def test_stalking_screen_answers_are_not_kept_when_the_screen_was_not_opened(area, referrer):
    answers = referral_input(yes=14).answers
    answers["stalking-fear"] = ("yes", "")
    referral = referral_submit(user=referrer, area=area, referral=referral_input(answers=answers))
    assert referral.answers.filter(question__section="stalking").count() == 0


@pytest.mark.parametrize("changes, field, message", [
    ({"victim": PersonInput(first_name="", last_name="Fernsby", date_of_birth=dt.date(1990, 1, 1))},
     "victim.first_name", "Enter the victim's first name"),
    ({"victim": PersonInput(first_name="Ada", last_name="Fernsby")}, "victim.date_of_birth", "Enter the victim's date of birth"),
    ({"victim": PersonInput(first_name="Ada", last_name="Fernsby", date_of_birth=TODAY + dt.timedelta(days=1))},
     "victim.date_of_birth", "The victim's date of birth must be in the past"),
    ({"victim": PersonInput(first_name="Ada", last_name="Fernsby", date_of_birth=TODAY.replace(year=TODAY.year - 15))},
     "victim.date_of_birth", "The victim must be 16 or over for a MARAC; refer younger people to children's social care"),
    ({"victim": PersonInput(first_name="Ada", last_name="Fernsby", date_of_birth=dt.date(1990, 1, 1), ethnicity="martian")},
     "victim.ethnicity", "Select the victim's ethnicity from the list"),
    ({"perpetrators": []}, "perpetrators", "Enter at least one perpetrator"),
    ({"perpetrators": [PersonInput(first_name="Rufus", last_name=" ")]}, "perpetrators.0.last_name", "Enter the perpetrator's last name"),
    ({"perpetrators": [PersonInput(first_name="Rufus", last_name="Q", date_of_birth=TODAY + dt.timedelta(days=3))]},
     "perpetrators.0.date_of_birth", "The perpetrator's date of birth must be in the past"),
    ({"children": [{"first_name": "Pip", "last_name": "F", "age": 18}]}, "children.0.age",
     "Child 1 is older than 17: record adults in the household in the comments, not as children"),
    ({"children": [{"first_name": "Pip", "last_name": "F"}]}, "children.0.age", "Enter the age of child 1"),
    ({"children": [{"first_name": "Pip", "last_name": "F", "date_of_birth": TODAY.replace(year=TODAY.year - 19)}]},
     "children.0.age", "Child 1 is older than 17: record adults in the household in the comments, not as children"),
    ({"assessed_on": None}, "assessed_on", "Enter the date the risk checklist was completed"),
    ({"assessed_on": TODAY + dt.timedelta(days=1)}, "assessed_on", "The date the risk checklist was completed must be today or in the past"),
    ({"incidents_in_window": None}, "incidents_in_window", "Enter the number of incidents, 0 if there were none"),
    ({"safe_to_call": True, "safe_contact_details": ""}, "safe_contact_details",
     "Enter a safe number or way to contact the victim, as it is safe to call"),
])
def test_bad_input_names_the_field_and_saves_nothing(area, referrer, changes, field, message):
    assert _errors(area, referrer, **changes)[field] == message


def test_an_unanswered_checklist_question_is_named(area, referrer):
    answers = referral_input().answers
    del answers["threats-to-kill"]
    assert _errors(area, referrer, answers=answers) == {
        "answers.threats-to-kill": "Answer the checklist's question 14 (Threats to kill): yes, no or not known"}


def test_an_unknown_question_key_is_named(area, referrer):
    answers = referral_input().answers | {"not-a-question": ("yes", "")}
    assert "no question 'not-a-question'" in _errors(area, referrer, answers=answers)["answers"]


def test_no_area_and_an_inactive_area_are_errors(area, referrer):
    checklist_current()
    with pytest.raises(ValidationError) as error:
        referral_submit(user=referrer, area=None, referral=referral_input())
    assert error.value.message_dict["area"] == ["Select the MARAC area"]
    area.active = False
    with pytest.raises(ValidationError) as error:
        referral_submit(user=referrer, area=area, referral=referral_input())
    assert "no longer takes referrals" in error.value.message_dict["area"][0]


def test_a_failure_late_in_the_transaction_leaves_nothing(area, referrer, monkeypatch):
    """The criteria are checked after the case, people and answers are written: refusing then must
    roll all of them back, the audit events included."""
    from saferhub.marac import criteria

    checklist_current()
    before = _counts()
    monkeypatch.setattr(criteria, "criteria_met", lambda results: [])
    with pytest.raises(ValidationError):
        referral_submit(user=referrer, area=area, referral=referral_input(
            yes=20, children=[{"first_name": "Pip", "last_name": "F", "age": 3}]))
    assert _counts() == before


def test_only_staff_who_may_record_personal_data_can_refer(area, make_user):
    for user in (make_user(Role.VIEWER, username="v", personal_data_scope=PersonalDataScope.PARTIES),
                 make_user(Role.CONTRIBUTOR, username="n", personal_data_scope=PersonalDataScope.NONE)):
        with pytest.raises(PermissionDenied):
            referral_submit(user=user, area=area, referral=referral_input())


# The coordinator's decision ------------------------------------------------------------------------

def test_the_coordinator_accepts_a_referral(area, referrer, coordinator):
    referral = referral_submit(user=referrer, area=area, referral=referral_input())
    referral_accept(user=coordinator, referral_id=referral.pk)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED and referral.decided_by == coordinator and referral.decided_at
    assert AuditEvent.objects.filter(record_type="marac_referral", record_id=str(referral.pk), action="update").exists()
    with pytest.raises(ValidationError, match="already been accepted"):
        referral_accept(user=coordinator, referral_id=referral.pk)


def test_declining_needs_a_reason_and_closes_the_case(area, referrer, coordinator):
    referral = referral_submit(user=referrer, area=area, referral=referral_input())
    with pytest.raises(ValidationError) as error:
        referral_decline(user=coordinator, referral_id=referral.pk, reason="  ")
    assert error.value.message_dict == {"reason": ["Give the reason for declining the referral"]}
    referral_decline(user=coordinator, referral_id=referral.pk, reason="Already open to the children's MARAC")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.DECLINED and referral.decision_reason == "Already open to the children's MARAC"
    assert referral.case.status == "closed"


def test_the_referrer_cannot_decide_and_a_named_coordinator_from_elsewhere_can(area, referrer, make_user, organisation):
    referral = referral_submit(user=referrer, area=area, referral=referral_input())
    with pytest.raises(Http404):
        referral_accept(user=referrer, referral_id=referral.pk)
    named = make_user(Role.CONTRIBUTOR, org=organisation, username="named", personal_data_scope=PersonalDataScope.PARTIES)
    area.coordinators.add(named)
    referral_accept(user=named, referral_id=referral.pk)
    assert MaracReferral.objects.get(pk=referral.pk).status == ReferralStatus.ACCEPTED


def test_a_viewer_of_the_coordinating_organisation_cannot_decide(area, referrer, make_user, other_organisation):
    referral = referral_submit(user=referrer, area=area, referral=referral_input())
    viewer = make_user(Role.VIEWER, org=other_organisation, username="idas_viewer", personal_data_scope=PersonalDataScope.PARTIES)
    with pytest.raises(Http404):
        referral_decline(user=viewer, referral_id=referral.pk, reason="No")
