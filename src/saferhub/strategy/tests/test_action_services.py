"""Writing strategy data: recording progress, creating and editing actions and items, the edit
history each write leaves, and who may do it."""
import datetime as dt
import random

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from saferhub.audit.models import ChangeAction, ChangeRecord
from saferhub.audit.services import history_for
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


@pytest.fixture
def action(organisation, other_organisation):
    """An action NYP leads and IDAS supports."""
    return ActionFactory(leads=[organisation], supporters=[other_organisation], status=ActionStatus.ON_TRACK, rag="green")


@pytest.fixture
def june():
    return ReportingPeriodFactory(label="June 2023", start=dt.date(2023, 1, 1), end=dt.date(2023, 6, 30))


@pytest.fixture
def december():
    return ReportingPeriodFactory(label="December 2023", start=dt.date(2023, 7, 1), end=dt.date(2023, 12, 31))


def _record(user, action, period, **overrides):
    values = {"actions_taken": "Held three engagement events.", "next_steps": "Publish the findings.",
              "status": ActionStatus.AT_RISK, "rag": "amber"} | overrides
    return services.progress_update_record(user=user, action=action, period=period, **values)


# Recording progress ------------------------------------------------------------------------------

def test_recording_progress_creates_the_update_and_moves_the_action(contributor, action, june):
    update = _record(contributor, action, june)

    action.refresh_from_db()
    assert (update.status, update.rag, update.organisation.short_name) == (ActionStatus.AT_RISK, "amber", "NYP")
    assert update.recorded_by == contributor
    assert (action.status, action.rag) == (ActionStatus.AT_RISK, "amber")
    created = history_for(update).get()
    assert created.action == ChangeAction.CREATE
    assert created.after["actions_taken"] == "Held three engagement events."
    moved = history_for(action).get()
    assert moved.before == {"status": "on_track", "rag": "green"}
    assert moved.after == {"status": "at_risk", "rag": "amber"}


def test_revising_progress_keeps_one_update_and_the_history_of_both(contributor, manager, action, june):
    first = _record(contributor, action, june, actions_taken="First account.")
    second = _record(manager, action, june, actions_taken="Corrected account.", status=ActionStatus.OFF_TRACK, rag="red")

    assert first.pk == second.pk
    assert ProgressUpdate.objects.filter(action=action).count() == 1
    records = list(history_for(second))
    assert [r.action for r in records] == [ChangeAction.UPDATE, ChangeAction.CREATE]
    revision = records[0]
    assert revision.before["actions_taken"] == "First account."
    assert revision.after["actions_taken"] == "Corrected account."
    assert set(revision.changed_fields) == {"actions_taken", "status", "rag"}
    assert revision.actor == manager
    action.refresh_from_db()
    assert (action.status, action.rag) == (ActionStatus.OFF_TRACK, "red")


def test_revising_an_earlier_period_leaves_the_action_at_the_latest_status(contributor, action, june, december):
    _record(contributor, action, december, status=ActionStatus.COMPLETE, rag="green")
    _record(contributor, action, june, status=ActionStatus.OFF_TRACK, rag="red")

    action.refresh_from_db()
    assert (action.status, action.rag) == (ActionStatus.COMPLETE, "green")


def test_progress_text_is_trimmed_and_either_field_is_enough(contributor, action, june):
    update = _record(contributor, action, june, actions_taken="   ", next_steps="  Recruit two champions. ")
    assert (update.actions_taken, update.next_steps) == ("", "Recruit two champions.")


@pytest.mark.parametrize("overrides, field, message", [
    ({"actions_taken": " ", "next_steps": ""}, "actions_taken", "Enter the actions taken in the period, or the next steps"),
    ({"status": "sideways"}, "status", "Select a status"),
    ({"rag": "purple"}, "rag", "Select a RAG rating"),
])
def test_invalid_progress_is_refused_with_a_message_and_nothing_is_written(contributor, action, june, overrides, field, message):
    with pytest.raises(ValidationError) as error:
        _record(contributor, action, june, **overrides)
    assert error.value.message_dict[field] == [message]
    assert not ProgressUpdate.objects.exists()
    assert not ChangeRecord.objects.exists()
    action.refresh_from_db()
    assert action.status == ActionStatus.ON_TRACK


def test_viewer_cannot_record_progress(viewer, action, june):
    with pytest.raises(PermissionDenied):
        _record(viewer, action, june)
    assert not ProgressUpdate.objects.exists()


def test_contributor_of_an_organisation_not_on_the_action_cannot_record(make_user, action, june):
    outsider = make_user(Role.CONTRIBUTOR, org=OrganisationFactory(name="Halo Project"))
    with pytest.raises(PermissionDenied):
        _record(outsider, action, june)
    assert not ProgressUpdate.objects.exists()


