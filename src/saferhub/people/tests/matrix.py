"""The attack matrix: a world of three organisations' cases with distinctive synthetic people, staff
of every role and scope, every route of the project found by walking the URL resolver, and a
declarative table of what each member of staff should get from each route for each record.

The expectations are worked out from the world's specification below (who registered whom, which
organisations are party to which case), never by asking the application's own access code."""
from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
import zipfile
from dataclasses import dataclass, field

from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern
from django.utils import timezone

from saferhub.core.factories import OrganisationFactory, UserFactory
from saferhub.core.formatting import date_uk
from saferhub.partners.models import PersonalDataScope, Role
from saferhub.people import services
from saferhub.people.factories import CaseFactory, PersonFactory
from saferhub.people.models import (
    BreakGlassAccess, Case, CaseParticipant, CaseParty, CaseStatus, Disclosure, InformationSharingAgreement, LawfulBasis,
    Person, PersonIdentifier,
)

try:
    from saferhub.accounts.testing import otp_login
except ImportError:  # pragma: no cover - before the accounts app exists
    def otp_login(client, user):
        client.force_login(user)

MISSING = "missing"
MISSING_ID = 987654321
MISSING_REFERENCE = "MX-NO-SUCH-CASE"
SIGN_IN = "/sign-in/"
TWO_FACTOR = "/account/two-factor/"
RANK = {role.value: rank for rank, role in enumerate(Role)}


# The world ---------------------------------------------------------------------------------------

ORGANISATIONS = {
    # key: (slug, name, short name)
    "a": ("matrix-police", "Matrix Police", "MXP"),
    "b": ("matrix-refuge", "Matrix Refuge", "MXR"),
    "c": ("matrix-partnership", "Matrix Partnership", "MXC"),
    "d": ("matrix-housing", "Matrix Housing", "MXH"),
}


@dataclass(frozen=True)
class PersonSpec:
    registered_by: str  # the key of the organisation whose member of staff registered them
    first_name: str
    last_name: str
    date_of_birth: dt.date
    alias: tuple[str, str] | None = None
    identifiers: tuple[tuple[str, str], ...] = ()
    address: str = ""

    def tokens(self) -> set[str]:
        """Everything about the person that must never reach someone who may not see them."""
        found = {self.first_name, self.last_name, self.date_of_birth.isoformat(), date_uk(self.date_of_birth),
                 self.date_of_birth.strftime("%d/%m/%Y")}
        if self.alias:
            found |= set(self.alias)
        for _, value in self.identifiers:
            found |= {value, re.sub(r"\W", "", value)}
        if self.address:
            found.add(self.address)
        return found


PEOPLE = {
    "a_victim": PersonSpec("a", "Zephyrine", "Quillfeather", dt.date(1983, 7, 19), alias=("Zephyra", "Marchbankes"),
                           identifiers=(("police_nominal", "NOM-ZQ-4417"), ("nhs_number", "999 441 7002")),
                           address="7 Larkspur Wynd"),
    "a_child": PersonSpec("a", "Thaddeus", "Quillfeather", dt.date(2015, 2, 28),
                          identifiers=(("pupil_number", "X441700009913"),)),
    "a_perpetrator": PersonSpec("a", "Barnabus", "Grimsditch", dt.date(1979, 11, 3),
                                identifiers=(("police_nominal", "NOM-BG-2290"),), address="12 Corvid Garth"),
    "b_victim": PersonSpec("b", "Ottoline", "Vexworth", dt.date(1991, 4, 22), alias=("Ottavina", "Hartigrove"),
                           identifiers=(("police_nominal", "NOM-OV-8832"), ("nhs_number", "999 883 2004")),
                           address="3 Brackenrigg Fold"),
    "b_perpetrator": PersonSpec("b", "Cuthbert", "Pennyroyal", dt.date(1986, 12, 5),
                                identifiers=(("police_nominal", "NOM-CP-5511"),)),
    "shared": PersonSpec("b", "Marisol", "Featherstonhaugh", dt.date(1994, 9, 30),
                         identifiers=(("nhs_number", "999 303 9004"),), address="21 Saltersgate Row"),
    "loose_a": PersonSpec("a", "Peregrine", "Ashcombe", dt.date(1970, 3, 14), identifiers=(("police_nominal", "NOM-PA-6604"),)),
    "loose_b": PersonSpec("b", "Wilhelmina", "Stoatley", dt.date(1968, 6, 9), identifiers=(("police_nominal", "NOM-WS-7715"),)),
    "loose_c": PersonSpec("c", "Evander", "Thistlewood", dt.date(1975, 10, 27)),
}


