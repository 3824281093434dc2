"""The generated permission matrix: every route of the people register and its API × every kind of
member of staff × records in and out of their scope (and missing), by GET and by POST. Each answer
must have the expected status, an out-of-scope record must answer exactly like a missing one, no
one's name, date of birth, identifier or address may reach someone outside their scope, and a write
refused must change nothing. Every other page of Saferhub is asked too, and must never show anyone."""
import pytest
from django.test import Client

from saferhub.people.tests import matrix

pytestmark = pytest.mark.django_db
# The matrix runs at least this many combinations: it printed 2,892 for the people register and
# 6,156 in all when written.
MINIMUM_PEOPLE_COMBINATIONS = 2800
MINIMUM_COMBINATIONS = 6000


@pytest.fixture
def world():
    return matrix.build_world()


def test_every_route_of_the_people_register_has_an_expectation():
    """A new page or API route cannot slip past the matrix: it fails here until it is in RULES."""
    found = {route.key for route in matrix.personal_routes()}
    assert found == set(matrix.RULES), f"not in RULES: {sorted(found - set(matrix.RULES))}; gone: {sorted(set(matrix.RULES) - found)}"
    api = {key for key in found if key.startswith("api/")}
    assert {"api/people/persons/search/", "api/people/persons/<int:person_id>/", "api/people/cases/",
            "api/people/cases/<int:case_id>/"} <= api


def test_the_expectations_follow_the_world_not_the_application():
    """Spot checks of the declarative table, so a mistake in it shows here in words."""
    assert matrix.scope_of("a_contributor").view_cases == {"case_a", "case_ab"}
    assert matrix.scope_of("a_contributor").view_people == {"a_victim", "a_child", "a_perpetrator", "shared", "loose_a"}
    assert matrix.scope_of("b_contributor").view_people == {"b_victim", "b_perpetrator", "shared", "loose_b"}
    assert matrix.scope_of("coordinator").view_cases == set(matrix.CASES)
    assert "loose_a" not in matrix.scope_of("coordinator").view_people
    assert matrix.scope_of("a_viewer").change_cases == set()
    assert matrix.scope_of("b_dp_lead").view_people == set() and "loose_b" in matrix.scope_of("b_dp_lead").held_people
    assert matrix.scope_of("a_dp_lead").grants == {"grant_a"}
    assert not matrix.scope_of("a_contributor_no_2fa").verified and matrix.scope_of("a_contributor_none").verified


def _people_combinations() -> int:
    return len(matrix.plan()) * len(matrix.USERS)


def test_the_matrix_covers_every_route_role_and_record(capsys):
    routes = matrix.personal_routes()
    other = _other_combinations()
    total = _people_combinations() + other
    with capsys.disabled():
        print(f"\nAttack matrix: {len(routes)} people routes × GET and POST × records ({len(matrix.PEOPLE)} people, "
              f"{len(matrix.CASES)} cases, {len(matrix.GRANTS)} grants, each and a missing id) = {len(matrix.plan())} "
              f"per user × {len(matrix.USERS)} users = {_people_combinations()}; {len(matrix.other_routes())} other routes "
              f"× GET and POST × {len(matrix.USERS)} users = {other}; {total} in all")
    assert len(routes) >= 25 and _people_combinations() >= MINIMUM_PEOPLE_COMBINATIONS
    assert total >= MINIMUM_COMBINATIONS


@pytest.mark.parametrize("user_key", list(matrix.USERS))
def test_people_routes_answer_each_user_by_scope_and_never_leak(world, user_key):
    client = matrix.sign_in(Client(), world, user_key)
    outcomes = {}
    for combo in matrix.plan():
        outcomes[(combo.route.key, combo.method, combo.variant, combo.record)] = matrix.run(client, world, user_key, combo)
    problems = []
    for (key, method, variant, record), outcome in outcomes.items():
        missing = outcomes.get((key, method, variant, matrix.MISSING))
        problems += matrix.check(world, user_key, outcome, missing)
    assert len(outcomes) == len(matrix.plan())
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])


# Every other page ------------------------------------------------------------------------------

