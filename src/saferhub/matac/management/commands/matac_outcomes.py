"""`saferhub matac_outcomes [--as-of YYYY-MM-DD] [--start DATE --end DATE]`: re-score every MATAC
adoption whose 12-month anniversary has passed, write the quarterly MATAC figures to the
performance framework and print the cohort report (counts only, never a person)."""
from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from saferhub.matac import outcomes


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option}: '{text}' is not a date; write it as YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "Re-score MATAC adoptions due their 12-month score, chart the outcomes and print the cohort report"

    def add_arguments(self, parser):
        parser.add_argument("--as-of", default="", help="The date to work as at (default today), YYYY-MM-DD")
        parser.add_argument("--start", default="", help="Cohort: adopted on or after (default: the earliest adoption)")
        parser.add_argument("--end", default="", help="Cohort: adopted on or before (default: as-of)")

    def handle(self, *args, as_of, start, end, **options):
        day = _date(as_of, "--as-of") if as_of else timezone.localdate()
        if day > timezone.localdate():
            raise CommandError(f"--as-of: {day} is in the future")
        scores, returns = outcomes.outcomes_run(as_of=day)
        self.stdout.write(f"Re-scored at 12 months: {len(scores)}")
        self.stdout.write(f"Quarterly MATAC returns written to the performance framework: {returns}")
        first = outcomes.Adoption.objects.order_by("adopted_on").values_list("adopted_on", flat=True).first()
        cohort_start = _date(start, "--start") if start else (first or day)
        cohort_end = _date(end, "--end") if end else day
        if cohort_end < cohort_start:
            raise CommandError("--end must be on or after --start")
        report = outcomes.cohort_report(start=cohort_start, end=cohort_end, as_of=day)
        share = lambda value: "–" if value is None else f"{value:.1f}%"  # noqa: E731
        self.stdout.write(f"Cohort adopted {cohort_start} to {cohort_end}, as at {day}:")
        self.stdout.write(f"  adopted {report.adopted}; re-scored at 12 months {report.rescored} "
                          f"(awaiting {report.awaiting_rescore})")
        self.stdout.write(f"  lower score at 12 months {report.lower} ({share(report.lower_share)}); same {report.same}; "
                          f"higher {report.higher}")
        self.stdout.write(f"  no incident in the last 2 years {report.no_incident_two_years} "
                          f"({share(report.no_incident_share)}); exited {report.exited}")
