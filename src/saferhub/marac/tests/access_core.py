"""The machinery of the MARAC and MATAC access matrices (after NetBox's ViewTestCases): the staff
every matrix signs in as, the routes of an app found by walking the URL resolver, one request per
combination inside a savepoint rolled back afterwards, and the checks made of every answer (status,
redirect, no one's personal data outside the user's scope in the body or a download, an out-of-scope
record answering exactly like a missing one, a refused write changing nothing).

Each app's matrix (marac/tests/access_world.py, matac/tests/access_world.py) supplies the world and
a table of routes with what each member of staff should get, worked out from the world's
specification (who referred whom, which organisation is party to which case), never by asking the
application's own access code."""
from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from saferhub.core.factories import OrganisationFactory, UserFactory
from saferhub.core.formatting import date_uk
from saferhub.partners.models import OrganisationType, PersonalDataScope, Role

try:
    from saferhub.accounts.testing import otp_login
except ImportError:  # pragma: no cover - before the accounts app exists
    def otp_login(client, user):
        client.force_login(user)

MISSING = "missing"
MISSING_ID = 987654321
SIGN_IN = "/sign-in/"
TWO_FACTOR = "/account/two-factor/"
RANK = {role.value: rank for rank, role in enumerate(Role)}


# The organisations and staff both matrices sign in as --------------------------------------------

ORGANISATIONS = {
    # key: (slug, name, short name, type)
    "a": ("access-agency-a", "Access Agency A", "AAA", OrganisationType.OTHER),
    "b": ("access-agency-b", "Access Agency B", "AAB", OrganisationType.OTHER),
    "c1": ("access-coordinators-north", "Access Coordinators North", "ACN", OrganisationType.OTHER),
    "c2": ("access-coordinators-south", "Access Coordinators South", "ACS", OrganisationType.OTHER),
    "e": ("access-health-e", "Access Health E", "AHE", OrganisationType.OTHER),
    "f": ("access-housing-f", "Access Housing F", "AHF", OrganisationType.OTHER),
    "h": ("access-partnership-h", "Access Partnership H", "APH", OrganisationType.OTHER),
    "m": ("access-matac-member", "Access MATAC Member", "AMM", OrganisationType.OTHER),
    "pol": ("access-police", "Access Police", "APO", OrganisationType.POLICE),
    "pol2": ("access-police-two", "Access Police Two", "AP2", OrganisationType.POLICE),
}


@dataclass(frozen=True)
class UserSpec:
    role: str
    organisation: str
    scope: str = PersonalDataScope.NONE
    data_protection_lead: bool = False
    second_factor: bool = True

    @property
    def sees(self) -> bool:
        return self.scope != PersonalDataScope.NONE or self.data_protection_lead

    @property
    def contributes(self) -> bool:
        return RANK[self.role] >= RANK[Role.CONTRIBUTOR]

    def at_least(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]


PARTIES, ALL = PersonalDataScope.PARTIES, PersonalDataScope.ALL
USERS: dict[str, UserSpec | None] = {
    "anonymous": None,
    # Signed in with a password only: personal data needs the second factor first.
    "unverified": UserSpec(Role.CONTRIBUTOR, "a", PARTIES, second_factor=False),
    "viewer_none": UserSpec(Role.VIEWER, "a"),
    "a_contributor": UserSpec(Role.CONTRIBUTOR, "a", PARTIES),
    # Reads what agency A is party to, changes nothing.
    "a_viewer": UserSpec(Role.VIEWER, "a", PARTIES),
    "b_contributor": UserSpec(Role.CONTRIBUTOR, "b", PARTIES),
    "coordinator_1": UserSpec(Role.CONTRIBUTOR, "c1", PARTIES),
    "coordinator_2": UserSpec(Role.CONTRIBUTOR, "c2", PARTIES),
    "attendee_signed": UserSpec(Role.CONTRIBUTOR, "e", PARTIES),
    "attendee_unsigned": UserSpec(Role.CONTRIBUTOR, "f", PARTIES),
    "admin_all": UserSpec(Role.ADMINISTRATOR, "h", ALL),
    "dp_lead": UserSpec(Role.VIEWER, "a", PersonalDataScope.NONE, data_protection_lead=True),
    "matac_member": UserSpec(Role.CONTRIBUTOR, "m", PARTIES),
    "police_analyst": UserSpec(Role.CONTRIBUTOR, "pol", PARTIES),
}


