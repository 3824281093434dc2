"""The referral pages: making a referral on the form (errors in the GOV.UK pattern, extra rows,
the stalking screen), who sees a referral (another agency gets exactly a missing page), the
coordinator's queue with accept and decline, and loading a checklist version."""
import datetime as dt
import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from saferhub.marac.checklist_services import DEFAULT_CHECKLIST, checklist_current, checklist_questions
from saferhub.marac.models import MaracReferral, ReferralStatus, RiskChecklist
from saferhub.marac.referral_services import referral_submit
from saferhub.marac.tests.referral_fixtures import *  # noqa: F401,F403
from saferhub.marac.tests.referral_fixtures import VICTIM_NAME, referral_input
from saferhub.partners.models import PersonalDataScope, Role
from saferhub.people.models import Case, Person

pytestmark = pytest.mark.django_db
NEW = "/marac/referrals/new/"


def text(response) -> str:
    return html.unescape(response.content.decode())


def without_tokens(page: str) -> str:
    return re.sub(r'nonce="[^"]*"', "", re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page))


def form_data(area, /, *, yes=14, stalking=False, **changes) -> dict:
    main, screen = checklist_questions(checklist_current())
    yesterday = dt.date.today() - dt.timedelta(days=1)
    data = {
        "area": str(area.pk), "perpetrator_count": "1", "child_count": "1",
        "victim-first_name": VICTIM_NAME[0], "victim-last_name": VICTIM_NAME[1],
        "victim-date_of_birth-day": "2", "victim-date_of_birth-month": "4", "victim-date_of_birth-year": "1990",
        "victim-gender": "female", "victim-ethnicity": "", "victim-disability": "", "victim-sexuality": "",
        "perpetrator-0-first_name": "Rufus", "perpetrator-0-last_name": "Quellington",
        "assessed_on-day": str(yesterday.day), "assessed_on-month": str(yesterday.month), "assessed_on-year": str(yesterday.year),
        "incidents_in_window": "1", "safe_to_call": "yes", "safe_contact_details": "Mobile only",
    }
    ordered = sorted(main, key=lambda q: (not (stalking and q.triggers_stalking_screen), q.triggers_stalking_screen, q.number))
    for i, q in enumerate(ordered):
        data[f"answer-{q.key}"] = "yes" if i < yes else "no"
    if stalking:
        data.update({f"answer-{q.key}": "not_known" for q in screen})
    data.update(changes)
    return data


def test_the_form_shows_every_question_and_the_stalking_screen_under_question_8(sign_in, referrer, area):
    page = text(sign_in(referrer).get(NEW))
    main, screen = checklist_questions(checklist_current())
    assert len(main) == 24 and len(screen) == 11
    assert all(f'name="answer-{q.key}"' in page for q in main + screen)
    # The screen follows question 8, whose "Yes" carries the marker the stylesheet unfolds it by.
    screen_at = page.index('id="stalking-screen"')
    assert page.index('name="answer-stalking"') < screen_at < page.index('name="answer-stalking-fear"')
    assert re.search(r'name="answer-stalking" type="radio" value="yes"\s*data-opens-stalking-screen="true"', page)
    assert page.count("data-opens-stalking-screen") == 1
    assert "8. Stalking or harassment" in page


def test_a_referral_made_on_the_form_opens_its_case_and_shows_its_page(sign_in, referrer, area):
    client = sign_in(referrer)
    response = client.post(NEW, form_data(area, yes=15, **{
        "child-0-first_name": "Pip", "child-0-last_name": "Fernsby", "child-0-age": "6", "child-0-school": "Village Primary"}))
    referral = MaracReferral.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/marac/referrals/{referral.pk}/"
    assert referral.score == 15 and referral.has_children and referral.referring_organisation == referrer.organisation
    page = text(client.get(response["Location"]))
    assert referral.case.reference in page and f"{VICTIM_NAME[0]} {VICTIM_NAME[1]}" in page
    assert "15 yes answers on the risk checklist meets this area's threshold of 14" in page
    assert "Village Primary" in page and "Awaiting the coordinator" in page


def test_the_stalking_screen_is_required_once_question_8_is_yes(sign_in, referrer, area):
    data = form_data(area, yes=14, stalking=True)
    del data["answer-stalking-threats"]
    response = sign_in(referrer).post(NEW, data)
    page = text(response)
    assert response.status_code == 200 and MaracReferral.objects.count() == 0
    assert 'href="#answer-stalking-threats"' in page
    assert page.count("Answer the stalking screen's question 8 (Threats of physical or sexual violence)") == 2


