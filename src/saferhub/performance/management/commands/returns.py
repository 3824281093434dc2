"""`saferhub returns validate --period 2023/24-Q3`: every validation rule violation of a quarter's
returns, with the service, the rule and both sides of the comparison."""
from django.core.management.base import BaseCommand, CommandError

from saferhub.performance.periods import FinancialQuarter
from saferhub.performance.selectors import period_violations


class Command(BaseCommand):
    help = "Check the data returns of a financial quarter against the validation rules."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        validate = sub.add_parser("validate", help="Print every violation of the quarter's returns")
        validate.add_argument("--period", required=True, help="Financial quarter, e.g. 2023/24-Q3")

    def handle(self, *args, subcommand, period, **options):
        try:
            quarter = FinancialQuarter.parse(period)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        results = period_violations(quarter)
        if not results:
            raise CommandError(f"No data returns for {quarter.label}")
        errors = warnings = 0
        for data_return, violations in results:
            for v in violations:
                self.stdout.write(v.describe())
                errors += v.is_error
                warnings += not v.is_error
        self.stdout.write(
            f"{quarter.label}: {len(results)} returns checked, {errors} error{'s' if errors != 1 else ''}, "
            f"{warnings} warning{'s' if warnings != 1 else ''}"
        )
        if errors:
            raise SystemExit(1)
