"""MATAC scoring services: audited imports and runs, reproducible runs, scheme versions, one
person's explained score, and who may do what."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from saferhub.audit.models import AuditEvent, ChangeRecord
from saferhub.core.factories import GovernanceBodyFactory
from saferhub.matac import access
from saferhub.matac import scoring_services as services
from saferhub.matac.models import ScoredPerpetrator, perpetrator_digest
from saferhub.matac.scheme import DEFAULT_SCHEME
from saferhub.matac.tests.scoring_fixtures import REF, matac_store, row, write_csv  # noqa: F401
from saferhub.partners.models import PersonalDataScope, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(make_user):
    return make_user(Role.CONTRIBUTOR, username="analyst", personal_data_scope=PersonalDataScope.PARTIES)


@pytest.fixture
def extract(tmp_path):
    rows = [row("I1", 100, perp="NOM-A", victim="VIC-1", category="abh"),
            row("I2", 50, perp="NOM-A", victim="VIC-2", category="gbh"),
            row("I3", 40, perp="NOM-B", victim="VIC-3", category="harassment"),
            row("I4", 30, perp="NOM-B", victim="VIC-4", category="stalking"),
            row("I5", 30, perp="NOM-C", victim="VIC-5"),
            row("I6", 30, perp="NOM-C", victim="VIC-5", category="unknown")]
    return write_csv(tmp_path / "nyp-extract.csv", rows)


def events(record_type):
    return list(AuditEvent.objects.filter(record_type=record_type).order_by("sequence"))


def no_personal_values(event):
    text = repr([event.record_id, event.record_label, event.fields, event.purpose, event.detail])
    return not any(value in text for value in ("NOM-", "VIC-", "1980-01-01"))


def test_import_records_the_extract_and_one_audit_event(analyst, extract, matac_store, tmp_path):
    record = services.extract_import(user=analyst, path=extract, rejects_path=tmp_path / "rejects.csv", today=REF)
    assert (record.rows_read, record.rows_accepted, record.rows_rejected, record.rows_added) == (6, 5, 1, 5)
    assert record.file_name == "nyp-extract.csv" and len(record.sha256) == 64 and record.imported_by == analyst
    assert (tmp_path / "rejects.csv").read_text().splitlines()[1] == "6,I6,offence_category is not a known category"
    [event] = events("matac_extract")
    assert event.action == "create" and event.actor == analyst and no_personal_values(event)


def test_run_keeps_its_list_with_scheme_version_and_input_hash(analyst, extract, matac_store):
    services.extract_import(user=analyst, path=extract, today=REF)
    run = services.scoring_run_create(user=analyst, reference_date=REF, top=1)
    assert run.scheme.label == "default v1" and run.scheme.is_default and run.input_hash == matac_store.content_hash()
    assert (run.eligible_count, run.listed_count) == (2, 1)
    [kept] = run.rows.all()
    assert (kept.rank, kept.perpetrator_id) == (1, "NOM-A")
    assert kept.perpetrator_digest == perpetrator_digest("NOM-A")
    assert ScoredPerpetrator.objects.filter(perpetrator_digest=perpetrator_digest("NOM-A")).count() == 1
    [event] = events("matac_run")
    assert event.action == "create" and no_personal_values(event)


def test_perpetrator_id_is_encrypted_in_the_database(analyst, extract, matac_store):
    from django.db import connection

    services.extract_import(user=analyst, path=extract, today=REF)
    run = services.scoring_run_create(user=analyst, reference_date=REF)
    with connection.cursor() as cursor:
        cursor.execute("SELECT perpetrator_id FROM matac_scoredperpetrator WHERE run_id = %s", [run.pk])
        stored = [value for (value,) in cursor.fetchall()]
    assert stored and all(value.startswith("fernet:") and "NOM" not in value for value in stored)


def test_a_run_is_reproducible(analyst, extract, matac_store, tmp_path):
    services.extract_import(user=analyst, path=extract, today=REF)
    first = services.scoring_run_create(user=analyst, reference_date=REF)
    services.extract_import(user=analyst, path=extract, today=REF)  # the same extract again: no change
    again = services.scoring_run_create(user=analyst, reference_date=first.reference_date, scheme=first.scheme)
    assert again.input_hash == first.input_hash
    assert [r.score_row() for r in again.rows.all()] == [r.score_row() for r in first.rows.all()]
    services.extract_import(user=analyst, path=write_csv(tmp_path / "more.csv", [row("I9", 5, perp="NOM-C", victim="VIC-9")]),
                            today=REF)
    changed = services.scoring_run_create(user=analyst, reference_date=REF, scheme=first.scheme)
    assert changed.input_hash != first.input_hash and changed.eligible_count == 3


def test_scoring_a_file_directly_leaves_the_store_alone(analyst, extract, matac_store):
    run = services.scoring_run_create(user=analyst, reference_date=REF, input_path=extract)
    assert run.source == "file" and run.source_name == "nyp-extract.csv" and run.eligible_count == 2
    assert matac_store.row_count() == 0


def test_scheme_versions_are_new_rows_never_edits(make_user, analyst, extract, matac_store):
    admin = make_user(Role.ADMINISTRATOR, username="matac_admin", personal_data_scope=PersonalDataScope.PARTIES)
    default = services.scheme_default()
    v2 = services.scheme_version_create(user=admin, name="default", parameters=DEFAULT_SCHEME.with_changes(victims_cap=2).to_dict(),
                                        note="Cap victims at 2", make_default=True)
    default.refresh_from_db()
    assert (v2.version, v2.is_default, default.is_default) == (2, True, False)
    assert default.scheme == DEFAULT_SCHEME and v2.scheme.victims_cap == 2
    assert services.scheme_resolve("default:1") == default and services.scheme_resolve("default") == v2
    record = ChangeRecord.objects.get(object_id=str(v2.pk), content_type__model="scoringscheme")
    assert record.actor == admin and record.after["version"] == 2 and record.after["note"] == "Cap victims at 2"
    with pytest.raises(ValidationError):
        services.scheme_version_create(user=admin, name="default", parameters={"window_days": -1})
    with pytest.raises(PermissionDenied):
        services.scheme_version_create(user=analyst, name="default", parameters=DEFAULT_SCHEME.to_dict())
    with pytest.raises(ValidationError, match="no scoring scheme"):
        services.scheme_resolve("harm-index")


def test_perpetrator_score_and_explanation(analyst, extract, matac_store):
    services.extract_import(user=analyst, path=extract, today=REF)
    row_b = services.perpetrator_score(user=analyst, perpetrator_id="NOM-B", reference_date=REF)
    assert (row_b.rank, row_b.gravity_sum) == (2, 11)
    assert services.perpetrator_score(user=analyst, perpetrator_id="NOM-C", reference_date=REF) is None
    explained = services.perpetrator_explain(user=analyst, perpetrator_id="NOM-A", reference_date=REF)
    assert explained.row.score == explained.total == 5 + 2 + 3 + 4
    assert [(i.incident_id, i.weight) for i in explained.incidents] == [("I2", 20), ("I1", 8)]
    assert [b.rule for b in explained.bands[:3]] == ["days ≤ 91 → 5", "incidents ≥ 2 → 2", "gravity sum > 15 → 3"]
    ineligible = services.perpetrator_explain(user=analyst, perpetrator_id="NOM-C", reference_date=REF)
    assert ineligible.row is None and ineligible.ineligible == (
        "1 incident(s) in the window; at least 2 needed", "1 distinct victim(s); at least 2 needed")
    person_events = events("matac_perpetrator")
    assert len(person_events) == 4 and all(no_personal_values(e) for e in person_events)


def test_access_rules(make_user, other_organisation, analyst):
    viewer = make_user(Role.VIEWER, username="police_viewer", personal_data_scope=PersonalDataScope.PARTIES)
    no_scope = make_user(Role.ADMINISTRATOR, username="no_scope")
    provider = make_user(Role.CONTRIBUTOR, org=other_organisation, username="provider",
                         personal_data_scope=PersonalDataScope.PARTIES)
    assert access.may_score(analyst) and access.may_see(viewer) and not access.may_score(viewer)
    assert not access.may_see(no_scope) and not access.may_see(provider)
    GovernanceBodyFactory(slug="matac", name="MATAC", kind="board").members.add(other_organisation)
    assert access.may_see(provider) and access.may_score(provider)
    with pytest.raises(Http404):
        services.perpetrator_score(user=no_scope, perpetrator_id="NOM-A", reference_date=REF)
    with pytest.raises(PermissionDenied):
        services.scoring_run_create(user=viewer, reference_date=REF)
    assert not AuditEvent.objects.filter(record_type__startswith="matac").exists()


def test_a_spark_run_of_the_store_equals_the_duckdb_run(analyst, extract, matac_store, tmp_path):
    more = [row(f"S{n}", 20 + n * 37, perp=f"NOM-{n % 4}", victim=f"VIC-{n % 3}", category=c)
            for n, c in enumerate(["abh", "rape", "non_crime", "stalking", "gbh", "harassment"] * 3)]
    services.extract_import(user=analyst, path=extract, today=REF)
    services.extract_import(user=analyst, path=write_csv(tmp_path / "more.csv", more), today=REF)
    duck = services.scoring_run_create(user=analyst, reference_date=REF)
    spark = services.scoring_run_create(user=analyst, reference_date=REF, engine="spark")
    assert spark.engine == "spark" and spark.input_hash == duck.input_hash and duck.eligible_count >= 4
    assert [r.score_row() for r in spark.rows.all()] == [r.score_row() for r in duck.rows.all()]


def test_the_engine_comes_from_the_setting_when_not_chosen(analyst, matac_store, settings):
    settings.MATAC_ENGINE = "excel"
    with pytest.raises(ValidationError, match="Unknown engine 'excel'"):
        services.scoring_run_create(user=analyst, reference_date=REF)
    settings.MATAC_ENGINE = "duckdb"
    assert services.scoring_run_create(user=analyst, reference_date=REF).engine == "duckdb"


def test_only_administrators_and_data_protection_leads_remove_rows(make_user, analyst, extract, matac_store):
    services.extract_import(user=analyst, path=extract, today=REF)
    with pytest.raises(PermissionDenied):
        services.store_rows_remove(user=analyst, reason="Correction", perpetrator_id="NOM-A")
    lead = make_user(Role.VIEWER, username="dp_lead", personal_data_scope=PersonalDataScope.PARTIES,
                     is_data_protection_lead=True)
    with pytest.raises(ValidationError, match="exactly one"):
        services.store_rows_remove(user=lead, reason="Correction", perpetrator_id="NOM-A", before=REF)
    with pytest.raises(ValidationError, match="why"):
        services.store_rows_remove(user=lead, reason=" ", perpetrator_id="NOM-A")
    assert services.store_rows_remove(user=lead, reason="Correction", perpetrator_id="NOM-A") == 2