@dataclass(frozen=True)
class CaseSpec:
    owner: str
    parties: tuple[str, ...]
    reference: str
    summary: str
    people: tuple[tuple[str, str], ...]
    # A disclosure to organisation d, about one of its people, with a purpose that may name them.
    disclosure: tuple[str, str] | None = None


CASES = {
    "case_a": CaseSpec("a", ("a",), "MX-A-0001", "Summary Kestrelmoor: referral after a DASH assessment",
                       (("a_victim", "victim"), ("a_child", "child"), ("a_perpetrator", "perpetrator"))),
    "case_b": CaseSpec("b", ("b",), "MX-B-0002", "Summary Sedgecombe: self-referral to the refuge",
                       (("b_victim", "victim"), ("b_perpetrator", "perpetrator"), ("shared", "other")),
                       disclosure=("b_victim", "Housing told that Ottoline Vexworth moved")),
    "case_ab": CaseSpec("a", ("a", "b"), "MX-AB-0003", "Summary Marrowgate: joint MARAC referral",
                        (("shared", "victim"),), disclosure=("shared", "Joint safety plan shared with housing")),
    "case_b2": CaseSpec("b", ("b",), "MX-B-0004", "Summary Whinfell: second referral about the same man",
                        (("b_perpetrator", "perpetrator"),)),
}
# Added to case B through the web, as a member of B's staff would, so the audit trail holds what the
# pages write (the search and the view that name the case they were for).
ADDED_THROUGH_THE_WEB = ("case_b", "shared", "other")


@dataclass(frozen=True)
class GrantSpec:
    by: str  # a user key
    case: str


# Expired grants: they exist (to review, to report) but no longer widen anyone's scope.
GRANTS = {
    "grant_a": GrantSpec("a_contributor", "case_b2"),
    "grant_b": GrantSpec("b_contributor", "case_a"),
}


@dataclass(frozen=True)
class UserSpec:
    role: str
    organisation: str
    scope: str = PersonalDataScope.NONE
    data_protection_lead: bool = False
    second_factor: bool = True


USERS: dict[str, UserSpec | None] = {
    "anonymous": None,
    "a_viewer_none": UserSpec(Role.VIEWER, "a"),
    "a_contributor_none": UserSpec(Role.CONTRIBUTOR, "a"),
    "a_manager_none": UserSpec(Role.STRATEGY_MANAGER, "a"),
    "a_administrator_none": UserSpec(Role.ADMINISTRATOR, "a"),
    "a_contributor": UserSpec(Role.CONTRIBUTOR, "a", PersonalDataScope.PARTIES),
    "a_viewer": UserSpec(Role.VIEWER, "a", PersonalDataScope.PARTIES),
    "b_contributor": UserSpec(Role.CONTRIBUTOR, "b", PersonalDataScope.PARTIES),
    "coordinator": UserSpec(Role.CONTRIBUTOR, "c", PersonalDataScope.ALL),
    "a_dp_lead": UserSpec(Role.VIEWER, "a", PersonalDataScope.PARTIES, data_protection_lead=True),
    "b_dp_lead": UserSpec(Role.VIEWER, "b", PersonalDataScope.NONE, data_protection_lead=True),
    # Signed in with a password only: personal data needs the second factor first.
    "a_contributor_no_2fa": UserSpec(Role.CONTRIBUTOR, "a", PersonalDataScope.PARTIES, second_factor=False),
}


# What each member of staff may see, from the specification ----------------------------------------

def _loose() -> set[str]:
    in_cases = {person for case in CASES.values() for person, _ in case.people}
    return set(PEOPLE) - in_cases


def _people_in(cases: set[str]) -> set[str]:
    return {person for case in cases for person, _ in CASES[case].people}


@dataclass(frozen=True)
class Scope:
    signed_in: bool = False
    verified: bool = False
    sees: bool = False
    may_record: bool = False
    may_break_glass: bool = False
    data_protection_lead: bool = False
    view_cases: frozenset = frozenset()
    view_people: frozenset = frozenset()
    change_cases: frozenset = frozenset()
    change_people: frozenset = frozenset()
    held_cases: frozenset = frozenset()
    held_people: frozenset = frozenset()
    grants: frozenset = frozenset()

    def cases(self, need: str) -> frozenset:
        return {"view": self.view_cases, "change": self.change_cases, "held": self.held_cases}[need]

    def people(self, need: str) -> frozenset:
        if need == "sar":
            return self.change_people | self.held_people
        return {"view": self.view_people, "change": self.change_people, "held": self.held_people}[need]


