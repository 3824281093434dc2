"""Reads of MARAC meetings: which meetings a member of staff takes part in, the agenda, a case as
the meeting sees it with the agencies' research, the minutes and the calendar.

Who sees what: a meeting exists for the coordinators of its area and for its attendees; anyone else
is told it does not exist (404). An attendee sees no case of the meeting until they have signed the
confidentiality statement (ConfidentialityNotSigned, which the pages turn into a redirect to it).
Agency research is seen only by attendees who have signed. Reads of personal data write one audit
event each."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone

from saferhub.audit.models import AuditAction
from saferhub.audit.trail import audit_event
from saferhub.marac.meeting_services import calendar_token_digest, is_coordinator
from saferhub.marac.models import (
    ActionStatus, AgencyResearch, AgendaItem, AgendaSection, Attendance, CalendarFeedToken, MaracArea, MaracMeeting,
    Criterion, MaracReferral,
)
from saferhub.partners.models import Organisation
from saferhub.people import access
from saferhub.people.models import Case, CaseParticipant

CATEGORY_LABELS = {
    ActionStatus.NOT_POSSIBLE: "Not possible due to change in circumstances",
    ActionStatus.NOT_UNDERTAKEN: "Agency has not undertaken",
}


class ConfidentialityNotSigned(Exception):
    """The user attends the meeting but has not signed its confidentiality statement yet."""

    def __init__(self, meeting_id: int):
        super().__init__(f"Confidentiality statement of meeting {meeting_id} not signed")
        self.meeting_id = meeting_id


@dataclass
class Standing:
    """How the user stands to a meeting."""

    coordinator: bool
    attendance: Attendance | None

    @property
    def signed(self) -> bool:
        return self.attendance is not None and self.attendance.confidentiality_signed_at is not None

    @property
    def sees_cases(self) -> bool:
        return self.signed or (self.coordinator and self.attendance is None)


@dataclass
class AgendaSectionView:
    section: int
    label: str
    items: list[AgendaItem] = field(default_factory=list)
    groups: list[tuple[str, list[AgendaItem]]] = field(default_factory=list)


def meetings_visible(user):
    if not user.is_authenticated or not user.sees_personal_data:
        return MaracMeeting.objects.none()
    return MaracMeeting.objects.filter(Q(area__coordinators=user) | Q(attendance__user=user)).distinct()


def areas_coordinated(user) -> list[MaracArea]:
    if not user.is_authenticated or not user.sees_personal_data:
        return []
    return list(MaracArea.objects.filter(coordinators=user, active=True).order_by("name"))


def meeting_list(*, user, area_slug: str = "", past: bool = False) -> tuple[list[MaracArea], MaracArea | None, list[MaracMeeting]]:
    """Meetings the user takes part in, by area: upcoming first by date, or past ones latest first.
    Dates, venues and numbers of cases only, so nothing personal is read."""
    meetings = meetings_visible(user).select_related("area")
    areas = list(MaracArea.objects.filter(pk__in=meetings.values("area_id")).order_by("name"))
    chosen = next((a for a in areas if a.slug == area_slug), None)
    if chosen is not None:
        meetings = meetings.filter(area=chosen)
    today_start = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
    if past:
        meetings = meetings.filter(starts_at__lt=today_start).order_by("-starts_at")
    else:
        meetings = meetings.filter(starts_at__gte=today_start).order_by("starts_at")
    meetings = meetings.annotate(case_count=Count("agenda", filter=Q(agenda__referral__isnull=False), distinct=True))
    return areas, chosen, list(meetings[:200])


def meeting_get(*, user, meeting_id: int) -> tuple[MaracMeeting, Standing]:
    meeting = meetings_visible(user).select_related("area", "area__coordinating_organisation").filter(pk=meeting_id).first()
    if meeting is None:
        raise Http404("No such MARAC meeting")
    attendance = Attendance.objects.filter(meeting=meeting, user=user).first()
    return meeting, Standing(coordinator=is_coordinator(user, meeting.area), attendance=attendance)


def _require_cases(meeting: MaracMeeting, standing: Standing) -> None:
    if standing.attendance is not None and not standing.signed:
        raise ConfidentialityNotSigned(meeting.pk)
    if not standing.sees_cases:
        raise Http404("No such MARAC meeting")


def attendance_list(*, meeting: MaracMeeting) -> list[Attendance]:
    return list(Attendance.objects.filter(meeting=meeting).select_related("user", "organisation")
                .order_by("organisation__name", "user__last_name", "pk"))


@transaction.atomic
def meeting_agenda(*, user, meeting_id: int) -> tuple[MaracMeeting, Standing, list[AgendaSectionView]]:
    """The agenda in its sections, for the area's coordinators and signed attendees. Cases are
    named by reference; an incomplete action shows its agency, deadline and what it was."""
    meeting, standing = meeting_get(user=user, meeting_id=meeting_id)
    _require_cases(meeting, standing)
    items = list(AgendaItem.objects.filter(meeting=meeting)
                 .select_related("referral__case", "action__referral__case", "action__organisation")
                 .order_by("section", "position", "pk"))
    case_ids = {i.referral.case_id for i in items if i.referral_id} | {i.action.referral.case_id for i in items if i.action_id}
    visible = set(Case.objects.restrict(user, access.VIEW).filter(pk__in=case_ids).values_list("pk", flat=True))
    children = set(MaracReferral.objects.filter(pk__in=[i.referral_id for i in items if i.referral_id],
                                                children__isnull=False).values_list("pk", flat=True))
    sections = {value: AgendaSectionView(section=value, label=label) for value, label in AgendaSection.choices}
    for item in items:
        case_id = item.referral.case_id if item.referral_id else (item.action.referral.case_id if item.action_id else None)
        item.shared = case_id is None or case_id in visible
        if item.referral_id:
            item.has_children = item.referral.has_children or item.referral_id in children
        sections[item.section].items.append(item)
    incomplete = sections[AgendaSection.INCOMPLETE_ACTIONS]
    incomplete.groups = [(label, [i for i in incomplete.items if i.category == category])
                         for category, label in CATEGORY_LABELS.items()]
    audit_event(user=user, action=AuditAction.LIST, record_type="marac_meeting", record_id=meeting.pk,
                record_label=str(meeting), fields=["agenda"], purpose="MARAC agenda",
                detail={"referrals": sorted(i.referral_id for i in items if i.referral_id),
                        "actions": sorted(i.action_id for i in items if i.action_id)})
    return meeting, standing, [sections[value] for value, _ in AgendaSection.choices]


@dataclass
class MeetingCase:
    meeting: MaracMeeting
    standing: Standing
    referral: MaracReferral
    item: AgendaItem
    participants: list[CaseParticipant]
    children: list
    research: list[AgencyResearch] | None
    own_research: AgencyResearch | None
    actions: list
    criteria: list[str]


@transaction.atomic
def meeting_case(*, user, meeting_id: int, referral_id: int) -> MeetingCase:
    """One case on the meeting's agenda as the meeting sees it: the people in it, the criteria, the
    children, the actions, and — for signed attendees only — every agency's research."""
    meeting, standing = meeting_get(user=user, meeting_id=meeting_id)
    _require_cases(meeting, standing)
    item = (AgendaItem.objects.filter(meeting=meeting, referral_id=referral_id).order_by("position").first())
    referral = (MaracReferral.objects.restrict(user, access.VIEW).select_related("case", "referring_organisation")
                .filter(pk=referral_id).first()) if item is not None else None
    if referral is None:
        raise Http404("No such case on this meeting's agenda")
    participants = list(CaseParticipant.objects.filter(case_id=referral.case_id).select_related("person")
                        .order_by("role", "pk"))
    children = list(referral.children.select_related("person", "school_organisation").order_by("pk"))
    research = own = None
    if standing.signed:
        research = list(AgencyResearch.objects.filter(meeting=meeting, referral=referral)
                        .select_related("organisation").order_by("organisation__name"))
        own = next((r for r in research if r.organisation_id == standing.attendance.organisation_id), None)
    actions = list(referral.actions.select_related("organisation").order_by("deadline", "pk"))
    fields = ["participants", "criteria_met", "score", "children", "actions"] + (["research"] if research is not None else [])
    audit_event(user=user, action=AuditAction.VIEW, record_type="marac_referral", record_id=referral.pk,
                record_label=referral.case.reference, fields=fields, purpose="MARAC meeting",
                detail={"meeting": meeting.pk, "research": [r.pk for r in research or []]})
    return MeetingCase(meeting=meeting, standing=standing, referral=referral, item=item, participants=participants,
                       children=children, research=research, own_research=own, actions=actions,
                       criteria=[Criterion(c).label for c in referral.criteria_met or [] if c in Criterion.values])