def test_contributor_of_a_supporting_organisation_may_record(make_user, other_organisation, action, june):
    supporter = make_user(Role.CONTRIBUTOR, org=other_organisation)
    update = _record(supporter, action, june)
    assert update.organisation == other_organisation


def test_strategy_manager_of_any_organisation_may_record(make_user, action, june):
    manager = make_user(Role.STRATEGY_MANAGER, org=OrganisationFactory(name="OPFCC"))
    assert _record(manager, action, june).recorded_by == manager


# Reporting periods --------------------------------------------------------------------------------

def test_a_new_reporting_period_is_created_once_with_its_history(manager):
    period = services.reporting_period_get_or_create(label="2023/24 Q3", start=dt.date(2023, 10, 1),
                                                     end=dt.date(2023, 12, 31), kind="quarter", user=manager)
    again = services.reporting_period_get_or_create(label="2023/24 Q3", start=dt.date(2023, 10, 1),
                                                    end=dt.date(2023, 12, 31), user=manager)
    assert again.pk == period.pk
    assert ReportingPeriod.objects.count() == 1
    record = history_for(period).get()
    assert record.action == ChangeAction.CREATE and record.after["end"] == "2023-12-31"


def test_a_period_name_already_used_for_other_dates_is_refused(june):
    with pytest.raises(ValidationError) as error:
        services.reporting_period_get_or_create(label="June 2023", start=dt.date(2023, 4, 1), end=dt.date(2023, 6, 30))
    assert "already exists, from 1 January 2023 to 30 June 2023" in error.value.message_dict["label"][0]


def test_a_period_cannot_end_before_it_starts():
    with pytest.raises(ValidationError) as error:
        services.reporting_period_get_or_create(label="Backwards", start=dt.date(2023, 6, 1), end=dt.date(2023, 5, 1))
    assert error.value.message_dict["end"] == ["The end date must be on or after the start date"]
    assert not ReportingPeriod.objects.exists()


def test_a_period_needs_a_name_and_both_dates():
    with pytest.raises(ValidationError) as error:
        services.reporting_period_get_or_create(label=" ", start=None, end=None)
    assert error.value.message_dict == {"label": ["Enter a name for the reporting period"],
                                        "start": ["Enter the start date"], "end": ["Enter the end date"]}


# Actions --------------------------------------------------------------------------------------------

def test_manager_adds_an_action_after_the_items_others(manager, organisation, other_organisation):
    item = StrategyItemFactory()
    ActionFactory(item=item, order=4)
    body = GovernanceBodyFactory()
    action = services.action_create(
        user=manager, item=item, title="  Deliver bystander training  ", reference="VAWG-2.01",
        lead_organisations=[organisation], supporting_organisations=[other_organisation], governance_body=body,
        start_date=dt.date(2023, 4, 1), due_date=dt.date(2024, 3, 31), status=ActionStatus.ON_TRACK, rag="green",
    )
    assert action.title == "Deliver bystander training"
    assert action.order == 5
    assert list(action.lead_organisations.all()) == [organisation]
    assert list(action.supporting_organisations.all()) == [other_organisation]
    record = history_for(action).get()
    assert record.action == ChangeAction.CREATE
    assert record.after["lead_organisations"] == ["North Yorkshire Police"]
    assert record.after["due_date"] == "2024-03-31"


@pytest.mark.parametrize("overrides, field, message", [
    ({"title": "  "}, "title", "Enter a title"),
    ({"lead_organisations": []}, "lead_organisations", "Select at least one lead organisation"),
    ({"start_date": dt.date(2024, 1, 1), "due_date": dt.date(2023, 1, 1)}, "due_date",
     "The due date must be on or after the start date"),
    ({"status": "paused"}, "status", "Select a status"),
])
def test_an_invalid_new_action_is_refused(manager, organisation, overrides, field, message):
    item = StrategyItemFactory()
    values = {"title": "Train staff", "lead_organisations": [organisation]} | overrides
    with pytest.raises(ValidationError) as error:
        services.action_create(user=manager, item=item, **values)
    assert error.value.message_dict[field] == [message]
    assert not Action.objects.exists()


def test_an_organisation_cannot_both_lead_and_support(manager, organisation):
    with pytest.raises(ValidationError) as error:
        services.action_create(user=manager, item=StrategyItemFactory(), title="Train staff",
                               lead_organisations=[organisation], supporting_organisations=[organisation])
    assert error.value.message_dict["supporting_organisations"] == [
        "An organisation cannot both lead and support an action: North Yorkshire Police"]


