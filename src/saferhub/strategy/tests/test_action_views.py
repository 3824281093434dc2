"""The action page, the record-progress form and the strategy editing forms as a person uses them."""
import datetime as dt
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from saferhub.audit.models import ChangeRecord
from saferhub.core.factories import (
    ActionFactory,
    GovernanceBodyFactory,
    OrganisationFactory,
    ReportingPeriodFactory,
    StrategyFactory,
    StrategyItemFactory,
)
from saferhub.partners.models import Role
from saferhub.strategy import services
from saferhub.strategy.models import Action, ActionStatus, ProgressUpdate, ReportingPeriod, StrategyItem

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


@pytest.fixture
def tree():
    strategy = StrategyFactory(slug="joint-vawg-strategy", title="Joint VAWG Strategy", short_title="VAWG Strategy")
    objective = StrategyItemFactory(strategy=strategy, code="Objective 1", title="Listening to all women and girls",
                                    short_title="Listen to all women and girls")
    outcome = StrategyItemFactory(strategy=strategy, parent=objective, code="Outcome 1.1",
                                  title="Proactive engagement with seldom heard women")
    return strategy, objective, outcome


@pytest.fixture
def action(tree, organisation, other_organisation):
    body = GovernanceBodyFactory(slug="joint-vawg-delivery-group", name="Joint VAWG Delivery Group")
    return ActionFactory(
        item=tree[2], reference="VAWG-1.01", title="Run engagement events with seldom heard groups",
        description="Work with partners to reach:\n- women in rural areas\n- older women",
        leads=[organisation], supporters=[other_organisation], governance_body=body,
        start_date=dt.date(2022, 6, 1), due_date=dt.date(2023, 3, 31), status=ActionStatus.ON_TRACK, rag="green",
        outcome_measures="- Number of events held\n- Number of women reached",
    )


@pytest.fixture
def period_now():
    today = timezone.localdate()
    return ReportingPeriodFactory(label="This half year", start=today - dt.timedelta(days=30),
                                  end=today + dt.timedelta(days=30))


@pytest.fixture
def old_period():
    return ReportingPeriodFactory(label="December 2022", start=dt.date(2022, 6, 1), end=dt.date(2022, 12, 31))


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def _text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


def _summary_links(response) -> list[tuple[str, str]]:
    body = response.content.decode()
    block = re.search(r'<div class="govuk-error-summary".*?</ul>', body, re.S)
    assert block, "no error summary"
    return [(href, html.unescape(text.strip())) for href, text in
            re.findall(r'<a href="#([^"]+)"[^>]*>(.*?)</a>', block.group(0), re.S)]


def assert_error_shown(response, message: str) -> None:
    """The message is in the error summary, linked to a control on the page, and shown inline."""
    assert response.status_code == 200
    links = dict((text, href) for href, text in _summary_links(response))
    assert message in links, f"{message!r} not in summary {list(links)}"
    body = response.content.decode()
    assert f'id="{links[message]}"' in body, f"summary links to missing #{links[message]}"
    inline = re.findall(r'<p id="[^"]+-error" class="govuk-error-message">\s*<span class="govuk-visually-hidden">Error:</span>(.*?)</p>',
                        body, re.S)
    assert message in [html.unescape(m.strip()) for m in inline]
    assert "<title>Error: " in body


def _progress_data(chosen, **overrides):
    return {"period": str(chosen.pk), "actions_taken": "Held three events.", "next_steps": "Publish findings.",
            "status": "at_risk", "rag": "amber"} | overrides


def _new_period_data(**overrides):
    return {"period": "new", "period_label": "2024/25 Q1", "period_start-day": "1", "period_start-month": "4",
            "period_start-year": "2024", "period_end-day": "30", "period_end-month": "6", "period_end-year": "2024",
            "actions_taken": "Held three events.", "status": "on_track", "rag": "green"} | overrides


# The action page -----------------------------------------------------------------------------------

