"""Background tasks of the people register, run by the django-tasks database worker."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from saferhub.people.retention import retention_apply


@task()
def retention_run_task(today: str = "") -> dict:
    """Apply the retention schedules as of `today` (ISO date; the local date when empty), and the
    MATAC incident store's retention period. The scheduler enqueues this once a day (`saferhub scheduler`)."""
    from saferhub.matac.retention import incident_retention_apply

    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    report = retention_apply(today=day).as_dict()
    # The same daily run keeps the MATAC incident store to its retention period.
    report["matac_incidents"] = incident_retention_apply(today=day).as_dict()
    return report