def organisations_make() -> dict:
    return {key: OrganisationFactory(slug=slug, name=name, short_name=short, type=kind)
            for key, (slug, name, short, kind) in ORGANISATIONS.items()}


def users_make(organisations: dict) -> dict:
    return {key: (UserFactory(username=f"access-{key.replace('_', '-')}", role=spec.role,
                              organisation=organisations[spec.organisation], personal_data_scope=spec.scope,
                              is_data_protection_lead=spec.data_protection_lead, email=f"{key}@example.org",
                              first_name="Staff", last_name=key.replace("_", " ").title())
                  if spec else None)
            for key, spec in USERS.items()}


def sign_in(client: Client, users: dict, user_key: str) -> Client:
    client.logout()
    user = users[user_key]
    if user is None:
        return client
    if USERS[user_key].second_factor and user.sees_personal_data:
        otp_login(client, user)
    else:
        client.force_login(user)
    return client


# Synthetic people and the tokens that must not reach anyone outside their scope -----------------

@dataclass(frozen=True)
class PersonSpec:
    first_name: str
    last_name: str
    date_of_birth: dt.date | None = None
    nominal: str = ""

    def tokens(self) -> set[str]:
        found = {self.first_name, self.last_name}
        if self.date_of_birth:
            dob = self.date_of_birth
            found |= {dob.isoformat(), date_uk(dob), dob.strftime("%d/%m/%Y")}
        if self.nominal:
            found.add(self.nominal)
        return found


# Routes ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    path: str
    name: str | None

    @property
    def is_api(self) -> bool:
        return self.path.startswith("api/")

    @property
    def key(self) -> str:
        return self.path if self.is_api else self.name

    @property
    def arguments(self) -> list[str]:
        return re.findall(r"<(?:\w+:)?(\w+)>", self.path)

    def fill(self, values: dict) -> str:
        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), self.path)


def routes_of(namespace: str, api_prefix: str) -> list[Route]:
    """Every route named in `namespace` and every API route under `api_prefix`, walked from the
    root resolver (so a route added later is found without anyone listing it)."""
    found: dict[str, Route] = {}

    def walk(resolver, parts: list, names: str | None) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = names
                if entry.namespace:
                    inner = f"{names}:{entry.namespace}" if names else entry.namespace
                walk(entry, [*parts, str(entry.pattern)], inner)
            elif isinstance(entry, URLPattern):
                path = "".join([*parts, str(entry.pattern)])
                name = f"{names}:{entry.name}" if names and entry.name else entry.name
                route = Route(path=path, name=name)
                if (name or "").startswith(f"{namespace}:") or path.startswith(api_prefix):
                    found.setdefault(route.key, route)

    walk(get_resolver(), [], None)
    return list(found.values())


# What a combination should answer ------------------------------------------------------------------

@dataclass(frozen=True)
class Expect:
    status: int | frozenset
    location: str | None = None  # the start of a redirect's target
    succeeds: bool | None = False  # a write that should happen (None: not checked)

    def allows(self, status: int) -> bool:
        return status in self.status if isinstance(self.status, frozenset) else status == self.status


def either(*statuses: int) -> frozenset:
    return frozenset(statuses)