def test_action_page_shows_the_action_and_where_it_sits(client, viewer, action):
    _login(client, viewer)
    response = client.get(f"/strategies/actions/{action.pk}/")
    text = _text(response)
    assert response.status_code == 200
    assert "<h1 class=\"govuk-heading-l\">Run engagement events with seldom heard groups</h1>" in text
    assert "VAWG Strategy: action VAWG-1.01" in text
    # Breadcrumbs: strategies, the strategy, then each item down to the action's own.
    crumbs = re.search(r'<nav class="govuk-breadcrumbs".*?</nav>', text).group(0)
    assert [c for c in re.findall(r">([^<>]+)</a>", crumbs)] == [
        "Strategies", "VAWG Strategy", "Objective 1", "Outcome 1.1"]
    assert "North Yorkshire Police" in text and "IDAS" in text
    assert '<a class="govuk-link" href="/partners/bodies/joint-vawg-delivery-group/">Joint VAWG Delivery Group</a>' in text
    assert "1 June 2022" in text and "31 March 2023" in text
    assert "Overdue: this action was due on 31 March 2023." in text
    assert "On track" in text and "RAG: Green" in text
    assert '<li>women in rural areas</li><li>older women</li>' in text
    assert '<li>Number of events held</li>' in text


def test_action_page_marks_an_action_due_soon(client, viewer, action):
    action.due_date = timezone.localdate() + dt.timedelta(days=10)
    action.save()
    _login(client, viewer)
    text = _text(client.get(f"/strategies/actions/{action.pk}/"))
    assert "Due soon: this action is due on" in text and "Overdue" not in text


def test_action_page_lists_progress_newest_first_with_who_recorded_it(client, viewer, contributor, action,
                                                                        period_now, old_period):
    services.progress_update_record(user=contributor, action=action, period=old_period,
                                    actions_taken="Earlier work.", status="on_track", rag="green")
    services.progress_update_record(user=contributor, action=action, period=period_now,
                                    actions_taken="Later work.\n- a bullet", next_steps="More to do.",
                                    status="at_risk", rag="amber")
    _login(client, viewer)
    text = _text(client.get(f"/strategies/actions/{action.pk}/"))
    progress = text[text.index('id="progress"'):text.index('id="history"')]
    assert progress.index("This half year") < progress.index("December 2022")
    assert "1 June 2022 to 31 December 2022" in progress
    assert "Later work." in progress and "<li>a bullet</li>" in progress and "More to do." in progress
    assert f"Recorded by {contributor.display_name} for North Yorkshire Police on" in progress
    assert "At risk" in progress and "RAG: Amber" in progress
    # A viewer sees no way to record or revise.
    assert "Record progress" not in text and "Revise the progress" not in text and "Edit action" not in text


def test_action_page_shows_the_edit_history_with_before_and_after(client, manager, action, old_period):
    services.action_update(user=manager, action=action, title="Renamed action")
    services.progress_update_record(user=manager, action=action, period=old_period, actions_taken="First.",
                                    status="on_track", rag="green")
    services.progress_update_record(user=manager, action=action, period=old_period, actions_taken="Second.",
                                    status="on_track", rag="green")
    _login(client, manager)
    text = _text(client.get(f"/strategies/actions/{action.pk}/"))
    history = text[text.index('id="history"'):]
    assert "Revised progress for December 2022" in history
    assert "Recorded progress for December 2022" in history
    assert "Changed the action" in history
    assert re.search(r"Actions taken</th>\s*<td[^>]*>First\.</td>\s*<td[^>]*>Second\.</td>", history)
    assert re.search(r"Title</th>\s*<td[^>]*>Run engagement events with seldom heard groups</td>\s*<td[^>]*>Renamed action</td>", history)
    assert f"By {manager.display_name} (North Yorkshire Police)" in history


@pytest.mark.parametrize("role, org_key, record, edit", [
    (Role.CONTRIBUTOR, "lead", True, False),
    (Role.CONTRIBUTOR, "support", True, False),
    (Role.CONTRIBUTOR, "other", False, False),
    (Role.STRATEGY_MANAGER, "other", True, True),
])
def test_buttons_follow_what_the_user_may_do(client, make_user, action, organisation, other_organisation,
                                             role, org_key, record, edit):
    org = {"lead": organisation, "support": other_organisation, "other": OrganisationFactory()}[org_key]
    user = make_user(role, org=org)
    _login(client, user)
    text = _text(client.get(f"/strategies/actions/{action.pk}/"))
    assert (f'href="/strategies/actions/{action.pk}/progress/"' in text) is record
    assert (f'href="/strategies/actions/{action.pk}/edit/"' in text) is edit


