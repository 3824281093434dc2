"""Who may use MATAC scoring. Explicit and simple: personal data plus a police or MATAC member
organisation to see anything; contributor or above to import and score; administrator to make a
new scheme version. Pages answer 404 to anyone who may not see MATAC at all."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from saferhub.partners.models import GovernanceBody, OrganisationType, Role

MATAC_BODY_SLUG = "matac"


def _member_organisation(user) -> bool:
    organisation = getattr(user, "organisation", None)
    if organisation is None:
        return False
    if organisation.type == OrganisationType.POLICE:
        return True
    return GovernanceBody.objects.filter(slug=MATAC_BODY_SLUG, members=organisation).exists()


def may_see(user) -> bool:
    """May open MATAC scoring pages, ranked lists and score explanations."""
    return bool(user is not None and user.is_authenticated and user.sees_personal_data and _member_organisation(user))


def may_score(user) -> bool:
    """May import extracts and run scoring."""
    return may_see(user) and user.has_role(Role.CONTRIBUTOR)


def may_manage_schemes(user) -> bool:
    return may_see(user) and user.has_role(Role.ADMINISTRATOR)


def may_remove_rows(user) -> bool:
    """May remove rows from the incident store (corrections, erasure, retention)."""
    return may_see(user) and (user.has_role(Role.ADMINISTRATOR) or user.is_data_protection_lead)


def require_see(user) -> None:
    """None (the command line, run by the server's operator) passes; anyone else must may_see."""
    if user is not None and not may_see(user):
        raise Http404("Not found")


def require_score(user) -> None:
    require_see(user)
    if user is not None and not may_score(user):
        raise PermissionDenied("Importing extracts and scoring need the contributor role or above.")


def require_remove_rows(user) -> None:
    require_see(user)
    if user is not None and not may_remove_rows(user):
        raise PermissionDenied("Only an administrator or a data protection lead may remove rows from the store.")


def require_manage_schemes(user) -> None:
    require_see(user)
    if user is not None and not may_manage_schemes(user):
        raise PermissionDenied("Only an administrator may make a new scheme version.")
