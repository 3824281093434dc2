"""Guessed ids (IDOR): every member of staff walks the API's person and case ids one by one, from 1
to five past the highest; only what they may see answers, and every other id answers with exactly
the same body as an id that was never used. Ids typed into forms (the person to add to a case, the
person a disclosure is about, the case a new person is registered for, a break-glass grant to review)
are tried the same way."""
import pytest
from django.db.models import Max
from django.test import Client

from saferhub.people.models import BreakGlassAccess, Case, CaseParticipant, Disclosure, Person
from saferhub.people.tests import matrix

pytestmark = pytest.mark.django_db
NEVER_USED = 10**9


@pytest.fixture
def world():
    return matrix.build_world()


def _labels(objects: dict) -> dict[int, str]:
    return {obj.pk: label for label, obj in objects.items()}


def _guesses(model) -> range:
    return range(1, (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 6)


@pytest.mark.parametrize("user_key", list(matrix.USERS))
def test_walking_the_api_ids_finds_only_what_the_user_may_see(world, user_key):
    client = matrix.sign_in(Client(), world, user_key)
    scope = matrix.scope_of(user_key)
    # Without the second factor nothing answers, whatever the account's scope.
    people, cases = (scope.view_people, scope.view_cases) if scope.verified else (set(), set())
    walks = [
        ("/api/people/persons/{}/", Person, _labels(world.people), people),
        ("/api/people/cases/{}/", Case, _labels(world.cases), cases),
    ]
    answered = 0
    for address, model, labels, visible in walks:
        never = client.get(address.format(NEVER_USED))
        refused = 401 if not scope.signed_in else 403 if not scope.verified else 404
        assert never.status_code == refused, (user_key, address)
        for pk in _guesses(model):
            response = client.get(address.format(pk))
            if labels.get(pk) in visible:
                assert response.status_code == 200, (user_key, address, pk)
                assert response.json()["id"] == pk
                answered += 1
            else:
                assert response.status_code == refused, (user_key, address, pk)
                assert response.content == never.content, (user_key, address, pk)
    assert answered == len(people) + len(cases)


@pytest.mark.parametrize("user_key", ["a_contributor", "b_contributor", "coordinator"])
def test_a_person_id_typed_into_the_add_person_form_adds_only_people_the_user_may_change(world, user_key):
    """The id of the person to add is a hidden field; posting any id to a case the user may change
    adds the person only if the user may change them too, and anyone else answers as missing."""
    client = matrix.sign_in(Client(), world, user_key)
    scope = matrix.scope_of(user_key)
    case = world.cases[sorted(scope.change_cases)[0]]
    labels = _labels(world.people)
    url = f"/people/cases/{case.pk}/people/add/"
    never = client.post(url, {"chosen": str(NEVER_USED), "step": "add", "person": str(NEVER_USED), "role": "other",
                              "purpose": "Guessing"})
    assert never.status_code == 404
    for pk in _guesses(Person):
        before = CaseParticipant.objects.filter(case=case).count()
        response = client.post(url, {"chosen": str(pk), "step": "add", "person": str(pk), "role": "other", "purpose": "Guessing"})
        client.cookies.pop("messages", None)
        after = CaseParticipant.objects.filter(case=case).count()
        if labels.get(pk) in scope.change_people:
            assert response.status_code == 302, (user_key, pk)
        else:
            assert response.status_code == 404, (user_key, pk)
            assert matrix.comparable(response, url) == matrix.comparable(never, url), (user_key, pk)
            assert after == before, (user_key, pk)
        # Asking for the person by address first (?person=) answers the same way.
        shown = client.get(f"{url}?person={pk}")
        assert shown.status_code == (200 if labels.get(pk) in scope.view_people else 404), (user_key, pk)


def test_a_disclosure_cannot_be_about_a_person_outside_the_case(world):
    client = matrix.sign_in(Client(), world, "a_contributor")
    case = world.cases["case_a"]
    in_case = {p.person_id for p in CaseParticipant.objects.filter(case=case)}
    for pk in _guesses(Person):
        before = Disclosure.objects.count()
        response = client.post(f"/people/cases/{case.pk}/disclosures/add/", {
            "to_organisation": str(world.organisations["d"].pk), "person": str(pk), "lawful_basis": "safeguarding",
            "agreement": "", "purpose": "Safety planning"})
        if pk in in_case:
            assert response.status_code == 302
        else:
            assert response.status_code == 200 and "Select a person in this case" in matrix.body_text(response)
            assert Disclosure.objects.count() == before
            # The form names only the case's own people, never the one guessed.
            other = next((label for label, person in world.people.items() if person.pk == pk), None)
            if other:
                assert not any(token in matrix.body_text(response) for token in matrix.PEOPLE[other].tokens())


def test_registering_a_person_for_a_case_out_of_scope_does_not_add_them_to_it(world):
    client = matrix.sign_in(Client(), world, "a_contributor")
    for label in ("case_b", "case_b2"):
        case = world.cases[label]
        response = client.post(f"/people/persons/new/?case={case.pk}", {
            "first_name": "Guessed", "last_name": "Casefor", "date_of_birth-day": "1", "date_of_birth-month": "2",
            "date_of_birth-year": "2001", "lawful_basis": "safeguarding", "purpose": "New referral"})
        assert response.status_code == 302
        onward = client.get(response["Location"])
        never = client.get(f"/people/cases/{NEVER_USED}/people/add/")
        assert onward.status_code == 404 == never.status_code
        assert not CaseParticipant.objects.filter(case=case, person__in=Person.objects.filter(
            pk__gt=max(p.pk for p in world.people.values()))).exists()


@pytest.mark.parametrize("user_key", ["a_dp_lead", "b_dp_lead", "a_contributor"])
def test_walking_break_glass_grant_ids_reaches_only_ones_own_staff(world, user_key):
    client = matrix.sign_in(Client(), world, user_key)
    scope = matrix.scope_of(user_key)
    labels = _labels(world.grants)
    never = client.get(f"/people/break-glass/{NEVER_USED}/review/")
    assert never.status_code == 404
    for pk in _guesses(BreakGlassAccess):
        url = f"/people/break-glass/{pk}/review/"
        response = client.post(url, {"note": "Reviewed by guessing"})
        client.cookies.pop("messages", None)
        grant = BreakGlassAccess.objects.filter(pk=pk).first()
        if labels.get(pk) in scope.grants:
            assert response.status_code == 302 and grant.reviewed_at is not None
        else:
            assert response.status_code == 404, (user_key, pk)
            assert matrix.comparable(response, url) == matrix.comparable(never, f"/people/break-glass/{NEVER_USED}/review/")
            assert grant is None or grant.reviewed_at is None
