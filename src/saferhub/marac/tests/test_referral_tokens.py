"""MARAC submission tokens: a partner's system (a police case system) makes referrals with a bearer
token of scope marac_submit, under the same checks and audit as the web, gets back only the
referral's reference, status and criteria, and is refused by every other route of the API."""
import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client

from saferhub.accounts.models import ApiToken, ApiTokenScope
from saferhub.accounts.tokens import api_token_create, api_token_revoke
from saferhub.audit.models import AuditEvent
from saferhub.config.api import api
from saferhub.marac.models import MaracReferral
from saferhub.marac.referral_services import referral_submit
from saferhub.marac.tests.referral_fixtures import *  # noqa: F401,F403
from saferhub.marac.tests.referral_fixtures import VICTIM_NAME, referral_input
from saferhub.marac.tests.test_referral_api import URL, payload
from saferhub.partners.models import PersonalDataScope, Role
from saferhub.people.models import Case, Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def submission_token(referrer):
    record, token = api_token_create(user=referrer, name="Police case system", scope=ApiTokenScope.MARAC_SUBMIT)
    return record, token


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def submit(token: str, body: dict):
    # A fresh client that enforces CSRF: the token alone must be enough, with no session cookie.
    return Client(enforce_csrf_checks=True).post(URL, json.dumps(body), content_type="application/json", **bearer(token))


def test_a_submission_token_makes_the_referral_with_its_audit_event(submission_token, referrer, area):
    record, token = submission_token
    response = submit(token, payload(area, yes=16))
    assert response.status_code == 201, response.content
    referral = MaracReferral.objects.select_related("case").get()
    assert response.json() == {
        "id": referral.pk, "reference": referral.case.reference, "status": "submitted",
        "referred_at": response.json()["referred_at"], "criteria_met": ["visible_high_risk"],
        "criteria": [c if c["criterion"] != "repeat" else {**c, "reason": "Not flagged; the coordinator checks for "
                                                                            "earlier referrals"}
                     for c in referral.criteria_explained]}
    assert referral.referred_by == referrer and referral.referring_organisation == referrer.organisation
    event = AuditEvent.objects.get(record_type="marac_referral", record_id=str(referral.pk), action="create")
    assert event.actor == referrer
    assert event.detail["api_token"] == {"id": record.pk, "prefix": record.prefix, "name": "Police case system",
                                         "scope": "marac_submit"}
    assert token not in json.dumps(event.detail) and token[len(record.prefix):] not in json.dumps(event.detail)
    record.refresh_from_db()
    assert record.last_used_at is not None


def test_the_session_answer_is_unchanged_and_names_no_token(sign_in, referrer, area):
    response = sign_in(referrer).post(URL, payload(area, yes=16), content_type="application/json")
    assert response.status_code == 201 and response.json()["victim"]["first_name"] == VICTIM_NAME[0]
    assert "api_token" not in AuditEvent.objects.get(record_type="marac_referral", action="create").detail


@pytest.mark.parametrize("changes, loc", [
    ({"victim": {"first_name": "", "last_name": "F", "date_of_birth": "1990-01-01"}}, ["body", "payload", "victim", "first_name"]),
    ({"children": [{"first_name": "Pip", "last_name": "F", "age": 18}]}, ["body", "payload", "children", 0, "age"]),
    ({"area": "nowhere"}, ["body", "payload", "area"]),
])
def test_bad_input_by_token_names_the_field_and_saves_nothing(submission_token, area, changes, loc):
    before = (Case.objects.count(), Person.objects.count())
    response = submit(submission_token[1], payload(area, **changes))
    assert response.status_code == 422, response.content
    assert loc in [item["loc"] for item in response.json()["detail"]]
    assert (Case.objects.count(), Person.objects.count(), MaracReferral.objects.count()) == (*before, 0)
    assert not AuditEvent.objects.filter(record_type="marac_referral").exists()


def test_revoked_expired_and_unknown_tokens_are_refused(submission_token, referrer, area):
    unknown = submit("shub_not-a-token", payload(area))
    # Without a session, CSRF refuses the write before the session check would answer 401.
    assert unknown.status_code in (401, 403)

    def refused(token):
        response = submit(token, payload(area))
        return (response.status_code, response.content) == (unknown.status_code, unknown.content)

    record, token = submission_token
    api_token_revoke(token=record)
    assert refused(token)
    record, token = api_token_create(user=referrer, name="Short", days=1, scope=ApiTokenScope.MARAC_SUBMIT)
    ApiToken.objects.filter(pk=record.pk).update(expires_at="2000-01-01T00:00:00Z")
    assert refused(token)
    _, live = api_token_create(user=referrer, name="Live", scope=ApiTokenScope.MARAC_SUBMIT)
    referrer.is_active = False
    referrer.save(update_fields=["is_active"])
    assert refused(live)
    assert MaracReferral.objects.count() == 0
    referrer.is_active = True
    referrer.save(update_fields=["is_active"])
    assert submit(live, payload(area, yes=16)).status_code == 201


def _concrete(path: str, ids: dict) -> str:
    def value(match):
        converter, name = (match.group(1) or ""), match.group(2)
        if converter == "int:":
            return str(ids.get(name, 1))
        return "2023-24-q3" if converter == "path:" else "test-area"

    return re.sub(r"\{(\w+:)?(\w+)\}", value, path)


