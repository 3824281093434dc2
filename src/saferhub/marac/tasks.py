"""Background tasks of MARAC, run by the django-tasks database worker."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from saferhub.marac.notifications import actions_overdue_remind


@task()
def actions_overdue_remind_task(today: str = "") -> dict:
    """Email each agency's reminders of its overdue MARAC actions as of `today` (ISO date; the local
    date when empty). The scheduler enqueues this once a day (`saferhub scheduler`)."""
    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    return {"as_of": day.isoformat(), "emails": actions_overdue_remind(as_of=day)}
