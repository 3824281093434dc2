"""The data return pages as providers and managers use them: the list, a return's page, entering
figures, downloading and uploading the template (every bad file named by sheet, row and column, and
nothing saved), submitting past errors and warnings, approving and reopening; who may do what."""
import csv
import html
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import load_workbook

from saferhub.commissioning.models import Service
from saferhub.partners.models import Role
from saferhub.performance.models import DataReturn, DataValue, ReturnStatus
from saferhub.performance.periods import FinancialQuarter
from saferhub.performance.returns_file import template_xlsx

Q3 = FinancialQuarter.parse("2023/24-Q3")
PAGE = "/returns/hub/2023-24-q3/"

# Figures that pass every rule: enquiries by month and for the quarter, individuals by gender.
GOOD = {
    "enquiries.2023-10": "867", "enquiries.2023-11": "887", "enquiries.2023-12": "737", "enquiries.total": "2,491",
    "individuals.total": "1627", "individuals.female.total": "1430", "individuals.male.total": "197",
    "individuals.missing.total": "",
}
GOOD_ROWS = {("enquiries", ""): [867, 887, 737, 2491], ("individuals", ""): [None, None, None, 1627],
             ("individuals", "female"): [None, None, None, 1430], ("individuals", "male"): [None, None, None, 197]}


@pytest.fixture
def provider(make_user, other_organisation):
    return make_user(Role.CONTRIBUTOR, org=other_organisation, username="idas.worker")


@pytest.fixture
def as_provider(client, provider, hub):
    client.force_login(provider)
    return client


def text(response) -> str:
    """The page's text with entities decoded and whitespace collapsed, as a reader sees it."""
    body = html.unescape(response.content.decode())
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def filled_xlsx(figures: dict, quarter=Q3, service=None) -> bytes:
    wb = load_workbook(io.BytesIO(template_xlsx(service or Service.objects.get(slug="hub"), quarter)))
    for row in wb["Return"].iter_rows(min_row=5):
        key = (row[0].value, row[2].value or "")
        if key in figures:
            for cell, value in zip(row[4:8], figures[key]):
                cell.value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client, content: bytes, name: str = "hub.xlsx"):
    return client.post(PAGE + "upload/", {"file": SimpleUploadedFile(name, content)})


def status_of() -> str:
    return DataReturn.objects.get(service__slug="hub", quarter_start=Q3.start).status


# --- Periods in URLs ---------------------------------------------------------------------------------

def test_a_quarter_slug_reads_back_and_nonsense_is_refused():
    assert FinancialQuarter.from_slug(Q3.slug) == Q3
    assert FinancialQuarter.from_slug("2024-25-q4").start.isoformat() == "2025-01-01"
    for bad in ("2023-25-q3", "2023-24-q5", "2023/24-Q3", "", "q3"):
        with pytest.raises(ValueError):
            FinancialQuarter.from_slug(bad)


# --- Who may see and do what -------------------------------------------------------------------------

@pytest.mark.parametrize("who, reads, writes, decides", [
    ("provider", 200, True, False),
    ("manager", 200, True, True),
    ("viewer", 200, False, False),
    ("contributor", 200, False, False),  # a contributor at the police, not the Hub's provider
])
def test_who_may_see_and_do_what(client, hub, request, who, reads, writes, decides):
    user = request.getfixturevalue(who)
    client.force_login(user)
    assert client.get("/returns/").status_code == reads
    assert client.get(PAGE).status_code == reads
    write = 200 if writes else 403
    assert client.get(PAGE + "figures/").status_code == write
    assert client.get(PAGE + "template.xlsx").status_code == write
    assert client.post(PAGE + "figures/", GOOD).status_code == (302 if writes else 403)
    assert client.post(PAGE + "upload/", {}).status_code == (200 if writes else 403)
    assert client.post(PAGE + "submit/", {}).status_code == (302 if writes else 403)
    assert client.post(PAGE + "approve/").status_code == (302 if decides else 403)
    # Reopening an approved return is refused with a message; anyone else is forbidden.
    assert client.post(PAGE + "reopen/", {"reason": "Check"}).status_code == (200 if decides else 403)
    page = text(client.get(PAGE))
    if not writes:
        assert "Enter figures" not in page and "Upload a completed template" not in page and "Submit the return" not in page


