"""The performance dashboards: who may see them, the demo's numbers as seed 002 gives them, exact
figures (no disclosure control inside), approved returns only, chart images, table downloads, and a
number of queries that does not grow with the years or elements held."""
import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saferhub.commissioning.models import Service
from saferhub.performance import dashboards
from saferhub.performance.models import (
    Breakdown, BreakdownOption, DataElement, DataReturn, DataValue, Frequency, PeriodType, ReturnStatus,
)
from saferhub.performance.periods import FinancialQuarter, add_months
from saferhub.performance.tables import Change
from saferhub.performance.tests.performance_demo import performance_demo_load
from saferhub.publishing.tests.text import html_text, missing_in_order
from saferhub.strategy.models import StrategyItem

Q3 = FinancialQuarter.parse("2023/24-Q3")
CBS = "/performance/services/idas-community-based-support/"
ENQUIRIES = CBS + "figures/hub-enquiries/"


@pytest.fixture
def demo(db, client, make_user):
    performance_demo_load()
    # Signed in after the demo load, which resets the demo's own accounts.
    client.force_login(make_user(username="analyst"))
    return client


def page_text(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return html_text(response.content.decode())


# --- Who may see them ---------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/performance/", CBS, "/performance/year-on-year/", "/performance/reports/",
                                 "/performance/strategies/joint-vawg-strategy/",
                                 ENQUIRIES, ENQUIRIES + "charts/hub-enquiries-year-on-year.svg", CBS + "tables/summary.csv",
                                 ENQUIRIES + "tables/hub-enquiries-year-on-year.csv"])
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/")


@pytest.mark.django_db
def test_every_page_answers_a_viewer(demo):
    for url in ["/performance/", CBS, "/performance/services/idas-accommodation-based-services/",
                "/performance/services/idas-target-hardening/", "/performance/services/foundation-plus-choices/",
                "/performance/services/nyp-solo-programme/", "/performance/services/knife-bin-rollout/",
                ENQUIRIES, CBS + "figures/hub-individuals/", CBS + "figures/hub-contact-outcome/",
                "/performance/services/foundation-plus-choices/figures/perpetrator-referrals/",
                "/performance/services/nyp-solo-programme/figures/trained-solos/",
                "/performance/strategies/joint-vawg-strategy/", "/performance/strategies/domestic-abuse-strategy-2024-28/",
                "/performance/strategies/inclusive-communities/", "/performance/year-on-year/", "/performance/reports/"]:
        response = demo.get(url)
        assert response.status_code == 200, url
        assert "<script>" not in response.content.decode()  # no inline scripts: the CSP forbids them


@pytest.mark.django_db
def test_unknown_service_strategy_table_and_chart_are_not_found(demo):
    assert demo.get("/performance/services/nope/").status_code == 404
    assert demo.get("/performance/strategies/nope/").status_code == 404
    assert demo.get(CBS + "tables/nope.csv").status_code == 404
    assert demo.get(CBS + "tables/summary.pdf").status_code == 404
    assert demo.get(CBS + "charts/nope.svg").status_code == 404
    assert demo.get(CBS + "figures/nope/").status_code == 404
    assert demo.get(CBS + "figures/perpetrator-referrals/").status_code == 404  # another service's figure
    assert demo.get(ENQUIRIES + "charts/nope.svg").status_code == 404
    assert demo.get(ENQUIRIES + "tables/nope.csv").status_code == 404


# --- The demo's numbers -------------------------------------------------------------------------

@pytest.mark.django_db
def test_service_page_lists_every_figure_with_the_quarter_and_a_year_before(demo):
    text = page_text(demo, CBS)
    assert "Enquiries received by the Hub 2,491 2,356 up 5.7%" in text  # summary: the quarter, a year before, change
    assert "Individuals the enquiries were for 1,627" in text
    assert "Enquiries per individual 1.53" in text  # computed indicator: 2,491 ÷ 1,627
    page = demo.get(CBS).content.decode()
    for slug in ["hub-enquiries", "hub-individuals", "hub-contact-outcome"]:
        assert f'href="{CBS}figures/{slug}/?quarter=2023-24-q3"' in page
    # Referrals to +Choices are reported by type only: the summary says so rather than "Not reported".
    text = page_text(demo, "/performance/services/foundation-plus-choices/")
    assert "Referrals to +Choices No total reported No total reported No comparison" in text



