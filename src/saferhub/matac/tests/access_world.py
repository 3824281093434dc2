"""The MATAC access matrix's world and table: a small synthetic police extract (matac/synthetic.py)
imported into the encrypted store, a scoring run, two MATAC panels (one led by the police with a
member agency, one led by a second force), a nomination from the ranked list adopted at a meeting
with an action and a review, a partner referral awaiting a decision and a nomination to the other
panel, all made through MATAC's own services; and, for every MATAC route, what each member of staff
of access_core.USERS should get, worked out from the specification below."""
from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from saferhub.marac.tests.access_core import (
    MISSING, MISSING_ID, USERS, Combo, Expect, Matrix, PersonSpec, RouteRule, organisations_make, routes_of,
    users_make,
)
from saferhub.partners.models import PersonalDataScope, Role

# The specification --------------------------------------------------------------------------------

# The governance body whose member organisations (with the police) may see MATAC scoring.
BODY_MEMBERS = ("m",)
PANELS = {
    # key: (slug, name, police organisation, member organisations)
    "p1": ("access-matac-north", "Access North MATAC", "pol", ("m",)),
    "p2": ("access-matac-south", "Access South MATAC", "pol2", ()),
}
# Who makes the other force's nomination: a member of its staff outside the matrix's users.
SECOND_FORCE_OFFICER = "pol2"


@dataclass(frozen=True)
class NominationSpec:
    panel: str
    by: str  # a user key, or SECOND_FORCE_OFFICER
    rank: int  # the place on the run's ranked list of the person nominated
    person: PersonSpec
    from_run: bool = True
    reasons: str = ""


NOMINATIONS = {
    "n1": NominationSpec("p1", "police_analyst", 1, PersonSpec("Ambrose", "Kettlewick", dt.date(1981, 5, 5))),
    "n2": NominationSpec("p1", "matac_member", 2, PersonSpec("Isadora", "Penhallow", dt.date(1990, 2, 2)), from_run=False,
                         reasons="Referral Saxonbury: threats to a new partner"),
    "n3": NominationSpec("p2", SECOND_FORCE_OFFICER, 3, PersonSpec("Leopold", "Varnsworth", dt.date(1977, 7, 7))),
}
ADOPTED = {"n1": "m"}  # nomination → lead agency
ACTION = ("n1", "m", "Action Hollowmere: tenancy enforcement")
REVIEW = ("n1", "Review Thornbury: engaging with the programme")
EXTRACT_INCIDENTS = 400
RUN_TOP = 20


def may_see_scoring(user_key: str) -> bool:
    spec = USERS[user_key]
    return bool(spec and spec.sees and (spec.organisation.startswith("pol") or spec.organisation in BODY_MEMBERS))


def panel_orgs(panel: str) -> set[str]:
    _, _, police, members = PANELS[panel]
    return {police, *members}


def parties(nomination: str) -> set[str]:
    """A MATAC case's parties: the panel's police force and member agencies, and the referrer."""
    spec = NOMINATIONS[nomination]
    referrer = USERS[spec.by].organisation if spec.by in USERS else SECOND_FORCE_OFFICER
    return panel_orgs(spec.panel) | ({referrer} if not spec.from_run else set())


@dataclass(frozen=True)
class Who:
    key: str
    signed_in: bool = False
    sees: bool = False
    scoring: bool = False
    scores: bool = False
    schemes: bool = False
    panels: frozenset = frozenset()
    works_on: frozenset = frozenset()  # panels whose nominations they may make (their organisation sits on it)
    view: frozenset = frozenset()
    change: frozenset = frozenset()


