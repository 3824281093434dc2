"""MATAC casework pages: each page for a member of a party agency, 404 for everyone else (exactly
like a missing record), the forms and their errors, and no personal data for outsiders."""
import html

import pytest

from saferhub.accounts.testing import otp_login
from saferhub.matac import casework_services as services
from saferhub.matac.models import Adoption, Decision, MatacAction, Nomination, Review
from saferhub.matac.scoring_services import scoring_run_create
from saferhub.matac.tests.casework_fixtures import TODAY, days_ago, meeting_on, mw, store  # noqa: F401

pytestmark = pytest.mark.django_db
MISSING = 999999


def sign_in(client, user):
    client.logout()
    otp_login(client, user)
    return client


@pytest.fixture
def case(mw):
    nomination = services.nomination_from_referral(
        user=mw["officer"], panel_id=mw["panel"].pk, perpetrator_id="NOM-A", reasons="Two relationships, escalating",
        reference_date=days_ago(410), first_name="Synthia", last_name="Casefile")
    meeting = meeting_on(mw["panel"], days_ago(400))
    services.nomination_decide(user=mw["officer"], nomination_id=nomination.pk, meeting_id=meeting.pk,
                               decision=Decision.ADOPT, lead_agency_id=mw["idas"].pk)
    adoption = Adoption.objects.get(nomination=nomination)
    action = services.action_add(user=mw["officer"], adoption_id=adoption.pk, intervention="support", pathway="finance",
                                 agency_id=mw["idas"].pk, description="Debt advice", deadline=days_ago(300))
    return {"nomination": nomination, "adoption": adoption, "action": action, "meeting": meeting}


def pages(case):
    n = case["nomination"].pk
    return [f"/matac/nominations/{n}/", f"/matac/nominations/{n}/actions/add/", f"/matac/nominations/{n}/reviews/add/",
            f"/matac/nominations/{n}/exit/", f"/matac/actions/{case['action'].pk}/", f"/matac/meetings/{case['meeting'].pk}/"]


LISTS = ["/matac/nominations/", "/matac/nominations/new/ranked/", "/matac/nominations/new/referral/", "/matac/meetings/",
         "/matac/outcomes/"]


def test_members_see_every_page(client, mw, case):
    for name in ("officer", "idas_worker"):
        sign_in(client, mw[name])
        for address in LISTS + pages(case):
            response = client.get(address)
            assert response.status_code == 200, (name, address)
            assert "no-cache" in response.headers.get("Cache-Control", "") or "no-store" in response.headers.get("Cache-Control", "")
        body = html.unescape(client.get(f"/matac/nominations/{case['nomination'].pk}/").content.decode())
        assert "Synthia Casefile" in body and "Debt advice" in body and "Two relationships, escalating" in body
        assert "1 action is past its deadline" in client.get("/matac/nominations/").content.decode()


@pytest.mark.parametrize("name", ["outsider", "no_scope"])
def test_everyone_else_gets_404_exactly_like_a_missing_record(client, mw, case, name):
    sign_in(client, mw[name]) if name != "no_scope" else client.force_login(mw[name])
    for address in LISTS + pages(case):
        response = client.get(address)
        assert response.status_code == 404, address
        assert "Synthia" not in response.content.decode()
    for address in pages(case):
        assert client.get(address.replace(str(case["nomination"].pk), str(MISSING))).status_code == 404


def test_a_viewer_sees_the_case_but_not_the_forms(client, mw, case):
    sign_in(client, mw["police_viewer"])
    body = client.get(f"/matac/nominations/{case['nomination'].pk}/").content.decode()
    assert "Add an action" not in body
    assert client.get(f"/matac/nominations/{case['nomination'].pk}/actions/add/").status_code == 404
    assert client.post(f"/matac/actions/{case['action'].pk}/", {"status": "done"}).status_code == 404


def test_referral_form_errors_and_success(client, mw):
    sign_in(client, mw["idas_worker"])
    response = client.post("/matac/nominations/new/referral/", {"perpetrator_id": "", "reasons": ""})
    body = html.unescape(response.content.decode())
    assert response.status_code == 200 and "There is a problem" in body
    assert "Enter the police nominal id" in body and "Say why your agency is referring this person" in body
    response = client.post("/matac/nominations/new/referral/", {
        "perpetrator_id": "NOM-S", "reasons": "One victim, repeated", "first_name": "Ann", "last_name": "Other"})
    nomination = Nomination.objects.get()
    assert response.status_code == 302 and response.url == f"/matac/nominations/{nomination.pk}/"
    body = html.unescape(client.get(response.url).content.decode())
    assert "Not eligible" in body and "1 distinct victim" in body


