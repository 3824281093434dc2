"""Synthetic MARAC history for demonstrations and benchmarks: referrals of invented people (from
people/synthetic.py), weekly meetings with attendance, research and minutes, and action plans.

It writes what the services would write — the case, its parties and disclosures, the people with
their blind indexes and blocking keys, the participants, the referral with its checklist answers,
score and explained criteria, children, repeat matches, agenda items, attendance, research and
actions — but with bulk inserts, so that 100,000 cases take minutes rather than hours: each value
is encrypted once, as its row is inserted, and rows get their ids here so that links between them
need no second write. One audit event records the generation; the services' per-record audit
events are not written for invented history.

Shares follow the national MARAC data of DOMAIN.md §3: about 30% repeats, 35% referred by agencies
other than the police, children in about 60% of cases, 6.4% male victims, 1.3% aged 16–17, 14%
Black, Asian or minoritised, 1.6% LGBT+, 10% disabled. The same seed and day give the same data."""
from __future__ import annotations

import bisect
import datetime as dt
import random
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from saferhub.audit.models import AuditAction
from saferhub.audit.trail import audit_event
from saferhub.core.encryption import name_dob_index
from saferhub.marac import criteria
from saferhub.marac.checklist_services import checklist_current, checklist_questions
from saferhub.marac.models import (
    ActionStatus, AgencyResearch, AgendaItem, AgendaSection, Answer, Attendance, ChecklistAnswer, MaracAction,
    MaracArea, MaracMeeting, MaracReferral, MatchDecision, MeetingKind, MeetingStatus, ReferralChild, ReferralStatus,
    RepeatMatch,
)
from saferhub.partners.models import Organisation, OrganisationType, PersonalDataScope, Role, User
from saferhub.people.blocking import blocking_keys
from saferhub.people.models import (
    Case, CaseKind, CaseParticipant, CaseParty, CaseStatus, Disclosure, IndexKind, LawfulBasis, ParticipantRole, Person,
    PersonIndex,
)
from saferhub.people.synthetic import TOWNS, SyntheticPerson, synthetic_person
from saferhub.people.vocabulary import ETHNICITIES

DEFAULT_SEED = 2026
DEFAULT_WEEKS = 78
CHUNK = 1000
PURPOSE = "Synthetic MARAC demonstration data"
REFERRAL_PURPOSE = "MARAC referral (safeguarding)"
# Shares (DOMAIN.md §3, national MARAC data to September 2024).
REPEAT_SHARE = 0.30
NON_POLICE_SHARE = 0.35
CHILDREN_SHARE = 0.60
MALE_SHARE = 0.064
AGED_16_17_SHARE = 0.013
MINORITISED_SHARE = 0.141
LGBT_SHARE = 0.016
DISABLED_SHARE = 0.101
# A pair referred again after the repeat window: reviewed as "12 months since the last MARAC".
LATE_RETURN_SHARE = 0.03
DECLINED_SHARE = 0.04
AGENCY_TYPES = [OrganisationType.PROVIDER, OrganisationType.LOCAL_AUTHORITY, OrganisationType.HEALTH,
                OrganisationType.PROBATION, OrganisationType.FIRE, OrganisationType.SCHOOL, OrganisationType.OTHER]
MINORITISED = [code for code, _ in ETHNICITIES if not code.startswith("white") and code != "prefer_not"]
WHITE = ["white_british"] * 8 + ["white_other", "white_irish"]

ACTIONS = [
    "Complete a safety plan with the victim and agree safe contact arrangements",
    "Flag the address for a priority response to any call",
    "Review the bail conditions and report any breach",
    "Offer a sanctuary scheme assessment of the home",
    "Share the risk information with the victim's GP practice",
    "Consider a Domestic Violence Protection Notice at the next incident",
    "Review licence conditions and the supervision plan",
    "Refer to the specialist service for support with finances",
    "Check the perpetrator's contact arrangements with the children",
]
CHILDREN_ACTIONS = [
    "Children's social care to visit the household within five working days",
    "Tell the designated safeguarding lead at the children's school",
]
OUTCOMES = {
    ActionStatus.DONE: ["Completed as agreed.", "Done; the victim engaged and the plan is in place.",
                        "Completed and recorded on the agency's system."],
    ActionStatus.NOT_POSSIBLE: ["The victim has moved out of the area.", "Contact was declined after a change of address.",
                                "No longer needed: the perpetrator is in custody."],
    ActionStatus.NOT_UNDERTAKEN: ["Not done: staff shortage in the team.", "Not started; the referral was not passed on in time.",
                                  "No capacity this month; to be picked up by the team manager."],
}
RESEARCH = [
    "Records checked: previous incidents known, shared at the meeting.",
    "Records checked: no further information held.",
    "Records checked: open to the service; current plan shared at the meeting.",
]
SAFE_CONTACT = ["Contact through the IDVA service only", "Mobile number held by the referring officer",
                "Through the victim's workplace, by arrangement"]
