"""The quarterly performance report: the seed 002 figures in its manner, approved returns only,
disclosure control in the published version (exact figures and validation findings in the
internal one), each format's structure, and `saferhub report performance`."""
import io
import shutil

import docx
import pytest
from django.core.management import CommandError, call_command

from saferhub.commissioning.models import Service
from saferhub.performance.analysis import Figures
from saferhub.performance.models import DataElement, DataReturn, PeriodType, ReturnStatus, Unit
from saferhub.performance.periods import FinancialQuarter
from saferhub.performance.report import (
    ReportFigures, performance_report_build, performance_report_render, report_html,
)
from saferhub.performance.tests.performance_demo import performance_demo_load
from saferhub.publishing.disclosure import DisclosurePolicy, Suppressed
from saferhub.publishing.tests.text import docx_text, html_text, missing_in_order, pdf_inflated, pdf_text

Q3 = FinancialQuarter.parse("2023/24-Q3")
HEADLINE = ("Throughout Q3 of 2023/24 there were 2,491 enquiries received by the Hub (up 5.7% on Q3 2022/23) "
            "and 1,627 individuals the enquiries were for.")


@pytest.fixture
def demo(db):
    performance_demo_load()


def text_of(report) -> str:
    return html_text(report_html(report))


def table_rows(report, caption_start: str) -> list[list[str]]:
    for section in report.sections:
        for block in section.blocks:
            if block.table is not None and block.table.caption.startswith(caption_start):
                return block.table.text_rows()
    raise AssertionError(f"No table captioned {caption_start!r}")


# --- Contents -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_sections_in_the_manner_of_seed_002(demo):
    report = performance_report_build(quarter=Q3)
    assert [s.heading for s in report.sections] == [
        "IDAS Domestic Abuse Victims Community Based Support Q3 2023/24",
        "IDAS Domestic Abuse Victims Accommodation Based Services Q3 2023/24",
        "IDAS Target Hardening Q3 2023/24",
        "Foundation +Choices Support Services for Adult Perpetrators of Domestic Abuse Q3 2023/24",
    ]
    text = text_of(report)
    assert not missing_in_order(text, [
        "Quarterly performance report, Q3 2023/24", "Commissioned services",
        "IDAS Domestic Abuse Victims Community Based Support Q3 2023/24", HEADLINE,
        "Month 2021/22 2022/23 2023/24 Change 2022/23 to 2023/24", "October 701 800 867 up 8.4%",
        "November 710 787 887 up 12.7%", "December 767 769 737 down 4.2%", "Q3 total 2,178 2,356 2,491 up 5.7%",
        "Gender Q3 2023/24", "Female 1,430", "Total 1,627",
        "Already active in the service 81.7%", "Declined support 8.8%", "Unable to contact 6.6%",
        "Throughout Q3 of 2023/24 there were 246 helpline enquiries about safe accommodation, 106 hours of telephone "
        "support, 166 calls from professionals and 89 referrals received into safe accommodation.",
        "Referrals accommodated in North Yorkshire and York: 32%.",
        "October 98", "November 92", "December 56", "Survivors 74", "Professionals 166", "Third party 6",
        "Housing 42", "Other domestic abuse services 75",
        "IDAS Target Hardening Q3 2023/24", "Personal alarm 23 21", "Window alarm 73 20", "Door chain 39 25",
        "Referral type Q3 2023/24 Q3 2022/23 Change", "DA Perpetrators 32 46 down 30.4%",
        "Notes",
    ])


@pytest.mark.django_db
def test_headline_comes_from_the_figures(demo):
    service = Service.objects.get(slug="idas-community-based-support")
    DataReturn.objects.filter(service=service, quarter_start=Q3.start).get().values.filter(
        data_element__slug="hub-individuals", option__isnull=True).update(value=1700)
    text = text_of(performance_report_build(quarter=Q3))
    assert HEADLINE.replace("1,627", "1,700") in text


# --- Disclosure control -------------------------------------------------------------------------

