"""Year-on-year tables, rolling twelve months, computed indicators and target RAG."""
import datetime as dt

import pytest

from saferhub.performance.analysis import (
    computed_value, percentage_change, quarterly_series, rolling_twelve_months, target_status, year_on_year,
)
from saferhub.performance.models import ComputedIndicator, DataElement, DataValue, PeriodType, Polarity, Target
from saferhub.performance.periods import FinancialQuarter, add_months

Q3 = FinancialQuarter.parse("2023/24-Q3")
SEED_ENQUIRIES = {"2021/22": [701, 710, 767], "2022/23": [800, 787, 769], "2023/24": [867, 887, 737]}


def put(service, slug, start, value, period_type=PeriodType.MONTH, option=None):
    DataValue.objects.create(data_element=DataElement.objects.get(slug=slug), service=service,
                             period_type=period_type, period_start=start, value=value, option=option)


@pytest.fixture
def enquiries(hub):
    for years_ago, (label, months) in enumerate(reversed(SEED_ENQUIRIES.items())):
        for month, value in zip(Q3.same_quarter_years_ago(years_ago).months, months):
            put(hub, "enquiries", month, value)
    return hub


def test_percentage_change():
    assert percentage_change(100, 112) == pytest.approx(12)
    assert percentage_change(0, 5) is None and percentage_change(None, 5) is None


def test_year_on_year_by_month_october_to_december(enquiries):
    table = year_on_year(element=DataElement.objects.get(slug="enquiries"), quarter=Q3)
    assert table.years == ["2021/22", "2022/23", "2023/24"]
    assert [r.label for r in table.rows] == ["October", "November", "December", "Q3 total"]
    assert table.rows[0].values == [701, 800, 867]
    assert table.rows[3].values == [2178, 2356, 2491]
    assert table.rows[0].changes[1] == pytest.approx((867 - 800) / 800 * 100)
    assert table.latest_change == pytest.approx((2491 - 2356) / 2356 * 100)


def test_year_on_year_reads_a_fixed_number_of_queries_however_many_years(enquiries, django_assert_max_num_queries):
    element = DataElement.objects.get(slug="enquiries")
    with django_assert_max_num_queries(1):
        year_on_year(element=element, quarter=Q3, years=10)


def test_reading_for_themselves_the_comparisons_count_approved_returns_only(enquiries):
    """As every page shows figures: a return still in draft or awaiting approval is not counted,
    nor its quarter; figures loaded without a return are."""
    from saferhub.performance.models import DataReturn, ReturnStatus

    element = DataElement.objects.get(slug="enquiries")
    pending = DataReturn.objects.create(service=enquiries, quarter_start=Q3.next().start, status=ReturnStatus.SUBMITTED)
    for month in Q3.next().months:
        DataValue.objects.create(data_element=element, service=enquiries, period_type=PeriodType.MONTH,
                                 period_start=month, value=1000, data_return=pending)
    put(enquiries, "individuals", Q3.next().start, 100, period_type=PeriodType.QUARTER)
    assert dict(quarterly_series(element=element, last=Q3.next(), count=2)) == {Q3: 2491, Q3.next(): None}
    assert year_on_year(element=element, quarter=Q3.next(), years=2).rows[0].values == [None, None]
    indicator = ComputedIndicator.objects.create(slug="per-person", name="Enquiries per individual",
                                                 numerator="#{enquiries}", denominator="#{individuals}")
    assert computed_value(indicator, quarter=Q3.next()) is None
    pending.status = ReturnStatus.APPROVED
    pending.save(update_fields=["status"])
    assert dict(quarterly_series(element=element, last=Q3.next(), count=2)) == {Q3: 2491, Q3.next(): 3000}
    assert year_on_year(element=element, quarter=Q3.next(), years=2).rows[0].values[-1] == 1000
    assert computed_value(indicator, quarter=Q3.next()) == pytest.approx(30)


def test_quarterly_series_uses_reported_quarters_or_sums_months(enquiries):
    element = DataElement.objects.get(slug="enquiries")
    put(enquiries, "enquiries", Q3.start, 2500, period_type=PeriodType.QUARTER)
    series = dict(quarterly_series(element=element, last=Q3, count=5))
    assert series[Q3] == 2500  # the reported quarter figure wins
    assert series[Q3.same_quarter_years_ago(1)] == 2356
    assert series[Q3.previous()] is None


def test_rolling_twelve_months_needs_every_month(hub):
    element = DataElement.objects.get(slug="enquiries")
    end = dt.date(2023, 12, 1)
    for n in range(11):
        put(hub, "enquiries", add_months(end, -n), 10)
    assert rolling_twelve_months(element=element, end_month=end) is None
    put(hub, "enquiries", add_months(end, -11), 10)
    assert rolling_twelve_months(element=element, end_month=end) == 120


def test_computed_indicator(enquiries):
    put(enquiries, "individuals", Q3.start, 1627, period_type=PeriodType.QUARTER)
    indicator = ComputedIndicator.objects.create(slug="per-person", name="Enquiries per individual",
                                                 numerator="#{enquiries}", denominator="#{individuals}")
    assert computed_value(indicator, quarter=Q3) == pytest.approx(2491 / 1627)
    assert computed_value(indicator, quarter=Q3.previous()) is None


