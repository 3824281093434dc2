"""Anchors of the audit trail outside the database: a rewrite of the whole chain (every hash
recomputed from the first event, which the chain alone cannot show) is caught by the anchors; an
altered anchor line is refused by its HMAC; a rotated SECRET_KEY kept as a fallback still opens
old anchors; the scheduler queues an anchor daily."""
import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from saferhub.audit.anchors import anchor_file, anchor_write, anchors_verify
from saferhub.audit.models import AuditChainHead, AuditEvent
from saferhub.audit.tests.test_chain import verify
from saferhub.audit.trail import GENESIS, audit_event, chain_verify, event_hash

pytestmark = pytest.mark.django_db


def events(count, start=1):
    for number in range(start, start + count):
        audit_event(user=None, action="view", record_type="case", record_id=number, record_label=f"MARAC-A-{number}",
                    purpose="Test", detail={"number": number})


def rewrite_whole_chain(label: str) -> None:
    """What someone with write access to the database could do: change an event and recompute
    every hash from the first event, and the head, so the chain itself holds again."""
    previous = GENESIS
    for event in AuditEvent.objects.order_by("sequence"):
        if event.sequence == 2:
            event.record_label = label
        event.previous_hash = previous
        event.hash = event_hash(event, previous)
        AuditEvent.objects.filter(pk=event.pk).update(record_label=event.record_label, previous_hash=event.previous_hash,
                                                      hash=event.hash)
        previous = event.hash
    AuditChainHead.objects.filter(id=1).update(hash=previous)


def test_an_empty_trail_writes_no_anchor(db):
    assert anchor_write() is None and not anchor_file().exists()
    out, error = verify()
    assert error == "" and "No anchors outside the database yet" in out


def test_anchors_hold_while_the_trail_grows(db):
    events(3)
    first = anchor_write()
    events(2, start=4)
    second = anchor_write()
    assert (first.sequence, second.sequence) == (3, 5)
    check = anchors_verify()
    assert check.anchors == 2 and check.problems == [] and check.newest == second
    out, error = verify()
    assert error == "" and "Anchors hold: 2 checked, the newest at event #5" in out
    lines = anchor_file().read_text().splitlines()
    assert [json.loads(line)["sequence"] for line in lines] == [3, 5]


def test_a_whole_chain_rewrite_passes_the_chain_but_not_the_anchor(db):
    events(4)
    anchor_write()
    rewrite_whole_chain("MARAC-A-forged")
    assert chain_verify() == (4, None)
    check = anchors_verify()
    assert len(check.problems) == 1
    assert "event #4 no longer has the hash anchored" in check.problems[0] and "line 1" in check.problems[0]
    out, error = verify()
    assert "Audit chain intact: 4 events" in out and "Anchor broken" in out and "1 anchor(s) no longer match" in error


def test_an_altered_anchor_line_is_refused(db):
    events(2)
    anchor_write()
    rewrite_whole_chain("MARAC-A-forged")
    # The tamperer also rewrites the anchor to the new head, without the server's key.
    line = json.loads(anchor_file().read_text())
    line["hash"] = AuditChainHead.objects.get(id=1).hash
    anchor_file().write_text(json.dumps(line) + "\n" + "not json\n")
    problems = anchors_verify().problems
    assert "its HMAC does not match" in problems[0] and "line 2: not an anchor line" in problems[1]


def test_deleted_events_are_named(db):
    events(3)
    anchor_write()
    AuditEvent.objects.all().delete()
    assert "event #3, anchored at" in anchors_verify().problems[0]


def test_a_rotated_secret_key_kept_as_a_fallback_still_opens_old_anchors(db, settings):
    events(2)
    anchor_write()
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert "HMAC" in anchors_verify().problems[0]
    settings.SECRET_KEY_FALLBACKS = [old]
    assert anchors_verify().problems == []


def test_the_scheduler_queues_the_anchor_daily_and_the_task_writes_it(db, settings):
    from django_tasks import TaskResultStatus

    from saferhub.audit.tasks import anchor_task
    from saferhub.core.management.commands.scheduler import audit_anchor_step

    events(2)
    now = timezone.now().replace(hour=12, minute=0)
    assert audit_anchor_step(now.replace(hour=1), hour=2) is None  # before the hour
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    result = audit_anchor_step(now, hour=2)
    assert result.status == TaskResultStatus.SUCCESSFUL and result.return_value["sequence"] == 2
    assert audit_anchor_step(now + dt.timedelta(hours=1), hour=2, last_queued=now) is None
    assert anchors_verify().anchors == 1
    out = StringIO()
    call_command("audit", "anchor", stdout=out)
    assert "Anchored event #2" in out.getvalue() and anchors_verify().anchors == 2
