"""`saferhub scheduler`: queue the daily retention run (and the overdue MARAC action reminders) for the task worker at a set hour.

It catches up: started after the hour with no run queued since, it queues one at once, so a
server that was down overnight still applies the schedules that day. What was queued is read
back from the task queue, so restarting the scheduler does not queue a second run."""
from __future__ import annotations

import datetime as dt
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from saferhub.core.formatting import datetime_uk

# Sleep at most this long at a time, so a changed clock (or summer time) is noticed.
NAP_SECONDS = 60


def run_time(now: dt.datetime, hour: int) -> dt.datetime:
    """Today's run time: `hour` o'clock local time on the local date of `now`."""
    local = timezone.localtime(now)
    return timezone.make_aware(dt.datetime.combine(local.date(), dt.time(hour)))


def next_run_time(now: dt.datetime, hour: int) -> dt.datetime:
    today = run_time(now, hour)
    if now < today:
        return today
    tomorrow = timezone.localtime(now).date() + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(tomorrow, dt.time(hour)))


def queued_since(moment: dt.datetime, task=None) -> bool:
    """Whether a retention run (or `task`) was queued at or after `moment` (known only for the database queue)."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    from saferhub.people.tasks import retention_run_task

    task = task or retention_run_task
    if not isinstance(task.get_backend(), DatabaseBackend):
        return False
    return DBTaskResult.objects.filter(task_path=task.module_path, enqueued_at__gte=moment).exists()


def scheduler_step(now: dt.datetime, hour: int, last_queued: dt.datetime | None = None):
    """Queue the retention run if today's run time has passed and none was queued since. Returns
    the task result when one was queued, else None."""
    from saferhub.people.tasks import retention_run_task

    due = run_time(now, hour)
    if now < due or (last_queued is not None and last_queued >= due) or queued_since(due):
        return None
    return retention_run_task.enqueue()


def marac_reminder_step(now: dt.datetime, hour: int, last_queued: dt.datetime | None = None):
    """Queue the day's reminders of overdue MARAC actions once `hour` has passed, if any action is
    overdue and none was queued since. Returns the task result when one was queued, else None."""
    from saferhub.marac.models import ActionStatus, MaracAction
    from saferhub.marac.tasks import actions_overdue_remind_task

    due = run_time(now, hour)
    if now < due or (last_queued is not None and last_queued >= due) or queued_since(due, actions_overdue_remind_task):
        return None
    if not MaracAction.objects.filter(status=ActionStatus.OPEN, deadline__lt=timezone.localtime(now).date()).exists():
        return None
    return actions_overdue_remind_task.enqueue()


def matac_outcomes_step(now: dt.datetime, hour: int, last_queued: dt.datetime | None = None):
    """Queue the day's MATAC outcomes run (12-month re-scores of adoptions past their anniversary
    and the cohort figures) once `hour` has passed, if none was queued since."""
    from saferhub.matac.outcomes import outcomes_run_task

    due = run_time(now, hour)
    if now < due or (last_queued is not None and last_queued >= due) or queued_since(due, outcomes_run_task):
        return None
    return outcomes_run_task.enqueue()


def audit_anchor_step(now: dt.datetime, hour: int, last_queued: dt.datetime | None = None):
    """Queue the day's anchor of the audit trail (its head written outside the database) once
    `hour` has passed, if none was queued since."""
    from saferhub.audit.tasks import anchor_task

    due = run_time(now, hour)
    if now < due or (last_queued is not None and last_queued >= due) or queued_since(due, anchor_task):
        return None
    return anchor_task.enqueue()


class Command(BaseCommand):
    help = ("Queue the daily jobs for the task worker (`saferhub db_worker`): the retention run and the MATAC "
            "outcomes run and the audit trail's anchor at SAFERHUB_RETENTION_HOUR, overdue MARAC action reminders at "
            "SAFERHUB_MARAC_REMINDER_HOUR.")

    def add_arguments(self, parser):
        parser.add_argument("--hour", type=int, default=None, help="Hour of the day, 0-23 (default: SAFERHUB_RETENTION_HOUR, 2)")
        parser.add_argument("--once", action="store_true", help="Queue the run if it is due now, then exit")

    def handle(self, *args, hour: int | None, once: bool, **options):
        hour = settings.SAFERHUB_RETENTION_HOUR if hour is None else hour
        if not 0 <= hour <= 23:
            raise CommandError("The hour must be between 0 and 23")
        last_queued = last_reminded = last_outcomes = last_anchored = None
        reminder_hour = settings.SAFERHUB_MARAC_REMINDER_HOUR
        if not once:
            self.stdout.write(f"Scheduler: the retention run is queued daily at {hour:02d}:00, "
                              f"overdue MARAC action reminders at {reminder_hour:02d}:00, "
                              f"the MATAC outcomes run and the audit trail's anchor at {hour:02d}:00")
        try:
            while True:
                close_old_connections()
                now = timezone.now()
                result = scheduler_step(now, hour, last_queued)
                if result is not None:
                    last_queued = now
                    self.stdout.write(f"{datetime_uk(now)}: retention run queued (task {result.id})")
                elif once:
                    self.stdout.write("Nothing to queue: the retention run is not due, or was already queued today")
                reminders = marac_reminder_step(now, reminder_hour, last_reminded)
                if reminders is not None:
                    last_reminded = now
                    self.stdout.write(f"{datetime_uk(now)}: overdue MARAC action reminders queued (task {reminders.id})")
                outcomes = matac_outcomes_step(now, hour, last_outcomes)
                if outcomes is not None:
                    last_outcomes = now
                    self.stdout.write(f"{datetime_uk(now)}: MATAC outcomes run queued (task {outcomes.id})")
                anchor = audit_anchor_step(now, hour, last_anchored)
                if anchor is not None:
                    last_anchored = now
                    self.stdout.write(f"{datetime_uk(now)}: audit trail anchor queued (task {anchor.id})")
                if once:
                    return
                wait = (min(next_run_time(timezone.now(), hour), next_run_time(timezone.now(), reminder_hour))
                        - timezone.now()).total_seconds()
                time.sleep(max(1.0, min(NAP_SECONDS, wait)))
        except KeyboardInterrupt:
            return
