"""`saferhub matac import|score|schemes`: counts, the ranked list CSV and clear errors."""
import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from saferhub.audit.models import AuditEvent
from saferhub.matac.models import IncidentExtract, ScoringRun
from saferhub.matac.tests.scoring_fixtures import REF, matac_store, row, write_csv  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def extract(tmp_path):
    rows = [row("I1", 100, perp="NOM-A", victim="VIC-1", category="abh"),
            row("I2", 50, perp="NOM-A", victim="VIC-2", category="gbh"),
            row("I3", 40, perp="NOM-B", victim="VIC-3", category="harassment"),
            row("I4", 30, perp="NOM-B", victim="VIC-4", category="stalking"),
            {**row("I5", 30, perp="NOM-B", victim="VIC-5"), "incident_date": "yesterday"}]
    return write_csv(tmp_path / "extract.csv", rows)


def run(*args):
    out = io.StringIO()
    call_command("matac", *args, stdout=out)
    return out.getvalue()


def test_import_prints_counts_and_writes_rejects(extract, tmp_path, matac_store):
    out = run("import", str(extract), "--rejects", str(tmp_path / "rejects.csv"))
    assert "5 rows read, 4 accepted (4 added, 0 already loaded), 1 rejected; accepted + rejected = read." in out
    assert list(csv.reader(open(tmp_path / "rejects.csv")))[1] == ["5", "I5", "incident_date is not a date (YYYY-MM-DD or DD/MM/YYYY)"]
    again = run("import", str(extract), "--rejects", str(tmp_path / "rejects.csv"))
    assert "(0 added, 4 already loaded)" in again and IncidentExtract.objects.count() == 2


def test_score_a_file_directly_writes_the_ranked_list(extract, tmp_path, matac_store):
    output = tmp_path / "ranked.csv"
    out = run("score", "--input", str(extract), "--reference-date", REF.isoformat(), "--top", "1", "--output", str(output))
    assert "1 of 2 eligible perpetrators written" in out and "default v1" in out
    lines = list(csv.reader(open(output)))
    assert lines[0] == ["rank", "perpetrator_id", "R", "F", "G", "V", "score", "incident_count", "distinct_victims",
                        "gravity_sum", "last_incident_date", "age_at_last_incident"]
    assert lines[1] == ["1", "NOM-A", "5", "2", "3", "2", "14", "2", "2", "28", "2025-05-11", "45"]
    assert len(lines) == 2 and (output.stat().st_mode & 0o077) == 0
    assert ScoringRun.objects.get().source == "file" and matac_store.row_count() == 0


def test_score_the_store_and_without_recording(extract, tmp_path, matac_store):
    run("import", str(extract))
    output = tmp_path / "all.csv"
    run("score", "--reference-date", REF.isoformat(), "--output", str(output))
    assert [line[1] for line in csv.reader(open(output))][1:] == ["NOM-A", "NOM-B"]
    out = run("score", "--reference-date", REF.isoformat(), "--output", str(tmp_path / "n.csv"), "--no-record")
    assert "2 perpetrators written" in out and "run not recorded" in out and ScoringRun.objects.count() == 1
    assert AuditEvent.objects.filter(record_type="matac_list", action="export").count() == 1


def test_schemes_list_and_show():
    assert "default v1 (default)" in run("schemes")
    assert '"victims_cap": 5' in run("schemes", "--show", "default:1")
    with pytest.raises(CommandError, match="no scoring scheme 'harm'"):
        run("schemes", "--show", "harm")


def test_clear_errors(tmp_path, matac_store):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("score", "--reference-date", "30/06/2025", "--output", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="missing.csv: the file does not exist"):
        run("score", "--input", str(tmp_path / "missing.csv"), "--reference-date", "2025-06-30", "--output", str(tmp_path / "x.csv"))
    bad = write_csv(tmp_path / "bad.csv", [row("I1", 1)], header=["incident_id", "incident_date"])
    with pytest.raises(CommandError, match="bad.csv: required column"):
        run("import", str(bad))
    with pytest.raises(CommandError, match="No account is called nobody"):
        run("import", str(bad), "--user", "nobody")


def test_verify_reproduces_a_run_until_the_store_changes(extract, tmp_path, matac_store):
    run("import", str(extract))
    run("score", "--reference-date", REF.isoformat(), "--top", "1", "--output", str(tmp_path / "r.csv"))
    number = str(ScoringRun.objects.get().pk)
    assert "reproduced: same input hash, same ranked list" in run("verify", number)
    run("import", str(write_csv(tmp_path / "more.csv", [row("I9", 1, perp="NOM-B", victim="VIC-9", category="rape")])))
    with pytest.raises(CommandError, match="not reproduced: the input has changed since the run; the ranked list differs"):
        run("verify", number)
    file_run = ScoringRun.objects.get(pk=int(run("score", "--input", str(extract), "--reference-date", REF.isoformat(),
                                                 "--output", str(tmp_path / "f.csv")).split(":")[0].split()[1]))
    with pytest.raises(CommandError, match="give that file"):
        run("verify", str(file_run.pk))
    assert "reproduced" in run("verify", str(file_run.pk), "--input", str(extract))


def test_remove_rows_is_audited_and_changes_the_hash(extract, tmp_path, matac_store):
    run("import", str(extract))
    before = matac_store.content_hash()
    assert "2 rows removed" in run("remove", "--perpetrator-id", "NOM-A", "--reason", "Erasure request 17")
    assert matac_store.content_hash() != before and matac_store.row_count() == 2
    [event] = AuditEvent.objects.filter(record_type="matac_store", action="delete")
    assert event.detail["rows_removed"] == 2 and "NOM-A" not in repr(event.detail)
    assert "1 rows removed" in run("remove", "--before", (REF - dt.timedelta(days=35)).isoformat(), "--reason", "Retention")
    assert matac_store.row_count() == 1
    with pytest.raises(CommandError, match="--before must be a date"):
        run("remove", "--before", "soon", "--reason", "x")
