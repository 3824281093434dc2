"""Return templates round-trip, and every kind of bad file is explained by sheet, row and column."""
import io

import pytest
from openpyxl import load_workbook

from saferhub.core.importing import ImportFailed
from saferhub.performance.periods import FinancialQuarter
from saferhub.performance.returns_file import read_csv, read_xlsx, template_csv, template_xlsx

Q3 = FinancialQuarter.parse("2023/24-Q3")


def fill(content: bytes, figures: dict[tuple[str, str], list]) -> bytes:
    """Fill template rows keyed by (element, option) with [m1, m2, m3, total]."""
    wb = load_workbook(io.BytesIO(content))
    ws = wb["Return"]
    for row in ws.iter_rows(min_row=5):
        key = (row[0].value, row[2].value or "")
        if key in figures:
            for cell, value in zip(row[4:8], figures[key]):
                cell.value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


GOOD = {("enquiries", ""): [867, 887, 737, 2491], ("individuals", ""): [None, None, None, 1627],
        ("individuals", "female"): [None, None, None, 1430], ("individuals", "male"): [None, None, None, 197]}


def test_template_lists_each_figure_and_reads_back(hub):
    content = fill(template_xlsx(hub, Q3), GOOD)
    values = read_xlsx(content, filename="hub.xlsx", service=hub, quarter=Q3)
    assert values.get("enquiries", month=Q3.months[1]) == 887
    assert values.get("enquiries") == 2491
    assert values.get("individuals", "female") == 1430
    assert values.get("individuals", "missing") is None


def problems_of(content, **kwargs):
    with pytest.raises(ImportFailed) as exc:
        read_xlsx(content, filename="hub.xlsx", **kwargs)
    return exc.value.problems


def test_text_in_a_number_cell(hub):
    [p] = problems_of(fill(template_xlsx(hub, Q3), {**GOOD, ("individuals", "male"): [None, None, None, "about 200"]}), service=hub, quarter=Q3)
    assert (p.sheet, p.row, p.field) == ("Return", 8, "Q3 2023/24 total")
    assert "'about 200' is not a number" in str(p)


def test_negative_count(hub):
    [p] = problems_of(fill(template_xlsx(hub, Q3), {**GOOD, ("individuals", ""): [None, None, None, -3]}), service=hub, quarter=Q3)
    assert p.row == 6 and "negative" in p.message


def test_missing_month(hub):
    [p] = problems_of(fill(template_xlsx(hub, Q3), {**GOOD, ("enquiries", ""): [867, None, 737, 2491]}), service=hub, quarter=Q3)
    assert (p.row, p.field) == (5, "November 2023") and "enter November 2023" in p.message


def test_months_in_a_quarterly_figure(hub):
    [p] = problems_of(fill(template_xlsx(hub, Q3), {**GOOD, ("individuals", "female"): [400, 500, 530, 1430]}), service=hub, quarter=Q3)
    assert p.row == 7 and "quarter only" in p.message


def test_template_for_another_quarter_is_the_wrong_template(hub):
    problems = problems_of(fill(template_xlsx(hub, Q3.previous()), GOOD), service=hub, quarter=Q3)
    assert [(p.sheet, p.field) for p in problems] == [("About", "quarter")]
    assert "2023/24-Q2" in problems[0].message


def test_template_for_another_service_is_the_wrong_template(hub, organisation):
    from saferhub.commissioning.models import Service

    other = Service.objects.create(slug="refuge", name="Refuge", provider=organisation)
    problems = problems_of(template_xlsx(other, Q3), service=hub, quarter=Q3)
    assert problems[0].field == "service" and "'refuge'" in problems[0].message


def test_a_file_that_is_not_a_workbook(hub):
    [p] = problems_of(b"not a spreadsheet", service=hub, quarter=Q3)
    assert "is not an Excel workbook" in p.message


def test_every_problem_is_reported_at_once(hub):
    bad = {("enquiries", ""): ["x", 1, 2, 3], ("individuals", ""): [None, None, None, -1]}
    problems = problems_of(fill(template_xlsx(hub, Q3), bad), service=hub, quarter=Q3)
    assert {(p.row, p.field) for p in problems} == {(5, "October 2023"), (6, "Q3 2023/24 total")}


def test_csv_round_trip_and_errors(hub):
    lines = template_csv(hub, Q3).splitlines()
    filled = [lines[0]]
    for line in lines[1:]:
        if ",enquiries," in line:
            line = line.rsplit(",", 4)[0] + ",867,887,737,2491"
        elif ",individuals,Individuals,,Total" in line:
            line = line.rsplit(",", 4)[0] + ",,,,1627"
        filled.append(line)
    values = read_csv("\n".join(filled), filename="hub.csv", service=hub, quarter=Q3)
    assert values.get("enquiries") == 2491 and values.get("individuals") == 1627
    filled[1] = filled[1].replace("887", "-887")
    with pytest.raises(ImportFailed) as exc:
        read_csv("\n".join(filled), filename="hub.csv", service=hub, quarter=Q3)
    assert str(exc.value.problems[0]) == "hub.csv:2: November 2023: -887 is negative; figures cannot be below zero"
