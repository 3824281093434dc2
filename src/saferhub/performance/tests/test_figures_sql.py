"""Figures.load and the target ratings read through SQL written once per shape: they give what the
same reads written with the ORM give, approved returns only, on a small framework."""
import datetime as dt
import itertools

import pytest
from django.db.models import Q, Sum

from saferhub.commissioning.models import Service
from saferhub.performance import dashboards
from saferhub.performance.analysis import Figures, approved_values, quarter_starts, target_statuses
from saferhub.performance.models import (
    Breakdown, BreakdownOption, DataElement, DataReturn, DataValue, Frequency, PeriodType, ReturnStatus, Target,
)
from saferhub.performance.periods import FinancialQuarter

Q3 = FinancialQuarter.from_date(dt.date(2023, 10, 1))
Q4 = Q3.next()
Q2 = Q3.previous()
M, QT = PeriodType.MONTH, PeriodType.QUARTER


@pytest.fixture
def framework(db, organisation, other_organisation):
    """Two services reporting monthly enquiries and individuals by gender: the Hub's Q3 return is
    approved and its Q4 return a draft, the Outreach's Q3 return awaits approval, and one Q2
    figure was loaded without a return."""
    hub = Service.objects.create(slug="hub", name="The Hub", provider=other_organisation)
    outreach = Service.objects.create(slug="outreach", name="Outreach", provider=organisation)
    idle = Service.objects.create(slug="idle", name="Idle service", provider=organisation)
    gender = Breakdown.objects.create(slug="gender", name="Gender")
    options = [BreakdownOption.objects.create(breakdown=gender, code=code, label=code.title(), order=n)
               for n, code in enumerate(["female", "male"])]
    enquiries = DataElement.objects.create(slug="enquiries", name="Enquiries", frequency=Frequency.MONTHLY, order=1)
    individuals = DataElement.objects.create(slug="individuals", name="Individuals", breakdown=gender, order=2)
    calls = DataElement.objects.create(slug="calls", name="Calls", order=3)
    for element in (enquiries, individuals, calls):
        element.services.add(hub, outreach)
    returns = {
        (hub, Q3): DataReturn.objects.create(service=hub, quarter_start=Q3.start, status=ReturnStatus.APPROVED),
        (hub, Q4): DataReturn.objects.create(service=hub, quarter_start=Q4.start, status=ReturnStatus.DRAFT),
        (outreach, Q3): DataReturn.objects.create(service=outreach, quarter_start=Q3.start, status=ReturnStatus.APPROVED),
        (outreach, Q4): DataReturn.objects.create(service=outreach, quarter_start=Q4.start, status=ReturnStatus.SUBMITTED),
    }
    values = []
    for (service, quarter), data_return in returns.items():
        base = 100 if service == hub else 10
        base += 1000 if quarter == Q4 else 0
        for n, month in enumerate(quarter.months):
            values.append(DataValue(data_element=enquiries, service=service, period_type=M, period_start=month,
                                    value=base + n, data_return=data_return))
        values.append(DataValue(data_element=calls, service=service, period_type=QT, period_start=quarter.start,
                                value=base * 3, data_return=data_return))
        for n, option in enumerate(options):
            values.append(DataValue(data_element=individuals, service=service, period_type=QT, period_start=quarter.start,
                                    option=option, value=base + 5 * n, data_return=data_return))
        values.append(DataValue(data_element=individuals, service=service, period_type=QT, period_start=quarter.start,
                                value=2 * base + 5, data_return=data_return))
    # Loaded without a return (a figure from before returns were kept): always shown.
    values.append(DataValue(data_element=calls, service=hub, period_type=QT, period_start=Q2.start, value=7))
    DataValue.objects.bulk_create(values)
    return {"hub": hub, "outreach": outreach, "idle": idle, "enquiries": enquiries, "individuals": individuals,
            "calls": calls}


