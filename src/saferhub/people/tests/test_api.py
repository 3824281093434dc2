"""The people API: the same need-to-know rules as the web for every route and member of staff, an
out-of-scope record answering exactly like a missing one, searches by POST body, CSRF on the
session, and an audit event for every answer."""
import json

import pytest
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from saferhub.audit.models import AuditEvent
from saferhub.people.tests.conftest import IDAS_NAMES, NYP_NAMES, _sign_in

pytestmark = pytest.mark.django_db
MISSING = 999999
SEES = {
    "caseworker": {"nyp"}, "nyp_viewer": {"nyp"}, "coordinator": {"nyp", "idas"}, "no_scope": set(),
    "dp_lead": {"nyp"}, "idas_worker": {"idas"}, "idas_dp_lead": set(),
}


def _search(client, **body):
    return client.post("/api/people/persons/search/", body, content_type="application/json")


@pytest.mark.parametrize("username", list(SEES))
def test_detail_routes_answer_by_scope_and_out_of_scope_is_exactly_missing(world, sign_in, username):
    client = sign_in(world[username])
    records = {"nyp": (world["nyp_case"], world["victim"]), "idas": (world["idas_case"], world["hidden"])}
    missing = [client.get(f"/api/people/cases/{MISSING}/"), client.get(f"/api/people/persons/{MISSING}/")]
    assert all(r.status_code == 404 for r in missing)
    for side, (case, person) in records.items():
        for response, gone in zip((client.get(f"/api/people/cases/{case.pk}/"), client.get(f"/api/people/persons/{person.pk}/")), missing):
            if side in SEES[username]:
                assert response.status_code == 200
            else:
                assert response.status_code == 404 and response.content == gone.content
                names = IDAS_NAMES if side == "idas" else NYP_NAMES
                assert not any(name in response.content.decode() for name in names)


@pytest.mark.parametrize("username", list(SEES))
def test_case_list_and_search_show_only_what_the_user_may_see(world, sign_in, username):
    client = sign_in(world[username])
    cases = client.get("/api/people/cases/")
    found = _search(client, identifier_kind="police_nominal", identifier="NOM-999")
    if username in ("no_scope",):
        assert cases.status_code == 403 and found.status_code == 403
        return
    references = {c["reference"] for c in cases.json()["results"]}
    expected = {"nyp": "MARAC-T-0001", "idas": "MARAC-T-0002"}
    assert references == {expected[side] for side in SEES[username]}
    assert [p["last_name"] for p in found.json()] == (["Quincefield"] if "idas" in SEES[username] else [])
    body = cases.content.decode() + found.content.decode()
    if "idas" not in SEES[username]:
        assert not any(name in body for name in IDAS_NAMES)


def test_person_detail_has_the_whole_record_and_roles_in_visible_cases(world, sign_in):
    body = sign_in(world["caseworker"]).get(f"/api/people/persons/{world['victim'].pk}/").json()
    assert body["first_name"] == "Adaline" and body["date_of_birth"] == "1990-05-01"
    assert body["identifiers"] == [{"kind": "nhs_number", "value": "999 000 0018"}, {"kind": "police_nominal", "value": "NOM-123"}]
    assert body["roles"] == [{"case_id": world["nyp_case"].pk, "reference": "MARAC-T-0001", "kind": "marac", "role": "victim"}]
    assert body["gender"] == "Not recorded"


def test_case_detail_lists_parties_people_and_disclosures(world, sign_in):
    from saferhub.people import services

    services.case_party_add(user=world["caseworker"], case_id=world["nyp_case"].pk, organisation=world["idas_worker"].organisation,
                            reason="Attends the MARAC", lawful_basis="safeguarding", agreement=world["agreement"])
    body = sign_in(world["caseworker"]).get(f"/api/people/cases/{world['nyp_case'].pk}/").json()
    assert body["summary"] == "Referral after a DASH assessment."
    assert [p["organisation"]["slug"] for p in body["parties"]] == ["north-yorkshire-police", "idas"]
    assert {(p["last_name"], p["role"]) for p in body["participants"]} == {
        ("Testperson", "victim"), ("Testperson", "child"), ("Offenderson", "perpetrator")}
    assert body["disclosures"][0]["lawful_basis"] == "safeguarding" and body["disclosures"][0]["agreement"] == "MARAC protocol"


def test_search_errors_are_422_and_every_answer_is_audited_without_names(world, sign_in):
    client = sign_in(world["caseworker"])
    assert _search(client).status_code == 422
    assert _search(client, first_name="Adaline").status_code == 422
    before = AuditEvent.objects.count()
    assert len(_search(client, first_name="Adaline", last_name="Testperson", date_of_birth="1990-05-01").json()) == 1
    client.get("/api/people/cases/?status=open")
    client.get(f"/api/people/cases/{world['nyp_case'].pk}/")
    client.get(f"/api/people/persons/{world['victim'].pk}/")
    events = AuditEvent.objects.filter(sequence__gt=before).order_by("sequence")
    assert [(e.action, e.record_type) for e in events] == [("search", "person"), ("list", "case"), ("view", "case"), ("view", "person")]
    dump = json.dumps(list(events.values()), default=str)
    assert "Adaline" not in dump and "Testperson" not in dump and "1990-05-01" not in dump


def test_break_glass_reaches_the_api_too(world, sign_in):
    from saferhub.people import services

    client = sign_in(world["caseworker"])
    assert client.get(f"/api/people/cases/{world['idas_case'].pk}/").status_code == 404
    services.break_glass_open(user=world["caseworker"], case_id=world["idas_case"].pk, reason="Urgent safeguarding call today")
    assert client.get(f"/api/people/cases/{world['idas_case'].pk}/").status_code == 200
    assert AuditEvent.objects.latest("sequence").purpose == "Opened by break-glass"


def test_without_a_session_the_api_answers_401_and_a_session_search_needs_the_csrf_token(world):
    assert Client().get("/api/people/cases/").status_code == 401
    client = Client(enforce_csrf_checks=True)
    _sign_in(client, world["caseworker"])
    assert _search(client, identifier_kind="police_nominal", identifier="NOM-123").status_code == 403
    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    response = client.post("/api/people/persons/search/", {"identifier_kind": "police_nominal", "identifier": "NOM-123"},
                           content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.json()[0]["reference"] == world["victim"].reference
