"""The MARAC access matrix's world and table: two MARAC areas coordinated by different
organisations, referrals by two agencies (accepted, awaiting, declined, transferred, one of another
area), a meeting with its agenda, attendees who have and have not signed the confidentiality
statement, two agencies' research, actions for two agencies, a repeat match to decide, an exact
repeat across agencies and a transfer of a researched case, all made through MARAC's own services;
and, for every MARAC route and the MARAC API, what each member of staff of access_core.USERS should
get for each record, worked out from the specification below."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from saferhub.marac.tests.access_core import (
    MISSING, MISSING_ID, USERS, Combo, Expect, Matrix, PersonSpec, RouteRule, either, organisations_make, routes_of,
    users_make,
)
from saferhub.partners.models import PersonalDataScope, Role

# The specification --------------------------------------------------------------------------------

AREAS = {
    # key: (slug, name, coordinating organisation, named coordinators)
    "area1": ("access-north", "Access North MARAC", "c1", ("coordinator_1",)),
    "area2": ("access-south", "Access South MARAC", "c2", ("coordinator_2",)),
}


@dataclass(frozen=True)
class ReferralSpec:
    by: str  # the user key of the referrer
    area: str
    victim: PersonSpec
    perpetrator: PersonSpec
    safe_contact: str
    child: PersonSpec | None = None


# In the order they are made (a repeat match needs the earlier referral first).
REFERRALS = {
    "r_declined": ReferralSpec("a_contributor", "area1", PersonSpec("Pelagia", "Wintercott", dt.date(1984, 2, 11)),
                               PersonSpec("Osric", "Dunmarrow", dt.date(1980, 8, 30)), "Safeline Oakhanger"),
    "r_a1": ReferralSpec("a_contributor", "area1", PersonSpec("Zephyrine", "Quillfeather", dt.date(1983, 7, 19)),
                         PersonSpec("Barnabus", "Grimsditch", dt.date(1979, 11, 3)), "Safeline Larkspurry",
                         child=PersonSpec("Thaddeus", "Quillfeather", dt.date(2015, 2, 28))),
    "r_b1": ReferralSpec("b_contributor", "area1", PersonSpec("Ottoline", "Vexworth", dt.date(1991, 4, 22)),
                         PersonSpec("Cuthbert", "Pennyroyal", dt.date(1986, 12, 5)), "Safeline Brackenrigg"),
    # Agency A refers the victim and perpetrator agency B referred: an exact repeat, found through the
    # register's blind indexes, of a case A is not party to (A's own register entries, same details).
    "r_a3": ReferralSpec("a_contributor", "area1", PersonSpec("Ottoline", "Vexworth", dt.date(1991, 4, 22)),
                         PersonSpec("Cuthbert", "Pennyroyal", dt.date(1986, 12, 5)), "Safeline Ferncastle"),
    "r_b2": ReferralSpec("b_contributor", "area2", PersonSpec("Marisol", "Featherstonhaugh", dt.date(1994, 9, 30)),
                         PersonSpec("Evander", "Thistlewood", dt.date(1975, 10, 27)), "Safeline Saltersgate"),
    "r_transferred": ReferralSpec("b_contributor", "area1", PersonSpec("Wilhelmina", "Stoatley", dt.date(1968, 6, 9)),
                                  PersonSpec("Peregrine", "Ashcombe", dt.date(1970, 3, 14)), "Safeline Corvidgarth"),
}
DECLINE_REASON = "Declined: Threshold Quarrendon not met"
ACCEPTED = ("r_a1", "r_transferred")
DECLINED = ("r_declined",)
# The transfer: the old referral, the area it moves to, the label of the new referral it makes.
TRANSFER = ("r_transferred", "area2", "r_moved")
TRANSFER_REASON = "Moving to the Fenwickstead refuge"
ALL_REFERRALS = (*REFERRALS, TRANSFER[2])


def referral_area(label: str) -> str:
    return TRANSFER[1] if label == TRANSFER[2] else REFERRALS[label].area


def referral_status(label: str) -> str:
    if label == TRANSFER[0]:
        return "transferred"
    if label in DECLINED:
        return "declined"
    if label in ACCEPTED:
        return "accepted"
    return "submitted"


def referral_people(label: str) -> list[PersonSpec]:
    spec = REFERRALS[TRANSFER[0] if label == TRANSFER[2] else label]
    return [p for p in (spec.victim, spec.perpetrator, spec.child) if p]


MEETINGS = {
    # key: (area, agenda, attendees {user key: signed?})
    # r_transferred was on m1's agenda (and researched) before it moved to area 2.
    "m1": ("area1", ("r_a1", "r_transferred"), {"coordinator_1": True, "attendee_signed": True, "attendee_unsigned": False}),
    "m2": ("area2", (), {}),
}
# Research entered at m1 on r_a1, by user key (their agency).
RESEARCH = {"coordinator_1": "Research Corvidane: two call-outs", "attendee_signed": "Research Brambleholt: GP concerns"}
# Research entered at m1 on r_transferred before it moved: for the signed attendees of m1 and, on
# the transfer's page, the receiving area's coordinators (transfers.transfer_history), no one else.
MOVED_RESEARCH = {"attendee_signed": "Research Quernmoor: A&E attendance"}
# Actions agreed for r_a1: label → (agency, description).
ACTIONS = {"act_a": ("a", "Action Ashgrovetask: safety plan"), "act_e": ("e", "Action Elmstead: health visitor check")}
# A near match the coordinator has to confirm or reject: (later, earlier).
REPEAT = ("r_b1", "r_a1")
CALENDAR_TOKEN_OWNER = "coordinator_1"


def _org(user_key: str) -> str:
    return USERS[user_key].organisation


def parties(label: str) -> set[str]:
    """The organisations party to a referral's case: the referrer and the area's coordinating
    organisation; the agencies of the signed attendees of a meeting it is on the agenda of; the
    agencies given actions on it; and, for a transfer, the receiving area (old case) and the
    sending coordinator's organisation (new case)."""
    if label == TRANSFER[2]:
        return {AREAS[REFERRALS[TRANSFER[0]].area][2], AREAS[TRANSFER[1]][2]}
    spec = REFERRALS[label]
    found = {_org(spec.by), AREAS[spec.area][2]}
    for area, agenda, attendees in MEETINGS.values():
        if label in agenda:
            found |= {_org(u) for u, signed in attendees.items() if signed}
    if label == "r_a1":
        found |= {agency for agency, _ in ACTIONS.values()}
    if label == TRANSFER[0]:
        found.add(AREAS[TRANSFER[1]][2])
    return found


