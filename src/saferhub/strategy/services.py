"""Writes to strategy data. Each service checks permission, writes in one transaction and records
the edit history (who, when, before and after)."""
import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from saferhub.audit.models import ChangeAction
from saferhub.audit.services import change_record, snapshot
from saferhub.strategy import access
from saferhub.strategy.models import Action, ActionStatus, ProgressUpdate, Rag, ReportingPeriod

PROGRESS_FIELDS = ["actions_taken", "next_steps", "status", "rag", "organisation"]
ACTION_FIELDS = [
    "title", "description", "reference", "governance_body", "start_date", "due_date", "timescale",
    "status", "rag", "outcome_measures", "lead_organisations", "supporting_organisations",
]


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
    status and RAG reported."""
    if not access.can_record_progress(user, action):
        raise PermissionDenied("You can record progress only on actions your organisation leads or supports.")
    actions_taken, next_steps = actions_taken.strip(), next_steps.strip()
    errors = {}
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

    action_before = snapshot(action, ["status", "rag"])
    action.status, action.rag = status, rag
    action.save(update_fields=["status", "rag", "updated_at"])
    change_record(actor=user, instance=action, action=ChangeAction.UPDATE, before=action_before,
                  after=snapshot(action, ["status", "rag"]))
    return update


@transaction.atomic
def action_update(*, user, action: Action, **changes) -> Action:
    """Change an action's fields (strategy managers). Many-to-many fields take organisation lists."""
    if not access.can_manage_strategies(user):
        raise PermissionDenied("Only strategy managers can change an action.")
    unknown = set(changes) - set(ACTION_FIELDS)
    if unknown:
        raise ValueError(f"Unknown action fields: {', '.join(sorted(unknown))}")
    before = snapshot(action, ACTION_FIELDS)
    m2m = {k: changes.pop(k) for k in ["lead_organisations", "supporting_organisations"] if k in changes}
    for name, value in changes.items():
        setattr(action, name, value)
    if action.start_date and action.due_date and action.due_date < action.start_date:
        raise ValidationError({"due_date": "The due date must be on or after the start date"})
    action.full_clean(exclude=["item"])
    action.save()
    for name, orgs in m2m.items():
        getattr(action, name).set(orgs)
    change_record(actor=user, instance=action, action=ChangeAction.UPDATE, before=before,
                  after=snapshot(action, ACTION_FIELDS))
    return action


def reporting_period_get_or_create(*, label: str, start: dt.date, end: dt.date, kind: str = "custom") -> ReportingPeriod:
    if end < start:
        raise ValidationError({"end": f"Period '{label}' ends before it starts"})
    period, _ = ReportingPeriod.objects.get_or_create(label=label, defaults={"start": start, "end": end, "kind": kind})
    return period
