"""The MATAC incident store: validating police extracts in DuckDB SQL and keeping accepted rows
encrypted at rest.

Why not DuckDB's own ENCRYPTION_KEY: duckdb 2.0 ships only a read-only crypto module (mbedTLS);
writing an encrypted database needs the httpfs extension (OpenSSL), which cannot be installed
offline, and its `force_mbedtls_unsafe` escape uses a non-cryptographic random generator for
AES-GCM nonces, so nonces may repeat. Instead the store is a directory of segments (Arrow IPC files,
zstd-compressed; stores written before hold Parquet ones, read alike), each
sealed with AES-256-GCM (cryptography, fresh 96-bit nonce from os.urandom) under a key derived by
HKDF-SHA256 from the Saferhub field-encryption key; a segment is opened only in memory and handed
to DuckDB as an Arrow table. Every key in SAFERHUB_FIELD_KEYS opens segments (newest first seals
them), so a key rotation keeps old segments readable.

An extract adds segments (at most SEGMENT_MAX_ROWS rows each) holding only the rows whose key
(incident_id, perpetrator_id, victim_id) is not in the store yet: loading the same extract twice
adds nothing. An import compares the extract with the store one segment at a time, so the memory
it needs is the extract's plus one segment's, however large the store has grown."""
from __future__ import annotations

import base64
import datetime as dt
import fcntl
import hashlib
import json
import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from saferhub.core.encryption import field_keys
from saferhub.matac.engines import NORMALISED_COLUMNS, source_paths
from saferhub.matac.scheme import CATEGORIES

REQUIRED_COLUMNS = ("incident_id", "incident_date", "perpetrator_id", "perpetrator_dob", "victim_id", "offence_category")
OPTIONAL_COLUMNS = ("crime_flag", "location")
MAX_ID_LENGTH = 64
MAX_LOCATION_LENGTH = 200
MAGIC = b"SHMATAC1"
# Columns with a handful of distinct values, decoded as Arrow dictionaries (DuckDB reads them as
# VARCHAR): each row then holds a 4-byte index, not its own copy of the text.
DICTIONARY_COLUMNS = ("offence_category", "location")
# Rows per Arrow batch when a segment is written, and most rows in one segment: an import holds
# one segment at a time beside the extract.
SEGMENT_BATCH_ROWS = 1 << 17
SEGMENT_MAX_ROWS = 1 << 20
ARROW_SCHEMA = pa.schema([
    pa.field(name, {"VARCHAR": pa.string(), "DATE": pa.date32(), "BOOLEAN": pa.bool_()}[duck])
    for name, duck, _ in NORMALISED_COLUMNS
])
# A segment as stored and opened: the few-valued columns as dictionaries.
SEGMENT_SCHEMA = pa.schema([pa.field(f.name, pa.dictionary(pa.int32(), pa.string())) if f.name in DICTIONARY_COLUMNS
                            else f for f in ARROW_SCHEMA])
IPC_MAGIC = b"ARROW1"
CRIME_FLAG_TRUE = ("true", "yes", "y", "1", "crime")
CRIME_FLAG_FALSE = ("false", "no", "n", "0", "non-crime", "non_crime", "noncrime")


class ExtractError(ValueError):
    """An extract that cannot be read at all (not a row problem): names the file and what is wrong."""