def scope_of(user_key: str) -> Scope:
    spec = USERS[user_key]
    if spec is None:
        return Scope()
    org = spec.organisation
    loose_own = {p for p in _loose() if PEOPLE[p].registered_by == org}
    if spec.scope == PersonalDataScope.ALL:
        view_cases = set(CASES)
    elif spec.scope == PersonalDataScope.PARTIES:
        view_cases = {c for c, case in CASES.items() if org in case.parties}
    else:
        view_cases = set()
    view_people = (_people_in(view_cases) | loose_own) if spec.scope != PersonalDataScope.NONE else set()
    contributes = RANK[spec.role] >= RANK[Role.CONTRIBUTOR]
    held_cases, held_people = set(), set()
    if spec.data_protection_lead:
        held_cases = {c for c, case in CASES.items() if org in case.parties}
        held_people = _people_in(held_cases) | {p for p, person in PEOPLE.items() if person.registered_by == org}
    sees = spec.scope != PersonalDataScope.NONE or spec.data_protection_lead
    return Scope(
        signed_in=True, verified=spec.second_factor or not sees, sees=sees,
        may_record=contributes and spec.scope != PersonalDataScope.NONE,
        may_break_glass=spec.scope != PersonalDataScope.NONE,
        data_protection_lead=spec.data_protection_lead,
        view_cases=frozenset(view_cases), view_people=frozenset(view_people),
        change_cases=frozenset(view_cases if contributes else ()), change_people=frozenset(view_people if contributes else ()),
        held_cases=frozenset(held_cases), held_people=frozenset(held_people),
        grants=frozenset(g for g, grant in GRANTS.items() if spec.data_protection_lead and USERS[grant.by].organisation == org),
    )


def candidate_for(user_key: str) -> str:
    """The person a member of staff tries to add to a case: one their organisation registered."""
    spec = USERS[user_key]
    org = spec.organisation if spec else "a"
    return next(p for p in sorted(_loose()) if PEOPLE[p].registered_by == org)


# Building it -------------------------------------------------------------------------------------

@dataclass
class World:
    organisations: dict
    users: dict
    people: dict
    cases: dict
    grants: dict
    public: dict = field(default_factory=dict)

    def record_id(self, kind: str, label: str | None) -> int | None:
        if label is None:
            return None
        if label == MISSING:
            return MISSING_ID
        return {"person": self.people, "case": self.cases, "grant": self.grants}[kind][label].pk

    def reference(self, kind: str, label: str) -> str:
        if kind == "person":
            return self.people[label].reference
        if kind == "case":
            return CASES[label].reference
        return CASES[GRANTS[label].case].reference


def _user(key: str, spec: UserSpec, organisations: dict):
    return UserFactory(username=f"matrix-{key.replace('_', '-')}", role=spec.role,
                       organisation=organisations[spec.organisation], personal_data_scope=spec.scope,
                       is_data_protection_lead=spec.data_protection_lead, email=f"{key}@example.org",
                       first_name="Staff", last_name=key.replace("_", " ").title())


def _register(spec: PersonSpec, user) -> Person:
    values = {"first_name": spec.first_name, "last_name": spec.last_name, "date_of_birth": spec.date_of_birth}
    if spec.alias:
        values["aliases"] = [{"first_name": spec.alias[0], "last_name": spec.alias[1]}]
    if spec.address:
        values["addresses"] = [{"lines": [spec.address, "Matrixtown"], "postcode": "YO1 7HH"}]
    return PersonFactory(user=user, identifiers=dict(spec.identifiers), **values)


def _public_data(organisations: dict) -> dict:
    """A little of everything else Saferhub holds (a strategy, an action, a board, a service, a
    published report), so the other apps' pages have something to show."""
    from saferhub.commissioning.models import Service
    from saferhub.core.factories import (
        ActionFactory, GovernanceBodyFactory, ReportingPeriodFactory, StrategyFactory, StrategyItemFactory,
    )
    from saferhub.publishing.progress_report import progress_document_build
    from saferhub.publishing.renderers import document_standalone_html
    from saferhub.strategy.models import ProgressReport, ReportStatus

    strategy = StrategyFactory(slug="matrix-strategy", title="Matrix Strategy", owner=organisations["a"])
    item = StrategyItemFactory(strategy=strategy, code="Objective 1", title="Keep people safe")
    action = ActionFactory(item=item, title="Run the matrix", leads=[organisations["a"]])
    period = ReportingPeriodFactory(label="June 2023")
    # Published as report_publish would, without the seconds a PDF takes to render.
    document = progress_document_build(strategy=strategy, period=period, background="")
    report = ProgressReport.objects.create(
        strategy=strategy, period=period, title=document.title, status=ReportStatus.PUBLISHED, published_at=timezone.now(),
        frozen_html=document_standalone_html(document), frozen_pdf=b"%PDF-1.4", frozen_docx=b"")
    body = GovernanceBodyFactory(slug="matrix-board", name="Matrix Board")
    service = Service.objects.create(slug="matrix-service", name="Matrix Service", provider=organisations["b"])
    return {"strategy": strategy, "item": item, "action": action, "period": period, "report": report, "body": body,
            "service": service}


