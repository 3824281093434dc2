"""The MARAC referral API: a referral by JSON with the same checks as the web (errors name the
field, nothing half-saved), one referral in scope (another agency gets exactly a missing one) and
the organisation's own list."""
import datetime as dt

import pytest

from saferhub.audit.models import AuditEvent
from saferhub.core.factories import OrganisationFactory
from saferhub.marac.checklist_services import checklist_current, checklist_questions
from saferhub.marac.models import MaracReferral
from saferhub.marac.referral_services import referral_submit
from saferhub.marac.tests.referral_fixtures import *  # noqa: F401,F403
from saferhub.marac.tests.referral_fixtures import VICTIM_NAME, referral_input
from saferhub.partners.models import PersonalDataScope, Role
from saferhub.people.models import Case, Person

pytestmark = pytest.mark.django_db
URL = "/api/marac/referrals/"


def payload(area, /, *, yes=14, **changes) -> dict:
    main, _ = checklist_questions(checklist_current())
    ordered = sorted(main, key=lambda q: (q.triggers_stalking_screen, q.number))
    body = {
        "area": area.slug,
        "victim": {"first_name": VICTIM_NAME[0], "last_name": VICTIM_NAME[1], "date_of_birth": "1990-04-02",
                   "gender": "female", "ethnicity": "white_british"},
        "perpetrators": [{"first_name": "Rufus", "last_name": "Quellington"}],
        "children": [{"first_name": "Pip", "last_name": "Fernsby", "age": 5, "school": "Village Primary"}],
        "answers": {q.key: {"answer": "yes" if i < yes else "no"} for i, q in enumerate(ordered)},
        "assessed_on": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
        "incidents_in_window": 1,
        "safe_to_call": False,
    }
    body.update(changes)
    return body


def post(client, body):
    return client.post(URL, body, content_type="application/json")


def _problems(response) -> dict:
    assert response.status_code == 422, response.content
    return {tuple(item["loc"]): item["msg"] for item in response.json()["detail"]}


def test_a_referral_by_api_is_made_for_the_users_organisation(sign_in, referrer, area):
    response = post(sign_in(referrer), payload(area, yes=16))
    assert response.status_code == 201, response.content
    body = response.json()
    referral = MaracReferral.objects.get()
    assert body["id"] == referral.pk and body["reference"] == referral.case.reference
    assert body["referring_organisation"]["slug"] == referrer.organisation.slug and body["area"]["slug"] == area.slug
    assert body["score"] == 16 and body["criteria_met"] == ["visible_high_risk"] and body["status"] == "submitted"
    assert body["victim"]["first_name"] == VICTIM_NAME[0] and body["children"][0]["age_at_referral"] == 5
    assert len(body["answers"]) == 24 and body["checklist_version"] == checklist_current().version
    assert {c["criterion"] for c in body["criteria"]} == {"visible_high_risk", "professional_judgement",
                                                         "potential_escalation", "repeat"}


@pytest.mark.parametrize("changes, loc, message", [
    ({"area": "nowhere"}, ("area",), "No MARAC area takes referrals with the slug 'nowhere'"),
    ({"referring_organisation": "no-such-agency"}, ("referring_organisation",), "No organisation has the slug 'no-such-agency'"),
    ({"referring_organisation": "idas"}, ("referring_organisation",), "You can only refer for your own organisation"),
    ({"victim": {"first_name": "", "last_name": "F", "date_of_birth": "1990-01-01"}}, ("victim", "first_name"),
     "Enter the victim's first name"),
    ({"victim": {"first_name": "A", "last_name": "F", "date_of_birth": "2999-01-01"}}, ("victim", "date_of_birth"),
     "The victim's date of birth must be in the past"),
    ({"children": [{"first_name": "Pip", "last_name": "F", "age": 18}]}, ("children", 0, "age"),
     "Child 1 is older than 17: record adults in the household in the comments, not as children"),
    ({"children": [{"first_name": "Pip", "last_name": "F", "age": 3, "school_organisation": "no-such-school"}]},
     ("children", 0, "school_organisation"), "No organisation has the slug 'no-such-school'"),
    ({"perpetrators": []}, ("perpetrators",), "Enter at least one perpetrator"),
    ({"assessed_on": "2999-01-01"}, ("assessed_on",), "The date the risk checklist was completed must be today or in the past"),
    ({"incidents_in_window": None}, ("incidents_in_window",), "Enter the number of incidents, 0 if there were none"),
    ({"professional_judgement": True}, ("professional_judgement_reasons",),
     "Give your reasons for referring on professional judgement"),
])
def test_bad_input_names_the_field_and_saves_nothing(sign_in, referrer, area, changes, loc, message):
    client = sign_in(referrer)
    before = (Case.objects.count(), Person.objects.count())
    problems = _problems(post(client, payload(area, **changes)))
    assert problems[("body", "payload", *loc)] == message
    assert (Case.objects.count(), Person.objects.count(), MaracReferral.objects.count()) == (*before, 0)