def store_directory() -> Path:
    configured = getattr(settings, "MATAC_STORE_DIR", None) or os.environ.get("SAFERHUB_MATAC_STORE")
    return Path(configured) if configured else Path(settings.DATA_DIR) / "matac" / "store"


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that never spills to disk: a spill file would hold
    decrypted personal data in the clear."""
    return duckdb.connect(config={"temp_directory": ""})


# Validation -------------------------------------------------------------------------------------

@dataclass
class Validation:
    """What validating one extract found. `rejects` rows are (row, incident_id, reasons)."""

    path: Path
    file_format: str
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rejects: list[tuple[int, str, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    with open(path, "rb") as handle:
        if handle.read(4) == b"PAR1":
            return "parquet"
    return "csv"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _load_raw(con, path: Path, fmt: str) -> list[str]:
    """Create temp table `raw` (row_no 1-based, every schema column as text); return the ignored
    columns. A file DuckDB cannot parse at all raises ExtractError."""
    if not path.exists():
        raise ExtractError(f"{path.name}: the file does not exist.")
    try:
        if fmt == "csv":
            con.execute("CREATE OR REPLACE TEMP TABLE raw_in AS SELECT * FROM read_csv(?, all_varchar = true, header = true)",
                        [str(path)])
            columns = [row[0] for row in con.execute("DESCRIBE raw_in").fetchall()]
            types = {c: "VARCHAR" for c in columns}
            row_no = "rowid + 1"
            source = "raw_in"
        else:
            literal = "'" + str(path).replace("'", "''") + "'"
            con.execute(f"CREATE OR REPLACE TEMP VIEW raw_in AS SELECT * FROM read_parquet({literal}, file_row_number = true)")
            described = con.execute("DESCRIBE raw_in").fetchall()
            types = {row[0]: row[1] for row in described if row[0] != "file_row_number"}
            columns = list(types)
            row_no = "file_row_number + 1"
            source = "raw_in"
    except duckdb.Error as exc:
        raise ExtractError(f"{path.name}: cannot be read as {fmt.upper()}: {str(exc).splitlines()[0]}") from exc
    by_name = {c.strip().lower(): c for c in columns}
    missing = [c for c in REQUIRED_COLUMNS if c not in by_name]
    if missing:
        raise ExtractError(f"{path.name}: required column(s) missing: {', '.join(missing)}.")
    selects = [f"{row_no} AS row_no"]
    for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS):
        original = by_name.get(name)
        if original is None:
            selects.append(f"NULL::VARCHAR AS {name}")
        elif types[original].startswith(("DATE", "TIMESTAMP")):
            selects.append(f"strftime({_quote(original)}, '%Y-%m-%d') AS {name}")
        else:
            selects.append(f"CAST({_quote(original)} AS VARCHAR) AS {name}")
    try:
        # A view: a CSV is held once (raw_in, in file order), a Parquet file is read where it lies.
        con.execute(f"CREATE OR REPLACE TEMP VIEW raw AS SELECT {', '.join(selects)} FROM {source}")
    except duckdb.Error as exc:
        raise ExtractError(f"{path.name}: cannot be read as {fmt.upper()}: {str(exc).splitlines()[0]}") from exc
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    return [c for c in columns if c.strip().lower() not in known]


def _sql_list(values) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


# One pass over the extract (a Parquet file is read where it lies, a CSV's text is held once in
# raw_in) makes `parsed`; duplicate keys are then found in `parsed` (DUPLICATES_SQL).
VALIDATE_SQL = f"""
CREATE OR REPLACE TEMP TABLE parsed AS
WITH t AS (
    SELECT row_no,
        nullif(trim(incident_id), '') AS incident_id,
        nullif(trim(incident_date), '') AS incident_date_text,
        nullif(trim(perpetrator_id), '') AS perpetrator_id,
        nullif(trim(perpetrator_dob), '') AS dob_text,
        nullif(trim(victim_id), '') AS victim_id,
        nullif(trim(offence_category), '') AS category_text,
        nullif(lower(trim(crime_flag)), '') AS flag_text,
        nullif(trim(location), '') AS location
    FROM raw
), d AS (
    SELECT *,
        coalesce(try_strptime(incident_date_text, '%Y-%m-%d'), try_strptime(incident_date_text, '%d/%m/%Y'))::DATE AS incident_date,
        coalesce(try_strptime(dob_text, '%Y-%m-%d'), try_strptime(dob_text, '%d/%m/%Y'))::DATE AS perpetrator_dob,
        regexp_replace(lower(category_text), '[ -]+', '_', 'g') AS offence_category,
        CASE WHEN flag_text IN ({_sql_list(CRIME_FLAG_TRUE)}) THEN true
             WHEN flag_text IN ({_sql_list(CRIME_FLAG_FALSE)}) THEN false END AS crime_flag
    FROM t
)
SELECT row_no, incident_id, incident_date, perpetrator_id, perpetrator_dob, victim_id, offence_category, crime_flag, location,
    list_filter([
        CASE WHEN incident_id IS NULL THEN 'incident_id is missing'
             WHEN length(incident_id) > {MAX_ID_LENGTH} THEN 'incident_id is longer than {MAX_ID_LENGTH} characters' END,
        CASE WHEN incident_date_text IS NULL THEN 'incident_date is missing'
             WHEN incident_date IS NULL THEN 'incident_date is not a date (YYYY-MM-DD or DD/MM/YYYY)'
             WHEN incident_date > $today THEN 'incident_date is in the future' END,
        CASE WHEN perpetrator_id IS NULL THEN 'perpetrator_id is missing'
             WHEN length(perpetrator_id) > {MAX_ID_LENGTH} THEN 'perpetrator_id is longer than {MAX_ID_LENGTH} characters' END,
        CASE WHEN dob_text IS NULL THEN 'perpetrator_dob is missing'
             WHEN perpetrator_dob IS NULL THEN 'perpetrator_dob is not a date (YYYY-MM-DD or DD/MM/YYYY)'
             WHEN perpetrator_dob < DATE '1900-01-01' THEN 'perpetrator_dob is before 1900'
             WHEN incident_date IS NOT NULL AND perpetrator_dob >= incident_date THEN 'perpetrator_dob is not before incident_date' END,
        CASE WHEN victim_id IS NULL THEN 'victim_id is missing'
             WHEN length(victim_id) > {MAX_ID_LENGTH} THEN 'victim_id is longer than {MAX_ID_LENGTH} characters' END,
        CASE WHEN category_text IS NULL THEN 'offence_category is missing'
             WHEN offence_category NOT IN ({_sql_list(CATEGORIES)}) THEN 'offence_category is not a known category' END,
        CASE WHEN flag_text IS NOT NULL AND crime_flag IS NULL THEN 'crime_flag is not true/false, yes/no, 1/0 or crime/non-crime' END,
        CASE WHEN length(location) > {MAX_LOCATION_LENGTH} THEN 'location is longer than {MAX_LOCATION_LENGTH} characters' END
    ], lambda x: x IS NOT NULL) AS reasons