def who(user_key: str) -> Who:
    spec = USERS[user_key]
    if spec is None:
        return Who(user_key)
    org = spec.organisation
    if spec.scope == PersonalDataScope.ALL:
        view = set(NOMINATIONS)
    elif spec.scope == PersonalDataScope.PARTIES:
        view = {n for n in NOMINATIONS if org in parties(n)}
    else:
        view = set()
    panels = set(PANELS) if spec.scope == PersonalDataScope.ALL else {p for p in PANELS if org in panel_orgs(p)}
    panels = panels if spec.sees else set()
    scoring = may_see_scoring(user_key)
    changes = spec.contributes and spec.scope != PersonalDataScope.NONE
    return Who(user_key, signed_in=True, sees=spec.sees, scoring=scoring, scores=scoring and spec.contributes,
               schemes=scoring and spec.at_least(Role.ADMINISTRATOR), panels=frozenset(panels),
               works_on=frozenset(p for p in PANELS if changes and org in panel_orgs(p)),
               view=frozenset(view), change=frozenset(view if changes else ()))


# Building it --------------------------------------------------------------------------------------

@dataclass
class World:
    organisations: dict
    users: dict
    panels: dict
    meetings: dict
    extract: object
    run: object
    scheme: object
    nominations: dict
    action: object
    ranked: dict  # rank → perpetrator id
    victims: dict  # perpetrator id → victim ids
    extract_store: str  # the incident store's directory, for the tests to point settings at

    def reference(self, label: str) -> str:
        return self.nominations[label].case.reference


def build_world(directory: Path) -> World:
    """`directory` holds the extract file; the store is wherever settings.MATAC_STORE_DIR says."""
    from django.conf import settings

    from saferhub.core.factories import GovernanceBodyFactory, UserFactory
    from saferhub.matac import casework_services, scoring_services
    from saferhub.matac.access import MATAC_BODY_SLUG
    from saferhub.matac.models import MatacMeeting, MatacPanel
    from saferhub.matac.synthetic import ExtractSpec, extract_write

    today = timezone.localdate()
    organisations = organisations_make()
    users = users_make(organisations)
    users[SECOND_FORCE_OFFICER] = UserFactory(
        username="access-second-force", role=Role.CONTRIBUTOR, organisation=organisations["pol2"],
        personal_data_scope=PersonalDataScope.PARTIES, email="second-force@example.org")
    body = GovernanceBodyFactory(slug=MATAC_BODY_SLUG, name="Access MATAC")
    body.members.add(*[organisations[o] for o in BODY_MEMBERS])
    panels, meetings = {}, {}
    for key, (slug, name, police, members) in PANELS.items():
        panels[key] = MatacPanel.objects.create(slug=slug, name=name, police=organisations[police],
                                                first_meeting_date=today - dt.timedelta(days=28 * 10),
                                                default_venue="Access police HQ", chair_role="DCI")
        panels[key].members.add(*[organisations[o] for o in members])
        # Decisions are recorded at a meeting that has taken place: today's.
        meetings[key] = MatacMeeting.objects.create(panel=panels[key], date=today, venue="Access police HQ")
    path = directory / "access-extract.csv"
    extract_write(ExtractSpec(incidents=EXTRACT_INCIDENTS, seed=4417, end_date=today - dt.timedelta(days=1), years=2.0), path)
    victims: dict[str, set] = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            victims.setdefault(row["perpetrator_id"], set()).add(row["victim_id"])
    analyst = users["police_analyst"]
    extract = scoring_services.extract_import(user=analyst, path=path, file_name=path.name)
    run = scoring_services.scoring_run_create(user=analyst, reference_date=today, top=RUN_TOP)
    ranked = dict(run.rows.values_list("rank", "perpetrator_id"))
    nominations = {}
    for label, spec in NOMINATIONS.items():
        panel = panels[spec.panel]
        names = {"first_name": spec.person.first_name, "last_name": spec.person.last_name,
                 "date_of_birth": spec.person.date_of_birth}
        if spec.from_run:
            nominations[label] = casework_services.nomination_from_run(user=users[spec.by], panel_id=panel.pk, run_id=run.pk,
                                                                      rank=spec.rank, **names)
        else:
            nominations[label] = casework_services.nomination_from_referral(
                user=users[spec.by], panel_id=panel.pk, perpetrator_id=ranked[spec.rank], reasons=spec.reasons, **names)
    for label, lead in ADOPTED.items():
        casework_services.nomination_decide(user=analyst, nomination_id=nominations[label].pk,
                                            meeting_id=meetings[NOMINATIONS[label].panel].pk, decision="adopt",
                                            lead_agency_id=organisations[lead].pk)
    adoption = nominations[ACTION[0]].__class__.objects.get(pk=nominations[ACTION[0]].pk).adoption
    action = casework_services.action_add(user=analyst, adoption_id=adoption.pk, intervention="disruption",
                                          pathway="accommodation", agency_id=organisations[ACTION[1]].pk,
                                          description=ACTION[2], deadline=today + dt.timedelta(days=28))
    casework_services.review_record(user=analyst, adoption_id=adoption.pk, reviewed_on=today, notes=REVIEW[1],
                                    risk_view="unchanged", meeting_id=meetings["p1"].pk)
    for made in nominations.values():
        made.refresh_from_db()
    return World(organisations=organisations, users=users, panels=panels, meetings=meetings, extract=extract, run=run,
                 scheme=run.scheme, nominations=nominations, action=action, ranked=ranked,
                 victims={pid: victims.get(pid, set()) for pid in ranked.values()}, extract_store=settings.MATAC_STORE_DIR)


