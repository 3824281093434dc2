"""One NinjaAPI for the platform; each app adds its router."""
from ninja import NinjaAPI
from ninja.security import django_auth

from saferhub.accounts.tokens import api_token_auth

api = NinjaAPI(
    title="Saferhub API",
    version="1",
    description=(
        "Strategies, their items, actions and progress updates; performance indicators, services, figures and "
        "data returns; under the same permissions as the web."
    ),
    # A bearer token for a partner's own system (tried first: a request carrying one needs no
    # CSRF token), or else the web session, with CSRF on writes.
    auth=[api_token_auth, django_auth],
)

api.add_router("/strategies/", "saferhub.strategy.api.strategies_router")
api.add_router("/actions/", "saferhub.strategy.api.actions_router")
api.add_router("/indicators/", "saferhub.performance.api.indicators_router")
api.add_router("/values/", "saferhub.performance.api.values_router")
api.add_router("/services/", "saferhub.performance.api.services_router")
api.add_router("/returns/", "saferhub.performance.api.returns_router")
api.add_router("/people/", "saferhub.people.api.router")
api.add_router("/marac/", "saferhub.marac.api.router")
