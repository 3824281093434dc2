"""The shapes the JSON API reads and writes strategy data in (django-ninja schemas)."""
import datetime as dt
from typing import Optional

from ninja import Field, Schema

from saferhub.strategy.models import ActionStatus, Rag


class OrganisationRef(Schema):
    slug: str
    name: str
    short_name: str


class GovernanceBodyRef(Schema):
    slug: str
    name: str


class PeriodOut(Schema):
    label: str
    start: dt.date
    end: dt.date
    kind: str


class StrategyOut(Schema):
    slug: str
    title: str
    short_title: str
    summary: str
    level_names: list[str]
    owner: Optional[OrganisationRef]
    governance_body: Optional[GovernanceBodyRef]
    start_date: Optional[dt.date]
    end_date: Optional[dt.date]
    url: str = Field(description="The strategy's page on the web")

    @staticmethod
    def resolve_url(strategy) -> str:
        return strategy.get_absolute_url()


class ItemOut(Schema):
    id: int
    parent_id: Optional[int]
    depth: int = Field(description="0 for the top level")
    path: str = Field(description="Zero-padded sibling positions from the top, e.g. 0001.0003; sorts the tree")
    level_name: str = Field(description="The strategy's name for this level: Objective, Outcome, Aim …")
    code: str
    title: str
    short_title: str
    description: str


class ItemNode(ItemOut):
    children: list["ItemNode"]


ItemNode.model_rebuild()


class StrategyDetailOut(StrategyOut):
    background: str
    items: list[ItemNode] = Field(description="The top-level items, each with its children, in order")

    @staticmethod
    def resolve_items(strategy) -> list[dict]:
        # One query in path order, where each parent comes before its children.
        nodes, roots = {}, []
        for item in strategy.items.order_by("path"):
            node = {**ItemOut.model_validate(item).model_dump(), "children": []}
            nodes[item.pk] = node
            parent = nodes.get(item.parent_id)
            (parent["children"] if parent else roots).append(node)
        return roots


class ItemRef(Schema):
    id: int
    code: str
    title: str


class ActionOut(Schema):
    id: int
    reference: str
    title: str
    description: str
    strategy: str = Field(description="The strategy's slug")
    item: ItemRef
    lead_organisations: list[OrganisationRef]
    supporting_organisations: list[OrganisationRef]
    governance_body: Optional[GovernanceBodyRef]
    start_date: Optional[dt.date]
    due_date: Optional[dt.date]
    timescale: str
    status: ActionStatus
    rag: Rag
    overdue: bool = Field(description="Open and past its due date")
    outcome_measures: str
    updated_at: dt.datetime
    url: str = Field(description="The action's page on the web")

    @staticmethod
    def resolve_strategy(action) -> str:
        return action.item.strategy.slug

    @staticmethod
    def resolve_lead_organisations(action) -> list:
        return list(action.lead_organisations.all())

    @staticmethod
    def resolve_supporting_organisations(action) -> list:
        return list(action.supporting_organisations.all())

    @staticmethod
    def resolve_overdue(action) -> bool:
        return action.is_overdue()

    @staticmethod
    def resolve_url(action) -> str:
        return action.get_absolute_url()


class ProgressUpdateOut(Schema):
    id: int
    action_id: int
    period: PeriodOut
    actions_taken: str
    next_steps: str
    status: ActionStatus
    rag: Rag
    organisation: Optional[OrganisationRef] = Field(description="The organisation of the person who recorded it")
    recorded_by: Optional[str] = Field(description="The name of the person who recorded it")
    recorded_at: dt.datetime

    @staticmethod
    def resolve_recorded_by(update) -> Optional[str]:
        return update.recorded_by.display_name if update.recorded_by_id else None


class ActionDetailOut(ActionOut):
    progress_updates: list[ProgressUpdateOut] = Field(description="Latest period first")

    @staticmethod
    def resolve_progress_updates(action) -> list:
        return list(action.progress_updates.all())


class ProgressUpdateIn(Schema):
    period: str = Field(description="The reporting period's label, e.g. 'June 2023' or '2023/24 Q3'")
    actions_taken: str = ""
    next_steps: str = ""
    status: ActionStatus
    rag: Rag = Rag.NOT_SET


class FieldError(Schema):
    loc: list[str]
    msg: str
    type: str


class ValidationErrorOut(Schema):
    detail: list[FieldError]


class MessageOut(Schema):
    detail: str