FROM d
"""

# The valid rows whose key one store segment (`store_segment`) already holds, and whether their
# values differ. Keys are unique across the store, so a row matches in one segment at most.
MATCH_SQL = """
INSERT INTO in_store
SELECT p.row_no,
    p.incident_date IS DISTINCT FROM s.incident_date OR p.perpetrator_dob IS DISTINCT FROM s.perpetrator_dob
    OR p.offence_category IS DISTINCT FROM s.offence_category OR p.crime_flag IS DISTINCT FROM s.crime_flag
    OR p.location IS DISTINCT FROM s.location
FROM parsed p JOIN store_segment s USING (incident_id, perpetrator_id, victim_id)
WHERE len(p.reasons) = 0
"""

# Rows whose key an earlier row of the same extract has: 8-byte hashes of the keys are grouped
# first (cheap), then the keys themselves compared only among rows whose hash repeats, so a hash
# collision is never taken for a duplicate.
DUPLICATES_SQL = """
WITH keyed AS NOT MATERIALIZED (
    SELECT row_no, incident_id, perpetrator_id, victim_id, hash(incident_id, perpetrator_id, victim_id) AS h FROM parsed
    WHERE incident_id IS NOT NULL AND perpetrator_id IS NOT NULL AND victim_id IS NOT NULL
), repeated AS (
    SELECT row_no, min(row_no) OVER (PARTITION BY incident_id, perpetrator_id, victim_id) AS first_row FROM keyed
    WHERE h IN (SELECT h FROM keyed GROUP BY h HAVING count(*) > 1)
)
UPDATE parsed SET reasons = list_append(reasons,
    'duplicate of row ' || repeated.first_row || ' (same incident_id, perpetrator_id and victim_id)')
