"""MARAC repeat matches, referral history, transfers and MARAC data in a real browser: the
coordinator confirms a near match, transfers the case, and a performance lead reads the quarter's
data, with no accessibility violations (axe-core, WCAG 2 A/AA) and nothing blocked by the CSP."""
import datetime as dt

import pytest
from django.test import Client
from playwright.sync_api import expect

from saferhub.accounts.testing import otp_login
from saferhub.core.factories import OrganisationFactory, UserFactory
from saferhub.marac import repeats
from saferhub.marac.tests import builders
from saferhub.partners.models import PersonalDataScope, Role


def _signed_in(page, live_server, user) -> None:
    client = Client()
    otp_login(client, user)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


@pytest.mark.django_db(transaction=True)
def test_repeat_review_transfer_and_marac_data_are_accessible(page, axe, live_server):
    police = OrganisationFactory(slug="north-yorkshire-police", name="North Yorkshire Police", short_name="NYP", type="police")
    idas = OrganisationFactory(slug="idas", name="IDAS", short_name="IDAS", type="provider")
    council = OrganisationFactory(slug="city-council", name="City council", short_name="CC", type="local_authority")
    referrer = UserFactory(username="referrer", role=Role.CONTRIBUTOR, organisation=police, personal_data_scope=PersonalDataScope.PARTIES)
    coordinator = UserFactory(username="coordinator", role=Role.CONTRIBUTOR, organisation=idas,
                              personal_data_scope=PersonalDataScope.PARTIES)
    manager = UserFactory(username="manager", role=Role.STRATEGY_MANAGER, organisation=police)
    north = builders.area(organisation=idas, coordinators=[coordinator], adult_female_population=250000)
    builders.area(organisation=council, slug="york", name="York")
    victim = builders.person(referrer, "Ottilie", "Fernsby", dt.date(1990, 4, 2), gender="female", ethnicity="white_british")
    perpetrator = builders.person(referrer, "Rufus", "Quellington", dt.date(1986, 7, 9))
    first = builders.referral(user=referrer, marac_area=north, victim=victim, perpetrators=[perpetrator],
                              referred_on=dt.date(2025, 4, 10), status="accepted")
    builders.meeting(marac_area=north, on=dt.date(2025, 4, 17), referrals=[first])
    misspelt = builders.person(referrer, "Ottilie", "Fernsbey", dt.date(1990, 4, 2))
    later = builders.referral(user=referrer, marac_area=north, victim=misspelt, perpetrators=[perpetrator],
                              referred_on=dt.date(2025, 9, 1), status="accepted")
    [match] = repeats.repeats_find(referral=later)

    _signed_in(page, live_server, coordinator)
    page.goto("/marac/repeats/")
    expect(page.get_by_role("table")).to_contain_text(later.case.reference)
    axe(page)
    page.get_by_role("link", name=f"Review the match of {later.case.reference}").click()
    expect(page.get_by_role("table", name="The people in each referral")).to_contain_text("Fernsbey")
    axe(page)
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    expect(page).to_have_title(f"Error: Repeat match for {later.case.reference} – Saferhub")
    axe(page)
    page.check("#decision")
    page.fill("#reason", "Checked with the referring officer")
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_text(f"Match confirmed: {later.case.reference}")).to_be_visible()
    page.goto(f"/marac/referrals/{later.pk}/history/")
    expect(page.get_by_role("table", name="Linked referrals")).to_contain_text("Repeat of")
    axe(page)

    page.goto(f"/marac/referrals/{later.pk}/transfer/")
    axe(page)
    page.get_by_role("button", name="Transfer the case").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page)
    page.select_option("#to_area", label="York")
    page.fill("#reason", "The victim has moved to York")
    page.get_by_role("button", name="Transfer the case").click()
    expect(page.get_by_role("heading", name=f"{later.case.reference}: from North Yorkshire to York")).to_be_visible()
    axe(page)

    _signed_in(page, live_server, manager)
    page.goto(f"/marac/data/?area={north.slug}&quarter=2025-26-q1")
    expect(page.get_by_role("table")).to_contain_text("Cases discussed (including repeats)")
    axe(page)
    page.get_by_role("button", name="Publish Q1 2025/26 to the performance framework").click()
    expect(page.get_by_text("published to the performance framework as an approved return")).to_be_visible()
    axe(page)
