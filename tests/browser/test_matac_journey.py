"""MATAC casework in a real browser: nominate the top of a ranked list, decide at a meeting to
adopt, add an action and record a review, with axe-core (WCAG 2 A/AA) on every page on the way,
form errors included, and nothing blocked by the CSP."""
import datetime as dt

import pytest
from django.test import Client
from playwright.sync_api import expect

from saferhub.accounts.testing import otp_login
from saferhub.core.factories import GovernanceBodyFactory, OrganisationFactory, UserFactory
from saferhub.matac.models import MatacMeeting, MatacPanel, Nomination
from saferhub.matac.scoring_services import scoring_run_create
from saferhub.matac.tests.casework_fixtures import TODAY, store  # noqa: F401
from saferhub.partners.models import PersonalDataScope, Role


def _signed_in(page, live_server, user) -> None:
    client = Client()
    otp_login(client, user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


@pytest.mark.django_db(transaction=True)
def test_nominate_decide_act_and_review(page, axe, live_server, store):  # noqa: F811
    police = OrganisationFactory(slug="north-yorkshire-police", name="North Yorkshire Police", short_name="NYP", type="police")
    idas = OrganisationFactory(slug="idas", name="IDAS", short_name="IDAS", type="provider")
    GovernanceBodyFactory(slug="matac", name="MATAC").members.add(idas)
    officer = UserFactory(username="matac.officer", role=Role.CONTRIBUTOR, organisation=police,
                          personal_data_scope=PersonalDataScope.PARTIES, email="officer@example.org")
    panel = MatacPanel.objects.create(slug="nyy", name="North Yorkshire and York", police=police, first_meeting_date=TODAY,
                                      default_venue="Police HQ", chair_role="Detective Chief Inspector")
    panel.members.add(idas)
    meeting = MatacMeeting.objects.create(panel=panel, date=TODAY, venue="Police HQ")
    run = scoring_run_create(user=officer, reference_date=TODAY)

    _signed_in(page, live_server, officer)
    page.goto("/matac/nominations/")
    axe(page)
    page.get_by_role("link", name="Nominate from a ranked list").click()
    axe(page)
    page.get_by_role("button", name="Nominate").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page)
    page.get_by_label("Ranked list").select_option(str(run.pk))
    page.get_by_label("Place on the list").fill("1")
    page.get_by_label("First name").fill("Synthia")
    page.get_by_label("Last name").fill("Journeyman")
    page.get_by_label("List for the meeting (optional)").select_option(str(meeting.pk))
    page.get_by_role("button", name="Nominate").click()
    expect(page.get_by_role("table", name="Score history")).to_be_visible()
    nomination = Nomination.objects.get()
    axe(page)

    page.goto(f"/matac/meetings/{meeting.pk}/")
    axe(page)
    page.get_by_role("link", name=f"Decide on {nomination.case.reference}").click()
    page.get_by_label("Adopt", exact=True).check()
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page)
    page.get_by_label("Lead agency (if adopted)").select_option(str(idas.pk))
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("heading", name="Action plan")).to_be_visible()
    axe(page)

    page.get_by_role("link", name="Add an action").click()
    page.get_by_role("button", name="Add action").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page)
    page.get_by_label("Disruption").check()
    page.get_by_label("Attitudes").check()
    page.get_by_label("Agency", exact=True).select_option(str(police.pk))
    page.get_by_label("What will be done").fill("Warning notice served")
    deadline = TODAY + dt.timedelta(days=28)
    page.get_by_label("Day").fill(str(deadline.day))
    page.get_by_label("Month").fill(str(deadline.month))
    page.get_by_label("Year").fill(str(deadline.year))
    page.get_by_role("button", name="Add action").click()
    expect(page.get_by_text("Warning notice served")).to_be_visible()

    page.get_by_role("link", name="Record a review").click()
    axe(page)
    page.get_by_label("Risk unchanged").check()
    page.get_by_label("Notes").fill("Plan agreed; first contact made")
    page.get_by_role("button", name="Record review").click()
    expect(page.get_by_text("Plan agreed; first contact made")).to_be_visible()
    axe(page)

    for url in ["/matac/meetings/", f"/matac/meetings/{meeting.pk}/", "/matac/nominations/new/referral/",
                f"/matac/nominations/{nomination.pk}/exit/", "/matac/outcomes/", "/matac/outcomes/published/"]:
        page.goto(url)
        axe(page)