def test_figure_links_are_reversed_once_and_match_reverse_for_any_slugs():
    from django.urls import reverse

    from saferhub.performance.views_dashboards import _figure_links

    # The marker the link is reversed with may be part of the service's slug, or be an element's.
    for service_slug in ["idas-community-based-support", "figure-slug", "a-figure-slug-b"]:
        link = _figure_links(service_slug, Q3)
        for element_slug in ["hub-enquiries", "figure-slug", "x"]:
            expected = reverse("performance:service_element", args=[service_slug, element_slug]) + "?quarter=2023-24-q3"
            assert link(element_slug) == expected

@pytest.mark.django_db
def test_headline_figures_are_those_with_a_target_or_a_strategy_item(demo):
    text = page_text(demo, "/performance/services/nyp-solo-programme/")
    assert "Headline figures" in text
    assert "Target 50 by 31 December 2023: Red Missed: the target was due 31 December 2023" in text
    assert "Headline figures" not in page_text(demo, "/performance/services/foundation-plus-choices/")


@pytest.mark.django_db
def test_figure_page_shows_the_year_on_year_months(demo):
    text = page_text(demo, ENQUIRIES)
    assert "Enquiries received by the Hub" in text and "figure 1 of 3" in text
    assert not missing_in_order(text, [
        "Month 2021/22 2022/23 2023/24 Change 2022/23 to 2023/24",
        "October 701 800 867 up 8.4%", "November 710 787 887 up 12.7%", "December 767 769 737 down 4.2%",
        "Q3 total 2,178 2,356 2,491 up 5.7%",
    ])
    assert not missing_in_order(text, ["Next figure", "Individuals the enquiries were for"])  # on to the next figure


@pytest.mark.django_db
def test_service_page_shows_exact_small_counts(demo):
    text = page_text(demo, "/performance/services/idas-target-hardening/figures/target-hardening-items/")
    assert "Doorbell camera 1" in text and "[c]" not in text
    text = page_text(demo, CBS + "figures/hub-individuals/")
    assert "Declined to provide information 1" in text


@pytest.mark.django_db
def test_breakdown_compares_with_the_same_quarter_a_year_before(demo):
    text = page_text(demo, "/performance/services/foundation-plus-choices/figures/perpetrator-referrals/")
    assert "Referral type Q3 2023/24 Q3 2022/23 Change" in text
    assert "DA Perpetrators 32 46 down 30.4%" in text
    assert "Stalking interventions 0 9 down 100%" in text


@pytest.mark.django_db
def test_overview_lists_services_and_rates_the_solo_target(demo):
    text = page_text(demo, "/performance/")
    assert "IDAS Domestic Abuse Victims Community Based Support IDAS Q3 2023/24 Approved Enquiries received by the Hub: 2,491" in text
    assert "Trained Sexual Offences Liaison Officers (SOLOs)" in text
    assert "50 31 December 2023 37 (Q1 2023/24) Red Missed: the target was due 31 December 2023 (37 against 50, Q1 2023/24)" in text
    assert "Figures for the Joint Violence Against Women and Girls Strategy" in text


@pytest.mark.parametrize("previous, current, unit, polarity, words", [
    (100, 105.8, "count", "higher", "up 5.8% (better)"),
    (100, 105.8, "count", "lower", "up 5.8% (worse)"),
    (100, 90, "count", "lower", "down 10% (better)"),
    (2356, 2491, "count", "neutral", "up 5.7%"),
    (30, 32, "percent", "higher", "up 2 percentage points (better)"),
    (50, 50, "count", "higher", "no change"),
    (0, 5, "count", "neutral", ""),
])
def test_polarity_shapes_the_wording_of_a_change(previous, current, unit, polarity, words):
    assert Change(previous, current, unit, polarity).text_with_assessment == words


