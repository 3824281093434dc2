"""MATAC scoring in a real browser: import an extract, run scoring, read the ranked list and a
person's explained score, and the scheme pages, with axe-core (WCAG 2 A/AA) on every page, form
errors included, and nothing blocked by the CSP."""
import pytest
from django.test import Client
from playwright.sync_api import expect

from saferhub.accounts.testing import otp_login
from saferhub.core.factories import OrganisationFactory, UserFactory
from saferhub.matac.models import ScoringRun
from saferhub.matac.tests.scoring_fixtures import REF, row, write_csv
from saferhub.partners.models import PersonalDataScope, Role


def _signed_in(page, live_server, user) -> None:
    client = Client()
    otp_login(client, user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


@pytest.mark.django_db(transaction=True)
def test_import_score_and_explain(page, axe, live_server, settings, tmp_path):
    settings.MATAC_STORE_DIR = str(tmp_path / "store")
    police = OrganisationFactory(slug="north-yorkshire-police", name="North Yorkshire Police", short_name="NYP", type="police")
    analyst = UserFactory(username="matac.analyst", role=Role.ADMINISTRATOR, organisation=police,
                          personal_data_scope=PersonalDataScope.PARTIES, email="analyst@example.org")
    extract = write_csv(tmp_path / "nyp-extract.csv", [
        row("I1", 100, perp="NOM-A", victim="VIC-1", category="abh"),
        row("I2", 50, perp="NOM-A", victim="VIC-2", category="gbh"),
        row("I3", 40, perp="NOM-B", victim="VIC-3", category="harassment"),
        row("I4", 30, perp="NOM-B", victim="VIC-4", category="stalking"),
        row("I5", 30, perp="NOM-B", victim="VIC-4", category="arson"),
    ])
    _signed_in(page, live_server, analyst)

    page.goto("/matac/")
    axe(page)
    page.get_by_role("link", name="Import a police extract").click()
    page.get_by_role("button", name="Import extract").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page)
    page.get_by_label("Extract file").set_input_files(str(extract))
    page.get_by_role("button", name="Import extract").click()
    expect(page.get_by_role("heading", name="nyp-extract.csv")).to_be_visible()
    expect(page.get_by_text("Download the rejects file")).to_be_visible()
    axe(page)

    page.goto("/matac/runs/new/")
    page.get_by_label("How many to list").fill("0")
    page.get_by_role("button", name="Run scoring").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page)
    page.get_by_label("Day").fill(str(REF.day))
    page.get_by_label("Month").fill(str(REF.month))
    page.get_by_label("Year").fill(str(REF.year))
    page.get_by_label("How many to list").fill("20")
    page.get_by_role("button", name="Run scoring").click()
    expect(page.get_by_role("table", name="All 2 listed")).to_be_visible()
    assert ScoringRun.objects.count() == 1
    axe(page)
    page.get_by_role("button", name="Check this list can be reproduced").click()
    expect(page.get_by_text("Reproduced: the store is unchanged")).to_be_visible()
    axe(page)

    page.get_by_role("link", name="NOM-A").click()
    expect(page.get_by_role("table", name="How the score is made")).to_be_visible()
    axe(page)

    page.goto("/matac/score/")
    axe(page)
    page.get_by_label("Police nominal id").fill("NOM-B")
    page.get_by_label("Day").fill(str(REF.day))
    page.get_by_label("Month").fill(str(REF.month))
    page.get_by_label("Year").fill(str(REF.year))
    page.get_by_role("button", name="Score this person").click()
    expect(page.get_by_role("heading", name="Score explained")).to_be_visible()
    axe(page)

    page.goto("/matac/schemes/")
    axe(page)
    page.get_by_role("link", name="default v1").click()
    axe(page)
    page.get_by_role("link", name="Make a new version").click()
    page.get_by_role("button", name="Save new version").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page)