@dataclass(frozen=True)
class Who:
    key: str
    signed_in: bool = False
    sees: bool = False
    may_refer: bool = False
    view: frozenset = frozenset()
    change: frozenset = frozenset()
    held: frozenset = frozenset()  # a data protection lead's organisation's cases
    coordinates: frozenset = frozenset()  # areas: named coordinators and contributors of the coordinating organisation
    named: frozenset = frozenset()  # areas they are named coordinators of
    meetings: frozenset = frozenset()
    signed: frozenset = frozenset()  # meetings whose statement they signed
    unsigned: frozenset = frozenset()
    data_areas: frozenset = frozenset()
    administrator: bool = False


def who(user_key: str) -> Who:
    spec = USERS[user_key]
    if spec is None:
        return Who(user_key)
    org = spec.organisation
    if spec.scope == PersonalDataScope.ALL:
        view = set(ALL_REFERRALS)
    elif spec.scope == PersonalDataScope.PARTIES:
        view = {r for r in ALL_REFERRALS if org in parties(r)}
    else:
        view = set()
    held = {r for r in ALL_REFERRALS if org in parties(r)} if spec.data_protection_lead else set()
    has_scope = spec.scope != PersonalDataScope.NONE
    named = {a for a, (_, _, _, names) in AREAS.items() if user_key in names} if spec.sees else set()
    coordinates = {a for a, (_, _, coord, names) in AREAS.items()
                   if has_scope and (user_key in names or (org == coord and spec.contributes))}
    meetings = {m for m, (area, _, attendees) in MEETINGS.items() if spec.sees and (area in named or user_key in attendees)}
    signed = {m for m in meetings if MEETINGS[m][2].get(user_key) is True}
    unsigned = {m for m in meetings if MEETINGS[m][2].get(user_key) is False}
    data_areas = set(AREAS) if spec.at_least(Role.STRATEGY_MANAGER) else coordinates
    return Who(user_key, signed_in=True, sees=spec.sees, may_refer=has_scope and spec.contributes,
               view=frozenset(view), change=frozenset(view if spec.contributes else ()), held=frozenset(held),
               coordinates=frozenset(coordinates), named=frozenset(named), meetings=frozenset(meetings),
               signed=frozenset(signed), unsigned=frozenset(unsigned), data_areas=frozenset(data_areas),
               administrator=spec.at_least(Role.ADMINISTRATOR))


# Building it --------------------------------------------------------------------------------------

@dataclass
class World:
    organisations: dict
    users: dict
    areas: dict
    referrals: dict
    meetings: dict
    attendance: dict
    actions: dict
    repeat: object
    transfer: object
    calendar_token: str

    def reference(self, label: str) -> str:
        return self.referrals[label].case.reference


def _input(spec: ReferralSpec):
    from saferhub.marac.referral_services import ChildInput, PersonInput, ReferralInput
    from saferhub.marac.tests.referral_fixtures import answers_with

    child = spec.child
    return ReferralInput(
        victim=PersonInput(first_name=spec.victim.first_name, last_name=spec.victim.last_name,
                           date_of_birth=spec.victim.date_of_birth, gender="female"),
        perpetrators=[PersonInput(first_name=spec.perpetrator.first_name, last_name=spec.perpetrator.last_name,
                                  date_of_birth=spec.perpetrator.date_of_birth)],
        children=[ChildInput(first_name=child.first_name, last_name=child.last_name, date_of_birth=child.date_of_birth,
                             school="Access Primary")] if child else [],
        answers=answers_with(14), assessed_on=timezone.localdate() - dt.timedelta(days=1), incidents_in_window=0,
        safe_contact_details=spec.safe_contact, safe_to_call=True)