def build_world() -> World:
    organisations = {key: OrganisationFactory(slug=slug, name=name, short_name=short, type="other")
                     for key, (slug, name, short) in ORGANISATIONS.items()}
    users = {key: (_user(key, spec, organisations) if spec else None) for key, spec in USERS.items()}
    registrar = {"a": users["a_contributor"], "b": users["b_contributor"], "c": users["coordinator"]}
    people = {key: _register(spec, registrar[spec.registered_by]) for key, spec in PEOPLE.items()}
    cases = {}
    for key, spec in CASES.items():
        by_service = [(p, r) for p, r in spec.people if (key, p, r) != ADDED_THROUGH_THE_WEB]
        # Whoever opens the case must see each person they add; B's people are added by B's staff.
        opener = registrar[spec.owner]
        cases[key] = CaseFactory(user=opener, reference=spec.reference, summary=spec.summary,
                                 parties=[organisations[o] for o in spec.parties if o != spec.owner])
        for person, role in by_service:
            adder = opener if PEOPLE[person].registered_by == spec.owner else registrar[PEOPLE[person].registered_by]
            services.case_participant_add(user=adder, case_id=cases[key].pk, person_id=people[person].pk, role=role,
                                          purpose="Synthetic test case")
    _add_through_the_web(users["b_contributor"], cases, people)
    agreement = InformationSharingAgreement.objects.create(
        name="Matrix sharing protocol", start=dt.date(2024, 4, 1), lawful_bases=[LawfulBasis.SAFEGUARDING])
    agreement.parties.add(*organisations.values())
    for key, spec in CASES.items():
        if spec.disclosure:
            person, purpose = spec.disclosure
            services.case_disclosure_record(user=registrar[PEOPLE[person].registered_by], case_id=cases[key].pk,
                                            to_organisation=organisations["d"], lawful_basis=LawfulBasis.SAFEGUARDING,
                                            purpose=purpose, person_id=people[person].pk)
    grants = {}
    for key, spec in GRANTS.items():
        grants[key] = services.break_glass_open(user=users[spec.by], case_id=cases[spec.case].pk,
                                                reason="Urgent call from a neighbour; checking for risk tonight")
    BreakGlassAccess.objects.filter(pk__in=[g.pk for g in grants.values()]).update(expires_at=timezone.now() - dt.timedelta(hours=1))
    for grant in grants.values():
        grant.refresh_from_db()
    return World(organisations=organisations, users=users, people=people, cases=cases, grants=grants,
                 public=_public_data(organisations))


def _add_through_the_web(user, cases: dict, people: dict) -> None:
    case_key, person_key, role = ADDED_THROUGH_THE_WEB
    client = Client()
    otp_login(client, user)
    url = f"/people/cases/{cases[case_key].pk}/people/add/"
    kind, value = PEOPLE[person_key].identifiers[0]
    found = client.post(url, {"identifier_kind": kind, "identifier": value})
    assert found.status_code == 200 and people[person_key].reference in found.content.decode()
    added = client.post(url, {"chosen": str(people[person_key].pk), "step": "add", "person": str(people[person_key].pk),
                              "role": role, "purpose": "Same household as the victim"})
    assert added.status_code == 302, added.content.decode()[:500]


def sign_in(client: Client, world: World, user_key: str) -> Client:
    client.logout()
    user = world.users[user_key]
    if user is None:
        return client
    if USERS[user_key].second_factor and user.sees_personal_data:
        otp_login(client, user)
    else:
        client.force_login(user)
    return client


