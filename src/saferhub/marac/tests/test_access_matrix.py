"""The generated MARAC access matrix: every MARAC page and MARAC API route × every kind of member of
staff (access_core.USERS) × records in and out of their scope and a missing one, by GET and by POST
(an empty form and, where there is one, a valid one). Each answer must have the status worked out
from the world's specification (access_world.py), an out-of-scope record must answer exactly like
a missing one, no one's name, date of birth, case reference or free text may reach someone outside
its scope (pages, JSON, CSV, XLSX, DOCX, iCalendar), a refused write must change nothing, and
nothing may answer 500. A new MARAC route fails here until the table says what it should answer."""
import logging

import pytest
from django.db import transaction
from django.test import Client, override_settings

from saferhub.marac.tests import access_core, access_world

pytestmark = pytest.mark.django_db
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# It counted 5,138 combinations when written; fewer means routes, users or records went missing.
MINIMUM_COMBINATIONS = 5100


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One world for the module, made through MARAC's services and thrown away at the end."""
    # A fast password hasher, as the root conftest.py gives each test (its fixture is per test).
    with override_settings(PASSWORD_HASHERS=FAST_HASHER), django_db_blocker.unblock():
        with transaction.atomic():
            built = access_world.build_world()
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


def test_every_marac_route_has_an_expectation():
    found = {route.key for route in access_world.routes()}
    assert found == set(access_world.RULES), (
        f"not in the table: {sorted(found - set(access_world.RULES))}; gone: {sorted(set(access_world.RULES) - found)}")
    assert "api/marac/referrals/" in found and "marac:meeting_case" in found


def test_the_expectations_follow_the_specification():
    """Spot checks of who sees what, in words, so a mistake in the table shows here."""
    assert access_world.who("a_contributor").view == {"r_declined", "r_a1", "r_a3"}
    assert access_world.who("a_viewer").view == {"r_declined", "r_a1", "r_a3"} and access_world.who("a_viewer").change == set()
    assert access_world.who("b_contributor").view == {"r_b1", "r_b2", "r_transferred"}
    assert access_world.parties("r_transferred") == {"b", "c1", "e", "c2"}
    assert access_world.who("coordinator_1").view == {"r_declined", "r_a1", "r_b1", "r_a3", "r_transferred", "r_moved"}
    assert access_world.who("coordinator_2").view == {"r_b2", "r_transferred", "r_moved"}
    assert access_world.who("attendee_signed").view == {"r_a1", "r_transferred"}
    assert access_world.who("attendee_unsigned").view == set() and access_world.who("attendee_unsigned").unsigned == {"m1"}
    assert access_world.who("dp_lead").view == set() and access_world.who("dp_lead").held == {"r_declined", "r_a1", "r_a3"}
    assert access_world.who("admin_all").view == set(access_world.ALL_REFERRALS)
    assert access_world.who("admin_all").coordinates == set() and access_world.who("admin_all").data_areas == {"area1", "area2"}
    assert access_world.who("police_analyst").view == set()


def test_the_world_is_as_specified(world):
    """The services made the parties the specification says."""
    from saferhub.people.models import CaseParty

    by_pk = {org.pk: key for key, org in world.organisations.items()}
    for label, referral in world.referrals.items():
        made = {by_pk[o] for o in CaseParty.objects.filter(case=referral.case).values_list("organisation_id", flat=True)}
        assert made == access_world.parties(label), label
        assert referral.status == access_world.referral_status(label), label
    assert world.referrals["r_a3"].repeat_of_id == world.referrals["r_b1"].pk


def _combinations() -> int:
    return len(access_world.matrix().combos()) * len(access_core.USERS)


def test_the_matrix_counts_its_combinations(capsys):
    m = access_world.matrix()
    with capsys.disabled():
        print(f"\nMARAC access matrix: {len(m.routes)} routes × GET and POST (empty, valid and foreign forms) × records "
              f"= {len(m.combos())} per user × {len(access_core.USERS)} users = {_combinations()} combinations")
    assert _combinations() >= MINIMUM_COMBINATIONS


@pytest.mark.parametrize("user_key", list(access_core.USERS))
def test_marac_routes_answer_each_user_by_scope_and_never_leak(world, user_key, quiet):
    client = access_core.sign_in(Client(), world.users, user_key)
    problems = access_world.matrix().walk(client, world, user_key, known=access_world.KNOWN_FAULTS)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:80])


# What the matrix found -------------------------------------------------------------------------

@pytest.mark.parametrize("fault", [
    pytest.param(fault, marks=pytest.mark.xfail(strict=True, reason=reason), id=" ".join(str(part) for part in fault))
    for fault, reason in access_world.KNOWN_FAULTS.items()])
def test_known_faults(world, fault, quiet):
    user_key, method, key, record, form = fault
    client = access_core.sign_in(Client(), world.users, user_key)
    problems = access_world.matrix().one(client, world, user_key, method, key, record, form)
    assert not problems, "\n".join(problems)