@pytest.mark.django_db
def test_published_version_withholds_small_counts_and_says_why(demo):
    report = performance_report_build(quarter=Q3, policy=DisclosurePolicy(threshold=5))
    items = {row[0]: row[1:] for row in table_rows(report, "Target hardening items provided")}
    assert items["Doorbell camera"] == ["[c]", "[c]"]
    assert items["Dummy CCTV"] == ["5", "[c]"]  # 4 individuals
    assert items["Personal alarm"] == ["23", "21"]
    gender = {row[0]: row[1] for row in table_rows(report, "Individuals the enquiries were for")}
    # 1 declined and the 1 individual the breakdown does not account for (1,627 - 1,626) are withheld,
    # and one more, so neither can be worked out from the total.
    assert gender["Declined to provide information"] == "[c]"
    assert gender["Not recorded in the breakdown"] == "[c]"
    assert gender["Missing data"] == "[c]" and gender["Total"] == "1,627"
    text = text_of(report)
    assert "[c] withheld to protect confidentiality: a count from 1 to 4" in text
    assert "Zeros are shown." in text and "Stalking interventions 0 9" in text
    assert "Unable to contact 6.6%" in text and "106 hours" in text  # percentages and hours are not counts
    choices = {row[0]: row[1:] for row in table_rows(report, "Referrals to +Choices")}
    assert choices["Emergency accommodation"] == ["8", "[c]", "[c]"]  # a change from a withheld figure is withheld
    assert "Appendix" not in text and "validation" not in text.lower()


@pytest.mark.django_db
def test_internal_version_is_exact_and_lists_the_validation_findings(demo):
    report = performance_report_build(quarter=Q3, published=False)
    items = {row[0]: row[1:] for row in table_rows(report, "Target hardening items provided")}
    assert items["Doorbell camera"] == ["1", "1"]
    text = text_of(report)
    assert "Internal version: exact figures, not for publication." in text
    assert "Appendix: validation findings (internal)" in text
    assert "Individuals the enquiries were for by gender (Q3 2023/24) = 1,626; Individuals the enquiries were for total (Q3 2023/24) = 1,627" in text
    assert "Calls from professionals by agency of the professional calling (Q3 2023/24) = 161" in text
    assert "[c]" not in text


@pytest.mark.django_db
def test_rounding_policy(demo):
    report = performance_report_build(quarter=Q3, policy=DisclosurePolicy(method="round", base=5))
    assert "October 700 800 865" in text_of(report)
    assert "Figures are rounded to the nearest 5." in text_of(report)


def test_a_total_withheld_in_one_breakdown_is_not_shown_by_another():
    """Options 4 and 4 can be protected only by withholding their total, 8; the months (8, 0, 0)
    would give it away, so October's 8 is withheld too (zeros are always shown)."""
    element = DataElement(slug="calls", name="Calls", unit=Unit.COUNT)
    months = {(None, "calls", None, PeriodType.MONTH, m): v for m, v in zip(Q3.months, (8, 0, 0))}
    options = {(None, "calls", code, PeriodType.QUARTER, Q3.start): 4 for code in ("a", "b")}
    protected = ReportFigures(Figures({**months, **options}), DisclosurePolicy(threshold=5)).element(element, Q3)
    assert isinstance(protected.total, Suppressed)
    assert all(isinstance(v, Suppressed) for v in protected.options.values())
    assert [str(v) for v in protected.months.values()] == ["[c]", "0", "0"]


def test_a_breakdown_that_does_not_add_up_is_protected_on_its_own():
    """More calls by agency (3 + 9 = 12) than in the total (10): the total cannot be used to work
    out a withheld agency, so the 3 is withheld alone and the total shown."""
    element = DataElement(slug="calls", name="Calls", unit=Unit.COUNT)
    figures = Figures({(None, "calls", None, PeriodType.QUARTER, Q3.start): 10,
                       (None, "calls", "a", PeriodType.QUARTER, Q3.start): 3,
                       (None, "calls", "b", PeriodType.QUARTER, Q3.start): 9})
    protected = ReportFigures(figures, DisclosurePolicy(threshold=5)).element(element, Q3)
    assert protected.total == 10 and {k: str(v) for k, v in protected.options.items()} == {"a": "[c]", "b": "9"}


# --- Approved returns only ----------------------------------------------------------------------

@pytest.mark.django_db
def test_figures_of_returns_not_approved_are_left_out(demo):
    DataReturn.objects.filter(service__slug="idas-target-hardening", quarter_start=Q3.start).update(status=ReturnStatus.SUBMITTED)
    DataReturn.objects.filter(service__slug="idas-community-based-support",
                              quarter_start=Q3.same_quarter_years_ago(1).start).update(status=ReturnStatus.DRAFT)
    report = performance_report_build(quarter=Q3)
    assert "IDAS Target Hardening Q3 2023/24" not in [s.heading for s in report.sections]
    text = text_of(report)
    assert "Window alarm" not in text
    assert "Month 2021/22 2023/24 Change 2021/22 to 2023/24" in text and "800" not in text.split("Gender")[0]
    assert "2,491 enquiries received by the Hub (up 5.7%" not in text


