"""`saferhub report progress`: write a strategy's Progress Update for a period to a file, as published
if it has been, else as it stands in the tracker now. `saferhub report performance`: write the
quarterly performance report (saferhub.performance.report)."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from saferhub.publishing import selectors
from saferhub.publishing.progress_report import progress_document_build
from saferhub.publishing.renderers import FORMATS, document_render
from saferhub.strategy.models import ReportingPeriod, Strategy


class Command(BaseCommand):
    help = "Write a Progress Update, or the quarterly performance report, as html, pdf or docx."

    def add_arguments(self, parser):
        documents = parser.add_subparsers(dest="document", required=True, metavar="{progress,performance}")
        parser = documents.add_parser("progress", help="The Progress Update of a strategy for a reporting period")
        parser.add_argument("--strategy", required=True, help="The strategy's slug, e.g. joint-vawg-strategy")
        parser.add_argument("--period", required=True, help="The reporting period's label, e.g. 'June 2023'")
        parser.add_argument("--format", dest="fmt", choices=list(FORMATS), default="pdf")
        parser.add_argument("--output", help="File to write (default: <strategy>-progress-update-<period>.<format>)")
        performance = documents.add_parser(
            "performance", help="The quarterly performance report from approved returns, disclosure control applied")
        performance.add_argument("--period", required=True, help="The financial quarter, e.g. 2023/24-Q3")
        performance.add_argument("--format", dest="fmt", choices=list(FORMATS), default="pdf")
        performance.add_argument("--output", help="File to write (default: performance-report-<quarter>.<format>)")
        performance.add_argument("--internal", action="store_true",
                                 help="Exact figures and the validation findings: not for publication")

    def handle(self, *args, document: str = "progress", strategy: str = "", period: str, fmt: str, output: str | None,
               internal: bool = False, **options):
        if document == "performance":
            # Imported here: the performance report loads the charting libraries, slow to import.
            from saferhub.performance.report import ReportError, performance_report_write

            try:
                self.stdout.write(performance_report_write(period=period, fmt=fmt, output=output, internal=internal))
            except ReportError as error:
                raise CommandError(str(error)) from None
            return
        found = Strategy.objects.filter(slug=strategy).first()
        if found is None:
            slugs = ", ".join(Strategy.objects.order_by("slug").values_list("slug", flat=True)) or "none loaded"
            raise CommandError(f"Unknown strategy '{strategy}'. Strategies: {slugs}")

        chosen = self._period(found, period)
        report = selectors.report_for(found, chosen)
        if report is not None:
            content = selectors.report_file(report, fmt)
            filename = selectors.report_filename(report, fmt)
            state = "published version" if report.is_published else "draft, as it stands now"
        else:
            content = document_render(progress_document_build(strategy=found, period=chosen), fmt)
            filename = f"{found.slug}-progress-update-{slugify(chosen.label)}.{fmt}"
            state = "no report drafted yet, as it stands now"

        path = Path(output or filename)
        try:
            path.write_bytes(content)
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error.strerror}") from error
        self.stdout.write(f"Wrote {path} ({len(content):,} bytes; {state})")

    def _period(self, strategy: Strategy, label: str) -> ReportingPeriod:
        periods = list(selectors.strategy_periods(strategy))
        for match in (
            lambda p: p.label == label,
            lambda p: p.label.lower() == label.strip().lower(),
            lambda p: slugify(p.label) == slugify(label),
        ):
            found = [p for p in periods if match(p)]
            if found:
                return found[0]
        labels = ", ".join(p.label for p in periods) or "none: no progress has been recorded"
        raise CommandError(f"Unknown period '{label}' for {strategy.slug}. Periods: {labels}")
