"""The JSON API for strategies, their item trees, actions and progress updates. Reading is open to
every signed-in member of staff; recording progress goes through the same service, and so the same
permission rules, as the web pages."""
from typing import Optional

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from saferhub.strategy import access, services
from saferhub.strategy.models import (
    OPEN_STATUSES,
    Action,
    ActionStatus,
    ProgressUpdate,
    Rag,
    ReportingPeriod,
    Strategy,
    StrategyItem,
)
from saferhub.strategy.schemas import (
    ActionDetailOut,
    ActionOut,
    ItemOut,
    MessageOut,
    ProgressUpdateIn,
    ProgressUpdateOut,
    StrategyDetailOut,
    StrategyOut,
    ValidationErrorOut,
)

strategies_router = Router(tags=["Strategies"])
actions_router = Router(tags=["Actions"])

# Ties broken by id, so a page boundary never moves while the data stands still.
ACTION_ORDER = ("item__strategy__order", "item__strategy__slug", "item__path", "order", "id")


class ActionFilters(Schema):
    strategy: Optional[str] = Field(None, description="A strategy's slug")
    item: Optional[int] = Field(None, description="An item's id: its own actions and those of every item below it")
    lead: Optional[str] = Field(None, description="The slug of an organisation leading the action")
    status: Optional[ActionStatus] = None
    rag: Optional[Rag] = None
    overdue: Optional[bool] = Field(None, description="true: open and past the due date; false: the rest")


def _strategies() -> QuerySet[Strategy]:
    return Strategy.objects.select_related("owner", "governance_body")


def _progress_updates() -> QuerySet[ProgressUpdate]:
    return ProgressUpdate.objects.select_related("period", "organisation", "recorded_by")


def _actions() -> QuerySet[Action]:
    return (
        Action.objects.select_related("item__strategy", "governance_body")
        .prefetch_related("lead_organisations", "supporting_organisations")
        .order_by(*ACTION_ORDER)
    )


def _filter_actions(actions: QuerySet[Action], filters: ActionFilters) -> QuerySet[Action]:
    if filters.strategy is not None:
        actions = actions.filter(item__strategy__slug=filters.strategy)
    if filters.item is not None:
        item = StrategyItem.objects.filter(pk=filters.item).only("strategy_id", "path").first()
        if item is None:
            return actions.none()
        actions = actions.filter(item__strategy_id=item.strategy_id).filter(
            Q(item__path=item.path) | Q(item__path__startswith=item.path + ".")
        )
    if filters.lead is not None:
        actions = actions.filter(lead_organisations__slug=filters.lead)
    if filters.status is not None:
        actions = actions.filter(status=filters.status)
    if filters.rag is not None:
        actions = actions.filter(rag=filters.rag)
    if filters.overdue is not None:
        overdue = Q(status__in=OPEN_STATUSES, due_date__lt=timezone.localdate())
        actions = actions.filter(overdue) if filters.overdue else actions.exclude(overdue)
    return actions


def _field_errors(error: ValidationError) -> list[dict]:
    """Django's ValidationError in the shape django-ninja gives its own 422 answers."""
    if hasattr(error, "error_dict"):
        return [
            {"loc": ["body", "payload", field], "msg": message, "type": "value_error"}
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return [{"loc": ["body", "payload"], "msg": message, "type": "value_error"} for message in error.messages]


@strategies_router.get("/", response=list[StrategyOut], summary="List strategies")
def strategy_list(request):
    return _strategies()


@strategies_router.get("/{slug}/", response=StrategyDetailOut, summary="One strategy with its item tree")
def strategy_detail(request, slug: str):
    return get_object_or_404(_strategies(), slug=slug)


@strategies_router.get("/{slug}/items/", response=list[ItemOut], summary="A strategy's items, flat, in tree order")
def item_list(request, slug: str):
    strategy = get_object_or_404(Strategy, slug=slug)
    return strategy.items.order_by("path")


@actions_router.get("/", response=list[ActionOut], summary="List actions")
@paginate(PageNumberPagination, page_size=50, max_page_size=500)
def action_list(request, filters: Query[ActionFilters]):
    return _filter_actions(_actions(), filters)


@actions_router.get("/{int:action_id}/", response=ActionDetailOut, summary="One action with its progress updates")
def action_detail(request, action_id: int):
    actions = _actions().prefetch_related(Prefetch("progress_updates", queryset=_progress_updates()))
    return get_object_or_404(actions, pk=action_id)


@actions_router.get(
    "/{int:action_id}/progress-updates/", response=list[ProgressUpdateOut], summary="An action's progress updates"
)
def progress_update_list(request, action_id: int):
    action = get_object_or_404(Action, pk=action_id)
    return _progress_updates().filter(action=action)


@actions_router.post(
    "/{int:action_id}/progress-updates/",
    response={200: ProgressUpdateOut, 201: ProgressUpdateOut, 403: MessageOut, 422: ValidationErrorOut},
    summary="Record progress on an action in a period",
    description=(
        "Records the action's progress in the period named by its label, or revises the progress already "
        "recorded there (200 instead of 201), and moves the action to the status and RAG reported. "
        "Contributors may record progress only on actions their organisation leads or supports."
    ),
)
def progress_update_record(request, action_id: int, payload: ProgressUpdateIn):
    action = get_object_or_404(
        Action.objects.prefetch_related("lead_organisations", "supporting_organisations"), pk=action_id
    )
    # Checked before the period so that someone who may not record learns nothing more.
    if not access.can_record_progress(request.auth, action):
        return Status(403, {"detail": "You can record progress only on actions your organisation leads or supports."})
    period = ReportingPeriod.objects.filter(label=payload.period).first()
    if period is None:
        return Status(422, {"detail": [{"loc": ["body", "payload", "period"], "type": "value_error",
                                        "msg": f"There is no reporting period labelled '{payload.period}'"}]})
    revising = ProgressUpdate.objects.filter(action=action, period=period).exists()
    try:
        update = services.progress_update_record(
            user=request.auth, action=action, period=period, actions_taken=payload.actions_taken,
            next_steps=payload.next_steps, status=payload.status.value, rag=payload.rag.value,
        )
    except PermissionDenied as error:
        return Status(403, {"detail": str(error)})
    except ValidationError as error:
        return Status(422, {"detail": _field_errors(error)})
    return Status(200 if revising else 201, _progress_updates().get(pk=update.pk))