@pytest.mark.parametrize("actual, today, rag", [
    (37, dt.date(2023, 7, 1), "amber"),   # not met, due date ahead
    (37, dt.date(2024, 2, 1), "red"),     # not met, due date passed
    (47, dt.date(2024, 2, 1), "amber"),   # within 10% of the target
    (50, dt.date(2024, 2, 1), "green"),
])
def test_target_rag(hub, actual, today, rag):
    element = DataElement.objects.create(slug="solos", name="Trained SOLOs", polarity=Polarity.HIGHER_IS_BETTER)
    DataValue.objects.create(data_element=element, service=hub, period_type=PeriodType.QUARTER,
                             period_start=dt.date(2023, 4, 1), value=actual)
    target = Target.objects.create(data_element=element, service=hub, due=dt.date(2023, 12, 31), value=50)
    status = target_status(target, today=today)
    assert status.rag == rag and status.actual == actual
    assert f"{actual} against 50" in status.explanation and "Q1 2023/24" in status.explanation


def test_target_with_no_figures(hub):
    element = DataElement.objects.create(slug="kits", name="Kits installed")
    status = target_status(Target.objects.create(data_element=element, due=dt.date(2025, 3, 31), value=29), today=dt.date(2024, 1, 1))
    assert status.rag == "" and status.actual is None


def test_target_counts_approved_figures_once_for_a_monthly_element(hub):
    """A monthly element's quarter total starts on the same day as its first month: the target is
    rated on the quarter's total, not on the two added together, and drafts do not count."""
    from saferhub.performance.models import DataReturn, ReturnStatus

    element = DataElement.objects.get(slug="enquiries")
    approved = DataReturn.objects.create(service=hub, quarter_start=Q3.start, status=ReturnStatus.APPROVED)
    for month, v in zip(Q3.months, [10, 10, 10]):
        DataValue.objects.create(data_element=element, service=hub, period_type=PeriodType.MONTH, period_start=month, value=v, data_return=approved)
    DataValue.objects.create(data_element=element, service=hub, period_type=PeriodType.QUARTER, period_start=Q3.start, value=30, data_return=approved)
    draft = DataReturn.objects.create(service=hub, quarter_start=Q3.next().start, status=ReturnStatus.DRAFT)
    DataValue.objects.create(data_element=element, service=hub, period_type=PeriodType.QUARTER, period_start=Q3.next().start, value=999, data_return=draft)
    target = Target.objects.create(data_element=element, service=hub, due=dt.date(2024, 3, 31), value=30)
    status = target_status(target, today=dt.date(2024, 6, 1))
    assert status.actual == 30 and status.as_of == Q3 and status.rag == "green"


def test_figures_loaded_by_element_id_match_those_loaded_by_slug(hub):
    """A service's summary loads by element id through the (service, period start) index
    (element_slugs): the sums are those of the slug-named load, only of the elements named, only of
    approved returns or figures without one, with options only for `options_of`, and dates as dates."""
    from saferhub.commissioning.models import Service
    from saferhub.performance.analysis import Figures, quarter_starts
    from saferhub.performance.models import BreakdownOption, DataReturn, ReturnStatus

    other = Service.objects.create(slug="other", name="Other", provider=hub.provider)
    female, male = BreakdownOption.objects.get(code="female"), BreakdownOption.objects.get(code="male")
    unnamed = DataElement.objects.create(slug="unnamed", name="Unnamed", order=3)
    approved = DataReturn.objects.create(service=hub, quarter_start=Q3.start, status=ReturnStatus.APPROVED)
    draft = DataReturn.objects.create(service=hub, quarter_start=Q3.previous().start, status=ReturnStatus.DRAFT)
    for n, month in enumerate(Q3.months):
        put(hub, "enquiries", month, 10 + n)
        put(other, "enquiries", month, 1000)
    put(hub, "individuals", Q3.start, 7, PeriodType.QUARTER, option=female)
    put(hub, "individuals", Q3.start, 5, PeriodType.QUARTER, option=male)
    DataValue.objects.create(data_element=DataElement.objects.get(slug="individuals"), service=hub, period_type=PeriodType.QUARTER,
                             period_start=Q3.start, value=12, data_return=approved)
    DataValue.objects.create(data_element=unnamed, service=hub, period_type=PeriodType.QUARTER, period_start=Q3.start, value=3)
    DataValue.objects.create(data_element=DataElement.objects.get(slug="enquiries"), service=hub, period_type=PeriodType.QUARTER,
                             period_start=Q3.previous().start, value=999, data_return=draft)
    named = {e.pk: e.slug for e in DataElement.objects.filter(slug__in=["enquiries", "individuals"])}
    starts = quarter_starts([Q3, Q3.previous()])
    for options_of in (set(), {"individuals"}):
        by_slug = Figures.load(elements=set(named.values()), services=[hub], starts=starts, totals_only=True,
                               period_types=PeriodType.values, options_of=options_of)
        by_id = Figures.load(element_slugs=named, services=[hub], starts=starts, totals_only=True,
                             period_types=PeriodType.values, options_of=options_of)
        assert by_id.sums == by_slug.sums
        assert all(isinstance(key[4], dt.date) for key in by_id.sums)
    assert by_id.quarter_value("enquiries", Q3) == 33
    assert by_id.options("individuals", Q3) == {"female": 7, "male": 5}
    assert by_id.quarter_value("enquiries", Q3.previous()) is None  # the draft's figure is not shown
    assert not any(key[1] == "unnamed" for key in by_id.sums)
    with pytest.raises(ValueError):
        Figures.load(element_slugs=named, starts=starts)
