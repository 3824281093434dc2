"""The action tracker's selector: each filter, the sort orders, latest progress, my actions."""
import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import QueryDict

from saferhub.core.factories import (
    ActionFactory, GovernanceBodyFactory, OrganisationFactory, ReportingPeriodFactory, StrategyFactory,
    StrategyItemFactory,
)
from saferhub.strategy import selectors
from saferhub.strategy.filters import ActionFilters, action_filters_from_query
from saferhub.strategy.models import ActionStatus, ProgressUpdate, Rag

TODAY = dt.date(2024, 3, 1)


def titles(user, **filters) -> list[str]:
    filters.setdefault("today", TODAY)
    return [a.title for a in selectors.action_list(user=user, filters=ActionFilters(**filters))]


@pytest.fixture
def vawg(db):
    return StrategyFactory(slug="vawg", title="Joint VAWG Strategy", level_names=["Objective", "Outcome", "Aim"])


@pytest.fixture
def tree(vawg):
    """Objective 1 → Outcome 1.1 → Aim 1.1.1, and Objective 2, with an action on each."""
    o1 = StrategyItemFactory(strategy=vawg, code="Objective 1", order=1)
    o11 = StrategyItemFactory(strategy=vawg, parent=o1, code="Outcome 1.1", order=1)
    a111 = StrategyItemFactory(strategy=vawg, parent=o11, code="Aim 1.1.1", order=1)
    o2 = StrategyItemFactory(strategy=vawg, code="Objective 2", order=2)
    o10 = StrategyItemFactory(strategy=vawg, code="Objective 10", order=10)
    ActionFactory(item=o1, title="On objective 1")
    ActionFactory(item=o11, title="On outcome 1.1")
    ActionFactory(item=a111, title="On aim 1.1.1")
    ActionFactory(item=o2, title="On objective 2")
    ActionFactory(item=o10, title="On objective 10")
    return {"o1": o1, "o11": o11, "a111": a111, "o2": o2, "o10": o10}


def test_item_filter_takes_in_descendants_only(viewer, tree):
    # A path that merely starts with Objective 1's characters is not under it.
    ActionFactory(item=StrategyItemFactory(strategy=tree["o1"].strategy, code="X", path=tree["o1"].path + "9"), title="Not under")
    assert sorted(titles(viewer, strategy="vawg", item=tree["o1"].pk)) == ["On aim 1.1.1", "On objective 1", "On outcome 1.1"]
    assert sorted(titles(viewer, strategy="vawg", item=tree["o11"].pk)) == ["On aim 1.1.1", "On outcome 1.1"]
    assert titles(viewer, strategy="vawg", item=tree["a111"].pk) == ["On aim 1.1.1"]


def test_item_filter_applies_only_within_the_chosen_strategy(viewer, tree):
    other = StrategyFactory(slug="da")
    ActionFactory(item=StrategyItemFactory(strategy=other), title="Elsewhere")
    # An item from another strategy (say, left selected after changing strategy) is ignored.
    assert titles(viewer, strategy="da", item=tree["o1"].pk) == ["Elsewhere"]


def test_strategy_filter(viewer, tree):
    other = StrategyFactory(slug="da")
    ActionFactory(item=StrategyItemFactory(strategy=other), title="Elsewhere")
    assert titles(viewer, strategy="da") == ["Elsewhere"]
    assert len(titles(viewer, strategy="vawg")) == 5
    assert len(titles(viewer)) == 6


def test_default_order_follows_the_tree(viewer, tree):
    assert titles(viewer) == ["On objective 1", "On outcome 1.1", "On aim 1.1.1", "On objective 2", "On objective 10"]


def test_lead_organisation_filter(viewer, organisation, other_organisation):
    ActionFactory(title="NYP leads", leads=[organisation])
    ActionFactory(title="Both lead", leads=[organisation, other_organisation])
    ActionFactory(title="NYP supports", leads=[other_organisation], supporters=[organisation])
    assert sorted(titles(viewer, lead=organisation.slug)) == ["Both lead", "NYP leads"]