# Routes ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    path: str  # the route as written, "people/persons/<int:pk>/"
    name: str | None  # "people:person_detail"
    regex: bool  # written as a regular expression somewhere along the way (the Django admin)

    @property
    def arguments(self) -> list[str]:
        if self.regex:
            return re.findall(r"\(\?P<(\w+)>", self.path)
        return re.findall(r"<(?:\w+:)?(\w+)>", self.path)

    @property
    def is_api(self) -> bool:
        return self.path.startswith("api/")

    @property
    def personal(self) -> bool:
        """Routes of the people register: its pages and its API."""
        return (self.name or "").startswith("people:") or self.path.startswith("api/people/")

    @property
    def key(self) -> str:
        return self.path if self.is_api else self.name

    def fill(self, values: dict) -> str:
        """The address with the given arguments."""
        if not self.regex:
            return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), self.path)
        if self.name is None:
            # An unnamed expression (the admin's catch-all): its groups filled in, its anchors dropped.
            return "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), self.path).replace("^", "").replace("$", "")
        from django.urls import reverse

        return reverse(self.name, kwargs={name: values[name] for name in self.arguments})


def all_routes() -> list[Route]:
    """Every URL pattern of the project, walked from the root resolver."""
    found = []

    def walk(resolver, parts: list, namespace: str | None) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = namespace
                if entry.namespace:
                    inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                walk(entry, [*parts, entry.pattern], inner)
            elif isinstance(entry, URLPattern):
                chain = [*parts, entry.pattern]
                name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
                found.append(Route(path="".join(str(p) for p in chain), name=name,
                                   regex=any(isinstance(p, RegexPattern) for p in chain)))

    walk(get_resolver(), [], None)
    return found


def personal_routes() -> list[Route]:
    return [route for route in all_routes() if route.personal]


def other_routes() -> list[Route]:
    return [route for route in all_routes() if not route.personal]


