"""`saferhub keys`: rotating the field encryption keys re-encrypts every value under the new key
and keeps every value as it was; a key that opens nothing is refused clearly; blind indexes can
be recomputed under a new index key."""
import datetime as dt
import os
import stat
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection

from saferhub.audit.models import AuditEvent
from saferhub.audit.trail import chain_verify
from saferhub.core import encryption
from saferhub.partners.models import PersonalDataScope, Role
from saferhub.people import services
from saferhub.people.models import CaseKind, Person, PersonIdentifier

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _own_keys(monkeypatch, tmp_path):
    """Every test here starts with key A alone in its own key file, never the development keys."""
    monkeypatch.delenv("SAFERHUB_FIELD_KEYS", raising=False)
    key_file = tmp_path / "field-keys"
    key_file.write_text(KEY_A + "\n")
    monkeypatch.setenv("SAFERHUB_FIELD_KEYS_FILE", str(key_file))
    encryption.keys_reload()
    yield key_file
    encryption.keys_reload()


@pytest.fixture
def key_file(_own_keys):
    return _own_keys


@pytest.fixture
def person(make_user):
    user = make_user(Role.CONTRIBUTOR, username="caseworker", personal_data_scope=PersonalDataScope.PARTIES)
    case = services.case_open(user=user, kind=CaseKind.MARAC, reference="MARAC-K-1", purpose="Referral",
                              summary="Referred after an incident at home")
    person = services.person_register(
        user=user, purpose="Referral", first_name="Zoë", last_name="O’Testcase", date_of_birth=dt.date(1988, 2, 29),
        aliases=[{"first_name": "Zed", "last_name": "Testcase"}],
        addresses=[{"lines": ["1 Example Street"], "postcode": "YO1 0AA", "from": "2020-01-01", "to": ""}],
        identifiers={"nhs_number": "999 000 0001"})
    services.case_participant_add(user=user, case_id=case.pk, person_id=person.pk, role="victim", purpose="Referral")
    return person


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name(column)} FROM {connection.ops.quote_name(table)} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def stored_values(person: Person) -> dict:
    values = {name: raw("people_person", name, person.pk) for name in Person.ENCRYPTED_FIELDS}
    values["identifier"] = raw("people_personidentifier", "value", person.identifiers.values_list("pk", flat=True).get())
    values["summary"] = raw("people_case", "summary", person.participations.values_list("case_id", flat=True).get())
    return {k: v for k, v in values.items() if v}


def plain_values(person: Person) -> dict:
    fresh = Person.objects.get(pk=person.pk)
    return {"person": {name: getattr(fresh, name) for name in Person.ENCRYPTED_FIELDS},
            "identifier": PersonIdentifier.objects.get(person=fresh).value,
            "summary": fresh.participations.get().case.summary}


def opens_with_only(key: str, stored: str) -> bool:
    try:
        Fernet(key.encode()).decrypt(stored[len(encryption.PREFIX):].encode())
    except Exception:
        return False
    return True


def rotate(*args) -> str:
    out = StringIO()
    call_command("keys", "rotate", *args, stdout=out)
    return out.getvalue()


def test_generate_prints_a_usable_key():
    out = StringIO()
    call_command("keys", "generate", stdout=out)
    key = out.getvalue().strip()
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"


def test_rotation_with_a_key_file_round_trip(person, key_file):
    before_stored, before_plain = stored_values(person), plain_values(person)
    assert len(before_stored) == 7 and all(opens_with_only(KEY_A, v) for v in before_stored.values())

    output = rotate()
    keys = [line for line in key_file.read_text().splitlines() if not line.startswith("#")]
    assert len(keys) == 2 and keys[1] == KEY_A, "the new key is first and the old one kept after it"
    new_key = keys[0]
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert "Re-encrypted 7 values in 3 rows" in output and "Old keys kept" in output
    after_stored = stored_values(person)
    assert all(after_stored[k] != before_stored[k] for k in before_stored)
    assert all(opens_with_only(new_key, v) and not opens_with_only(KEY_A, v) for v in after_stored.values())
    assert plain_values(person) == before_plain

    output = rotate("--drop-old")
    keys = [line for line in key_file.read_text().splitlines() if not line.startswith("#")]
    assert len(keys) == 1 and keys[0] not in (KEY_A, new_key)
    assert "Removed 2 old keys" in output
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    encryption.keys_reload()
    assert all(opens_with_only(keys[0], v) for v in stored_values(person).values())
    assert plain_values(person) == before_plain
    assert not list(key_file.parent.glob(".*.new"))