# The table ----------------------------------------------------------------------------------------

NOMINATION_RECORDS = [*NOMINATIONS, MISSING]
OK = Expect(200)


def _scoring(then: Expect = OK):
    def expect(w: Who, method, record, form):
        if not w.scoring:
            return Expect(404)
        if record == MISSING:
            return Expect(404)
        return then
    return expect


def _scoring_write(need: str):
    def expect(w: Who, method, record, form):
        if not w.scoring:
            return Expect(404)
        if not getattr(w, need):
            return Expect(403)  # asked before the record is looked up
        return Expect(404) if record == MISSING else OK
    return expect


def e_run_person(w, method, record, form):
    if not w.scoring:
        return Expect(404)
    return OK if record in ("rank_1", "rank_3") else Expect(404)


def e_run_reproduce(w, method, record, form):
    if not w.scoring:
        return Expect(404)
    if not w.scores:
        return Expect(403)
    return Expect(404) if record == MISSING else Expect(302, "/matac/runs/", succeeds=None)


def e_person_score(w, method, record, form):
    return OK if w.scoring else Expect(404)


def _panels(then: Expect = OK):
    def expect(w: Who, method, record, form):
        return then if w.panels else Expect(404)
    return expect


def e_nomination_new(w, method, record, form):
    if not w.panels:
        return Expect(404)
    if method == "POST" and form in ("valid", "foreign"):
        # The first panel the user sees is the one the form is for (no ?panel= given). The foreign
        # form names the other panel's nominee by nominal id: someone who may not see them gets a
        # new entry on the register, never the other panel's.
        first = sorted(w.panels, key=lambda p: PANELS[p][1])[0]
        return Expect(302, "/matac/nominations/", succeeds=True) if first in w.works_on else Expect(404)
    return OK


def e_case_detail(w, method, record, form):
    if not w.panels:
        return Expect(404)
    return OK if record in w.view else Expect(404)


def e_decide(w, method, record, form):
    if not w.panels or record not in w.change or record in ADOPTED:
        return Expect(404)
    if method == "POST" and form == "valid":
        return Expect(302, "/matac/nominations/", succeeds=True)
    return OK


def e_adopted(w, method, record, form):
    if not w.panels or record not in w.change or record not in ADOPTED:
        return Expect(404)
    if method == "POST" and form == "valid":
        return Expect(302, "/matac/nominations/", succeeds=True)
    return OK


def e_rescore(w, method, record, form):
    if not w.panels or record not in w.change or record not in ADOPTED:
        return Expect(404)
    # Adopted today: the 12-month re-score is not due, said in a message on the case page.
    return Expect(302, "/matac/nominations/", succeeds=False)


def e_action_edit(w, method, record, form):
    if not w.panels or record != "action" or ACTION[0] not in w.change:
        return Expect(404)
    if method == "POST" and form == "valid":
        return Expect(302, "/matac/nominations/", succeeds=True)
    return OK


