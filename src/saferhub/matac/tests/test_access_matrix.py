"""The generated MATAC access matrix: every MATAC page (scoring and casework, and any MATAC API
route) × every kind of member of staff (marac/tests/access_core.USERS) × records in and out of their
scope and a missing one, by GET and by POST (an empty form and, where there is one, a valid one).
Each answer must have the status worked out from the world's specification (access_world.py), an
out-of-scope record must answer exactly like a missing one, no one's name, date of birth, nominal
id, victim id, case reference or free text may reach someone outside its scope (pages and CSV
downloads), a refused write must change nothing, and nothing may answer 500. A new MATAC route
fails here until the table says what it should answer."""
import logging

import pytest
from django.db import transaction
from django.test import Client, override_settings

from saferhub.marac.tests import access_core
from saferhub.matac.tests import access_world

pytestmark = pytest.mark.django_db
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# It counted 2,212 combinations when written; fewer means routes, users or records went missing.
MINIMUM_COMBINATIONS = 2200


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """One world for the module, made through MATAC's services, with its own incident store, and
    thrown away at the end."""
    directory = tmp_path_factory.mktemp("matac-access")
    with override_settings(MATAC_STORE_DIR=str(directory / "store"), PASSWORD_HASHERS=FAST_HASHER), \
            django_db_blocker.unblock():
        with transaction.atomic():
            built = access_world.build_world(directory)
            yield built
            transaction.set_rollback(True)


@pytest.fixture
def quiet():
    """Refusals are expected by the thousand: keep Django from logging each with its traceback
    (a 500 is still logged, and fails the test)."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def test_every_matac_route_has_an_expectation():
    found = {route.key for route in access_world.routes()}
    assert found == set(access_world.RULES), (
        f"not in the table: {sorted(found - set(access_world.RULES))}; gone: {sorted(set(access_world.RULES) - found)}")
    assert {"matac:run_person", "matac:case_detail", "matac:action_edit"} <= found


def test_the_expectations_follow_the_specification():
    """Spot checks of who sees what, in words, so a mistake in the table shows here."""
    assert access_world.who("police_analyst").view == {"n1", "n2"} and access_world.who("police_analyst").scores
    assert access_world.who("matac_member").view == {"n1", "n2"} and access_world.who("matac_member").scoring
    assert access_world.who("admin_all").view == {"n1", "n2", "n3"} and not access_world.who("admin_all").scoring
    assert access_world.who("admin_all").panels == {"p1", "p2"} and access_world.who("admin_all").works_on == set()
    assert access_world.who("coordinator_1").panels == set() and not access_world.who("coordinator_1").scoring
    assert access_world.who("dp_lead").view == set() and not access_world.who("viewer_none").panels


def test_the_world_is_as_specified(world):
    from saferhub.people.models import CaseParty

    by_pk = {org.pk: key for key, org in world.organisations.items()}
    for label, nomination in world.nominations.items():
        made = {by_pk[o] for o in CaseParty.objects.filter(case=nomination.case).values_list("organisation_id", flat=True)}
        assert made == access_world.parties(label), label
    assert world.nominations["n1"].status == "adopted" and world.run.rows.count() >= 5  # ranks 1 to 5 are used


def _combinations() -> int:
    return len(access_world.matrix().combos()) * len(access_core.USERS)


def test_the_matrix_counts_its_combinations(capsys):
    m = access_world.matrix()
    with capsys.disabled():
        print(f"\nMATAC access matrix: {len(m.routes)} routes × GET and POST (empty, valid and foreign forms) × records "
              f"= {len(m.combos())} per user × {len(access_core.USERS)} users = {_combinations()} combinations")
    assert _combinations() >= MINIMUM_COMBINATIONS


@pytest.mark.parametrize("user_key", list(access_core.USERS))
def test_matac_routes_answer_each_user_by_scope_and_never_leak(world, user_key, quiet, settings):
    settings.MATAC_STORE_DIR = str(world.extract_store)
    client = access_core.sign_in(Client(), world.users, user_key)
    problems = access_world.matrix().walk(client, world, user_key)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:80])


# What the matrix found -------------------------------------------------------------------------

@pytest.mark.parametrize("user_key", [
    "police_analyst",
    "admin_all",  # found by the matrix: adopting answered 404 (the score went through the scoring pages' access)
])
def test_who_may_decide_on_a_nomination_may_adopt_it(world, user_key, settings):
    settings.MATAC_STORE_DIR = str(world.extract_store)
    client = access_core.sign_in(Client(), world.users, user_key)
    nomination = world.nominations["n2"]
    url = f"/matac/nominations/{nomination.pk}/decide/"
    with transaction.atomic():
        assert client.get(url).status_code == 200
        response = client.post(url, {"meeting": str(world.meetings["p1"].pk), "decision": "adopt", "reason": "",
                                     "lead_agency": str(world.organisations["m"].pk)})
        adopted = type(nomination).objects.get(pk=nomination.pk).status
        transaction.set_rollback(True)
    assert response.status_code == 302 and adopted == "adopted"