def test_nominate_from_a_ranked_list_decide_act_and_review(client, mw):
    run = scoring_run_create(user=mw["officer"], reference_date=TODAY)
    meeting = meeting_on(mw["panel"], TODAY)
    sign_in(client, mw["officer"])
    assert "rank" in client.get(f"/matac/nominations/new/ranked/?run={run.pk}&rank=1").content.decode()
    response = client.post("/matac/nominations/new/ranked/", {"run": str(run.pk), "rank": "1", "first_name": "Rank",
                                                              "last_name": "One", "meeting": str(meeting.pk)})
    assert response.status_code == 302
    nomination = Nomination.objects.get()
    assert f"/matac/nominations/{nomination.pk}/decide/" in client.get(f"/matac/meetings/{meeting.pk}/").content.decode()
    response = client.post(f"/matac/nominations/{nomination.pk}/decide/", {"meeting": str(meeting.pk), "decision": "adopt"})
    assert "Select the lead agency" in html.unescape(response.content.decode())
    response = client.post(f"/matac/nominations/{nomination.pk}/decide/",
                           {"meeting": str(meeting.pk), "decision": "adopt", "lead_agency": str(mw["police"].pk)})
    assert response.status_code == 302
    assert client.get(f"/matac/nominations/{nomination.pk}/decide/").status_code == 404
    response = client.post(f"/matac/nominations/{nomination.pk}/actions/add/", {
        "intervention": "disruption", "pathway": "attitudes", "agency": str(mw["police"].pk), "description": "Warning notice",
        "deadline-day": "1", "deadline-month": "1", "deadline-year": str(TODAY.year + 1)})
    assert response.status_code == 302 and MatacAction.objects.get().description == "Warning notice"
    response = client.post(f"/matac/nominations/{nomination.pk}/reviews/add/", {
        "reviewed_on-day": str(TODAY.day), "reviewed_on-month": str(TODAY.month), "reviewed_on-year": str(TODAY.year),
        "risk_view": "unchanged", "notes": "Plan under way"})
    assert response.status_code == 302 and Review.objects.get().notes == "Plan under way"
    body = html.unescape(client.get(f"/matac/nominations/{nomination.pk}/").content.decode())
    assert "Warning notice" in body and "Plan under way" in body and "Risk unchanged" in body


def test_exit_form_needs_a_reason(client, mw, case):
    sign_in(client, mw["officer"])
    address = f"/matac/nominations/{case['nomination'].pk}/exit/"
    response = client.post(address, {"exited_on-day": str(TODAY.day), "exited_on-month": str(TODAY.month),
                                     "exited_on-year": str(TODAY.year)})
    assert "Select the reason for exit" in html.unescape(response.content.decode())
    response = client.post(address, {"exited_on-day": str(TODAY.day), "exited_on-month": str(TODAY.month),
                                     "exited_on-year": str(TODAY.year), "reason": "in_custody"})
    assert response.status_code == 302
    assert "In custody" in client.get(f"/matac/nominations/{case['nomination'].pk}/").content.decode()


def test_schedule_meetings_from_the_meetings_page(client, mw):
    sign_in(client, mw["officer"])
    response = client.post(f"/matac/meetings/?panel={mw['panel'].pk}", {"count": "3"})
    assert response.status_code == 302
    assert mw["panel"].meetings.count() == 3
    response = client.post(f"/matac/meetings/?panel={mw['panel'].pk}", {"count": "99"})
    assert "26 or fewer" in html.unescape(response.content.decode())


def test_rescore_on_demand_from_the_case_page(client, mw, case):
    sign_in(client, mw["officer"])
    assert "Re-score now" in client.get(f"/matac/nominations/{case['nomination'].pk}/").content.decode()
    response = client.post(f"/matac/nominations/{case['nomination'].pk}/rescore/")
    assert response.status_code == 302
    assert case["nomination"].scores.filter(stage="twelve_months").exists()


def test_outcomes_pages(client, mw, case):
    sign_in(client, mw["officer"])
    body = html.unescape(client.get("/matac/outcomes/").content.decode())
    assert "People adopted" in body
    sign_in(client, mw["outsider"])
    body = html.unescape(client.get("/matac/outcomes/published/").content.decode())
    assert "People adopted" in body and "[c]" in body and "Synthia" not in body