@dataclass
class Minutes:
    meeting: MaracMeeting
    attendance: list[Attendance]
    agencies_present: list[Organisation]
    apologies: list[Organisation]
    information_sent: list[Organisation]
    cases: list[AgendaItem]
    incomplete: list[tuple[str, list[AgendaItem]]]
    other_business: list[AgendaItem]


@transaction.atomic
def meeting_minutes(*, user, meeting_id: int, export: bool = False) -> tuple[Minutes, Standing]:
    """The minutes: cases by reference only (never names), attendees' confidentiality Y/N, the
    agencies that sent apologies or information, and the incomplete actions in their two categories."""
    meeting, standing = meeting_get(user=user, meeting_id=meeting_id)
    _require_cases(meeting, standing)
    attendance = attendance_list(meeting=meeting)
    organisations = {o.pk: o for o in Organisation.objects.filter(pk__in=[*meeting.apologies, *meeting.information_sent])}
    items = list(AgendaItem.objects.filter(meeting=meeting)
                 .select_related("referral__case", "action__referral__case", "action__organisation")
                 .order_by("section", "position", "pk"))
    present = {a.organisation_id: a.organisation for a in attendance}
    minutes = Minutes(
        meeting=meeting, attendance=attendance,
        agencies_present=sorted(present.values(), key=lambda o: o.name),
        apologies=[organisations[i] for i in meeting.apologies if i in organisations],
        information_sent=[organisations[i] for i in meeting.information_sent if i in organisations],
        cases=[i for i in items if i.referral_id],
        incomplete=[(label, [i for i in items if i.action_id and i.category == category])
                    for category, label in CATEGORY_LABELS.items()],
        other_business=[i for i in items if i.section == AgendaSection.OTHER_BUSINESS and i.note],
    )
    audit_event(user=user, action=AuditAction.EXPORT if export else AuditAction.VIEW, record_type="marac_meeting",
                record_id=meeting.pk, record_label=str(meeting), fields=["minutes", "case_notes"],
                purpose="MARAC minutes", detail={"referrals": [i.referral_id for i in minutes.cases]})
    return minutes, standing


