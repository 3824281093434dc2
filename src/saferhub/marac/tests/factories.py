"""Small builders of MARAC test data (areas, the checklist, referrals with their case, victim,
perpetrator and children, actions, meetings) straight from the models, for any MARAC test that needs
a referral without going through the referral services. People are synthetic and registered through
people.services, so their blind indexes and audit events are as the application makes them."""
from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from saferhub.marac.models import (
    ActionStatus, MaracAction, MaracArea, MaracMeeting, MaracReferral, MeetingKind, MeetingStatus,
    ReferralChild, ReferralStatus, RiskChecklist,
)
from saferhub.people.factories import PersonFactory
from saferhub.people.models import Case, CaseKind, CaseParticipant, CaseParty

_numbers = itertools.count(1)


def area_make(*, organisation, coordinators=(), **values) -> MaracArea:
    """A MARAC area coordinated by `organisation`, meeting weekly on Thursdays from 7 January 2027
    at 10:00 unless told otherwise."""
    number = next(_numbers)
    defaults = {"slug": f"test-area-{number}", "name": f"Test MARAC area {number}",
                "first_meeting_date": dt.date(2027, 1, 7), "meeting_time": dt.time(10, 0),
                "default_venue": "Partnership meeting room", "adult_female_population": 350000}
    area = MaracArea.objects.create(coordinating_organisation=organisation, **(defaults | values))
    area.coordinators.add(*coordinators)
    return area


def checklist_current() -> RiskChecklist:
    """The current checklist: the neutral one Saferhub ships, installed on first use."""
    from saferhub.marac.checklist_services import checklist_current as current

    return current()


def referral_make(*, area: MaracArea, user=None, status: str = ReferralStatus.ACCEPTED, children: int = 0,
                  referred_at: dt.datetime | None = None, meeting: MaracMeeting | None = None,
                  referring_organisation=None, with_people: bool = True, reference: str = "",
                  repeat_of: MaracReferral | None = None, score: int = 15, **values) -> MaracReferral:
    """A referral and the MARAC case it opens. With `with_people` (and a `user` who may register
    people) the case holds a synthetic victim and perpetrator and `children` children; without, the
    case is bare, which is quicker for building long histories."""
    organisation = referring_organisation or area.coordinating_organisation
    case = Case.objects.create(kind=CaseKind.MARAC, reference=reference or f"MARAC-T-{next(_numbers):06d}",
                               owner=organisation)
    CaseParty.objects.create(case=case, organisation=organisation, reason="Referring agency")
    if area.coordinating_organisation_id != organisation.pk:
        CaseParty.objects.create(case=case, organisation=area.coordinating_organisation, reason="MARAC coordinator")
    referred_at = referred_at or timezone.now() - dt.timedelta(days=3)
    decided = status in (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED)
    referral = MaracReferral.objects.create(
        case=case, area=area, referring_organisation=organisation, referred_by=user, referred_at=referred_at,
        status=status, decided_at=referred_at + dt.timedelta(hours=2) if decided else None,
        checklist=checklist_current(), score=score, criteria_met=["visible_high_risk"] if score >= area.high_risk_threshold else [],
        meeting=meeting, repeat_of=repeat_of, is_repeat=repeat_of is not None, **({"has_children": children > 0} | values))
    if with_people:
        if user is None:
            raise ValueError("referral_make(with_people=True) needs user=: people are registered by staff")
        # Adults born 1960–1999, whatever the factory's sequence has reached.
        born = [dt.date(1960, 1, 1) + dt.timedelta(days=(next(_numbers) * 397) % 14600) for _ in range(2)]
        people = [(PersonFactory(user=user, date_of_birth=born[0]), "victim"),
                  (PersonFactory(user=user, date_of_birth=born[1]), "perpetrator")]
        for n in range(children):
            child = PersonFactory(user=user, date_of_birth=timezone.localdate() - dt.timedelta(days=365 * (4 + n) + 30))
            people.append((child, "child"))
            ReferralChild.objects.create(referral=referral, person=child, age_at_referral=4 + n, school="Test Primary School")
        CaseParticipant.objects.bulk_create([CaseParticipant(case=case, person=p, role=role) for p, role in people])
    return referral


def action_make(*, referral: MaracReferral, organisation, deadline: dt.date, status: str = ActionStatus.OPEN,
                completed_at: dt.datetime | None = None, meeting: MaracMeeting | None = None,
                description: str = "Contact the victim about safety planning") -> MaracAction:
    if status != ActionStatus.OPEN and completed_at is None:
        completed_at = timezone.now()
    return MaracAction.objects.create(referral=referral, organisation=organisation, deadline=deadline, status=status,
                                      completed_at=completed_at, meeting=meeting, description=description)


def meeting_make(*, area: MaracArea, starts_at: dt.datetime | None = None, status: str = MeetingStatus.PLANNED,
                 kind: str = MeetingKind.REGULAR, **values) -> MaracMeeting:
    starts_at = starts_at or timezone.now() + dt.timedelta(days=7)
    if status == MeetingStatus.HELD:
        values.setdefault("held_at", starts_at + dt.timedelta(hours=2))
    return MaracMeeting.objects.create(area=area, starts_at=starts_at, status=status, kind=kind,
                                       venue=values.pop("venue", area.default_venue), **values)


def history_make(*, area: MaracArea, count: int, start: dt.datetime, children_every: int = 3,
                 actions_per_case: int = 1) -> list[MaracReferral]:
    """`count` referrals already heard at held weekly meetings before `start` (about 16 a meeting),
    each with completed actions: the history agenda building must not slow down for."""
    meetings, referrals = [], []
    for n in range(count):
        if n % 16 == 0:
            meetings.append(meeting_make(area=area, status=MeetingStatus.HELD,
                                         starts_at=start - dt.timedelta(days=7 * (count // 16 - n // 16 + 1))))
        meeting = meetings[-1]
        referral = referral_make(area=area, with_people=False, meeting=meeting,
                                 referred_at=meeting.starts_at - dt.timedelta(days=5))
        if n % children_every == 0:
            referral.has_children = True
            referral.save(update_fields=["has_children"])
        referrals.append(referral)
        for _ in range(actions_per_case):
            action_make(referral=referral, organisation=area.coordinating_organisation, meeting=meeting,
                        deadline=meeting.starts_at.date() + dt.timedelta(days=14), status=ActionStatus.DONE,
                        completed_at=meeting.starts_at + dt.timedelta(days=10))
    return referrals
