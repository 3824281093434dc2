"""MATAC scoring writes and scored reads: scheme versions, extract imports, scoring runs and one
person's score with its explanation. Each checks access (matac.access), and each that touches
personal data writes one audit event in its transaction, naming fields and counts, never an id,
a name or a date of birth."""
from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from saferhub.audit.models import AuditAction
from saferhub.audit.services import change_record, snapshot
from saferhub.audit.trail import audit_event
from saferhub.matac import access
from saferhub.matac.engines import ENGINES, ScoreRow, score, to_parquet_files
from saferhub.matac.engines.duckdb_engine import Facts, IncidentLine, facts_relation, score_relation
from saferhub.matac.models import (
    IncidentExtract, RunSource, ScoredPerpetrator, ScoringRun, ScoringScheme, perpetrator_digest,
)
from saferhub.matac.scheme import DEFAULT_SCHEME, Scheme
from saferhub.matac.store import (
    ExtractError, IncidentStore, SCORING_COLUMNS, connect, import_extract, source_hash, store_directory, write_rejects,
)

DEFAULT_NAME = "default"


def default_engine() -> str:
    """The engine when none is chosen: setting MATAC_ENGINE, else environment SAFERHUB_MATAC_ENGINE, else duckdb."""
    import os

    from django.conf import settings

    return getattr(settings, "MATAC_ENGINE", None) or os.environ.get("SAFERHUB_MATAC_ENGINE") or "duckdb"
EXTRACT_FIELDS = ["incident_id", "incident_date", "perpetrator_id", "perpetrator_dob", "victim_id", "offence_category",
                  "crime_flag", "location"]
SCORE_FIELDS = ["perpetrator_id", "r", "f", "g", "v", "score", "incident_count", "distinct_victims", "gravity_sum",
                "last_incident_date", "age_at_last_incident"]
SCHEME_FIELDS = ["name", "version", "parameters", "digest", "is_default", "note"]


# Schemes ----------------------------------------------------------------------------------------

def scheme_default() -> ScoringScheme:
    """The default scheme version; the first call records DOMAIN.md's default as `default` v1."""
    current = ScoringScheme.objects.filter(is_default=True).order_by("-created_at", "-pk").first()
    if current:
        return current
    try:
        with transaction.atomic():
            scheme, _ = ScoringScheme.objects.get_or_create(
                name=DEFAULT_NAME, version=1,
                defaults={"parameters": DEFAULT_SCHEME.to_dict(), "digest": DEFAULT_SCHEME.digest(), "is_default": True,
                          "note": "The documented default of DOMAIN.md §4"})
    except IntegrityError:
        scheme = ScoringScheme.objects.get(name=DEFAULT_NAME, version=1)
    return scheme


def scheme_resolve(spec: str | None) -> ScoringScheme:
    """`NAME` (its newest version) or `NAME:VERSION`; empty gives the default."""
    if not spec:
        return scheme_default()
    name, _, version = spec.partition(":")
    if name == DEFAULT_NAME:
        scheme_default()
    versions = ScoringScheme.objects.filter(name=name)
    if version:
        if not version.isdigit():
            raise ValidationError(f"Scheme version must be a number: {spec!r}.")
        versions = versions.filter(version=int(version))
    found = versions.order_by("-version").first()
    if found is None:
        raise ValidationError(f"There is no scoring scheme {spec!r}.")
    return found


@transaction.atomic
def scheme_version_create(*, user, name: str, parameters: dict, note: str = "", make_default: bool = False) -> ScoringScheme:
    """A new version of scheme `name` (version 1 if new): schemes are never edited in place."""
    access.require_manage_schemes(user)
    scheme = Scheme.from_dict(parameters)
    if name == DEFAULT_NAME:
        scheme_default()
    latest = ScoringScheme.objects.select_for_update(of=("self",)).filter(name=name).aggregate(v=Max("version"))["v"] or 0
    if make_default:
        ScoringScheme.objects.filter(is_default=True).update(is_default=False)
    record = ScoringScheme.objects.create(name=name, version=latest + 1, parameters=scheme.to_dict(),
                                          digest=scheme.digest(), is_default=make_default, note=note.strip(),
                                          created_by=user)
    change_record(actor=user, instance=record, action="create", after=snapshot(record, SCHEME_FIELDS))
    return record


