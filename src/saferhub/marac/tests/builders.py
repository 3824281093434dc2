"""Hand-built MARAC records for the repeat, transfer and dataset tests: areas, a checklist, referrals
opened on people.Case through people.services (so blind indexes and parties are as the
application makes them) and meetings. Synthetic people only."""
from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from saferhub.marac.models import MaracArea, MaracMeeting, MaracReferral, MeetingStatus, ReferralChild, RiskChecklist
from saferhub.people.factories import CaseFactory, PersonFactory

_numbers = itertools.count(1)


def area(*, organisation, slug: str = "north-yorkshire", name: str = "North Yorkshire", coordinators=(), **values) -> MaracArea:
    made = MaracArea.objects.create(slug=slug, name=name, coordinating_organisation=organisation, **values)
    made.coordinators.add(*coordinators)
    return made


def checklist() -> RiskChecklist:
    found = RiskChecklist.objects.filter(name="Risk checklist", version=1).first()
    return found or RiskChecklist.objects.create(name="Risk checklist", version=1, is_current=True)


def person(user, first_name: str, last_name: str, date_of_birth: dt.date | None, **values):
    return PersonFactory(user=user, first_name=first_name, last_name=last_name, date_of_birth=date_of_birth, **values)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def referral(*, user, marac_area: MaracArea, victim, perpetrators=(), referred_on: dt.date, referring_organisation=None,
             children=(), **values) -> MaracReferral:
    """A referral by `user` (whose organisation refers) about `victim` and `perpetrators`; `children`
    are (person, age) pairs. The area's coordinating organisation is party, as for every case."""
    people = [(victim, "victim")] + [(p, "perpetrator") for p in perpetrators] + [(c, "child") for c, _ in children]
    case = CaseFactory(user=user, reference=f"MARAC-T-{next(_numbers):05d}", people=people,
                       parties=[marac_area.coordinating_organisation])
    made = MaracReferral.objects.create(
        case=case, area=marac_area, referring_organisation=referring_organisation or user.organisation, referred_by=user,
        referred_at=at(referred_on), checklist=checklist(), has_children=bool(children), **values)
    for child, age in children:
        ReferralChild.objects.create(referral=made, person=child, age_at_referral=age)
    return made


def meeting(*, marac_area: MaracArea, on: dt.date, status: str = MeetingStatus.HELD, referrals=()) -> MaracMeeting:
    made = MaracMeeting.objects.create(area=marac_area, starts_at=at(on), status=status)
    for heard in referrals:
        heard.meeting = made
        heard.save(update_fields=["meeting"])
    return made