def _orm_sums(*, elements=None, services=None, starts, approved_only=True, by_service=False, totals_only=False,
              options_of=(), period_types=None):
    """The same read written with the ORM, as Figures.load read before its SQL was written by hand."""
    query = (approved_values() if approved_only else DataValue.objects.all()).filter(period_start__in=starts)
    if elements is not None:
        query = query.filter(data_element__slug__in=[getattr(e, "slug", e) for e in elements])
    if services is not None:
        query = query.filter(service__in=services)
    if period_types is not None:
        query = query.filter(period_type__in=period_types)
    if totals_only:
        query = query.filter(Q(option__isnull=True) | Q(data_element__slug__in=options_of))
    keys = ["service_id", "data_element__slug", "option__code", "period_type", "period_start"]
    rows = query.order_by().values(*keys).annotate(total=Sum("value"))
    sums = {}
    for row in rows:
        key = (row["service_id"] if by_service else None, row["data_element__slug"], row["option__code"],
               row["period_type"], row["period_start"])
        sums[key] = sums.get(key, 0) + row["total"]
    return sums


@pytest.mark.django_db
@pytest.mark.parametrize("approved_only, by_service, totals_only, typed",
                         list(itertools.product([True, False], repeat=4)))
def test_figures_load_gives_what_the_orm_gives(framework, approved_only, by_service, totals_only, typed):
    starts = quarter_starts([Q2, Q3, Q4])
    hub, outreach = framework["hub"], framework["outreach"]
    period_types = PeriodType.values if typed else None
    options_of = ["individuals"] if totals_only else ()
    cases = [
        # By slug, by data element (read by id) and every element; every service and some.
        dict(elements=["enquiries", "individuals"], services=None),
        dict(elements=[framework["individuals"]], services=[hub]),
        dict(elements=None, services=[hub, outreach]),
    ]
    for case in cases:
        loaded = Figures.load(**case, starts=starts, approved_only=approved_only, by_service=by_service,
                              totals_only=totals_only, options_of=options_of, period_types=period_types)
        expected = _orm_sums(**case, starts=starts, approved_only=approved_only, by_service=by_service,
                             totals_only=totals_only, options_of=options_of, period_types=period_types)
        assert loaded.sums == expected, case
        assert all(isinstance(key[4], dt.date) for key in loaded.sums)


@pytest.mark.django_db
def test_figures_load_by_element_id_keeps_only_the_named_elements(framework):
    hub = framework["hub"]
    named = {framework["enquiries"].pk: "enquiries", framework["individuals"].pk: "individuals"}
    loaded = Figures.load(element_slugs=named, services=[hub], starts=quarter_starts([Q3, Q4]), totals_only=True,
                          options_of=["individuals"])
    assert loaded.sums == _orm_sums(elements=["enquiries", "individuals"], services=[hub], starts=quarter_starts([Q3, Q4]),
                                    totals_only=True, options_of=["individuals"])
    # The Hub's approved Q3 only: its Q4 draft is left out, and calls (not named) too.
    assert loaded.quarter_value("enquiries", Q3) == 100 + 101 + 102 and loaded.quarter_value("enquiries", Q4) is None
    assert loaded.options("individuals", Q3) == {"female": 100, "male": 105}
    assert not any(key[1] == "calls" for key in loaded.sums)