# What each route should answer -------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """`record` is the kind of record a route's id names (None: no id); `need` says which part of a
    user's scope lets them have it; `post` names what a POST does (None: it answers as a GET);
    `api_method` is the one method an API route takes; `listing` says which records a list must show."""

    record: str | None
    need: str
    post: str | None = None
    post_record: str | None = None
    api_method: str | None = None
    listing: str | None = None
    oversight: bool = False  # a data protection lead's page: what the organisation holds is known


RULES = {
    "people:home": Rule(None, "sees"),
    "people:person_search": Rule(None, "sees", post="search", post_record="person"),
    "people:person_list": Rule(None, "sees", listing="person"),
    "people:person_register": Rule(None, "record", post="register"),
    "people:person_detail": Rule("person", "view"),
    "people:person_edit": Rule("person", "change", post="person_edit"),
    "people:person_audit": Rule("person", "held", oversight=True),
    "people:person_subject_access": Rule("person", "sar", oversight=True),
    "people:person_subject_access_json": Rule("person", "sar", oversight=True),
    "people:case_list": Rule(None, "sees", listing="case"),
    "people:case_open": Rule(None, "record", post="case_open"),
    "people:case_detail": Rule("case", "view"),
    "people:participant_add": Rule("case", "change", post="participant_add"),
    "people:party_add": Rule("case", "change", post="party_add"),
    "people:disclosure_add": Rule("case", "change", post="disclosure_add"),
    "people:case_close": Rule("case", "change", post="case_close"),
    "people:case_audit": Rule("case", "held", oversight=True),
    "people:break_glass": Rule(None, "break_glass", post="break_glass", post_record="case"),
    "people:break_glass_report": Rule(None, "dp", oversight=True),
    "people:break_glass_review": Rule("grant", "review", post="review", oversight=True),
    "people:audit_export": Rule(None, "dp", oversight=True),
    "api/people/persons/search/": Rule(None, "sees", post="api_search", post_record="person", api_method="POST"),
    "api/people/persons/<int:person_id>/": Rule("person", "view", api_method="GET"),
    "api/people/cases/": Rule(None, "sees", api_method="GET", listing="case"),
    "api/people/cases/<int:case_id>/": Rule("case", "view", api_method="GET"),
}
# A GET with a filled-in form: the data protection lead's audit export as CSV.
VARIANTS = {"people:audit_export": {"csv": "start-day=1&start-month=1&start-year=2000&end-day=31&end-month=12&end-year=2099"}}


def records(kind: str | None) -> list[str | None]:
    if kind is None:
        return [None]
    return [*{"person": PEOPLE, "case": CASES, "grant": GRANTS}[kind], MISSING]


@dataclass(frozen=True)
class Combo:
    route: Route
    method: str
    record: str | None
    variant: str | None = None

    @property
    def rule(self) -> Rule:
        return RULES[self.route.key]

    @property
    def kind(self) -> str | None:
        if self.method == "POST" and self.rule.post_record:
            return self.rule.post_record
        return self.rule.record

    def describe(self, user_key: str) -> str:
        variant = f"?{self.variant}" if self.variant else ""
        return f"{user_key} {self.method} {self.route.key}{variant} [{self.record or '-'}]"


def plan(routes: list[Route] | None = None) -> list[Combo]:
    """Every route × method × record of the people register (the same for every member of staff)."""
    combos = []
    for route in routes or personal_routes():
        rule = RULES[route.key]
        for method in ("GET", "POST"):
            kind = rule.post_record if method == "POST" and rule.post_record else rule.record
            for label in records(kind):
                combos.append(Combo(route, method, label))
        for variant in VARIANTS.get(route.key, {}):
            combos.append(Combo(route, "GET", None, variant))
    return combos


@dataclass(frozen=True)
class Expected:
    status: int
    location: str | None = None  # the start of the redirect's target
    succeeds: bool = False  # a write that should happen


def _allowed(rule: Rule, scope: Scope, kind: str | None, record: str | None) -> bool:
    need = rule.need
    if need == "sees":
        return scope.sees
    if need == "record":
        return scope.sees and scope.may_record
    if need == "break_glass":
        return scope.may_break_glass
    if need == "dp":
        return scope.data_protection_lead
    if need == "review":
        return record in scope.grants
    if kind == "person":
        return record in scope.people(need)
    return record in scope.cases(need)


def _refused(rule: Rule) -> int:
    return 403 if rule.need in ("sees", "record", "break_glass") else 404


def expected(user_key: str, combo: Combo) -> Expected:
    scope, rule, record = scope_of(user_key), combo.rule, combo.record
    api = combo.route.is_api
    if api and combo.method != rule.api_method:
        # The second-factor check answers before the API looks at the method.
        return Expected(403 if scope.signed_in and not scope.verified else 405)
    if not scope.signed_in:
        return Expected(401) if api else Expected(302, SIGN_IN)
    if not scope.verified:
        return Expected(403) if api else Expected(302, TWO_FACTOR)
    if combo.method == "POST" and rule.post and not api:
        return _expected_post(user_key, scope, combo)
    if combo.method == "POST" and rule.post == "api_search":
        return Expected(200 if scope.sees else 403)
    allowed = _allowed(rule, scope, rule.record, record)
    return Expected(200 if allowed else _refused(rule))


def _expected_post(user_key: str, scope: Scope, combo: Combo) -> Expected:
    rule, record, action = combo.rule, combo.record, combo.rule.post
    if action == "search":
        return Expected(200 if scope.sees else 403)
    if action in ("register", "case_open"):
        ok = scope.sees and scope.may_record
        return Expected(302 if ok else 403, succeeds=ok)
    if action == "break_glass":
        if not scope.may_break_glass:
            return Expected(403)
        if record == MISSING:
            return Expected(200)
        return Expected(302, "/people/cases/", succeeds=record not in scope.view_cases)
    if action == "participant_add":
        ok = record in scope.change_cases and candidate_for(user_key) in scope.change_people
        return Expected(302 if ok else 404, "/people/cases/", succeeds=ok)
    ok = _allowed(rule, scope, rule.record, record)
    return Expected(302 if ok else 404, succeeds=ok)


# Forms a POST sends ------------------------------------------------------------------------------

def post_data(user_key: str, combo: Combo, world: World) -> dict:
    action, record = combo.rule.post, combo.record
    if action in ("search", "api_search"):
        spec = PEOPLE.get(record) or PersonSpec("a", "Nobody", "Atall", dt.date(1999, 1, 1))
        dob = spec.date_of_birth
        if action == "api_search":
            return {"first_name": spec.first_name.upper(), "last_name": spec.last_name.lower(), "date_of_birth": dob.isoformat()}
        return {"first_name": spec.first_name.upper(), "last_name": spec.last_name.lower(),
                "date_of_birth-day": str(dob.day), "date_of_birth-month": str(dob.month), "date_of_birth-year": str(dob.year)}
    if action == "register":
        return {"first_name": "Newly", "last_name": "Registered", "date_of_birth-day": "1", "date_of_birth-month": "2",
                "date_of_birth-year": "2001", "lawful_basis": "safeguarding", "purpose": "New referral"}
    if action == "person_edit":
        spec = PEOPLE.get(record) or PEOPLE["a_victim"]
        dob = spec.date_of_birth
        return {"first_name": spec.first_name, "last_name": "Renamedbymatrix", "date_of_birth-day": str(dob.day),
                "date_of_birth-month": str(dob.month), "date_of_birth-year": str(dob.year),
                "lawful_basis": "safeguarding", "purpose": "Correcting the record"}
    if action == "case_open":
        return {"kind": "marac", "reference": "", "summary": "", "purpose": "New referral"}
    if action == "participant_add":
        person = str(world.people[candidate_for(user_key)].pk)
        return {"chosen": person, "step": "add", "person": person, "role": "other", "purpose": "Lives at the address"}
    if action == "party_add":
        return {"organisation": str(world.organisations["d"].pk), "lawful_basis": "safeguarding", "agreement": "",
                "purpose": "Attends the MARAC"}
    if action == "disclosure_add":
        return {"to_organisation": str(world.organisations["d"].pk), "person": "", "lawful_basis": "safeguarding",
                "agreement": "", "purpose": "Safety planning"}
    if action == "case_close":
        return {"purpose": "Risk reduced"}
    if action == "break_glass":
        reference = CASES[record].reference if record in CASES else MISSING_REFERENCE
        return {"reference": reference.lower(), "reason": "Urgent safeguarding call from the hospital tonight"}
    if action == "review":
        return {"note": "Reviewed: the reason was sound"}
    return {}


def snapshot() -> dict:
    """What a write could change, to compare before and after a POST."""
    return {
        "people": Person.objects.count(),
        "names": sorted(p.last_name for p in Person.objects.all()),
        "identifiers": PersonIdentifier.objects.count(),
        "cases": Case.objects.count(),
        "closed": sorted(Case.objects.filter(status=CaseStatus.CLOSED).values_list("pk", flat=True)),
        "parties": CaseParty.objects.count(),
        "participants": CaseParticipant.objects.count(),
        "disclosures": Disclosure.objects.count(),
        "grants": BreakGlassAccess.objects.count(),
        "reviewed": sorted(BreakGlassAccess.objects.filter(reviewed_at__isnull=False).values_list("pk", flat=True)),
    }


EFFECTS = {
    "register": lambda b, a: a["people"] == b["people"] + 1,
    "person_edit": lambda b, a: a["names"].count("Renamedbymatrix") == b["names"].count("Renamedbymatrix") + 1,
    "case_open": lambda b, a: a["cases"] == b["cases"] + 1,
    "participant_add": lambda b, a: a["participants"] == b["participants"] + 1,
    "party_add": lambda b, a: a["parties"] == b["parties"] + 1 and a["disclosures"] == b["disclosures"] + 1,
    "disclosure_add": lambda b, a: a["disclosures"] == b["disclosures"] + 1,
    "case_close": lambda b, a: len(a["closed"]) == len(b["closed"]) + 1,
    "break_glass": lambda b, a: a["grants"] == b["grants"] + 1,
    "review": lambda b, a: len(a["reviewed"]) == len(b["reviewed"]) + 1,
}


# Responses ---------------------------------------------------------------------------------------

def body_text(response) -> str:
    """What a response shows: HTML unescaped, JSON and CSV as text, and the XML inside an
    Office file, so that a name cannot hide in any of them."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                return "\n".join(archive.read(n).decode("utf-8", "ignore") for n in archive.namelist() if n.endswith(".xml"))
        except zipfile.BadZipFile:
            pass
    text = content.decode("utf-8", "ignore")
    if "json" in response.get("Content-Type", ""):
        try:
            text = json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    return html.unescape(text)