def build_world() -> World:
    from saferhub.marac import action_services, meeting_services, referral_services, transfers
    from saferhub.marac.agenda import agenda_build
    from saferhub.marac.models import MatchDecision, RepeatMatch
    from saferhub.marac.tests.factories import area_make, meeting_make

    organisations = organisations_make()
    users = users_make(organisations)
    areas = {key: area_make(organisation=organisations[coord], coordinators=[users[u] for u in names], slug=slug, name=name)
             for key, (slug, name, coord, names) in AREAS.items()}
    referrals = {}
    for label, spec in REFERRALS.items():
        referrals[label] = referral_services.referral_submit(user=users[spec.by], area=areas[spec.area], referral=_input(spec))
    for label in ACCEPTED:
        coordinator = users[AREAS[REFERRALS[label].area][3][0]]
        referral_services.referral_accept(user=coordinator, referral_id=referrals[label].pk)
    for label in DECLINED:
        coordinator = users[AREAS[REFERRALS[label].area][3][0]]
        referral_services.referral_decline(user=coordinator, referral_id=referrals[label].pk, reason=DECLINE_REASON)
    meetings, attendance = {}, {}
    for key, (area, agenda, attendees) in MEETINGS.items():
        coordinator = users[AREAS[area][3][0]]
        meeting = meeting_make(area=areas[area], starts_at=timezone.now() + dt.timedelta(days=7))
        meetings[key] = meeting
        if agenda:
            agenda_build(user=coordinator, meeting=meeting)
        for user_key, signed in attendees.items():
            attendance[(key, user_key)] = meeting_services.attendance_add(
                user=coordinator, meeting_id=meeting.pk, attendee=users[user_key], role="Representative")
            if signed:
                meeting_services.confidentiality_sign(user=users[user_key], meeting_id=meeting.pk, agree=True)
    for user_key, text in RESEARCH.items():
        meeting_services.research_save(user=users[user_key], meeting_id=meetings["m1"].pk,
                                       referral_id=referrals["r_a1"].pk, text=text)
    for user_key, text in MOVED_RESEARCH.items():
        meeting_services.research_save(user=users[user_key], meeting_id=meetings["m1"].pk,
                                       referral_id=referrals[TRANSFER[0]].pk, text=text)
    old, to_area, new = TRANSFER
    transfer = transfers.referral_transfer(user=users[AREAS[REFERRALS[old].area][3][0]], referral_id=referrals[old].pk,
                                           to_area=areas[to_area], reason=TRANSFER_REASON)
    referrals[new] = transfer.to_referral
    actions = {}
    for label, (agency, description) in ACTIONS.items():
        actions[label] = action_services.action_add(
            user=users["coordinator_1"], referral_id=referrals["r_a1"].pk, organisation=organisations[agency], assignee=None,
            description=description, deadline=timezone.localdate() + dt.timedelta(days=14), meeting=meetings["m1"])
    later, earlier = REPEAT
    repeat = RepeatMatch.objects.create(referral=referrals[later], earlier=referrals[earlier], exact=False,
                                        reasons=["Victim: last name similar"], score=9.5, days_apart=0,
                                        within_window=True, decision=MatchDecision.PENDING)
    token = meeting_services.calendar_token_create(user=users[CALENDAR_TOKEN_OWNER])
    for made in referrals.values():
        made.refresh_from_db()
    return World(organisations=organisations, users=users, areas=areas, referrals=referrals, meetings=meetings,
                 attendance=attendance, actions=actions, repeat=repeat, transfer=transfer, calendar_token=token)


# The table ----------------------------------------------------------------------------------------

REFERRAL_RECORDS = [*ALL_REFERRALS, MISSING]
MEETING_RECORDS = ["m1", "m2", MISSING]
ACTION_RECORDS = [*ACTIONS, MISSING]
# meeting_case: (meeting, referral) — on the agenda, not on it, another area's, missing.
CASE_RECORDS = [("m1", "r_a1"), ("m1", "r_b1"), ("m2", "r_b2"), MISSING]
ATTENDANCE_RECORDS = [("m1", "attendee_unsigned"), ("m2", "attendee_unsigned"), MISSING]

OK, DONE = Expect(200), Expect(302, succeeds=True)


def _sees(w: Who, then: Expect = OK) -> Expect:
    return then if w.sees else Expect(403)


def _meeting_area(record) -> str | None:
    return MEETINGS[record][0] if record in MEETINGS else None


def _gated(w: Who, meeting, then: Expect = OK) -> Expect:
    """A meeting's case pages: 404 to anyone not coordinating or attending it, the statement first
    for an attendee who has not signed, the page for the rest."""
    if meeting not in w.meetings:
        return Expect(404)
    if meeting in w.unsigned:
        return Expect(302, "/marac/meetings/")  # to the meeting's confidentiality statement
    return then


def _coordinator_of_meeting(w: Who, meeting) -> bool:
    return meeting in w.meetings and _meeting_area(meeting) in w.named


def e_home(w, method, record, form):
    return _sees(w)


def e_referral_list(w, method, record, form):
    return _sees(w)


def e_referral_new(w, method, record, form):
    if not (w.sees and w.may_refer):
        return Expect(403)
    if method == "POST" and form == "valid":
        return Expect(302, "/marac/referrals/", succeeds=True)
    return OK


def e_referral_detail(w, method, record, form):
    return OK if record in w.view else Expect(404)


def e_referral_accept(w, method, record, form):
    if record in w.change and referral_area(record) in w.coordinates:
        return Expect(302, succeeds=referral_status(record) == "submitted")
    return Expect(404)


