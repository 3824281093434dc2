"""`saferhub api_token create --user USERNAME --name NAME [--days N] [--scope general|marac_submit]` |
`list` | `revoke PREFIX`: bearer tokens for partners' own systems (a provider's case system sending
its data returns; a police or hospital case system making MARAC referrals with a marac_submit token)."""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from saferhub.accounts.models import ApiToken, ApiTokenScope
from saferhub.accounts.tokens import api_token_create, api_token_revoke
from saferhub.partners.models import User


class Command(BaseCommand):
    help = "Make, list and revoke API tokens for partners' own systems."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        create = sub.add_parser("create", help="Make a token; it is printed once")
        create.add_argument("--user", required=True, help="The account the system acts as")
        create.add_argument("--name", required=True, help="Which system uses it")
        create.add_argument("--days", type=int, default=365, help="Days until it expires (0: never)")
        create.add_argument("--scope", choices=ApiTokenScope.values, default=ApiTokenScope.GENERAL,
                            help="general (default): the API as the account, refused for accounts that see "
                                 "personal data; marac_submit: only POST /api/marac/referrals/, reads nothing")
        sub.add_parser("list", help="List tokens (never the tokens themselves)")
        revoke = sub.add_parser("revoke", help="Revoke a token by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args, subcommand, **options):
        if subcommand == "create":
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No account is called {options['user']}")
            try:
                record, token = api_token_create(user=user, name=options["name"], days=options["days"] or None,
                                                 scope=options["scope"])
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from None
            self.stdout.write(f"Token ({record.scope}) for {user.username} ({record.name}); "
                              f"it will not be shown again:\n{token}")
        elif subcommand == "list":
            for record in ApiToken.objects.select_related("user"):
                state = "revoked" if record.revoked_at else f"expires {record.expires_at:%d %B %Y}" if record.expires_at else "no expiry"
                self.stdout.write(f"{record.prefix}…\t{record.user.username}\t{record.scope}\t{record.name}\t{state}")
        else:
            matches = list(ApiToken.objects.filter(prefix=options["prefix"].rstrip("…")))
            if len(matches) != 1:
                raise CommandError(f"{len(matches)} tokens start with {options['prefix']}; give the prefix `list` shows")
            api_token_revoke(token=matches[0])
            self.stdout.write(f"Revoked {matches[0]}")