@pytest.mark.django_db
def test_strategy_figures_follow_the_items_and_the_items_below(demo):
    text = page_text(demo, "/performance/strategies/joint-vawg-strategy/")
    assert "Trained Sexual Offences Liaison Officers (SOLOs)" in text
    assert "Latest figure 37 (Q1 2023/24)" in text  # the page shows Q3 2023/24, when no SOLO figure came in
    assert "IDAS Domestic Abuse Victims Community Based Support" in text  # the service linked to Objective 5
    objective_3 = StrategyItem.objects.get(strategy__slug="joint-vawg-strategy", code="Objective 3")
    below = objective_3.children.first()
    DataElement.objects.get(slug="hub-individuals").strategy_items.add(below)
    text = page_text(demo, f"/performance/strategies/joint-vawg-strategy/?item={objective_3.pk}")
    assert "Trained Sexual Offences Liaison Officers (SOLOs)" in text
    assert "Individuals the enquiries were for" in text  # linked to an item below Objective 3
    assert "IDAS Domestic Abuse Victims Community Based Support" not in text


@pytest.mark.django_db
def test_strategy_without_figures_says_so(demo):
    assert "No figures are linked to this strategy's items yet." in page_text(demo, "/performance/strategies/inclusive-communities/")


@pytest.mark.django_db
def test_year_on_year_page(demo):
    text = page_text(demo, "/performance/year-on-year/?element=hub-enquiries&quarter=2023-24-q3&years=3")
    assert "October 701 800 867 up 8.4%" in text
    text = page_text(demo, "/performance/year-on-year/?element=perpetrator-referrals&quarter=2023-24-q3&years=2")
    assert "Q3 2022/23 Not reported" in text  # referrals are reported by type only, with no total


# --- Approved returns only ----------------------------------------------------------------------

@pytest.mark.django_db
def test_a_draft_returns_figures_do_not_show(demo):
    service = Service.objects.get(slug="idas-community-based-support")
    draft = DataReturn.objects.create(service=service, quarter_start=Q3.next().start, status=ReturnStatus.DRAFT)
    element = DataElement.objects.get(slug="hub-enquiries")
    DataValue.objects.bulk_create([
        DataValue(data_element=element, service=service, period_type=PeriodType.MONTH, period_start=m, value=9999 - n,
                  data_return=draft) for n, m in enumerate(Q3.next().months)])
    text = page_text(demo, CBS)
    assert "Q3 2023/24 return: Approved" in text  # the latest approved quarter is still the default
    text = page_text(demo, CBS + "?quarter=2023-24-q4")
    assert "This return has not been approved yet." in text and "9,999" not in text


# --- Charts and downloads -----------------------------------------------------------------------

