"""Importing police extracts: validation and rejects, counts that add up, idempotent reloading,
Parquet and CSV alike, and a store that holds no personal value in the clear."""
import csv
import datetime as dt
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from saferhub.core import encryption
from saferhub.matac.engines import score, to_parquet_files
from saferhub.matac.scheme import DEFAULT_SCHEME
from saferhub.matac.store import ExtractError, import_extract, write_rejects
from saferhub.matac.tests.scoring_fixtures import HEADER, REF, matac_store, row, write_csv  # noqa: F401

TODAY = REF


def good_rows():
    return [row("I1", 100, perp="NOM-1", victim="VIC-1", category="abh"),
            row("I2", 50, perp="NOM-1", victim="VIC-2", category="gbh"),
            row("I2", 50, perp="NOM-1", victim="VIC-3", category="gbh")]


def test_rejects_every_kind_of_bad_row_with_reasons(tmp_path, matac_store):
    header = HEADER + ["crime_flag", "location", "force_code"]
    rows = good_rows() + [
        {**row("", 10), "victim_id": ""},                                 # 4: two missing fields
        {**row("I5", 10), "incident_date": "2025-02-30"},                 # 5: not a date
        {**row("I6", 10), "incident_date": (TODAY + dt.timedelta(days=1)).isoformat()},  # 6: future
        row("I7", 10, dob=(TODAY - dt.timedelta(days=5)).isoformat()),   # 7: dob after the incident
        row("I8", 10, category="burglary"),                               # 8: unknown category
        {**row("I9", 10), "crime_flag": "maybe"},                         # 9: bad flag
        row("I1", 100, perp="NOM-1", victim="VIC-1", category="abh"),    # 10: duplicate of row 1
        {**row("I11", 10), "perpetrator_dob": "31/12/1985", "crime_flag": "non-crime", "offence_category": "Common Assault"},
    ]
    result = import_extract(write_csv(tmp_path / "x.csv", rows, header), store=matac_store, today=TODAY)
    v = result.validation
    assert (v.rows_read, v.rows_accepted, v.rows_rejected) == (11, 4, 7)
    assert v.rows_accepted + v.rows_rejected == v.rows_read
    assert v.ignored_columns == ["force_code"]
    reasons = {number: text for number, _, text in v.rejects}
    assert reasons[4] == "incident_id is missing; victim_id is missing"
    assert reasons[5] == "incident_date is not a date (YYYY-MM-DD or DD/MM/YYYY)"
    assert reasons[6] == "incident_date is in the future"
    assert reasons[7] == "perpetrator_dob is not before incident_date"
    assert reasons[8] == "offence_category is not a known category"
    assert reasons[9] == "crime_flag is not true/false, yes/no, 1/0 or crime/non-crime"
    assert reasons[10] == "duplicate of row 1 (same incident_id, perpetrator_id and victim_id)"
    assert result.addition.new_rows == 4 and matac_store.row_count() == 4

    rejects = write_rejects(v, tmp_path / "rejects.csv")
    lines = list(csv.reader(open(rejects, encoding="utf-8")))
    assert lines[0] == ["row", "incident_id", "reasons"] and len(lines) == 8
    text = rejects.read_text()
    assert "NOM-1" not in text and "1980-01-01" not in text


def test_loading_the_same_extract_twice_changes_nothing(tmp_path, matac_store):
    path = write_csv(tmp_path / "x.csv", good_rows())
    first = import_extract(path, store=matac_store, today=TODAY)
    segments = sorted(p.name for p in matac_store.directory.iterdir())
    second = import_extract(path, store=matac_store, today=TODAY)
    assert (second.addition.new_rows, second.addition.already_present) == (0, 3)
    assert second.validation.rows_accepted == 3 and second.validation.rows_rejected == 0
    assert second.store_hash == first.store_hash
    assert sorted(p.name for p in matac_store.directory.iterdir()) == segments
    assert matac_store.row_count() == 3


def test_a_later_extract_adds_only_its_new_rows(tmp_path, matac_store):
    first = import_extract(write_csv(tmp_path / "a.csv", good_rows()), store=matac_store, today=TODAY)
    later = good_rows() + [row("I3", 5, perp="NOM-1", victim="VIC-4")]
    second = import_extract(write_csv(tmp_path / "b.csv", later), store=matac_store, today=TODAY)
    assert (second.addition.new_rows, second.addition.already_present) == (1, 3)
    assert second.store_hash != first.store_hash and matac_store.row_count() == 4