FROM repeated WHERE parsed.row_no = repeated.row_no AND repeated.first_row <> repeated.row_no
"""

CONFLICT_REASON = "already loaded from an earlier extract with different values (same incident_id, perpetrator_id and victim_id)"

NORMALISED_SELECT = ", ".join(name for name, _, _ in NORMALISED_COLUMNS)
# What scoring and a person's score page read: crime_flag and location never enter a score.
SCORING_COLUMNS = ("incident_id", "incident_date", "perpetrator_id", "perpetrator_dob", "victim_id", "offence_category")


def validate_extract(con, path: str | os.PathLike, *, today: dt.date | None = None,
                     store: "IncidentStore | None" = None) -> Validation:
    """Validate one extract in DuckDB, leaving view `accepted` (normalised schema) in `con`. With
    a `store`, rows whose key the store holds with different values are rejected too, and view
    `new_rows` holds the accepted rows whose key the store does not hold yet. Accepted + rejected
    always equals rows read."""
    path = Path(path)
    fmt = file_format(path)
    result = Validation(path=path, file_format=fmt)
    result.ignored_columns = _load_raw(con, path, fmt)
    con.execute(VALIDATE_SQL, {"today": today or dt.date.today()})
    con.execute(DUPLICATES_SQL)
    # Every row read has its row in `parsed`; a CSV's text copy is not needed any more.
    con.execute("DROP VIEW raw")
    con.execute(f"DROP {'TABLE' if fmt == 'csv' else 'VIEW'} raw_in")
    if store is not None:
        con.execute("CREATE OR REPLACE TEMP TABLE in_store (row_no BIGINT, differs BOOLEAN)")
        # The join as written: the segment (the right side) is the hash table and the extract is
        # streamed past it. DuckDB's estimate of the filtered extract would otherwise make the
        # whole extract the hash table, with every column, beside it.
        con.execute("SET disabled_optimizers = 'join_order,build_side_probe_side'")
        try:
            for table in store.segments():
                con.register("store_segment", table)
                con.execute(MATCH_SQL)
                con.unregister("store_segment")
                del table
        finally:
            con.execute("RESET disabled_optimizers")
        con.execute(f"""UPDATE parsed SET reasons = list_append(reasons, '{CONFLICT_REASON}')
                        WHERE row_no IN (SELECT row_no FROM in_store WHERE differs)""")
        con.execute(f"""CREATE OR REPLACE TEMP VIEW new_rows AS SELECT {NORMALISED_SELECT} FROM parsed p
                        WHERE len(reasons) = 0 AND NOT EXISTS (SELECT 1 FROM in_store s WHERE s.row_no = p.row_no)""")
    con.execute(f"CREATE OR REPLACE TEMP VIEW accepted AS SELECT {NORMALISED_SELECT} FROM parsed WHERE len(reasons) = 0")
    result.rows_read = con.execute("SELECT count(*) FROM parsed").fetchall()[0][0]
    result.rows_accepted = con.execute("SELECT count(*) FROM accepted").fetchall()[0][0]
    result.rejects = [(row, incident or "", "; ".join(reasons)) for row, incident, reasons in con.execute(
        "SELECT row_no, incident_id, reasons FROM parsed WHERE len(reasons) > 0 ORDER BY row_no").fetchall()]
    result.rows_rejected = len(result.rejects)
    if result.rows_accepted + result.rows_rejected != result.rows_read:
        raise RuntimeError(f"{path.name}: {result.rows_accepted} accepted + {result.rows_rejected} rejected "
                           f"≠ {result.rows_read} read")
    return result


def write_rejects(validation: Validation, path: str | os.PathLike) -> Path:
    """The rejects file: data row number (1 = first row after the header), incident_id and the
    reasons. It repeats no personal values: find the row in the extract by its number."""
    import csv

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "incident_id", "reasons"])
        writer.writerows(validation.rejects)
    return path


# Sealing segments ------------------------------------------------------------------------------

def _segment_keys() -> list[bytes]:
    keys = field_keys()
    if not keys:
        raise ImproperlyConfigured("No field encryption keys are configured: the MATAC store cannot be sealed.")
    derived = []
    for key in keys:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"saferhub-matac-store", info=b"incident segment v1")
        derived.append(hkdf.derive(base64.urlsafe_b64decode(key.encode())))
    return derived


def seal(plaintext: bytes, associated: bytes) -> bytes:
    nonce = os.urandom(12)
    return MAGIC + nonce + AESGCM(_segment_keys()[0]).encrypt(nonce, plaintext, associated)


def unseal(sealed: bytes, associated: bytes) -> bytes:
    if not sealed.startswith(MAGIC):
        raise ImproperlyConfigured("A MATAC store segment is not in the sealed format.")
    nonce, body = sealed[len(MAGIC):len(MAGIC) + 12], sealed[len(MAGIC) + 12:]
    for key in _segment_keys():
        try:
            return AESGCM(key).decrypt(nonce, body, associated)
        except InvalidTag:
            continue
    raise ImproperlyConfigured("A MATAC store segment cannot be opened with the configured keys (or was altered).")


def _segment_bytes(table: pa.Table) -> bytes:
    """One segment's rows (in ARROW_SCHEMA) as an Arrow IPC file compressed with zstd, the
    few-valued columns dictionary-encoded with one dictionary each. Opening one is a
    decompression, not a decoding: several times quicker than Parquet."""
    table = table.combine_chunks()
    for name in DICTIONARY_COLUMNS:
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, pc.dictionary_encode(table.column(name)))
    sink = pa.BufferOutputStream()
    with ipc.new_file(sink, SEGMENT_SCHEMA, options=ipc.IpcWriteOptions(compression="zstd")) as writer:
        writer.write_table(table.cast(SEGMENT_SCHEMA), max_chunksize=SEGMENT_BATCH_ROWS)
    # AESGCM takes only Python bytes: one copy, and the Arrow buffer goes with the sink.
    return sink.getvalue().to_pybytes()


def _encode_segments(rows: pa.Table | pa.RecordBatchReader):
    """`rows` (a table, or batches read one at a time) as segment files of at most
    SEGMENT_MAX_ROWS rows each: yields (bytes, rows) per file, nothing for no rows."""
    batches = rows.to_batches(max_chunksize=SEGMENT_BATCH_ROWS) if isinstance(rows, pa.Table) else rows
    parts, count = [], 0
    for batch in batches:
        while batch.num_rows:
            part = batch.slice(0, SEGMENT_MAX_ROWS - count)
            batch = batch.slice(part.num_rows)
            # A cast (a copy) only for a batch not already in the schema.
            parts.append(part if part.schema.equals(ARROW_SCHEMA) else part.cast(ARROW_SCHEMA))
            count += part.num_rows
            if count == SEGMENT_MAX_ROWS:
                yield _segment_bytes(pa.Table.from_batches(parts, ARROW_SCHEMA)), count
                parts, count = [], 0
    if count:
        yield _segment_bytes(pa.Table.from_batches(parts, ARROW_SCHEMA)), count


def _decode(plaintext: bytes, wanted: list[str]) -> pa.Table:
    """A segment's `wanted` columns, in the schema `IncidentStore.segments` gives: Arrow IPC, or
    Parquet for segments written before (both are read)."""
    if plaintext.startswith(IPC_MAGIC):
        table = ipc.open_file(pa.BufferReader(plaintext)).read_all().select(wanted)
    else:
        table = pq.read_table(pa.BufferReader(plaintext), columns=wanted,
                              read_dictionary=[c for c in wanted if c in DICTIONARY_COLUMNS])
    schema = _read_schema(wanted)
    # A cast (a copy) only for a segment not already in that schema.
    return table if table.schema.equals(schema) else table.cast(schema)


def _read_schema(wanted: list[str]) -> pa.Schema:
    return pa.schema([SEGMENT_SCHEMA.field(c) for c in wanted])


# The store -------------------------------------------------------------------------------------

@dataclass
class StoreAddition:
    new_rows: int
    already_present: int
    segment: str | None


class IncidentStore:
    """Accepted incident rows, sealed at rest. `register(con)` makes them the relation `incidents`."""

    def __init__(self, directory: str | os.PathLike | None = None):
        self.directory = Path(directory) if directory else store_directory()

    @property
    def manifest_path(self) -> Path:
        return self.directory / "manifest.json"

    def manifest(self) -> dict:
        if not self.manifest_path.exists():
            return {"format": 1, "segments": []}
        return json.loads(self.manifest_path.read_text())

    @contextmanager
    def locked(self):
        """One writer at a time (imports from two processes must not both add the same rows)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.directory / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def row_count(self) -> int:
        return sum(s["rows"] for s in self.manifest()["segments"])

    def content_hash(self) -> str:
        """sha256 over the sorted plaintext digests of the segments: changes exactly when rows are added."""
        digests = sorted(s["sha256"] for s in self.manifest()["segments"])
        return hashlib.sha256("\n".join(digests).encode()).hexdigest()

    def segments(self, columns: tuple[str, ...] | None = None):
        """Each segment's rows (only `columns`, when given) as an Arrow table, decrypted in memory
        only, one segment at a time: its sealed and plaintext bytes are let go as soon as its
        columns are decoded."""
        wanted = [f.name for f in ARROW_SCHEMA] if columns is None else list(columns)
        for segment in self.manifest()["segments"]:
            sealed = (self.directory / segment["name"]).read_bytes()
            plaintext = unseal(sealed, segment["name"].encode())
            del sealed
            yield _decode(plaintext, wanted)
            del plaintext

    def table(self, columns: tuple[str, ...] | None = None) -> pa.Table:
        """Every row (only `columns`, when given), decrypted in memory only; at most one segment's
        bytes sit next to the table."""
        tables = list(self.segments(columns))
        if not tables:
            return _read_schema([f.name for f in ARROW_SCHEMA] if columns is None else list(columns)).empty_table()
        # Zero-copy: the result keeps each segment's columns as its own chunks.
        return tables[0] if len(tables) == 1 else pa.concat_tables(tables)

    def register(self, con, name: str = "incidents", *, columns: tuple[str, ...] | None = None) -> None:
        """Make the rows the relation `name` in `con`. DuckDB scans the Arrow table where it
        lies (no copy); `columns` limits what is decrypted and decoded to what a query reads."""
        con.register(name, self.table(columns))

    def add_new_rows(self, con) -> StoreAddition:
        """Append the rows of view `new_rows` (validate_extract with this store), sealed in
        segments of at most SEGMENT_MAX_ROWS rows. Call inside `locked()`. The manifest names the
        new segments only once all are written: an import adds all its rows or none."""
        accepted = con.execute("SELECT count(*) FROM accepted").fetchall()[0][0]
        # Streamed in batches into each segment's Parquet bytes: the new rows are never all held
        # as Arrow at once.
        reader = con.sql("SELECT * FROM new_rows").to_arrow_reader(SEGMENT_BATCH_ROWS)
        written, new = [], 0
        try:
            for plaintext, rows in _encode_segments(reader):
                written.append(self._seal_segment(plaintext, rows))
                new += rows
                del plaintext
            if written:
                manifest = self.manifest()
                manifest["segments"].extend(written)
                self._write_manifest(manifest)
        except BaseException:
            for segment in written:
                (self.directory / segment["name"]).unlink(missing_ok=True)
            raise
        return StoreAddition(new_rows=new, already_present=accepted - new,
                             segment=", ".join(s["name"] for s in written) or None)


    def count_rows(self, *, before: dt.date) -> int:
        """How many rows are dated before a day (only that column is opened)."""
        return sum(pc.sum(pc.less(table.column("incident_date"), pa.scalar(before, pa.date32()))).as_py() or 0
                   for table in self.segments(("incident_date",)))

    def remove_rows(self, *, perpetrator_id: str | None = None, victim_id: str | None = None,
                    before: dt.date | None = None) -> int:
        """Remove every row of one perpetrator or victim, or every row dated before a day (a
        correction, an erasure, a retention schedule). Segments holding such rows are rewritten
        under new names, or dropped when nothing is left; returns the rows removed."""
        conditions, params = [], {}
        if perpetrator_id is not None:
            conditions.append("perpetrator_id = $perpetrator_id")
            params["perpetrator_id"] = perpetrator_id
        if victim_id is not None:
            conditions.append("victim_id = $victim_id")
            params["victim_id"] = victim_id
        if before is not None:
            conditions.append("incident_date < $before")
            params["before"] = before
        if not conditions:
            raise ValueError("Say which rows to remove: a perpetrator, a victim or a date.")
        removed = 0
        if not self.manifest()["segments"]:
            return 0
        with self.locked():
            manifest = self.manifest()
            kept_segments, dropped = [], []
            for segment in manifest["segments"]:
                path = self.directory / segment["name"]
                table = _decode(unseal(path.read_bytes(), segment["name"].encode()), ARROW_SCHEMA.names)
                con = connect()
                try:
                    con.register("segment", table)
                    matching = con.execute(f"SELECT count(*) FROM segment WHERE {' OR '.join(conditions)}",
                                           params).fetchall()[0][0]
                    if not matching:
                        kept_segments.append(segment)
                        continue
                    remaining = con.sql(f"SELECT * FROM segment WHERE NOT ({' OR '.join(conditions)})",
                                        params=params).to_arrow_table()
                finally:
                    con.close()
                removed += matching
                dropped.append(path)
                kept_segments.extend(self._seal_segment(plaintext, rows) for plaintext, rows in _encode_segments(remaining))
            if removed:
                manifest["segments"] = kept_segments
                self._write_manifest(manifest)
                for path in dropped:
                    path.unlink(missing_ok=True)
        return removed

    def _seal_segment(self, plaintext: bytes, rows: int) -> dict:
        name = f"segment-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.sealed"
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(seal(plaintext, name.encode()))
        os.chmod(temporary, 0o600)
        os.replace(temporary, self.directory / name)
        return {"name": name, "rows": rows, "sha256": hashlib.sha256(plaintext).hexdigest(),
                "added": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}

    def _write_manifest(self, manifest: dict) -> None:
        written = self.directory / ".manifest.json.tmp"
        written.write_text(json.dumps(manifest, indent=1))
        os.replace(written, self.manifest_path)


