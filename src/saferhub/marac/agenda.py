"""Building a MARAC meeting's agenda in the order of DOMAIN.md §3, from the referrals awaiting a
meeting and the actions left incomplete since the last one.

The sections, in order:
1. introductions and the confidentiality statement;
2. incomplete actions from the last meeting, in the two minute categories: "not possible due to
   change in circumstances" and "agency has not undertaken" (an open action past its deadline is
   listed under the second, shown as overdue, until its agency says otherwise);
3. new cases involving children (the referral says there are children, or lists any) — first, so
   that children's agencies may leave after them;
4. adult-only cases;
5. cases 12 months since their last MARAC: a new referral whose earlier referral (`repeat_of`, or
   an earlier referral the coordinator confirmed as the same victim and perpetrator) was heard at a
   meeting at least the area's repeat window (365 days by default) before this one — it is outside
   the repeat window, so it is reviewed against what was done last time rather than as a repeat —
   and any case the coordinator marks for review (a manual item, kept on rebuild);
6. any other business (manual items, kept on rebuild).

Every accepted referral of the area that has not been heard goes onto exactly one meeting: the next
regular meeting of its area whose agenda is built (MaracReferral.meeting), unless an emergency
meeting was called for it. A referral accepted after an agenda was built joins it when it is rebuilt,
which is allowed until the meeting is held.

Cost: building reads only the referrals awaiting a meeting (the index on area, status and meeting,
marac_referral_awaiting_idx) and the actions open past their deadline or closed incomplete since the
last meeting (the (status, deadline) and (status, completed_at) indexes), with a fixed number of
queries, so it takes the same time however many cases the area has heard before."""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from saferhub.audit.models import AuditAction
from saferhub.audit.trail import audit_event
from saferhub.marac.models import (
    ActionStatus, AgendaItem, AgendaSection, MaracAction, MaracMeeting, MaracReferral, MatchDecision, MeetingKind,
    MeetingStatus, ReferralChild, ReferralStatus, RepeatMatch,
)

INCOMPLETE = (ActionStatus.NOT_POSSIBLE, ActionStatus.NOT_UNDERTAKEN)
INTRODUCTIONS_NOTE = "Introductions; every attendee signs the confidentiality statement"
OTHER_BUSINESS_NOTE = "Any other business"


def minute_category(action: MaracAction, as_of: dt.date) -> str:
    """The minute category an incomplete action is listed under on `as_of`."""
    if action.status in INCOMPLETE:
        return action.status
    return ActionStatus.NOT_UNDERTAKEN


def previous_meeting(meeting: MaracMeeting) -> MaracMeeting | None:
    """The last meeting of the area held before this one."""
    return (MaracMeeting.objects.filter(area_id=meeting.area_id, status=MeetingStatus.HELD, starts_at__lt=meeting.starts_at)
            .exclude(pk=meeting.pk).order_by("-starts_at").first())


def _incomplete_actions(meeting: MaracMeeting, since: dt.datetime | None) -> list[MaracAction]:
    """Open actions past their deadline, and actions closed as not possible or not undertaken since
    `since` (every one, when the area has held no meeting yet). Two reads, each served by its own
    index, rather than one OR that a planner may answer by scanning the area's history."""
    as_of = timezone.localtime(meeting.starts_at).date()
    base = (MaracAction.objects.filter(referral__area_id=meeting.area_id)
            .exclude(referral__status=ReferralStatus.TRANSFERRED).select_related("referral__case", "organisation"))
    recorded = base.filter(status__in=INCOMPLETE)
    if since is not None:
        recorded = recorded.filter(completed_at__gte=since)
    found = {a.pk: a for a in base.filter(status=ActionStatus.OPEN, deadline__lt=as_of)}
    found.update((a.pk, a) for a in recorded)
    return sorted(found.values(), key=lambda a: (a.deadline, a.pk))


def _awaiting_referrals(meeting: MaracMeeting) -> list[MaracReferral]:
    """The referrals this meeting hears: for a regular meeting, every accepted referral of the area
    not yet on a meeting, and those already put on this one; for an emergency meeting, its own."""
    has_children = Exists(ReferralChild.objects.filter(referral=OuterRef("pk")))
    referrals = (MaracReferral.objects.filter(area_id=meeting.area_id, status=ReferralStatus.ACCEPTED)
                 .annotate(children_listed=has_children).select_related("case", "repeat_of__meeting")
                 .order_by())
    if meeting.kind == MeetingKind.EMERGENCY:
        found = list(referrals.filter(pk=meeting.emergency_referral_id))
    else:
        # Waiting (meeting IS NULL) and already on this meeting: two small reads through
        # marac_referral_awaiting_idx, never the area's heard cases. Unordered, so no planner
        # prefers the (area, status, referred_at) index for its order.
        found = list(referrals.filter(meeting__isnull=True)) + list(referrals.filter(meeting=meeting))
    return sorted(found, key=lambda r: (r.referred_at, r.pk))


def _heard_earlier(referrals: list[MaracReferral]) -> dict[int, dt.datetime]:
    """When each referral's victim and perpetrator were last heard at a MARAC before: through
    `repeat_of` and through earlier referrals the coordinator confirmed as a match."""
    heard: dict[int, dt.datetime] = {}
    for referral in referrals:
        earlier = referral.repeat_of
        if earlier is not None and earlier.meeting is not None and earlier.meeting.status == MeetingStatus.HELD:
            heard[referral.pk] = earlier.meeting.starts_at
    confirmed = (RepeatMatch.objects.filter(referral__in=[r.pk for r in referrals], decision=MatchDecision.CONFIRMED,
                                            earlier__meeting__status=MeetingStatus.HELD)
                 .values_list("referral_id", "earlier__meeting__starts_at"))
    for referral_id, starts_at in confirmed:
        if starts_at is not None and (referral_id not in heard or starts_at > heard[referral_id]):
            heard[referral_id] = starts_at
    return heard