def test_a_changed_row_is_rejected_not_overwritten(tmp_path, matac_store):
    import_extract(write_csv(tmp_path / "a.csv", good_rows()), store=matac_store, today=TODAY)
    changed = good_rows()
    changed[0]["offence_category"] = "rape"
    result = import_extract(write_csv(tmp_path / "b.csv", changed), store=matac_store, today=TODAY)
    assert result.validation.rows_rejected == 1 and result.validation.rejects[0][0] == 1
    assert "already loaded from an earlier extract with different values" in result.validation.rejects[0][2]
    assert result.addition.new_rows == 0


def test_parquet_extract_with_typed_dates(tmp_path, matac_store):
    rows = good_rows()
    table = pa.table({
        "Incident_ID": [r["incident_id"] for r in rows],
        "incident_date": [dt.date.fromisoformat(r["incident_date"]) for r in rows],
        "perpetrator_id": [r["perpetrator_id"] for r in rows],
        "perpetrator_dob": [dt.date.fromisoformat(r["perpetrator_dob"]) for r in rows],
        "victim_id": [r["victim_id"] for r in rows],
        "offence_category": [r["offence_category"] for r in rows],
        "crime_flag": [True, False, True],
    })
    pq.write_table(table, tmp_path / "x.parquet")
    result = import_extract(tmp_path / "x.parquet", store=matac_store, today=TODAY)
    assert (result.validation.file_format, result.validation.rows_accepted) == ("parquet", 3)
    assert score(scheme=DEFAULT_SCHEME, reference_date=REF, source=matac_store)[0].gravity_sum == 28


def test_a_missing_required_column_refuses_the_file(tmp_path, matac_store):
    path = write_csv(tmp_path / "x.csv", good_rows(), header=HEADER[:-1])
    with pytest.raises(ExtractError, match="x.csv: required column\\(s\\) missing: offence_category"):
        import_extract(path, store=matac_store, today=TODAY)
    assert matac_store.row_count() == 0


def test_a_file_that_is_not_csv_is_refused_naming_it(tmp_path, matac_store):
    path = tmp_path / "junk.csv"
    path.write_bytes(b"incident_id,incident_date\n\"unterminated,2024-01-01\n")
    with pytest.raises(ExtractError, match="junk.csv"):
        import_extract(path, store=matac_store, today=TODAY)


