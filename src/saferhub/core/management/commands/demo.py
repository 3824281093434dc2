"""`saferhub demo load | logins`: the demonstration data set and its sign-ins."""
from django.core.management.base import BaseCommand, CommandError

from saferhub.core.demo import demo_load, demo_logins_text
from saferhub.core.importing import ImportFailed
from saferhub.people.management.commands import people as people_demo


class Command(BaseCommand):
    help = "Load the demonstration data (partnership, strategies, one sign-in per role) or list its sign-ins."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="{load,logins,people,marac}")
        load = commands.add_parser("load", help="Load the demonstration data; safe to repeat, keeps changes made since")
        load.add_argument("--refresh", action="store_true", help="Reload every strategy and return from the demo files, replacing changes")
        commands.add_parser("logins", help="Print the demonstration sign-ins and their password")
        people_demo.add_demo_arguments(commands.add_parser("people", help="Synthetic cases and people for the people register"))
        marac = commands.add_parser("marac", help="Synthetic MARAC referrals, meetings and actions (for demos and benchmarks)")
        marac.add_argument("--cases", type=int, default=60, help="How many referrals to make (default 60)")
        marac.add_argument("--seed", type=int, default=2026, help="The same seed makes the same referrals on the same day (default 2026)")
        marac.add_argument("--weeks", type=int, default=78, help="Spread them over this many weeks up to today (default 78)")

    def handle(self, *args, subcommand: str, **options):
        if subcommand == "people":
            people_demo.run_demo(self, cases=options["cases"], seed=options["seed"])
            return
        if subcommand == "marac":
            from saferhub.marac.demo import demo_marac_generate

            if options["cases"] < 0 or options["weeks"] < 1:
                raise CommandError("--cases must be 0 or more and --weeks 1 or more")
            try:
                lines = demo_marac_generate(cases=options["cases"], seed=options["seed"], weeks=options["weeks"])
            except ValueError as error:
                raise CommandError(str(error)) from None
            for line in lines:
                self.stdout.write(line)
            return
        if subcommand == "logins":
            for line in demo_logins_text():
                self.stdout.write(line)
            return
        try:
            lines = demo_load(refresh=options.get("refresh", False))
        except ImportFailed as failure:
            for problem in failure.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"Demo data not loaded: {failure.args[0]}", returncode=1) from None
        for line in lines:
            self.stdout.write(line)
