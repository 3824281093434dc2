"""Writes of MARAC action plans: adding an action for an agency and recording what became of it.
Each checks access through the case, writes one audit event in the same transaction (references and
field names only, never the action's text) and leaves the emails to marac.notifications."""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from saferhub.audit.models import AuditAction
from saferhub.audit.trail import audit_event
from saferhub.marac.models import ActionStatus, MaracAction, MaracMeeting, MaracReferral
from saferhub.partners.models import Organisation, User
from saferhub.people import access
from saferhub.people.models import CaseParty, LawfulBasis
from saferhub.people.services import case_party_add

RECORD_TYPE = "marac_action"
DESCRIPTION_LIMIT = 2000
OUTCOME_LIMIT = 2000
# Statuses that end an action, and what the outcome must say for each.
OUTCOME_NEEDED = {
    ActionStatus.DONE: "Say what was done",
    ActionStatus.NOT_POSSIBLE: "Say what changed so that the action is no longer possible",
    ActionStatus.NOT_UNDERTAKEN: "Say why the agency has not undertaken the action",
}


def is_area_coordinator(user, area_id: int) -> bool:
    """Whether `user` coordinates the MARAC area (coordinators may act on any of its actions)."""
    return bool(user.is_authenticated and user.is_active
                and user.marac_areas.filter(pk=area_id).exists())


def _referral_for_change(user, referral_id: int) -> MaracReferral:
    referral = (MaracReferral.objects.restrict(user, access.CHANGE).select_related("case", "area")
                .filter(pk=referral_id).first())
    if referral is None:
        raise Http404("No such MARAC referral")
    return referral


def action_label(action: MaracAction) -> str:
    """What the audit trail, emails and lists call an action: the case reference and a number."""
    return f"{action.referral.case.reference} action {action.pk}"


@transaction.atomic
def action_add(*, user, referral_id: int, organisation: Organisation, assignee: User | None, description: str,
               deadline: dt.date, meeting: MaracMeeting | None = None) -> MaracAction:
    """Add an action to a case's plan for `organisation` (and optionally one of its staff). The
    coordinators of the area, or anyone who may change the case, may add one. An agency not yet
    party to the case becomes one, on the basis of safeguarding, so its staff can see the action."""
    referral = _referral_for_change(user, referral_id)
    errors = {}
    description = (description or "").strip()
    if not description:
        errors["description"] = "Enter what the agency will do"
    elif len(description) > DESCRIPTION_LIMIT:
        errors["description"] = f"The action must be {DESCRIPTION_LIMIT:,} characters or fewer"
    if organisation is None:
        errors["organisation"] = "Select the agency responsible for the action"
    elif assignee is not None and assignee.organisation_id != organisation.pk:
        errors["assignee"] = f"Select someone who works for {organisation.name}"
    if assignee is not None and not assignee.is_active:
        errors["assignee"] = "Select someone whose account is active"
    if deadline is None:
        errors["deadline"] = "Enter the deadline"
    elif deadline < timezone.localdate():
        errors["deadline"] = "The deadline must be today or in the future"
    if meeting is not None and meeting.area_id != referral.area_id:
        errors["meeting"] = f"Select a meeting of {referral.area.name}"
    if errors:
        raise ValidationError(errors)
    if not CaseParty.objects.filter(case_id=referral.case_id, organisation=organisation).exists():
        case_party_add(user=user, case_id=referral.case_id, organisation=organisation,
                       reason="Assigned a MARAC action", lawful_basis=LawfulBasis.SAFEGUARDING)
    action = MaracAction.objects.create(referral=referral, meeting=meeting, organisation=organisation,
                                        assignee=assignee, description=description, deadline=deadline)
    action.referral = referral
    audit_event(user=user, action=AuditAction.CREATE, record_type=RECORD_TYPE, record_id=action.pk,
                record_label=action_label(action),
                fields=["organisation", "assignee", "description", "deadline", *(["meeting"] if meeting else [])],
                purpose="MARAC action plan")
    from saferhub.marac.notifications import action_assigned_notify

    transaction.on_commit(lambda: action_assigned_notify(action_id=action.pk))
    return action


def action_may_update(user, action: MaracAction) -> bool:
    """Only the assigned agency or the area's coordinators may say what became of an action."""
    if not access._may_act(user, access.CHANGE):
        return False
    return user.organisation_id == action.organisation_id or is_area_coordinator(user, action.referral.area_id)


@transaction.atomic
def action_update_status(*, user, action_id: int, status: str, outcome: str) -> MaracAction:
    """Record that an action was completed, became impossible or was not undertaken (each needs an
    outcome or a reason), or reopen it. Anyone else who can see the case is refused; anyone who
    cannot is told it does not exist."""
    action = (MaracAction.objects.restrict(user, access.VIEW).select_related("referral__case", "referral__area")
              .select_for_update(of=("self",)).filter(pk=action_id).first())
    if action is None:
        raise Http404("No such MARAC action")
    if not action_may_update(user, action):
        raise PermissionDenied("Only the agency the action is assigned to, or the MARAC coordinator, can update it.")
    if status not in ActionStatus.values:
        raise ValidationError({"status": "Select what became of the action"})
    outcome = (outcome or "").strip()
    if status in OUTCOME_NEEDED and not outcome:
        raise ValidationError({"outcome": OUTCOME_NEEDED[ActionStatus(status)]})
    if len(outcome) > OUTCOME_LIMIT:
        raise ValidationError({"outcome": f"The outcome must be {OUTCOME_LIMIT:,} characters or fewer"})
    changed = [name for name, value in (("status", status), ("outcome", outcome)) if getattr(action, name) != value]
    action.status, action.outcome = status, outcome
    # completed_at: when the action stopped being open, whichever way it ended.
    action.completed_at = None if status == ActionStatus.OPEN else timezone.now()
    action.save(update_fields=["status", "outcome", "completed_at"])
    audit_event(user=user, action=AuditAction.UPDATE, record_type=RECORD_TYPE, record_id=action.pk,
                record_label=action_label(action), fields=[*changed, "completed_at"],
                purpose="MARAC action plan", detail={"status": status})
    return action