def test_action_page_reads_a_fixed_number_of_queries(client, manager, action):
    """However much progress and history an action has, its page costs the same few queries."""
    _login(client, manager)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/strategies/actions/{action.pk}/").status_code == 200
        return len(queries)

    services.progress_update_record(user=manager, action=action, period=ReportingPeriodFactory(label="P0"),
                                    actions_taken="x", status="on_track", rag="green")
    count()  # warms the content-type cache
    few = count()
    for n in range(1, 6):
        period = ReportingPeriodFactory(label=f"P{n}", start=dt.date(2020 + n, 1, 1), end=dt.date(2020 + n, 6, 30))
        services.progress_update_record(user=manager, action=action, period=period, actions_taken=f"Step {n}",
                                        status="on_track", rag="amber" if n % 2 else "green")
        services.action_update(user=manager, action=action, title=f"Title {n}")
    assert count() == few


def test_missing_action_is_not_found(client, viewer):
    _login(client, viewer)
    assert client.get("/strategies/actions/999999/").status_code == 404


# Recording progress ----------------------------------------------------------------------------------

def test_progress_form_offers_periods_newest_first_and_defaults_to_the_current_one(client, contributor, action,
                                                                                  period_now, old_period):
    _login(client, contributor)
    response = client.get(f"/strategies/actions/{action.pk}/progress/")
    text = _text(response)
    assert response.status_code == 200
    options = re.findall(r'<option value="([^"]*)"( selected)?>', text)
    assert [v for v, _ in options] == [str(period_now.pk), str(old_period.pk), "new"]
    assert options[0][1] == " selected"
    # Every control has a label or legend.
    for control_id in ["period", "period_label", "actions_taken", "next_steps", "status", "rag"]:
        assert f'for="{control_id}"' in text, control_id
    assert "Start date</legend>" in text.replace("\n", "") or "Start date </legend>" in text


def test_without_a_running_period_the_form_defaults_to_the_latest_and_prefills_it(client, contributor, action,
                                                                                  old_period):
    services.progress_update_record(user=contributor, action=action, period=old_period,
                                    actions_taken="Already recorded.", status="on_track", rag="green")
    _login(client, contributor)
    text = _text(client.get(f"/strategies/actions/{action.pk}/progress/"))
    assert f'<option value="{old_period.pk}" selected>' in text
    assert ">Already recorded.</textarea>" in text


def test_with_no_periods_at_all_the_form_starts_a_new_one(client, contributor, action):
    _login(client, contributor)
    text = _text(client.get(f"/strategies/actions/{action.pk}/progress/"))
    assert '<option value="new" selected>' in text


def test_progress_form_is_prefilled_when_progress_exists_for_the_period(client, contributor, action, old_period):
    services.progress_update_record(user=contributor, action=action, period=old_period,
                                    actions_taken="Already recorded.", next_steps="Then this.",
                                    status="off_track", rag="red")
    _login(client, contributor)
    text = _text(client.get(f"/strategies/actions/{action.pk}/progress/?period={old_period.pk}"))
    assert ">Already recorded.</textarea>" in text and ">Then this.</textarea>" in text
    assert 'value="off_track" checked' in text and 'value="red" checked' in text
    assert "Saving revises it" in text
    assert "progress already recorded, saving revises it" in text


def test_recording_progress_redirects_to_the_action_with_a_success_banner(client, contributor, action, old_period):
    _login(client, contributor)
    response = client.post(f"/strategies/actions/{action.pk}/progress/", _progress_data(old_period), follow=True)
    assert response.redirect_chain == [(f"/strategies/actions/{action.pk}/", 302)]
    text = _text(response)
    assert "govuk-notification-banner--success" in text
    assert "Progress for December 2022 recorded" in text
    update = ProgressUpdate.objects.get(action=action, period=old_period)
    assert (update.actions_taken, update.status, update.rag, update.recorded_by) == (
        "Held three events.", "at_risk", "amber", contributor)
    action.refresh_from_db()
    assert (action.status, action.rag) == ("at_risk", "amber")