def _scheme_record(scheme) -> ScoringScheme:
    if scheme is None:
        return scheme_default()
    if isinstance(scheme, ScoringScheme):
        return scheme
    if isinstance(scheme, str):
        return scheme_resolve(scheme)
    raise TypeError("scheme must be a ScoringScheme, a 'NAME[:VERSION]' string or None")


# Imports ----------------------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@transaction.atomic
def extract_import(*, user, path, file_name: str | None = None, rejects_path=None,
                   store: IncidentStore | None = None, today: dt.date | None = None) -> IncidentExtract:
    """Validate a police extract and load its new accepted rows into the encrypted store. Rejects
    go to `rejects_path` (default: beside the store, one file per import). A file that cannot be
    read at all raises ValidationError naming it."""
    access.require_score(user)
    path = Path(path)
    store = store or IncidentStore()
    try:
        result = import_extract(path, store=store, today=today or timezone.localdate())
    except ExtractError as exc:
        raise ValidationError(str(exc)) from exc
    validation = result.validation
    extract = IncidentExtract.objects.create(
        file_name=(file_name or path.name)[:255], sha256=_sha256(path), file_format=validation.file_format,
        rows_read=validation.rows_read, rows_accepted=validation.rows_accepted, rows_rejected=validation.rows_rejected,
        rows_added=result.addition.new_rows, rows_already_loaded=result.addition.already_present,
        ignored_columns=validation.ignored_columns, store_hash=result.store_hash, imported_by=user)
    target = Path(rejects_path) if rejects_path else store.directory.parent / "rejects" / f"extract-{extract.pk}-rejects.csv"
    write_rejects(validation, target)
    extract.rejects_path = str(target)
    extract.save(update_fields=["rejects_path"])
    audit_event(user=user, action=AuditAction.CREATE, record_type="matac_extract", record_id=extract.pk,
                record_label=f"MATAC extract {extract.pk}", fields=EXTRACT_FIELDS, purpose="MATAC incident import",
                detail={"rows_read": validation.rows_read, "rows_accepted": validation.rows_accepted,
                        "rows_rejected": validation.rows_rejected, "rows_added": result.addition.new_rows})
    return extract


@transaction.atomic
def store_rows_remove(*, user, reason: str, perpetrator_id: str | None = None, victim_id: str | None = None,
                      before: dt.date | None = None, store: IncidentStore | None = None) -> int:
    """Remove a person's rows (a correction or an erasure) or every row dated before a day (a
    retention schedule) from the incident store; returns how many. Runs made before keep their
    lists, but will no longer reproduce from the store."""
    access.require_remove_rows(user)
    if not (reason or "").strip():
        raise ValidationError("Say why the rows are being removed.")
    chosen = [name for name, value in (("perpetrator", perpetrator_id), ("victim", victim_id), ("date", before)) if value]
    if len(chosen) != 1:
        raise ValidationError("Give exactly one of a perpetrator id, a victim id or a date.")
    store = store or IncidentStore()
    removed = store.remove_rows(perpetrator_id=(perpetrator_id or "").strip() or None,
                                victim_id=(victim_id or "").strip() or None, before=before)
    audit_event(user=user, action=AuditAction.DELETE, record_type="matac_store", record_label="MATAC incident store",
                fields=EXTRACT_FIELDS, purpose=reason.strip()[:200],
                detail={"rows_removed": removed, "by": chosen[0], "store_hash": store.content_hash()})
    return removed


# Runs -------------------------------------------------------------------------------------------

def score_source(*, scheme: Scheme, reference_date: dt.date, source, engine: str, perpetrator_ids=None, top=None) -> list[ScoreRow]:
    if engine == "spark" and not isinstance(source, list):
        # Spark reads Parquet in the normalised schema; the decrypted copy lives only as long as the run.
        directory = Path(tempfile.mkdtemp(prefix="matac-spark-"))
        try:
            files = to_parquet_files(source, directory)
            return score(scheme=scheme, reference_date=reference_date, source=files, engine="spark",
                         perpetrator_ids=perpetrator_ids, top=top)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    return score(scheme=scheme, reference_date=reference_date, source=source, engine=engine,
                 perpetrator_ids=perpetrator_ids, top=top)


