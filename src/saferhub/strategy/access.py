"""Who may do what with strategy data. Strategy data holds no personal data: every signed-in
member of staff may read it; writes depend on role and, for contributors, on organisation."""
from saferhub.partners.models import Role
from saferhub.strategy.models import Action


def can_view_strategies(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def can_manage_strategies(user) -> bool:
    """Edit a strategy's structure and actions, publish Progress Updates."""
    return can_view_strategies(user) and user.has_role(Role.STRATEGY_MANAGER)


def organisation_is_party(organisation_id: int | None, action: Action) -> bool:
    if organisation_id is None:
        return False
    lead_ids = {o.pk for o in action.lead_organisations.all()}
    support_ids = {o.pk for o in action.supporting_organisations.all()}
    return organisation_id in lead_ids | support_ids


def can_record_progress(user, action: Action) -> bool:
    """Contributors record progress on actions their organisation leads or supports; strategy
    managers and administrators on any action."""
    if not can_view_strategies(user):
        return False
    if user.has_role(Role.STRATEGY_MANAGER):
        return True
    return user.has_role(Role.CONTRIBUTOR) and organisation_is_party(user.organisation_id, action)