def test_an_unknown_area_is_reported_with_every_other_problem(sign_in, referrer, area):
    body = payload(area, area="nowhere")
    del body["answers"]["weapons"]
    problems = _problems(post(sign_in(referrer), body))
    assert ("body", "payload", "area") in problems and ("body", "payload", "answers", "weapons") in problems


def test_a_missing_answer_and_no_criterion_met(sign_in, referrer, area):
    client = sign_in(referrer)
    body = payload(area)
    del body["answers"]["weapons"]
    assert _problems(post(client, body))[("body", "payload", "answers", "weapons")].startswith("Answer the checklist's question 13")
    assert "meets none of the MARAC criteria" in _problems(post(client, payload(area, yes=13)))[("body", "payload", "criteria")]


def test_a_malformed_date_is_refused_before_anything_is_written(sign_in, referrer, area):
    response = post(sign_in(referrer), payload(area, assessed_on="31/02/2024"))
    assert response.status_code == 422 and "assessed_on" in str(response.json()["detail"][0]["loc"])
    assert MaracReferral.objects.count() == 0


def test_staff_who_may_not_refer_are_refused(sign_in, make_user, area):
    viewer = make_user(Role.VIEWER, username="api_viewer", personal_data_scope=PersonalDataScope.PARTIES)
    assert post(sign_in(viewer), payload(area)).status_code == 403
    assert MaracReferral.objects.count() == 0


def test_one_referral_in_scope_and_another_agency_gets_exactly_missing(sign_in, referrer, coordinator, outsider, area):
    referral = referral_submit(user=referrer, area=area, referral=referral_input())
    for user in (referrer, coordinator):
        response = sign_in(user).get(f"{URL}{referral.pk}/")
        assert response.status_code == 200 and response.json()["victim"]["last_name"] == VICTIM_NAME[1]
    client = sign_in(outsider)
    seen, missing = client.get(f"{URL}{referral.pk}/"), client.get(f"{URL}999999/")
    assert seen.status_code == missing.status_code == 404 and seen.content == missing.content
    assert AuditEvent.objects.filter(record_type="marac_referral", record_id=str(referral.pk), action="view").count() == 2


def test_the_list_is_the_users_organisations_referrals(sign_in, referrer, coordinator, area):
    referral = referral_submit(user=referrer, area=area, referral=referral_input())
    mine = sign_in(referrer).get(URL).json()
    assert mine["count"] == 1 and mine["results"][0]["reference"] == referral.case.reference
    assert "victim" not in mine["results"][0]
    # The coordinating organisation sees the referral but did not make it.
    assert sign_in(coordinator).get(URL).json()["count"] == 0


def test_a_user_without_personal_data_cannot_list(sign_in, make_user):
    user = make_user(Role.CONTRIBUTOR, username="api_nodata", personal_data_scope=PersonalDataScope.NONE)
    assert sign_in(user).get(URL).status_code == 403


def test_a_school_named_by_slug_is_recorded(sign_in, referrer, area):
    school = OrganisationFactory(slug="village-primary", name="Village Primary School", type="school")
    body = payload(area, children=[{"first_name": "Pip", "last_name": "F", "age": 7, "school_organisation": school.slug}])
    response = post(sign_in(referrer), body)
    assert response.status_code == 201 and response.json()["children"][0]["school"] == "Village Primary School"
    assert MaracReferral.objects.get().children.get().school_organisation == school