def test_signed_out_visitors_are_sent_to_sign_in(client, hub):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/sign-in/" in response["Location"]


def test_unknown_service_or_quarter_is_not_found(as_provider):
    assert as_provider.get("/returns/no-such-service/2023-24-q3/").status_code == 404
    assert as_provider.get("/returns/hub/2023-25-q3/").status_code == 404
    assert as_provider.get("/returns/hub/q3/figures/").status_code == 404
    assert as_provider.post("/returns/nowhere/2023-24-q3/upload/").status_code == 404
    assert as_provider.get(PAGE + "template.pdf").status_code == 404
    assert as_provider.get("/returns/?quarter=2023-24-q9").status_code == 404


# --- The list of returns -----------------------------------------------------------------------------

def test_list_defaults_to_the_last_quarter_that_has_ended(as_provider):
    expected = FinancialQuarter.from_date(timezone.localdate()).previous()
    page = text(as_provider.get("/returns/"))
    assert f"Returns for {expected.label}" in page
    assert "The Hub" in page and "Not started" in page and "Start the return" in page


def test_list_puts_the_providers_own_services_first_and_counts_problems(as_provider, organisation):
    Service.objects.create(slug="aardvark", name="Aardvark Project", provider=organisation).data_elements.add(
        *Service.objects.get(slug="hub").data_elements.all())
    as_provider.post(PAGE + "figures/", {**GOOD, "individuals.male.total": "196"})
    response = as_provider.get("/returns/?quarter=2023-24-q3")
    page = text(response)
    assert page.index("Your organisation’s services") < page.index("The Hub") < page.index("Other services") < page.index("Aardvark Project")
    hub_row = re.search(r"The Hub IDAS Draft (\d+) (\d+) Continue the return", page)
    assert hub_row and hub_row.groups() == ("1", "0")
    assert "Aardvark Project North Yorkshire Police Not started View" in page
    assert "1 in draft and 1 not started" in page
    options = re.findall(r'<option value="([^"]+)"', response.content.decode())
    assert options[0] > options[-1] and "2023-24-q3" in options and len(options) >= 8


def test_managers_see_every_return_awaiting_approval(client, as_provider, manager):
    as_provider.post(PAGE + "figures/", GOOD)
    as_provider.post(PAGE + "submit/")
    client.force_login(manager)
    page = text(client.get("/returns/"))
    assert "Awaiting approval" in page and "The Hub Q3 2023/24" in page and "Review and approve" in page


# --- Entering figures on the web ---------------------------------------------------------------------

def test_the_form_has_a_labelled_box_per_figure_prefilled(as_provider):
    as_provider.post(PAGE + "figures/", GOOD)
    body = as_provider.get(PAGE + "figures/").content.decode()
    assert 'id="enquiries.2023-11"' in body and 'value="887"' in body and 'value="2491"' in body
    assert re.search(r'<label class="govuk-label govuk-visually-hidden" for="enquiries.2023-11">\s*Enquiries, November 2023\s*</label>', body)
    assert 'for="individuals.female.total"' in body and "Individuals, Female, Q3 2023/24 total" in body
    # Quarterly figures and breakdown options have only the quarter's box, as in the template.
    assert 'id="individuals.2023-11"' not in body and 'id="individuals.female.2023-10"' not in body


def test_bad_cells_are_named_and_nothing_is_saved(as_provider):
    response = as_provider.post(PAGE + "figures/", {**GOOD, "enquiries.2023-11": "lots", "individuals.male.total": "-5"})
    assert response.status_code == 200
    page, body = text(response), response.content.decode()
    assert "<title>Error: Enter figures" in body
    assert "Enter a number of 0 or more for Enquiries, November 2023" in page
    assert "Enter a number of 0 or more for Individuals, Male, Q3 2023/24 total" in page
    assert '<a href="#enquiries.2023-11">' in body and 'id="enquiries.2023-11-error"' in body
    assert not DataReturn.objects.exists() and not DataValue.objects.exists()