@pytest.mark.django_db
def test_chart_images_are_svg_with_their_alt_text_in_the_page(demo):
    page = demo.get(ENQUIRIES).content.decode()
    chart = dashboards.service_element_page(slug="idas-community-based-support", element_slug="hub-enquiries").chart(
        "hub-enquiries-year-on-year")
    # The page names its quarter in each image's address, so an image need not work it out again.
    src = ENQUIRIES + "charts/hub-enquiries-year-on-year.svg?quarter=2023-24-q3"
    assert f'src="{src}" alt="{chart.alt}"' in page
    response = demo.get(src)
    assert response["Content-Type"].startswith("image/svg+xml")
    assert b">867<" in response.content
    again = demo.get(src, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert demo.get(ENQUIRIES + "charts/hub-enquiries-year-on-year.svg")["ETag"] == response["ETag"]  # the same default quarter


@pytest.mark.django_db
def test_tables_download_as_csv_and_xlsx(demo):
    response = demo.get(ENQUIRIES + "tables/hub-enquiries-year-on-year.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Month", "2021/22", "2022/23", "2023/24", "Change 2022/23 to 2023/24"]
    assert rows[1] == ["October", "701", "800", "867", "8.4"]
    response = demo.get(ENQUIRIES + "tables/hub-enquiries-year-on-year.xlsx?quarter=2023-24-q3")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value.startswith("Enquiries received by the Hub by month")
    assert [c.value for c in sheet[3]] == ["October", 701, 800, 867, 8.4]


@pytest.mark.django_db
def test_every_table_on_a_page_has_a_caption_and_a_download(demo):
    base = "/performance/services/idas-accommodation-based-services/"
    pages = [(base, dashboards.service_dashboard(slug="idas-accommodation-based-services"))]
    pages += [(f"{base}figures/{row.element.slug}/",
               dashboards.service_element_page(slug="idas-accommodation-based-services", element_slug=row.element.slug))
              for row in pages[0][1].rows]
    assert len(pages) == 6 and sum(len(built.all_blocks()) for _, built in pages) >= 7
    for url, built in pages:
        page = demo.get(url).content.decode()
        assert page.count("<table") == page.count("<caption")
        for block in built.all_blocks():
            assert f"tables/{block.table.key}.csv" in page
            assert demo.get(f"{url}tables/{block.table.key}.xlsx").status_code == 200


# --- Rolling twelve months and query counts (synthetic data) ------------------------------------

def _framework(provider, slug, *, elements: int, years: int, gender=None):
    """A service reporting `elements` figures (alternately monthly, and quarterly by gender) in
    approved returns for every quarter of `years` years up to Q3 2023/24."""
    service = Service.objects.create(slug=slug, name=slug.title(), provider=provider)
    if gender is None:
        gender, _ = Breakdown.objects.get_or_create(slug="gender", defaults={"name": "Gender"})
        for n, code in enumerate(["female", "male"]):
            BreakdownOption.objects.get_or_create(breakdown=gender, code=code, defaults={"label": code.title(), "order": n})
    options = list(gender.options.all())
    made = []
    for k in range(elements):
        monthly = k % 2 == 0
        element = DataElement.objects.create(slug=f"{slug}-e{k}", name=f"Figure {k}", order=k,
                                             frequency=Frequency.MONTHLY if monthly else Frequency.QUARTERLY,
                                             breakdown=None if monthly else gender)
        element.services.add(service)
        made.append(element)
    quarter, values = Q3, []
    for _ in range(years * 4):
        data_return = DataReturn.objects.create(service=service, quarter_start=quarter.start, status=ReturnStatus.APPROVED)
        for element in made:
            if element.frequency == Frequency.MONTHLY:
                values += [DataValue(data_element=element, service=service, period_type=PeriodType.MONTH, period_start=m,
                                     value=10 + n, data_return=data_return) for n, m in enumerate(quarter.months)]
            else:
                values += [DataValue(data_element=element, service=service, period_type=PeriodType.QUARTER,
                                     period_start=quarter.start, option=o, value=20, data_return=data_return) for o in options]
        quarter = quarter.previous()
    DataValue.objects.bulk_create(values)
    return service


def _queries(function) -> int:
    with CaptureQueriesContext(connection) as captured:
        function()
    return len(captured)


@pytest.mark.django_db
def test_service_dashboard_queries_do_not_grow_with_years_or_elements(other_organisation):
    small = _framework(other_organisation, "small", elements=2, years=2)
    large = _framework(other_organisation, "large", elements=12, years=10)
    count_small = _queries(lambda: dashboards.service_dashboard(slug=small.slug))
    count_large = _queries(lambda: dashboards.service_dashboard(slug=large.slug))
    assert count_small == count_large <= 12


@pytest.mark.django_db
def test_overview_and_strategy_queries_do_not_grow_with_services(other_organisation):
    _framework(other_organisation, "first", elements=2, years=1)
    one = _queries(dashboards.overview)
    for n in range(5):
        _framework(other_organisation, f"more-{n}", elements=3, years=3)
    assert _queries(dashboards.overview) == one


@pytest.mark.django_db
def test_dashboard_page_queries_are_bounded(client, make_user, other_organisation):
    service = _framework(other_organisation, "big", elements=20, years=10)
    client.force_login(make_user(username="analyst"))
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/performance/services/{service.slug}/").status_code == 200
    assert len(captured) <= 16
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/performance/services/{service.slug}/figures/{service.slug}-e3/").status_code == 200
    assert len(captured) <= 16


def _figure_reads(captured) -> list[str]:
    return [q["sql"] for q in captured if "performance_datavalue" in q["sql"]]


@pytest.mark.django_db
def test_a_chart_image_reads_only_its_own_figure(client, make_user, other_organisation):
    small = _framework(other_organisation, "small", elements=2, years=2)
    large = _framework(other_organisation, "large", elements=12, years=10)
    client.force_login(make_user(username="analyst"))
    counts = []
    for service in (small, large):
        url = f"/performance/services/{service.slug}/figures/{service.slug}-e1/charts/{service.slug}-e1-by-gender.svg?quarter=2023-24-q3"
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"].startswith("image/svg+xml")
        reads = _figure_reads(captured)
        # One read of figures, of that element only (its slug is the one value it names).
        assert len(reads) == 1
        assert f"'{service.slug}-e1'" in reads[0] and f"'{service.slug}-e0'" not in reads[0]
        counts.append(len(captured))
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_a_strategy_chart_reads_only_its_own_figure(demo):
    page = demo.get("/performance/strategies/joint-vawg-strategy/").content.decode()
    objective_3 = StrategyItem.objects.get(strategy__slug="joint-vawg-strategy", code="Objective 3")
    src = f"/performance/strategies/joint-vawg-strategy/charts/item-{objective_3.pk}-trained-solos-trend.svg?quarter=2023-24-q3"
    assert f'src="{src}"' in page
    with CaptureQueriesContext(connection) as captured:
        response = demo.get(src)
    assert response.status_code == 200 and response["Content-Type"].startswith("image/svg+xml")
    assert len(_figure_reads(captured)) == 1
    # The same chart drawn from the whole page gives the same image.
    whole = dashboards.strategy_dashboard(slug="joint-vawg-strategy", quarter=Q3).chart(f"item-{objective_3.pk}-trained-solos-trend")
    assert response["ETag"] == f'"{whole.digest}"'
    other = StrategyItem.objects.get(strategy__slug="joint-vawg-strategy", code="Objective 5")
    assert demo.get(f"/performance/strategies/joint-vawg-strategy/charts/item-{objective_3.pk}-trained-solos-trend.svg"
                    f"?quarter=2023-24-q3&item={other.pk}").status_code == 404  # not on a page narrowed to another item


@pytest.mark.django_db
def test_rolling_twelve_months_when_every_month_is_reported(client, make_user, other_organisation):
    service = _framework(other_organisation, "monthly", elements=1, years=3)
    client.force_login(make_user(username="analyst"))
    text = page_text(client, f"/performance/year-on-year/?element={service.slug}-e0&quarter=2023-24-q3&years=3")
    # Each quarter's months hold 10, 11 and 12: 132 in any twelve months. Returns go back to
    # Q4 2020/21 (January 2021), so the twelve months to October 2021 are not all there.
    assert "12 months to October Not reported 132 132 no change" in text
    assert "12 months to December 132 132 132 no change" in text
    text = page_text(client, f"/performance/services/{service.slug}/figures/{service.slug}-e0/")
    assert "Rolling 12 months to December 2023: 132, no change on the 12 months to December 2022 (132)." in text


@pytest.mark.django_db
def test_quarter_parameter_accepts_both_spellings():
    assert dashboards.quarter_from_param("2023-24-q3") == Q3
    assert dashboards.quarter_from_param("2023/24-Q3") == Q3
    assert dashboards.quarter_from_param("nonsense") is None


def test_months_helper_is_consistent():
    assert add_months(dt.date(2023, 12, 1), 1) == dt.date(2024, 1, 1)