@transaction.atomic
def scoring_run_create(*, user, reference_date: dt.date, scheme=None, engine: str | None = None, top: int | None = None,
                       input_path=None, store: IncidentStore | None = None) -> ScoringRun:
    """Score the store (or, with `input_path`, one extract file directly, leaving the store
    alone) and keep the ranked list with the scheme version, reference date and input hash."""
    access.require_score(user)
    engine = engine or default_engine()
    if engine not in ENGINES:
        raise ValidationError(f"Unknown engine {engine!r}: choose {' or '.join(ENGINES)}.")
    if top is not None and top < 1:
        raise ValidationError("top must be at least 1.")
    record = _scheme_record(scheme)
    source = Path(input_path) if input_path else (store or IncidentStore())
    started = time.perf_counter()
    try:
        rows = score_source(scheme=record.scheme, reference_date=reference_date, source=source, engine=engine)
    except ExtractError as exc:
        raise ValidationError(str(exc)) from exc
    duration = int((time.perf_counter() - started) * 1000)
    listed = rows if top is None else rows[:top]
    run = ScoringRun.objects.create(
        scheme=record, reference_date=reference_date, engine=engine,
        source=RunSource.FILE if input_path else RunSource.STORE,
        source_name=Path(input_path).name[:255] if input_path else "", input_hash=source_hash(source), top=top,
        eligible_count=len(rows), listed_count=len(listed), duration_ms=duration, created_by=user)
    ScoredPerpetrator.objects.bulk_create([
        ScoredPerpetrator(run=run, perpetrator_digest=perpetrator_digest(row.perpetrator_id), **row.as_dict())
        for row in listed])
    audit_event(user=user, action=AuditAction.CREATE, record_type="matac_run", record_id=run.pk,
                record_label=run.reference_label, fields=SCORE_FIELDS, purpose="MATAC scoring run",
                detail={"listed": len(listed), "eligible": len(rows)})
    return run


@transaction.atomic
def ranked_list_compute(*, user, reference_date: dt.date, scheme=None, engine: str | None = None, top: int | None = None,
                        input_path=None, store: IncidentStore | None = None) -> tuple[list[ScoreRow], str]:
    """A ranked list and its input hash without keeping a run (the command line's --no-record):
    audited as an export, since the caller writes it somewhere."""
    access.require_score(user)
    engine = engine or default_engine()
    if engine not in ENGINES:
        raise ValidationError(f"Unknown engine {engine!r}: choose {' or '.join(ENGINES)}.")
    record = _scheme_record(scheme)
    source = Path(input_path) if input_path else (store or IncidentStore())
    try:
        rows = score_source(scheme=record.scheme, reference_date=reference_date, source=source, engine=engine, top=top)
    except ExtractError as exc:
        raise ValidationError(str(exc)) from exc
    audit_event(user=user, action=AuditAction.EXPORT, record_type="matac_list", record_label="MATAC ranked list",
                fields=SCORE_FIELDS, purpose="MATAC ranked list computed without a stored run",
                detail={"rows": len(rows), "scheme": record.label})
    return rows, source_hash(source)


@dataclass(frozen=True)
class Reproduction:
    same_input: bool
    same_list: bool
    input_hash: str

    @property
    def reproduced(self) -> bool:
        return self.same_input and self.same_list


@transaction.atomic
def scoring_run_reproduce(*, user, run: ScoringRun, input_path=None, store: IncidentStore | None = None) -> Reproduction:
    """Score again with the run's scheme version, reference date and engine, and compare the input
    hash and the kept rows with the run's (nothing is stored). A run of a file needs that file."""
    access.require_score(user)
    if run.source == RunSource.FILE and input_path is None:
        raise ValidationError(f"{run.reference_label} scored the file {run.source_name}: give that file to reproduce it.")
    source = Path(input_path) if run.source == RunSource.FILE else (store or IncidentStore())
    input_hash = source_hash(source)
    rows = score_source(scheme=run.scheme.scheme, reference_date=run.reference_date, source=source, engine=run.engine)
    kept = rows if run.top is None else rows[:run.top]
    same_list = kept == [row.score_row() for row in run.rows.order_by("rank")] and len(rows) == run.eligible_count
    audit_event(user=user, action=AuditAction.VIEW, record_type="matac_run", record_id=run.pk,
                record_label=run.reference_label, fields=SCORE_FIELDS, purpose="MATAC run reproduced",
                detail={"same_input": input_hash == run.input_hash, "same_list": same_list})
    return Reproduction(same_input=input_hash == run.input_hash, same_list=same_list, input_hash=input_hash)