@dataclass
class ImportResult:
    validation: Validation
    addition: StoreAddition
    store_hash: str


def import_extract(path: str | os.PathLike, *, store: IncidentStore | None = None,
                   today: dt.date | None = None) -> ImportResult:
    """Validate an extract and add its new accepted rows to the store (no Django, no audit: the
    service `extract_import` wraps this)."""
    store = store or IncidentStore()
    con = connect()
    try:
        with store.locked():
            validation = validate_extract(con, path, today=today, store=store)
            addition = store.add_new_rows(con)
            return ImportResult(validation=validation, addition=addition, store_hash=store.content_hash())
    finally:
        con.close()


def register_source(con, source, name: str = "incidents", *, today: dt.date | None = None,
                    columns: tuple[str, ...] | None = None) -> None:
    """Make a DuckDB scoring source (store or extract paths) the relation `name` in `con`. With
    `columns`, a store opens only those columns (extract files are read as views, which DuckDB
    already prunes to the columns a query uses)."""
    if isinstance(source, IncidentStore):
        source.register(con, name, columns=columns)
        return
    paths = source_paths(source)
    if len(paths) == 1:
        validate_extract(con, paths[0], today=today)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM accepted")
        return
    parts = []
    for index, path in enumerate(paths):
        validate_extract(con, path, today=today)
        con.execute(f"CREATE OR REPLACE TEMP TABLE accepted_{index} AS SELECT * FROM accepted")
        parts.append(f"SELECT * FROM accepted_{index}")
    if not parts:
        raise ExtractError("No extract files were given.")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {' UNION ALL '.join(parts)}")


def source_hash(source) -> str:
    """The input hash recorded with a run: the store's content hash, or sha256 over the files."""
    if isinstance(source, IncidentStore):
        return source.content_hash()
    digest = hashlib.sha256()
    for path in source_paths(source):
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def normalised_parquet(source, directory: Path) -> list[str]:
    """Validated rows of `source` as one Parquet file in `directory` (see engines.to_parquet_files)."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = directory / f"incidents-{uuid.uuid4().hex[:12]}.parquet"
    con = connect()
    try:
        register_source(con, source)
        table = con.sql(f"SELECT {NORMALISED_SELECT} FROM incidents").to_arrow_table()
        pq.write_table(table.cast(ARROW_SCHEMA), target)
    finally:
        con.close()
    os.chmod(target, 0o600)
    return [str(target)]
