"""`saferhub marac …`: MARAC's command line. `checklist load FILE` loads a risk checklist version
(licensed wording, say) which becomes current; `checklist list` prints the versions; `areas load
[FILE]` creates or updates the MARAC areas (default marac/data/areas.yaml).

Each subcommand is one entry in SUBCOMMANDS: a function that adds its arguments and one that runs
it, so other parts of MARAC add theirs without touching the rest."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


def _problems(command: BaseCommand, error: ValidationError) -> CommandError:
    """Print every problem, one a line, and give the error that ends the command with status 1."""
    messages = error.messages
    for message in messages:
        command.stderr.write(message)
    return CommandError(f"{len(messages)} problem{'s' if len(messages) != 1 else ''}; nothing was loaded", returncode=1)


def _checklist_arguments(parser) -> None:
    actions = parser.add_subparsers(dest="checklist_action", required=True, metavar="{load,list}")
    load = actions.add_parser("load", help="Load a checklist file as a new version, which becomes current")
    load.add_argument("file", metavar="FILE")
    actions.add_parser("list", help="Print each version: name, version, questions, current")


def _checklist(command: BaseCommand, options: dict) -> None:
    from saferhub.marac.checklist_services import checklist_list, checklist_load

    if options["checklist_action"] == "load":
        try:
            checklist = checklist_load(user=None, file=options["file"])
        except ValidationError as error:
            raise _problems(command, error) from None
        command.stdout.write(f"Loaded {checklist} with {checklist.questions.count()} questions; it is now current")
        return
    for checklist in checklist_list():
        command.stdout.write(f"{checklist.name}\t{checklist.version}\t{checklist.question_count}\t"
                             f"{'current' if checklist.is_current else ''}".rstrip())


def _areas_arguments(parser) -> None:
    actions = parser.add_subparsers(dest="areas_action", required=True, metavar="{load}")
    load = actions.add_parser("load", help="Create or update the MARAC areas from a YAML file")
    load.add_argument("file", metavar="FILE", nargs="?", default=None)


def _areas(command: BaseCommand, options: dict) -> None:
    from saferhub.marac.area_services import AREAS_FILE, areas_load

    try:
        areas = areas_load(options["file"] or AREAS_FILE)
    except ValidationError as error:
        raise _problems(command, error) from None
    for area in areas:
        command.stdout.write(f"{area.slug}\t{area.name}\t{area.coordinating_organisation.name}")


SUBCOMMANDS = {
    "checklist": ("Risk checklist versions", _checklist_arguments, _checklist),
    "areas": ("MARAC areas", _areas_arguments, _areas),
}


class Command(BaseCommand):
    help = "MARAC: risk checklist versions and areas."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="{" + ",".join(SUBCOMMANDS) + "}")
        for name, (summary, add_arguments, _run) in SUBCOMMANDS.items():
            add_arguments(commands.add_parser(name, help=summary))

    def handle(self, *args, subcommand: str, **options):
        SUBCOMMANDS[subcommand][2](self, options)