def e_referral_decline(w, method, record, form):
    if record not in w.view:
        return Expect(404)
    may_decide = referral_status(record) == "submitted" and referral_area(record) in w.coordinates and record in w.change
    if not may_decide:
        return Expect(302, "/marac/referrals/") if referral_status(record) != "submitted" else Expect(403)
    if method == "POST" and form == "valid":
        return Expect(302, "/marac/queue/", succeeds=True)
    return OK


def e_referral_audit(w, method, record, form):
    return OK if record in w.held else Expect(404)


def e_queue(w, method, record, form):
    return OK if w.sees and w.coordinates else Expect(403)


def e_repeat_list(w, method, record, form):
    if not w.sees:
        return Expect(403)
    return Expect(404) if _query(record).get("decision") == "bogus" else OK


def e_checklist_list(w, method, record, form):
    return OK


def e_checklist_load(w, method, record, form):
    return OK if w.administrator else Expect(403)


def e_meeting_list(w, method, record, form):
    return _sees(w)


def e_meetings_ics(w, method, record, form):
    return OK


def e_meeting_calendar(w, method, record, form):
    if method == "POST":
        return Expect(200, succeeds=True)  # a new secret address, shown once
    return OK


def e_meetings_ics_token(w, method, record, form):
    return OK if record == "token" else Expect(404)


def e_meeting_schedule(w, method, record, form):
    if not (w.sees and w.named):
        return Expect(403)
    # The valid forms are for area 1 (and its referral r_a1): a coordinator of another area is
    # told it is not theirs, and nothing is made.
    if method == "POST" and form == "valid" and "area1" in w.named:
        return Expect(302, "/marac/meetings", succeeds=True)
    return OK


def e_meeting_detail(w, method, record, form):
    return _gated(w, record)


def e_meeting_agenda_build(w, method, record, form):
    return Expect(302, succeeds=None) if _coordinator_of_meeting(w, record) else Expect(404)


def _coordinator_post(w, method, record, form):
    # Publish and cancel check the coordinator directly (not whether the meeting is visible).
    return Expect(302, succeeds=None) if _meeting_area(record) in w.named and w.sees else Expect(404)


def e_meeting_agenda_add(w, method, record, form):
    if record not in w.meetings:
        return Expect(404)
    if not _coordinator_of_meeting(w, record):
        return Expect(404)
    if method == "POST" and form == "valid":
        return Expect(302, succeeds=True)
    return OK


def e_meeting_attendance(w, method, record, form):
    if not _coordinator_of_meeting(w, record):
        return Expect(404)
    if method == "POST" and form == "valid":
        return Expect(302, succeeds=True)
    return OK


def e_meeting_attendance_remove(w, method, record, form):
    if record == MISSING:
        return Expect(404)
    meeting, attendee = record
    if _coordinator_of_meeting(w, meeting) and attendee in MEETINGS[meeting][2]:
        return Expect(302, succeeds=True)
    return Expect(404)


def e_meeting_statement(w, method, record, form):
    if record not in w.meetings or not (record in w.signed or record in w.unsigned):
        return Expect(404)
    if method == "POST" and form == "valid" and record in w.unsigned:
        return Expect(302, succeeds=True)
    return OK


def e_meeting_case(w, method, record, form):
    if record == MISSING:
        return Expect(404)
    meeting, referral = record
    on_agenda = referral in MEETINGS[meeting][1] and referral in w.view
    if method == "POST" and form == "valid":
        if meeting not in w.meetings:
            return Expect(404)
        if meeting in w.signed and on_agenda:
            return Expect(302, succeeds=True)
        if meeting in w.unsigned:
            return Expect(404)  # research needs a signed statement: the service refuses before the gate
    gate = _gated(w, meeting)
    if gate.status != 200:
        return gate
    return OK if on_agenda else Expect(404)


def e_meeting_minutes(w, method, record, form):
    gate = _gated(w, record)
    if gate.status != 200:
        return gate
    if method == "POST" and not _coordinator_of_meeting(w, record):
        return Expect(403)
    if method == "POST":
        return Expect(either(200, 302), succeeds=None)
    return OK


def e_meeting_minutes_export(w, method, record, form):
    return _gated(w, record)


def e_my_actions(w, method, record, form):
    return _sees(w)


def _action_may_update(w, record) -> bool:
    """The agency the action is for, or the area's named coordinators, if they may change personal data."""
    spec = USERS[w.key]
    agency = ACTIONS[record][0]
    return (record in _visible_actions(w) and spec.contributes and spec.scope != PersonalDataScope.NONE
            and (spec.organisation == agency or "area1" in w.named))


def _visible_actions(w) -> set:
    return set(ACTIONS) if "r_a1" in w.view else set()


def e_action_update(w, method, record, form):
    if not w.sees:
        return Expect(403)
    if record not in _visible_actions(w):
        return Expect(404)
    if not _action_may_update(w, record):
        return Expect(403)
    if method == "POST" and form == "valid":
        return Expect(302, succeeds=True)
    return OK


def e_action_plan(w, method, record, form):
    if not w.sees:
        return Expect(403)
    return OK if record in w.view else Expect(404)


