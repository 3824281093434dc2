"""One action: its page and progress history, recording progress, editing actions and items."""
import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from saferhub.audit.models import ChangeAction
from saferhub.core.formatting import date_uk
from saferhub.strategy import access, selectors_actions, services
from saferhub.strategy.forms import NEW_PERIOD, ActionForm, ItemForm, ProgressForm, rag_from_form, rag_to_form
from saferhub.strategy.models import Action, ActionStatus, ProgressUpdate, Rag, Strategy, StrategyItem

FIELD_LABELS = {
    "title": "Title", "description": "Description", "reference": "Reference",
    "governance_body": "Governance body", "start_date": "Start date", "due_date": "Due date",
    "timescale": "Timescale", "status": "Status", "rag": "RAG rating", "outcome_measures": "Outcome measures",
    "lead_organisations": "Lead organisations", "supporting_organisations": "Supporting organisations",
    "actions_taken": "Actions taken", "next_steps": "Next steps", "organisation": "Organisation",
}
CHOICE_LABELS = {"status": dict(ActionStatus.choices), "rag": dict(Rag.choices)}


def _item_name(item: StrategyItem) -> str:
    """'Objective 1', 'Commitment 3.1.1': the level's name and the item's code, said once."""
    if item.code and item.code.lower().startswith(item.level_name.lower()):
        return item.code
    return f"{item.level_name} {item.code}".strip()


def _readable(field: str, value) -> str:
    if value in (None, "", []):
        return "Not set" if field in {"rag", "governance_body"} else "None"
    if field in CHOICE_LABELS:
        return str(CHOICE_LABELS[field].get(value, value))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if field.endswith("_date"):
        try:
            return date_uk(dt.date.fromisoformat(value))
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def _history_entries(action: Action, updates: list[ProgressUpdate]) -> list[dict]:
    """The edit history as a person reads it: who, when, what, and each field before and after."""
    periods = {str(update.pk): update.period.label for update in updates}
    entries = []
    for record in selectors_actions.action_edit_history(action, updates):
        if record.object_id in periods and record.content_type.model == "progressupdate":
            label = periods[record.object_id]
            what = (f"Recorded progress for {label}" if record.action == ChangeAction.CREATE
                    else f"Revised progress for {label}")
        else:
            what = {ChangeAction.CREATE: "Created the action", ChangeAction.IMPORT: "Imported the action"}.get(
                record.action, "Changed the action")
        fields = record.changed_fields if record.action != ChangeAction.CREATE else [
            name for name, value in record.after.items() if value not in (None, "", [])]
        entries.append({
            "record": record,
            "what": what,
            "who": record.actor_name or "system",
            "organisation": record.actor.organisation.name if record.actor and record.actor.organisation else "",
            "changes": [
                {"field": FIELD_LABELS.get(name, name.replace("_", " ").capitalize()),
                 "before": _readable(name, record.before.get(name)) if record.action != ChangeAction.CREATE else "",
                 "after": _readable(name, record.after.get(name))}
                for name in fields
            ],
            "is_create": record.action == ChangeAction.CREATE,
        })
    return entries


def _breadcrumbs(strategy: Strategy, items: list[StrategyItem], *extra: dict) -> list[dict]:
    crumbs = [{"text": "Strategies", "href": reverse("strategy:strategy_list")},
              {"text": strategy.short_title or strategy.title, "href": strategy.get_absolute_url()}]
    crumbs += [{"text": item.label, "href": item.get_absolute_url()} for item in items]
    return crumbs + list(extra)


def action_detail(request, pk: int):
    action = get_object_or_404(selectors_actions.actions_for_page(), pk=pk)
    updates = list(action.progress_updates.all())
    today = timezone.localdate()
    ancestors = selectors_actions.item_with_ancestors(action.item)
    return render(request, "strategy/action_detail.html", {
        "action": action,
        "strategy": action.item.strategy,
        "ancestors": ancestors,
        "breadcrumbs": _breadcrumbs(action.item.strategy, ancestors),
        "updates": updates,
        "history": _history_entries(action, updates),
        "overdue": action.is_overdue(today),
        "due_soon": action.is_due_soon(today),
        "can_record": access.can_record_progress(request.user, action),
        "can_manage": access.can_manage_strategies(request.user),
        "page_title": action.title,
    })


