"""A strategy's figures on its own pages: the data elements and services linked to its items (and
the items below them) with their latest approved figures, a link to the full figures page, and a
number of queries that does not grow with the figures linked."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saferhub.commissioning.models import Service
from saferhub.core.factories import StrategyFactory, StrategyItemFactory
from saferhub.performance.models import DataElement, DataReturn, DataValue, PeriodType, ReturnStatus
from saferhub.performance.periods import FinancialQuarter
from saferhub.performance.selectors import strategy_figures
from saferhub.performance.tests.performance_demo import performance_demo_load
from saferhub.publishing.tests.text import html_text
from saferhub.strategy.models import StrategyItem

Q3 = FinancialQuarter.parse("2023/24-Q3")
VAWG = "/strategies/joint-vawg-strategy/"
DA = "/strategies/domestic-abuse-strategy-2024-28/"
IDAS_SERVICES = ["IDAS Domestic Abuse Victims Accommodation Based Services",
                 "IDAS Domestic Abuse Victims Community Based Support", "IDAS Target Hardening"]


@pytest.fixture
def demo(db, client, make_user):
    performance_demo_load()
    client.force_login(make_user(username="analyst"))
    return client


def figures_section(client, url) -> str:
    """The text of the page's Figures section, one line, or "" when the page has none."""
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    start = html.find('id="figures"')
    if start < 0:
        return ""
    return one_line(html_text(html[start:html.find("<h2", start)].partition(">")[2]))


def one_line(text: str) -> str:
    return " ".join(text.split())


def item(strategy_slug: str, code: str) -> StrategyItem:
    return StrategyItem.objects.select_related("strategy").get(strategy__slug=strategy_slug, code=code)


# --- The demo's strategies ----------------------------------------------------------------------

@pytest.mark.django_db
def test_vawg_strategy_page_shows_the_trained_solos(demo):
    section = figures_section(demo, VAWG)
    # 24 trained by December 2022, 37 by June 2023: the latest approved figure is the one shown.
    assert "Trained Sexual Offences Liaison Officers (SOLOs) Objective 3 37 Q1 2023/24" in section
    assert "IDAS Domestic Abuse Victims Community Based Support IDAS Objective 5 Enquiries received by the Hub: 2,491 (Q3 2023/24)" in section
    assert "Foundation +Choices Support Services for Adult Perpetrators of Domestic Abuse Foundation Objective 6 By breakdown only (Q3 2023/24)" in section


@pytest.mark.django_db
def test_domestic_abuse_strategy_page_shows_the_idas_services(demo):
    section = figures_section(demo, DA)
    for name in IDAS_SERVICES:
        assert name in section
    assert "Commitment 3.2.1 Enquiries received by the Hub: 2,491 (Q3 2023/24)" in section
    assert "Commitment 3.2.3 Helpline enquiries about safe accommodation: 246 (Q3 2023/24)" in section
    assert "Trained Sexual Offences" not in section  # linked to the VAWG strategy only


@pytest.mark.django_db
def test_item_page_shows_the_figures_linked_to_it_or_below_it(demo):
    priority = item("domestic-abuse-strategy-2024-28", "3.2.1").parent
    section = figures_section(demo, priority.get_absolute_url())
    assert "linked to this priority and the items below it" in section
    for name in IDAS_SERVICES:
        assert name in section
    assert "Foundation" not in section  # linked to 3.4.1, under another priority
    commitment = figures_section(demo, item("domestic-abuse-strategy-2024-28", "3.2.1").get_absolute_url())
    assert "IDAS Domestic Abuse Victims Community Based Support" in commitment
    assert "Accommodation" not in commitment and "Target Hardening" not in commitment
    # An item with nothing linked to it or below it has no Figures section.
    assert figures_section(demo, item("domestic-abuse-strategy-2024-28", "3.1.1").get_absolute_url()) == ""


@pytest.mark.django_db
def test_pages_link_to_the_full_figures_page(demo):
    html = demo.get(VAWG).content.decode()
    assert 'href="/performance/strategies/joint-vawg-strategy/"' in html
    objective = item("joint-vawg-strategy", "Objective 3")
    html = demo.get(objective.get_absolute_url()).content.decode()
    full = f"/performance/strategies/joint-vawg-strategy/?item={objective.pk}"
    assert f'href="{full}"' in html
    assert "Trained Sexual Offences Liaison Officers (SOLOs)" in html_text(demo.get(full).content.decode())
    # The services link to their own figures.
    assert 'href="/performance/services/nyp-solo-programme/"' in html


@pytest.mark.django_db
def test_figures_not_yet_approved_are_not_shown(demo, manager):
    solos = DataElement.objects.get(slug="trained-solos")
    service = Service.objects.get(slug="nyp-solo-programme")
    q2 = FinancialQuarter.parse("2023/24-Q2")
    for status in (ReturnStatus.DRAFT, ReturnStatus.SUBMITTED):
        DataReturn.objects.filter(service=service, quarter_start=q2.start).delete()
        data_return = DataReturn.objects.create(service=service, quarter_start=q2.start, status=status)
        DataValue.objects.create(data_element=solos, service=service, period_type=PeriodType.QUARTER,
                                 period_start=q2.start, value=45, data_return=data_return)
        section = figures_section(demo, VAWG)
        assert "(SOLOs) Objective 3 37 Q1 2023/24" in section
        assert "45" not in section
    DataReturn.objects.filter(service=service, quarter_start=q2.start).update(status=ReturnStatus.APPROVED)
    assert "(SOLOs) Objective 3 45 Q2 2023/24" in figures_section(demo, VAWG)


# --- Synthetic strategies -----------------------------------------------------------------------