def e_action_add(w, method, record, form):
    if not w.sees:
        return Expect(403)
    if record not in w.change:
        return Expect(404)
    if method == "POST" and form == "valid":
        return Expect(302, succeeds=True)
    return OK


def _repeat_visible(w) -> bool:
    later, _ = REPEAT
    return referral_area(later) in w.coordinates and later in w.view


def e_repeat_review(w, method, record, form):
    if not w.sees:
        return Expect(403)
    if record != "repeat" or not _repeat_visible(w):
        return Expect(404)
    if method == "POST":
        if REPEAT[0] not in w.change:
            return Expect(403)
        return Expect(302, succeeds=True) if form == "valid" else OK
    return OK


def e_referral_history(w, method, record, form):
    if not w.sees:
        return Expect(403)
    return OK if record in w.view else Expect(404)


def e_referral_transfer(w, method, record, form):
    if not w.sees:
        return Expect(403)
    if record not in w.change or referral_area(record) not in w.coordinates:
        return Expect(404)
    if method == "POST" and form == "valid" and referral_status(record) not in ("declined", "transferred"):
        return Expect(302, succeeds=True)
    return OK


def e_transfer_detail(w, method, record, form):
    if not w.sees:
        return Expect(403)
    return OK if record == "transfer" and TRANSFER[0] in w.view else Expect(404)


def _dataset_query(w, record) -> Expect:
    """An area asked for by slug must be one of the user's; a quarter must be a quarter."""
    asked = _query(record)
    if "area" in asked and next(a for a, spec in AREAS.items() if spec[0] == asked["area"]) not in w.data_areas:
        return Expect(404)
    if asked.get("quarter") == "not-a-quarter":
        return Expect(404)
    return OK


def e_dataset(w, method, record, form):
    return _dataset_query(w, record) if w.data_areas else Expect(403)


def e_dataset_export(w, method, record, form):
    if not w.data_areas:
        return Expect(403)
    return _dataset_query(w, record) if record.split("?")[0] in ("csv", "xlsx") else Expect(404)


def e_dataset_publish(w, method, record, form):
    if not w.data_areas:
        return Expect(403)
    # Without an area and a quarter there is nothing to publish; with them, only a strategy manager
    # (or above) may publish, and is sent back to the page.
    if form != "valid" or "area1" not in w.data_areas:  # the valid form names area1
        return Expect(404)
    return Expect(302, "/marac/data/", succeeds=None) if USERS[w.key].at_least(Role.STRATEGY_MANAGER) else Expect(403)


def e_api_referrals(w, method, record, form):
    if method == "GET":
        return OK if w.sees else Expect(403)
    if form == "empty":
        return Expect(422)
    return Expect(201, succeeds=True) if w.may_refer else Expect(403)


def e_api_referral(w, method, record, form):
    return OK if record in w.view else Expect(404)


def _rule(expect, **values) -> RouteRule:
    return RouteRule(records=values.pop("records", [None]), expect=lambda u, m, r, f: expect(who(u), m, r, f), **values)


