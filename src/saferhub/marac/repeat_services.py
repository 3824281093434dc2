"""The coordinator's side of repeat detection: the matches waiting for a decision, one match with the
people of both referrals side by side, confirming or rejecting it, and a referral's MARAC history
(repeats, earlier referrals outside the window, transfers).

Confirming links the referrals (repeat_of, the match); it never merges the two people's register
entries, which may belong to different agencies and would lose what each recorded. Only a
coordinator of the referral's area who may change its case decides; anyone else is told the match
does not exist."""
from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from saferhub.audit.models import AuditAction
from saferhub.audit.trail import audit_event
from saferhub.marac.models import MaracArea, MatchDecision, MaracReferral, ReferralTransfer, RepeatMatch
from saferhub.marac.repeats import ROLES, repeat_criterion_apply
from saferhub.partners.models import PersonalDataScope, Role
from saferhub.people import access
from saferhub.people.models import CaseParticipant, ParticipantRole

REASON_MAX = 1000


def areas_coordinated_by(user):
    """The areas whose matches and transfers the user handles, as referral_services.coordinates
    says: named coordinators, and contributors of the coordinating organisation."""
    if not (user.is_authenticated and user.is_active) or user.personal_data_scope == PersonalDataScope.NONE:
        return MaracArea.objects.none()
    condition = Q(coordinators=user)
    if user.organisation_id and user.has_role(Role.CONTRIBUTOR):
        condition |= Q(coordinating_organisation_id=user.organisation_id)
    return MaracArea.objects.filter(condition).values("pk")


def _coordinated(user, action: str):
    return RepeatMatch.objects.restrict(user, action).filter(referral__area__in=areas_coordinated_by(user))


# Reads ------------------------------------------------------------------------------------------

@transaction.atomic
def repeat_match_list(*, user, decision: str = MatchDecision.PENDING) -> list[RepeatMatch]:
    """The matches of the areas the user coordinates with the given decision, oldest first."""
    if decision not in MatchDecision.values:
        raise Http404("No such list")
    matches = list(_coordinated(user, access.VIEW).filter(decision=decision)
                   .select_related("referral__case", "referral__area", "earlier__case", "earlier__area")
                   .order_by("found_at", "pk"))
    audit_event(user=user, action=AuditAction.LIST, record_type="marac_repeat_match", purpose="MARAC repeat matches",
                detail={"decision": decision, "count": len(matches), "results": [m.pk for m in matches]})
    return matches


@dataclass
class Side:
    referral: MaracReferral
    victims: list
    perpetrators: list
    visible: bool = True


@dataclass
class MatchReview:
    match: RepeatMatch
    new: Side
    earlier: Side
    window_days: int
    may_decide: bool


def _side(referral: MaracReferral) -> Side:
    people = {role: [] for role in ROLES}
    for row in CaseParticipant.objects.filter(case_id=referral.case_id, role__in=ROLES).select_related("person").order_by("pk"):
        people[row.role].append(row.person)
    return Side(referral, people[ParticipantRole.VICTIM], people[ParticipantRole.PERPETRATOR])


@transaction.atomic
def repeat_match_review(*, user, match_id: int) -> MatchReview:
    """One match with the victims and perpetrators of both referrals, for the coordinator to judge.
    Outside the user's areas or scope it does not exist (404)."""
    match = _coordinated(user, access.VIEW).select_related("referral__case", "referral__area", "earlier__case",
                                                           "earlier__area", "decided_by").filter(pk=match_id).first()
    if match is None:
        raise Http404("No such repeat match")
    # The earlier referral's people are shown only to someone who may see its case.
    earlier_visible = MaracReferral.objects.restrict(user, access.VIEW).filter(pk=match.earlier_id).exists()
    earlier = _side(match.earlier) if earlier_visible else Side(match.earlier, [], [], visible=False)
    review = MatchReview(match=match, new=_side(match.referral), earlier=earlier,
                         window_days=match.referral.area.repeat_window_days,
                         may_decide=match.decision == MatchDecision.PENDING and _coordinated(user, access.CHANGE).filter(pk=match.pk).exists())
    audit_event(user=user, action=AuditAction.VIEW, record_type="marac_referral", record_id=match.referral_id,
                record_label=match.referral.case.reference, fields=["victim", "perpetrator"],
                purpose="MARAC repeat match review", detail={"match": match.pk, "earlier": match.earlier_id})
    return review


@dataclass
class HistoryEntry:
    referral: MaracReferral
    relation: str
    days_apart: int | None
    visible: bool
    match: RepeatMatch | None = None


@dataclass
class ReferralHistory:
    referral: MaracReferral
    repeat_of: MaracReferral | None
    entries: list[HistoryEntry]
    pending: int
    repeat_of_visible: bool = False


