"""The audit trail's hash chain: tampering through raw SQL (edit, delete, reorder, forged insert,
newest events removed) is detected and the first bad event named, by `saferhub audit verify`."""
import csv
import hashlib
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from saferhub.audit.models import AuditChainHead, AuditEvent
from saferhub.audit.trail import audit_event, chain_verify, event_hash

TABLE = AuditEvent._meta.db_table


def sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement.replace("{table}", connection.ops.quote_name(TABLE)), params)


@pytest.fixture
def chain(administrator):
    """Ten events, some by a member of staff, some by the system."""
    events = []
    for number in range(1, 11):
        events.append(audit_event(user=administrator if number % 2 else None, action="view", record_type="case",
                                  record_id=number, record_label=f"MARAC-T-{number}", purpose="Test",
                                  detail={"number": number}))
    return events


def verify() -> tuple[str, str]:
    """Run `saferhub audit verify`; return what it printed and its error ("" when it passed)."""
    from io import StringIO

    out = StringIO()
    try:
        call_command("audit", "verify", stdout=out)
    except CommandError as error:
        assert error.returncode == 1
        return out.getvalue(), str(error)
    return out.getvalue(), ""


def test_an_untouched_chain_verifies(chain):
    out, error = verify()
    assert error == ""
    assert out.splitlines()[0] == "Audit chain intact: 10 events"


def test_an_empty_trail_verifies(db):
    assert chain_verify() == (0, None)
    assert verify()[0].splitlines()[0] == "Audit chain intact: 0 events"


def test_editing_a_field_names_the_edited_event(chain):
    sql("UPDATE {table} SET purpose = %s WHERE sequence = 4", ["Something else"])
    out, error = verify()
    assert f"event #4 (id {chain[3].pk}): edited" in error
    assert "3 events verified" in out
    checked, problem = chain_verify()
    assert (checked, problem.kind, problem.sequence) == (3, "edited", 4)


def test_editing_the_detail_json_is_detected(chain):
    sql("UPDATE {table} SET detail = %s WHERE sequence = 7", [json.dumps({"number": 70})])
    checked, problem = chain_verify()
    assert (problem.sequence, problem.event_id, problem.kind) == (7, chain[6].pk, "edited")


def test_an_edit_rehashed_by_the_tamperer_is_still_caught_at_the_next_event(chain):
    event = AuditEvent.objects.get(sequence=5)
    event.purpose = "Rewritten"
    forged_hash = event_hash(event, event.previous_hash)
    sql("UPDATE {table} SET purpose = %s, hash = %s WHERE sequence = 5", ["Rewritten", forged_hash])
    checked, problem = chain_verify()
    assert checked == 5 and problem.sequence == 6 and problem.kind == "inserted"
    assert "re-hashed" in problem.message


def test_deleting_an_event_in_the_middle_names_the_gap(chain):
    sql("DELETE FROM {table} WHERE sequence = 6")
    out, error = verify()
    assert f"event #7 (id {chain[6].pk}): deleted: event #6 before it is missing" in error
    assert chain_verify()[0] == 5


def test_deleting_the_newest_event_is_detected(chain):
    sql("DELETE FROM {table} WHERE sequence = 10")
    out, error = verify()
    assert "event #10: newest events missing" in error
    checked, problem = chain_verify()
    assert (checked, problem.kind, problem.event_id) == (9, "newest missing", None)


def test_deleting_the_newest_events_and_the_head_is_detected(chain):
    sql("DELETE FROM {table} WHERE sequence >= 9")
    AuditChainHead.objects.all().delete()
    checked, problem = chain_verify()
    assert problem is not None and problem.kind == "head missing" and problem.sequence == 1


def test_swapping_two_events_names_the_first_moved_one(chain):
    sql("UPDATE {table} SET sequence = -1 WHERE sequence = 3")
    sql("UPDATE {table} SET sequence = 3 WHERE sequence = 8")
    sql("UPDATE {table} SET sequence = 8 WHERE sequence = -1")
    out, error = verify()
    assert f"event #3 (id {chain[7].pk}): reordered: it was written as event #8, not #3" in error
    assert chain_verify()[0] == 2


