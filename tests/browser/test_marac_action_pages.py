"""MARAC action plan pages in a real browser: a case's plan, adding an action (errors first), recording
an outcome, and the agency's own list with an overdue action flagged, with no accessibility
violations (axe-core, WCAG 2 A/AA) and nothing blocked by the CSP."""
import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from saferhub.accounts.testing import otp_login
from saferhub.core.factories import OrganisationFactory, UserFactory
from saferhub.marac.models import ActionStatus, MaracAction
from saferhub.marac.tests.factories import action_make, area_make, referral_make
from saferhub.partners.models import PersonalDataScope, Role
from saferhub.people.models import CaseParty


def _signed_in(page, live_server, user) -> None:
    client = Client()
    otp_login(client, user)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_action_plan_pages_are_accessible(page, axe, live_server):
    police = OrganisationFactory(slug="north-yorkshire-police", name="North Yorkshire Police", short_name="NYP", type="police")
    idas = OrganisationFactory(slug="idas", name="IDAS", short_name="IDAS", type="provider")
    coordinator = UserFactory(username="coordinator", role=Role.CONTRIBUTOR, organisation=police,
                              personal_data_scope=PersonalDataScope.PARTIES)
    idva = UserFactory(username="idva", role=Role.CONTRIBUTOR, organisation=idas, personal_data_scope=PersonalDataScope.PARTIES,
                       first_name="Jo", last_name="Adviser")
    area = area_make(organisation=police, coordinators=[coordinator], name="York MARAC", slug="york")
    referral = referral_make(area=area, user=coordinator)
    CaseParty.objects.create(case=referral.case, organisation=idas, reason="Attends the MARAC")
    overdue = action_make(referral=referral, organisation=idas, deadline=timezone.localdate() - dt.timedelta(days=3),
                          description="Check the safety plan")

    _signed_in(page, live_server, coordinator)
    page.goto(f"/marac/referrals/{referral.pk}/actions/")
    expect(page.get_by_role("heading", name=f"Action plan for case {referral.case.reference}")).to_be_visible()
    expect(page.get_by_text("Overdue")).to_be_visible()
    axe(page)
    page.get_by_role("link", name="Add an action").click()
    page.get_by_role("button", name="Add action").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page)
    deadline = timezone.localdate() + dt.timedelta(days=14)
    page.get_by_label("Agency responsible").select_option(label="IDAS")
    page.get_by_label("Person responsible (optional)").select_option(label="Jo Adviser, IDAS")
    page.get_by_label("What will the agency do?").fill("Offer a sanctuary scheme assessment")
    page.get_by_label("Day").fill(str(deadline.day))
    page.get_by_label("Month").fill(str(deadline.month))
    page.get_by_label("Year").fill(str(deadline.year))
    page.get_by_role("button", name="Add action").click()
    expect(page.get_by_text("Offer a sanctuary scheme assessment")).to_be_visible()
    axe(page)

    _signed_in(page, live_server, idva)
    page.goto("/marac/actions/")
    expect(page.get_by_text("1 is overdue")).to_be_visible()
    axe(page)
    expect(page.get_by_role("link", name=f"Update the action on {referral.case.reference}").first).to_be_visible()
    page.goto(f"/marac/actions/{overdue.pk}/update/")
    expect(page.get_by_role("heading", name="Update an action")).to_be_visible()
    page.get_by_role("radio", name="Completed").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page)
    page.get_by_label("Outcome, or the reason it was not done").fill("Plan reviewed with the victim")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Plan reviewed with the victim")).to_be_visible()
    axe(page)
    assert MaracAction.objects.filter(status=ActionStatus.DONE).count() == 1
