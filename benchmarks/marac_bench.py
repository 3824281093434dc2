"""Does building a MARAC agenda grow with the history of cases the MARAC has heard? Builds 1,000
synthetic MARAC cases (the last 78 weeks, with referrals waiting for the next meeting and actions
overdue), times building the next meeting's agenda and the quarterly MARAC dataset, then adds
99,000 older cases (ten years of history before them, all heard and finished) and times the same
again, in one run, in a throwaway SQLite database. Run with `make bench-marac`; see
benchmarks/README.md."""
import argparse
import base64
import datetime as dt
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _configure(workdir: Path) -> None:
    """Point the settings at a fresh SQLite file in `workdir` before Django reads them, whatever
    database the environment names: a benchmark must never write to a real one. The field and
    blind-index keys are made for the run and given inline, as a production server is given them."""
    os.environ["SAFERHUB_DATA_DIR"] = str(workdir)
    (workdir / "static").mkdir(exist_ok=True)  # STATIC_ROOT, which WhiteNoise expects to exist
    os.environ["SAFERHUB_DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["SAFERHUB_DEBUG"] = "0"
    os.environ["SAFERHUB_FIELD_KEYS"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    os.environ["SAFERHUB_BLIND_INDEX_KEY"] = secrets.token_hex(32)
    os.environ.pop("SAFERHUB_FIELD_KEYS_FILE", None)
    os.environ.pop("SAFERHUB_BLIND_INDEX_KEY_FILE", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "saferhub.config.settings"
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()


class Row:
    def __init__(self, name, history, times, queries, note=""):
        self.name, self.history, self.times, self.queries, self.note = name, history, times, queries, note

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def _timed(fn, runs: int) -> tuple[list[float], int, object]:
    """Wall times (seconds) of `runs` calls after one warm-up call, the queries of one call, and
    the last result."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fn()
    with CaptureQueriesContext(connection) as captured:
        result = fn()
    queries = len(captured)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return times, queries, result


def _frame():
    """The partnership, the two MARAC areas and the checklist, and a coordinator of both areas."""
    from saferhub.marac.area_services import marac_reference_load
    from saferhub.marac.models import MaracArea
    from saferhub.partners.models import Organisation, PersonalDataScope, Role, User
    from saferhub.partners.services import partnership_import

    partnership_import()
    marac_reference_load()
    police = Organisation.objects.get(slug="north-yorkshire-police")
    coordinator = User.objects.create(username="bench.coordinator", organisation=police, role=Role.CONTRIBUTOR,
                                      personal_data_scope=PersonalDataScope.ALL, email="bench@example.org")
    for slug in ("idas", "north-yorkshire-council", "city-of-york-council", "probation-service",
                 "humber-and-north-yorkshire-icb"):
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is not None:
            User.objects.create(username=f"bench.{slug}", organisation=organisation, role=Role.CONTRIBUTOR,
                                personal_data_scope=PersonalDataScope.PARTIES, email=f"{slug}@example.org")
    areas = list(MaracArea.objects.order_by("pk"))
    for area in areas:
        area.coordinators.add(coordinator)
    return coordinator, areas


def _measure(coordinator, area, quarter, older_quarter, runs: int, rows: list, history: int) -> None:
    from saferhub.marac.agenda import agenda_build
    from saferhub.marac.dataset import cases_heard, marac_dataset
    from saferhub.marac.models import AgendaItem, MaracMeeting, MeetingStatus

    meeting = MaracMeeting.objects.filter(area=area, status=MeetingStatus.PLANNED).order_by("starts_at").first()
    times, queries, items = _timed(lambda: agenda_build(user=coordinator, meeting=meeting), runs)
    actions = AgendaItem.objects.filter(meeting=meeting, action__isnull=False).count()
    cases = AgendaItem.objects.filter(meeting=meeting, referral__isnull=False).count()
    rows.append(Row(f"Agenda of the next {area.name} meeting", history, times, queries,
                    f"{len(items)} items: {cases} cases, {actions} incomplete actions"))
    times, queries, dataset = _timed(lambda: marac_dataset(user=coordinator, area=area, quarter=quarter), runs)
    rows.append(Row(f"MARAC dataset, {area.name}, {quarter.label}", history, times, queries, f"{dataset.cases:,} cases"))
    if older_quarter is not None and cases_heard(area=area, quarter=older_quarter).exists():
        times, queries, dataset = _timed(lambda: marac_dataset(user=coordinator, area=area, quarter=older_quarter), runs)
        rows.append(Row(f"MARAC dataset, {area.name}, {older_quarter.label}", history, times, queries,
                        f"{dataset.cases:,} cases (a quarter of the older history)"))


def _print(rows: list[Row], notes: list[str]) -> None:
    print()
    print("Saferhub MARAC benchmark (SQLite; agenda_build and marac_dataset called as the pages call them)")
    for note in notes:
        print(f"  {note}")
    print()
    header = f"{'Measurement':<52} {'History':>8} {'Median':>10} {'Min':>10} {'Max':>10} {'Queries':>8}  Notes"
    print(header)
    print("-" * len(header))
    for row in rows:
        median, low, high = (f"{v * 1000:,.1f} ms" for v in (row.median, min(row.times), max(row.times)))
        print(f"{row.name:<52} {row.history:>8,} {median:>10} {low:>10} {high:>10} {row.queries:>8}  {row.note}")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--first", type=int, default=1000, help="cases at the first measurement (1,000)")
    parser.add_argument("--cases", type=int, default=100000, help="cases at the second measurement (100,000)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each; the median is reported (7)")
    parser.add_argument("--years", type=int, default=10, help="years the older history spreads over (10)")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite database and print where it is")
    args = parser.parse_args()
    if not 0 < args.first <= args.cases:
        parser.error("--first must be between 1 and --cases")

    workdir = Path(tempfile.mkdtemp(prefix="saferhub-marac-bench-"))
    try:
        _configure(workdir)
        from django.core.management import call_command
        from django.utils import timezone

        from saferhub.marac.models import MaracReferral
        from saferhub.marac.synthetic import DEFAULT_WEEKS, marac_generate
        from saferhub.performance.periods import FinancialQuarter

        notes = []
        began = time.perf_counter()
        # MARAC has no migrations yet while it is being built: its tables come from the models.
        call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
        coordinator, areas = _frame()
        now = timezone.now()
        result = marac_generate(cases=args.first, seed=2026, weeks=DEFAULT_WEEKS, end=now)
        notes.append(f"Built {result.cases:,} cases over {DEFAULT_WEEKS} weeks ({result.people:,} people, "
                     f"{result.actions:,} actions, {result.meetings:,} meetings) in {time.perf_counter() - began:.1f} s")
        notes += ["  " + line for line in result.lines()]
        area = areas[0]
        quarter = FinancialQuarter.from_date(timezone.localdate()).previous()
        history_end = now - dt.timedelta(weeks=DEFAULT_WEEKS)
        older_quarter = FinancialQuarter.from_date(timezone.localtime(history_end).date()).previous().previous()
        rows: list[Row] = []
        _measure(coordinator, area, quarter, None, args.runs, rows, MaracReferral.objects.count())

        began = time.perf_counter()
        older = marac_generate(cases=args.cases - args.first, seed=2027, weeks=52 * args.years, end=history_end,
                               current=False)
        notes.append(f"Added {older.cases:,} older cases over the {args.years} years before them ({older.people:,} people, "
                     f"{older.actions:,} actions, {older.meetings:,} meetings) in {time.perf_counter() - began:.1f} s, "
                     f"reaching {MaracReferral.objects.count():,} cases")
        _measure(coordinator, area, quarter, older_quarter, args.runs, rows, MaracReferral.objects.count())
        _print(rows, notes)
        small = {row.name: row for row in rows if row.history == args.first}
        for row in rows:
            if row.history != args.first and row.name in small:
                print(f"{row.name}: {row.median / small[row.name].median:.2f}× the time with "
                      f"{row.history // args.first}× the history ({small[row.name].queries} → {row.queries} queries)")
        print()
        if args.keep:
            print(f"Database kept at {workdir / 'bench.sqlite3'}")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