@dataclass
class RouteRule:
    """One route of the table: the records its ids name (labels of the world, MISSING last), the
    methods it takes (others answer 405), the forms a POST sends, what each user should get, the
    address and the form data."""

    records: list
    expect: Callable  # (user_key, method, record, form) -> Expect
    methods: tuple = ("GET", "POST")
    forms: tuple = ("empty",)
    open_to_anyone: bool = False  # login_not_required: no sign-in or second-factor redirect
    api_methods: tuple = ()


@dataclass(frozen=True)
class Combo:
    route: Route
    method: str
    record: object
    form: str = ""

    def describe(self, user_key: str) -> str:
        form = f" ({self.form} form)" if self.form else ""
        return f"{user_key} {self.method} {self.route.key} [{self.record or '-'}]{form}"


def plan(routes: list[Route], rules: dict[str, RouteRule]) -> list[Combo]:
    combos = []
    for route in sorted(routes, key=lambda r: r.key):
        rule = rules[route.key]
        for record in rule.records:
            combos.append(Combo(route, "GET", record))
            for form in rule.forms:
                combos.append(Combo(route, "POST", record, form))
    return combos


def expected(user_key: str, combo: Combo, rule: RouteRule) -> Expect:
    """The answers every route shares (sign-in, the second factor, methods), then the route's own."""
    spec = USERS[user_key]
    api = combo.route.is_api
    if api:
        if combo.method not in rule.api_methods:
            return Expect(403 if spec is not None and spec.sees and not spec.second_factor else 405)
        if spec is None:
            return Expect(401)
        if spec.sees and not spec.second_factor:
            return Expect(403)
        return rule.expect(user_key, combo.method, combo.record, combo.form)
    if not rule.open_to_anyone:
        if spec is None:
            return Expect(302, SIGN_IN)
        if spec.sees and not spec.second_factor:
            return Expect(302, TWO_FACTOR)
    if combo.method not in rule.methods:
        return Expect(405)
    return rule.expect(user_key, combo.method, combo.record, combo.form)


# Running and checking ------------------------------------------------------------------------------

def body_text(response) -> str:
    """What a response shows: HTML unescaped, JSON as text, and the XML inside an Office file
    (DOCX, XLSX), so that a name cannot hide in any of them."""
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
    # iCalendar folds long lines: unfold them so a token split across two lines is still found.
    text = text.replace("\r\n ", "").replace("\n ", "")
    return html.unescape(text)


def comparable(text: str, path: str) -> str:
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)
    text = re.sub(r'nonce="[^"]*"', "", text)
    return text.replace(path, "{path}")


def contains(text: str, token: str) -> bool:
    """Whether `token` appears in `text`; one with digits (an id, a date) only whole, so that
    SYN-P0000001 is not found inside SYN-P00000012."""
    if token not in text:
        return False
    if not any(c.isdigit() for c in token):
        return True
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(token)}(?![A-Za-z0-9])", text) is not None


@dataclass
class Outcome:
    combo: Combo
    path: str
    status: int
    location: str
    text: str
    before: dict | None = None
    after: dict | None = None
    cache_control: str = ""
    sent: str = ""  # what the form sent: the user's own words may be shown back to them


