"""`saferhub returns validate --period 2023/24-Q3`: every validation rule violation of a quarter's
returns, with the service, the rule and both sides of the comparison.
`saferhub returns template --service SLUG --period 2023/24-Q3 --format xlsx --output FILE`: the
return template a service fills in for a quarter."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from saferhub.commissioning.models import Service
from saferhub.performance.periods import FinancialQuarter
from saferhub.performance.returns_file import template_csv, template_xlsx
from saferhub.performance.selectors import period_violations


class Command(BaseCommand):
    help = "Check the data returns of a financial quarter against the validation rules, or write a return template."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        validate = sub.add_parser("validate", help="Print every violation of the quarter's returns")
        validate.add_argument("--period", required=True, help="Financial quarter, e.g. 2023/24-Q3")
        template = sub.add_parser("template", help="Write the return template of a service for a quarter")
        template.add_argument("--service", required=True, help="The service's slug, e.g. idas-community-based-support")
        template.add_argument("--period", required=True, help="Financial quarter, e.g. 2023/24-Q3")
        template.add_argument("--format", choices=["xlsx", "csv"], default="xlsx", dest="file_format")
        template.add_argument("--output", required=True, help="The file to write")

    def handle(self, *args, subcommand, period, **options):
        try:
            quarter = FinancialQuarter.parse(period)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if subcommand == "template":
            self.template(quarter, options["service"], options["file_format"], Path(options["output"]))
        else:
            self.validate(quarter)

    def template(self, quarter: FinancialQuarter, slug: str, file_format: str, output: Path) -> None:
        service = Service.objects.filter(slug=slug).first()
        if service is None:
            raise CommandError(f"No service '{slug}'")
        if file_format == "xlsx":
            content = template_xlsx(service, quarter)
        else:
            # The byte-order mark makes Excel read the file as UTF-8, as the web download does.
            content = template_csv(service, quarter).encode("utf-8-sig")
        try:
            output.write_bytes(content)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc}") from exc
        self.stdout.write(f"Wrote the {quarter.label} return template for {service.name} to {output}")

    def validate(self, quarter: FinancialQuarter) -> None:
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
