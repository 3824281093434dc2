"""Writes to strategy data. Each service checks permission, writes in one transaction and records
the edit history (who, when, before and after)."""
import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import CharField, Max, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from saferhub.audit.models import ChangeAction
from saferhub.audit.services import change_record, snapshot
from saferhub.partners.models import GovernanceBody, Organisation
from saferhub.strategy import access
from saferhub.strategy.models import (
    Action,
    ActionStatus,
    ProgressUpdate,
    Rag,
    ReportingPeriod,
    Strategy,
    StrategyItem,
)

PROGRESS_FIELDS = ["actions_taken", "next_steps", "status", "rag", "organisation"]
ACTION_FIELDS = [
    "title", "description", "reference", "governance_body", "start_date", "due_date", "timescale",
    "status", "rag", "outcome_measures", "lead_organisations", "supporting_organisations",
]
ITEM_FIELDS = ["parent", "code", "title", "short_title", "description", "path"]
PERIOD_FIELDS = ["label", "start", "end", "kind"]

# One segment of an item's materialised path: its 1-based position among its siblings.
PATH_SEGMENT_WIDTH = 4
MAX_SIBLINGS = 10 ** PATH_SEGMENT_WIDTH - 1


# Progress ------------------------------------------------------------------------------------


@transaction.atomic
def progress_update_record(
    *,
    user,
    action: Action,
    period: ReportingPeriod,
    actions_taken: str,
    next_steps: str = "",
    status: str,
    rag: str = "",
) -> ProgressUpdate:
    """Record (or revise) the progress of `action` in `period`, and move the action to the
    status and RAG reported unless a later period's progress has already been recorded."""
    if not access.can_record_progress(user, action):
        raise PermissionDenied("You can record progress only on actions your organisation leads or supports.")
    actions_taken, next_steps = (actions_taken or "").strip(), (next_steps or "").strip()
    errors = {}
    if period is None:
        errors["period"] = "Select a reporting period"
    if not actions_taken and not next_steps:
        errors["actions_taken"] = "Enter the actions taken in the period, or the next steps"
    if status not in ActionStatus.values:
        errors["status"] = "Select a status"
    if rag not in Rag.values:
        errors["rag"] = "Select a RAG rating"
    if errors:
        raise ValidationError(errors)

    update = ProgressUpdate.objects.select_for_update().filter(action=action, period=period).first()
    before = snapshot(update, PROGRESS_FIELDS) if update else {}
    if update is None:
        update = ProgressUpdate(action=action, period=period)
    update.actions_taken = actions_taken
    update.next_steps = next_steps
    update.status = status
    update.rag = rag
    update.organisation = user.organisation
    update.recorded_by = user
    update.recorded_at = timezone.now()
    update.save()
    change_record(
        actor=user,
        instance=update,
        action=ChangeAction.UPDATE if before else ChangeAction.CREATE,
        before=before,
        after=snapshot(update, PROGRESS_FIELDS),
    )

    # Revising an older period's account must not drag the action back to an old status.
    later_recorded = ProgressUpdate.objects.filter(action=action, period__end__gt=period.end).exists()
    if not later_recorded:
        action_before = snapshot(action, ["status", "rag"])
        action.status, action.rag = status, rag
        action.save(update_fields=["status", "rag", "updated_at"])
        change_record(actor=user, instance=action, action=ChangeAction.UPDATE, before=action_before,
                      after=snapshot(action, ["status", "rag"]))
    return update


def reporting_period_get_or_create(
    *, label: str, start: dt.date, end: dt.date, kind: str = "custom", user=None
) -> ReportingPeriod:
    """The period called `label`, created when there is none. An existing period with the same
    name but other dates is an error rather than silently used, so progress is never filed
    against dates the person did not mean."""
    label = (label or "").strip()
    errors = {}
    if not label:
        errors["label"] = "Enter a name for the reporting period"
    elif len(label) > ReportingPeriod._meta.get_field("label").max_length:
        errors["label"] = "The name of the reporting period must be 60 characters or fewer"
    if start is None:
        errors["start"] = "Enter the start date"
    if end is None:
        errors["end"] = "Enter the end date"
    elif start and end < start:
        errors["end"] = "The end date must be on or after the start date"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        period, created = ReportingPeriod.objects.get_or_create(
            label=label, defaults={"start": start, "end": end, "kind": kind}
        )
        if not created and (period.start, period.end) != (start, end):
            raise ValidationError({"label": (
                f"A reporting period called ‘{label}’ already exists, from {_date_text(period.start)} "
                f"to {_date_text(period.end)}: choose it from the list or use another name"
            )})
        if created:
            change_record(actor=user, instance=period, action=ChangeAction.CREATE,
                          after=snapshot(period, PERIOD_FIELDS))
    return period