def test_saving_again_revises_the_period_and_keeps_history(client, contributor, action, old_period):
    _login(client, contributor)
    client.post(f"/strategies/actions/{action.pk}/progress/", _progress_data(old_period))
    response = client.post(f"/strategies/actions/{action.pk}/progress/",
                           _progress_data(old_period, actions_taken="Held four events.", rag="not_set"), follow=True)
    assert "Progress for December 2022 revised" in _text(response)
    update = ProgressUpdate.objects.get(action=action, period=old_period)
    assert (update.actions_taken, update.rag) == ("Held four events.", "")
    assert ChangeRecord.objects.filter(object_id=str(update.pk), content_type__model="progressupdate").count() == 2


def test_progress_can_be_recorded_in_a_new_period(client, contributor, action):
    _login(client, contributor)
    response = client.post(f"/strategies/actions/{action.pk}/progress/", _new_period_data())
    assert response.status_code == 302
    period = ReportingPeriod.objects.get(label="2024/25 Q1")
    assert (period.start, period.end) == (dt.date(2024, 4, 1), dt.date(2024, 6, 30))
    assert ProgressUpdate.objects.get(action=action).period == period


@pytest.mark.parametrize("data, message", [
    ({"actions_taken": "", "next_steps": ""}, "Enter the actions taken in the period, or the next steps"),
    ({"status": ""}, "Select a status"),
    ({"rag": ""}, "Select a RAG rating"),
    ({"period": ""}, "Select a reporting period"),
    ({"period": "123456"}, "Select a reporting period from the list"),
    ({"period_label": "June 2023"}, "Select ‘A new reporting period’ to add the period you entered, "
                                    "or clear the new period's name and dates"),
])
def test_each_progress_error_is_explained(client, contributor, action, old_period, data, message):
    _login(client, contributor)
    response = client.post(f"/strategies/actions/{action.pk}/progress/", _progress_data(old_period, **data))
    assert_error_shown(response, message)
    assert not ProgressUpdate.objects.exists()


@pytest.mark.parametrize("data, message", [
    ({"period_label": ""}, "Enter a name for the new reporting period"),
    ({"period_label": "x" * 61}, "The name of the reporting period must be 60 characters or fewer"),
    ({"period_start-day": "", "period_start-month": "", "period_start-year": ""}, "Enter the start date"),
    ({"period_start-year": ""}, "The start date must include a year"),
    ({"period_end-day": "31", "period_end-month": "2"}, "Enter a real end date"),
    ({"period_end-month": "June"}, "Enter a real end date"),
    ({"period_end-year": "24"}, "The year of the end date must include 4 numbers"),
    ({"period_end-month": "3"}, "The end date must be on or after the start date"),
    ({"period_label": "December 2022"}, "A reporting period called ‘December 2022’ already exists, from 1 June 2022 "
                                        "to 31 December 2022: choose it from the list or use another name"),
])
def test_each_new_period_error_is_explained(client, contributor, action, old_period, data, message):
    _login(client, contributor)
    response = client.post(f"/strategies/actions/{action.pk}/progress/", _new_period_data(**data))
    assert_error_shown(response, message)
    assert not ProgressUpdate.objects.exists()
    assert ReportingPeriod.objects.count() == 1


def test_a_partly_typed_date_links_to_the_missing_box(client, contributor, action):
    _login(client, contributor)
    response = client.post(f"/strategies/actions/{action.pk}/progress/", _new_period_data(**{"period_start-month": ""}))
    assert ("period_start-month", "The start date must include a month") in _summary_links(response)
    assert 'id="period_start-month"' in response.content.decode()


def test_progress_form_keeps_what_was_typed_after_an_error(client, contributor, action, old_period):
    _login(client, contributor)
    response = client.post(f"/strategies/actions/{action.pk}/progress/",
                           _progress_data(old_period, status="", next_steps="Keep this text"))
    text = _text(response)
    assert ">Keep this text</textarea>" in text
    assert f'<option value="{old_period.pk}" selected>' in text


def test_progress_pages_refuse_viewers_and_outsiders(client, make_user, action, old_period):
    for user in (make_user(Role.VIEWER, username="v1"), make_user(Role.CONTRIBUTOR, org=OrganisationFactory(), username="c1")):
        client.force_login(user)
        assert client.get(f"/strategies/actions/{action.pk}/progress/").status_code == 403
        assert client.post(f"/strategies/actions/{action.pk}/progress/", _progress_data(old_period)).status_code == 403
    assert not ProgressUpdate.objects.exists()