GET_POST = ("GET", "POST")
POST = ("POST",)
RULES = {
    "marac:home": _rule(e_home),
    "marac:referral_list": _rule(e_referral_list),
    "marac:referral_new": _rule(e_referral_new, forms=("empty", "valid")),
    "marac:referral_detail": _rule(e_referral_detail, records=REFERRAL_RECORDS),
    "marac:referral_accept": _rule(e_referral_accept, records=REFERRAL_RECORDS, methods=POST),
    "marac:referral_decline": _rule(e_referral_decline, records=REFERRAL_RECORDS, forms=("empty", "valid")),
    "marac:referral_audit": _rule(e_referral_audit, records=REFERRAL_RECORDS),
    "marac:queue": _rule(e_queue, records=[None, "?status=accepted", "?status=declined", "?area=access-south"]),
    "marac:checklist_list": _rule(e_checklist_list),
    "marac:checklist_load": _rule(e_checklist_load),
    "marac:meeting_list": _rule(e_meeting_list, records=[None, "?when=past", "?area=access-south"]),
    "marac:meetings_ics": _rule(e_meetings_ics),
    "marac:meeting_calendar": _rule(e_meeting_calendar),
    "marac:meetings_ics_token": _rule(e_meetings_ics_token, records=["token", MISSING], open_to_anyone=True),
    "marac:meeting_schedule": _rule(e_meeting_schedule, forms=("empty", "valid")),
    "marac:meeting_emergency": _rule(e_meeting_schedule, forms=("empty", "valid", "foreign")),
    "marac:meeting_detail": _rule(e_meeting_detail, records=MEETING_RECORDS),
    "marac:meeting_agenda_build": _rule(e_meeting_agenda_build, records=MEETING_RECORDS, methods=POST),
    "marac:meeting_agenda_publish": _rule(_coordinator_post, records=MEETING_RECORDS, methods=POST),
    "marac:meeting_agenda_add": _rule(e_meeting_agenda_add, records=MEETING_RECORDS, forms=("empty", "valid", "foreign")),
    "marac:meeting_cancel": _rule(_coordinator_post, records=MEETING_RECORDS, methods=POST),
    "marac:meeting_attendance": _rule(e_meeting_attendance, records=MEETING_RECORDS, forms=("empty", "valid")),
    "marac:meeting_attendance_remove": _rule(e_meeting_attendance_remove, records=ATTENDANCE_RECORDS, methods=POST),
    "marac:meeting_statement": _rule(e_meeting_statement, records=MEETING_RECORDS, forms=("empty", "valid")),
    "marac:meeting_case": _rule(e_meeting_case, records=CASE_RECORDS, forms=("empty", "valid")),
    "marac:meeting_minutes": _rule(e_meeting_minutes, records=MEETING_RECORDS),
    "marac:meeting_minutes_print": _rule(e_meeting_minutes_export, records=MEETING_RECORDS),
    "marac:meeting_minutes_docx": _rule(e_meeting_minutes_export, records=MEETING_RECORDS),
    "marac:my_actions": _rule(e_my_actions, records=[None, "?status=all", "?overdue=1"]),
    "marac:action_update": _rule(e_action_update, records=ACTION_RECORDS, forms=("empty", "valid")),
    "marac:action_plan": _rule(e_action_plan, records=REFERRAL_RECORDS),
    "marac:action_add": _rule(e_action_add, records=REFERRAL_RECORDS, forms=("empty", "valid", "foreign")),
    "marac:repeat_list": _rule(e_repeat_list, records=[None, "?decision=confirmed", "?decision=bogus"]),
    "marac:repeat_review": _rule(e_repeat_review, records=["repeat", MISSING], forms=("empty", "valid")),
    "marac:referral_history": _rule(e_referral_history, records=REFERRAL_RECORDS),
    "marac:referral_transfer": _rule(e_referral_transfer, records=REFERRAL_RECORDS, forms=("empty", "valid", "foreign")),
    "marac:transfer_detail": _rule(e_transfer_detail, records=["transfer", MISSING]),
    "marac:dataset": _rule(e_dataset, records=[None, "?area=access-south", "?quarter=not-a-quarter"]),
    "marac:dataset_export": _rule(e_dataset_export,
                                  records=["csv", "xlsx", "pdf", "csv?area=access-south", "xlsx?area=access-north"]),
    "marac:dataset_publish": _rule(e_dataset_publish, methods=POST, forms=("empty", "valid")),
    "api/marac/referrals/": _rule(e_api_referrals, api_methods=GET_POST, forms=("empty", "valid")),
    "api/marac/referrals/<int:referral_id>/": _rule(e_api_referral, records=REFERRAL_RECORDS, api_methods=("GET",)),
}
for _key in ("marac:referral_accept", "marac:meeting_agenda_build", "marac:meeting_agenda_publish", "marac:meeting_cancel",
             "marac:meeting_attendance_remove"):
    RULES[_key].forms = ("",)


def routes():
    return routes_of("marac", "api/marac/")


# Addresses and forms ------------------------------------------------------------------------------

def _id(world: World, label) -> int:
    if label == MISSING or label is None:
        return MISSING_ID
    if label in world.referrals:
        return world.referrals[label].pk
    if label in world.meetings:
        return world.meetings[label].pk
    if label in world.actions:
        return world.actions[label].pk
    if label == "repeat":
        return world.repeat.pk
    if label == "transfer":
        return world.transfer.pk
    raise KeyError(label)


def path(world: World, combo: Combo) -> str:
    """The address of a combination; a record written "base?query" (a list's filter, an export of
    another area) adds the query to the address of `base`."""
    route, record = combo.route, combo.record
    query = ""
    if isinstance(record, str) and "?" in record:
        record, query = record.split("?", 1)
        record = record or None
    names = route.arguments
    values = {}
    if route.key == "marac:meetings_ics_token":
        values["token"] = world.calendar_token if record == "token" else "no-such-calendar-token"
    elif route.key == "marac:dataset_export":
        values["fmt"] = record
    elif route.key == "marac:meeting_case":
        meeting, referral = record if record != MISSING else (MISSING, MISSING)
        values = {"pk": _id(world, meeting), "referral_pk": _id(world, referral)}
    elif route.key == "marac:meeting_attendance_remove":
        if record == MISSING:
            values = {"pk": MISSING_ID, "attendance_pk": MISSING_ID}
        else:
            meeting, attendee = record
            values = {"pk": _id(world, meeting), "attendance_pk": world.attendance[("m1", attendee)].pk}
    else:
        values = {name: _id(world, record) for name in names}
    return route.fill(values) + (f"?{query}" if query else "")


def _query(record) -> dict:
    if not (isinstance(record, str) and "?" in record):
        return {}
    return dict(part.split("=", 1) for part in record.split("?", 1)[1].split("&"))


def _date_parts(prefix: str, day: dt.date) -> dict:
    return {f"{prefix}-day": str(day.day), f"{prefix}-month": str(day.month), f"{prefix}-year": str(day.year)}


FOREIGN = {
    # Forms naming something of another area: each must be refused on the form, changing nothing
    # and naming nothing of the other area.
    "marac:meeting_agenda_add": lambda world, record: {"kind": "50", "reference": world.reference("r_b2"), "note": ""},
    "marac:meeting_emergency": lambda world, record: {
        "reference": world.reference("r_b2"), "time": "14:30", "venue": "Matrix room", "reason": "Matrix emergency",
        **_date_parts("date", timezone.localdate() + dt.timedelta(days=2))},
    "marac:action_add": lambda world, record: {
        "organisation": str(world.organisations["a"].pk), "assignee": "", "description": "Matrix action",
        "meeting": str(world.meetings["m2" if record in world.referrals and referral_area(record) == "area1" else "m1"].pk),
        **_date_parts("deadline", timezone.localdate() + dt.timedelta(days=21))},
    "marac:referral_transfer": lambda world, record: {
        "to_area": str(world.areas[referral_area(record) if record in world.referrals else "area1"].pk),
        "reason": "Moving to where it already is"},
}