@dataclass
class Matrix:
    """One app's matrix: its routes, table, world and how to address, fill and scan them."""

    routes: list[Route]
    rules: dict[str, RouteRule]
    path: Callable  # (world, combo) -> str
    data: Callable  # (world, user_key, combo) -> dict
    forbidden: Callable  # (world, user_key, combo, status) -> dict[token, owner]
    snapshot: Callable  # () -> dict
    listing: Callable | None = None  # (world, user_key, outcome) -> list[str]
    missing_twin: Callable = field(default=lambda combo: MISSING)  # the record to compare an out-of-scope 404 with

    def combos(self) -> list[Combo]:
        return plan(self.routes, self.rules)

    def run(self, client: Client, world, user_key: str, combo: Combo) -> Outcome:
        path = self.path(world, combo)
        write = combo.method == "POST"
        sent = self.data(world, user_key, combo) if write else {}
        with transaction.atomic():
            before = self.snapshot() if write else None
            if combo.method == "GET":
                response = client.get(path)
            elif combo.route.is_api:
                response = client.post(path, json.dumps(sent), content_type="application/json")
            else:
                response = client.post(path, sent)
            after = self.snapshot() if write else None
            outcome = Outcome(combo, path.split("?")[0], response.status_code, response.get("Location", ""),
                              body_text(response), before, after, response.get("Cache-Control", ""),
                              json.dumps(sent, ensure_ascii=False, default=str))
            transaction.set_rollback(True)
        # A message set by one request would otherwise show on the next, unrelated page.
        client.cookies.pop("messages", None)
        return outcome

    def walk(self, client: Client, world, user_key: str, known: dict | None = None) -> list[str]:
        """Every combination for one member of staff; the problems found, but for the known faults
        (user, method, route key, record, form) → reason, which are tested on their own."""
        known = known or {}
        outcomes = {}
        for combo in self.combos():
            if (user_key, combo.method, combo.route.key, combo.record, combo.form) in known:
                continue
            outcomes[(combo.route.key, combo.method, combo.form, combo.record)] = self.run(client, world, user_key, combo)
        problems = []
        for (key, method, form, record), outcome in outcomes.items():
            twin = outcomes.get((key, method, form, self.missing_twin(outcome.combo)))
            problems += self.check(world, user_key, outcome, twin)
        return problems

    def one(self, client: Client, world, user_key: str, method: str, key: str, record, form: str) -> list[str]:
        """The problems of one combination, with the missing record's answer to compare with."""
        route = next(r for r in self.routes if r.key == key)
        combo = Combo(route, method, record, form)
        outcome = self.run(client, world, user_key, combo)
        twin = None
        if MISSING in self.rules[key].records and record != MISSING:
            twin = self.run(client, world, user_key, Combo(route, method, MISSING, form))
        return self.check(world, user_key, outcome, twin)

    def check(self, world, user_key: str, outcome: Outcome, missing: Outcome | None) -> list[str]:
        combo = outcome.combo
        want = expected(user_key, combo, self.rules[combo.route.key])
        where = combo.describe(user_key)
        problems = []
        if outcome.status >= 500:
            problems.append(f"{where}: status {outcome.status}")
        elif not want.allows(outcome.status):
            problems.append(f"{where}: status {outcome.status}, expected {want.status}")
        if want.location and outcome.status == 302 and not outcome.location.startswith(want.location):
            problems.append(f"{where}: redirected to {outcome.location}, expected {want.location}…")
        shown = outcome.text + outcome.location
        found = sorted({f"{token!r} of {owner}" for token, owner in
                        self.forbidden(world, user_key, combo, outcome.status).items()
                        if token and token not in outcome.sent and contains(shown, token)})
        if found:
            problems.append(f"{where}: shows {', '.join(found)}")
        if outcome.before is not None:
            changed = outcome.before != outcome.after
            if want.succeeds and not changed:
                problems.append(f"{where}: the write did not happen")
            if want.succeeds is False and changed:
                diff = ", ".join(f"{k}: {outcome.before[k]!r} → {outcome.after[k]!r}"
                                 for k in outcome.before if outcome.before[k] != outcome.after[k])
                problems.append(f"{where}: changed the database: {diff}")
        if outcome.status == 200 and not combo.route.is_api and "no-store" not in outcome.cache_control:
            # Every page of MARAC and MATAC holds or leads to personal data: no cache may keep it.
            problems.append(f"{where}: may be cached (Cache-Control: {outcome.cache_control!r})")
        if outcome.status == 200 and self.listing is not None:
            problems += [f"{where}: {p}" for p in self.listing(world, user_key, outcome)]
        if missing is not None and missing is not outcome and outcome.status == 404 and missing.status == 404 \
                and comparable(outcome.text, outcome.path) != comparable(missing.text, missing.path):
            problems.append(f"{where}: answers differently from a record that does not exist")
        return problems