@pytest.fixture
def framework(db, other_organisation):
    """A strategy with two objectives, the first with an outcome below it."""
    strategy = StrategyFactory(slug="safer", title="Safer Streets")
    first = StrategyItemFactory(strategy=strategy, order=1, code="Objective 1", title="Prevent")
    outcome = StrategyItemFactory(strategy=strategy, parent=first, order=1, code="Outcome 1.1", title="Fewer offences")
    second = StrategyItemFactory(strategy=strategy, order=2, code="Objective 2", title="Support")
    return {"strategy": strategy, "first": first, "outcome": outcome, "second": second, "provider": other_organisation}


def add_figures(framework, n: int, *, item, values: dict) -> tuple[DataElement, Service]:
    """A service and a data element linked to `item`, with approved quarterly figures (quarter's
    first day -> value)."""
    service = Service.objects.create(slug=f"service-{n}", name=f"Service {n}", provider=framework["provider"])
    element = DataElement.objects.create(slug=f"element-{n}", name=f"Element {n}", order=n)
    element.services.add(service)
    element.strategy_items.add(item)
    service.strategy_items.add(item)
    for start, value in values.items():
        data_return = DataReturn.objects.create(service=service, quarter_start=start, status=ReturnStatus.APPROVED)
        DataValue.objects.create(data_element=element, service=service, data_return=data_return, value=value,
                                 period_type=PeriodType.QUARTER, period_start=start)
    return element, service


@pytest.mark.django_db
def test_a_strategy_takes_in_every_item_and_an_item_the_items_below_it(framework):
    solo, _ = add_figures(framework, 1, item=framework["outcome"], values={Q3.start: 10})
    other, _ = add_figures(framework, 2, item=framework["second"], values={Q3.start: 20})
    other.strategy_items.add(framework["first"])
    whole = strategy_figures(strategy=framework["strategy"])
    assert [(f.element.slug, [i.code for i in f.items], f.value) for f in whole.elements] == [
        ("element-1", ["Outcome 1.1"], 10), ("element-2", ["Objective 1", "Objective 2"], 20)]
    assert [s.service.slug for s in whole.services] == ["service-1", "service-2"]
    assert whole.url == "/performance/strategies/safer/"
    first = strategy_figures(strategy=framework["strategy"], item=framework["first"])
    assert [(f.element.slug, [i.code for i in f.items]) for f in first.elements] == [
        ("element-1", ["Outcome 1.1"]), ("element-2", ["Objective 1"])]
    assert [s.service.slug for s in first.services] == ["service-1"]
    assert first.url == f"/performance/strategies/safer/?item={framework['first'].pk}"
    assert not strategy_figures(strategy=StrategyFactory())


@pytest.mark.django_db
def test_latest_figure_is_a_whole_quarter(framework):
    """A monthly element's quarter counts once all three months are in; until then the quarter
    before is its latest figure."""
    q2 = Q3.previous()
    values = {q2.months[0]: 1, q2.months[1]: 2, q2.months[2]: 3, Q3.months[0]: 4, Q3.months[1]: 5}
    service = Service.objects.create(slug="monthly", name="Monthly", provider=framework["provider"])
    element = DataElement.objects.create(slug="monthly", name="Monthly", frequency="monthly")
    element.services.add(service)
    element.strategy_items.add(framework["second"])
    for quarter in (q2, Q3):
        data_return = DataReturn.objects.create(service=service, quarter_start=quarter.start, status=ReturnStatus.APPROVED)
        for month in quarter.months:
            if month in values:
                DataValue.objects.create(data_element=element, service=service, data_return=data_return,
                                         period_type=PeriodType.MONTH, period_start=month, value=values[month])
    [linked] = strategy_figures(strategy=framework["strategy"]).elements
    assert (linked.quarter, linked.value, linked.value_text) == (q2, 6, "6")
    DataValue.objects.create(data_element=element, service=service, data_return=DataReturn.objects.get(quarter_start=Q3.start),
                             period_type=PeriodType.MONTH, period_start=Q3.months[2], value=6)
    [linked] = strategy_figures(strategy=framework["strategy"]).elements
    assert (linked.quarter, linked.value) == (Q3, 15)


@pytest.mark.django_db
def test_an_element_with_no_approved_figure_says_so(framework, client, viewer):
    element = DataElement.objects.create(slug="new", name="A figure not yet reported")
    element.strategy_items.add(framework["first"])
    client.force_login(viewer)
    section = figures_section(client, "/strategies/safer/")
    assert "A figure not yet reported Objective 1 None approved yet" in section


@pytest.mark.django_db
def test_a_strategy_with_nothing_linked_says_so(framework, client, viewer):
    client.force_login(viewer)
    assert "No figures are linked to this strategy's items yet." in figures_section(client, "/strategies/safer/")


@pytest.mark.django_db
def test_strategy_and_item_page_queries_do_not_grow_with_the_figures_linked(framework, client, viewer):
    client.force_login(viewer)
    q2 = Q3.previous()
    pages = ["/strategies/safer/", framework["first"].get_absolute_url()]

    def queries() -> list[int]:
        counted = []
        for page in pages:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(page).status_code == 200
            counted.append(len(captured))
        return counted

    add_figures(framework, 1, item=framework["outcome"], values={Q3.start: 10, q2.start: 8})
    few = queries()
    for n in range(2, 14):
        add_figures(framework, n, item=[framework["first"], framework["outcome"], framework["second"]][n % 3],
                    values={Q3.start: n, q2.start: n - 1})
    many = queries()
    assert many == few
    assert figures_section(client, "/strategies/safer/").count("Q3 2023/24") >= 13