def run_rows(*, user, run: ScoringRun, limit: int | None = None) -> list[ScoredPerpetrator]:
    """A run's ranked list (personal: audited as a list)."""
    access.require_see(user)
    rows = list(run.rows.order_by("rank")[:limit] if limit else run.rows.order_by("rank"))
    with transaction.atomic():
        audit_event(user=user, action=AuditAction.LIST, record_type="matac_run", record_id=run.pk,
                    record_label=run.reference_label, fields=SCORE_FIELDS, purpose="MATAC ranked list",
                    detail={"rows": len(rows)})
    return rows


def run_export(*, user, run: ScoringRun) -> list[ScoredPerpetrator]:
    access.require_see(user)
    rows = list(run.rows.order_by("rank"))
    with transaction.atomic():
        audit_event(user=user, action=AuditAction.EXPORT, record_type="matac_run", record_id=run.pk,
                    record_label=run.reference_label, fields=SCORE_FIELDS, purpose="MATAC ranked list download",
                    detail={"rows": len(rows)})
    return rows


# One person's score -----------------------------------------------------------------------------

@dataclass(frozen=True)
class BandLine:
    component: str
    measure: str
    points: int
    rule: str


@dataclass(frozen=True)
class Explanation:
    """One person's score at a reference date and why: the incidents counted and the band each
    figure fell in. `row` is None when they are not eligible (`ineligible` says why)."""

    reference_date: dt.date
    scheme: ScoringScheme
    window_start: dt.date
    row: ScoreRow | None
    incidents: tuple[IncidentLine, ...]
    distinct_victims: int
    gravity_sum: int
    last_incident_date: dt.date | None
    age_at_last_incident: int | None
    bands: tuple[BandLine, ...]
    total: int | None
    ineligible: tuple[str, ...]


def _band_rule(bands, value, comparison: str, otherwise: int, unit: str) -> str:
    test = {"<=": lambda limit: value <= limit, ">=": lambda limit: value >= limit, ">": lambda limit: value > limit}[comparison]
    symbol = {"<=": "≤", ">=": "≥", ">": ">"}[comparison]
    for limit, points in bands:
        if test(limit):
            return f"{unit} {symbol} {limit} → {points}"
    return f"no band applies → {otherwise}"