def test_a_missing_month_is_named(as_provider):
    response = as_provider.post(PAGE + "figures/", {**GOOD, "enquiries.2023-11": ""})
    assert "Enter a number for Enquiries, November 2023: Enquiries is reported monthly" in text(response)
    assert not DataReturn.objects.exists()


def test_saving_keeps_a_draft_and_shows_the_validation_results(as_provider):
    response = as_provider.post(PAGE + "figures/", {**GOOD, "individuals.male.total": "196"})
    assert response.status_code == 302 and response["Location"] == PAGE
    assert status_of() == ReturnStatus.DRAFT
    page = text(as_provider.get(PAGE))
    assert "Figures saved as a draft" in page
    assert "1 error" in page and "Breakdowns add up" in page
    assert "Individuals by gender (Q3 2023/24) 1,626" in page and "Individuals total (Q3 2023/24) 1,627" in page
    assert "Enquiries 867 887 737 2,491" in page
    assert "Changed the figures" in page and "Started the return" in page


# --- Templates ---------------------------------------------------------------------------------------

def test_templates_download_as_xlsx_and_csv(as_provider):
    response = as_provider.get(PAGE + "template.xlsx")
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="hub-2023-24-q3-return.xlsx"'
    assert load_workbook(io.BytesIO(response.content))["Return"]["A1"].value == "Data return: The Hub – Q3 2023/24"
    response = as_provider.get(PAGE + "template.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="hub-2023-24-q3-return.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["service", "quarter", "Data element code"] and rows[1][:3] == ["hub", "2023/24-Q3", "enquiries"]


def test_the_command_writes_a_template(hub, tmp_path):
    out = tmp_path / "hub.xlsx"
    call_command("returns", "template", "--service", "hub", "--period", "2023/24-Q3", "--format", "xlsx", "--output", str(out))
    assert load_workbook(out)["About"]["B3"].value == "2023/24-Q3"
    call_command("returns", "template", "--service", "hub", "--period", "Q3 2023/24", "--format", "csv", "--output", str(tmp_path / "hub.csv"))
    assert (tmp_path / "hub.csv").read_text(encoding="utf-8-sig").startswith("service,quarter,")
    with pytest.raises(CommandError, match="No service 'nowhere'"):
        call_command("returns", "template", "--service", "nowhere", "--period", "2023/24-Q3", "--output", str(out))
    with pytest.raises(CommandError, match="No data returns"):
        call_command("returns", "validate", "--period", "2023/24-Q3")


# --- Uploading a completed template ------------------------------------------------------------------

def test_a_good_upload_replaces_the_draft_figures(as_provider):
    as_provider.post(PAGE + "figures/", {**GOOD, "individuals.missing.total": "12"})
    response = upload(as_provider, filled_xlsx(GOOD_ROWS))
    assert response.status_code == 302
    assert "hub.xlsx uploaded: 7 figures saved as a draft" in text(as_provider.get(PAGE))
    values = {(v.data_element.slug, v.option.code if v.option else "", v.period_type, v.period_start.month): v.value
              for v in DataValue.objects.select_related("data_element", "option")}
    assert values[("enquiries", "", "M", 11)] == 887 and values[("individuals", "male", "Q", 10)] == 197
    assert ("individuals", "missing", "Q", 10) not in values
    assert status_of() == ReturnStatus.DRAFT


def test_a_csv_upload_is_read_too(as_provider):
    lines = as_provider.get(PAGE + "template.csv").content.decode("utf-8-sig").splitlines()
    filled = [lines[0]] + [line.rsplit(",", 4)[0] + (",867,887,737,2491" if ",enquiries," in line else ",,,,") for line in lines[1:]]
    assert upload(as_provider, "\n".join(filled).encode(), "hub.csv").status_code == 302
    assert DataValue.objects.count() == 4


@pytest.mark.parametrize("figures, quarter, expected", [
    ({**GOOD_ROWS, ("individuals", "male"): [None, None, None, "about 200"]}, Q3,
     "Sheet Return, row 8, column 'Q3 2023/24 total': 'about 200' is not a number"),
    ({**GOOD_ROWS, ("individuals", ""): [None, None, None, -3]}, Q3,
     "Sheet Return, row 6, column 'Q3 2023/24 total': -3 is negative; figures cannot be below zero"),
    ({**GOOD_ROWS, ("enquiries", ""): [867, None, 737, 2491]}, Q3,
     "Sheet Return, row 5, column 'November 2023': Enquiries is reported monthly: enter November 2023"),
    (GOOD_ROWS, Q3.previous(),
     "Sheet About, row 3, column 'quarter': this template is for 2023/24-Q2, not 2023/24-Q3"),
])
def test_a_bad_upload_is_explained_by_sheet_row_and_column_and_saves_nothing(as_provider, figures, quarter, expected):
    as_provider.post(PAGE + "figures/", GOOD)
    before = sorted(DataValue.objects.values_list("value", flat=True))
    response = upload(as_provider, filled_xlsx(figures, quarter))
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page and expected in page
    assert '<a href="#file">' in response.content.decode()
    assert sorted(DataValue.objects.values_list("value", flat=True)) == before


def test_every_problem_in_a_file_is_listed_at_once(as_provider):
    response = upload(as_provider, filled_xlsx({("enquiries", ""): ["x", 1, 2, 3], ("individuals", ""): [None, None, None, -1]}))
    page = text(response)
    assert "Sheet Return, row 5, column 'October 2023': 'x' is not a number" in page
    assert "Sheet Return, row 6, column 'Q3 2023/24 total': -1 is negative" in page
    assert "The selected file has 2 problems" in page
    assert not DataReturn.objects.exists()


def test_the_wrong_kind_of_file_is_refused(as_provider, organisation):
    assert "The selected file must be an XLSX or CSV file" in text(upload(as_provider, b"hello", "notes.txt"))
    assert "Select a completed template" in text(as_provider.post(PAGE + "upload/", {}))
    assert "hub.xlsx is not an Excel workbook" in text(upload(as_provider, b"not a spreadsheet"))
    other = Service.objects.create(slug="refuge", name="Refuge", provider=organisation)
    page = text(upload(as_provider, template_xlsx(other, Q3)))
    assert "Sheet About, row 2, column 'service': this template is for 'refuge', not The Hub" in page
    assert "hub.csv is not a Saferhub return template for Q3 2023/24" in text(upload(as_provider, b"a,b\n1,2", "hub.csv"))
    assert not DataReturn.objects.exists()


def test_a_second_submission_for_the_quarter_is_refused(as_provider):
    upload(as_provider, filled_xlsx(GOOD_ROWS))
    as_provider.post(PAGE + "submit/")
    assert status_of() == ReturnStatus.SUBMITTED
    response = upload(as_provider, filled_xlsx({**GOOD_ROWS, ("individuals", "male"): [None, None, None, 200]}))
    assert response.status_code == 200
    assert "has been submitted; ask for it to be reopened to change it" in text(response)
    assert DataValue.objects.get(option__code="male").value == 197
    response = as_provider.post(PAGE + "submit/")
    assert "has already been submitted" in text(response)


# --- Submitting, approving, reopening ----------------------------------------------------------------

def test_an_error_blocks_submission_until_the_figures_are_fixed(as_provider):
    as_provider.post(PAGE + "figures/", {**GOOD, "individuals.male.total": "196"})
    page = text(as_provider.get(PAGE))
    assert "You cannot submit the return until its errors are corrected" in page
    response = as_provider.post(PAGE + "submit/")
    assert response.status_code == 200
    page = text(response)
    assert "The return cannot be submitted" in page and "Breakdowns add up: Breakdown differs" in page and "1626" in page
    assert '<a href="#validation-errors">' in response.content.decode()
    assert status_of() == ReturnStatus.DRAFT
    as_provider.post(PAGE + "figures/", GOOD)
    response = as_provider.post(PAGE + "submit/")
    assert response.status_code == 302 and status_of() == ReturnStatus.SUBMITTED
    page = text(as_provider.get(PAGE))
    assert "Return submitted: The Hub, Q3 2023/24" in page and "Submitted" in page
    assert "Submit the return" not in page and "Enter figures" not in page


def test_a_warning_needs_a_comment(as_provider):
    warned = {**GOOD, "enquiries.2023-10": "2000", "enquiries.2023-11": "1000", "enquiries.2023-12": "1000", "enquiries.total": "4000"}
    as_provider.post(PAGE + "figures/", warned)
    page = text(as_provider.get(PAGE))
    assert "1 warning" in page and "Repeat enquiries" in page and "Enquiries 4,000" in page and "Individuals * 2 3,254" in page
    response = as_provider.post(PAGE + "submit/", {"comment-many-repeat-enquiries": "  "})
    assert response.status_code == 200
    body = response.content.decode()
    assert '<a href="#comment-many-repeat-enquiries">Explain the warning: Repeat enquiries</a>' in body
    assert 'id="comment-many-repeat-enquiries-error"' in body
    assert status_of() == ReturnStatus.DRAFT
    response = as_provider.post(PAGE + "submit/", {"comment-many-repeat-enquiries": "A campaign brought repeat calls"})
    assert response.status_code == 302
    assert DataReturn.objects.get().warning_comments == {"many-repeat-enquiries": "A campaign brought repeat calls"}
    assert "Comment: A campaign brought repeat calls" in text(as_provider.get(PAGE))


def test_approving_locks_the_return(client, as_provider, manager):
    as_provider.post(PAGE + "figures/", GOOD)
    as_provider.post(PAGE + "submit/")
    client.force_login(manager)
    assert "Approve the return" in text(client.get(PAGE))
    response = client.post(PAGE + "approve/")
    assert response.status_code == 302 and status_of() == ReturnStatus.APPROVED
    page = text(client.get(PAGE))
    assert "Return approved" in page and "approved and locked" in page and "Approve the return" not in page
    assert re.search(r"Approved \d+ \w+ \d{4} at [\d:]+[ap]m by ", page)
    assert "Approve the return" not in page and "Reopen the return" not in page
    # Nobody can change the figures now, not even a manager.
    response = client.get(PAGE + "figures/", follow=True)
    assert "approved and locked" in text(response) and response.redirect_chain[-1][0] == PAGE
    response = upload(client, filled_xlsx({**GOOD_ROWS, ("individuals", "male"): [None, None, None, 1]}))
    assert "approved and locked; it cannot be changed" in text(response)
    assert "Only a submitted return can be approved" in text(client.post(PAGE + "approve/"))
    assert "Only a submitted return can be reopened" in text(client.post(PAGE + "reopen/", {"reason": "Typo"}))
    assert DataValue.objects.get(option__code="male").value == 197


def test_reopening_needs_a_reason_and_is_recorded(client, as_provider, manager):
    as_provider.post(PAGE + "figures/", GOOD)
    as_provider.post(PAGE + "submit/")
    client.force_login(manager)
    response = client.post(PAGE + "reopen/", {"reason": " "})
    assert response.status_code == 200 and "Say why the return is being reopened" in text(response)
    assert '<a href="#reason">' in response.content.decode()
    assert status_of() == ReturnStatus.SUBMITTED
    response = client.post(PAGE + "reopen/", {"reason": "November looks low"})
    assert response.status_code == 302 and status_of() == ReturnStatus.DRAFT
    as_provider.post(PAGE + "figures/", {**GOOD, "enquiries.2023-11": "888", "enquiries.2023-12": "736"})
    page = text(as_provider.get(PAGE))
    assert "Reopened the return" in page and "Reason: November looks low" in page
    assert "Enquiries, November 2023 887 888" in page
