"""The performance dashboards in a real browser: no accessibility violations, chart images that
load under the Content Security Policy, and the figures beside them."""
from playwright.sync_api import expect
import pytest

from saferhub.performance.tests.performance_demo import performance_demo_load

PAGES = [
    "/performance/",
    "/performance/services/idas-community-based-support/",
    "/performance/services/idas-community-based-support/figures/hub-enquiries/",
    "/performance/services/idas-community-based-support/figures/hub-individuals/",
    "/performance/services/idas-target-hardening/",
    "/performance/services/foundation-plus-choices/",
    "/performance/services/foundation-plus-choices/figures/perpetrator-referrals/",
    "/performance/services/nyp-solo-programme/",
    "/performance/strategies/joint-vawg-strategy/",
    "/performance/year-on-year/?element=hub-enquiries&years=3",
    "/performance/reports/",
]


@pytest.mark.django_db(transaction=True)
def test_performance_pages_are_accessible_and_their_charts_load(page, axe, sign_in, make_user):
    performance_demo_load()
    make_user(username="analyst")
    sign_in("analyst")
    for url in PAGES:
        page.goto(url)
        axe(page)
        images = page.locator("img[src*='/charts/']")
        for n in range(images.count()):
            image = images.nth(n)
            image.scroll_into_view_if_needed()
            page.wait_for_function("img => img.complete", arg=image.element_handle())
            assert image.evaluate("img => img.naturalWidth") > 0, f"{url}: chart {image.get_attribute('src')} did not load"
            assert image.get_attribute("alt")
    # From the service's summary, a figure's name leads to its page with its charts and tables.
    page.goto(PAGES[1])
    page.get_by_role("link", name="Enquiries received by the Hub", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Enquiries received by the Hub")).to_be_visible()
    expect(page.get_by_role("table", name="Enquiries received by the Hub by month, October to December, 2021/22 to 2023/24")).to_be_visible()
    page.get_by_role("link", name="Next figure").click()
    expect(page.get_by_role("heading", level=1, name="Individuals the enquiries were for")).to_be_visible()