def test_status_filter_takes_several(viewer):
    ActionFactory(title="Complete", status=ActionStatus.COMPLETE)
    ActionFactory(title="At risk", status=ActionStatus.AT_RISK)
    ActionFactory(title="On track", status=ActionStatus.ON_TRACK)
    assert sorted(titles(viewer, statuses=("complete", "at_risk"))) == ["At risk", "Complete"]


def test_rag_filter_including_not_rated(viewer):
    ActionFactory(title="Red", rag=Rag.RED)
    ActionFactory(title="Green", rag=Rag.GREEN)
    ActionFactory(title="Unrated", rag=Rag.NOT_SET)
    assert titles(viewer, rag="red") == ["Red"]
    assert titles(viewer, rag="not_set") == ["Unrated"]


def test_overdue_and_due_soon_use_the_given_today(viewer):
    ActionFactory(title="Late", due_date=TODAY - dt.timedelta(days=1))
    ActionFactory(title="Late but complete", due_date=TODAY - dt.timedelta(days=1), status=ActionStatus.COMPLETE)
    ActionFactory(title="Due today", due_date=TODAY)
    ActionFactory(title="Due in 28 days", due_date=TODAY + dt.timedelta(days=28))
    ActionFactory(title="Due in 29 days", due_date=TODAY + dt.timedelta(days=29))
    ActionFactory(title="Undated")
    assert titles(viewer, overdue=True) == ["Late"]
    assert sorted(titles(viewer, due_soon=True)) == ["Due in 28 days", "Due today"]
    # A day later, what was due today is overdue.
    assert sorted(titles(viewer, overdue=True, today=TODAY + dt.timedelta(days=1))) == ["Due today", "Late"]


def test_governance_body_filter_falls_back_to_the_strategy_body(viewer):
    board = GovernanceBodyFactory(slug="delivery-group")
    strategy = StrategyFactory(governance_body=board)
    item = StrategyItemFactory(strategy=strategy)
    ActionFactory(item=item, title="Inherits the board")
    ActionFactory(item=item, title="Own body", governance_body=GovernanceBodyFactory(slug="sub-group"))
    ActionFactory(title="Elsewhere", governance_body=board)
    assert sorted(titles(viewer, body="delivery-group")) == ["Elsewhere", "Inherits the board"]
    assert titles(viewer, body="sub-group") == ["Own body"]


def test_search_matches_every_word_in_title_reference_or_description(viewer):
    ActionFactory(title="Launch the domestic abuse campaign", reference="VAWG-1.01")
    ActionFactory(title="Train staff", description="Domestic abuse awareness training", reference="VAWG-2.01")
    ActionFactory(title="Review the stalking service", reference="VAWG-3.01")
    assert sorted(titles(viewer, q="domestic abuse")) == ["Launch the domestic abuse campaign", "Train staff"]
    assert titles(viewer, q="vawg-3") == ["Review the stalking service"]
    assert titles(viewer, q="abuse training") == ["Train staff"]


def test_sorting_by_each_column(viewer, organisation, other_organisation):
    a = ActionFactory(title="Bravo", reference="B-1", due_date=dt.date(2024, 5, 1), status=ActionStatus.OFF_TRACK,
                      rag=Rag.GREEN, leads=[other_organisation])
    b = ActionFactory(title="Alpha", reference="C-1", due_date=None, status=ActionStatus.NOT_STARTED,
                      rag=Rag.RED, leads=[organisation])
    c = ActionFactory(title="Charlie", reference="A-1", due_date=dt.date(2024, 4, 1), status=ActionStatus.COMPLETE,
                      rag=Rag.AMBER)

    def order(sort, descending=False):
        return [x.pk for x in selectors.action_list(user=viewer, filters=ActionFilters(sort=sort, descending=descending))]

    assert order("title") == [b.pk, a.pk, c.pk]
    assert order("title", descending=True) == [c.pk, a.pk, b.pk]
    assert order("reference") == [c.pk, a.pk, b.pk]
    # Undated actions come last either way.
    assert order("due") == [c.pk, a.pk, b.pk]
    assert order("due", descending=True) == [a.pk, c.pk, b.pk]
    # Status follows the workflow, not the alphabet.
    assert order("status") == [b.pk, a.pk, c.pk]
    # RAG puts red first.
    assert order("rag") == [b.pk, c.pk, a.pk]
    # Lead sorts by the short name shown (IDAS before NYP); no lead comes last.
    assert order("lead") == [a.pk, b.pk, c.pk]