def test_rotation_is_audited_without_key_material(person, key_file):
    rotate("--drop-old")
    events = AuditEvent.objects.filter(record_type="keys").order_by("sequence")
    assert [(e.action, e.purpose) for e in events] == [
        ("update", "Field encryption key rotation"), ("update", "Old field encryption keys removed after rotation")]
    assert "people.Person.first_name" in events[0].fields
    assert events[0].detail["reencrypted"] == 7
    dump = str(list(AuditEvent.objects.values()))
    for key in [KEY_A, *key_file.read_text().splitlines()]:
        assert key.startswith("#") or key not in dump
    assert chain_verify()[1] is None


def test_rotation_with_keys_from_the_environment(person, monkeypatch):
    monkeypatch.delenv("SAFERHUB_FIELD_KEYS_FILE")
    monkeypatch.setenv("SAFERHUB_FIELD_KEYS", KEY_A)
    before_plain = plain_values(person)
    # The operator puts the new key first and keeps the old one after it.
    monkeypatch.setenv("SAFERHUB_FIELD_KEYS", f"{KEY_B},{KEY_A}")
    output = rotate()
    assert "SAFERHUB_FIELD_KEYS" in output and "first key listed" in output
    assert all(opens_with_only(KEY_B, v) for v in stored_values(person).values())
    # ...and then removes the old one.
    monkeypatch.setenv("SAFERHUB_FIELD_KEYS", KEY_B)
    encryption.keys_reload()
    assert plain_values(person) == before_plain
    assert "Re-encrypted 0 values" in rotate(), "a second rotation finds nothing left under the old key"


def test_drop_old_is_refused_for_keys_from_the_environment(person, monkeypatch):
    monkeypatch.setenv("SAFERHUB_FIELD_KEYS", f"{KEY_B},{KEY_A}")
    with pytest.raises(CommandError, match="SAFERHUB_FIELD_KEYS, which Saferhub cannot change"):
        rotate("--drop-old")
    assert all(opens_with_only(KEY_A, v) for v in stored_values(person).values())


def test_a_wrong_key_is_refused_clearly_and_nothing_changes(person, monkeypatch):
    before = stored_values(person)
    monkeypatch.setenv("SAFERHUB_FIELD_KEYS", KEY_B)
    encryption.keys_reload()
    with pytest.raises(CommandError, match=r"cannot be decrypted with any configured key.*Nothing was changed"):
        rotate()
    assert stored_values(person) == before
    assert not AuditEvent.objects.filter(record_type="keys").exists()
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted with the configured keys"):
        Person.objects.get(pk=person.pk)


def test_a_lost_key_in_the_file_leaves_the_data_readable_by_the_keys_it_had(person, key_file):
    before = stored_values(person)
    key_file.write_text(KEY_B + "\n")
    with pytest.raises(CommandError, match="cannot be decrypted with any configured key"):
        rotate()
    assert stored_values(person) == before
    assert key_file.read_text().splitlines()[-1] == KEY_B, "the keys it had are kept after the new one"


def test_an_invalid_key_is_named(person, monkeypatch):
    monkeypatch.setenv("SAFERHUB_FIELD_KEYS", "not-a-key")
    with pytest.raises(CommandError, match="Field key 1 is not a valid Fernet key"):
        rotate()


def test_reindex_recomputes_blind_indexes_under_a_new_index_key(person, make_user, monkeypatch):
    user = make_user(Role.CONTRIBUTOR, username="searcher", personal_data_scope=PersonalDataScope.PARTIES)
    search = dict(first_name="Zoe", last_name="OTestcase", date_of_birth=dt.date(1988, 2, 29))
    assert services.person_search(user=user, **search) == [person]
    monkeypatch.setenv("SAFERHUB_BLIND_INDEX_KEY", "a-new-blind-index-key")
    assert services.person_search(user=user, **search) == []
    out = StringIO()
    call_command("keys", "reindex", stdout=out)
    assert "Recomputed the blind indexes of 1 people" in out.getvalue()
    assert services.person_search(user=user, **search) == [person]
    assert services.person_search(user=user, identifier_kind="nhs_number", identifier="9990000001") == [person]
    assert AuditEvent.objects.filter(record_type="keys", purpose="Blind indexes recomputed").exists()