JUDGEMENT = ["Escalating controlling behaviour disclosed to the referrer.",
             "Recent threats and the victim's fear, though the checklist score is low."]


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _age(dob: dt.date, day: dt.date) -> int:
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


@contextmanager
def _historical_timestamps():
    """Let the rows made here keep the past times given to them (opened_at, since, at…) instead of
    now: their auto_now fields are switched off for the duration, and back on after."""
    fields = [Person._meta.get_field("created_at"), Case._meta.get_field("opened_at"),
              CaseParty._meta.get_field("since"), Disclosure._meta.get_field("at"),
              MaracAction._meta.get_field("created_at"), AgencyResearch._meta.get_field("at"),
              RepeatMatch._meta.get_field("found_at")]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


@contextmanager
def _keys_read_once():
    """Read the field and blind-index keys once for the whole run rather than once a value (where a
    key file is checked each time): the run is one transaction, during which keys cannot change."""
    from saferhub.core import encryption

    saved = encryption.fernet, encryption.blind_index_key
    cipher, index_key = encryption.fernet(), encryption.blind_index_key()
    encryption.fernet, encryption.blind_index_key = (lambda: cipher), (lambda: index_key)
    try:
        yield
    finally:
        encryption.fernet, encryption.blind_index_key = saved


class _Ids:
    """The next free primary key of each model: rows get their ids before they are inserted."""

    def __init__(self):
        self.next: dict[type, int] = {}

    def take(self, model) -> int:
        if model not in self.next:
            self.next[model] = (model.objects.aggregate(top=models.Max("pk"))["top"] or 0) + 1
        value = self.next[model]
        self.next[model] = value + 1
        return value


@dataclass
class _Pair:
    """A victim and perpetrator(s) referred before, for repeats."""

    victim: int
    perpetrators: list[int]
    owner_parties: set[int]
    # (referral id, referred_at, when heard at a held meeting or None), oldest first
    referrals: list[tuple[int, dt.datetime, dt.datetime | None]] = field(default_factory=list)


@dataclass
class MaracGeneration:
    cases: int = 0
    people: int = 0
    repeats: int = 0
    non_police: int = 0
    with_children: int = 0
    children: int = 0
    meetings: int = 0
    actions: int = 0
    overdue: int = 0
    waiting: int = 0
    submitted: int = 0
    declined: int = 0
    criteria: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        share = (lambda n: f"{n / self.cases:.0%}") if self.cases else (lambda n: "0%")
        return [
            f"MARAC: {self.cases:,} synthetic referrals with {self.people:,} people; {self.repeats:,} repeats ({share(self.repeats)}), "
            f"{self.non_police:,} from agencies other than the police ({share(self.non_police)}), "
            f"{self.with_children:,} with children ({share(self.with_children)}; {self.children:,} children)",
            f"MARAC: {self.meetings:,} meetings added, {self.actions:,} actions ({self.overdue:,} overdue), "
            f"{self.waiting:,} referrals awaiting the next meeting, {self.submitted:,} awaiting the coordinator, "
            f"{self.declined:,} declined",
        ]


