"""The trust foundation's core: encryption at rest, blind-index search, need-to-know scope, and
an audit event with every read and write."""
import datetime as dt

import pytest
from django.db import connection
from django.http import Http404

from saferhub.audit.models import AuditEvent
from saferhub.audit.trail import chain_verify
from saferhub.partners.models import PersonalDataScope, Role
from saferhub.people import services
from saferhub.people.models import CaseKind, Person


@pytest.fixture
def caseworker(make_user):
    return make_user(Role.CONTRIBUTOR, username="caseworker", personal_data_scope=PersonalDataScope.PARTIES)


@pytest.fixture
def outsider(make_user, other_organisation):
    return make_user(Role.CONTRIBUTOR, org=other_organisation, username="outsider", personal_data_scope=PersonalDataScope.PARTIES)


@pytest.fixture
def victim(caseworker):
    case = services.case_open(user=caseworker, kind=CaseKind.MARAC, reference="MARAC-T-1", purpose="Referral")
    person = services.person_register(user=caseworker, purpose="Referral", first_name="Ada", last_name="Testperson",
                                      date_of_birth=dt.date(1990, 5, 1), identifiers={"police_nominal": "NOM-123"})
    services.case_participant_add(user=caseworker, case_id=case.pk, person_id=person.pk, role="victim", purpose="Referral")
    return person


def test_personal_fields_are_encrypted_in_the_database(victim):
    with connection.cursor() as cursor:
        cursor.execute("SELECT first_name, last_name, date_of_birth_text FROM people_person WHERE id = %s", [victim.pk])
        row = cursor.fetchone()
    assert all(value.startswith("fernet:") for value in row)
    assert "Ada" not in "".join(row)
    assert Person.objects.get(pk=victim.pk).first_name == "Ada"


def test_search_by_name_and_dob_or_identifier_within_scope(victim, caseworker, outsider):
    assert services.person_search(user=caseworker, first_name=" ADA ", last_name="testperson", date_of_birth=dt.date(1990, 5, 1)) == [victim]
    assert services.person_search(user=caseworker, identifier_kind="police_nominal", identifier="nom 123") == [victim]
    assert services.person_search(user=outsider, first_name="Ada", last_name="Testperson", date_of_birth=dt.date(1990, 5, 1)) == []


def test_out_of_scope_record_is_a_404_like_a_missing_one(victim, outsider, caseworker):
    with pytest.raises(Http404):
        services.person_view(user=outsider, person_id=victim.pk)
    with pytest.raises(Http404):
        services.person_view(user=outsider, person_id=999999)
    assert services.person_view(user=caseworker, person_id=victim.pk) == victim


def test_every_read_and_write_is_audited_without_personal_values(victim, caseworker):
    services.person_view(user=caseworker, person_id=victim.pk, purpose="MARAC research")
    services.person_search(user=caseworker, first_name="Ada", last_name="Testperson", date_of_birth=dt.date(1990, 5, 1))
    actions = list(AuditEvent.objects.values_list("action", "record_type"))
    assert ("create", "person") in actions and ("view", "person") in actions and ("search", "person") in actions
    dump = str(list(AuditEvent.objects.values()))
    assert "Ada" not in dump and "Testperson" not in dump and "NOM-123" not in dump
    checked, problem = chain_verify()
    assert problem is None and checked == AuditEvent.objects.count()


def test_break_glass_opens_a_case_for_a_reason_and_is_flagged(victim, outsider):
    case = victim.participations.get().case
    with pytest.raises(Http404):
        services.case_view(user=outsider, case_id=case.pk)
    services.break_glass_open(user=outsider, case_id=case.pk, reason="Urgent safeguarding call from the victim's school")
    assert services.case_view(user=outsider, case_id=case.pk) == case
    assert AuditEvent.objects.filter(action="break_glass", actor=outsider).exists()


def test_break_glass_lets_a_user_read_but_not_change_the_case(victim, outsider):
    from saferhub.people import access
    from saferhub.people.models import Case

    case = victim.participations.get().case
    services.break_glass_open(user=outsider, case_id=case.pk, reason="Urgent safeguarding call from the victim's school")
    assert Case.objects.restrict(outsider, access.VIEW).filter(pk=case.pk).exists()
    assert not Case.objects.restrict(outsider, access.CHANGE).filter(pk=case.pk).exists()
    with pytest.raises(Http404):
        services.case_close(user=outsider, case_id=case.pk, purpose="Trying to close")