def data(world: World, user_key: str, combo: Combo) -> dict:
    if combo.form == "foreign":
        return FOREIGN[combo.route.key](world, combo.record)
    if combo.form != "valid":
        return {}
    key, record = combo.route.key, combo.record
    if key == "marac:referral_decline":
        return {"reason": "Declined by the matrix"}
    if key == "marac:referral_new":
        from saferhub.marac.tests.referral_fixtures import answers_with

        return {"area": str(world.areas["area1"].pk), "victim-first_name": "Newcomb", "victim-last_name": "Webvictim",
                **_date_parts("victim-date_of_birth", dt.date(1989, 5, 6)), "perpetrator_count": "1",
                "perpetrator-0-first_name": "Newcomb", "perpetrator-0-last_name": "Webperp", "child_count": "1",
                **_date_parts("assessed_on", timezone.localdate() - dt.timedelta(days=1)),
                **{f"answer-{k}": a for k, (a, _) in answers_with(14).items()},
                "incidents_in_window": "0", "safe_contact_details": "Text only", "safe_to_call": "yes"}
    if key == "marac:meeting_schedule":
        return {"area": str(world.areas["area1"].pk), **_date_parts("until", dt.date(2027, 2, 1))}
    if key == "marac:meeting_emergency":
        return {"reference": world.reference("r_a1").lower(), "time": "14:30", "venue": "Matrix room",
                "reason": "Matrix emergency", **_date_parts("date", timezone.localdate() + dt.timedelta(days=2))}
    if key == "marac:meeting_agenda_add":
        return {"kind": "60", "note": "Matrix business"}
    if key == "marac:meeting_attendance":
        return {"attendee": str(world.users["b_contributor"].pk), "role": "Matrix representative"}
    if key == "marac:meeting_statement":
        return {"agree": "on"}
    if key == "marac:meeting_case":
        return {"text": "Matrix research entered"}
    if key == "marac:action_update":
        return {"status": "done", "outcome": "Done in the matrix"}
    if key == "marac:action_add":
        return {"organisation": str(world.organisations["a"].pk), "assignee": "", "description": "Matrix action",
                "meeting": "", **_date_parts("deadline", timezone.localdate() + dt.timedelta(days=21))}
    if key == "marac:repeat_review":
        return {"decision": "reject", "reason": "Different people, says the matrix"}
    if key == "marac:referral_transfer":
        here = referral_area(record) if record in world.referrals else "area1"
        there = next(a for a in AREAS if a != here)
        return {"to_area": str(world.areas[there].pk), "reason": "Moving, says the matrix"}
    if key == "marac:dataset_publish":
        from saferhub.performance.periods import FinancialQuarter

        quarter = FinancialQuarter.from_date(timezone.localdate()).previous()
        return {"area": world.areas["area1"].slug, "quarter": quarter.slug}
    if key == "api/marac/referrals/":
        from saferhub.marac.tests.referral_fixtures import answers_with

        return {"area": world.areas["area1"].slug,
                "victim": {"first_name": "Newcomb", "last_name": "Matrixvictim", "date_of_birth": "1990-01-02",
                           "gender": "female"},
                "perpetrators": [{"first_name": "Newcomb", "last_name": "Matrixperp", "date_of_birth": "1988-03-04"}],
                "answers": {k: {"answer": a, "comment": c} for k, (a, c) in answers_with(14).items()},
                "assessed_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(), "incidents_in_window": 0,
                "safe_contact_details": "Text only", "safe_to_call": True}
    return {}


# What may not be shown ------------------------------------------------------------------------------

# Pages that carry dates, places, counts and references only, never anyone's name or date of birth,
# whoever reads them: the meeting list and calendar ("nothing personal"), the agenda and the minutes
# (cases by reference, DOMAIN.md §3) and MARAC data (counts).
NAMELESS = ("marac:meeting_list", "marac:meetings_ics", "marac:meetings_ics_token", "marac:meeting_detail",
            "marac:meeting_minutes", "marac:meeting_minutes_print", "marac:meeting_minutes_docx", "marac:dataset",
            "marac:dataset_export")
LINK_PAGES = ("marac:referral_history", "marac:transfer_detail", "marac:repeat_review")