def _every_other_route():
    """Each operation of the API except POST /api/marac/referrals/, as (method, url)."""
    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for operation in view.operations:
                for method in operation.methods:
                    if not (prefix == "/marac/" and path == "/referrals/" and method == "POST"):
                        yield method, "/api" + prefix.rstrip("/") + path


def test_a_submission_token_is_refused_on_every_other_route_like_a_bad_token(submission_token, referrer, area):
    referral = referral_submit(user=referrer, area=area, referral=referral_input())
    ids = {"referral_id": referral.pk, "case_id": referral.case_id,
           "person_id": referral.case.participants.values_list("person_id", flat=True).first()}
    routes = list(_every_other_route())
    gets = [url for method, url in routes if method == "GET"]
    assert f"{URL}{referral.pk}/" in [_concrete(url, ids) for url in gets] and URL in gets and len(gets) >= 15
    for method, url in routes:
        url = _concrete(url, ids)
        answers = {}
        for kind, token in (("submission", submission_token[1]), ("bad", "shub_not-a-token")):
            client = Client()
            if method == "GET":
                response = client.get(url, **bearer(token))
            else:
                response = client.generic(method, url, "{}", content_type="application/json", **bearer(token))
            answers[kind] = (response.status_code, response.content)
        assert answers["submission"] == answers["bad"], (method, url)
        assert answers["submission"][0] in (401, 403), (method, url)
        assert VICTIM_NAME[1].encode() not in answers["submission"][1]
    # The referral list and detail, which the account itself may read in a session, stay shut.
    assert Client().get(f"{URL}{referral.pk}/", **bearer(submission_token[1])).status_code == 401


def test_the_web_never_accepts_a_token(submission_token, referrer, area):
    referral = referral_submit(user=referrer, area=area, referral=referral_input())
    for url in ("/marac/referrals/", f"/marac/referrals/{referral.pk}/", "/marac/referrals/new/"):
        response = Client().get(url, **bearer(submission_token[1]))
        assert response.status_code == 302 and response["Location"].startswith("/sign-in/"), url


def test_a_repeat_by_token_gives_back_nothing_of_the_earlier_case(submission_token, outsider, area):
    earlier = referral_submit(user=outsider, area=area, referral=referral_input())
    body = payload(area, yes=10, perpetrators=[{"first_name": "Rufus", "last_name": "Quellington",
                                                "date_of_birth": "1986-07-09"}])
    response = submit(submission_token[1], body)
    assert response.status_code == 201, response.content
    referral = MaracReferral.objects.exclude(pk=earlier.pk).get()
    # Met on the repeat alone (10 yes answers, no incidents), so the match was really found.
    assert referral.is_repeat and referral.repeat_of == earlier and response.json()["criteria_met"] == ["repeat"]
    text = response.content.decode()
    for secret in (*VICTIM_NAME, "Rufus", "Quellington", "1990-04-02", "1986-07-09", earlier.case.reference):
        assert secret not in text, secret
    repeat = next(c for c in response.json()["criteria"] if c["criterion"] == "repeat")
    assert repeat == {"criterion": "repeat", "met": True, "reason": "Flagged for the coordinator"}
    assert set(response.json()) == {"id", "reference", "status", "referred_at", "criteria_met", "criteria"}


def test_a_submission_token_can_be_issued_to_a_personal_data_account_but_not_a_general_one(referrer):
    record, _ = api_token_create(user=referrer, name="Police case system", scope=ApiTokenScope.MARAC_SUBMIT)
    assert record.scope == "marac_submit" and referrer.sees_personal_data
    assert AuditEvent.objects.get(record_type="api_token", record_id=str(record.pk)).detail == {"scope": "marac_submit"}
    with pytest.raises(ValidationError):
        api_token_create(user=referrer, name="Police case system")
    with pytest.raises(ValidationError):
        api_token_create(user=referrer, name="Police case system", scope="everything")


def test_a_submission_token_needs_an_account_that_may_refer(make_user):
    reader = make_user(Role.VIEWER, username="reader", personal_data_scope=PersonalDataScope.PARTIES)
    with pytest.raises(ValidationError, match="may make MARAC referrals"):
        api_token_create(user=reader, name="Reader system", scope=ApiTokenScope.MARAC_SUBMIT)


def test_a_general_token_of_a_personal_data_account_made_before_it_gained_access_is_refused(make_user, area):
    user = make_user(Role.CONTRIBUTOR, username="gained.access", personal_data_scope=PersonalDataScope.NONE)
    _, token = api_token_create(user=user, name="Old system")
    user.personal_data_scope = PersonalDataScope.PARTIES
    user.save(update_fields=["personal_data_scope"])
    assert submit(token, payload(area, yes=16)).status_code in (401, 403)
    assert Client().get("/api/indicators/", **bearer(token)).status_code == 401
    assert MaracReferral.objects.count() == 0


def test_the_command_issues_a_submission_token(referrer, area, capsys):
    call_command("api_token", "create", "--user", referrer.username, "--name", "Police case system", "--scope", "marac_submit")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert ApiToken.objects.get().scope == "marac_submit"
    call_command("api_token", "list")
    assert "marac_submit" in capsys.readouterr().out
    assert submit(token, payload(area, yes=16)).status_code == 201
    with pytest.raises(CommandError, match="cannot have general API tokens"):
        call_command("api_token", "create", "--user", referrer.username, "--name", "Anything")
    assert ApiToken.objects.count() == 1