def test_latest_progress_is_the_latest_period(viewer):
    action = ActionFactory()
    older = ReportingPeriodFactory(label="December 2022", start=dt.date(2022, 6, 1), end=dt.date(2022, 12, 31))
    newer = ReportingPeriodFactory(label="June 2023", start=dt.date(2023, 1, 1), end=dt.date(2023, 6, 30))
    ProgressUpdate.objects.create(action=action, period=newer, actions_taken="Later", status="on_track")
    ProgressUpdate.objects.create(action=action, period=older, actions_taken="Earlier", status="on_track")
    ActionFactory(title="No progress")
    found = list(selectors.action_list(user=viewer, filters=ActionFilters()))
    assert [u.actions_taken for u in found[0].latest_progress] == ["Later"]
    assert found[1].latest_progress == []


def test_my_actions_are_led_or_supported_by_my_organisation(make_user, organisation, other_organisation):
    user = make_user()
    ActionFactory(title="We lead", leads=[organisation])
    ActionFactory(title="We support", leads=[other_organisation], supporters=[organisation])
    ActionFactory(title="Not ours", leads=[other_organisation])
    found = {a.title: a.organisation_leads for a in selectors.action_list(user=user, filters=ActionFilters(mine=True))}
    assert found == {"We lead": True, "We support": False}


def test_my_actions_without_an_organisation_is_empty(db):
    from saferhub.core.factories import UserFactory

    user = UserFactory(organisation=None)
    ActionFactory(leads=[OrganisationFactory()])
    assert list(selectors.action_list(user=user, filters=ActionFilters(mine=True))) == []


def test_signed_out_sees_nothing(db):
    ActionFactory()
    assert list(selectors.action_list(user=AnonymousUser(), filters=ActionFilters())) == []


def test_filters_read_leniently_and_round_trip():
    query = QueryDict("q=+abuse++training+&strategy=vawg&item=7&status=at_risk&status=bogus&rag=purple"
                      "&overdue=1&sort=due&order=desc&page=3")
    filters = action_filters_from_query(query, today=TODAY)
    assert filters.q == "abuse training"
    assert filters.statuses == ("at_risk",)
    assert filters.rag == ""
    assert (filters.sort, filters.descending) == ("due", True)
    assert action_filters_from_query(QueryDict(filters.querystring()), today=TODAY) == filters
    # Sorting by the column already sorted descending turns it ascending; a new column starts ascending.
    assert "order" not in filters.sort_querystring("due")
    assert "sort=title" in filters.sort_querystring("title")
    assert filters.aria_sort("due") == "descending" and filters.aria_sort("title") == "none"
    assert action_filters_from_query(QueryDict("item=abc&sort=nonsense")).item is None


def test_export_records_read_in_chunks_keep_order_and_parties(viewer, organisation, other_organisation):
    board = GovernanceBodyFactory(name="Delivery Group")
    item = StrategyItemFactory(strategy=StrategyFactory(governance_body=board))
    period = ReportingPeriodFactory(label="June 2023", start=dt.date(2023, 1, 1), end=dt.date(2023, 6, 30))
    for n in range(5):
        action = ActionFactory(item=item, reference=f"R-{n}", leads=[organisation] if n % 2 else [other_organisation, organisation],
                               supporters=[other_organisation] if n == 3 else [])
        if n == 2:
            ProgressUpdate.objects.create(action=action, period=period, actions_taken="Trained staff", status="on_track")
    filters = ActionFilters(sort="reference", descending=True, today=TODAY)
    records = list(selectors.action_export_records(user=viewer, filters=filters, chunk_size=2))
    assert [r["reference"] for r in records] == ["R-4", "R-3", "R-2", "R-1", "R-0"]
    assert records[0]["leads"] == ["IDAS", "North Yorkshire Police"]
    assert records[1]["supporters"] == ["IDAS"]
    assert records[2]["latest"]["actions_taken"] == "Trained staff" and records[2]["latest"]["period"] == "June 2023"
    assert records[3]["latest"] is None
    assert {r["body"] for r in records} == {"Delivery Group"}