# --- Formats ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_html_embeds_charts_as_svg_with_text_alternatives(demo):
    html = performance_report_render(performance_report_build(quarter=Q3), "html").decode()
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en-GB">' in html
    assert html.count('<img src="data:image/svg+xml;base64,') >= 4
    assert 'alt="Bar chart of enquiries received by the Hub in October, November and December' in html
    assert "<script" not in html
    assert html.count("<table") == html.count("<caption")


@pytest.mark.django_db
def test_docx_has_headings_tables_with_header_rows_and_described_charts(demo):
    data = performance_report_render(performance_report_build(quarter=Q3), "docx")
    document = docx.Document(io.BytesIO(data))
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:3] == [("Heading 1", "Quarterly performance report, Q3 2023/24"), ("Heading 2", "Commissioned services"),
                            ("Heading 3", "IDAS Domestic Abuse Victims Community Based Support Q3 2023/24")]
    assert HEADLINE in docx_text(data)
    months = document.tables[0]
    assert [c.text for c in months.rows[0].cells] == ["Month", "2021/22", "2022/23", "2023/24", "Change 2022/23 to 2023/24"]
    assert [c.text for c in months.rows[1].cells] == ["October", "701", "800", "867", "up 8.4%"]
    assert months.rows[0]._tr.trPr.xml.count("tblHeader") == 1
    hardening = next(t for t in document.tables if t.rows[1].cells[0].text == "Personal alarm")
    assert [c.text for c in hardening.rows[3].cells] == ["Doorbell camera", "[c]", "[c]"]
    descriptions = [shape._inline.docPr.get("descr") for shape in document.inline_shapes]
    assert descriptions and all(descriptions)
    assert document.core_properties.title == "Quarterly performance report, Q3 2023/24"


@pytest.mark.django_db
def test_pdf_is_tagged_with_figures_and_text(demo):
    data = performance_report_render(performance_report_build(quarter=Q3), "pdf")
    assert data.startswith(b"%PDF-")
    inflated = pdf_inflated(data)
    for marker in (b"/StructTreeRoot", b"/Figure", b"/Table", b"/TH", b"/H1"):
        assert marker in inflated
    assert b"/Alt (Bar chart of enquiries received by the Hub" in inflated
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = pdf_text(data)
    assert "2,491 enquiries received by the Hub" in text and "[c]" in text


# --- The command and the downloads --------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("fmt, magic", [("html", b"<!DOCTYPE html>"), ("pdf", b"%PDF-"), ("docx", b"PK")])
def test_report_performance_command(demo, tmp_path, fmt, magic):
    target = tmp_path / f"report.{fmt}"
    out = io.StringIO()
    call_command("report", "performance", "--period", "2023/24-Q3", "--format", fmt, "--output", str(target), stdout=out)
    assert target.read_bytes().startswith(magic)
    assert f"Wrote {target}" in out.getvalue() and "published version, disclosure control applied" in out.getvalue()


@pytest.mark.django_db
def test_report_performance_command_internal_and_errors(demo, tmp_path):
    target = tmp_path / "internal.html"
    call_command("report", "performance", "--period", "Q3 2023/24", "--format", "html", "--output", str(target),
                 "--internal", stdout=io.StringIO())
    assert "Appendix: validation findings (internal)" in target.read_text()
    with pytest.raises(CommandError, match="not a financial quarter"):
        call_command("report", "performance", "--period", "2023-Q3", stdout=io.StringIO())
    with pytest.raises(CommandError, match="No approved returns for Q1 2020/21"):
        call_command("report", "performance", "--period", "2020/21-Q1", stdout=io.StringIO())


@pytest.mark.django_db
def test_report_downloads(demo, client, make_user, settings, django_capture_on_commit_callbacks):
    from saferhub.performance.report_files import report_file_request

    analyst = make_user(username="analyst")
    client.force_login(analyst)
    assert "Q3 2023/24" in html_text(client.get("/performance/reports/").content.decode())
    assert client.get("/performance/reports/2023-24-q3/published.html").status_code == 404  # not prepared yet
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}  # the worker, at once
    for version in ("published", "internal"):  # as the reports page's buttons ask
        with django_capture_on_commit_callbacks(execute=True):
            report_file_request(user=analyst, quarter=Q3, version=version, fmt="html")
    response = client.get("/performance/reports/2023-24-q3/published.html")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert "[c]" in response.content.decode()
    assert "Appendix" in client.get("/performance/reports/2023-24-q3/internal.html").content.decode()
    assert client.get("/performance/reports/2020-21-q1/published.html").status_code == 404
    assert client.get("/performance/reports/2023-24-q3/secret.html").status_code == 404