def test_action_references_are_unique_within_a_strategy_only(manager, organisation):
    existing = ActionFactory(reference="VAWG-1.01")
    same_strategy = StrategyItemFactory(strategy=existing.item.strategy)
    with pytest.raises(ValidationError) as error:
        services.action_create(user=manager, item=same_strategy, title="Another", reference="vawg-1.01",
                               lead_organisations=[organisation])
    assert error.value.message_dict["reference"] == [
        "Another action in this strategy already has the reference vawg-1.01"]
    elsewhere = services.action_create(user=manager, item=StrategyItemFactory(), title="Another",
                                       reference="VAWG-1.01", lead_organisations=[organisation])
    assert elsewhere.pk


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CONTRIBUTOR])
def test_only_managers_add_actions(make_user, organisation, role):
    with pytest.raises(PermissionDenied):
        services.action_create(user=make_user(role), item=StrategyItemFactory(), title="Train staff",
                               lead_organisations=[organisation])
    assert not Action.objects.exists()


def test_editing_an_action_records_each_field_before_and_after(manager, action, organisation, other_organisation):
    third = OrganisationFactory(name="City of York Council")
    services.action_update(user=manager, action=action, title="Renamed", due_date=dt.date(2024, 3, 31),
                           lead_organisations=[organisation, third], supporting_organisations=[other_organisation])
    action.refresh_from_db()
    assert action.title == "Renamed"
    record = history_for(action).get()
    assert set(record.changed_fields) == {"title", "due_date", "lead_organisations"}
    assert record.before["due_date"] is None and record.after["due_date"] == "2024-03-31"
    assert record.after["lead_organisations"] == ["City of York Council", "North Yorkshire Police"]


def test_an_action_keeps_its_own_reference_but_cannot_take_anothers(manager):
    first = ActionFactory(reference="DA-3.1.1")
    second = ActionFactory(item=StrategyItemFactory(strategy=first.item.strategy), reference="DA-3.1.2")
    services.action_update(user=manager, action=first, reference="DA-3.1.1", title="Same reference")
    with pytest.raises(ValidationError) as error:
        services.action_update(user=manager, action=second, reference="DA-3.1.1")
    assert "DA-3.1.1" in error.value.message_dict["reference"][0]


def test_a_refused_edit_leaves_the_action_untouched(manager, action):
    action.start_date = dt.date(2023, 6, 1)
    action.save()
    with pytest.raises(ValidationError) as error:
        services.action_update(user=manager, action=action, title="Changed", due_date=dt.date(2023, 1, 1))
    assert error.value.message_dict["due_date"] == ["The due date must be on or after the start date"]
    assert action.title != "Changed" and action.due_date is None
    action.refresh_from_db()
    assert action.title != "Changed"
    assert not history_for(action).exists()


def test_contributors_cannot_edit_actions(contributor, action):
    with pytest.raises(PermissionDenied):
        services.action_update(user=contributor, action=action, title="Renamed")


# Items ------------------------------------------------------------------------------------------------

def _assert_tree_consistent(strategy):
    """Depth, order and path agree with the parent links everywhere in the strategy."""
    items = list(StrategyItem.objects.filter(strategy=strategy))
    by_pk = {i.pk: i for i in items}
    siblings = {}
    for item in items:
        parent = by_pk.get(item.parent_id)
        assert item.depth == (parent.depth + 1 if parent else 0), item
        assert item.path == (parent.path + "." if parent else "") + f"{item.order:04d}", item
        siblings.setdefault(item.parent_id, []).append(item.order)
    for orders in siblings.values():
        assert sorted(orders) == list(range(1, len(orders) + 1))


def test_items_get_depth_and_path_from_where_they_are_added(manager):
    strategy = StrategyFactory(level_names=["Priority", "Commitment"])
    first = services.item_create(user=manager, strategy=strategy, code="3.1", title="Prevention")
    second = services.item_create(user=manager, strategy=strategy, code="3.2", title="Support")
    child = services.item_create(user=manager, strategy=strategy, parent=second, code="3.2.1", title="Refuges")
    assert (first.path, second.path, child.path) == ("0001", "0002", "0002.0001")
    assert (child.depth, child.level_name) == (1, "Commitment")
    record = history_for(child).get()
    assert record.action == ChangeAction.CREATE and record.after["parent"].startswith("3.2")


def test_adding_an_item_at_a_position_moves_later_siblings_and_their_items(manager):
    strategy = StrategyFactory()
    first = services.item_create(user=manager, strategy=strategy, code="1", title="One")
    grandchild_parent = services.item_create(user=manager, strategy=strategy, parent=first, code="1.1", title="One.one")
    inserted = services.item_create(user=manager, strategy=strategy, code="0", title="Zero", position=1)
    first.refresh_from_db()
    grandchild_parent.refresh_from_db()
    assert inserted.path == "0001"
    assert (first.path, grandchild_parent.path) == ("0002", "0002.0001")
    _assert_tree_consistent(strategy)