@pytest.mark.parametrize("changes, anchor, message", [
    ({"victim-first_name": ""}, "victim-first_name", "Enter the victim's first name"),
    ({"victim-date_of_birth-year": str(dt.date.today().year + 1)}, "victim-date_of_birth-day",
     "The victim's date of birth must be in the past"),
    ({"victim-date_of_birth-month": "13"}, "victim-date_of_birth-day", "Enter a real victim's date of birth"),
    ({"perpetrator-0-last_name": ""}, "perpetrator-0-last_name", "Enter the perpetrator's last name"),
    ({"child-0-first_name": "Pip", "child-0-last_name": "F", "child-0-age": "18"}, "child-0-age",
     "Child 1 is older than 17: record adults in the household in the comments, not as children"),
    ({"child-0-first_name": "Pip", "child-0-last_name": "F", "child-0-age": "six"}, "child-0-age",
     "Enter the age of child 1 in years, like 7"),
    ({"assessed_on-year": str(dt.date.today().year + 1)}, "assessed_on-day",
     "The date the risk checklist was completed must be today or in the past"),
    ({"answer-weapons": ""}, "answer-weapons", "Answer the checklist's question 13 (Weapons or objects used to hurt): yes, no or not known"),
    ({"incidents_in_window": "lots"}, "incidents_in_window", "Enter the number of incidents as a whole number, like 3"),
    ({"area": ""}, "area", "Select the MARAC area"),
    ({"safe_to_call": ""}, "safe_to_call", "Select whether it is safe to call the victim"),
    ({"professional_judgement": "on"}, "professional_judgement_reasons", "Give your reasons for referring on professional judgement"),
])
def test_each_bad_input_is_in_the_error_summary_and_at_its_field_and_nothing_is_saved(
        sign_in, referrer, area, changes, anchor, message):
    client = sign_in(referrer)
    before = (Case.objects.count(), Person.objects.count())
    response = client.post(NEW, form_data(area, **changes))
    page = text(response)
    assert response.status_code == 200
    assert page.count("There is a problem") == 1 and f'href="#{anchor}"' in page
    assert page.count(message) == 2, "in the summary and at the field"
    assert f'id="{anchor}"' in page
    assert "<title>Error: Make a MARAC referral" in page
    assert (Case.objects.count(), Person.objects.count(), MaracReferral.objects.count()) == (*before, 0)


def test_a_referral_meeting_no_criterion_is_refused_with_the_reason(sign_in, referrer, area):
    page = text(sign_in(referrer).post(NEW, form_data(area, yes=13, incidents_in_window="2")))
    assert "This referral meets none of the MARAC criteria for Test MARAC" in page
    assert MaracReferral.objects.count() == 0 and Case.objects.count() == 0


def test_add_another_child_and_perpetrator_keep_what_was_typed_and_save_nothing(sign_in, referrer, area):
    client = sign_in(referrer)
    page = text(client.post(NEW, form_data(area, add_child="1", **{"child-0-first_name": "Pip"})))
    assert 'name="child-1-first_name"' in page and 'value="Pip"' in page and "There is a problem" not in page
    page = text(client.post(NEW, form_data(area, add_perpetrator="1")))
    assert 'name="perpetrator-1-first_name"' in page
    assert MaracReferral.objects.count() == 0


def test_a_second_perpetrator_and_children_in_later_rows_are_recorded(sign_in, referrer, area):
    sign_in(referrer).post(NEW, form_data(area, perpetrator_count="2", child_count="3", **{
        "perpetrator-1-first_name": "Silas", "perpetrator-1-last_name": "Brack",
        "child-2-first_name": "Wren", "child-2-last_name": "Fernsby", "child-2-age": "0"}))
    referral = MaracReferral.objects.get()
    assert referral.case.participants.filter(role="perpetrator").count() == 2
    assert [c.age_at_referral for c in referral.children.all()] == [0]


def test_a_child_error_in_a_later_row_is_shown_at_that_row(sign_in, referrer, area):
    page = text(sign_in(referrer).post(NEW, form_data(area, child_count="2", **{
        "child-1-first_name": "Wren", "child-1-last_name": "F", "child-1-age": "19"})))
    assert 'href="#child-1-age"' in page and "Child 1 is older than 17" in page


# Who sees what ----------------------------------------------------------------------------------

