"""MATAC at national scale: synthetic police extracts of 1 million and 10 million incidents, imported
into Saferhub's encrypted incident store and scored with the default RFGV scheme by Saferhub's
DuckDB engine, next to one hand-written DuckDB query and a straightforward pandas implementation.
Every step runs in its own process, so its peak memory is its own. Run with `make bench-matac`;
see benchmarks/README.md."""
import argparse
import base64
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
END = dt.date(2026, 3, 31)
SEED = 2026
TOP = 100
TARGET_BARE_RATIO = 1.5
TARGET_PANDAS_RATIO = 3.0
TARGET_MEMORY_BYTES = 4 * 1024 ** 3


def _configure(workdir: Path) -> None:
    """Settings pointed at `workdir` before Django reads them: a throwaway SQLite file and data
    folder whatever the environment names, so the benchmark never touches a real database or store."""
    os.environ["SAFERHUB_DATA_DIR"] = str(workdir / "var")
    os.environ["SAFERHUB_DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["SAFERHUB_MATAC_STORE"] = str(workdir / "unused-store")
    os.environ["SAFERHUB_DEBUG"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "saferhub.config.settings"
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()


# ----------------------------------------------------------------------------------------------
# The bare query: what someone fluent in SQL writes for the default scheme, straight over the data
# ----------------------------------------------------------------------------------------------

def bare_sql(relation: str, reference: dt.date) -> str:
    start = reference - dt.timedelta(days=1094)
    return f"""
WITH w AS (
    SELECT perpetrator_id, incident_id, victim_id, incident_date, perpetrator_dob,
        CASE offence_category WHEN 'non_crime' THEN 1 WHEN 'criminal_damage' THEN 2 WHEN 'harassment' THEN 3
            WHEN 'common_assault' THEN 4 WHEN 'breach_of_order' THEN 6 WHEN 'abh' THEN 8 WHEN 'stalking' THEN 8
            WHEN 'coercive_control' THEN 10 WHEN 'threats_to_kill' THEN 12 WHEN 'strangulation' THEN 15
            WHEN 'gbh' THEN 20 WHEN 'sexual_offence' THEN 25 WHEN 'rape' THEN 25 END AS weight
    FROM {relation} WHERE incident_date BETWEEN DATE '{start}' AND DATE '{reference}'
), per_incident AS (
    SELECT perpetrator_id, incident_id, max(weight) AS weight FROM w GROUP BY perpetrator_id, incident_id
), per_perpetrator AS (
    SELECT perpetrator_id, count(*) AS incidents, sum(weight) AS gravity_sum FROM per_incident GROUP BY perpetrator_id
), facts AS (
    SELECT perpetrator_id, count(DISTINCT victim_id) AS victims, max(incident_date) AS last, max(perpetrator_dob) AS dob
    FROM w GROUP BY perpetrator_id
), eligible AS (
    SELECT p.perpetrator_id, incidents, victims, gravity_sum, last,
        year(last) - year(dob) - (month(last) * 100 + day(last) < month(dob) * 100 + day(dob))::INT AS age,
        date_diff('day', last, DATE '{reference}') AS days
    FROM per_perpetrator p JOIN facts f USING (perpetrator_id)
    WHERE incidents >= 2 AND victims >= 2
), pointed AS (
    SELECT *,
        CASE WHEN days <= 91 THEN 5 WHEN days <= 182 THEN 4 WHEN days <= 365 THEN 3 WHEN days <= 730 THEN 2 ELSE 1 END AS r,
        CASE WHEN incidents >= 11 THEN 5 WHEN incidents >= 7 THEN 4 WHEN incidents >= 4 THEN 3 WHEN incidents >= 2 THEN 2 ELSE 1 END AS f,
        CASE WHEN gravity_sum > 60 THEN 5 WHEN gravity_sum > 30 THEN 4 WHEN gravity_sum > 15 THEN 3 WHEN gravity_sum > 5 THEN 2 ELSE 1 END AS g,
        least(victims, 5) AS v
    FROM eligible WHERE age >= 16
)
SELECT row_number() OVER (ORDER BY r + f + g + 2 * v DESC, gravity_sum DESC, last DESC, perpetrator_id) AS rank,
    perpetrator_id, r, f, g, v, r + f + g + 2 * v AS score, incidents, victims, gravity_sum, last, age
FROM pointed ORDER BY rank
"""


# ----------------------------------------------------------------------------------------------
# Steps, each run in a child process (`--step NAME`)
# ----------------------------------------------------------------------------------------------

def _ranked(rows) -> dict:
    """The top of a ranked list as JSON-able tuples (ScoreRow or query rows alike)."""
    top = []
    for row in rows[:TOP]:
        values = list(row.as_dict().values()) if hasattr(row, "as_dict") else list(row)
        top.append([value.isoformat() if isinstance(value, dt.date) else int(value) if not isinstance(value, str) else value
                    for value in values])
    return {"eligible": len(rows), "top": top}


def _timed(runs: int, work) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return times, result


def step(name: str, args) -> dict:
    workdir = Path(args.workdir)
    extract = workdir / f"extract-{args.incidents}.parquet"
    store_dir = workdir / f"store-{args.incidents}"
    reference = END
    if name == "generate":
        sys.path.insert(0, str(REPO / "src"))
        from saferhub.matac.synthetic import ExtractSpec, extract_write

        started = time.perf_counter()
        summary = extract_write(ExtractSpec(incidents=args.incidents, seed=SEED, end_date=END), extract)
        return {"times": [time.perf_counter() - started], "note": (
            f"{summary.rows:,} rows, {summary.perpetrators:,} perpetrators, {extract.stat().st_size / 1e6:,.0f} MB")}
    if name == "pandas":
        sys.path.insert(0, str(REPO / "src"))
        from saferhub.matac.engines.pandas_engine import score_pandas
        from saferhub.matac.scheme import DEFAULT_SCHEME

        times, rows = _timed(args.runs, lambda: score_pandas(scheme=DEFAULT_SCHEME, reference_date=reference, source=[extract]))
        return {"times": times, **_ranked(rows)}
    if name == "bare-parquet":
        import duckdb

        con = duckdb.connect()
        sql = bare_sql(f"read_parquet('{extract}')", reference)
        times, rows = _timed(args.runs, lambda: con.execute(sql).fetchall())
        return {"times": times, **_ranked(rows)}

    _configure(workdir)
    from saferhub.matac.engines import score
    from saferhub.matac.engines.duckdb_engine import score_relation
    from saferhub.matac.scheme import DEFAULT_SCHEME
    from saferhub.matac.store import IncidentStore, connect, import_extract

    store = IncidentStore(store_dir)
    if name == "import":
        started = time.perf_counter()
        result = import_extract(extract, store=store, today=END)
        seconds = time.perf_counter() - started
        validation = result.validation
        again = time.perf_counter()
        reload = import_extract(extract, store=store, today=END)
        reload_seconds = time.perf_counter() - again
        return {"times": [seconds], "note": (
            f"{validation.rows_accepted:,} accepted, {validation.rows_rejected:,} rejected; "
            f"reloading it: {reload.addition.new_rows:,} added in {reload_seconds:,.1f} s")}
    if name == "saferhub":
        def work():
            return score(scheme=DEFAULT_SCHEME, reference_date=reference, source=store)

        # One untimed run first, as a scoring service's long-lived process would have made: the
        # timed runs still open (decrypt) the store and score it each time.
        work()
        times, rows = _timed(args.runs, work)
        return {"times": times, **_ranked(rows)}
    if name == "store-sql":
        # The store opened once (segments decrypted into Arrow, registered as `incidents`), then
        # only the queries timed, turn about, so that other work on the machine weighs on both
        # alike: Saferhub's engine SQL and the bare query read the very same relation.
        con = connect()
        store.register(con)
        sql = bare_sql("incidents", reference)
        work = {
            "saferhub-sql": lambda: score_relation(con, scheme=DEFAULT_SCHEME, reference_date=reference, relation="incidents"),
            "bare-store": lambda: con.execute(sql).fetchall(),
        }
        times, rows = {key: [] for key in work}, {}
        for _ in range(args.runs):
            for key, run in work.items():
                spent, rows[key] = _timed(1, run)
                times[key] += spent
        return {"pair": {key: {"times": times[key], **_ranked(rows[key])} for key in work}}
    raise SystemExit(f"unknown step {name}")


# ----------------------------------------------------------------------------------------------
# The parent: runs each step in a child, reads its peak memory, prints the table and the ratios
# ----------------------------------------------------------------------------------------------

STEPS = [
    ("generate", "Generate the extract (Parquet)"),
    ("import", "Import into the encrypted store (Saferhub)"),
    ("saferhub", "Score: Saferhub, store opened + DuckDB engine"),
    ("saferhub-sql", "Score: Saferhub engine SQL, store already open"),  # these two turn about
    ("bare-store", "Score: bare DuckDB query, store already open"),
    ("bare-parquet", "Score: bare DuckDB query over the Parquet file"),
    ("pandas", "Score: pandas over the Parquet file"),
]


# Steps measured together in one child, turn about (their peak memory is the child's).
PAIRED = {"saferhub-sql": "store-sql", "bare-store": "store-sql"}
# Steps measured one run per child, the children turn about (each step's peak memory is the
# highest of its children's), so that other work on the machine weighs on Saferhub and pandas alike.
TURNS = ("saferhub", "pandas")


def measure_turns(incidents: int, workdir: Path, env: dict, runs: dict[str, int]) -> dict[str, dict]:
    collected = {name: [] for name in TURNS}
    for turn in range(max(runs.values())):
        for name in TURNS:
            if turn < runs[name]:
                collected[name].append(run_child(name, incidents, workdir, 1, env))
    return {name: {**parts[0], "times": [t for part in parts for t in part["times"]],
                   "peak_bytes": max(part["peak_bytes"] for part in parts)}
            for name, parts in collected.items()}


def run_child(name: str, incidents: int, workdir: Path, runs: int, env: dict) -> dict:
    result_path = workdir / f"result-{name}-{incidents}.json"
    command = [sys.executable, __file__, "--step", name, "--incidents", str(incidents), "--workdir", str(workdir),
               "--runs", str(runs), "--result", str(result_path)]
    process = subprocess.Popen(command, env=env, cwd=REPO)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"step {name} at {incidents:,} incidents failed (exit {process.returncode})")
    result = json.loads(result_path.read_text())
    result["peak_bytes"] = usage.ru_maxrss * 1024  # ru_maxrss is in kilobytes on Linux
    return result


def _seconds(value: float) -> str:
    return f"{value * 1000:,.0f} ms" if value < 10 else f"{value:,.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000000,10000000", help="incident counts, comma-separated (1M and 10M)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each DuckDB scoring step; median reported (3)")
    parser.add_argument("--pandas-runs", type=int, default=2, help="timed runs of the pandas step (2)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print where it is")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--incidents", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.step:
        Path(args.result).write_text(json.dumps(step(args.step, args)))
        return

    sizes = [int(size) for size in args.sizes.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="saferhub-matac-bench-"))
    env = dict(os.environ)
    # A throwaway field key for the throwaway store: no real key is read or needed.
    env["SAFERHUB_FIELD_KEYS"] = base64.urlsafe_b64encode(os.urandom(32)).decode()
    env.pop("SAFERHUB_FIELD_KEYS_FILE", None)
    results: dict[tuple[str, int], dict] = {}
    try:
        print(f"MATAC benchmark: {', '.join(f'{s:,}' for s in sizes)} incidents, reference date {END}, "
              f"default scheme; {os.cpu_count()} CPUs; working in {workdir}", flush=True)
        header = f"{'Step':<50} {'Incidents':>11} {'Median':>10} {'Min':>10} {'Peak RSS':>10}  Notes"
        print(header + "\n" + "-" * (len(header) + 30), flush=True)
        for incidents in sizes:
            for name, label in STEPS:
                runs = args.pandas_runs if name == "pandas" else args.runs if name not in ("generate", "import") else 1
                if name in TURNS and (name, incidents) not in results:
                    turns = measure_turns(incidents, workdir, env, {"saferhub": args.runs, "pandas": args.pandas_runs})
                    results.update({(key, incidents): value for key, value in turns.items()})
                elif (name, incidents) not in results:
                    result = run_child(PAIRED.get(name, name), incidents, workdir, runs, env)
                    for key, part in result.pop("pair", {name: {}}).items():
                        results[key, incidents] = {**result, **part}
                result = results[name, incidents]
                times = result["times"]
                note = result.get("note") or f"{result['eligible']:,} eligible"
                print(f"{label:<50} {incidents:>11,} {_seconds(statistics.median(times)):>10} {_seconds(min(times)):>10} "
                      f"{result['peak_bytes'] / 1024 ** 2:>7,.0f} MB  {note}", flush=True)
            (workdir / f"extract-{incidents}.parquet").unlink()
            shutil.rmtree(workdir / f"store-{incidents}", ignore_errors=True)
        if not report(results, sizes):
            raise SystemExit("The implementations disagree on the ranked list.")
    finally:
        if args.keep:
            print(f"Kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def report(results: dict, sizes: list[int]) -> bool:
    """Prints the ratios against the targets; False when the implementations disagree."""
    def median(name: str, incidents: int) -> float:
        return statistics.median(results[name, incidents]["times"])

    def verdict(ok: bool) -> str:
        return "meets the target" if ok else "MISSES the target"

    print()
    agree = True
    for incidents in sizes:
        scored = ["saferhub", "saferhub-sql", "bare-store", "bare-parquet", "pandas"]
        reference = results["saferhub", incidents]
        same = all(results[name, incidents]["top"] == reference["top"]
                   and results[name, incidents]["eligible"] == reference["eligible"] for name in scored)
        agree = agree and same
        print(f"{incidents:,} incidents:")
        print(f"  Top {TOP} and eligible count identical across Saferhub, the bare query and pandas: "
              f"{'yes' if same else 'NO'}")
        engine = median("saferhub-sql", incidents) / median("bare-store", incidents)
        end_to_end = median("saferhub", incidents) / median("bare-parquet", incidents)
        pandas = median("pandas", incidents) / median("saferhub", incidents)
        print(f"  Saferhub engine / bare query, same open store: {engine:.2f}x "
              f"(target at most {TARGET_BARE_RATIO}x: {verdict(engine <= TARGET_BARE_RATIO)})")
        print(f"  Saferhub from its encrypted store / bare query over plain Parquet: {end_to_end:.2f}x")
        print(f"  pandas / Saferhub from its encrypted store: {pandas:.1f}x "
              f"(target at least {TARGET_PANDAS_RATIO}x faster: {verdict(pandas >= TARGET_PANDAS_RATIO)})")
        for name, what in (("saferhub", "scoring"), ("import", "import")):
            peak = results[name, incidents]["peak_bytes"]
            print(f"  Saferhub's peak memory, {what}: {peak / 1024 ** 3:.2f} GB "
                  f"(target under 4 GB: {verdict(peak < TARGET_MEMORY_BYTES)})")
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        factor = large / small
        print(f"Scaling {small:,} → {large:,} incidents ({factor:g}x the data; linear means {factor:g}x the time):")
        for name, label in STEPS:
            print(f"  {label:<50} {median(name, large) / median(name, small):>6.1f}x")
    return agree


if __name__ == "__main__":
    main()