def _age(dob: dt.date | None, on: dt.date | None) -> int | None:
    if dob is None or on is None:
        return None
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def _explain(scheme_record: ScoringScheme, facts: Facts, reference_date: dt.date, row: ScoreRow | None) -> Explanation:
    scheme = scheme_record.scheme
    count = len(facts.incidents)
    gravity_sum = sum(line.weight for line in facts.incidents)
    age = _age(facts.dob, facts.last_incident_date)
    bands: list[BandLine] = []
    total = None
    if count:
        days = (reference_date - facts.last_incident_date).days
        r, f, g = scheme.recency_points(days), scheme.frequency_points(count), scheme.gravity_points(gravity_sum)
        v = scheme.victim_points(facts.distinct_victims)
        w = scheme.weights
        bands = [
            BandLine("R", f"{days} days since the last incident", r,
                     _band_rule(scheme.recency_bands, days, "<=", scheme.recency_else, "days")),
            BandLine("F", f"{count} incidents in the window", f,
                     _band_rule(scheme.frequency_bands, count, ">=", scheme.frequency_else, "incidents")),
            BandLine("G", f"gravity sum {gravity_sum}", g,
                     _band_rule(scheme.gravity_bands, gravity_sum, ">", scheme.gravity_else, "gravity sum")),
            BandLine("V", f"{facts.distinct_victims} distinct victims", v, f"min(victims, {scheme.victims_cap}) → {v}"),
        ]
        total = scheme.total(r, f, g, v)
        bands.append(BandLine("Score", f"{w['R']}×R + {w['F']}×F + {w['G']}×G + {w['V']}×V", total,
                              f"{w['R']}×{r} + {w['F']}×{f} + {w['G']}×{g} + {w['V']}×{v} = {total}"))
    ineligible = []
    if count < scheme.min_incidents:
        ineligible.append(f"{count} incident(s) in the window; at least {scheme.min_incidents} needed")
    if facts.distinct_victims < scheme.min_victims:
        ineligible.append(f"{facts.distinct_victims} distinct victim(s); at least {scheme.min_victims} needed")
    if age is not None and age < scheme.min_age:
        ineligible.append(f"aged {age} at the last incident; at least {scheme.min_age} needed")
    return Explanation(
        reference_date=reference_date, scheme=scheme_record,
        window_start=reference_date - dt.timedelta(days=scheme.window_days - 1), row=row, incidents=facts.incidents,
        distinct_victims=facts.distinct_victims, gravity_sum=gravity_sum, last_incident_date=facts.last_incident_date,
        age_at_last_incident=age, bands=tuple(bands), total=total, ineligible=tuple(ineligible))


def _person_event(user, perpetrator_id: str, purpose: str) -> None:
    audit_event(user=user, action=AuditAction.VIEW, record_type="matac_perpetrator",
                record_id=perpetrator_digest(perpetrator_id)[:32], record_label="MATAC score",
                fields=SCORE_FIELDS, purpose=purpose)


@transaction.atomic
def perpetrator_score(*, user, perpetrator_id: str, reference_date: dt.date, scheme=None,
                      store: IncidentStore | None = None, engine: str = "duckdb") -> ScoreRow | None:
    """A person's place in the full ranked list at `reference_date` (None: not eligible, or not
    in the store). Partner referrals and the 12-month re-scoring use this."""
    access.require_see(user)
    perpetrator_id = (perpetrator_id or "").strip()
    if not perpetrator_id:
        raise ValidationError("Enter the police nominal id of the person.")
    record = _scheme_record(scheme)
    rows = score_source(scheme=record.scheme, reference_date=reference_date, source=store or IncidentStore(),
                  engine=engine, perpetrator_ids=[perpetrator_id])
    _person_event(user, perpetrator_id, "MATAC score of one person")
    return rows[0] if rows else None


@transaction.atomic
def perpetrator_explain(*, user, perpetrator_id: str, reference_date: dt.date, scheme=None,
                        store: IncidentStore | None = None, for_case_in_scope: bool = False) -> Explanation:
    """Everything behind a person's score: their incidents in the window with date, category and
    weight, and each band with the rule that gave it, eligible or not.

    `for_case_in_scope`: the caller is MATAC casework that has already found the person's case in the
    user's scope for change (a decision, a referral, a 12-month re-score), so the score of that one
    person is theirs to take even if they may not open the scoring pages themselves."""
    if not for_case_in_scope:
        access.require_see(user)
    perpetrator_id = (perpetrator_id or "").strip()
    if not perpetrator_id:
        raise ValidationError("Enter the police nominal id of the person.")
    record = _scheme_record(scheme)
    store = store or IncidentStore()
    con = connect()
    try:
        # One decryption of the store serves both the rank and the incidents behind it.
        store.register(con, columns=SCORING_COLUMNS)
        rows = score_relation(con, scheme=record.scheme, reference_date=reference_date, perpetrator_ids=[perpetrator_id])
        facts = facts_relation(con, scheme=record.scheme, reference_date=reference_date, perpetrator_id=perpetrator_id)
    finally:
        con.close()
    _person_event(user, perpetrator_id, "MATAC score explanation")
    return _explain(record, facts, reference_date, rows[0] if rows else None)


def store_summary() -> dict:
    """Counts that reveal no one: rows in the store and its content hash."""
    store = IncidentStore()
    return {"rows": store.row_count(), "hash": store.content_hash(), "directory": str(store_directory())}