def _date_text(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


# Actions -------------------------------------------------------------------------------------


def _action_errors(values: dict, *, strategy: Strategy, exclude_pk: int | None, leads: list[Organisation],
                   supporters: list[Organisation], leads_required: bool) -> dict[str, str]:
    """What is wrong with an action's intended field values, in words a person can act on."""
    errors = {}
    if "title" in values:
        title = values["title"]
        if not title:
            errors["title"] = "Enter a title"
        elif len(title) > Action._meta.get_field("title").max_length:
            errors["title"] = "The title must be 300 characters or fewer"
    reference = values.get("reference") or ""
    if len(reference) > Action._meta.get_field("reference").max_length:
        errors["reference"] = "The reference must be 40 characters or fewer"
    elif reference:
        taken = Action.objects.filter(item__strategy=strategy, reference__iexact=reference)
        if exclude_pk is not None:
            taken = taken.exclude(pk=exclude_pk)
        if taken.exists():
            errors["reference"] = f"Another action in this strategy already has the reference {reference}"
    if len(values.get("timescale") or "") > Action._meta.get_field("timescale").max_length:
        errors["timescale"] = "The timescale must be 120 characters or fewer"
    if "status" in values and values["status"] not in ActionStatus.values:
        errors["status"] = "Select a status"
    if "rag" in values and values["rag"] not in Rag.values:
        errors["rag"] = "Select a RAG rating"
    start, due = values.get("start_date"), values.get("due_date")
    if start and due and due < start:
        errors["due_date"] = "The due date must be on or after the start date"
    if leads_required and not leads:
        errors["lead_organisations"] = "Select at least one lead organisation"
    both = {o.pk for o in leads} & {o.pk for o in supporters}
    if both:
        names = ", ".join(sorted(o.name for o in supporters if o.pk in both))
        errors["supporting_organisations"] = f"An organisation cannot both lead and support an action: {names}"
    return errors


@transaction.atomic
def action_create(
    *,
    user,
    item: StrategyItem,
    title: str,
    reference: str = "",
    description: str = "",
    lead_organisations: Iterable[Organisation] = (),
    supporting_organisations: Iterable[Organisation] = (),
    governance_body: GovernanceBody | None = None,
    start_date: dt.date | None = None,
    due_date: dt.date | None = None,
    timescale: str = "",
    status: str = ActionStatus.NOT_STARTED,
    rag: str = Rag.NOT_SET,
    outcome_measures: str = "",
) -> Action:
    """Add an action under `item` (strategy managers), after the item's other actions."""
    if not access.can_manage_strategies(user):
        raise PermissionDenied("Only strategy managers can add an action.")
    leads, supporters = list(lead_organisations), list(supporting_organisations)
    values = {
        "title": (title or "").strip(), "reference": (reference or "").strip(), "description": (description or "").strip(),
        "governance_body": governance_body, "start_date": start_date, "due_date": due_date,
        "timescale": (timescale or "").strip(), "status": status, "rag": rag,
        "outcome_measures": (outcome_measures or "").strip(),
    }
    errors = _action_errors(values, strategy=item.strategy, exclude_pk=None, leads=leads, supporters=supporters,
                            leads_required=True)
    if errors:
        raise ValidationError(errors)
    last = Action.objects.filter(item=item).aggregate(last=Max("order"))["last"]
    action = Action(item=item, order=(last + 1) if last is not None else 0, **values)
    action.full_clean(exclude=["item"])
    action.save()
    action.lead_organisations.set(leads)
    action.supporting_organisations.set(supporters)
    change_record(actor=user, instance=action, action=ChangeAction.CREATE, after=snapshot(action, ACTION_FIELDS))
    return action


@transaction.atomic
def action_update(*, user, action: Action, **changes) -> Action:
    """Change an action's fields (strategy managers). Many-to-many fields take organisation lists."""
    if not access.can_manage_strategies(user):
        raise PermissionDenied("Only strategy managers can change an action.")
    unknown = set(changes) - set(ACTION_FIELDS)
    if unknown:
        raise ValueError(f"Unknown action fields: {', '.join(sorted(unknown))}")
    for name in ["title", "reference", "description", "timescale", "outcome_measures"]:
        if name in changes:
            changes[name] = (changes[name] or "").strip()
    m2m = {k: list(changes.pop(k)) for k in ["lead_organisations", "supporting_organisations"] if k in changes}
    # Validate the action as it would be, before touching the instance the caller holds.
    intended = {"reference": action.reference, "start_date": action.start_date, "due_date": action.due_date} | changes
    leads = m2m["lead_organisations"] if "lead_organisations" in m2m else list(action.lead_organisations.all())
    supporters = (m2m["supporting_organisations"] if "supporting_organisations" in m2m
                  else list(action.supporting_organisations.all()))
    errors = _action_errors(intended, strategy=action.item.strategy, exclude_pk=action.pk, leads=leads,
                            supporters=supporters, leads_required="lead_organisations" in m2m)
    if errors:
        raise ValidationError(errors)

    before = snapshot(action, ACTION_FIELDS)
    for name, value in changes.items():
        setattr(action, name, value)
    action.full_clean(exclude=["item"])
    action.save()
    for name, orgs in m2m.items():
        getattr(action, name).set(orgs)
    change_record(actor=user, instance=action, action=ChangeAction.UPDATE, before=before,
                  after=snapshot(action, ACTION_FIELDS))
    return action


# Items ---------------------------------------------------------------------------------------


def _item_errors(*, strategy: Strategy, item: StrategyItem | None, parent: StrategyItem | None,
                 code: str, title: str, short_title: str, position: int | None) -> dict[str, str]:
    errors = {}
    if parent is not None:
        if parent.strategy_id != strategy.pk:
            errors["parent"] = "Select a parent item from this strategy"
        elif item is not None and (parent.pk == item.pk or parent.path.startswith(item.path + ".")):
            errors["parent"] = "An item cannot be placed under itself or one of its own items"
    if not title:
        errors["title"] = "Enter a title"
    if len(code) > StrategyItem._meta.get_field("code").max_length:
        errors["code"] = "The code must be 40 characters or fewer"
    elif code:
        taken = StrategyItem.objects.filter(strategy=strategy, code__iexact=code)
        if item is not None:
            taken = taken.exclude(pk=item.pk)
        if taken.exists():
            errors["code"] = f"Another item in this strategy already has the code {code}"
    if len(short_title) > StrategyItem._meta.get_field("short_title").max_length:
        errors["short_title"] = "The short title must be 200 characters or fewer"
    if position is not None and position < 1:
        errors["position"] = "The position must be 1 or more"
    return errors


def _item_tree_layout(strategy: Strategy, *, placing: StrategyItem | None = None,
                      parent: StrategyItem | None = None, position: int | None = None) -> None:
    """Give every item of `strategy` the depth, order and path its place in the tree implies,
    first putting `placing` (new or moved) at `position` (1-based; None = last) under `parent`.

    Siblings keep their present order (by path). The whole strategy is laid out at once because
    strategies hold hundreds of items, not millions, and one pass cannot leave the tree
    inconsistent."""
    items = list(StrategyItem.objects.select_for_update().filter(strategy=strategy).order_by("path", "pk"))
    children: dict[int | None, list[StrategyItem]] = {}
    for node in items:
        if placing is not None and node.pk == placing.pk:
            continue
        children.setdefault(node.parent_id, []).append(node)
    if placing is not None:
        siblings = children.setdefault(parent.pk if parent else None, [])
        index = len(siblings) if position is None else min(max(position - 1, 0), len(siblings))
        siblings.insert(index, placing)
        placing.parent = parent

    wanted: dict[int, tuple[str, int, int]] = {}

    def walk(parent_pk: int | None, prefix: str, depth: int) -> None:
        kids = children.get(parent_pk, [])
        if len(kids) > MAX_SIBLINGS:
            raise ValidationError({"parent": f"An item can have at most {MAX_SIBLINGS} items under it"})
        for number, node in enumerate(kids, start=1):
            path = f"{prefix}{number:0{PATH_SEGMENT_WIDTH}d}"
            if len(path) > StrategyItem._meta.get_field("path").max_length:
                raise ValidationError({"parent": "The strategy's tree is too deep to place an item there"})
            wanted[node.pk] = (path, depth, number)
            walk(node.pk, path + ".", depth + 1)

    walk(None, "", 0)
    by_pk = {node.pk: node for node in items}
    if placing is not None:
        by_pk[placing.pk] = placing
    changed = [by_pk[pk] for pk, (path, depth, order) in wanted.items()
               if (by_pk[pk].path, by_pk[pk].depth, by_pk[pk].order) != (path, depth, order)
               or (placing is not None and pk == placing.pk)]
    # Paths are unique in a strategy and databases check that row by row, so move every changed
    # item to a path no real item can have before giving each its new one.
    StrategyItem.objects.filter(pk__in=[node.pk for node in changed]).update(
        path=Concat(Value("~"), Cast("pk", output_field=CharField()))
    )
    for node in changed:
        node.path, node.depth, node.order = wanted[node.pk]
    StrategyItem.objects.bulk_update(changed, ["path", "depth", "order", "parent"], batch_size=500)


@transaction.atomic
def item_create(
    *,
    user,
    strategy: Strategy,
    title: str,
    parent: StrategyItem | None = None,
    code: str = "",
    short_title: str = "",
    description: str = "",
    position: int | None = None,
) -> StrategyItem:
    """Add an item to a strategy's tree (strategy managers): at the top level, or under `parent`,
    at `position` among its siblings (1-based; last when not given). Its level follows from
    where it is placed."""
    if not access.can_manage_strategies(user):
        raise PermissionDenied("Only strategy managers can add to a strategy.")
    code, title = (code or "").strip(), (title or "").strip()
    short_title, description = (short_title or "").strip(), (description or "").strip()
    errors = _item_errors(strategy=strategy, item=None, parent=parent, code=code, title=title,
                          short_title=short_title, position=position)
    if errors:
        raise ValidationError(errors)
    item = StrategyItem(strategy=strategy, parent=parent, depth=parent.depth + 1 if parent else 0,
                        path="~new", code=code, title=title, short_title=short_title, description=description)
    item.save()
    _item_tree_layout(strategy, placing=item, parent=parent, position=position)
    item.refresh_from_db()
    change_record(actor=user, instance=item, action=ChangeAction.CREATE, after=snapshot(item, ITEM_FIELDS))
    return item


_UNSET = object()


@transaction.atomic
def item_update(
    *,
    user,
    item: StrategyItem,
    parent: StrategyItem | None | object = _UNSET,
    position: int | None = None,
    **changes,
) -> StrategyItem:
    """Change an item's wording, or move it (strategy managers): give `parent` (None for the top
    level) and/or `position` (1-based among its new siblings). Moving carries its items and
    actions with it; everything's path and level are kept consistent."""
    if not access.can_manage_strategies(user):
        raise PermissionDenied("Only strategy managers can change a strategy.")
    editable = {"code", "title", "short_title", "description"}
    unknown = set(changes) - editable
    if unknown:
        raise ValueError(f"Unknown item fields: {', '.join(sorted(unknown))}")
    changes = {name: (value or "").strip() for name, value in changes.items()}
    new_parent = item.parent if parent is _UNSET else parent
    values = {name: getattr(item, name) for name in editable} | changes
    errors = _item_errors(strategy=item.strategy, item=item, parent=new_parent, code=values["code"],
                          title=values["title"], short_title=values["short_title"], position=position)
    if errors:
        raise ValidationError(errors)

    before = snapshot(item, ITEM_FIELDS)
    for name, value in changes.items():
        setattr(item, name, value)
    if changes:
        item.save(update_fields=list(changes))
    moved = (new_parent.pk if new_parent else None) != item.parent_id
    if moved or position is not None:
        _item_tree_layout(item.strategy, placing=item, parent=new_parent, position=position)
    item.refresh_from_db()
    change_record(actor=user, instance=item, action=ChangeAction.UPDATE, before=before,
                  after=snapshot(item, ITEM_FIELDS))
    return item