@transaction.atomic
def referral_history(*, user, referral_id: int) -> ReferralHistory:
    """A referral's MARAC history: the earlier referrals of the same pair (repeats within the window
    and previous history outside it, as confirmed), later repeats of it, and transfers either way.
    Linked referrals the user may not open are not named at all: their reference would tell the
    user of a case their organisation is not party to (the coordinator sees both)."""
    referral = MaracReferral.objects.restrict(user, access.VIEW).select_related("case", "area", "repeat_of__case") \
        .filter(pk=referral_id).first()
    if referral is None:
        raise Http404("No such referral")
    visible = set(MaracReferral.objects.restrict(user, access.VIEW).values_list("pk", flat=True)
                  .filter(pk__in=_related_ids(referral) | {referral.repeat_of_id}))
    entries = []
    confirmed = referral.repeat_matches.filter(decision=MatchDecision.CONFIRMED).select_related("earlier__case", "earlier__area")
    for match in confirmed.order_by("days_apart"):
        relation = "Repeat of" if match.is_repeat else "Previous MARAC history"
        entries.append(HistoryEntry(match.earlier, relation, match.days_apart, match.earlier_id in visible, match))
    for match in RepeatMatch.objects.filter(earlier=referral, decision=MatchDecision.CONFIRMED, within_window=True) \
            .select_related("referral__case", "referral__area").order_by("days_apart"):
        entries.append(HistoryEntry(match.referral, "Repeated by", match.days_apart, match.referral_id in visible, match))
    for transfer in ReferralTransfer.objects.filter(to_referral=referral).select_related("from_referral__case", "from_area"):
        entries.append(HistoryEntry(transfer.from_referral, f"Transferred from {transfer.from_area.name}", None,
                                    transfer.from_referral_id in visible))
    for transfer in ReferralTransfer.objects.filter(from_referral=referral).select_related("to_referral__case", "to_area"):
        entries.append(HistoryEntry(transfer.to_referral, f"Transferred to {transfer.to_area.name}", None,
                                    transfer.to_referral_id in visible))
    pending = referral.repeat_matches.filter(decision=MatchDecision.PENDING).count()
    audit_event(user=user, action=AuditAction.VIEW, record_type="marac_referral", record_id=referral.pk,
                record_label=referral.case.reference, fields=["repeat_of", "repeat_matches", "transfers"],
                purpose="MARAC history of a referral")
    return ReferralHistory(referral=referral, repeat_of=referral.repeat_of, entries=entries, pending=pending,
                           repeat_of_visible=referral.repeat_of_id in visible)


def _related_ids(referral: MaracReferral) -> set[int]:
    ids = set(referral.repeat_matches.values_list("earlier_id", flat=True))
    ids |= set(RepeatMatch.objects.filter(earlier=referral).values_list("referral_id", flat=True))
    ids |= set(ReferralTransfer.objects.filter(to_referral=referral).values_list("from_referral_id", flat=True))
    ids |= set(ReferralTransfer.objects.filter(from_referral=referral).values_list("to_referral_id", flat=True))
    return ids


# Writes -----------------------------------------------------------------------------------------

def _pending_match(user, match_id: int, reason: str) -> tuple[RepeatMatch, str]:
    match = _coordinated(user, access.CHANGE).select_for_update(of=("self",)).filter(pk=match_id).first()
    if match is None:
        raise Http404("No such repeat match")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why you confirm or reject the match"})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"The reason must be {REASON_MAX:,} characters or fewer"})
    if match.decision != MatchDecision.PENDING:
        raise ValidationError(f"This match was already {match.get_decision_display().lower()}")
    return match, reason


def _decide(user, match: RepeatMatch, decision: str, reason: str) -> None:
    match.decision, match.decided_by, match.decided_at, match.decision_reason = decision, user, timezone.now(), reason
    match.save(update_fields=["decision", "decided_by", "decided_at", "decision_reason"])


@transaction.atomic
def repeat_match_confirm(*, user, match_id: int, reason: str) -> RepeatMatch:
    """The coordinator confirms the earlier referral concerns the same victim and perpetrator. Within
    the window the referral becomes a repeat of it (unless it already repeats a later one);
    outside, it is linked as previous MARAC history. The people are linked, never merged."""
    match, reason = _pending_match(user, match_id, reason)
    _decide(user, match, MatchDecision.CONFIRMED, reason)
    referral = MaracReferral.objects.select_for_update(of=("self",)).select_related("area", "repeat_of").get(pk=match.referral_id)
    fields = ["repeat_match"]
    if match.within_window and (referral.repeat_of is None or match.earlier.referred_at > referral.repeat_of.referred_at):
        repeat_criterion_apply(referral, match.earlier, match.days_apart)
        fields += ["is_repeat", "repeat_of", "criteria_met", "criteria_explained"]
    # The reason is free text that may name people: it stays encrypted on the match, not in the trail.
    audit_event(user=user, action=AuditAction.UPDATE, record_type="marac_referral", record_id=referral.pk,
                record_label=referral.case.reference, fields=fields, purpose="MARAC repeat match confirmed",
                detail={"match": match.pk, "earlier": match.earlier_id, "within_window": match.within_window})
    return match


@transaction.atomic
def repeat_match_reject(*, user, match_id: int, reason: str) -> RepeatMatch:
    """The coordinator finds the earlier referral concerns other people."""
    match, reason = _pending_match(user, match_id, reason)
    _decide(user, match, MatchDecision.REJECTED, reason)
    audit_event(user=user, action=AuditAction.UPDATE, record_type="marac_referral", record_id=match.referral_id,
                record_label=match.referral.case.reference, fields=["repeat_match"], purpose="MARAC repeat match rejected",
                detail={"match": match.pk, "earlier": match.earlier_id})
    return match