def test_progress_for_a_missing_action_is_not_found(client, manager):
    _login(client, manager)
    assert client.get("/strategies/actions/999999/progress/").status_code == 404
    assert client.post("/strategies/actions/999999/progress/", {}).status_code == 404


# Editing and adding actions ---------------------------------------------------------------------------

def _action_data(action_or_none=None, **overrides):
    data = {"title": "Run engagement events", "reference": "VAWG-1.01", "description": "Full wording",
            "lead_organisations": [], "supporting_organisations": [], "governance_body": "",
            "start_date-day": "1", "start_date-month": "6", "start_date-year": "2022",
            "due_date-day": "31", "due_date-month": "12", "due_date-year": "2023",
            "timescale": "", "status": "on_track", "rag": "green", "outcome_measures": ""}
    return data | overrides


def test_edit_form_is_prefilled_with_labelled_organisation_checkboxes(client, manager, action, organisation):
    _login(client, manager)
    text = _text(client.get(f"/strategies/actions/{action.pk}/edit/"))
    assert 'value="Run engagement events with seldom heard groups"' in text
    checked = re.search(rf'id="(lead_organisations(?:-\d+)?)" name="lead_organisations" type="checkbox" '
                        rf'value="{organisation.pk}" checked', text)
    assert checked, "the lead organisation is not ticked"
    assert re.search(rf'for="{checked.group(1)}">\s*North Yorkshire Police\s*</label>', text)
    assert 'name="due_date-day" type="text" value="31"' in text
    assert 'value="on_track" checked' in text


def test_manager_edits_an_action(client, manager, action, organisation, other_organisation):
    _login(client, manager)
    data = _action_data(title="Renamed", lead_organisations=[str(other_organisation.pk)],
                        supporting_organisations=[str(organisation.pk)], rag="not_set", status="complete")
    response = client.post(f"/strategies/actions/{action.pk}/edit/", data, follow=True)
    assert response.redirect_chain == [(f"/strategies/actions/{action.pk}/", 302)]
    assert "Action updated" in _text(response)
    action.refresh_from_db()
    assert (action.title, action.status, action.rag, action.due_date) == ("Renamed", "complete", "", dt.date(2023, 12, 31))
    assert list(action.lead_organisations.all()) == [other_organisation]
    assert "Changed the action" in _text(response)


@pytest.mark.parametrize("data, message", [
    ({"title": ""}, "Enter a title"),
    ({"title": "x" * 301}, "The title must be 300 characters or fewer"),
    ({"lead_organisations": []}, "Select at least one lead organisation"),
    ({"due_date-day": "32"}, "Enter a real due date"),
    ({"due_date-year": "2021"}, "The due date must be on or after the start date"),
    ({"reference": "VAWG-9.99"}, "Another action in this strategy already has the reference VAWG-9.99"),
    ({"status": ""}, "Select a status"),
    ({"governance_body": "999999"}, "Select a governance body from the list"),
])
def test_each_action_error_is_explained(client, manager, action, organisation, data, message):
    ActionFactory(item=StrategyItemFactory(strategy=action.item.strategy), reference="VAWG-9.99")
    _login(client, manager)
    data = {"lead_organisations": [str(organisation.pk)]} | data
    response = client.post(f"/strategies/actions/{action.pk}/edit/", _action_data(**data))
    assert_error_shown(response, message)
    action.refresh_from_db()
    assert action.title == "Run engagement events with seldom heard groups"


def test_manager_adds_an_action_under_an_item(client, manager, tree, organisation):
    strategy, _, outcome = tree
    _login(client, manager)
    url = f"/strategies/{strategy.slug}/items/{outcome.pk}/actions/new/"
    assert "Add an action to Outcome 1.1" in _text(client.get(url))
    response = client.post(url, _action_data(lead_organisations=[str(organisation.pk)], reference="VAWG-1.05"), follow=True)
    action = Action.objects.get(reference="VAWG-1.05")
    assert action.item == outcome
    assert response.redirect_chain == [(f"/strategies/actions/{action.pk}/", 302)]
    assert "Action added" in _text(response)


