"""The people register and case pages in a real browser: no accessibility violations (axe-core,
WCAG 2 A/AA) on any of them, with and without form errors, and nothing blocked by the CSP."""
from playwright.sync_api import expect
import datetime as dt

import pytest
from django.test import Client

from saferhub.accounts.testing import otp_login
from saferhub.core.factories import OrganisationFactory, UserFactory
from saferhub.partners.models import PersonalDataScope, Role
from saferhub.people import services
from saferhub.people.factories import CaseFactory, PersonFactory
from saferhub.people.models import InformationSharingAgreement


def _signed_in(page, live_server, user) -> None:
    """The browser takes over a session that has already passed two-factor sign-in."""
    client = Client()
    otp_login(client, user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


@pytest.mark.django_db(transaction=True)
def test_people_and_case_pages_are_accessible(page, axe, live_server):
    police = OrganisationFactory(slug="north-yorkshire-police", name="North Yorkshire Police", short_name="NYP", type="police")
    idas = OrganisationFactory(slug="idas", name="IDAS", short_name="IDAS", type="provider")
    worker = UserFactory(username="caseworker", role=Role.CONTRIBUTOR, organisation=police,
                         personal_data_scope=PersonalDataScope.PARTIES, email="caseworker@example.org")
    lead = UserFactory(username="dplead", role=Role.VIEWER, organisation=police, personal_data_scope=PersonalDataScope.PARTIES,
                       is_data_protection_lead=True, email="dplead@example.org")
    other = UserFactory(username="idva", role=Role.CONTRIBUTOR, organisation=idas, personal_data_scope=PersonalDataScope.PARTIES)
    victim = PersonFactory(user=worker, first_name="Adaline", last_name="Testperson", date_of_birth=dt.date(1990, 5, 1),
                           identifiers={"police_nominal": "NOM-123"}, aliases=[{"first_name": "Ada", "last_name": "Sample"}],
                           addresses=[{"lines": ["1 Mill Lane", "York"], "postcode": "YO10 9ZZ"}])
    child = PersonFactory(user=worker, first_name="Bea", last_name="Testperson", date_of_birth=dt.date(2016, 9, 12))
    case = CaseFactory(user=worker, reference="MARAC-B-0001", people=[(victim, "victim"), (child, "child")])
    agreement = InformationSharingAgreement.objects.create(name="MARAC protocol", start=dt.date(2024, 4, 1),
                                                           lawful_bases=["safeguarding"])
    agreement.parties.add(police, idas)
    services.case_party_add(user=worker, case_id=case.pk, organisation=idas, reason="Attends the MARAC",
                            lawful_basis="safeguarding", agreement=agreement)
    hidden = CaseFactory(user=other, reference="MARAC-B-0002")
    grant = services.break_glass_open(user=worker, case_id=hidden.pk, reason="Urgent safeguarding call from a school")

    _signed_in(page, live_server, worker)
    for url in ["/people/", "/people/search/", "/people/persons/", "/people/persons/new/", f"/people/persons/{victim.pk}/",
                f"/people/persons/{victim.pk}/edit/", f"/people/persons/{victim.pk}/subject-access/", "/people/cases/",
                "/people/cases/new/", f"/people/cases/{case.pk}/", f"/people/cases/{hidden.pk}/",
                f"/people/cases/{case.pk}/people/add/", f"/people/cases/{case.pk}/organisations/add/",
                f"/people/cases/{case.pk}/disclosures/add/", f"/people/cases/{case.pk}/close/", "/people/break-glass/"]:
        page.goto(url)
        axe(page)

    # Forms with their errors showing.
    page.goto("/people/search/")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page)
    page.get_by_label("First name").fill("Adaline")
    page.get_by_label("Last name").fill("Testperson")
    page.get_by_label("Day").fill("1")
    page.get_by_label("Month").fill("5")
    page.get_by_label("Year").fill("1990")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("table", name="1 person found")).to_be_visible()
    axe(page)
    page.goto("/people/persons/new/")
    page.get_by_role("button", name="Add another address").click()
    page.get_by_role("button", name="Register person").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page)
    page.goto(f"/people/cases/{case.pk}/people/add/")
    page.get_by_label("Kind of identifier").select_option("police_nominal")
    page.get_by_label("Identifier", exact=True).fill("NOM-123")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name="Add to case").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page)
    page.goto("/people/break-glass/")
    page.get_by_role("button", name="Open case").click()
    axe(page)

    page.context.clear_cookies()
    _signed_in(page, live_server, lead)
    for url in [f"/people/cases/{case.pk}/audit/", f"/people/persons/{victim.pk}/audit/", "/people/break-glass/report/",
                f"/people/break-glass/{grant.pk}/review/", "/people/audit/export/"]:
        page.goto(url)
        axe(page)
