"""UK financial quarters as the partnership reports them."""
import datetime as dt

import pytest
from hypothesis import given, strategies as st

from saferhub.performance.periods import FinancialQuarter, add_months, financial_year_label


def test_q3_2023_24_is_october_to_december_2023():
    q = FinancialQuarter.parse("2023/24-Q3")
    assert (q.start, q.end) == (dt.date(2023, 10, 1), dt.date(2023, 12, 31))
    assert q.months == [dt.date(2023, 10, 1), dt.date(2023, 11, 1), dt.date(2023, 12, 1)]
    assert q.label == "Q3 2023/24" and q.key == "2023/24-Q3"


def test_q4_runs_january_to_march_of_the_next_calendar_year():
    q = FinancialQuarter.parse("Q4 2023/24")
    assert (q.start, q.end) == (dt.date(2024, 1, 1), dt.date(2024, 3, 31))


@pytest.mark.parametrize("text", ["2023/25-Q3", "2023/24-Q5", "Q3", "", "2023-Q3"])
def test_bad_labels_are_explained(text):
    with pytest.raises(ValueError) as exc:
        FinancialQuarter.parse(text)
    assert "quarter" in str(exc.value) or "financial year" in str(exc.value)


def test_same_quarter_in_earlier_years():
    q = FinancialQuarter.parse("2023/24-Q3")
    assert [q.same_quarter_years_ago(n).label for n in (1, 2)] == ["Q3 2022/23", "Q3 2021/22"]


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_every_day_falls_in_exactly_its_quarter(day):
    q = FinancialQuarter.from_date(day)
    assert q.start <= day <= q.end
    assert q.next().start == q.end + dt.timedelta(days=1)
    assert q.next().previous() == q
    assert FinancialQuarter.parse(q.key) == q
    assert financial_year_label(q.year).startswith(str(q.year))


def test_add_months_crosses_years():
    assert add_months(dt.date(2023, 11, 1), 3) == dt.date(2024, 2, 1)
    assert add_months(dt.date(2023, 1, 1), -1) == dt.date(2022, 12, 1)
