"""Reads of MARAC action plans: a case's plan, an agency's actions and overdue actions. (The agenda
lists incomplete actions in the two minute categories itself: marac/agenda.py.)

Reads for a user go through `restrict` and write one audit event; `actions_overdue` is the system's
own read (reminders), which shows nothing to anyone by itself."""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404

from saferhub.audit.models import AuditAction
from saferhub.audit.trail import audit_event
from saferhub.marac.action_services import RECORD_TYPE, action_label
from saferhub.marac.models import ActionStatus, MaracAction, MaracArea, MaracReferral
from saferhub.people import access


def is_overdue(action: MaracAction, as_of: dt.date) -> bool:
    return action.status == ActionStatus.OPEN and action.deadline < as_of


def actions_overdue(*, area: MaracArea, as_of: dt.date) -> QuerySet[MaracAction]:
    """Open actions of the area's cases whose deadline passed before `as_of`, oldest deadline first.
    Served by the (status, deadline) index, so it costs the same however long the history is."""
    return (MaracAction.objects.filter(referral__area=area, status=ActionStatus.OPEN, deadline__lt=as_of)
            .select_related("referral__case", "organisation", "assignee").order_by("deadline", "pk"))


@transaction.atomic
def action_plan(*, user, referral_id: int, purpose: str = "MARAC action plan") -> tuple[MaracReferral, list[MaracAction]]:
    """A case's referral and its actions, for someone who may see the case (404 for anyone else)."""
    referral = (MaracReferral.objects.restrict(user, access.VIEW).select_related("case", "area")
                .filter(pk=referral_id).first())
    if referral is None:
        raise Http404("No such MARAC referral")
    actions = list(referral.actions.select_related("organisation", "assignee", "meeting").order_by("deadline", "pk"))
    for action in actions:
        action.referral = referral
    audit_event(user=user, action=AuditAction.VIEW, record_type="marac_referral", record_id=referral.pk,
                record_label=referral.case.reference, fields=["actions"], purpose=purpose)
    return referral, actions


@transaction.atomic
def action_view(*, user, action_id: int, purpose: str = "MARAC action plan") -> MaracAction:
    action = (MaracAction.objects.restrict(user, access.VIEW)
              .select_related("referral__case", "referral__area", "organisation", "assignee", "meeting")
              .filter(pk=action_id).first())
    if action is None:
        raise Http404("No such MARAC action")
    audit_event(user=user, action=AuditAction.VIEW, record_type=RECORD_TYPE, record_id=action.pk,
                record_label=action_label(action), purpose=purpose)
    return action


@transaction.atomic
def actions_for_my_agency(*, user, as_of: dt.date, status: str = "", overdue_only: bool = False,
                          purpose: str = "My agency's MARAC actions") -> list[MaracAction]:
    """The actions assigned to the user's organisation on cases they may see, open ones first by
    deadline. One audit event lists the actions shown."""
    if not user.organisation_id:
        return []
    actions = (MaracAction.objects.restrict(user, access.VIEW).filter(organisation_id=user.organisation_id)
               .select_related("referral__case", "referral__area", "assignee"))
    if status:
        actions = actions.filter(status=status)
    if overdue_only:
        actions = actions.filter(status=ActionStatus.OPEN, deadline__lt=as_of)
    rows = sorted(actions, key=lambda a: (a.status != ActionStatus.OPEN, a.deadline, a.pk))
    audit_event(user=user, action=AuditAction.LIST, record_type=RECORD_TYPE, purpose=purpose,
                fields=["description", "deadline", "status"], detail={"actions": [a.pk for a in rows]})
    return rows
