"""Who may do what with data returns. A provider's staff fill in and submit their own services'
returns; strategy managers and administrators (the commissioners' performance leads) approve them.
Figures are aggregate counts, not personal data: every signed-in member of staff may read them."""
from saferhub.partners.models import Role


def can_view_performance(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def can_edit_return(user, service) -> bool:
    if not can_view_performance(user):
        return False
    if user.has_role(Role.STRATEGY_MANAGER):
        return True
    return user.has_role(Role.CONTRIBUTOR) and user.organisation_id == service.provider_id


def can_approve_return(user) -> bool:
    return can_view_performance(user) and user.has_role(Role.STRATEGY_MANAGER)
