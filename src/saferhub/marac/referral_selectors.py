"""Reads of MARAC referrals: one referral with its people and answers, the referring organisation's
list and the coordinator's queue. Each reads through `restrict` (people/access.py) and writes one
audit event; lists record counts and ids, never names."""
from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404

from saferhub.audit.models import AuditAction
from saferhub.audit.trail import audit_event
from saferhub.marac.models import ChecklistAnswer, ChecklistSection, MaracArea, MaracReferral, ReferralStatus
from saferhub.marac.referral_services import coordinates
from saferhub.partners.models import PersonalDataScope, Role
from saferhub.people import access
from saferhub.people.models import CaseParticipant, ParticipantRole

PAGE_SIZE = 50


def _referrals():
    return MaracReferral.objects.select_related("area", "case", "referring_organisation", "checklist")


def areas_coordinated(user) -> list[MaracArea]:
    """The areas whose queue the user works."""
    if not (user.is_authenticated and user.is_active) or user.personal_data_scope == PersonalDataScope.NONE:
        return []
    condition = Q(coordinators=user)
    if user.organisation_id and user.has_role(Role.CONTRIBUTOR):
        condition |= Q(coordinating_organisation_id=user.organisation_id)
    return list(MaracArea.objects.filter(condition).distinct().order_by("name"))


@dataclass
class ReferralParts:
    victims: list[CaseParticipant]
    perpetrators: list[CaseParticipant]
    children: list
    main_answers: list[ChecklistAnswer]
    stalking_answers: list[ChecklistAnswer]


@transaction.atomic
def referral_view(*, user, referral_id: int, purpose: str = "") -> MaracReferral:
    """One referral, for a user whose organisation is party to its case; 404 for anyone else."""
    referral = _referrals().restrict(user, access.VIEW).filter(pk=referral_id).first()
    if referral is None:
        raise Http404("No such referral")
    audit_event(user=user, action=AuditAction.VIEW, record_type="marac_referral", record_id=referral.pk,
                record_label=referral.case.reference, purpose=purpose)
    return referral


def referral_parts(*, referral: MaracReferral) -> ReferralParts:
    """The people and answers of a referral already opened (and audited) by referral_view."""
    participants = list(CaseParticipant.objects.filter(case_id=referral.case_id).select_related("person").order_by("pk"))
    answers = list(referral.answers.select_related("question").order_by("question__number"))
    return ReferralParts(
        victims=[p for p in participants if p.role == ParticipantRole.VICTIM],
        perpetrators=[p for p in participants if p.role == ParticipantRole.PERPETRATOR],
        children=list(referral.children.select_related("person", "school_organisation").order_by("pk")),
        main_answers=[a for a in answers if a.question.section == ChecklistSection.MAIN],
        stalking_answers=[a for a in answers if a.question.section == ChecklistSection.STALKING],
    )


@transaction.atomic
def referral_list(*, user, page: int | str | None = 1, purpose: str = "") -> Page:
    """The referrals the user's organisation made, newest first."""
    referrals = _referrals().restrict(user, access.VIEW).filter(referring_organisation_id=user.organisation_id) \
        if user.organisation_id else MaracReferral.objects.none()
    result = Paginator(referrals.order_by("-referred_at", "-pk"), PAGE_SIZE).get_page(page)
    audit_event(user=user, action=AuditAction.LIST, record_type="marac_referral", purpose=purpose,
                detail={"count": result.paginator.count, "page": result.number, "results": [r.pk for r in result]})
    return result


@transaction.atomic
def referral_queue(*, user, status: str = ReferralStatus.SUBMITTED, area: MaracArea | None = None,
                   page: int | str | None = 1) -> Page:
    """Referrals of the areas the user coordinates, by status (waiting for a decision first),
    oldest first so the longest waiting is at the top."""
    areas = areas_coordinated(user)
    if area is not None:
        areas = [a for a in areas if a.pk == area.pk]
    referrals = _referrals().restrict(user, access.VIEW).filter(area__in=areas, status=status) \
        .order_by("referred_at", "pk")
    result = Paginator(referrals, PAGE_SIZE).get_page(page)
    audit_event(user=user, action=AuditAction.LIST, record_type="marac_referral", purpose="MARAC coordinator's queue",
                detail={"count": result.paginator.count, "page": result.number, "status": status,
                        "results": [r.pk for r in result]})
    return result


@transaction.atomic
def referral_audit_trail(*, user, referral_id: int, page: int | str | None = 1):
    """Every audit event on a referral and on its case, newest first, for a data protection lead of
    an organisation party to the case. Anyone else is told the referral does not exist."""
    from saferhub.audit.models import AuditEvent
    from saferhub.people.selectors import AUDIT_PAGE_SIZE, AuditTrail, held_case_ids, is_data_protection_lead

    referral = None
    if is_data_protection_lead(user):
        referral = _referrals().filter(pk=referral_id, case_id__in=held_case_ids(user.organisation_id)).first()
    if referral is None:
        raise Http404("No such referral")
    events = AuditEvent.objects.filter(Q(record_type="marac_referral", record_id=str(referral.pk))
                                       | Q(record_type="case", record_id=str(referral.case_id)))
    result = Paginator(events.order_by("-sequence"), AUDIT_PAGE_SIZE).get_page(page)
    audit_event(user=user, action=AuditAction.VIEW, record_type="audit", record_id=f"marac_referral:{referral.pk}",
                record_label=f"Audit trail of {referral.case.reference}", purpose="Data protection oversight",
                detail={"page": result.number, "count": result.paginator.count})
    return AuditTrail(record_type="case", record=referral.case, page=result)


def may_see_audit(*, user, referral: MaracReferral) -> bool:
    from saferhub.people.selectors import may_see_audit_of

    return may_see_audit_of(user=user, case=referral.case)


def repeat_of_visible(*, user, referral: MaracReferral) -> bool:
    """Whether the user may open the earlier referral this one repeats: if not, its reference is not
    shown (it would tell them of a case their organisation is not party to)."""
    return bool(referral.repeat_of_id) and MaracReferral.objects.restrict(user, access.VIEW).filter(
        pk=referral.repeat_of_id).exists()


def may_decide(*, user, referral: MaracReferral) -> bool:
    return (referral.status == ReferralStatus.SUBMITTED and coordinates(user, referral.area)
            and MaracReferral.objects.restrict(user, access.CHANGE).filter(pk=referral.pk).exists())
