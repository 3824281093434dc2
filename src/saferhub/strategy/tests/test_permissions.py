"""The permission matrix of the action and strategy-editing pages, generated: every role, from an
organisation that leads the action, supports it or has no part in it, on every route and method.
A refused write must leave no trace."""
import datetime as dt
import itertools

import pytest

from saferhub.audit.models import ChangeRecord
from saferhub.core.factories import (
    ActionFactory,
    OrganisationFactory,
    ReportingPeriodFactory,
    StrategyFactory,
    StrategyItemFactory,
    UserFactory,
)
from saferhub.partners.models import Role
from saferhub.strategy.models import Action, ProgressUpdate, ReportingPeriod, StrategyItem

ANONYMOUS = "anonymous"
ROLES = [ANONYMOUS, Role.VIEWER, Role.CONTRIBUTOR, Role.STRATEGY_MANAGER, Role.ADMINISTRATOR]
RELATIONS = ["leads", "supports", "other"]

# What each role may do, written out rather than derived from access.py, so that a change to the
# rules there has to be made here too.
MAY_RECORD = {
    (Role.CONTRIBUTOR, "leads"), (Role.CONTRIBUTOR, "supports"),
    *((role, relation) for role in (Role.STRATEGY_MANAGER, Role.ADMINISTRATOR) for relation in RELATIONS),
}
MANAGERS = {Role.STRATEGY_MANAGER, Role.ADMINISTRATOR}


class World:
    def __init__(self):
        self.lead_org = OrganisationFactory(slug="lead-org", name="Lead Organisation")
        self.support_org = OrganisationFactory(slug="support-org", name="Supporting Organisation")
        self.other_org = OrganisationFactory(slug="other-org", name="Other Organisation")
        self.strategy = StrategyFactory(slug="da-strategy")
        self.item = StrategyItemFactory(strategy=self.strategy, code="3.1", title="Prevention")
        self.action = ActionFactory(item=self.item, reference="DA-3.1.1", leads=[self.lead_org],
                                    supporters=[self.support_org], start_date=dt.date(2024, 4, 1))
        self.period = ReportingPeriodFactory(label="2024/25 Q1", start=dt.date(2024, 4, 1), end=dt.date(2024, 6, 30))

    def org_for(self, relation: str):
        return {"leads": self.lead_org, "supports": self.support_org, "other": self.other_org}[relation]


def _routes(world: World) -> dict[str, tuple[str, dict | None, str]]:
    """name → (url, POST data or None for GET, who may use it: 'everyone', 'recorders', 'managers')."""
    action, item, slug = world.action, world.item, world.strategy.slug
    action_data = {"title": "Changed title", "lead_organisations": [str(world.lead_org.pk)],
                   "status": "on_track", "rag": "green"}
    item_data = {"title": "A new commitment", "code": "3.9", "parent": str(item.pk)}
    return {
        "action_detail GET": (f"/strategies/actions/{action.pk}/", None, "everyone"),
        "progress_record GET": (f"/strategies/actions/{action.pk}/progress/", None, "recorders"),
        "progress_record POST": (f"/strategies/actions/{action.pk}/progress/", {
            "period": str(world.period.pk), "actions_taken": "Trained 40 staff.", "status": "on_track", "rag": "green",
        }, "recorders"),
        "action_edit GET": (f"/strategies/actions/{action.pk}/edit/", None, "managers"),
        "action_edit POST": (f"/strategies/actions/{action.pk}/edit/", action_data, "managers"),
        "action_create GET": (f"/strategies/{slug}/items/{item.pk}/actions/new/", None, "managers"),
        "action_create POST": (f"/strategies/{slug}/items/{item.pk}/actions/new/",
                               action_data | {"reference": "DA-3.1.9"}, "managers"),
        "item_create GET": (f"/strategies/{slug}/items/new/", None, "managers"),
        "item_create POST": (f"/strategies/{slug}/items/new/", item_data, "managers"),
        "item_edit GET": (f"/strategies/{slug}/items/{item.pk}/edit/", None, "managers"),
        "item_edit POST": (f"/strategies/{slug}/items/{item.pk}/edit/",
                           {"title": "Reworded", "code": "3.1", "parent": ""}, "managers"),
    }


ROUTE_NAMES = [
    "action_detail GET", "progress_record GET", "progress_record POST", "action_edit GET", "action_edit POST",
    "action_create GET", "action_create POST", "item_create GET", "item_create POST", "item_edit GET",
    "item_edit POST",
]


def _expected(role: str, relation: str, audience: str, is_post: bool) -> int:
    if role == ANONYMOUS:
        return 302
    allowed = {
        "everyone": True,
        "recorders": (role, relation) in MAY_RECORD,
        "managers": role in MANAGERS,
    }[audience]
    if not allowed:
        return 403
    return 302 if is_post else 200


def _state():
    return (ProgressUpdate.objects.count(), Action.objects.count(), StrategyItem.objects.count(),
            ReportingPeriod.objects.count(), ChangeRecord.objects.count(),
            tuple(Action.objects.values_list("title", flat=True)), tuple(StrategyItem.objects.values_list("title", flat=True)))


@pytest.mark.django_db
@pytest.mark.parametrize("role, relation, route", list(itertools.product(ROLES, RELATIONS, ROUTE_NAMES)))
def test_permission_matrix(client, role, relation, route):
    world = World()
    url, data, audience = _routes(world)[route]
    if role != ANONYMOUS:
        client.force_login(UserFactory(role=role, organisation=world.org_for(relation)))
    before = _state()

    response = client.post(url, data) if data is not None else client.get(url)

    expected = _expected(role, relation, audience, data is not None)
    assert response.status_code == expected, (role, relation, route, response.content[:500])
    if role == ANONYMOUS:
        assert response["Location"].startswith("/sign-in/")
    if expected != 302 or role == ANONYMOUS:
        # Refused or merely read: nothing changed.
        assert _state() == before
    else:
        assert _state() != before