def e_meeting_list(w, method, record, form):
    if not w.panels:
        return Expect(404)
    if method == "POST" and form == "valid":
        first = sorted(w.panels, key=lambda p: PANELS[p][1])[0]
        # Scheduling is for the panel's own organisations; anyone else is told so on the form.
        return Expect(302, "/matac/meetings/", succeeds=None) if first in w.works_on else OK
    return OK


def e_meeting_detail(w, method, record, form):
    if not w.panels:
        return Expect(404)
    return OK if record in w.panels else Expect(404)


def e_signed_in(w, method, record, form):
    return OK


def _rule(expect, **values) -> RouteRule:
    return RouteRule(records=values.pop("records", [None]), expect=lambda u, m, r, f: expect(who(u), m, r, f), **values)


VALID = ("empty", "valid")
RULES = {
    # Scoring: one store, one run, one scheme — all or nothing by who may see MATAC scoring.
    "matac:home": _rule(_scoring()),
    "matac:extract_import": _rule(_scoring_write("scores")),
    "matac:extract_detail": _rule(_scoring(), records=["extract", MISSING]),
    "matac:extract_rejects": _rule(_scoring(), records=["extract", MISSING]),
    "matac:run_create": _rule(_scoring_write("scores")),
    "matac:run_detail": _rule(_scoring(), records=["run", "run?show=all", MISSING]),
    "matac:run_download": _rule(_scoring(), records=["run", MISSING]),
    "matac:run_reproduce": _rule(e_run_reproduce, records=["run", MISSING], methods=("POST",), forms=("",)),
    "matac:run_person": _rule(e_run_person, records=["rank_1", "rank_3", "rank_none", MISSING]),
    "matac:person_score": _rule(e_person_score, forms=(*VALID, "foreign")),
    "matac:scheme_list": _rule(_scoring()),
    "matac:scheme_detail": _rule(_scoring(), records=["scheme", MISSING]),
    "matac:scheme_version_new": _rule(_scoring_write("schemes"), records=["scheme", MISSING]),
    # Casework: by panel and by case.
    "matac:nomination_list": _rule(_panels(), records=[None, "panel:p1", "panel:p2", "?status=awaiting"]),
    "matac:nomination_new_ranked": _rule(e_nomination_new, forms=VALID),
    "matac:nomination_new_referral": _rule(e_nomination_new, forms=(*VALID, "foreign")),
    "matac:case_detail": _rule(e_case_detail, records=NOMINATION_RECORDS),
    "matac:nomination_decide": _rule(e_decide, records=NOMINATION_RECORDS, forms=(*VALID, "foreign")),
    "matac:action_add": _rule(e_adopted, records=NOMINATION_RECORDS, forms=(*VALID, "foreign")),
    "matac:review_add": _rule(e_adopted, records=NOMINATION_RECORDS, forms=VALID),
    "matac:exit_add": _rule(e_adopted, records=NOMINATION_RECORDS, forms=VALID),
    "matac:rescore": _rule(e_rescore, records=NOMINATION_RECORDS, methods=("POST",), forms=("",)),
    "matac:action_edit": _rule(e_action_edit, records=["action", MISSING], forms=VALID),
    "matac:meeting_list": _rule(e_meeting_list, forms=VALID),
    "matac:meeting_detail": _rule(e_meeting_detail, records=[*PANELS, MISSING]),
    "matac:outcomes": _rule(_panels(), records=[None, "panel:p2"]),
    "matac:outcomes_published": _rule(e_signed_in),
}
def routes():
    return routes_of("matac", "api/matac/")


# Addresses and forms ------------------------------------------------------------------------------

def _id(world: World, label) -> int:
    if label in (None, MISSING):
        return MISSING_ID
    if label in world.nominations:
        return world.nominations[label].pk
    if label in world.panels:
        return world.meetings[label].pk
    return {"extract": world.extract.pk, "run": world.run.pk, "scheme": world.scheme.pk, "action": world.action.pk}[label]