@pytest.mark.django_db
def test_figures_load_of_nothing_reads_nothing(framework, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert Figures.load(elements=[], starts=quarter_starts([Q3])).sums == {}
        assert Figures.load(elements=["calls"], services=[], starts=quarter_starts([Q3])).sums == {}
        assert Figures.load(elements=["calls"], starts=[]).sums == {}


@pytest.mark.django_db
def test_a_service_target_rates_the_services_latest_approved_quarter(framework):
    hub, outreach, calls = framework["hub"], framework["outreach"], framework["calls"]
    mine = Target.objects.create(data_element=calls, service=hub, due=dt.date(2024, 3, 31), value=250)
    everyone = Target.objects.create(data_element=calls, service=None, due=dt.date(2024, 3, 31), value=400)
    enquiries = Target.objects.create(data_element=framework["enquiries"], service=outreach, due=dt.date(2024, 3, 31), value=30)
    nothing = Target.objects.create(data_element=framework["individuals"], service=framework["idle"],
                                    due=dt.date(2024, 3, 31), value=5)
    statuses = target_statuses([mine, everyone, enquiries, nothing], today=dt.date(2024, 2, 10))
    # The drafts and submitted returns of Q4 do not count: Q3 is the latest approved quarter.
    assert [(s.actual, s.as_of) for s in statuses[:2]] == [(300, Q3), (300 + 30, Q3)]
    assert (statuses[0].rag, statuses[1].rag) == ("green", "amber")
    # A monthly element has no quarter: its latest month (December) is rated.
    assert (statuses[2].actual, statuses[2].as_of) == (12, Q3)
    assert (statuses[3].actual, statuses[3].rag) == (None, "")


@pytest.mark.django_db
def test_a_target_with_no_recent_figure_finds_its_latest_in_any_year(framework):
    hub, calls = framework["hub"], framework["calls"]
    target = Target.objects.create(data_element=calls, service=hub, due=dt.date(2024, 3, 31), value=250)
    everyone = Target.objects.create(data_element=calls, service=None, due=dt.date(2024, 3, 31), value=250)
    # Two years on, nothing was reported in the last twelve months: Q3 2023/24 is still the latest.
    statuses = target_statuses([target, everyone], today=dt.date(2026, 2, 10))
    assert [(s.actual, s.as_of, s.rag) for s in statuses] == [(300, Q3, "green"), (330, Q3, "green")]
    # Unapproved figures count when asked for, as the report's internal version does.
    statuses = target_statuses([target], today=dt.date(2026, 2, 10), approved_only=False)
    assert (statuses[0].actual, statuses[0].as_of) == (3300, Q4)


@pytest.mark.django_db
def test_a_quarter_is_rated_before_the_month_starting_it(framework):
    hub, enquiries = framework["hub"], framework["enquiries"]
    approved = DataReturn.objects.get(service=hub, quarter_start=Q3.start)
    DataValue.objects.create(data_element=enquiries, service=hub, period_type=QT, period_start=Q3.start, value=303,
                             data_return=approved)
    target = Target.objects.create(data_element=enquiries, service=hub, due=dt.date(2024, 3, 31), value=250)
    [status] = target_statuses([target], today=dt.date(2024, 2, 10))
    assert (status.actual, status.as_of) == (303, Q3)


@pytest.mark.django_db
def test_a_services_summary_shows_its_own_and_the_partnerships_targets(framework):
    hub, outreach, calls = framework["hub"], framework["outreach"], framework["calls"]
    other = DataElement.objects.create(slug="not-the-hubs", name="Not the Hub's", order=9)
    other.services.add(outreach)
    own = Target.objects.create(data_element=calls, service=hub, due=dt.date(2024, 3, 31), value=250)
    shared = Target.objects.create(data_element=calls, service=None, due=dt.date(2024, 3, 31), value=400)
    Target.objects.create(data_element=calls, service=outreach, due=dt.date(2024, 3, 31), value=20)
    Target.objects.create(data_element=other, service=None, due=dt.date(2024, 3, 31), value=20)
    page = dashboards.service_dashboard(slug="hub", quarter=Q3)
    assert [s.target for s in page.target_statuses] == [own, shared]
    assert [s.actual for s in page.target_statuses] == [300, 330]


@pytest.mark.django_db
def test_the_year_on_year_form_offers_every_element_and_the_reporting_services(framework):
    page = dashboards.year_on_year_page(element_slug=None, quarter=Q3, years=2, service_slug="outreach")
    assert [(c.slug, c.name) for c in page.elements] == [("enquiries", "Enquiries"), ("individuals", "Individuals"),
                                                        ("calls", "Calls")]
    assert [c.slug for c in page.services] == ["outreach", "hub"]  # the idle service reports nothing
    # With no element asked for, the first monthly one; over the one service asked for.
    assert page.element == framework["enquiries"] and page.service.slug == "outreach"
    assert page.comparison.table.rows[0][1:3] == [None, 10]
