"""`saferhub partners import [FILE]`: load organisations and governance bodies from a partnership file."""
from django.core.management.base import BaseCommand, CommandError

from saferhub.core.importing import ImportFailed
from saferhub.partners.importer import PARTNERSHIP_FILE
from saferhub.partners.services import partnership_import


class Command(BaseCommand):
    help = "Import organisations and governance bodies (default: the partnership's own data file)."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="{import}")
        load = commands.add_parser("import", help="Create or update organisations and governance bodies by slug")
        load.add_argument("file", nargs="?", default=str(PARTNERSHIP_FILE), metavar="FILE")

    def handle(self, *args, subcommand: str, file: str, **options):
        try:
            result = partnership_import(path=file)
        except ImportFailed as failure:
            for problem in failure.problems:
                self.stderr.write(str(problem))
            raise CommandError(failure.args[0], returncode=1) from None
        self.stdout.write(str(result))
