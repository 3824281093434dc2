"""The journey issue 2 is judged by, on the North Yorkshire demo data: a police contributor signs in,
filters the tracker to their organisation's actions, records a progress update and downloads the
Progress Update as a PDF. axe-core checks every page on the way."""
from playwright.sync_api import expect
import io
import shutil

import pytest
from django.core.management import call_command

from saferhub.core.demo import DEMO_PASSWORD
from saferhub.publishing.tests.text import normalise, pdf_inflated, pdf_text
from saferhub.strategy.models import Action, ProgressUpdate, ReportingPeriod


@pytest.fixture
def demo(transactional_db):
    call_command("demo", "load", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_contributor_filters_records_progress_and_downloads_the_pdf(page, axe, sign_in, demo, tmp_path):
    sign_in("police.contributor", DEMO_PASSWORD)
    axe(page)

    page.get_by_role("link", name="Action tracker").click()
    page.get_by_label("Lead organisation").select_option("north-yorkshire-police")
    page.get_by_label("Strategy", exact=True).select_option("joint-vawg-strategy")
    page.get_by_role("button", name="Apply filters").click()
    axe(page)
    police_led = Action.objects.filter(item__strategy__slug="joint-vawg-strategy",
                                       lead_organisations__slug="north-yorkshire-police").distinct()
    expect(page.get_by_text(f"{police_led.count()} action").first).to_be_visible()
    rows = page.locator("table tbody tr")
    assert rows.count() == min(police_led.count(), 50)
    for text in rows.all_inner_texts():
        assert "NYP" in text

    # The contributor's own list: actions their organisation leads or supports.
    page.goto("/strategies/actions/mine/")
    axe(page)
    action = police_led.order_by("item__path", "order").first()
    page.goto(f"/strategies/actions/{action.pk}/")
    axe(page)
    page.get_by_role("button", name="Record progress").click()
    axe(page)
    june = ReportingPeriod.objects.get(label="June 2023")
    page.get_by_label("Reporting period").select_option(str(june.pk))
    taken = "Refresher training for all new Sexual Offences Liaison Officers delivered in June."
    page.get_by_label("Actions taken in the period").fill(taken)
    page.get_by_label("Next steps").fill("- Review take-up with the Delivery Group\n- Report to the Strategic Governance Board")
    page.get_by_role("radio", name="On track").check()
    page.get_by_role("radio", name="Green").check()
    page.get_by_role("button", name="Save progress").click()
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()
    axe(page)
    update = ProgressUpdate.objects.get(action=action, period__label="June 2023")
    assert update.actions_taken == taken and update.recorded_by.username == "police.contributor"

    # The June 2023 Progress Update now carries the new text; download it as a PDF.
    page.get_by_role("link", name="Progress Updates").click()
    axe(page)
    page.get_by_role("link", name="June 2023").first.click()
    axe(page)
    expect(page.get_by_text(taken)).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="PDF").first.click()
    download = download_info.value
    assert download.suggested_filename == "joint-vawg-strategy-progress-update-june-2023.pdf"
    pdf = tmp_path / download.suggested_filename
    download.save_as(pdf)
    content = pdf.read_bytes()
    assert content.startswith(b"%PDF") and b"/StructTreeRoot" in pdf_inflated(content)
    if shutil.which("pdftotext"):
        assert normalise(taken) in pdf_text(content)
