"""The MATAC incident store's retention period: rows dated before it are removed by the daily
retention run (task and command), with an audit event; a dry run only counts; a period shorter
than a scoring window is refused."""
import datetime as dt
from dataclasses import replace
from io import StringIO

import pytest
from django.core.management import call_command

from saferhub.audit.models import AuditEvent
from saferhub.matac.retention import incident_retention_apply
from saferhub.matac.scheme import DEFAULT_SCHEME
from saferhub.matac.models import ScoringScheme
from saferhub.matac.store import import_extract
from saferhub.matac.tests.scoring_fixtures import REF, matac_store, row, write_csv  # noqa: F401

pytestmark = pytest.mark.django_db
KEEP = 2192


def load(tmp_path, store):
    rows = [row("OLD-1", KEEP + 1, victim="V1"), row("OLD-2", KEEP + 400, victim="V2"),
            row("EDGE", KEEP, victim="V3"), row("NEW", 10, victim="V4")]
    import_extract(write_csv(tmp_path / "x.csv", rows), store=store, today=REF)


def ids(store):
    return sorted(store.table().column("incident_id").to_pylist())


def test_rows_older_than_the_period_are_removed_and_audited(tmp_path, matac_store, settings):
    settings.MATAC_INCIDENT_RETENTION_DAYS = KEEP
    load(tmp_path, matac_store)
    dry = incident_retention_apply(today=REF, dry_run=True)
    assert (dry.rows, dry.cutoff) == (2, REF - dt.timedelta(days=KEEP)) and ids(matac_store) == ["EDGE", "NEW", "OLD-1", "OLD-2"]
    assert "2 incident rows dated before" in dry.line() and "would be removed" in dry.line()
    assert not AuditEvent.objects.filter(purpose="MATAC incident retention").exists()

    done = incident_retention_apply(today=REF)
    assert done.rows == 2 and ids(matac_store) == ["EDGE", "NEW"]
    event = AuditEvent.objects.get(purpose="MATAC incident retention")
    assert event.action == "delete" and event.detail["rows_removed"] == 2
    assert event.detail["store_hash"] == matac_store.content_hash()
    assert incident_retention_apply(today=REF).rows == 0
    assert AuditEvent.objects.filter(purpose="MATAC incident retention").count() == 1


def test_a_period_shorter_than_a_scoring_window_is_refused(tmp_path, matac_store):
    load(tmp_path, matac_store)
    refused = incident_retention_apply(today=REF, keep_days=DEFAULT_SCHEME.window_days - 1)
    assert refused.refused and refused.rows == 0 and len(ids(matac_store)) == 4
    assert "nothing removed" in refused.line()
    longer = replace(DEFAULT_SCHEME, window_days=KEEP + 100)
    ScoringScheme.objects.create(name="long-window", version=1, parameters=longer.to_dict(), digest="0" * 64)
    assert "longest scoring window (2,292 days)" in incident_retention_apply(today=REF, keep_days=KEEP).refused
    assert len(ids(matac_store)) == 4


def test_the_daily_task_and_the_command_apply_it(tmp_path, matac_store, settings):
    from django_tasks import TaskResultStatus

    from saferhub.people.tasks import retention_run_task

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.MATAC_INCIDENT_RETENTION_DAYS = KEEP
    load(tmp_path, matac_store)
    out = StringIO()
    call_command("retention", "run", "--dry-run", "--today", REF.isoformat(), stdout=out)
    assert "MATAC incident store: 2 incident rows dated before" in out.getvalue() and len(ids(matac_store)) == 4
    result = retention_run_task.enqueue(REF.isoformat())
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value["matac_incidents"]["rows"] == 2 and ids(matac_store) == ["EDGE", "NEW"]