class _Generator:
    def __init__(self, *, seed: int, weeks: int, end: dt.datetime, current: bool, areas: list[MaracArea]):
        self.rng = random.Random(seed)
        self.seed, self.weeks, self.end, self.current, self.areas = seed, weeks, end, current, areas
        self.today = timezone.localtime(end).date()
        self.ids = _Ids()
        self.result = MaracGeneration()
        self.checklist = checklist_current()
        self.main, self.stalking = checklist_questions(self.checklist)
        organisations = list(Organisation.objects.filter(active=True).order_by("pk"))
        self.police = [o for o in organisations if o.type == OrganisationType.POLICE]
        self.agencies = [o for o in organisations if o.type in AGENCY_TYPES]
        if not self.police and not self.agencies:
            raise ValueError("Load the partnership first (saferhub partners import): there are no agencies to refer")
        self.names = {o.pk: o.name for o in organisations}
        self.staff = self._staff(organisations)
        self.taken_references: dict[int, set[str]] = {}
        self.next_number: dict[int, int] = {}
        self.pairs: dict[int, list[_Pair]] = {a.pk: [] for a in areas}
        self.rows: dict[type, list] = {}
        self.attending: dict[int, list[int]] = {}
        self.coordinators: dict[int, User | None] = {}
        self.new_held: set[int] = set()
        self.surnames: dict[int, str] = {}
        self.chunk_people: dict[int, object] = {}
        self.pending_agenda: list = []

    # Who does what ---------------------------------------------------------------------------

    @staticmethod
    def _staff(organisations) -> dict[int, User]:
        """One member of staff per agency who may refer and attend (the first by id), if any."""
        staff = {}
        users = (User.objects.filter(is_active=True, organisation__in=organisations)
                 .exclude(personal_data_scope=PersonalDataScope.NONE).order_by("pk"))
        for user in users:
            if user.organisation_id not in staff and user.has_role(Role.CONTRIBUTOR):
                staff[user.organisation_id] = user
        return staff

    def _coordinator(self, area: MaracArea) -> User | None:
        if area.pk not in self.coordinators:
            self.coordinators[area.pk] = (area.coordinators.order_by("pk").first()
                                          or self.staff.get(area.coordinating_organisation_id))
        return self.coordinators[area.pk]

    # Writing -------------------------------------------------------------------------------------

    def add(self, row) -> int:
        row.pk = self.ids.take(type(row))
        self.rows.setdefault(type(row), []).append(row)
        return row.pk

    ORDER = [Person, PersonIndex, Case, CaseParty, Disclosure, CaseParticipant, MaracReferral, ChecklistAnswer,
             ReferralChild, RepeatMatch, MaracAction, AgencyResearch, AgendaItem]

    def flush(self) -> None:
        for model in self.ORDER:
            rows = self.rows.pop(model, [])
            if rows:
                model.objects.bulk_create(rows, batch_size=2000)
        self.chunk_people.clear()

    # The schedule ------------------------------------------------------------------------------------

    def _schedule(self, area: MaracArea) -> tuple[list[MaracMeeting], MaracMeeting | None]:
        """The area's regular meetings over the window, as its schedule gives them (extended back
        before its first scheduled date, for history): held ones, and the next one when current.
        Meetings already there for a date are kept as they are."""
        step = dt.timedelta(days=area.meeting_interval_days or 7)
        anchor = area.first_meeting_date or dt.date(2024, 1, 4)
        start = self.today - dt.timedelta(days=7 * self.weeks)
        first = anchor + ((start - anchor).days // step.days + 1) * step
        dates, day = [], first
        while day < self.today:
            dates.append(day)
            day += step
        upcoming = day if self.current else None
        wanted = dates + ([upcoming] if upcoming else [])
        existing = {m.scheduled_for: m for m in MaracMeeting.objects.filter(area=area, kind=MeetingKind.REGULAR,
                                                                             scheduled_for__in=wanted)}
        at = area.meeting_time or dt.time(10, 0)
        coordinator = self._coordinator(area)
        chair = f"Detective Inspector, {self.names.get(area.coordinating_organisation_id, 'the coordinating agency')}"
        held, new, attending = [], [], {}
        # A generator of its own, so the referrals come out the same whether or not the meetings were there.
        rng = random.Random(f"{self.seed}:meetings:{area.slug}:{self.today.isoformat()}")
        for day in wanted:
            meeting = existing.get(day)
            starts = timezone.make_aware(dt.datetime.combine(day, at))
            is_held = day < self.today
            if meeting is None:
                meeting = MaracMeeting(
                    pk=self.ids.take(MaracMeeting), area=area, kind=MeetingKind.REGULAR, scheduled_for=day, starts_at=starts,
                    venue=area.default_venue or "Partnership meeting room",
                    status=MeetingStatus.HELD if is_held else MeetingStatus.PLANNED)
                orgs = self._attending(area, rng)
                attending[meeting.pk] = orgs
                if is_held:
                    meeting.chair = chair
                    meeting.held_at = starts + dt.timedelta(hours=3)
                    meeting.agenda_built_at = starts - dt.timedelta(days=3)
                    meeting.agenda_published_at = starts - dt.timedelta(days=3)
                    others = [o.pk for o in self.agencies if o.pk not in orgs]
                    meeting.apologies = sorted(rng.sample(others, min(len(others), rng.choice([0, 0, 1, 2]))))
                    meeting.information_sent = list(meeting.apologies)
                new.append(meeting)
            if is_held and meeting.status == MeetingStatus.HELD:
                held.append(meeting)
        MaracMeeting.objects.bulk_create(new, batch_size=2000)
        self.result.meetings += len(new)
        signed_version = "2026-1"
        attendance = []
        for meeting in new:
            for org_id in attending[meeting.pk]:
                user = self.staff.get(org_id)
                if org_id == area.coordinating_organisation_id and coordinator is not None:
                    user = coordinator
                signed = meeting.starts_at - dt.timedelta(minutes=5) if meeting.status == MeetingStatus.HELD else None
                attendance.append(Attendance(meeting=meeting, organisation_id=org_id, user=user, role="MARAC representative",
                                             confidentiality_signed_at=signed,
                                             confidentiality_version=signed_version if signed else ""))
        Attendance.objects.bulk_create(attendance, batch_size=2000)
        for meeting in held:
            if meeting.pk in attending:
                self.attending[meeting.pk] = attending[meeting.pk]
                self.new_held.add(meeting.pk)
            else:
                self.attending[meeting.pk] = sorted(set(Attendance.objects.filter(meeting=meeting)
                                                        .values_list("organisation_id", flat=True))) or [area.coordinating_organisation_id]
        upcoming_meeting = None
        if upcoming is not None:
            upcoming_meeting = existing.get(upcoming) or next((m for m in new if m.scheduled_for == upcoming), None)
        return held, upcoming_meeting

    def _attending(self, area: MaracArea, rng: random.Random) -> list[int]:
        orgs = {area.coordinating_organisation_id}
        orgs |= {o.pk for o in self.police[:1]}
        orgs |= {o.pk for o in rng.sample(self.agencies, min(len(self.agencies), rng.randint(4, 7)))}
        return sorted(orgs)

    # References ------------------------------------------------------------------------------------

    def reference(self, year: int) -> str:
        """The next free MARAC reference of the year, numbered as case_reference_next numbers them."""
        if year not in self.taken_references:
            stem = f"MARAC-{year}-"
            self.taken_references[year] = set(Case.objects.filter(reference__startswith=stem).values_list("reference", flat=True))
            self.next_number[year] = len(self.taken_references[year]) + 1
        while f"MARAC-{year}-{self.next_number[year]:04d}" in self.taken_references[year]:
            self.next_number[year] += 1
        reference = f"MARAC-{year}-{self.next_number[year]:04d}"
        self.taken_references[year].add(reference)
        self.next_number[year] += 1
        return reference

    # People ------------------------------------------------------------------------------------------

    def person(self, synthetic, organisation_id: int, at: dt.datetime) -> int:
        person = Person(first_name=synthetic.first_name, last_name=synthetic.last_name, gender=synthetic.gender,
                        ethnicity=synthetic.ethnicity, disability=synthetic.disability, sexuality=synthetic.sexuality,
                        created_by_organisation_id=organisation_id, created_at=at)
        person.date_of_birth = synthetic.date_of_birth
        pk = self.add(person)
        self.chunk_people[pk] = synthetic
        self.surnames[pk] = synthetic.last_name
        self.add(PersonIndex(person_id=pk, kind=IndexKind.NAME_DOB,
                             digest=name_dob_index(synthetic.first_name, synthetic.last_name, synthetic.date_of_birth)))
        for kind, digest in sorted(set(blocking_keys(synthetic.first_name, synthetic.last_name, synthetic.date_of_birth))):
            self.add(PersonIndex(person_id=pk, kind=kind, digest=digest))
        self.result.people += 1
        return pk

    def victim(self, day: dt.date):
        rng = self.rng
        sex = "male" if rng.random() < MALE_SHARE else "female"
        young = rng.random() < AGED_16_17_SHARE
        person = synthetic_person(rng, sex=sex, youngest=16 if young else 18, oldest=17 if young else 70, today=day)
        person.gender = sex
        roll = rng.random()
        person.ethnicity = rng.choice(MINORITISED) if roll < MINORITISED_SHARE else "" if roll > 0.94 else rng.choice(WHITE)
        roll = rng.random()
        person.disability = rng.choice(["yes_a_lot", "yes_a_little"]) if roll < DISABLED_SHARE else "no" if roll < 0.8 else ""
        roll = rng.random()
        person.sexuality = ("" if young else rng.choice(["gay_lesbian", "bisexual"]) if roll < LGBT_SHARE
                            else "heterosexual" if roll < 0.75 else "")
        return person

    # One referral --------------------------------------------------------------------------------------

    def referral(self, area: MaracArea, referred_at: dt.datetime, meeting: MaracMeeting | None, status: str) -> None:
        rng, result = self.rng, self.result
        day = timezone.localtime(referred_at).date()
        non_police = not self.police or (self.agencies and rng.random() < NON_POLICE_SHARE)
        referring = rng.choice(self.agencies) if non_police else self.police[0]
        referrer = self.staff.get(referring.pk)
        coordinator = self._coordinator(area)
        # A repeat: the same victim and perpetrator as a referral of the area within its window.
        window = dt.timedelta(days=area.repeat_window_days)
        pairs = self.pairs[area.pk]
        pair, roll = None, rng.random()
        if pairs and roll < REPEAT_SHARE + LATE_RETURN_SHARE:
            # The latest pairs and a sample of all of them: repeats within the window, late returns beyond it.
            sample = pairs[-200:] + rng.sample(pairs, min(200, len(pairs)))
            recent = [p for p in sample if (referred_at - p.referrals[-1][1] <= window) == (roll < REPEAT_SHARE)
                      and p.referrals[-1][1] < referred_at - dt.timedelta(days=7)]
            pair = rng.choice(recent) if recent else None
        case_id = self.ids.take(Case)
        reference = self.reference(day.year)
        self.add_case(case_id, reference, referring.pk, referred_at)
        parties = {referring.pk}
        if area.coordinating_organisation_id != referring.pk:
            self.party(case_id, area.coordinating_organisation_id, f"Coordinates {area.name}", referring.pk, referrer,
                       referred_at)
            parties.add(area.coordinating_organisation_id)
        # People: the same register records for a repeat when the referrer may change them (their
        # agency is party to the earlier case), as referral_submit's exact-match lookup finds them.
        if pair is not None and referring.pk in pair.owner_parties:
            victim_id, perpetrator_ids = pair.victim, list(pair.perpetrators)
            same_records = True
        else:
            victim = self._copies_of([pair.victim])[0] if pair is not None else self.victim(day)
            victim_id = self.person(victim, referring.pk, referred_at)
            perpetrator_ids = []
            perpetrators = self._copies_of(pair.perpetrators) if pair is not None else [
                synthetic_person(rng, sex="female" if victim.gender == "male" and rng.random() < 0.7 else "male",
                                 youngest=18, oldest=70, today=day) for _ in range(2 if rng.random() < 0.05 else 1)]
            for perpetrator in perpetrators:
                perpetrator_ids.append(self.person(perpetrator, referring.pk, referred_at))
            same_records = False
        participants = [(victim_id, ParticipantRole.VICTIM)] + [(p, ParticipantRole.PERPETRATOR) for p in perpetrator_ids]
        # Children in the household.
        children = []
        if rng.random() < CHILDREN_SHARE:
            family = self.surnames.get(victim_id) or self.rng.choice(["Smith", "Taylor", "Walker"])
            for _ in range(rng.choice([1, 1, 2, 2, 3])):
                child = synthetic_person(rng, sex=rng.choice(["female", "male"]), youngest=0, oldest=17, today=day,
                                         last_name=family)
                child_id = self.person(child, referring.pk, referred_at)
                children.append((child_id, _age(child.date_of_birth, day)))
                participants.append((child_id, ParticipantRole.CHILD))
        for person_id, role in participants:
            self.add(CaseParticipant(case_id=case_id, person_id=person_id, role=role))
        # The checklist, the score and the criteria.
        score = rng.randint(14, 22) if rng.random() < 0.6 else rng.randint(5, 13)
        incidents = rng.randint(3, 7) if rng.random() < 0.3 else rng.randint(0, 2)
        judgement = rng.random() < 0.12
        is_repeat = pair is not None and referred_at - pair.referrals[-1][1] <= window
        results = criteria.criteria_evaluate(area=area, score=score, incidents=incidents, judgement_chosen=judgement,
                                             judgement_reasons="reasons" if judgement else "", is_repeat=is_repeat)
        if not criteria.criteria_met(results):
            # Meeting no criterion, the referrer would refer on professional judgement or not at all.
            judgement = True
            results = criteria.criteria_evaluate(area=area, score=score, incidents=incidents, judgement_chosen=True,
                                                 judgement_reasons="reasons", is_repeat=is_repeat)
        met = criteria.criteria_met(results)
        for criterion in met:
            result.criteria[criterion] = result.criteria.get(criterion, 0) + 1
        decided = status in (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED)
        referral_id = self.add(MaracReferral(
            case_id=case_id, area_id=area.pk, referring_organisation_id=referring.pk,
            referred_by_id=referrer.pk if referrer else None, referred_at=referred_at, status=status,
            decided_by_id=coordinator.pk if decided and coordinator else None,
            decided_at=referred_at + dt.timedelta(hours=rng.randint(2, 30)) if decided else None,
            decision_reason="Does not meet the threshold once the checklist was reviewed with the referrer"
            if status == ReferralStatus.DECLINED else "",
            checklist_id=self.checklist.pk, score=score, criteria_met=met, criteria_explained=[r.as_dict() for r in results],
            assessed_on=day - dt.timedelta(days=rng.randint(0, 3)), professional_judgement=judgement,
            professional_judgement_reasons=rng.choice(JUDGEMENT) if judgement else "",
            incidents_in_window=incidents, safe_contact_details=rng.choice(SAFE_CONTACT), safe_to_call=rng.random() < 0.7,
            repeat_of_id=pair.referrals[-1][0] if is_repeat else None, is_repeat=is_repeat,
            meeting_id=meeting.pk if meeting else None, has_children=bool(children)))
        self._answers(referral_id, score)
        for child_id, age in children:
            school = f"{rng.choice(TOWNS)[0]} {'Primary School' if age < 11 else 'Academy'}" if 4 <= age <= 16 else ""
            self.add(ReferralChild(referral_id=referral_id, person_id=child_id, age_at_referral=age, school=school))
        if pair is not None:
            self._matches(area, pair, referral_id, referred_at, same_records, coordinator)
        else:
            pair = _Pair(victim=victim_id, perpetrators=perpetrator_ids, owner_parties=set())
            pairs.append(pair)
        pair.referrals.append((referral_id, referred_at, meeting.starts_at if meeting is not None else None))
        result.cases += 1
        result.repeats += is_repeat
        result.non_police += referring.type != OrganisationType.POLICE
        result.with_children += bool(children)
        result.children += len(children)
        result.waiting += status == ReferralStatus.ACCEPTED and meeting is None
        result.submitted += status == ReferralStatus.SUBMITTED
        result.declined += status == ReferralStatus.DECLINED
        if meeting is not None:
            parties |= self._heard(area, meeting, case_id, referral_id, parties, coordinator, bool(children), met)
        pair.owner_parties = parties
        heard_before = [heard for _, _, heard in pair.referrals[:-1] if heard is not None]
        self.pending_agenda.append((meeting.pk if meeting else None, referral_id, bool(children),
                                    max(heard_before) if heard_before else None))

    def _copies_of(self, person_ids: list[int]) -> list[SyntheticPerson]:
        """The same name, date of birth and characteristics as earlier records, for a referrer who
        cannot see the earlier case and so registers the people again."""
        known = {pk: self.chunk_people[pk] for pk in person_ids if pk in self.chunk_people}
        missing = [pk for pk in person_ids if pk not in known]
        if missing:
            for pk, p in Person.objects.in_bulk(missing).items():
                known[pk] = SyntheticPerson(first_name=p.first_name, last_name=p.last_name, date_of_birth=p.date_of_birth,
                                            gender=p.gender, ethnicity=p.ethnicity, disability=p.disability,
                                            sexuality=p.sexuality)
        return [known[pk] for pk in person_ids]

    def add_case(self, case_id: int, reference: str, owner_id: int, at: dt.datetime) -> None:
        case = Case(kind=CaseKind.MARAC, reference=reference, summary="", owner_id=owner_id, opened_at=at)
        case.pk = case_id
        self.rows.setdefault(Case, []).append(case)
        self.add(CaseParty(case_id=case_id, organisation_id=owner_id, reason="Owner", since=at))

    def party(self, case_id: int, organisation_id: int, reason: str, from_id: int, by: User | None, at: dt.datetime) -> None:
        self.add(CaseParty(case_id=case_id, organisation_id=organisation_id, reason=reason[:200], since=at))
        self.add(Disclosure(case_id=case_id, from_organisation_id=from_id, to_organisation_id=organisation_id,
                            lawful_basis=LawfulBasis.SAFEGUARDING, purpose=reason, by_id=by.pk if by else None, at=at))

    def _answers(self, referral_id: int, score: int) -> None:
        rng = self.rng
        yes = set(rng.sample(range(len(self.main)), min(score, len(self.main))))
        screen = False
        for index, question in enumerate(self.main):
            answer = Answer.YES if index in yes else (Answer.NOT_KNOWN if rng.random() < 0.2 else Answer.NO)
            screen |= question.triggers_stalking_screen and answer == Answer.YES
            self.add(ChecklistAnswer(referral_id=referral_id, question_id=question.pk, answer=answer))
        if screen:
            for question in self.stalking:
                self.add(ChecklistAnswer(referral_id=referral_id, question_id=question.pk,
                                         answer=Answer.YES if rng.random() < 0.5 else Answer.NO))

    def _matches(self, area, pair: _Pair, referral_id: int, referred_at: dt.datetime, same_records: bool, coordinator) -> None:
        """The repeat matches repeats_find records: every earlier referral of the pair, exact on both
        sides, decided when found."""
        reasons_each = (["the same person on the register", "name and date of birth match exactly"] if same_records
                        else ["name and date of birth match exactly"])
        reasons = [f"Victim: {r}" for r in reasons_each] + [f"Perpetrator: {r}" for r in reasons_each]
        day = timezone.localtime(referred_at).date()
        for earlier_id, earlier_at, _ in pair.referrals:
            days = (day - timezone.localtime(earlier_at).date()).days
            self.add(RepeatMatch(referral_id=referral_id, earlier_id=earlier_id, exact=True, reasons=reasons, score=40.0,
                                 days_apart=days, within_window=days <= area.repeat_window_days,
                                 decision=MatchDecision.CONFIRMED, decided_at=referred_at, found_at=referred_at))

    def _heard(self, area, meeting: MaracMeeting, case_id: int, referral_id: int, parties: set[int], coordinator,
               children: bool, met: list[str]) -> set[int]:
        """The meeting's agencies become party to the case; research, then the action plan."""
        rng = self.rng
        starts = meeting.starts_at
        attending = self.attending[meeting.pk]
        reason = f"Attends the {area.name} MARAC of {timezone.localtime(starts):%d %B %Y}"
        added = set()
        for org_id in attending:
            if org_id not in parties:
                self.party(case_id, org_id, reason, area.coordinating_organisation_id, coordinator, starts - dt.timedelta(minutes=5))
                added.add(org_id)
        researchers = [o for o in attending if o != area.coordinating_organisation_id]
        for org_id in rng.sample(researchers, min(len(researchers), rng.randint(1, 2))):
            self.add(AgencyResearch(meeting_id=meeting.pk, referral_id=referral_id, organisation_id=org_id,
                                    text=rng.choice(RESEARCH), by_id=getattr(self.staff.get(org_id), "pk", None),
                                    at=starts - dt.timedelta(days=1)))
        choices = ACTIONS + (CHILDREN_ACTIONS if children else [])
        meeting_day = timezone.localtime(starts).date()
        for description in rng.sample(choices, rng.randint(2, 4)):
            org_id = rng.choice(attending)
            deadline = meeting_day + dt.timedelta(days=rng.choice([7, 14, 21, 28]))
            status, completed_at = self._fate(deadline, meeting_day)
            assignee = self.staff.get(org_id) if rng.random() < 0.4 else None
            self.add(MaracAction(referral_id=referral_id, meeting_id=meeting.pk, organisation_id=org_id,
                                 assignee_id=assignee.pk if assignee else None,
                                 description=description, deadline=deadline, status=status,
                                 outcome=rng.choice(OUTCOMES[status]) if status != ActionStatus.OPEN else "",
                                 created_at=starts + dt.timedelta(hours=2), completed_at=completed_at))
            self.result.actions += 1
            self.result.overdue += status == ActionStatus.OPEN and deadline < self.today
        return added

    def _fate(self, deadline: dt.date, meeting_day: dt.date) -> tuple[str, dt.datetime | None]:
        """What became of an action by now: long past ones mostly done, recent ones partly open."""
        rng = self.rng

        def when(day: dt.date) -> dt.datetime:
            day = min(max(day, meeting_day + dt.timedelta(days=1)), self.today - dt.timedelta(days=1))
            return timezone.make_aware(dt.datetime.combine(day, dt.time(rng.randint(9, 16), rng.choice([0, 15, 30, 45]))))

        roll = rng.random()
        if deadline < self.today - dt.timedelta(days=30) or not self.current:
            if roll < 0.88:
                return ActionStatus.DONE, when(deadline - dt.timedelta(days=rng.randint(0, 6)))
            status = ActionStatus.NOT_POSSIBLE if roll < 0.94 else ActionStatus.NOT_UNDERTAKEN
            return status, when(deadline + dt.timedelta(days=rng.randint(0, 10)))
        if deadline < self.today:
            if roll < 0.4:
                return ActionStatus.OPEN, None
            if roll < 0.7:
                return ActionStatus.DONE, when(deadline - dt.timedelta(days=rng.randint(0, 5)))
            status = ActionStatus.NOT_POSSIBLE if roll < 0.85 else ActionStatus.NOT_UNDERTAKEN
            return status, when(self.today - dt.timedelta(days=rng.randint(1, 6)))
        if roll < 0.8 or meeting_day >= self.today - dt.timedelta(days=1):
            return ActionStatus.OPEN, None
        return ActionStatus.DONE, when(self.today - dt.timedelta(days=rng.randint(1, 5)))

    # The whole run ---------------------------------------------------------------------------------------

    def run(self, cases: int) -> MaracGeneration:
        rng = self.rng
        schedules = {area.pk: self._schedule(area) for area in self.areas}
        waiting = min(max(1, cases // 5), 12 * len(self.areas)) if self.current and cases else 0
        plan = []  # (referred_at, area, meeting, status)
        weights = [max(1, a.adult_female_population) for a in self.areas]
        history = cases - waiting
        for number in range(cases):
            area = rng.choices(self.areas, weights)[0]
            held, upcoming = schedules[area.pk]
            if number < history and held:
                # Referred in the week before a held meeting, heard there (or declined).
                meeting = rng.choice(held)
                referred_at = meeting.starts_at - dt.timedelta(days=rng.randint(2, 7), hours=rng.randint(0, 8))
                declined = rng.random() < DECLINED_SHARE
                plan.append((referred_at, area, None if declined else meeting,
                             ReferralStatus.DECLINED if declined else ReferralStatus.ACCEPTED))
            else:
                # Awaiting the next meeting, or still with the coordinator (the last few days).
                since = held[-1].starts_at if held else self.end - dt.timedelta(days=7)
                span = max(60, int((self.end - since).total_seconds()) - 60)
                referred_at = since + dt.timedelta(seconds=rng.randrange(60, span))
                status = ReferralStatus.SUBMITTED if rng.random() < 0.25 else ReferralStatus.ACCEPTED
                plan.append((referred_at, area, None, status))
        plan.sort(key=lambda row: (row[0], row[1].pk))
        with _historical_timestamps(), _keys_read_once():
            for number, (referred_at, area, meeting, status) in enumerate(plan, start=1):
                self.referral(area, referred_at, meeting, status)
                if number % CHUNK == 0:
                    self.flush()
            self.flush()
            self._agendas(schedules)
            self._close_finished()
        self._sequences_reset()
        return self.result

    def _agendas(self, schedules) -> None:
        """The agenda each held meeting had, as agenda_build made it: introductions, children's
        cases, adult cases, cases 12 months since their last MARAC, any other business."""
        by_meeting: dict[int, list] = {}
        for meeting_id, referral_id, children, previous_at in self.pending_agenda:
            if meeting_id is not None:
                by_meeting.setdefault(meeting_id, []).append((referral_id, children, previous_at))
        fresh = self.new_held
        starts = {m.pk: m.starts_at for held, _ in schedules.values() for m in held}
        windows = {m.pk: a.repeat_window_days for a in self.areas for m in schedules[a.pk][0]}
        rows = []
        for meeting_id in sorted(fresh & set(by_meeting)):
            items = [AgendaItem(meeting_id=meeting_id, section=AgendaSection.INTRODUCTIONS,
                                note="Introductions; every attendee signs the confidentiality statement")]
            sections = {AgendaSection.CHILDREN: [], AgendaSection.ADULTS: [], AgendaSection.ANNIVERSARY: []}
            for referral_id, children, previous_at in by_meeting[meeting_id]:
                late = previous_at is not None and previous_at <= starts[meeting_id] - dt.timedelta(days=windows[meeting_id])
                section = AgendaSection.ANNIVERSARY if late else AgendaSection.CHILDREN if children else AgendaSection.ADULTS
                sections[section].append(AgendaItem(meeting_id=meeting_id, section=section, referral_id=referral_id))
            for section in (AgendaSection.CHILDREN, AgendaSection.ADULTS, AgendaSection.ANNIVERSARY):
                items += sections[section]
            items.append(AgendaItem(meeting_id=meeting_id, section=AgendaSection.OTHER_BUSINESS, note="Any other business"))
            for position, item in enumerate(items, start=1):
                item.position = position
            rows += items
        AgendaItem.objects.bulk_create(rows, batch_size=2000)
        minutes = []
        for meeting_id in sorted(fresh):
            heard = len(by_meeting.get(meeting_id, []))
            minutes.append(MaracMeeting(pk=meeting_id, minutes=f"{heard} cases heard. Research shared by the agencies "
                                                                f"present; an action plan agreed for each case. No other business."))
        MaracMeeting.objects.bulk_update(minutes, ["minutes"], batch_size=1000)

    def _close_finished(self) -> None:
        """Cases heard over three months ago whose actions are all finished are closed, and declined
        referrals' cases are closed, as case_close leaves them."""
        cutoff = self.end - dt.timedelta(days=90)
        made = [referral_id for _, referral_id, _, _ in self.pending_agenda]
        open_actions = MaracAction.objects.filter(status=ActionStatus.OPEN).values("referral_id")
        for start in range(0, len(made), 5000):
            ours = MaracReferral.objects.filter(pk__in=made[start:start + 5000])
            declined = ours.filter(status=ReferralStatus.DECLINED)
            Case.objects.filter(pk__in=declined.values("case_id")).update(status=CaseStatus.CLOSED, closed_at=self.end)
            heard = ours.filter(meeting__status=MeetingStatus.HELD, meeting__starts_at__lt=cutoff).exclude(pk__in=open_actions)
            Case.objects.filter(pk__in=heard.values("case_id")).update(status=CaseStatus.CLOSED, closed_at=cutoff)

    @staticmethod
    def _sequences_reset() -> None:
        """Rows were given their ids here: tell the database's sequences (PostgreSQL) where to carry on."""
        statements = connection.ops.sequence_reset_sql(no_style(), [
            Person, PersonIndex, Case, CaseParty, Disclosure, CaseParticipant, MaracReferral, ChecklistAnswer,
            ReferralChild, RepeatMatch, MaracAction, AgencyResearch, AgendaItem, MaracMeeting])
        if statements:
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)


def marac_generate(*, cases: int, seed: int = DEFAULT_SEED, weeks: int = DEFAULT_WEEKS, end: dt.datetime | None = None,
                   current: bool = True, areas: list[MaracArea] | None = None) -> MaracGeneration:
    """Make `cases` synthetic referrals over the `weeks` before `end` (now), with the weekly meetings
    of each active MARAC area that has a schedule, their attendance, research and minutes, and action
    plans. With `current`, a fifth of the cases (at most 12 an area) are still waiting: accepted for
    the next meeting (which is made, without its agenda) or with the coordinator, and recent actions
    are partly open, some overdue; without it, everything is long finished (older history).
    Deterministic for a seed, a day and the database it starts from. All or nothing."""
    if cases < 0:
        raise ValueError("The number of cases must be 0 or more")
    if weeks < 1:
        raise ValueError("The number of weeks must be 1 or more")
    areas = list(areas if areas is not None else MaracArea.objects.filter(active=True).order_by("pk"))
    if not areas:
        raise ValueError("There is no MARAC area: load the MARAC reference data first (saferhub demo load)")
    end = end or timezone.now()
    with transaction.atomic():
        generator = _Generator(seed=seed, weeks=weeks, end=end, current=current, areas=areas)
        result = generator.run(cases)
        audit_event(user=None, action=AuditAction.CREATE, record_type="marac_demo", purpose=PURPOSE,
                    detail={"cases": result.cases, "people": result.people, "meetings": result.meetings,
                            "actions": result.actions, "seed": seed, "weeks": weeks})
    return result
