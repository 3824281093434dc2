"""`saferhub keys generate | rotate | reindex`: field encryption keys and blind indexes."""
from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand, CommandError

from saferhub.core.key_rotation import KeyRotationError, keys_reindex, keys_rotate


class Command(BaseCommand):
    help = "Generate a field encryption key, rotate the keys (re-encrypting everything), or recompute blind indexes."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="{generate,rotate,reindex}")
        commands.add_parser("generate", help="Print a new Fernet key (for SAFERHUB_FIELD_KEYS or a key file)")
        rotate = commands.add_parser(
            "rotate", help="Re-encrypt every encrypted value under the newest key. With a key file, a new key is "
                           "generated and written first in it; with SAFERHUB_FIELD_KEYS, put the new key first yourself")
        rotate.add_argument("--drop-old", action="store_true",
                            help="Key file only: remove the old keys from the file once everything is re-encrypted")
        commands.add_parser("reindex", help="Recompute every person's blind indexes (after the blind-index key changed)")

    def handle(self, *args, subcommand: str, **options):
        if subcommand == "generate":
            self.stdout.write(Fernet.generate_key().decode())
            return
        try:
            if subcommand == "rotate":
                for line in keys_rotate(drop_old=options["drop_old"]).lines():
                    self.stdout.write(line)
            else:
                self.stdout.write(f"Recomputed the blind indexes of {keys_reindex()} people")
        except KeyRotationError as error:
            raise CommandError(str(error), returncode=1) from None
