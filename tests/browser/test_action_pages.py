"""One action's page, recording progress and the strategy editing forms, in a real browser, with
axe-core checking each page and each page with errors."""
from playwright.sync_api import expect
import datetime as dt
import os

import pytest

from saferhub.core.factories import (
    ActionFactory,
    GovernanceBodyFactory,
    ReportingPeriodFactory,
    StrategyFactory,
    StrategyItemFactory,
)
from saferhub.partners.models import Role
from saferhub.strategy import services

# Set SAFERHUB_SCREENSHOTS=/some/dir to keep a picture of each page visited.
SHOTS = os.environ.get("SAFERHUB_SCREENSHOTS")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.fixture
def action(organisation, other_organisation):
    strategy = StrategyFactory(slug="joint-vawg-strategy", title="Joint VAWG Strategy", short_title="VAWG Strategy")
    objective = StrategyItemFactory(strategy=strategy, code="Objective 1", title="Listening to all women and girls")
    outcome = StrategyItemFactory(strategy=strategy, parent=objective, code="Outcome 1.1",
                                  title="Proactive engagement with seldom heard women")
    return ActionFactory(
        item=outcome, reference="VAWG-1.01", title="Run engagement events with seldom heard groups",
        description="Work with partners to reach:\n- women in rural areas\n- older women",
        leads=[organisation], supporters=[other_organisation],
        governance_body=GovernanceBodyFactory(name="Joint VAWG Delivery Group"),
        start_date=dt.date(2022, 6, 1), due_date=dt.date(2023, 3, 31), status="on_track", rag="green",
    )


@pytest.mark.django_db(transaction=True)
def test_contributor_records_progress_through_the_form(page, axe, sign_in, contributor, manager, action):
    period = ReportingPeriodFactory(label="December 2022", start=dt.date(2022, 6, 1), end=dt.date(2022, 12, 31))
    services.progress_update_record(user=manager, action=action, period=period, actions_taken="Held events.\n- one\n- two",
                                    next_steps="More.", status="at_risk", rag="amber")
    sign_in("contributor")
    page.goto(f"/strategies/actions/{action.pk}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Run engagement events with seldom heard groups"
    _shot(page, "action_detail")
    axe(page)

    page.get_by_role("button", name="Record progress").click()
    page.get_by_label("Reporting period").select_option("new")
    page.get_by_role("button", name="Save progress").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    _shot(page, "progress_errors")
    axe(page)
    # The summary's link takes the person to the control.
    page.locator(".govuk-error-summary").get_by_role("link", name="Enter a name for the new reporting period").click()
    assert page.evaluate("document.activeElement.id") == "period_label"

    page.get_by_label("Name of the period").fill("June 2023")
    page.locator("#period_start-day").fill("1")
    page.locator("#period_start-month").fill("1")
    page.locator("#period_start-year").fill("2023")
    page.locator("#period_end-day").fill("30")
    page.locator("#period_end-month").fill("6")
    page.locator("#period_end-year").fill("2023")
    page.get_by_label("Actions taken in the period").fill("Ran four events.")
    page.get_by_label("Off track").check()
    page.get_by_label("Red").check()
    page.get_by_role("button", name="Save progress").click()
    expect(page.get_by_text("Progress for June 2023 recorded")).to_be_visible()
    _shot(page, "action_after_progress")
    axe(page)


@pytest.mark.django_db(transaction=True)
def test_manager_forms_are_accessible_with_and_without_errors(page, axe, sign_in, manager, action):
    sign_in("manager")
    strategy = action.item.strategy
    for name, url in [
        ("action_edit", f"/strategies/actions/{action.pk}/edit/"),
        ("action_create", f"/strategies/{strategy.slug}/items/{action.item.pk}/actions/new/"),
        ("item_create", f"/strategies/{strategy.slug}/items/new/"),
        ("item_edit", f"/strategies/{strategy.slug}/items/{action.item.pk}/edit/"),
    ]:
        page.goto(url)
        _shot(page, name)
        axe(page)
        page.locator("#title").fill("")
        page.locator("form .govuk-button").click()
        expect(page.get_by_text("There is a problem")).to_be_visible()
        _shot(page, name + "_errors")
        axe(page)


@pytest.mark.django_db(transaction=True)
def test_viewer_sees_no_edit_buttons(page, sign_in, make_user, action):
    make_user(Role.VIEWER, username="reader")
    sign_in("reader")
    page.goto(f"/strategies/actions/{action.pk}/")
    assert page.get_by_role("button", name="Record progress").count() == 0
    assert page.get_by_role("button", name="Edit action").count() == 0
