"""`saferhub people demo --cases N [--seed S]`: synthetic cases and people for the demonstration."""
from django.core.management.base import BaseCommand, CommandError

from saferhub.audit.trail import chain_verify
from saferhub.people.demo import DEMO_SEED, demo_people_generate


class Command(BaseCommand):
    help = "The people register's demonstration data: synthetic cases with invented people."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="{demo}")
        demo = commands.add_parser("demo", help="Make synthetic cases (mostly MARAC) with invented victims, children and perpetrators")
        add_demo_arguments(demo)

    def handle(self, *args, subcommand: str, **options):
        run_demo(self, cases=options["cases"], seed=options["seed"])


def add_demo_arguments(parser) -> None:
    parser.add_argument("--cases", type=int, default=24, help="How many cases to make (default 24)")
    parser.add_argument("--seed", type=int, default=DEMO_SEED, help=f"The same seed makes the same people (default {DEMO_SEED})")


def run_demo(command: BaseCommand, *, cases: int, seed: int) -> None:
    if cases < 0:
        raise CommandError("--cases must be 0 or more")
    try:
        lines = demo_people_generate(cases=cases, seed=seed)
    except ValueError as error:
        raise CommandError(str(error)) from None
    for line in lines:
        command.stdout.write(line)
    checked, problem = chain_verify()
    if problem is not None:
        raise CommandError(f"The audit chain does not verify: {problem}")
    command.stdout.write(f"Audit chain verified: {checked} events")