def comparable(response, path: str) -> str:
    """A response's body without what differs from one response to the next (tokens, nonces) or
    from one address to the next (the path asked for)."""
    text = body_text(response)
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)
    text = re.sub(r'nonce="[^"]*"', "", text)
    return text.replace(path, "{path}")


def forbidden(world: World, user_key: str, combo: Combo, status: int) -> dict[str, str]:
    """token → whose it is: what may not appear in this response."""
    scope, rule = scope_of(user_key), combo.rule
    people, cases = set(scope.view_people), set(scope.view_cases)
    if rule.oversight:
        people |= scope.held_people
        cases |= scope.held_cases
    if status >= 300:
        people, cases = set(), set()
    tokens = {}
    for label, spec in PEOPLE.items():
        if label not in people:
            tokens.update({token: label for token in spec.tokens()})
            tokens[world.people[label].reference] = label
    for label, spec in CASES.items():
        if label not in cases:
            tokens[spec.summary] = label
            tokens[spec.summary.split(":")[0]] = label
            if spec.disclosure:
                tokens[spec.disclosure[1]] = label
            # The data protection lead's own staff's break-glass is theirs to see.
            own_grant = rule.oversight and any(
                GRANTS[g].case == label for g in scope.grants) and combo.route.key in (
                "people:break_glass_report", "people:break_glass_review", "people:audit_export")
            if not own_grant:
                tokens[spec.reference] = label
    return tokens


