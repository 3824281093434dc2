"""`saferhub strategy list | import FILE... | template --output FILE.xlsx`: strategies from files."""
from django.core.management.base import BaseCommand, CommandError

from saferhub.core.importing import ImportFailed
from saferhub.strategy.importer import strategy_import, tracker_template_write
from saferhub.strategy.models import Strategy


def problems_report(command: BaseCommand, failure: ImportFailed) -> CommandError:
    """Print every problem, one a line, and give the error that ends the command with status 1."""
    for problem in failure.problems:
        command.stderr.write(str(problem))
    return CommandError(failure.args[0], returncode=1)


class Command(BaseCommand):
    help = "List strategies, import strategy files (YAML, JSON or XLSX trackers), or write an empty XLSX tracker."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="{list,import,template}")
        commands.add_parser("list", help="Print each strategy's slug and title, tab-separated")
        load = commands.add_parser("import", help="Import strategy files, all or nothing")
        load.add_argument("files", nargs="+", metavar="FILE")
        template = commands.add_parser("template", help="Write an empty XLSX action tracker")
        template.add_argument("--output", required=True, metavar="FILE.xlsx")

    def handle(self, *args, subcommand: str, **options):
        if subcommand == "list":
            for slug, title in Strategy.objects.values_list("slug", "title"):
                self.stdout.write(f"{slug}\t{title}")
        elif subcommand == "import":
            try:
                results = strategy_import(paths=options["files"])
            except ImportFailed as failure:
                raise problems_report(self, failure) from None
            for result in results:
                self.stdout.write(str(result))
        else:
            output = options["output"]
            if not output.lower().endswith(".xlsx"):
                raise CommandError("The template is an XLSX workbook: give an --output name ending .xlsx")
            try:
                path = tracker_template_write(output)
            except OSError as error:
                raise CommandError(f"Cannot write {output}: {error.strerror or error}") from error
            self.stdout.write(f"Wrote {path}")
