"""Transferring a MARAC case to another MARAC area with its history (DOMAIN.md §3), and reading that
history from the receiving side.

The old referral is not moved: it stays in its area, marked transferred, because it is the record of
what that MARAC did (it was counted in that area's MARAC data, heard at its meetings, and its
actions were agreed there). The receiving area gets a new referral on a new case holding the same
people from the register (linked, not copied), the checklist answers, score, criteria, safe contact
details and children, waiting in its coordinator's queue. A ReferralTransfer links the two.

Sending the history is a disclosure: the receiving area's coordinating organisation is made a party
to the old case and to the new one, each recorded as a Disclosure on the lawful basis of
safeguarding. Being party to the old case is what lets the receiving coordinator read its meetings,
actions and agency research; an agency party to neither case sees nothing of it."""
from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404

from saferhub.audit.models import AuditAction
from saferhub.audit.trail import audit_event
from saferhub.marac.models import (
    AgencyResearch, Attendance, ChecklistAnswer, MaracAction, MaracArea, MaracMeeting, MaracReferral, ReferralChild, ReferralStatus,
    ReferralTransfer,
)
from saferhub.marac.repeat_services import areas_coordinated_by
from saferhub.people import access
from saferhub.people import services as people_services
from saferhub.people.models import CaseKind, CaseParticipant, LawfulBasis

REASON_MAX = 1000
TRANSFER_PURPOSE = "MARAC case transfer (safeguarding)"
# What the new referral carries over from the old one.
COPIED_FIELDS = ["referring_organisation_id", "checklist_id", "score", "criteria_met", "criteria_explained", "assessed_on",
                 "professional_judgement", "professional_judgement_reasons", "incidents_in_window", "safe_contact_details",
                 "safe_to_call", "has_children", "is_repeat", "repeat_of_id"]


def transfer_areas(*, referral: MaracReferral) -> list[MaracArea]:
    """The areas a referral may be transferred to: every other active area."""
    return list(MaracArea.objects.filter(active=True).exclude(pk=referral.area_id).select_related("coordinating_organisation"))


def referral_for_transfer(*, user, referral_id: int, lock: bool = False) -> MaracReferral:
    """The referral, if the user coordinates its area and may change its case; otherwise 404."""
    referrals = MaracReferral.objects.restrict(user, access.CHANGE).filter(area__in=areas_coordinated_by(user))
    if lock:
        referrals = referrals.select_for_update(of=("self",))
    referral = referrals.select_related("area", "case").filter(pk=referral_id).first()
    if referral is None:
        raise Http404("No such referral")
    return referral


def _copy_fields(old: MaracReferral) -> dict:
    values = {}
    for name in COPIED_FIELDS:
        values[name] = getattr(old, name)
    return values


@transaction.atomic
def referral_transfer(*, user, referral_id: int, to_area: MaracArea | None, reason: str) -> ReferralTransfer:
    """Transfer a referral to another MARAC area with its history. All or nothing."""
    from django.utils import timezone

    old = referral_for_transfer(user=user, referral_id=referral_id, lock=True)
    errors = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "Say why the case is being transferred"
    elif len(reason) > REASON_MAX:
        errors["reason"] = f"The reason must be {REASON_MAX:,} characters or fewer"
    if to_area is None or not MaracArea.objects.filter(pk=to_area.pk, active=True).exists():
        errors["to_area"] = "Select the MARAC area the case is moving to"
    elif to_area.pk == old.area_id:
        errors["to_area"] = f"The case is already in {old.area.name}: select another area"
    if old.status in (ReferralStatus.DECLINED, ReferralStatus.TRANSFERRED):
        errors["referral"] = f"A referral that has been {old.get_status_display().lower()} cannot be transferred"
    if errors:
        raise ValidationError(errors)
    receiving = to_area.coordinating_organisation
    disclosure = f"{TRANSFER_PURPOSE}: from {old.area.name} to {to_area.name}"
    # The receiving MARAC reads the old case's history as a party to it.
    people_services.case_party_add(user=user, case_id=old.case_id, organisation=receiving,
                                   reason=f"Receiving MARAC ({to_area.name}) of a transferred case",
                                   lawful_basis=LawfulBasis.SAFEGUARDING)
    case = people_services.case_open(user=user, kind=CaseKind.MARAC, purpose=TRANSFER_PURPOSE, summary=old.case.summary,
                                     reference=people_services.case_reference_next(kind=CaseKind.MARAC))
    people_services.case_party_add(user=user, case_id=case.pk, organisation=receiving, reason=f"Coordinates {to_area.name}",
                                   lawful_basis=LawfulBasis.SAFEGUARDING)
    # The receiving area leads the case from now on; the sending organisation stays a party.
    case.owner = receiving
    case.save(update_fields=["owner"])
    CaseParticipant.objects.bulk_create([
        CaseParticipant(case=case, person_id=person_id, role=role)
        for person_id, role in old.case.participants.order_by("pk").values_list("person_id", "role")])
    new = MaracReferral.objects.create(case=case, area=to_area, referred_by=user, referred_at=timezone.now(),
                                       status=ReferralStatus.SUBMITTED, **_copy_fields(old))
    ChecklistAnswer.objects.bulk_create([
        ChecklistAnswer(referral=new, question_id=a.question_id, answer=a.answer, comment=a.comment)
        for a in old.answers.order_by("pk")])
    ReferralChild.objects.bulk_create([
        ReferralChild(referral=new, person_id=c.person_id, age_at_referral=c.age_at_referral, school=c.school,
                      school_organisation_id=c.school_organisation_id)
        for c in old.children.order_by("pk")])
    old.status = ReferralStatus.TRANSFERRED
    old.save(update_fields=["status"])
    transfer = ReferralTransfer.objects.create(from_referral=old, to_referral=new, from_area=old.area, to_area=to_area,
                                               reason=reason, by=user)
    audit_event(user=user, action=AuditAction.DISCLOSE, record_type="marac_referral", record_id=old.pk,
                record_label=old.case.reference, fields=["status", "transferred_to"], purpose=disclosure,
                detail={"transfer": transfer.pk, "to_area": to_area.slug, "to_referral": new.pk, "to_case": case.reference})
    return transfer