def leaks(text: str, tokens: dict[str, str]) -> list[str]:
    return sorted({f"{token!r} of {owner}" for token, owner in tokens.items() if token and token in text})


@dataclass
class Outcome:
    combo: Combo
    path: str
    status: int
    location: str
    text: str
    comparable: str
    before: dict | None
    after: dict | None


def run(client: Client, world: World, user_key: str, combo: Combo) -> Outcome:
    """Make one request, inside a savepoint rolled back afterwards, so each combination meets the
    same world."""
    record_id = world.record_id(combo.kind, combo.record) if combo.kind else None
    values = {name: record_id for name in combo.route.arguments}
    path = combo.route.fill(values)
    query = VARIANTS.get(combo.route.key, {}).get(combo.variant, "")
    url = f"{path}?{query}" if query else path
    write = combo.method == "POST"
    with transaction.atomic():
        before = snapshot() if write else None
        if combo.method == "GET":
            response = client.get(url)
        elif combo.route.is_api:
            data = post_data(user_key, combo, world) if combo.rule.post else {}
            response = client.post(url, json.dumps(data), content_type="application/json")
        else:
            response = client.post(url, post_data(user_key, combo, world) if combo.rule.post else {})
        after = snapshot() if write else None
        text = body_text(response)
        outcome = Outcome(combo, path, response.status_code, response.get("Location", ""), text,
                          comparable(response, path), before, after)
        transaction.set_rollback(True)
    # A message set by a successful write would otherwise show on the next, unrelated page.
    client.cookies.pop("messages", None)
    return outcome


def check(world: World, user_key: str, outcome: Outcome, missing: Outcome | None) -> list[str]:
    """Everything wrong with one answer; empty when it is as expected."""
    combo = outcome.combo
    want = expected(user_key, combo)
    where = combo.describe(user_key)
    problems = []
    if outcome.status != want.status:
        problems.append(f"{where}: status {outcome.status}, expected {want.status}")
    if want.location and outcome.status == 302 and not outcome.location.startswith(want.location):
        problems.append(f"{where}: redirected to {outcome.location}, expected {want.location}…")
    found = leaks(outcome.text + outcome.location, forbidden(world, user_key, combo, outcome.status))
    if found:
        problems.append(f"{where}: shows {', '.join(found)}")
    if outcome.before is not None:
        changed = outcome.before != outcome.after
        action = combo.rule.post if not combo.route.is_api else None
        if want.succeeds and action in EFFECTS and not EFFECTS[action](outcome.before, outcome.after):
            problems.append(f"{where}: the write did not happen")
        if not want.succeeds and changed:
            problems.append(f"{where}: changed the database: {_diff(outcome.before, outcome.after)}")
    if outcome.status == 200:
        problems += _shows_what_it_should(world, user_key, outcome)
    if missing is not None and combo.record not in (None, MISSING) and outcome.status in (403, 404) \
            and outcome.comparable != missing.comparable:
        problems.append(f"{where}: answers differently from a record that does not exist")
    return problems


def _diff(before: dict, after: dict) -> str:
    return ", ".join(f"{k}: {before[k]!r} → {after[k]!r}" for k in before if before[k] != after[k])


def _shows_what_it_should(world: World, user_key: str, outcome: Outcome) -> list[str]:
    """A 200 must be the real thing: the record asked for, the whole list the user may see, the
    person searched for when (and only when) they may see them."""
    combo, scope, text = outcome.combo, scope_of(user_key), outcome.text
    where = combo.describe(user_key)
    rule = combo.rule
    problems = []
    if combo.record not in (None, MISSING) and rule.post not in ("search", "api_search", "break_glass") \
            and world.reference(combo.kind, combo.record) not in text:
        problems.append(f"{where}: does not show {world.reference(combo.kind, combo.record)}")
    if combo.method == "GET" and rule.listing == "person":
        shown = {p for p in PEOPLE if world.people[p].reference in text}
        if shown != set(scope.view_people):
            problems.append(f"{where}: lists {sorted(shown)}, expected {sorted(scope.view_people)}")
    if combo.method == "GET" and rule.listing == "case":
        shown = {c for c, spec in CASES.items() if spec.reference in text}
        if shown != set(scope.view_cases):
            problems.append(f"{where}: lists {sorted(shown)}, expected {sorted(scope.view_cases)}")
    if combo.method == "POST" and rule.post in ("search", "api_search") and combo.record:
        found = combo.record != MISSING and world.people[combo.record].reference in text
        should = combo.record in scope.view_people
        if found != should:
            problems.append(f"{where}: {'found' if found else 'did not find'} {combo.record}")
    return problems