def _fill_values(route, world) -> dict:
    public = world.public
    name = route.name or ""
    values = {
        "slug": public["strategy"].slug, "strategy_slug": public["strategy"].slug, "period_slug": "june-2023",
        "pk": public["item"].pk, "action_id": public["action"].pk, "fmt": "csv", "table": "funding", "chart": "no-such-chart",
        "quarter": "2023-24-q1", "quarter_slug": "2023-24-q1", "version": "published", "service": public["service"].slug,
        "service_slug": public["service"].slug, "object_id": "1", "content_type_id": "1", "id": "1", "app_label": "partners",
        "url": "no-such-page/",
        # MARAC meetings: ids that exist in no world (no MARAC data here), and a token no one holds.
        "referral_pk": "1", "attendance_pk": "1", "token": "no-such-token", "referral_id": "1",
        "rank": "1",  # MATAC: a place on a ranked list
        "element": "no-such-figure",  # performance: a data element of a service
    }
    if name == "partners:body_detail":
        values["slug"] = public["body"].slug
    if name.startswith("performance:service_") or route.path.startswith("api/services/"):
        values["slug"] = public["service"].slug
    if route.path.startswith("api/indicators/"):
        values["slug"] = "no-such-indicator"
    if name.startswith("strategy:action_") and name != "strategy:action_create":
        values["pk"] = public["action"].pk
    if name.startswith("publishing:"):
        values["pk"], values["fmt"] = public["report"].pk, "html"
    if name == "performance:report_download":
        values["fmt"] = "html"
    return values


def _other_plan():
    combos = []
    for route in matrix.other_routes():
        for method in ("GET", "POST"):
            combos.append((route, method))
    # Signing out ends the session: last, so it does not sign the rest out.
    return sorted(combos, key=lambda combo: combo[0].name == "logout")


def _other_combinations() -> int:
    return len(_other_plan()) * len(matrix.USERS)


@pytest.mark.parametrize("user_key", list(matrix.USERS))
def test_every_other_page_never_shows_personal_data(world, user_key):
    """Strategy, performance, returns, publishing, partners, accounts, the admin, the rest of the
    API: none of them reads the people register, and none may show anyone in it."""
    from django.db import transaction

    client = matrix.sign_in(Client(), world, user_key)
    tokens = {}
    for label, spec in matrix.PEOPLE.items():
        tokens.update({token: label for token in spec.tokens()})
        tokens[world.people[label].reference] = label
    for label, spec in matrix.CASES.items():
        tokens.update({spec.reference: label, spec.summary: label})
    problems, ran = [], 0
    for route, method in _other_plan():
        path = route.fill(_fill_values(route, world))
        ran += 1
        with transaction.atomic():
            response = client.get(path) if method == "GET" else client.post(path, {})
            text = matrix.body_text(response)
            transaction.set_rollback(True)
        client.cookies.pop("messages", None)
        where = f"{user_key} {method} {path}"
        if response.status_code >= 500:
            problems.append(f"{where}: status {response.status_code}")
        found = matrix.leaks(text + response.get("Location", ""), tokens)
        if found:
            problems.append(f"{where}: shows {', '.join(found)}")
    assert ran == len(_other_plan())
    assert not problems, "\n".join(problems[:60])


# What the matrix found -------------------------------------------------------------------------

@pytest.mark.parametrize("user_key, address", [
    pytest.param("a_contributor", "/people/persons/{shared}/subject-access.json", id="subject access JSON"),
    pytest.param("a_contributor", "/people/persons/{shared}/subject-access/", id="subject access page"),
    pytest.param("a_dp_lead", "/people/persons/{shared}/audit/", id="who has seen her"),
    pytest.param("a_dp_lead", "/people/audit/export/?" + matrix.VARIANTS["people:audit_export"]["csv"], id="audit export CSV"),
])
def test_what_an_organisation_holds_about_a_person_names_no_case_it_is_not_party_to(world, user_key, address):
    """Marisol is a victim in A's joint case and also appears in B's own case MX-B-0002. B's staff
    added her there through the page, which audits its search and its view of her with the purpose
    'Adding to case MX-B-0002'. Her export and her audit trail, as A's staff see them, must not
    tell A that she is in a case A is not party to."""
    client = matrix.sign_in(Client(), world, user_key)
    response = client.get(address.format(shared=world.people["shared"].pk))
    assert response.status_code == 200
    assert matrix.CASES["case_b"].reference not in matrix.body_text(response)
