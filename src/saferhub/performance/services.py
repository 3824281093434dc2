"""Writes to data returns: opening, saving figures, submitting, approving, reopening. Each checks
permission, runs in one transaction and records the edit history."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from saferhub.audit.models import ChangeAction
from saferhub.audit.services import change_record
from saferhub.performance import access
from saferhub.performance.models import DataElement, DataReturn, DataValue, ReturnStatus
from saferhub.performance.periods import FinancialQuarter
from saferhub.performance.selectors import return_values, return_violations
from saferhub.performance.validation import ValueSet


def _values_snapshot(values: ValueSet) -> dict[str, float]:
    return {
        f"{k.element}{'.' + k.option if k.option else ''}@{k.period_type}{k.period_start.isoformat()}": v
        for k, v in sorted(values.values.items(), key=lambda kv: (kv[0].element, kv[0].option or "", kv[0].period_type, kv[0].period_start))
    }


def _locked_check(data_return: DataReturn) -> None:
    if data_return.status == ReturnStatus.APPROVED:
        raise ValidationError(f"The {data_return} return is approved and locked; it cannot be changed")
    if data_return.status == ReturnStatus.SUBMITTED:
        raise ValidationError(f"The {data_return} return has been submitted; ask for it to be reopened to change it")


@transaction.atomic
def data_return_open(*, user, service, quarter: FinancialQuarter) -> DataReturn:
    """The draft return of `service` for `quarter`, created if there is none."""
    if not access.can_edit_return(user, service):
        raise PermissionDenied("You can fill in returns only for your organisation's services.")
    data_return, created = DataReturn.objects.get_or_create(service=service, quarter_start=quarter.start)
    if created:
        change_record(actor=user, instance=data_return, action=ChangeAction.CREATE, after={"status": data_return.status})
    return data_return


@transaction.atomic
def data_return_save_values(*, user, data_return: DataReturn, values: ValueSet) -> DataReturn:
    """Replace the return's figures with `values` (a draft only)."""
    data_return = DataReturn.objects.select_for_update().select_related("service").get(pk=data_return.pk)
    if not access.can_edit_return(user, data_return.service):
        raise PermissionDenied("You can fill in returns only for your organisation's services.")
    _locked_check(data_return)
    quarter = FinancialQuarter.from_date(data_return.quarter_start)
    if values.quarter != quarter:
        raise ValidationError(f"These figures are for {values.quarter.label}, but the return is for {quarter.label}")
    elements = {e.slug: e for e in DataElement.objects.select_related("breakdown").prefetch_related("breakdown__options")}
    options = {slug: {o.code: o for o in e.breakdown.options.all()} if e.breakdown_id else {} for slug, e in elements.items()}
    rows = []
    for key, value in values.values.items():
        if key.element not in elements:
            raise ValidationError(f"Unknown data element '{key.element}'")
        if key.option is not None and key.option not in options[key.element]:
            raise ValidationError(f"'{elements[key.element].name}' has no breakdown option '{key.option}'")
        if value < 0:
            raise ValidationError(f"{elements[key.element].name}: {value:g} is negative; figures cannot be below zero")
        rows.append(DataValue(
            data_element=elements[key.element], service=data_return.service, period_type=key.period_type,
            period_start=key.period_start, option=options[key.element].get(key.option) if key.option else None,
            value=value, data_return=data_return,
        ))
    before = _values_snapshot(return_values(data_return))
    data_return.values.all().delete()
    DataValue.objects.bulk_create(rows)
    change_record(actor=user, instance=data_return, action=ChangeAction.UPDATE, before=before, after=_values_snapshot(values))
    return data_return


@transaction.atomic
def data_return_submit(*, user, data_return: DataReturn, comments: dict[str, str] | None = None) -> DataReturn:
    """Submit a draft. Errors block submission; every warning needs a comment explaining it."""
    data_return = DataReturn.objects.select_for_update().select_related("service").get(pk=data_return.pk)
    if not access.can_edit_return(user, data_return.service):
        raise PermissionDenied("You can submit returns only for your organisation's services.")
    if data_return.status != ReturnStatus.DRAFT:
        raise ValidationError(f"The {data_return} return has already been {data_return.get_status_display().lower()}")
    if not data_return.values.exists():
        raise ValidationError("Enter the return's figures before submitting it")
    comments = {k: v.strip() for k, v in (comments or {}).items() if v and v.strip()}
    violations = return_violations(data_return)
    errors = [v for v in violations if v.is_error]
    if errors:
        raise ValidationError([f"{v.rule.name}: {v.message} ({v.left_label} = {v.left_value:g}; {v.right_label} = "
                               f"{'missing' if v.right_value is None else format(v.right_value, 'g')})" for v in errors])
    unexplained = [v for v in violations if not v.is_error and v.rule.slug not in comments]
    if unexplained:
        raise ValidationError({f"comment-{v.rule.slug}": f"Explain the warning: {v.rule.name}" for v in unexplained})
    data_return.warning_comments = {v.rule.slug: comments[v.rule.slug] for v in violations if not v.is_error}
    data_return.status = ReturnStatus.SUBMITTED
    data_return.submitted_at, data_return.submitted_by = timezone.now(), user
    data_return.save()
    change_record(actor=user, instance=data_return, action=ChangeAction.UPDATE,
                  before={"status": ReturnStatus.DRAFT}, after={"status": data_return.status, "warning_comments": data_return.warning_comments})
    return data_return


@transaction.atomic
def data_return_approve(*, user, data_return: DataReturn) -> DataReturn:
    if not access.can_approve_return(user):
        raise PermissionDenied("Only strategy managers can approve returns.")
    data_return = DataReturn.objects.select_for_update().get(pk=data_return.pk)
    if data_return.status != ReturnStatus.SUBMITTED:
        raise ValidationError(f"Only a submitted return can be approved; this one is {data_return.get_status_display().lower()}")
    data_return.status = ReturnStatus.APPROVED
    data_return.approved_at, data_return.approved_by = timezone.now(), user
    data_return.save()
    change_record(actor=user, instance=data_return, action=ChangeAction.UPDATE,
                  before={"status": ReturnStatus.SUBMITTED}, after={"status": ReturnStatus.APPROVED})
    return data_return


@transaction.atomic
def data_return_reopen(*, user, data_return: DataReturn, reason: str) -> DataReturn:
    """Send a submitted return back to its provider as a draft, saying why."""
    if not access.can_approve_return(user):
        raise PermissionDenied("Only strategy managers can reopen returns.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the return is being reopened"})
    data_return = DataReturn.objects.select_for_update().get(pk=data_return.pk)
    if data_return.status != ReturnStatus.SUBMITTED:
        raise ValidationError("Only a submitted return can be reopened; an approved return is locked")
    data_return.status = ReturnStatus.DRAFT
    data_return.save()
    change_record(actor=user, instance=data_return, action=ChangeAction.UPDATE,
                  before={"status": ReturnStatus.SUBMITTED}, after={"status": ReturnStatus.DRAFT, "reason": reason.strip()})
    return data_return