def test_another_agency_gets_exactly_a_missing_page(sign_in, referrer, outsider, area):
    referral = referral_submit(user=referrer, area=area, referral=referral_input())
    client = sign_in(outsider)
    for address in ("/marac/referrals/{}/", "/marac/referrals/{}/decline/"):
        seen = client.get(address.format(referral.pk))
        missing = client.get(address.format(999999))
        assert seen.status_code == missing.status_code == 404
        assert without_tokens(seen.content.decode()) == without_tokens(missing.content.decode())
    assert client.post(f"/marac/referrals/{referral.pk}/accept/").status_code == 404
    assert VICTIM_NAME[0] not in text(client.get("/marac/referrals/"))
    assert MaracReferral.objects.get().status == ReferralStatus.SUBMITTED


def test_referrer_and_coordinator_see_the_referral_and_pages_are_never_cached(sign_in, referrer, coordinator, area):
    referral = referral_submit(user=referrer, area=area, referral=referral_input())
    for user in (referrer, coordinator):
        response = sign_in(user).get(f"/marac/referrals/{referral.pk}/")
        assert response.status_code == 200 and VICTIM_NAME[1] in text(response)
        assert "no-store" in response["Cache-Control"]
    assert referral.case.reference in text(sign_in(referrer).get("/marac/referrals/"))


def test_staff_without_personal_data_are_refused(sign_in, make_user):
    viewer = make_user(Role.CONTRIBUTOR, username="nodata", personal_data_scope=PersonalDataScope.NONE)
    client = sign_in(viewer)
    for address in ("/marac/", NEW, "/marac/referrals/", "/marac/queue/"):
        assert client.get(address).status_code == 403


def test_the_home_page_links_what_the_user_may_do(sign_in, referrer, coordinator, area):
    page = text(sign_in(referrer).get("/marac/"))
    assert "Make a referral" in page and "Coordinator's queue" not in page
    page = text(sign_in(coordinator).get("/marac/"))
    assert "Coordinator's queue" in page


# The coordinator's queue ------------------------------------------------------------------------

def test_the_queue_lists_the_area_referrals_with_score_criteria_repeat_and_children(sign_in, referrer, coordinator, area):
    referral = referral_submit(user=referrer, area=area, referral=referral_input(
        yes=16, children=[{"first_name": "Pip", "last_name": "F", "age": 4}]))
    page = text(sign_in(coordinator).get("/marac/queue/"))
    assert referral.case.reference in page and ">16<" in page and "Visible high risk" in page
    assert "Children" in page and VICTIM_NAME[0] not in page
    assert sign_in(referrer).get("/marac/queue/").status_code == 403


def test_the_coordinator_accepts_from_the_referral_page(sign_in, referrer, coordinator, area):
    referral = referral_submit(user=referrer, area=area, referral=referral_input())
    client = sign_in(coordinator)
    assert "Accept for the next meeting" in text(client.get(f"/marac/referrals/{referral.pk}/"))
    response = client.post(f"/marac/referrals/{referral.pk}/accept/")
    assert response.status_code == 302
    assert MaracReferral.objects.get().status == ReferralStatus.ACCEPTED
    assert referral.case.reference in text(client.get("/marac/queue/?status=accepted"))
    assert referral.case.reference not in text(client.get("/marac/queue/"))


def test_declining_needs_a_reason_then_closes_the_case(sign_in, referrer, coordinator, area):
    referral = referral_submit(user=referrer, area=area, referral=referral_input())
    client = sign_in(coordinator)
    page = text(client.post(f"/marac/referrals/{referral.pk}/decline/", {"reason": ""}))
    assert 'href="#reason"' in page and "Give the reason for declining the referral" in page
    assert MaracReferral.objects.get().status == ReferralStatus.SUBMITTED
    response = client.post(f"/marac/referrals/{referral.pk}/decline/", {"reason": "Does not meet the threshold on review"})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.DECLINED and referral.case.status == "closed"
    assert "Does not meet the threshold on review" in text(sign_in(referrer).get(f"/marac/referrals/{referral.pk}/"))


def test_the_referrer_cannot_accept_or_decline(sign_in, referrer, area):
    referral = referral_submit(user=referrer, area=area, referral=referral_input())
    client = sign_in(referrer)
    assert "Accept for the next meeting" not in text(client.get(f"/marac/referrals/{referral.pk}/"))
    assert client.post(f"/marac/referrals/{referral.pk}/accept/").status_code == 404
    assert client.get(f"/marac/referrals/{referral.pk}/decline/").status_code == 403


# Checklist versions -----------------------------------------------------------------------------

