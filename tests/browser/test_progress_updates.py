"""Progress Update pages in a real browser: drafting, previewing, publishing and the public page
pass axe-core's WCAG 2 A/AA checks and raise no CSP errors."""
from playwright.sync_api import expect
import datetime as dt

import pytest

from saferhub.core.factories import ActionFactory, ReportingPeriodFactory, StrategyFactory, StrategyItemFactory
from saferhub.strategy.models import ActionStatus, ProgressUpdate


@pytest.fixture
def strategy_with_progress(organisation):
    strategy = StrategyFactory(slug="browser-strategy", title="Browser Test Strategy",
                               background="Opening paragraph.\n\n- A bullet\n- Another")
    period = ReportingPeriodFactory(label="June 2023", start=dt.date(2023, 1, 1), end=dt.date(2023, 6, 30))
    objective = StrategyItemFactory(strategy=strategy, code="Objective 1", title="Listen", order=1)
    outcome = StrategyItemFactory(strategy=strategy, parent=objective, code="Outcome 1.1", title="Engage", order=1)
    aim = StrategyItemFactory(strategy=strategy, parent=outcome, code="Aim 1.1.1", title="Consult", order=1)
    done = ActionFactory(item=aim, title="Survey", leads=[organisation])
    ActionFactory(item=aim, title="Still to report", leads=[organisation])
    ProgressUpdate.objects.create(action=done, period=period, status=ActionStatus.ON_TRACK,
                                  actions_taken="Survey ran.\n- In March\n- In April", next_steps="Run it again.")
    return strategy


@pytest.mark.django_db(transaction=True)
def test_draft_preview_publish_and_public_page(page, axe, sign_in, manager, strategy_with_progress):
    sign_in("manager")
    page.goto("/reports/")
    axe(page)
    page.get_by_role("link", name="Create a Progress Update of the Browser Test Strategy").click()
    axe(page)
    page.get_by_label("Reporting period").select_option(label="June 2023")
    page.get_by_role("button", name="Save draft").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Browser Test Strategy – Progress Update – June 2023"
    expect(page.get_by_text("In April")).to_be_visible()
    page.get_by_text("1 open action has no progress recorded for June 2023").click()
    axe(page)

    page.get_by_role("button", name="Publish this update").click()
    axe(page)
    page.get_by_role("button", name="Publish this update").click()
    expect(page.get_by_text("Published on")).to_be_visible()
    axe(page)

    page.context.clear_cookies()
    page.goto("/reports/published/browser-strategy/june-2023/")
    expect(page.get_by_role("heading", level=3, name="Objective 1: Listen").first).to_be_visible()
    axe(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF (tagged for screen readers, A4)").click()
    assert download.value.suggested_filename == "browser-strategy-progress-update-june-2023.pdf"


@pytest.mark.django_db(transaction=True)
def test_create_form_errors_are_accessible(page, axe, sign_in, manager, strategy_with_progress):
    sign_in("manager")
    page.goto("/reports/new/")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    axe(page)