def section_for(referral: MaracReferral, meeting: MaracMeeting, heard: dict[int, dt.datetime]) -> int:
    last = heard.get(referral.pk)
    if last is not None and last <= meeting.starts_at - dt.timedelta(days=meeting.area.repeat_window_days):
        return AgendaSection.ANNIVERSARY
    if referral.has_children or getattr(referral, "children_listed", False):
        return AgendaSection.CHILDREN
    return AgendaSection.ADULTS


def earlier_planned_meeting(meeting: MaracMeeting) -> MaracMeeting | None:
    """A regular meeting of the same area, before this one and not yet past, that has not been
    held: its agenda comes first, since new referrals go to the next meeting."""
    if meeting.kind != MeetingKind.REGULAR:
        return None
    return (MaracMeeting.objects.filter(area_id=meeting.area_id, kind=MeetingKind.REGULAR, status=MeetingStatus.PLANNED,
                                        starts_at__lt=meeting.starts_at, starts_at__gte=timezone.now())
            .exclude(pk=meeting.pk).order_by("starts_at").first())


@transaction.atomic
def agenda_build(*, user, meeting: MaracMeeting) -> list[AgendaItem]:
    """Build (or rebuild) a meeting's agenda. Items a coordinator added by hand are kept; the rest is
    worked out afresh. Refused once the meeting is held or cancelled, or while an earlier meeting of
    the area is still to come (its agenda takes the waiting referrals first)."""
    from saferhub.marac.meeting_services import coordinator_check, parties_grant

    meeting = (MaracMeeting.objects.select_for_update(of=("self",)).select_related("area", "emergency_referral")
               .get(pk=meeting.pk))
    coordinator_check(user, meeting.area)
    if meeting.status != MeetingStatus.PLANNED:
        raise ValidationError(f"The agenda of a {meeting.get_status_display().lower()} meeting cannot be rebuilt")
    earlier = earlier_planned_meeting(meeting)
    if earlier is not None:
        raise ValidationError(f"Build the agenda of the meeting on {timezone.localtime(earlier.starts_at):%d %B %Y} first: "
                              "waiting referrals go to the next meeting")
    last = previous_meeting(meeting)
    referrals = _awaiting_referrals(meeting)
    heard = _heard_earlier(referrals) if referrals else {}
    actions = _incomplete_actions(meeting, last.starts_at if last else None) if meeting.kind == MeetingKind.REGULAR else []

    # A referral put on this agenda that is no longer waiting (declined, transferred) comes off it.
    MaracReferral.objects.filter(meeting=meeting).exclude(pk__in=[r.pk for r in referrals]).update(meeting=None)
    MaracReferral.objects.filter(pk__in=[r.pk for r in referrals if r.meeting_id != meeting.pk]).update(meeting=meeting)
    kept = list(AgendaItem.objects.filter(meeting=meeting, manual=True).order_by("section", "position", "pk"))
    AgendaItem.objects.filter(meeting=meeting, manual=False).delete()

    as_of = timezone.localtime(meeting.starts_at).date()
    rows: list[AgendaItem] = [AgendaItem(meeting=meeting, section=AgendaSection.INTRODUCTIONS, note=INTRODUCTIONS_NOTE)]
    for category in INCOMPLETE:
        rows += [AgendaItem(meeting=meeting, section=AgendaSection.INCOMPLETE_ACTIONS, action=action, category=category,
                            note="Overdue" if action.status == ActionStatus.OPEN else "")
                 for action in actions if minute_category(action, as_of) == category]
    for section in (AgendaSection.CHILDREN, AgendaSection.ADULTS, AgendaSection.ANNIVERSARY):
        rows += [AgendaItem(meeting=meeting, section=section, referral=r) for r in referrals
                 if section_for(r, meeting, heard) == section]
    rows += [item for item in kept if item.section == AgendaSection.ANNIVERSARY]
    if not any(item.section == AgendaSection.OTHER_BUSINESS for item in kept):
        rows.append(AgendaItem(meeting=meeting, section=AgendaSection.OTHER_BUSINESS, note=OTHER_BUSINESS_NOTE))
    rows += [item for item in kept if item.section == AgendaSection.OTHER_BUSINESS]
    rows.sort(key=lambda item: item.section)  # stable: keeps the order within each section
    for position, item in enumerate(rows, start=1):
        item.position = position
    created = AgendaItem.objects.bulk_create([item for item in rows if item.pk is None])
    if kept:
        AgendaItem.objects.bulk_update(kept, ["position"])

    meeting.agenda_built_at = timezone.now()
    meeting.save(update_fields=["agenda_built_at"])
    # Agencies already signed in to the meeting become party to the cases that joined it.
    parties_grant(user=user, meeting=meeting)
    audit_event(user=user, action=AuditAction.UPDATE, record_type="marac_meeting", record_id=meeting.pk,
                record_label=str(meeting), fields=["agenda"], purpose="Building the MARAC agenda",
                detail={"referrals": [r.pk for r in referrals], "actions": [a.pk for a in actions]})
    return sorted([*created, *kept], key=lambda item: item.position)