def organisations_for_minutes() -> list[Organisation]:
    return list(Organisation.objects.filter(active=True).order_by("name"))


def attendee_choices(*, meeting: MaracMeeting):
    """Staff who may attend: active, in an agency, able to see personal data, not already attending."""
    from saferhub.partners.models import PersonalDataScope, User

    return (User.objects.filter(is_active=True, organisation__isnull=False)
            .exclude(personal_data_scope=PersonalDataScope.NONE)
            .exclude(pk__in=Attendance.objects.filter(meeting=meeting).values("user_id"))
            .select_related("organisation").order_by("organisation__name", "last_name", "first_name", "username"))


# The calendar ---------------------------------------------------------------------------------------

CALENDAR_PAST_DAYS = 92


def calendar_meetings(*, user) -> list[MaracMeeting]:
    """Meetings of the areas the user coordinates or has attended, from three months ago on. The
    feed carries dates, places and areas only: nothing personal."""
    if not user.is_authenticated or not user.is_active:
        return []
    area_ids = set(MaracArea.objects.filter(coordinators=user).values_list("pk", flat=True))
    area_ids |= set(Attendance.objects.filter(user=user).values_list("meeting__area_id", flat=True))
    since = timezone.now() - dt.timedelta(days=CALENDAR_PAST_DAYS)
    return list(MaracMeeting.objects.filter(area_id__in=area_ids, starts_at__gte=since).select_related("area")
                .order_by("starts_at", "pk"))


def calendar_user(*, token: str):
    """The member of staff a secret calendar address belongs to, or None once revoked."""
    if not token or len(token) > 100:
        return None
    record = (CalendarFeedToken.objects.select_related("user")
              .filter(digest=calendar_token_digest(token), revoked_at__isnull=True).first())
    if record is None or not record.user.is_active:
        return None
    return record.user


def calendar_token_active(*, user) -> CalendarFeedToken | None:
    return CalendarFeedToken.objects.filter(user=user, revoked_at__isnull=True).first()


def research_by_organisation(*, meeting: MaracMeeting) -> dict[int, set[int]]:
    """Which cases each agency has entered research for (ids only), for the attendance table."""
    done: dict[int, set[int]] = defaultdict(set)
    for organisation_id, referral_id in AgencyResearch.objects.filter(meeting=meeting).values_list("organisation_id", "referral_id"):
        done[organisation_id].add(referral_id)
    return done