def test_adding_an_action_with_errors_writes_nothing(client, manager, tree):
    strategy, _, outcome = tree
    _login(client, manager)
    response = client.post(f"/strategies/{strategy.slug}/items/{outcome.pk}/actions/new/", _action_data(title=""))
    assert_error_shown(response, "Enter a title")
    assert_error_shown(response, "Select at least one lead organisation")
    assert not Action.objects.exists()


def test_an_item_of_another_strategy_is_not_found(client, manager, tree):
    _, _, outcome = tree
    other = StrategyFactory(slug="other-strategy")
    _login(client, manager)
    assert client.get(f"/strategies/{other.slug}/items/{outcome.pk}/actions/new/").status_code == 404
    assert client.get(f"/strategies/{other.slug}/items/{outcome.pk}/edit/").status_code == 404
    assert client.get("/strategies/no-such-strategy/items/new/").status_code == 404


# Adding and editing items -----------------------------------------------------------------------------

def test_manager_adds_an_item_under_a_parent(client, manager, tree):
    strategy, objective, outcome = tree
    _login(client, manager)
    page = _text(client.get(f"/strategies/{strategy.slug}/items/new/?parent={objective.pk}"))
    assert f'<option value="{objective.pk}" selected>' in page
    assert "Objective → Outcome → Aim" in page
    response = client.post(f"/strategies/{strategy.slug}/items/new/", {
        "parent": str(objective.pk), "code": "Outcome 1.2", "title": "Women feel heard", "short_title": "",
        "description": "", "position": "",
    }, follow=True)
    item = StrategyItem.objects.get(code="Outcome 1.2")
    objective.refresh_from_db()
    assert (item.parent, item.depth, item.path) == (objective, 1, objective.path + ".0002")
    assert item.level_name == "Outcome"
    assert response.redirect_chain[0] == (item.get_absolute_url(), 302)
    assert "Outcome 1.2 added" in _text(response) and "Outcome Outcome" not in _text(response)


@pytest.mark.parametrize("data, message", [
    ({"title": ""}, "Enter a title"),
    ({"code": "Outcome 1.1"}, "Another item in this strategy already has the code Outcome 1.1"),
    ({"parent": "999999"}, "Select a parent item from the list"),
    ({"position": "first"}, "The position must be a whole number, like 2"),
    ({"position": "0"}, "The position must be 1 or more"),
])
def test_each_item_error_is_explained(client, manager, tree, data, message):
    strategy, _, _ = tree
    _login(client, manager)
    form = {"parent": "", "code": "New", "title": "A new item", "short_title": "", "description": "", "position": ""}
    response = client.post(f"/strategies/{strategy.slug}/items/new/", form | data)
    assert_error_shown(response, message)
    assert StrategyItem.objects.filter(strategy=strategy).count() == 2


def test_manager_moves_and_rewords_an_item(client, manager, tree):
    strategy, objective, outcome = tree
    _login(client, manager)
    page = _text(client.get(f"/strategies/{strategy.slug}/items/{outcome.pk}/edit/"))
    assert f'<option value="{objective.pk}" selected>' in page
    response = client.post(f"/strategies/{strategy.slug}/items/{outcome.pk}/edit/", {
        "parent": "", "code": "Objective 2", "title": "Now a top-level objective", "short_title": "Top",
        "description": "", "position": "",
    })
    assert response.status_code == 302
    outcome.refresh_from_db()
    assert (outcome.parent, outcome.depth, outcome.path, outcome.level_name) == (None, 0, "0002", "Objective")


def test_an_item_cannot_be_moved_under_its_own_items(client, manager, tree):
    strategy, objective, outcome = tree
    _login(client, manager)
    page = _text(client.get(f"/strategies/{strategy.slug}/items/{objective.pk}/edit/"))
    assert f'<option value="{outcome.pk}"' not in page
    response = client.post(f"/strategies/{strategy.slug}/items/{objective.pk}/edit/", {
        "parent": str(outcome.pk), "code": "Objective 1", "title": "x", "short_title": "", "description": "",
        "position": "",
    })
    assert_error_shown(response, "Select a parent item from the list")