def test_an_administrator_loads_licensed_wording_as_a_new_version(sign_in, administrator, referrer, area):
    first = referral_submit(user=referrer, area=area, referral=referral_input())
    licensed = DEFAULT_CHECKLIST.read_text().replace("topic: Threats to kill}", "topic: Threats to kill, wording: Licensed question text}")
    licensed = licensed.replace("licence_note: Neutral", "licence_note: Licensed wording. Neutral")
    client = sign_in(administrator)
    response = client.post("/marac/checklists/load/", {"file": SimpleUploadedFile("licensed.yaml", licensed.encode())})
    assert response.status_code == 302
    current = checklist_current()
    assert current.version == 2 and current.questions.get(key="threats-to-kill").wording == "Licensed question text"
    first.refresh_from_db()
    assert first.checklist.version == 1
    assert referral_submit(user=referrer, area=area, referral=referral_input(victim_dob=dt.date(1980, 1, 1))).checklist == current
    assert "Licensed question text" in text(sign_in(referrer).get(NEW))


def test_a_bad_checklist_file_is_refused_naming_where(sign_in, administrator):
    client = sign_in(administrator)
    response = client.post("/marac/checklists/load/", {"file": SimpleUploadedFile("bad.yaml", b"name: X\nquestions:\n  - {number: 1, key: a}\n")})
    page = text(response)
    assert "bad.yaml: questions[0]: enter a topic" in page and 'href="#file"' in page
    assert RiskChecklist.objects.filter(name="X").count() == 0


def test_only_administrators_load_checklists(sign_in, referrer):
    client = sign_in(referrer)
    assert client.get("/marac/checklists/load/").status_code == 403
    assert client.post("/marac/checklists/load/", {"file": SimpleUploadedFile("x.yaml", b"")}).status_code == 403
    assert client.get("/marac/checklists/").status_code == 200


def test_a_data_protection_lead_of_a_party_sees_who_has_seen_the_referral(sign_in, referrer, coordinator, outsider, make_user,
                                                                          organisation, area):
    referral = referral_submit(user=referrer, area=area, referral=referral_input())
    sign_in(coordinator).get(f"/marac/referrals/{referral.pk}/")
    lead = make_user(Role.VIEWER, org=organisation, username="nyp_dp_lead", personal_data_scope=PersonalDataScope.NONE,
                     is_data_protection_lead=True)
    assert "Who has seen this referral" not in text(sign_in(referrer).get(f"/marac/referrals/{referral.pk}/"))
    # A data protection lead without access to personal data sees the trail, not the referral.
    page = text(sign_in(lead).get(f"/marac/referrals/{referral.pk}/audit/"))
    assert "Who has seen this record" in page and coordinator.display_name in page and "Viewed" in page
    assert VICTIM_NAME[0] not in page
    reading_lead = make_user(Role.VIEWER, org=organisation, username="nyp_dp_lead_2", personal_data_scope=PersonalDataScope.PARTIES,
                             is_data_protection_lead=True)
    assert "Who has seen this referral" in text(sign_in(reading_lead).get(f"/marac/referrals/{referral.pk}/"))
    other_lead = make_user(Role.VIEWER, org=outsider.organisation, username="other_dp_lead",
                           personal_data_scope=PersonalDataScope.NONE, is_data_protection_lead=True)
    assert sign_in(other_lead).get(f"/marac/referrals/{referral.pk}/audit/").status_code == 404


def test_the_form_says_over_how_many_days_each_area_counts_incidents(sign_in, referrer, area, other_organisation):
    assert "not only police call-outs, in the last 365 days." in text(sign_in(referrer).get(NEW))
    from saferhub.marac.models import MaracArea

    MaracArea.objects.create(slug="short", name="Short MARAC", coordinating_organisation=other_organisation,
                             escalation_window_days=183)
    page = text(sign_in(referrer).get(NEW))
    assert "in the last 183 days for Short MARAC; 365 days for Test MARAC." in page


def test_a_coordinator_of_two_areas_can_look_at_one(sign_in, referrer, coordinator, area, other_organisation):
    from saferhub.marac.models import MaracArea

    second = MaracArea.objects.create(slug="second", name="Second MARAC", coordinating_organisation=other_organisation)
    in_first = referral_submit(user=referrer, area=area, referral=referral_input())
    in_second = referral_submit(user=referrer, area=second, referral=referral_input(victim_dob=dt.date(1982, 3, 3)))
    client = sign_in(coordinator)
    both = text(client.get("/marac/queue/"))
    assert in_first.case.reference in both and in_second.case.reference in both
    only = text(client.get("/marac/queue/?area=second"))
    assert in_second.case.reference in only and in_first.case.reference not in only