def path(world: World, combo: Combo) -> str:
    """The address of a combination: a record "panel:p2" asks a list for that panel, "run?show=all"
    for the whole ranked list."""
    route, record = combo.route, combo.record
    if isinstance(record, str) and record.startswith("panel:"):
        return route.fill({}) + f"?panel={world.panels[record.split(':')[1]].pk}"
    if isinstance(record, str) and "?" in record:
        base, query = record.split("?", 1)
        return route.fill({name: _id(world, base) for name in route.arguments}) + f"?{query}"
    if route.key == "matac:run_person":
        if record == MISSING:
            return route.fill({"pk": MISSING_ID, "rank": 1})
        ranks = {"rank_1": 1, "rank_3": NOMINATIONS["n3"].rank}
        return route.fill({"pk": world.run.pk, "rank": ranks.get(record, RUN_TOP + 500)})
    return route.fill({name: _id(world, record) for name in route.arguments})


def _date(prefix: str, day: dt.date) -> dict:
    return {f"{prefix}-day": str(day.day), f"{prefix}-month": str(day.month), f"{prefix}-year": str(day.year)}


FOREIGN = {
    # Forms naming something of the other panel or outside the MATAC.
    "matac:person_score": lambda world, record: {
        "perpetrator_id": world.ranked[NOMINATIONS["n3"].rank], "scheme": str(world.scheme.pk),
        **_date("reference_date", timezone.localdate())},
    "matac:nomination_decide": lambda world, record: {
        "meeting": str(world.meetings["p2" if record in NOMINATIONS and NOMINATIONS[record].panel == "p1" else "p1"].pk),
        "decision": "defer", "reason": "", "lead_agency": ""},
    "matac:action_add": lambda world, record: {
        "intervention": "support", "pathway": "finance", "agency": str(world.organisations["a"].pk), "owner": "",
        "description": "Matrix action", **_date("deadline", timezone.localdate() + dt.timedelta(days=30))},
    "matac:nomination_new_referral": lambda world, record: {
        "perpetrator_id": world.ranked[NOMINATIONS["n3"].rank], "reasons": "Matrix referral reasons",
        "first_name": "Newfound", "last_name": "Referredperson", "meeting": ""},
}


def data(world: World, user_key: str, combo: Combo) -> dict:
    if combo.form == "foreign":
        return FOREIGN[combo.route.key](world, combo.record)
    if combo.form != "valid":
        return {}
    key, record, today = combo.route.key, combo.record, timezone.localdate()
    if key == "matac:person_score":
        return {"perpetrator_id": world.ranked[1], "scheme": str(world.scheme.pk), **_date("reference_date", today)}
    if key == "matac:nomination_new_ranked":
        return {"run": str(world.run.pk), "rank": "4", "first_name": "Newfound", "last_name": "Rankedperson", "meeting": ""}
    if key == "matac:nomination_new_referral":
        return {"perpetrator_id": world.ranked[5], "reasons": "Matrix referral reasons", "first_name": "Newfound",
                "last_name": "Referredperson", "meeting": ""}
    if key == "matac:nomination_decide":
        panel = NOMINATIONS[record].panel if record in NOMINATIONS else "p1"
        return {"meeting": str(world.meetings[panel].pk), "decision": "defer", "reason": "", "lead_agency": ""}
    if key == "matac:action_add":
        return {"intervention": "support", "pathway": "finance", "agency": str(world.organisations["m"].pk), "owner": "",
                "description": "Matrix action", **_date("deadline", today + dt.timedelta(days=30))}
    if key == "matac:review_add":
        return {"risk_view": "lower", "notes": "Matrix review", "meeting": "", **_date("reviewed_on", today)}
    if key == "matac:exit_add":
        return {"reason": "risk_reduced", "other_reason": "", **_date("exited_on", today)}
    if key == "matac:action_edit":
        return {"status": "done", "outcome": "Matrix outcome", **_date("deadline", today + dt.timedelta(days=28))}
    if key == "matac:meeting_list":
        return {"count": "2"}
    return {}


# What may not be shown ------------------------------------------------------------------------------

# Pages that name no one, whoever reads them: police data and figures carry nominal ids at most.
NAMELESS = ("matac:home", "matac:extract_detail", "matac:extract_rejects", "matac:run_download", "matac:scheme_list",
            "matac:scheme_detail", "matac:outcomes", "matac:outcomes_published", "matac:meeting_list")