def progress_record(request, pk: int):
    action = get_object_or_404(selectors_actions.actions_for_page(), pk=pk)
    if not access.can_record_progress(request.user, action):
        raise PermissionDenied("You can record progress only on actions your organisation leads or supports.")
    periods = selectors_actions.reporting_periods()
    recorded = {update.period_id: update for update in action.progress_updates.all()}
    kwargs = {"periods": periods, "recorded_period_ids": set(recorded)}

    if request.method == "POST":
        form = ProgressForm(request.POST, **kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                # A new period is only kept if the progress recorded in it is.
                with transaction.atomic():
                    period = form.chosen_period or services.reporting_period_get_or_create(
                        label=data["period_label"], start=data["period_start"], end=data["period_end"],
                        user=request.user,
                    )
                    revising = period.pk in recorded
                    services.progress_update_record(
                        user=request.user, action=action, period=period, actions_taken=data["actions_taken"],
                        next_steps=data["next_steps"], status=data["status"], rag=rag_from_form(data["rag"]),
                    )
            except ValidationError as error:
                form.add_service_errors(error, {"label": "period_label", "start": "period_start", "end": "period_end"})
            else:
                verb = "revised" if revising else "recorded"
                messages.success(request, f"Progress for {period.label} {verb}")
                return redirect(action.get_absolute_url())
        chosen = recorded.get(int(form.data["period"])) if form.data.get("period", "").isdigit() else None
    else:
        wanted = request.GET.get("period", "")
        by_pk = {str(p.pk): p for p in periods}
        # Progress is usually written just after a period closes, so with no period running the
        # most recent one is the likeliest.
        period = (by_pk.get(wanted) or selectors_actions.period_containing(periods, timezone.localdate())
                  or (periods[0] if periods else None))
        chosen = recorded.get(period.pk) if period else None
        initial = {"period": str(period.pk) if period else NEW_PERIOD,
                   "status": action.status, "rag": rag_to_form(action.rag)}
        if chosen:
            initial |= {"actions_taken": chosen.actions_taken, "next_steps": chosen.next_steps,
                        "status": chosen.status, "rag": rag_to_form(chosen.rag)}
        form = ProgressForm(initial=initial, **kwargs)

    return render(request, "strategy/progress_form.html", {
        "action": action,
        "form": form,
        "revising": chosen,
        "breadcrumbs": _breadcrumbs(action.item.strategy, selectors_actions.item_with_ancestors(action.item),
                                    {"text": action.reference or "Action", "href": action.get_absolute_url()}),
        "page_title": ("Error: " if form.errors else "") + f"Record progress: {action.title}",
    })


def _require_manager(request) -> None:
    if not access.can_manage_strategies(request.user):
        raise PermissionDenied("Only strategy managers can change a strategy.")


def action_edit(request, pk: int):
    action = get_object_or_404(selectors_actions.actions_for_page(), pk=pk)
    _require_manager(request)
    if request.method == "POST":
        form = ActionForm(request.POST, action=action)
        if form.is_valid():
            try:
                services.action_update(user=request.user, action=action, **form.service_values())
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, "Action updated")
                return redirect(action.get_absolute_url())
    else:
        form = ActionForm(action=action)
    return render(request, "strategy/action_form.html", {
        "form": form, "action": action, "item": action.item, "strategy": action.item.strategy,
        "breadcrumbs": _breadcrumbs(action.item.strategy, selectors_actions.item_with_ancestors(action.item),
                                    {"text": action.reference or "Action", "href": action.get_absolute_url()}),
        "heading": "Edit action", "button": "Save changes", "cancel_url": action.get_absolute_url(),
        "page_title": ("Error: " if form.errors else "") + f"Edit action: {action.title}",
    })


def action_create(request, slug: str, pk: int):
    item = get_object_or_404(StrategyItem.objects.select_related("strategy"), pk=pk, strategy__slug=slug)
    _require_manager(request)
    if request.method == "POST":
        form = ActionForm(request.POST)
        if form.is_valid():
            try:
                action = services.action_create(user=request.user, item=item, **form.service_values())
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, "Action added")
                return redirect(action.get_absolute_url())
    else:
        form = ActionForm()
    return render(request, "strategy/action_form.html", {
        "form": form, "action": None, "item": item, "strategy": item.strategy,
        "breadcrumbs": _breadcrumbs(item.strategy, selectors_actions.item_with_ancestors(item)),
        "heading": f"Add an action to {_item_name(item)}", "button": "Add action",
        "cancel_url": item.get_absolute_url(),
        "page_title": ("Error: " if form.errors else "") + "Add an action",
    })


def _item_form_page(request, form: ItemForm, strategy: Strategy, item: StrategyItem | None):
    return render(request, "strategy/item_form.html", {
        "form": form, "strategy": strategy, "item": item,
        "breadcrumbs": _breadcrumbs(strategy, selectors_actions.item_with_ancestors(item) if item else []),
        "heading": f"Edit {_item_name(item)}" if item else f"Add an item to {strategy.title}",
        "button": "Save changes" if item else "Add item",
        "cancel_url": item.get_absolute_url() if item else strategy.get_absolute_url(),
        "page_title": ("Error: " if form.errors else "") + ("Edit item" if item else "Add an item"),
    })


def item_create(request, slug: str):
    strategy = get_object_or_404(Strategy, slug=slug)
    _require_manager(request)
    if request.method == "POST":
        form = ItemForm(request.POST, strategy=strategy)
        if form.is_valid():
            data = form.cleaned_data
            try:
                item = services.item_create(
                    user=request.user, strategy=strategy, parent=data["parent"], code=data["code"],
                    title=data["title"], short_title=data["short_title"], description=data["description"],
                    position=data["position"],
                )
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, f"{_item_name(item)} added")
                return redirect(item.get_absolute_url())
    else:
        wanted = request.GET.get("parent", "")
        parent = StrategyItem.objects.filter(strategy=strategy, pk=wanted).first() if wanted.isdigit() else None
        form = ItemForm(strategy=strategy, initial={"parent": parent})
    return _item_form_page(request, form, strategy, None)


def item_edit(request, slug: str, pk: int):
    item = get_object_or_404(StrategyItem.objects.select_related("strategy", "parent"), pk=pk, strategy__slug=slug)
    strategy = item.strategy
    _require_manager(request)
    if request.method == "POST":
        form = ItemForm(request.POST, strategy=strategy, item=item)
        if form.is_valid():
            data = form.cleaned_data
            try:
                item = services.item_update(
                    user=request.user, item=item, parent=data["parent"], position=data["position"],
                    code=data["code"], title=data["title"], short_title=data["short_title"],
                    description=data["description"],
                )
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, f"{_item_name(item)} updated")
                return redirect(item.get_absolute_url())
    else:
        form = ItemForm(strategy=strategy, item=item)
    return _item_form_page(request, form, strategy, item)
