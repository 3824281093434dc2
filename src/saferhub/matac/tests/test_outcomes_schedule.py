"""The scheduler queues the MATAC outcomes run (12-month re-scores and cohort figures) once a day."""
import datetime as dt

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_the_scheduler_queues_the_outcomes_run_once_a_day():
    from django_tasks_db.models import DBTaskResult

    from saferhub.core.management.commands.scheduler import matac_outcomes_step
    from saferhub.matac.outcomes import outcomes_run_task

    def at(day, hour):
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))

    day = timezone.localdate() - dt.timedelta(days=1)
    assert matac_outcomes_step(at(day, 1), 2) is None, "not yet the hour"
    assert matac_outcomes_step(at(day, 2), 2) is not None
    assert matac_outcomes_step(at(day, 23), 2) is None, "already queued today"
    assert DBTaskResult.objects.filter(task_path=outcomes_run_task.module_path).count() == 1