def test_item_codes_are_unique_within_a_strategy(manager):
    strategy = StrategyFactory()
    services.item_create(user=manager, strategy=strategy, code="Objective 1", title="Listen")
    with pytest.raises(ValidationError) as error:
        services.item_create(user=manager, strategy=strategy, code="objective 1", title="Again")
    assert error.value.message_dict["code"] == ["Another item in this strategy already has the code objective 1"]
    assert services.item_create(user=manager, strategy=StrategyFactory(), code="Objective 1", title="Elsewhere").pk


def test_moving_an_item_carries_its_subtree_and_closes_the_gap(manager):
    strategy = StrategyFactory()
    a = services.item_create(user=manager, strategy=strategy, code="A", title="A")
    b = services.item_create(user=manager, strategy=strategy, code="B", title="B")
    c = services.item_create(user=manager, strategy=strategy, code="C", title="C")
    b1 = services.item_create(user=manager, strategy=strategy, parent=b, code="B1", title="B1")
    b1x = services.item_create(user=manager, strategy=strategy, parent=b1, code="B1x", title="B1x")

    services.item_update(user=manager, item=b, parent=a)

    for item in (a, b, c, b1, b1x):
        item.refresh_from_db()
    assert (a.path, c.path) == ("0001", "0002")
    assert (b.path, b.depth, b.parent_id) == ("0001.0001", 1, a.pk)
    assert (b1.path, b1.depth) == ("0001.0001.0001", 2)
    assert (b1x.path, b1x.depth) == ("0001.0001.0001.0001", 3)
    record = history_for(b).first()
    assert record.action == ChangeAction.UPDATE
    assert record.before["parent"] is None and record.after["parent"] == "A A"
    assert record.before["path"] == "0002" and record.after["path"] == "0001.0001"
    _assert_tree_consistent(strategy)


def test_an_item_can_change_place_among_its_siblings(manager):
    strategy = StrategyFactory()
    items = [services.item_create(user=manager, strategy=strategy, code=str(n), title=str(n)) for n in range(1, 4)]
    services.item_update(user=manager, item=items[2], position=1)
    paths = dict(StrategyItem.objects.filter(strategy=strategy).values_list("code", "path"))
    assert paths == {"3": "0001", "1": "0002", "2": "0003"}


def test_an_item_cannot_go_under_itself_or_its_own_items(manager):
    strategy = StrategyFactory()
    top = services.item_create(user=manager, strategy=strategy, code="1", title="Top")
    below = services.item_create(user=manager, strategy=strategy, parent=top, code="1.1", title="Below")
    for parent in (top, below):
        with pytest.raises(ValidationError) as error:
            services.item_update(user=manager, item=top, parent=parent)
        assert error.value.message_dict["parent"] == ["An item cannot be placed under itself or one of its own items"]
    top.refresh_from_db()
    assert top.path == "0001" and top.parent_id is None


def test_editing_an_items_wording_is_recorded(manager):
    item = services.item_create(user=manager, strategy=StrategyFactory(), code="4.1a", title="Old wording")
    services.item_update(user=manager, item=item, title="New wording", short_title="New")
    record = history_for(item).first()
    assert record.action == ChangeAction.UPDATE
    assert set(record.changed_fields) == {"title", "short_title"}
    assert (record.before["title"], record.after["title"]) == ("Old wording", "New wording")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CONTRIBUTOR])
def test_only_managers_change_the_tree(make_user, role):
    strategy = StrategyFactory()
    user = make_user(role)
    with pytest.raises(PermissionDenied):
        services.item_create(user=user, strategy=strategy, title="Nope")
    item = StrategyItemFactory(strategy=strategy)
    with pytest.raises(PermissionDenied):
        services.item_update(user=user, item=item, title="Nope")


def test_the_tree_stays_consistent_through_many_additions_and_moves(manager):
    strategy = StrategyFactory()
    rng = random.Random(20230630)
    for step in range(60):
        items = list(StrategyItem.objects.filter(strategy=strategy))
        if len(items) < 4 or rng.random() < 0.5:
            parent = rng.choice(items + [None, None]) if items else None
            services.item_create(user=manager, strategy=strategy, parent=parent, title=f"Item {step}",
                                 code=f"C{step}", position=rng.choice([None, 1, 2, 5]))
        else:
            item = rng.choice(items)
            allowed = [p for p in items if p.pk != item.pk and not p.path.startswith(item.path + ".")]
            services.item_update(user=manager, item=item, parent=rng.choice(allowed + [None]),
                                 position=rng.choice([None, 1, 3]))
        _assert_tree_consistent(strategy)
