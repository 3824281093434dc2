"""`saferhub retention run | enqueue | schedules`: apply the retention schedules now, queue them for
the task worker, or list them."""
import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from saferhub.people.models import RetentionSchedule
from saferhub.people.retention import retention_apply
from saferhub.people.tasks import retention_run_task


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"'{value}' is not a date: use YYYY-MM-DD") from None


class Command(BaseCommand):
    help = ("Delete or anonymise closed cases past their retention schedule (skipping those under legal hold), "
            "and remove MATAC police incidents older than SAFERHUB_MATAC_INCIDENT_RETENTION_DAYS.")

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="{run,enqueue,schedules}")
        run = commands.add_parser("run", help="Apply the schedules now and print what was done")
        run.add_argument("--dry-run", action="store_true", help="Print what would be done; change nothing")
        run.add_argument("--today", type=_date, help="Apply them as of this day, YYYY-MM-DD (default: today)")
        commands.add_parser("enqueue", help="Queue a retention run for the task worker")
        commands.add_parser("schedules", help="List the retention schedules")

    def handle(self, *args, subcommand: str, **options):
        if subcommand == "enqueue":
            result = retention_run_task.enqueue()
            self.stdout.write(f"Retention run queued (task {result.id}, {result.status.label.lower()})")
        elif subcommand == "schedules":
            schedules = list(RetentionSchedule.objects.order_by("case_kind"))
            if not schedules:
                self.stdout.write("No retention schedules: every case is kept")
            for schedule in schedules:
                self.stdout.write(str(schedule))
        else:
            from saferhub.matac.retention import incident_retention_apply

            today = options["today"] or timezone.localdate()
            report = retention_apply(today=today, dry_run=options["dry_run"])
            for line in report.lines():
                self.stdout.write(line)
            self.stdout.write(incident_retention_apply(today=today, dry_run=options["dry_run"]).line())
            if report.failed:
                raise CommandError(f"{len(report.failed)} cases could not be dealt with; see above", returncode=1)