def test_store_holds_no_personal_value_in_the_clear(tmp_path, matac_store):
    import_extract(write_csv(tmp_path / "x.csv", good_rows()), store=matac_store, today=TODAY)
    files = [p for p in matac_store.directory.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sealed" for p in files)
    for path in files:
        content = path.read_bytes()
        for secret in (b"NOM-1", b"VIC-2", b"1980-01-01", b"gbh", "NOM-1".encode("utf-16-le")):
            assert secret not in content, (path.name, secret)
        assert b"PAR1" not in content or path.suffix != ".sealed"
        assert os.stat(path).st_mode & 0o077 == 0 or path.name in (".lock", "manifest.json")
    # And DuckDB reading the store sees the rows again.
    assert score(scheme=DEFAULT_SCHEME, reference_date=REF, source=matac_store)[0].perpetrator_id == "NOM-1"


def test_store_opens_only_with_the_right_key_and_survives_rotation(tmp_path, matac_store, monkeypatch):
    old = encryption.field_keys()
    import_extract(write_csv(tmp_path / "x.csv", good_rows()), store=matac_store, today=TODAY)
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("SAFERHUB_FIELD_KEYS", ",".join([new, *old]))
    encryption.keys_reload()
    assert matac_store.row_count() == 3 and len(matac_store.table()) == 3
    monkeypatch.setenv("SAFERHUB_FIELD_KEYS", new)
    encryption.keys_reload()
    with pytest.raises(ImproperlyConfigured, match="cannot be opened"):
        matac_store.table()
    monkeypatch.setenv("SAFERHUB_FIELD_KEYS", ",".join(old))
    encryption.keys_reload()


def test_a_segment_renamed_or_altered_does_not_open(tmp_path, matac_store):
    import_extract(write_csv(tmp_path / "x.csv", good_rows()), store=matac_store, today=TODAY)
    segment = next(matac_store.directory.glob("*.sealed"))
    data = bytearray(segment.read_bytes())
    data[-1] ^= 1
    segment.write_bytes(bytes(data))
    with pytest.raises(ImproperlyConfigured):
        matac_store.table()


def test_parquet_files_for_spark_hold_the_normalised_rows(tmp_path, matac_store):
    import_extract(write_csv(tmp_path / "x.csv", good_rows()), store=matac_store, today=TODAY)
    files = to_parquet_files(matac_store, tmp_path / "spark")
    table = pq.read_table(files[0])
    assert table.num_rows == 3
    assert [f.name for f in table.schema] == ["incident_id", "incident_date", "perpetrator_id", "perpetrator_dob",
                                              "victim_id", "offence_category", "crime_flag", "location"]
    assert str(table.schema.field("incident_date").type) == "date32[day]"


def test_scoring_a_file_directly_leaves_rejected_rows_out(tmp_path):
    rows = good_rows() + [row("I9", 10, perp="NOM-1", victim="VIC-9", category="burglary")]
    result = score(scheme=DEFAULT_SCHEME, reference_date=REF, source=write_csv(tmp_path / "x.csv", rows))
    assert result[0].incident_count == 2 and result[0].distinct_victims == 3


def test_rows_are_removed_by_person_or_date(tmp_path, matac_store):
    rows = good_rows() + [row("I7", 900, perp="NOM-2", victim="VIC-7"), row("I8", 20, perp="NOM-2", victim="VIC-8")]
    import_extract(write_csv(tmp_path / "a.csv", rows[:3]), store=matac_store, today=TODAY)
    import_extract(write_csv(tmp_path / "b.csv", rows), store=matac_store, today=TODAY)
    before = matac_store.content_hash()
    assert matac_store.remove_rows(perpetrator_id="NOM-9") == 0 and matac_store.content_hash() == before
    assert matac_store.remove_rows(perpetrator_id="NOM-1") == 3
    assert matac_store.row_count() == 2 and len(matac_store.manifest()["segments"]) == 1
    assert matac_store.remove_rows(before=REF - dt.timedelta(days=100)) == 1
    assert matac_store.table().column("incident_id").to_pylist() == ["I8"]
    assert len(list(matac_store.directory.glob("*.sealed"))) == 1
    assert matac_store.remove_rows(victim_id="VIC-8") == 1 and matac_store.row_count() == 0
    assert list(matac_store.directory.glob("*.sealed")) == []
    with pytest.raises(ValueError, match="Say which rows"):
        matac_store.remove_rows()


def test_a_large_extract_is_sealed_in_capped_segments_and_compared_segment_by_segment(tmp_path, matac_store, monkeypatch):
    """With segments of two rows, an import of seven rows writes four segments; a reload compares
    the extract with each of them (a changed row in the last segment is still caught) and adds nothing."""
    from saferhub.matac import store as store_module

    monkeypatch.setattr(store_module, "SEGMENT_MAX_ROWS", 2)
    monkeypatch.setattr(store_module, "SEGMENT_BATCH_ROWS", 3)  # batches that straddle segments
    rows = [row(f"I{n}", 10 + n, perp=f"NOM-{n % 3}", victim=f"VIC-{n}") for n in range(7)]
    first = import_extract(write_csv(tmp_path / "a.csv", rows), store=matac_store, today=TODAY)
    segments = matac_store.manifest()["segments"]
    assert first.addition.new_rows == 7 and [s["rows"] for s in segments] == [2, 2, 2, 1]
    assert sorted(matac_store.table().column("incident_id").to_pylist()) == sorted(r["incident_id"] for r in rows)

    again = import_extract(write_csv(tmp_path / "a.csv", rows), store=matac_store, today=TODAY)
    assert (again.addition.new_rows, again.addition.already_present) == (0, 7)
    assert again.store_hash == first.store_hash

    stored_last = matac_store.table().column("incident_id").to_pylist()[-1]
    changed = [dict(r, offence_category="rape") if r["incident_id"] == stored_last else r for r in rows]
    changed.append(row("I99", 3, perp="NOM-1", victim="VIC-99"))
    result = import_extract(write_csv(tmp_path / "b.csv", changed), store=matac_store, today=TODAY)
    assert [reject[1] for reject in result.validation.rejects] == [stored_last]
    assert (result.addition.new_rows, result.addition.already_present) == (1, 6)
    assert matac_store.row_count() == 8


def test_an_import_that_fails_while_sealing_adds_nothing(tmp_path, matac_store, monkeypatch):
    """A failure after some segments are written leaves the manifest and the folder as they were."""
    from saferhub.matac import store as store_module

    monkeypatch.setattr(store_module, "SEGMENT_MAX_ROWS", 2)
    import_extract(write_csv(tmp_path / "a.csv", good_rows()), store=matac_store, today=TODAY)
    files_before = sorted(p.name for p in matac_store.directory.iterdir())
    hash_before = matac_store.content_hash()
    real_seal = store_module.IncidentStore._seal_segment
    calls = []

    def failing_seal(self, plaintext, rows):
        calls.append(rows)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_seal(self, plaintext, rows)

    monkeypatch.setattr(store_module.IncidentStore, "_seal_segment", failing_seal)
    more = [row(f"J{n}", 5, perp="NOM-7", victim=f"VIC-{n}") for n in range(5)]
    with pytest.raises(OSError, match="disk full"):
        import_extract(write_csv(tmp_path / "b.csv", more), store=matac_store, today=TODAY)
    assert calls == [2, 2]
    assert sorted(p.name for p in matac_store.directory.iterdir()) == files_before
    assert matac_store.content_hash() == hash_before and matac_store.row_count() == 3


def test_segments_are_arrow_ipc_and_parquet_segments_of_older_stores_still_open(tmp_path, matac_store):
    """New segments are Arrow IPC files; a store written before holds Parquet segments, which are
    read beside them, and a removal rewrites such a segment in the new form."""
    import hashlib
    import json

    from saferhub.matac.store import ARROW_SCHEMA, IPC_MAGIC, seal, unseal

    import_extract(write_csv(tmp_path / "a.csv", good_rows()), store=matac_store, today=TODAY)
    [segment] = matac_store.manifest()["segments"]
    opened = unseal((matac_store.directory / segment["name"]).read_bytes(), segment["name"].encode())
    assert opened.startswith(IPC_MAGIC)

    older = pa.table({"incident_id": ["OLD-1", "OLD-2"], "incident_date": [REF - dt.timedelta(days=30)] * 2,
                      "perpetrator_id": ["NOM-9", "NOM-1"], "perpetrator_dob": [dt.date(1980, 1, 1)] * 2,
                      "victim_id": ["VIC-9", "VIC-8"], "offence_category": ["stalking", "abh"],
                      "crime_flag": [True, None], "location": ["Scarborough", None]}, schema=ARROW_SCHEMA)
    sink = pa.BufferOutputStream()
    pq.write_table(older, sink)
    plaintext = sink.getvalue().to_pybytes()
    name = "segment-parquet-from-before.sealed"
    (matac_store.directory / name).write_bytes(seal(plaintext, name.encode()))
    manifest = matac_store.manifest()
    manifest["segments"].append({"name": name, "rows": 2, "sha256": hashlib.sha256(plaintext).hexdigest()})
    matac_store.manifest_path.write_text(json.dumps(manifest))

    table = matac_store.table()
    assert sorted(table.column("incident_id").to_pylist()) == ["I1", "I2", "I2", "OLD-1", "OLD-2"]
    assert table.column("location").to_pylist()[-2:] == ["Scarborough", None]
    assert str(table.schema.field("offence_category").type) == "dictionary<values=string, indices=int32, ordered=0>"
    assert score(scheme=DEFAULT_SCHEME, reference_date=REF, source=matac_store)[0].perpetrator_id == "NOM-1"

    # The same rows again: the Parquet segment is compared too, and nothing is added.
    again = import_extract(write_csv(tmp_path / "a.csv", good_rows()), store=matac_store, today=TODAY)
    assert again.addition.new_rows == 0
    assert matac_store.remove_rows(perpetrator_id="NOM-1") == 4
    [rewritten] = matac_store.manifest()["segments"]
    assert rewritten["name"] != name and rewritten["rows"] == 1
    reopened = unseal((matac_store.directory / rewritten["name"]).read_bytes(), rewritten["name"].encode())
    assert reopened.startswith(IPC_MAGIC)
    assert matac_store.table().to_pylist() == [dict(older.to_pylist()[0])]
