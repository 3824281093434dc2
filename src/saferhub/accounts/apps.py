"""The accounts app: registers its deployment checks and starts session clocks at sign-in."""
from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "saferhub.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from saferhub.accounts import checks  # noqa: F401  (registers the checks)
        from saferhub.accounts.middleware import session_clock_start

        user_logged_in.connect(session_clock_start, dispatch_uid="saferhub.accounts.session_clock_start")
