"""Need-to-know access to personal data, as querysets (after NetBox's RestrictedQuerySet).

Every list, search, export and detail page reads people and cases through `restrict(user,
action)`, so they cannot disagree; a record outside the user's scope is simply not in the
queryset, and the view answers 404 exactly as for a record that does not exist."""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

VIEW = "view"
CHANGE = "change"
ACTIONS = (VIEW, CHANGE)


def _may_act(user, action: str) -> bool:
    from saferhub.partners.models import PersonalDataScope, Role

    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}")
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.personal_data_scope == PersonalDataScope.NONE:
        return False
    return action == VIEW or user.has_role(Role.CONTRIBUTOR)


def visible_case_ids(user, action: str = VIEW):
    """A subquery of the ids of cases `user` may see: those their organisation is party to, every
    case for an explicitly broader scope, and — to read, never to change — any they opened by
    break-glass (until it expires)."""
    from saferhub.partners.models import PersonalDataScope
    from saferhub.people.models import BreakGlassAccess, Case, CaseParty

    if user.personal_data_scope == PersonalDataScope.ALL:
        return Case.objects.values("pk")
    condition = Q(pk__in=[])
    if action == VIEW:
        condition |= Q(pk__in=BreakGlassAccess.objects.filter(user=user, expires_at__gt=timezone.now()).values("case_id"))
    if user.organisation_id:
        condition |= Q(pk__in=CaseParty.objects.filter(organisation_id=user.organisation_id).values("case_id"))
    return Case.objects.filter(condition).values("pk")


class CaseQuerySet(models.QuerySet):
    def restrict(self, user, action: str = VIEW):
        if not _may_act(user, action):
            return self.none()
        return self.filter(pk__in=visible_case_ids(user, action))


class PersonQuerySet(models.QuerySet):
    def restrict(self, user, action: str = VIEW):
        """People in a case the user may see, and people their organisation registered who are not
        in any case yet."""
        from saferhub.people.models import CaseParticipant

        if not _may_act(user, action):
            return self.none()
        in_visible_case = Q(pk__in=CaseParticipant.objects.filter(case_id__in=visible_case_ids(user, action)).values("person_id"))
        condition = in_visible_case
        if user.organisation_id:
            condition |= Q(created_by_organisation_id=user.organisation_id) & ~Q(
                pk__in=CaseParticipant.objects.values("person_id"))
        return self.filter(condition)


def restrict_by_case(queryset: models.QuerySet, user, action: str = VIEW, case_field: str = "case") -> models.QuerySet:
    """Restrict any model that belongs to a case (a MARAC referral, an action plan item…)."""
    if not _may_act(user, action):
        return queryset.none()
    return queryset.filter(**{f"{case_field}__in": visible_case_ids(user, action)})


def case_scoped(case_field: str = "case") -> type[models.QuerySet]:
    """A QuerySet class for a model that belongs to a case through `case_field` (a MARAC referral,
    a MATAC nomination, an action…): its `restrict(user, action)` is `restrict_by_case`."""

    class CaseScopedQuerySet(models.QuerySet):
        def restrict(self, user, action: str = VIEW):
            return restrict_by_case(self, user, action, case_field=case_field)

    CaseScopedQuerySet.__qualname__ = CaseScopedQuerySet.__name__ = f"CaseScopedQuerySet[{case_field}]"
    return CaseScopedQuerySet