# The history, as the receiving area reads it ------------------------------------------------------

@dataclass
class TransferHistory:
    transfer: ReferralTransfer
    old: MaracReferral
    new: MaracReferral
    new_visible: bool
    meetings: list[MaracMeeting]
    actions: list[MaracAction]
    research: list[AgencyResearch]
    repeat_of: MaracReferral | None


def _research_visible(user, transfer: ReferralTransfer):
    """Agency research was shared under a meeting's confidentiality statement: it goes with the case
    to the receiving area's coordinating organisation, and otherwise stays with the attendees who
    signed for that meeting. Other parties to the case (the referrer, a broad-scope administrator)
    see the meetings and actions but not the research."""
    if user.organisation_id and user.organisation_id == transfer.to_area.coordinating_organisation_id:
        return AgencyResearch.objects.all()
    signed = Attendance.objects.filter(user=user, confidentiality_signed_at__isnull=False).values("meeting_id")
    return AgencyResearch.objects.filter(meeting_id__in=signed)


@transaction.atomic
def transfer_history(*, user, transfer_id: int) -> TransferHistory:
    """What the sending MARAC did with the case: the meetings that heard it, its actions and the
    agencies' research. For the receiving area's coordinating organisation (a party to the old case
    since the transfer) and the sending area; anyone else is told it does not exist."""
    transfer = ReferralTransfer.objects.restrict(user, access.VIEW).select_related(
        "from_area", "to_area", "by", "from_referral__case", "to_referral__case").filter(pk=transfer_id).first()
    if transfer is None or not MaracReferral.objects.restrict(user, access.VIEW).filter(pk=transfer.from_referral_id).exists():
        raise Http404("No such transfer")
    old = transfer.from_referral
    meetings = list(MaracMeeting.objects.filter(Q(referrals=old) | Q(agenda__referral=old)).distinct().order_by("starts_at"))
    actions = list(MaracAction.objects.filter(referral=old).select_related("organisation", "meeting").order_by("deadline", "pk"))
    research = list(_research_visible(user, transfer).filter(referral=old).select_related("organisation", "meeting")
                    .order_by("meeting__starts_at", "organisation__name"))
    repeat_of = MaracReferral.objects.restrict(user, access.VIEW).select_related("case").filter(pk=old.repeat_of_id).first() \
        if old.repeat_of_id else None
    audit_event(user=user, action=AuditAction.VIEW, record_type="marac_referral", record_id=old.pk,
                record_label=old.case.reference, fields=["meetings", "actions", "research"],
                purpose="MARAC history of a transferred case", detail={"transfer": transfer.pk})
    return TransferHistory(
        transfer=transfer, old=old, new=transfer.to_referral,
        new_visible=MaracReferral.objects.restrict(user, access.VIEW).filter(pk=transfer.to_referral_id).exists(),
        meetings=meetings, actions=actions, research=research, repeat_of=repeat_of)
