"""Reads of strategy data."""
from django.db.models import Q
from django.utils import timezone

from saferhub.strategy.models import OPEN_STATUSES, Action, Strategy


def home_summary(*, user) -> dict:
    mine = Action.objects.none()
    if user.organisation_id:
        org = user.organisation_id
        mine = Action.objects.filter(status__in=OPEN_STATUSES).filter(
            Q(pk__in=Action.lead_organisations.through.objects.filter(organisation_id=org).values("action_id"))
            | Q(pk__in=Action.supporting_organisations.through.objects.filter(organisation_id=org).values("action_id"))
        )
    return {
        "strategies": Strategy.objects.all(),
        "my_actions_count": mine.count(),
        "my_overdue_count": mine.filter(due_date__lt=timezone.localdate()).count(),
    }