def forbidden(world: World, user_key: str, combo: Combo, status: int) -> dict[str, str]:
    """token → whose it is: the names, dates of birth, nominal ids, case references and free text
    of every nomination the user may not see, and the police data (nominal and victim ids) to anyone
    who may not see MATAC scoring (all of it on an answer that is not a 200)."""
    w = who(user_key)
    visible = set(w.view) if status < 300 else set()
    scoring = w.scoring and status < 300
    shown_ids = {world.ranked[NOMINATIONS[n].rank] for n in visible}
    tokens = {}
    if not scoring:
        for rank, pid in world.ranked.items():
            if pid not in shown_ids:
                tokens[pid] = f"rank {rank}"
                tokens.update({v: f"victim of rank {rank}" for v in world.victims[pid]})
    for label, spec in NOMINATIONS.items():
        if combo.route.key in NAMELESS:
            tokens.update({t: label for t in spec.person.tokens()} | {spec.person.first_name: label})
        if label in visible:
            continue
        tokens.update({t: label for t in spec.person.tokens()})
        tokens[world.reference(label)] = label
        if spec.reasons:
            tokens[spec.reasons] = label
        if not scoring:
            tokens[world.ranked[spec.rank]] = label
    if ACTION[0] not in visible:
        tokens[ACTION[2]] = "action"
        tokens[REVIEW[1]] = "review"
    return tokens


def snapshot() -> dict:
    from saferhub.matac.models import (
        Adoption, Exit, IncidentExtract, MatacAction, MatacMeeting, MatacScore, Nomination, NominationDecision, Review,
        ScoringRun, ScoringScheme,
    )
    from saferhub.people.models import Case, Person

    return {
        "nominations": sorted(Nomination.objects.values_list("pk", "status")),
        "decisions": NominationDecision.objects.count(), "adoptions": Adoption.objects.count(),
        "actions": sorted(MatacAction.objects.values_list("pk", "status", "deadline")),
        "reviews": Review.objects.count(), "exits": Exit.objects.count(), "meetings": MatacMeeting.objects.count(),
        "scores": MatacScore.objects.count(), "runs": ScoringRun.objects.count(), "extracts": IncidentExtract.objects.count(),
        "schemes": ScoringScheme.objects.count(), "cases": Case.objects.count(), "people": Person.objects.count(),
    }


def listing(world: World, user_key: str, outcome) -> list[str]:
    combo, w = outcome.combo, who(user_key)
    if combo.method != "GET":
        return []
    # The scan is only worth something if what it looks for is on the pages that may show it.
    wanted = []
    if combo.route.key == "matac:case_detail" and combo.record in w.view:
        spec = NOMINATIONS[combo.record]
        wanted = [world.reference(combo.record), spec.person.last_name, world.ranked[spec.rank],
                  *([spec.reasons] if spec.reasons else [])]
    if combo.route.key == "matac:case_detail" and combo.record == ACTION[0]:
        wanted += [ACTION[2], REVIEW[1]]
    if combo.route.key in ("matac:run_detail", "matac:run_download") and combo.record in ("run", "run?show=all"):
        wanted = [world.ranked[1]]
    missing = [f"does not show {token!r}" for token in wanted if token not in outcome.text]
    if combo.route.key != "matac:nomination_list":
        return missing
    first = sorted(w.panels, key=lambda p: PANELS[p][1])[0]
    if isinstance(combo.record, str) and combo.record.startswith("panel:") and combo.record[6:] in w.panels:
        first = combo.record[6:]  # a panel the user sees; any other falls back to their first
    shown = {n for n in NOMINATIONS if world.reference(n) in outcome.text}
    should = {n for n in w.view if NOMINATIONS[n].panel == first}
    if combo.record == "?status=awaiting":
        should = {n for n in should if n not in ADOPTED}
    return missing + ([] if shown == should else [f"lists {sorted(shown)}, expected {sorted(should)}"])


def matrix() -> Matrix:
    return Matrix(routes=routes(), rules=RULES, path=path, data=data, forbidden=forbidden, snapshot=snapshot,
                  listing=listing)