def forbidden(world: World, user_key: str, combo: Combo, status: int) -> dict[str, str]:
    """token → whose it is: the people, references and free text of every referral the user may
    not see (all of them on an answer that is not a 200), research to anyone but the signed
    attendees of its meeting, actions and the transfer's reason with their case."""
    w = who(user_key)
    visible = set(w.view) if status < 300 else set()
    references = set(visible)
    if combo.route.key == "marac:referral_audit" and status == 200:
        references |= set(w.held)
    if combo.route.key in LINK_PAGES and status == 200:
        # A transfer's page and its referrals' histories name the other end of the transfer, and a
        # repeat match's review both of its referrals, by reference only (a reference is never
        # personal): the referring agency may know where its referral went.
        if combo.record == "transfer" or combo.record in TRANSFER[::2]:
            references |= set(TRANSFER[::2])
        if combo.record == "repeat":
            references |= set(REPEAT)
    people_visible = [] if combo.route.key in NAMELESS else [p for r in visible for p in referral_people(r)]
    tokens = {}
    for label in ALL_REFERRALS:
        for person in referral_people(label):
            if person not in people_visible:
                tokens.update({t: label for t in person.tokens()})
        if label not in visible:
            if label in REFERRALS:
                tokens[REFERRALS[label].safe_contact] = label
        if label not in references:
            tokens[world.reference(label)] = label
    tokens[DECLINE_REASON] = "r_declined" if "r_declined" not in visible else None
    if "r_a1" not in visible:
        tokens.update({description: label for label, (_, description) in ACTIONS.items()})
    if not (w.signed & {"m1"}) or status >= 300:
        tokens.update({text: f"research by {u}" for u, text in RESEARCH.items()})
    if TRANSFER[0] not in visible:
        tokens[TRANSFER_REASON] = "transfer"
    receiving = combo.route.key == "marac:transfer_detail" and TRANSFER[1] in w.coordinates
    if not (w.signed & {"m1"} or receiving) or status >= 300:
        tokens.update({text: f"research by {u} on {TRANSFER[0]}" for u, text in MOVED_RESEARCH.items()})
    return {t: o for t, o in tokens.items() if o}


def snapshot() -> dict:
    from saferhub.marac.models import (
        AgencyResearch, AgendaItem, Attendance, CalendarFeedToken, MaracAction, MaracMeeting, MaracReferral, RepeatMatch,
    )
    from saferhub.people.models import Case, CaseParty, Person

    return {
        "referrals": sorted(MaracReferral.objects.values_list("pk", "status")),
        "cases": Case.objects.count(), "parties": CaseParty.objects.count(), "people": Person.objects.count(),
        "meetings": sorted(MaracMeeting.objects.values_list("pk", "status", "agenda_published_at", "held_at")),
        "agenda": AgendaItem.objects.count(),
        "attendance": sorted(Attendance.objects.values_list("pk", "confidentiality_signed_at")),
        # `at` moves on every save (auto_now): an update shows without decrypting the text.
        "research": sorted(AgencyResearch.objects.values_list("pk", "at")),
        "actions": sorted(MaracAction.objects.values_list("pk", "status")),
        "repeats": sorted(RepeatMatch.objects.values_list("pk", "decision")),
        "tokens": CalendarFeedToken.objects.filter(revoked_at__isnull=True).count() + 1000 * CalendarFeedToken.objects.count(),
    }


def listing(world: World, user_key: str, outcome) -> list[str]:
    """A list must show exactly what the user may see of it."""
    combo, w = outcome.combo, who(user_key)
    if combo.method != "GET":
        return []
    shown = {label for label in ALL_REFERRALS if world.reference(label) in outcome.text}
    org = USERS[user_key].organisation if USERS[user_key] else None
    if combo.route.key in ("marac:referral_list", "api/marac/referrals/"):
        should = {r for r in w.view if r in REFERRALS and USERS[REFERRALS[r].by].organisation == org}
        if shown != should:
            return [f"lists {sorted(shown)}, expected {sorted(should)}"]
    if combo.route.key == "marac:queue":
        asked = _query(combo.record)
        status = asked.get("status", "submitted")
        areas = {a for a in w.coordinates if AREAS[a][0] == asked["area"]} if "area" in asked else set(w.coordinates)
        areas = areas or set(w.coordinates)  # an area the user does not coordinate: all of theirs
        should = {r for r in w.view if referral_status(r) == status and referral_area(r) in areas}
        if shown != should:
            return [f"queues {sorted(shown)}, expected {sorted(should)}"]
    # The scan is only worth something if what it looks for is on the pages that may show it.
    wanted = []
    if combo.route.key == "marac:referral_detail" and combo.record in w.view:
        wanted = [world.reference(combo.record), *(p.last_name for p in referral_people(combo.record))]
    if combo.route.key == "marac:meeting_case" and combo.record == ("m1", "r_a1"):
        wanted = [REFERRALS["r_a1"].victim.last_name, *RESEARCH.values()]
    if combo.route.key == "marac:action_plan" and combo.record == "r_a1":
        wanted = [description for _, description in ACTIONS.values()]
    if combo.route.key == "marac:transfer_detail" and combo.record == "transfer":
        wanted = [TRANSFER_REASON]
    return [f"does not show {token!r}" for token in wanted if token not in outcome.text]


# Faults the matrix found in MARAC, left for their authors (each is its own expected failure in
# test_access_matrix.py, which fails as soon as the fault is fixed so the entry can go):
# (user, method, route, record, form) → what is wrong. Fixed so far: transfer history showed every
# agency's research to any party of the old case; cross-agency repeats named the other agency's case.
KNOWN_FAULTS: dict = {}


def matrix() -> Matrix:
    return Matrix(routes=routes(), rules=RULES, path=path, data=data, forbidden=forbidden, snapshot=snapshot,
                  listing=listing)