def test_swapping_neighbours_is_detected(chain):
    sql("UPDATE {table} SET sequence = -1 WHERE sequence = 1")
    sql("UPDATE {table} SET sequence = 1 WHERE sequence = 2")
    sql("UPDATE {table} SET sequence = 2 WHERE sequence = -1")
    checked, problem = chain_verify()
    assert (checked, problem.sequence, problem.event_id, problem.kind) == (0, 1, chain[1].pk, "reordered")


def _forge(sequence: int, previous_hash: str) -> AuditEvent:
    """An event someone wrote straight into the table, with a hash computed as the trail would."""
    template = AuditEvent.objects.get(sequence=1)
    forged = AuditEvent(sequence=sequence, at=template.at, actor=None, actor_name="system", action="view",
                        record_type="case", record_id="99", record_label="MARAC-FORGED", purpose="Forged",
                        detail={}, previous_hash=previous_hash)
    forged.hash = event_hash(forged, previous_hash)
    columns = ["sequence", "at", "actor_name", "organisation", "role", "action", "record_type", "record_id",
               "record_label", "fields", "purpose", "detail", "request_id", "previous_hash", "hash"]
    values = [forged.sequence, forged.at, "system", "", "", "view", "case", "99", "MARAC-FORGED", "[]", "Forged", "{}",
              "", forged.previous_hash, forged.hash]
    sql(f"INSERT INTO {{table}} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(values))})", values)
    return AuditEvent.objects.get(sequence=sequence)


def test_a_forged_event_with_a_wrong_previous_hash_is_named(chain):
    forged = _forge(11, hashlib.sha256(b"made up").hexdigest())
    out, error = verify()
    assert f"event #11 (id {forged.pk}): inserted" in error
    assert "matches no event" in error
    assert chain_verify()[0] == 10


def test_a_forged_event_chained_correctly_is_caught_by_the_head(chain):
    forged = _forge(11, chain[-1].hash)
    checked, problem = chain_verify()
    assert (checked, problem.sequence, problem.event_id, problem.kind) == (10, 11, forged.pk, "inserted")


def test_a_forged_event_in_place_of_a_deleted_one_is_named(chain):
    sql("DELETE FROM {table} WHERE sequence = 4")
    forged = _forge(4, hashlib.sha256(b"made up").hexdigest())
    checked, problem = chain_verify()
    assert (checked, problem.sequence, problem.event_id, problem.kind) == (3, 4, forged.pk, "inserted")


def test_events_written_after_verification_began_are_not_mistaken_for_forgeries(chain, monkeypatch):
    from saferhub.audit import trail

    real_head = trail._head
    calls = []

    def head_then_append():
        calls.append(1)
        if len(calls) == 1:
            answer = real_head()
            audit_event(user=None, action="view", record_type="case", record_id=11)
            return answer
        return real_head()

    monkeypatch.setattr(trail, "_head", head_then_append)
    assert chain_verify() == (11, None)


def test_export_writes_every_event_in_the_range_and_audits_itself(chain, tmp_path):
    AuditEvent.objects.filter(sequence__lte=3).update(at="2024-01-10T12:00:00Z")
    output = tmp_path / "archive" / "audit.csv"
    from io import StringIO

    out = StringIO()
    call_command("audit", "export", "--from", "2024-01-01", "--to", "2024-01-31", "--output", str(output), stdout=out)
    assert "Exported 3 audit events (#1 to #3)" in out.getvalue()
    rows = list(csv.DictReader(output.open(encoding="utf-8")))
    assert [int(r["sequence"]) for r in rows] == [1, 2, 3]
    assert json.loads(rows[0]["detail"]) == {"number": 1}
    assert rows[0]["hash"] == AuditEvent.objects.get(sequence=1).hash
    export_event = AuditEvent.objects.order_by("-sequence").first()
    assert (export_event.action, export_event.record_type, export_event.detail["events"]) == ("export", "audit", 3)

    call_command("audit", "export", "--output", str(output), stdout=StringIO())
    assert len(list(csv.DictReader(output.open(encoding="utf-8")))) == 11


def test_export_refuses_a_backwards_range(chain, tmp_path):
    with pytest.raises(CommandError, match="--from must not be after --to"):
        call_command("audit", "export", "--from", "2024-02-01", "--to", "2024-01-01", "--output", str(tmp_path / "a.csv"))
