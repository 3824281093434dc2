"""The quarterly performance reports page in a real browser: each state of a prepared file without
accessibility violations, asking for one, and downloading the stored file."""
import hashlib

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from saferhub.performance.tests.performance_demo import performance_demo_load

STORED = b"%PDF-1.7 the stored file"


@pytest.mark.django_db(transaction=True)
def test_reports_page_shows_each_state_and_serves_the_stored_file(page, axe, sign_in, make_user):
    from saferhub.performance.models import ReportFile, ReportFileStatus
    from saferhub.performance.periods import FinancialQuarter
    from saferhub.performance.report_files import UNEXPECTED_ERROR, report_inputs

    performance_demo_load()
    analyst = make_user(username="analyst", first_name="Sam", last_name="Analyst")
    q3 = FinancialQuarter.parse("2023/24-Q3")
    now = timezone.now()
    inputs = report_inputs(quarter=q3, version="published")
    ReportFile.objects.create(
        quarter_start=q3.start, version="published", file_format="pdf", status=ReportFileStatus.READY, requested_by=analyst,
        requested_at=now, prepared_at=now, content=STORED, size=len(STORED), sha256=hashlib.sha256(STORED).hexdigest(),
        filename="performance-report-2023-24-q3.pdf", approved_returns=inputs.approved_returns,
        last_approved_at=inputs.last_approved_at, disclosure=inputs.disclosure)
    ReportFile.objects.create(quarter_start=q3.start, version="internal", file_format="pdf", status=ReportFileStatus.FAILED,
                              requested_by=analyst, requested_at=now, error=UNEXPECTED_ERROR)
    sign_in("analyst")
    page.goto("/performance/reports/")
    axe(page)
    quarter = page.get_by_role("table", name="Report files for Q3 2023/24")
    expect(quarter.get_by_role("row", name="Published PDF")).to_contain_text("Ready")
    expect(quarter.get_by_role("row", name="Internal PDF")).to_contain_text(UNEXPECTED_ERROR)
    expect(quarter.get_by_role("button", name="Try again the internal PDF for Q3 2023/24")).to_be_visible()
    with page.expect_download() as download:
        quarter.get_by_role("link", name="Download PDF of the published report for Q3 2023/24").click()
    assert download.value.suggested_filename == "performance-report-2023-24-q3.pdf"
    assert open(download.value.path(), "rb").read() == STORED

    quarter.get_by_role("button", name="Prepare the published DOCX for Q3 2023/24").click()
    expect(page.get_by_text("Preparing the published DOCX for Q3 2023/24")).to_be_visible()
    row = page.get_by_role("table", name="Report files for Q3 2023/24").get_by_role("row", name="Published DOCX")
    expect(row).to_contain_text("Being prepared — requested")
    expect(row).to_contain_text("by Sam Analyst")
    expect(page.get_by_role("link", name="Refresh this page")).to_be_visible()
    axe(page)
    assert ReportFile.objects.get(quarter_start=q3.start, version="published", file_format="docx").status == "queued"
