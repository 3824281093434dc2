"""MARAC referral pages in a real browser: a referral made on the form (the stalking screen
revealed by answering yes to the stalking question), its page, the coordinator's queue and
decisions, with no accessibility violations (axe-core, WCAG 2 A/AA) and nothing blocked by the CSP."""
import datetime as dt

import pytest
from django.test import Client
from playwright.sync_api import expect

from saferhub.accounts.testing import otp_login
from saferhub.core.factories import OrganisationFactory, UserFactory
from saferhub.marac.checklist_services import checklist_current, checklist_questions
from saferhub.marac.models import MaracArea, MaracReferral
from saferhub.partners.models import PersonalDataScope, Role


def _signed_in(page, live_server, user) -> None:
    client = Client()
    otp_login(client, user)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


@pytest.mark.django_db(transaction=True)
def test_a_referral_from_form_to_the_coordinators_decision_is_accessible(page, axe, live_server):
    police = OrganisationFactory(slug="north-yorkshire-police", name="North Yorkshire Police", short_name="NYP", type="police")
    idas = OrganisationFactory(slug="idas", name="IDAS", short_name="IDAS", type="provider")
    area = MaracArea.objects.create(slug="york", name="York MARAC", coordinating_organisation=idas)
    referrer = UserFactory(username="referrer", role=Role.CONTRIBUTOR, organisation=police, personal_data_scope=PersonalDataScope.PARTIES)
    coordinator = UserFactory(username="coordinator", role=Role.CONTRIBUTOR, organisation=idas,
                              personal_data_scope=PersonalDataScope.PARTIES)
    main, screen = checklist_questions(checklist_current())

    _signed_in(page, live_server, referrer)
    page.goto("/marac/")
    expect(page.get_by_role("link", name="Make a referral")).to_be_visible()
    axe(page)
    page.get_by_role("link", name="Make a referral").click()
    # The stalking screen stays folded away until its question is answered yes (CSS, no script).
    expect(page.locator("#stalking-screen")).to_be_hidden()
    axe(page)
    page.get_by_role("button", name="Send referral").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    expect(page).to_have_title("Error: Make a MARAC referral – Saferhub")
    axe(page)

    page.select_option("#area", str(area.pk))
    page.fill("#victim-first_name", "Ottilie")
    page.fill("#victim-last_name", "Fernsby")
    for part, value in (("day", "2"), ("month", "4"), ("year", "1990")):
        page.fill(f"#victim-date_of_birth-{part}", value)
    page.fill("#perpetrator-0-first_name", "Rufus")
    page.fill("#perpetrator-0-last_name", "Quellington")
    page.get_by_role("button", name="Add another child").click()
    page.fill("#child-0-first_name", "Pip")
    page.fill("#child-0-last_name", "Fernsby")
    page.fill("#child-0-age", "6")
    yesterday = dt.date.today() - dt.timedelta(days=1)
    for part, value in (("day", yesterday.day), ("month", yesterday.month), ("year", yesterday.year)):
        page.fill(f"#assessed_on-{part}", str(value))
    for question in main:
        # Radios' ids: the first (yes) takes the group's name, then -2 (no) and -3 (not known).
        page.check(f"#answer-{question.key}" if question.number <= 14 else f"#answer-{question.key}-2")
    expect(page.locator("#stalking-screen")).to_be_visible()
    for question in screen:
        page.check(f"#answer-{question.key}-3")
    page.fill("#incidents_in_window", "1")
    page.check("#safe_to_call")
    page.fill("#safe_contact_details", "Mobile, text first")
    axe(page)
    page.get_by_role("button", name="Send referral").click()

    referral = MaracReferral.objects.get()
    expect(page.get_by_role("heading", name=f"MARAC referral {referral.case.reference}")).to_be_visible()
    expect(page.get_by_role("table", name="Referral criteria")).to_contain_text("14 yes answers")
    expect(page.get_by_role("table", name="Stalking screen answers")).to_be_visible()
    axe(page)
    for url in ("/marac/referrals/", "/marac/checklists/"):
        page.goto(url)
        axe(page)

    _signed_in(page, live_server, coordinator)
    page.goto("/marac/queue/")
    expect(page.get_by_role("link", name=referral.case.reference)).to_be_visible()
    axe(page)
    page.get_by_role("link", name=referral.case.reference).click()
    page.get_by_role("link", name="Decline with a reason").click()
    page.get_by_role("button", name="Decline referral").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page)
    page.get_by_role("link", name="Cancel").click()
    page.get_by_role("button", name="Accept for the next meeting").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("accepted")
    axe(page)
    referral.refresh_from_db()
    assert referral.status == "accepted"
