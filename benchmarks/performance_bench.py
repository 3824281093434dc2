"""How the performance dashboards hold up with ten years of returns: 60 services each reporting 200
data elements (most with breakdowns) every quarter, about ten million figures, in a throwaway SQLite
database. Each page is timed next to the same figures read with hand-written SQL. Run with
`make bench-performance`; see benchmarks/README.md."""
import argparse
import datetime as dt
import itertools
import os
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _configure(workdir: Path) -> None:
    """Point the settings at a fresh SQLite file in `workdir` before Django reads them, whatever
    database the environment names: a benchmark must never write to a real one."""
    os.environ["SAFERHUB_DATA_DIR"] = str(workdir)
    (workdir / "static").mkdir(exist_ok=True)  # STATIC_ROOT, which WhiteNoise expects to exist
    os.environ["SAFERHUB_DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["SAFERHUB_DEBUG"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "saferhub.config.settings"
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()


# ----------------------------------------------------------------------------------------------
# The synthetic framework
# ----------------------------------------------------------------------------------------------

PROVIDERS = [
    ("idas", "IDAS", "provider"), ("foundation", "Foundation", "provider"), ("survive", "Survive", "provider"),
    ("north-yorkshire-council", "North Yorkshire Council", "local_authority"),
    ("city-of-york-council", "City of York Council", "local_authority"),
    ("north-yorkshire-police", "North Yorkshire Police", "police"),
]
SUBJECTS = [
    "Referrals received", "Enquiries received", "Individuals supported", "Cases closed", "Risk assessments completed",
    "Safety plans agreed", "Children supported", "Hours of support given", "Outreach visits", "Group sessions held",
    "Repeat referrals", "Professionals trained", "Calls answered", "Bed nights provided", "Onward referrals",
]
BREAKDOWN_NAMES = ["Referrer agency", "Age band", "Gender", "District", "Ethnic group", "Risk level", "Item provided",
                   "Support need", "Outcome at closure", "Disability", "Contact method", "Housing status",
                   "Sexual orientation", "Relationship to perpetrator", "Service strand", "Month of first contact",
                   "Language", "Employment status", "Caring responsibility", "Source of funding"]
# Breakdowns of 3 to 12 options, twice over: 7.5 options on average.
BREAKDOWN_SIZES = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12] * 2
# Each run of 20 elements: 2 quarterly totals (A), 3 monthly totals (B), 4 quarterly with a
# breakdown (C) and 11 monthly with a breakdown reported month by month (D). Per service and
# quarter A gives 1 figure, B 4 (three months and the quarter), C 1 + k (k options) and D 4 + 4k
# (the months and quarter, and each option by month and for the quarter). With 60 services and 40
# quarters that is 10.1 million figures.
KIND_CYCLE = "DCDBDADCDBDDCDBDADCD"
BATCH = 50_000


def _quarters(count: int):
    """The `count` financial quarters up to the last one that has ended, oldest first."""
    from saferhub.performance.periods import FinancialQuarter

    quarters = [FinancialQuarter.from_date(dt.date.today()).previous()]
    while len(quarters) < count:
        quarters.insert(0, quarters[0].previous())
    return quarters


class Framework:
    """The framework, services and users are made with the ORM; the ten million figures are
    written with the database cursor, many thousand rows a statement, in one transaction."""

    def __init__(self, *, services: int, elements: int, quarters: int, seed: int = 2024):
        self.random = random.Random(seed)
        self.service_count, self.element_count = services, elements
        self.quarters = _quarters(quarters)
        self.loaded: list = []  # quarters whose returns and figures are in the database

    def build(self) -> None:
        from saferhub.commissioning.models import FundingAllocation, FundingStream, Service, ServiceKind
        from saferhub.partners.models import Organisation, Role, User
        from saferhub.performance.models import (
            Breakdown, BreakdownOption, ComputedIndicator, DataElement, Frequency, Polarity, Target, Unit,
        )
        from saferhub.performance.periods import financial_year_label

        rnd = self.random
        providers = [Organisation.objects.create(slug=s, name=n, short_name=n, type=t) for s, n, t in PROVIDERS]
        self.viewer = User.objects.create_user("bench-viewer", password="bench-only-password", role=Role.VIEWER,
                                               organisation=providers[0])
        breakdowns = Breakdown.objects.bulk_create(
            [Breakdown(slug=f"breakdown-{n:02d}", name=name) for n, name in enumerate(BREAKDOWN_NAMES)])
        BreakdownOption.objects.bulk_create([
            BreakdownOption(breakdown=b, code=f"option-{i:02d}", label=f"{b.name} {i + 1}", order=i)
            for b, size in zip(breakdowns, BREAKDOWN_SIZES) for i in range(size)])
        self.option_ids = {b.pk: list(BreakdownOption.objects.filter(breakdown=b).order_by("order").values_list("pk", flat=True))
                           for b in breakdowns}

        elements = []
        for n in range(self.element_count):
            kind = KIND_CYCLE[n % len(KIND_CYCLE)]
            breakdown = breakdowns[n % len(breakdowns)] if kind in "CD" else None
            elements.append(DataElement(
                slug=f"element-{n:03d}", name=f"{SUBJECTS[n % len(SUBJECTS)]} ({n})", order=n,
                definition="A synthetic figure for the benchmark.",
                unit=Unit.HOURS if SUBJECTS[n % len(SUBJECTS)].startswith("Hours") else Unit.COUNT,
                polarity=[Polarity.HIGHER_IS_BETTER, Polarity.LOWER_IS_BETTER, Polarity.NEUTRAL][n % 3],
                frequency=Frequency.MONTHLY if kind in "BD" else Frequency.QUARTERLY, breakdown=breakdown,
            ))
        self.elements = DataElement.objects.bulk_create(elements)
        self.kinds = {e.pk: KIND_CYCLE[e.order % len(KIND_CYCLE)] for e in self.elements}

        kinds = [ServiceKind.COMMISSIONED] * 3 + [ServiceKind.GRANT_FUNDED, ServiceKind.PARTNER_PROGRAMME]
        self.services = Service.objects.bulk_create([
            Service(slug=f"service-{n:02d}", name=f"Synthetic service {n:02d}", kind=kinds[n % len(kinds)],
                    provider=providers[n % len(providers)], description="A synthetic service for the benchmark.",
                    annual_value=rnd.randint(20, 400) * 1000)
            for n in range(self.service_count)])
        # Every service reports every element: that is what makes ten million figures.
        DataElement.services.through.objects.bulk_create([
            DataElement.services.through(dataelement_id=e.pk, service_id=s.pk) for e in self.elements for s in self.services])

        stream = FundingStream.objects.create(slug="bench-fund", name="Benchmark Fund", funder=providers[-1])
        years = sorted({q.year for q in self.quarters})
        FundingAllocation.objects.bulk_create([
            FundingAllocation(stream=stream, service=s, financial_year=financial_year_label(y), amount=rnd.randint(20, 400) * 1000)
            for s in self.services for y in years])

        # Ten computed indicators on every service: a ratio of two totals, an option's share, and
        # every option summed against the total.
        by_kind = {k: [e for e in self.elements if self.kinds[e.pk] == k] for k in "ABCD"}
        indicators = []
        for n in range(10):
            d, a = by_kind["D"][n % len(by_kind["D"])], by_kind["A"][n % len(by_kind["A"])]
            numerator, multiplier, unit = [
                (f"#{{{d.slug}}}", 1, Unit.COUNT),
                (f"#{{{d.slug}.option-00}}", 100, Unit.PERCENT),
                (f"#{{{d.slug}.*}}", 100, Unit.PERCENT),
            ][n % 3]
            denominator = f"#{{{a.slug}}}" if n % 3 == 0 else f"#{{{d.slug}}}"
            indicators.append(ComputedIndicator(slug=f"indicator-{n:02d}", name=f"Indicator {n:02d}", numerator=numerator,
                                                denominator=denominator, multiplier=multiplier, unit=unit))
        indicators = ComputedIndicator.objects.bulk_create(indicators)
        ComputedIndicator.services.through.objects.bulk_create([
            ComputedIndicator.services.through(computedindicator_id=i.pk, service_id=s.pk) for i in indicators for s in self.services])

        # Two targets for each service, and five for the whole partnership.
        due = self.quarters[-1].next().end
        targets = [Target(data_element=self.elements[n], service=s, due=due, value=rnd.randint(50, 500))
                   for s in self.services for n in (0, 1)]
        targets += [Target(data_element=self.elements[n], service=None, due=due, value=rnd.randint(2000, 20000))
                    for n in range(2, 7)]
        Target.objects.bulk_create(targets)

    # --- The figures ---------------------------------------------------------------------------

    def _rows(self, quarter, returns: dict[int, int]):
        """Every figure of one quarter, service by service: options add up to their month, months
        to their quarter, so the figures pass the framework's own checks."""
        bits = self.random.getrandbits
        months = [m.isoformat() for m in quarter.months]
        start = quarter.start.isoformat()
        for service in self.services:
            sid, rid = service.pk, returns[service.pk]
            for element in self.elements:
                eid, kind = element.pk, self.kinds[element.pk]
                if kind == "A":
                    yield eid, sid, "Q", start, None, float(bits(9)), rid
                elif kind == "B":
                    values = [bits(7) for _ in range(3)]
                    for month, value in zip(months, values):
                        yield eid, sid, "M", month, None, float(value), rid
                    yield eid, sid, "Q", start, None, float(sum(values)), rid
                elif kind == "C":
                    options = self.option_ids[element.breakdown_id]
                    values = [bits(6) for _ in options]
                    for option, value in zip(options, values):
                        yield eid, sid, "Q", start, option, float(value), rid
                    yield eid, sid, "Q", start, None, float(sum(values)), rid
                else:
                    options = self.option_ids[element.breakdown_id]
                    quarter_options = [0] * len(options)
                    for month in months:
                        values = [bits(5) for _ in options]
                        for i, (option, value) in enumerate(zip(options, values)):
                            yield eid, sid, "M", month, option, float(value), rid
                            quarter_options[i] += value
                        yield eid, sid, "M", month, None, float(sum(values)), rid
                    for option, value in zip(options, quarter_options):
                        yield eid, sid, "Q", start, option, float(value), rid
                    yield eid, sid, "Q", start, None, float(sum(quarter_options)), rid

    def load(self, quarters, *, analyze: bool = True) -> tuple[int, dict[str, float]]:
        """Approved returns and their figures for `quarters`. The indexes on the figures are dropped
        while they load and made again after, which is several times faster than keeping them up to
        date row by row. Returns the rows added and the seconds spent loading, indexing and analysing."""
        from django.db import connection, transaction

        from saferhub.performance.models import DataReturn, DataValue, ReturnStatus

        values_table = DataValue._meta.db_table
        columns = ", ".join(DataValue._meta.get_field(name).column for name in
                            ("data_element", "service", "period_type", "period_start", "option", "value", "data_return"))
        insert = f'INSERT INTO "{values_table}" ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s)'
        returns_table = DataReturn._meta.db_table
        approved_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=OFF")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-131072")  # 128 MB, for building the indexes
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                           [values_table])
            indexes = cursor.fetchall()
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            added = 0
            with transaction.atomic():
                for quarter in quarters:
                    cursor.executemany(
                        f'INSERT INTO "{returns_table}" (service_id, quarter_start, status, created_at, submitted_at, '
                        f'approved_at, warning_comments) VALUES (%s, %s, %s, %s, %s, %s, %s)',
                        [(s.pk, quarter.start.isoformat(), ReturnStatus.APPROVED, approved_at, approved_at, approved_at, "{}")
                         for s in self.services])
                    cursor.execute(f'SELECT service_id, id FROM "{returns_table}" WHERE quarter_start = %s', [quarter.start.isoformat()])
                    returns = dict(cursor.fetchall())
                    # In batches: Django's executemany keeps every row of a generator in memory.
                    rows = self._rows(quarter, returns)
                    while batch := list(itertools.islice(rows, BATCH)):
                        cursor.executemany(insert, batch)
                        added += len(batch)
            timings = {"load": time.perf_counter() - began}
            began = time.perf_counter()
            for _, sql in indexes:
                cursor.execute(sql)
            timings["index"] = time.perf_counter() - began
            if analyze:
                began = time.perf_counter()
                cursor.execute("ANALYZE")
                timings["analyze"] = time.perf_counter() - began
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        self.loaded += list(quarters)
        return added, timings


# ----------------------------------------------------------------------------------------------
# Measuring
# ----------------------------------------------------------------------------------------------


class _StageDate(dt.date):
    """datetime.date for the dashboards' module, with today set to the stage being measured."""

    current: dt.date | None = None

    @classmethod
    def today(cls):
        return cls.current or dt.date.today()


def _stage_clock() -> None:
    """Give saferhub.performance.dashboards a clock that Bench._use sets to each stage's today."""
    import types

    from saferhub.performance import dashboards

    dashboards.dt = types.SimpleNamespace(date=_StageDate, datetime=dt.datetime, timedelta=dt.timedelta)


class Stage:
    """The database after some years of returns. The first years' database is a copy kept aside
    while the main one grows, so both can be measured turn about: whatever else the machine is
    doing then weighs on both alike."""

    def __init__(self, path: Path, years: int, quarter):
        self.path, self.years, self.quarter = path, years, quarter
        self.db = sqlite3.connect(path)  # hand-written SQL runs on a connection of its own
        # The stage's own today: as long after its latest quarter as today is after the last
        # quarter that has ended, so that pages reading "the last twelve months" (target
        # ratings) find each stage's recent figures, as they would have on that day.
        self.today = quarter.next().start + (dt.date.today() - _quarters(1)[0].next().start)

    def plan(self, sql: str, params=()) -> list[str]:
        return [row[3] for row in self.db.execute("EXPLAIN QUERY PLAN " + sql, params)]


class Row:
    def __init__(self, key: str, name: str, stage: Stage, times: list[float], queries: int | None, note: str = ""):
        self.key, self.name, self.stage, self.times, self.queries, self.note = key, name, stage, times, queries, note
        self.direct: Row | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def ratio(self) -> float | None:
        return self.median / self.direct.median if self.direct else None


def _get(client, url: str):
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return response


def _sql_params(values) -> str:
    return ", ".join("?" for _ in values)


# The figures a service dashboard reads, written by hand: the totals of the service's own elements,
# and the options of those an indicator names, for the two quarters it compares (with their
# months), from approved returns (or loaded without one), summed by element, option, period type
# and period start.
DASHBOARD_SQL = """
SELECT e.slug, o.code, v.period_type, v.period_start, SUM(v.value)
FROM performance_datavalue v
JOIN performance_dataelement e ON e.id = v.data_element_id
LEFT JOIN performance_breakdownoption o ON o.id = v.option_id
LEFT JOIN performance_datareturn r ON r.id = v.data_return_id
WHERE v.service_id = ? AND v.period_start IN ({starts})
  AND v.data_element_id IN (SELECT dataelement_id FROM performance_dataelement_services WHERE service_id = ?)
  AND (v.option_id IS NULL OR e.slug IN ({optioned}))
  AND (v.data_return_id IS NULL OR r.status = 'approved')
GROUP BY e.slug, o.code, v.period_type, v.period_start
"""

# The figures behind the dashboard's target ratings, written by hand: the totals of the targets'
# elements over the last months analysis.target_statuses looks at first, and every service's sum in
# the latest period of each element, from approved returns.
TARGETS_SQL = """
WITH recent AS (
  SELECT v.data_element_id AS element, v.service_id AS service, v.period_type AS type, v.period_start AS start, v.value AS value
  FROM performance_datavalue v
  LEFT JOIN performance_datareturn r ON r.id = v.data_return_id
  WHERE v.option_id IS NULL AND v.data_element_id IN ({elements}) AND v.period_type IN ('M', 'Q')
    AND v.period_start BETWEEN ? AND ? AND (v.data_return_id IS NULL OR r.status = 'approved')),
latest AS (SELECT element, type, MAX(start) AS start FROM recent GROUP BY element, type)
SELECT recent.element, recent.service, recent.type, recent.start, SUM(recent.value)
FROM recent JOIN latest USING (element, type, start)
GROUP BY recent.element, recent.service, recent.type, recent.start
"""

# One figure's page: the element's values for the service, options too, for the periods it shows.
FIGURE_SQL = """
SELECT o.code, v.period_type, v.period_start, SUM(v.value)
FROM performance_datavalue v
LEFT JOIN performance_breakdownoption o ON o.id = v.option_id
LEFT JOIN performance_datareturn r ON r.id = v.data_return_id
WHERE v.data_element_id = ? AND v.service_id = ? AND v.period_type IN ('M', 'Q') AND v.period_start IN ({starts})
  AND (v.data_return_id IS NULL OR r.status = 'approved')
GROUP BY o.code, v.period_type, v.period_start
"""

# One element's monthly and quarterly totals over every service, from approved returns.
YEAR_ON_YEAR_SQL = """
SELECT v.period_type, v.period_start, SUM(v.value)
FROM performance_datavalue v
LEFT JOIN performance_datareturn r ON r.id = v.data_return_id
WHERE v.data_element_id = ? AND v.option_id IS NULL AND v.period_type IN ('M', 'Q') AND v.period_start IN ({starts})
  AND (v.data_return_id IS NULL OR r.status = 'approved')
GROUP BY v.period_type, v.period_start
"""


class Direct:
    """Hand-written SQL a measurement is compared with: `queries(stage)` gives the (SQL, parameters)
    pairs it runs one after the other on the stage's own connection; `run` returns the rows of the
    last."""

    def __init__(self, key: str, name: str, queries, note=None):
        self.key, self.name, self.queries, self.note = key, name, queries, note

    def run(self, stage: Stage) -> list:
        rows = []
        for sql, params in self.queries(stage):
            rows = stage.db.execute(sql, params).fetchall()
        return rows


class Bench:
    def __init__(self, stages: list[Stage], client, runs: int):
        self.stages, self.client, self.runs = stages, client, runs
        self.rows: list[Row] = []
        self.plans: list[tuple[str, list[str]]] = []
        self.checks: list[str] = []

    def _use(self, stage: Stage) -> None:
        """Point Django's connection at the stage's database file; it reconnects on its next query."""
        from django.db import connections

        _StageDate.current = stage.today
        connection = connections["default"]
        if connection.settings_dict["NAME"] != str(stage.path):
            connection.close()
            connection.settings_dict["NAME"] = str(stage.path)

    def measure(self, key: str, name, fn, *, runs: int | None = None, rewarm: bool = True, time_first: bool = False,
                note=None, alongside: tuple[Direct, ...] = ()) -> tuple[dict, dict]:
        """Time `fn(stage)` on every stage, turn about, run by run. A first call on each counts the
        queries and warms the caches (and is timed too with `time_first`). Each timed call follows
        a switch of database, so with `rewarm` a quick call (under half a second) is made once more
        first, untimed, to time it on a warm connection as a server would run it; a page request
        opens a new connection anyway.

        The hand-written SQL `alongside` is timed in the same runs, each query right after `fn` on
        the same stage (also after an untimed call with `rewarm`): whatever else the machine is
        doing then weighs on both alike. Its rows are the measurement's `direct`, the first of them
        for a measurement given none of its own. Returns the rows and results by stage, and the
        direct SQL's rows and results by key."""
        from django.db import connection

        runs = self.runs if runs is None else runs
        times = {stage: [] for stage in self.stages}
        direct_times = {(d.key, stage): [] for d in alongside for stage in self.stages}
        queries, results, first, direct_results = {}, {}, {}, {}
        for stage in self.stages:
            self._use(stage)
            count = []

            def counter(execute, sql, params, many, context):
                count.append(sql)
                return execute(sql, params, many, context)

            began = time.perf_counter()
            with connection.execute_wrapper(counter):
                results[stage] = fn(stage)
            first[stage] = time.perf_counter() - began
            queries[stage] = len(count)
            if time_first:
                times[stage].append(first[stage])
            for direct in alongside:
                direct_results[(direct.key, stage)] = direct.run(stage)
        for _ in range(runs):
            for stage in self.stages:
                self._use(stage)
                if rewarm and first[stage] < 0.5:
                    fn(stage)
                began = time.perf_counter()
                results[stage] = fn(stage)
                times[stage].append(time.perf_counter() - began)
                for direct in alongside:
                    if rewarm:
                        direct.run(stage)
                    began = time.perf_counter()
                    direct_results[(direct.key, stage)] = direct.run(stage)
                    direct_times[(direct.key, stage)].append(time.perf_counter() - began)
        rows = {}
        for stage in self.stages:
            label = name(stage) if callable(name) else name
            rows[stage] = Row(key, label, stage, times[stage], queries[stage], note(stage, results[stage]) if note else "")
            self.rows.append(rows[stage])
        directs = {}
        for direct in alongside:
            directs[direct.key] = ({}, {})
            for stage in self.stages:
                found = direct_results[(direct.key, stage)]
                row = Row(direct.key, direct.name, stage, direct_times[(direct.key, stage)], len(direct.queries(stage)),
                          direct.note(stage, found) if direct.note else "")
                self.rows.append(row)
                directs[direct.key][0][stage], directs[direct.key][1][stage] = row, found
        if alongside:
            self.link(directs[alongside[0].key][0], rows)
        return rows, results, directs

    def captured(self, stage: Stage, fn) -> list[str]:
        """The SQL of the queries `fn` runs on the stage's database, as SQLite was given it."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self._use(stage)
        with CaptureQueriesContext(connection) as captured:
            fn()
        return [q["sql"] for q in captured.captured_queries]

    def page(self, key: str, name, url) -> dict:
        """Time the page at `url(stage)` through the test client, signed in. A request opens a
        connection of its own, so there is no untimed call before each timed one."""
        rows, _, _ = self.measure(key, name, lambda st: _get(self.client, url(st)), rewarm=False,
                                  note=lambda st, r: f"{len(r.content) / 1e3:,.0f} kB of HTML")
        return rows

    @staticmethod
    def link(direct: dict, *measured: dict) -> None:
        for rows in measured:
            for stage, row in rows.items():
                row.direct = direct[stage]

    # --- The service dashboard -----------------------------------------------------------------

    def dashboard(self, service) -> None:
        """The service's summary page: headline figures with their targets and every figure's total
        for the quarter and a year before. Its data is compared with the two hand-written queries
        giving what it shows of the figures: the totals of two quarters, and those the target
        ratings read."""
        from django.db.models import Q

        from saferhub.performance import dashboards
        from saferhub.performance.analysis import TARGET_RECENT_MONTHS, Figures, quarter_starts
        from saferhub.performance.expressions import Expression
        from saferhub.performance.models import PeriodType, Target
        from saferhub.performance.periods import add_months

        references = [ref for i in service.computed_indicators.all() for text in (i.numerator, i.denominator)
                      for ref in Expression.parse(text).references]
        own = {e.pk: e.slug for e in service.data_elements.all()}
        if not {ref.element for ref in references} <= set(own.values()):
            raise RuntimeError("The benchmark's indicators must name only the service's own elements")
        optioned = sorted({ref.element for ref in references if ref.option is not None})
        targets = Target.objects.filter(Q(service=service) | Q(service__isnull=True, data_element__in=service.data_elements.all()))
        target_elements = sorted({t.data_element_id for t in targets})

        def starts_of(stage):
            return quarter_starts([stage.quarter, stage.quarter.same_quarter_years_ago(1)])

        def figures_query(stage):
            starts = sorted(s.isoformat() for s in starts_of(stage))
            return (DASHBOARD_SQL.format(starts=_sql_params(starts), optioned=_sql_params(optioned)),
                    [service.pk, *starts, service.pk, *optioned])

        def targets_query(stage):
            since = add_months(stage.today.replace(day=1), -TARGET_RECENT_MONTHS)
            return (TARGETS_SQL.format(elements=_sql_params(target_elements)),
                    [*target_elements, since.isoformat(), stage.today.isoformat()])

        both = Direct("dashboard.both", "  direct SQL: the same figures, and those the ratings read",
                      lambda st: [figures_query(st), targets_query(st)])
        pages = self.page("dashboard.page", lambda st: f"Service dashboard page ({service.slug}, {st.quarter.label})",
                          lambda st: f"/performance/services/{service.slug}/?quarter={st.quarter.slug}")
        _, _, directs = self.measure(
            "dashboard.data", "  its data: dashboards.service_dashboard()",
            lambda st: dashboards.service_dashboard(slug=service.slug, quarter=st.quarter), alongside=(both,),
            note=lambda st, b: f"{len(b.rows)} figures, {len(b.headline)} headline, {len(b.all_blocks())} tables, "
                               f"{sum(1 for x in b.all_blocks() if x.chart)} chart")
        self.link(directs["dashboard.both"][0], pages)

        def load(stage):
            # As service_dashboard() reads: the service's own elements, by id.
            return Figures.load(element_slugs=own, services=[service], starts=starts_of(stage), totals_only=True,
                                period_types=PeriodType.values, options_of=optioned)

        sql = {stage: self.captured(stage, lambda: load(stage))[0] for stage in self.stages}
        _, figures, directs = self.measure(
            "dashboard.query", "  its query: analysis.Figures.load()", load, note=lambda st, f: f"{len(f.sums):,} sums",
            alongside=(Direct("dashboard.direct", "  direct SQL: the same figures", lambda st: [figures_query(st)],
                              note=lambda st, r: f"{len(r):,} rows"),
                       Direct("dashboard.raw", "  Figures.load()'s SQL run by hand", lambda st: [(sql[st], ())])))
        self.link(directs["dashboard.direct"][0], directs["dashboard.raw"][0])
        for stage in self.stages:
            sums = {(None, slug, code, ptype, dt.date.fromisoformat(start)): total
                    for slug, code, ptype, start, total in directs["dashboard.direct"][1][stage]}
            self.checks.append(f"Service dashboard, {stage.years} years: the direct SQL gives the same {len(sums):,} sums as "
                               f"Figures.load: {'yes' if sums == figures[stage].sums else 'NO'}")
        self.measure("dashboard.targets", "  its target ratings: dashboards.service_targets()",
                     lambda st: dashboards.service_targets(service, own), note=lambda st, r: f"{len(r)} targets",
                     alongside=(Direct("dashboard.targets_direct", "  direct SQL: the figures the ratings read",
                                       lambda st: [targets_query(st)], note=lambda st, r: f"{len(r):,} rows"),))
        last = self.stages[-1]
        self.plans.append(("Service dashboard, Figures.load()", last.plan(sql[last])))
        self.plans.append(("Service dashboard, direct SQL", last.plan(*figures_query(last))))
        for text in self.captured(last, lambda: dashboards.service_dashboard(slug=service.slug, quarter=last.quarter)):
            if "performance_datavalue" in text and text != sql[last]:
                self.plans.append(("Service dashboard, target ratings", last.plan(text)))

    def figure_page(self, service, element) -> None:
        """One figure's page on the service (a monthly element with a breakdown: the most charts and
        tables), and one of its chart images."""
        from saferhub.performance import dashboards
        from saferhub.performance.analysis import Figures
        from saferhub.performance.models import PeriodType

        def direct_query(stage):
            starts = sorted(s.isoformat() for s in dashboards._load_starts(stage.quarter))
            return FIGURE_SQL.format(starts=_sql_params(starts)), [element.pk, service.pk, *starts]

        direct = Direct("figure.direct", "  direct SQL: the same figures", lambda st: [direct_query(st)],
                        note=lambda st, r: f"{len(r):,} rows")
        base = f"/performance/services/{service.slug}/figures/{element.slug}/"
        pages = self.page("figure.page", f"Figure page ({element.slug}, monthly by {element.breakdown.name.lower()})",
                          lambda st: f"{base}?quarter={st.quarter.slug}")
        _, built, directs = self.measure(
            "figure.data", "  its data: dashboards.service_element_page()",
            lambda st: dashboards.service_element_page(slug=service.slug, element_slug=element.slug, quarter=st.quarter),
            note=lambda st, b: f"{len(b.all_blocks())} tables, {sum(1 for x in b.all_blocks() if x.chart)} charts",
            alongside=(direct,))

        def load(stage):
            # As service_element_page() reads: the element itself, by its id.
            return Figures.load(elements=[element], services=[service], starts=dashboards._load_starts(stage.quarter),
                                period_types=PeriodType.values)

        sql = {stage: self.captured(stage, lambda: load(stage))[0] for stage in self.stages}
        loads, figures, raws = self.measure(
            "figure.query", "  its query: analysis.Figures.load()", load, note=lambda st, f: f"{len(f.sums):,} sums",
            alongside=(Direct("figure.raw", "  Figures.load()'s SQL run by hand", lambda st: [(sql[st], ())]),))
        for stage in self.stages:
            rows = directs["figure.direct"][1][stage]
            sums = {(None, element.slug, code, ptype, dt.date.fromisoformat(start)): total for code, ptype, start, total in rows}
            self.checks.append(f"Figure page, {stage.years} years: the direct SQL gives the same {len(sums):,} sums as "
                               f"Figures.load: {'yes' if sums == figures[stage].sums else 'NO'}")
        last = self.stages[-1]
        self.plans.append(("Figure page, Figures.load()", last.plan(sql[last])))
        self.plans.append(("Figure page, direct SQL", last.plan(*direct_query(last))))
        charts = self._chart(base, built)
        self.link(directs["figure.direct"][0], pages, loads, raws["figure.raw"][0], charts)

    def _chart(self, base: str, built: dict) -> dict:
        """One chart image of a figure's page: a request of its own, which reads only that
        figure's values (service_element_blocks). The SVG is drawn once and kept (charts._svg)."""
        from saferhub.performance import charts

        def url(stage):
            chart = next(b.chart for b in built[stage].all_blocks() if b.chart and b.chart.kind == "grouped_bars")
            return f"{base}charts/{chart.key}.svg?quarter={stage.quarter.slug}"

        cold = {}
        for stage in self.stages:
            self._use(stage)
            charts._svg.cache_clear()
            began = time.perf_counter()
            _get(self.client, url(stage))
            cold[stage] = time.perf_counter() - began
        rows, _, _ = self.measure("figure.chart", "Chart image of the figure page, SVG already drawn",
                               lambda st: _get(self.client, url(st)), rewarm=False,
                               note=lambda st, r: f"{_ms(cold[st])} when drawn too")
        return rows

    # --- Year on year --------------------------------------------------------------------------

    def year_on_year(self, element) -> None:
        from saferhub.performance import analysis, dashboards
        from saferhub.performance.periods import add_months

        def page_query(stage):
            # What the page shows: the quarter's months and total in each of the years, and rolling
            # twelve-month totals ending with each of those months, which reach back 48 months.
            quarter = stage.quarter
            wanted = [quarter.same_quarter_years_ago(n) for n in range(3)]
            starts = sorted({d.isoformat() for q in wanted for d in (q.start, *q.months)}
                            | {add_months(quarter.months[-1], -n).isoformat() for n in range(48)})
            return YEAR_ON_YEAR_SQL.format(starts=_sql_params(starts)), [element.pk, *starts]

        def build(stage):
            return dashboards.year_on_year_page(element_slug=element.slug, quarter=stage.quarter, years=3, service_slug=None)

        label = f"{element.slug}, monthly{' with a breakdown' if element.breakdown_id else ''}"
        sql = {stage: next(s for s in self.captured(stage, lambda: build(stage)) if "performance_datavalue" in s)
               for stage in self.stages}
        pages = self.page(f"yoy.{element.slug}.page", f"Year-on-year page ({label}, 3 years)",
                          lambda st: f"/performance/year-on-year/?element={element.slug}&quarter={st.quarter.slug}&years=3")
        _, _, directs = self.measure(
            f"yoy.{element.slug}.data", "  its data: dashboards.year_on_year_page()", build,
            alongside=(Direct(f"yoy.{element.slug}.direct", "  direct SQL: the totals the page shows", lambda st: [page_query(st)],
                              note=lambda st, r: f"{len(r)} rows"),
                       Direct(f"yoy.{element.slug}.raw", "  its Figures.load()'s SQL run by hand", lambda st: [(sql[st], ())],
                              note=lambda st, r: f"{len(r):,} rows")))
        self.link(directs[f"yoy.{element.slug}.direct"][0], pages, directs[f"yoy.{element.slug}.raw"][0])

        def table(stage):
            return analysis.year_on_year(element=element, quarter=stage.quarter, years=3)

        def table_query(stage):
            wanted = [stage.quarter.same_quarter_years_ago(n) for n in range(3)]
            starts = sorted({d.isoformat() for q in wanted for d in (q.start, *q.months)})
            return YEAR_ON_YEAR_SQL.format(starts=_sql_params(starts)), [element.pk, *starts]

        key = f"yoy.{element.slug}.analysis_direct"
        _, result, directs = self.measure(
            f"yoy.{element.slug}.analysis", "  analysis.year_on_year(), reading for itself", table,
            alongside=(Direct(key, "  direct SQL: its 9 months and 3 quarters", lambda st: [table_query(st)],
                              note=lambda st, r: f"{len(r)} rows"),))
        for stage in self.stages:
            sums = {(ptype, start): total for ptype, start, total in directs[key][1][stage]}
            wanted = [stage.quarter.same_quarter_years_ago(n) for n in reversed(range(3))]
            expected = [sums.get(("M", q.months[i].isoformat())) for i in range(3) for q in wanted]
            got = [v for row in result[stage].rows[:-1] for v in row.values]
            self.checks.append(f"Year on year ({element.slug}), {stage.years} years: the direct SQL gives the same months as "
                               f"analysis.year_on_year: {'yes' if expected == got else 'NO'}")
        last = self.stages[-1]
        self.plans.append((f"Year-on-year page ({label}), its Figures.load()", last.plan(sql[last])))
        self.plans.append((f"Year-on-year page ({label}), direct SQL", last.plan(*page_query(last))))
        self.plans.append((f"analysis.year_on_year() ({label})", last.plan(self.captured(last, lambda: table(last))[0])))

    # --- The quarterly report ------------------------------------------------------------------

    def report(self, runs: int) -> int:
        """Builds the published report for each stage's latest quarter; returns its number of charts."""
        from saferhub.performance.report import performance_report_build

        _, reports, _ = self.measure(
            "report", lambda st: f"Quarterly report build, published ({st.quarter.label})",
            lambda st: performance_report_build(quarter=st.quarter, published=True), runs=runs, rewarm=False, time_first=True,
            note=lambda st, r: f"{len(r.sections)} services, {sum(1 for s in r.sections for b in s.blocks if b.table):,} tables, "
                               f"{sum(1 for s in r.sections for b in s.blocks if b.chart):,} charts, not drawn")
        last = reports[self.stages[-1]]
        return sum(1 for s in last.sections for b in s.blocks if b.chart)


def _chart_cost(runs: int = 5) -> float:
    """Seconds to draw one chart (a grouped bar chart) once vl_convert has started."""
    from saferhub.performance import charts

    times = []
    for n in range(runs + 1):
        chart = charts.year_on_year_chart(key=f"k{n}", subject=f"Referrals {n}", months=["October", "November", "December"],
                                          years=["2023/24", "2024/25", "2025/26"], values=[[n + 1, 2, 3], [4, 5, 6], [7, 8, 9]])
        began = time.perf_counter()
        chart.svg()
        times.append(time.perf_counter() - began)
    return statistics.median(times[1:])


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load_average() -> str:
    return "load average " + ", ".join(f"{n:.1f}" for n in os.getloadavg())


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 0.1 else f"{seconds * 1000:,.0f} ms"


# ----------------------------------------------------------------------------------------------
# Reporting
# ----------------------------------------------------------------------------------------------


def _print_table(bench: Bench, notes: list[str]) -> None:
    print()
    print("Saferhub performance benchmark (SQLite; pages through the Django test client signed in as a viewer)")
    for note in notes:
        print(f"  {note}")
    print()
    header = (f"{'Measurement':<66} {'Years':>5} {'Median':>10} {'Min':>10} {'Max':>10} {'Queries':>7} "
              f"{'× direct':>9}  Notes")
    print(header)
    print("-" * len(header))
    for stage in bench.stages:
        for row in (r for r in bench.rows if r.stage is stage):
            ratio = f"{row.ratio:,.1f}×" if row.direct else ""
            queries = "" if row.queries is None else str(row.queries)
            print(f"{row.name:<66} {stage.years:>5} {_ms(row.median):>10} {_ms(min(row.times)):>10} {_ms(max(row.times)):>10} "
                  f"{queries:>7} {ratio:>9}  {row.note}")
    print()
    print("× direct: the median against that of the hand-written SQL giving the same figures (the first `direct SQL` row below "
          "it), timed in the same runs, each query right after Saferhub on the same database.")
    print()


# The history every figure the pages show needs: the year-on-year page's rolling twelve-month
# totals three years back reach 48 months into the past. With less, the pages show fewer figures.
FULL_HISTORY_YEARS = 4


def _base(bench: Bench) -> Stage:
    """The stage the last is compared with: the first with the history every page figure needs."""
    full = [s for s in bench.stages[:-1] if s.years >= FULL_HISTORY_YEARS]
    return full[0] if full else bench.stages[0]


def _print_growth(bench: Bench) -> None:
    base, last = _base(bench), bench.stages[-1]
    print(f"As the years accumulate (measured turn about, so the machine's load weighs on every stage alike). "
          f"Growth is {last.years} years against {base.years}:")
    print(f"  {'':<70}" + "".join(f"{f'{s.years} years':>11}" for s in bench.stages) + f"{'growth':>9}")
    # Each measurement added its rows stage by stage, so the stages' rows line up in order.
    columns = [[r for r in bench.rows if r.stage is stage] for stage in bench.stages]
    for rows in zip(*columns):
        by_stage = dict(zip(bench.stages, rows))
        growth = by_stage[last].median / by_stage[base].median
        print(f"  {rows[-1].name.strip()[:70]:<70}" + "".join(f"{_ms(r.median):>11}" for r in rows) + f"{growth:8.2f}×")
    if base.years > bench.stages[0].years:
        print(f"  With {bench.stages[0].years} years the pages show fewer figures (no third year, fewer rolling totals), "
              f"so growth is measured from {base.years} years, the first with every figure.")
    print()


def _print_verdict(bench: Bench) -> None:
    """The issue's two targets: the dashboard's and the year-on-year table's data within 2× of the
    same figures read with hand-written SQL, and no slower as years accumulate. The rest is shown
    for information: a page also renders its HTML, which no SQL does."""
    first, last = _base(bench), bench.stages[-1]
    rows = {(r.key, r.stage.years): r for r in bench.rows}
    yoy = sorted({r.key.split('.')[1] for r in bench.rows if r.key.startswith("yoy.")})

    def line(key: str, what: str, verdict: bool) -> None:
        row = rows[(key, last.years)]
        judged = f"{'meets' if row.ratio <= 2 else 'MISSES'} the 2× target" if verdict else "for information"
        print(f"  {what:<66} {row.ratio:6.2f}× direct: {judged}")

    print("Against the targets (within 2× of the direct SQL; no slower as years accumulate, allowing 1.3×):")
    line("dashboard.data", "Service dashboard: service_dashboard() against figures + ratings SQL", True)
    for key in yoy:
        line(f"yoy.{key}.data", f"Year-on-year page's data ({key}): year_on_year_page()", True)
        line(f"yoy.{key}.analysis", f"Year-on-year table ({key}): analysis.year_on_year()", True)
    if first is not last:
        for key, what in [("dashboard.page", "Service dashboard page"), ("dashboard.data", "Service dashboard data"),
                          ("dashboard.both", "Service dashboard, its direct SQL"),
                          ("figure.page", "Figure page"), ("figure.data", "Figure page data"),
                          ("figure.chart", "Figure page chart image")] + [
                (f"yoy.{k}.{part}", f"Year-on-year {what}, {k}") for k in yoy
                for part, what in (("page", "page"), ("data", "data"), ("direct", "direct SQL"), ("analysis", "table"))]:
            growth = rows[(key, last.years)].median / rows[(key, first.years)].median
            print(f"  {what:<66} {growth:6.2f}× from {first.years} to {last.years} years: "
                  f"{'flat' if growth <= 1.3 else 'SLOWS DOWN'}")
    print("For information (a page renders its HTML too; the parts of the data against their own SQL):")
    for key, what in [("dashboard.page", "Service dashboard page, against figures + ratings SQL"),
                      ("dashboard.query", "Service dashboard, its figures (Figures.load)"),
                      ("dashboard.targets", "Service dashboard, its target ratings (service_targets)"),
                      ("figure.data", "Figure page, its data (service_element_page)"),
                      ("figure.query", "Figure page, its figures (Figures.load)"),
                      ("figure.page", "Figure page"),
                      ("figure.chart", "Figure page, one chart image (already drawn)")] + [
            (f"yoy.{k}.{part}", f"Year-on-year {what}, {k}") for k in yoy
            for part, what in (("page", "page"), ("raw", "query (its Figures.load SQL)"))]:
        line(key, what, False)
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, default=60, help="services (60)")
    parser.add_argument("--elements", type=int, default=200, help="data elements, every service reporting each (200)")
    parser.add_argument("--years", type=int, default=10, help="financial years of quarterly returns (10)")
    parser.add_argument("--measure-at", default="2,4",
                        help="years of history at which to measure too, before all of them are loaded (2,4)")
    parser.add_argument("--runs", type=int, default=9, help="timed runs per measurement; the median is reported (9)")
    parser.add_argument("--report-runs", type=int, default=0, help="quarterly report builds timed after the first (0)")
    parser.add_argument("--no-analyze", action="store_true",
                        help="leave out ANALYZE after loading, like a database that has never run it")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite databases and print where they are")
    args = parser.parse_args()
    try:
        measure_at = sorted({int(n) for n in args.measure_at.split(",") if n.strip()})
    except ValueError:
        parser.error("--measure-at takes whole numbers of years, like 2,4")
    if any(not 0 < n < args.years for n in measure_at):
        parser.error("--measure-at years must each be between 1 and --years - 1")
    if args.elements < len(KIND_CYCLE):
        parser.error(f"--elements must be at least {len(KIND_CYCLE)}")

    workdir = Path(tempfile.mkdtemp(prefix="saferhub-performance-bench-"))
    try:
        _configure(workdir)
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        from saferhub.performance.models import DataElement, DataValue, Frequency

        notes = []
        began = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        framework = Framework(services=args.services, elements=args.elements, quarters=args.years * 4)
        framework.build()
        notes.append(f"Framework: {args.services} services each reporting {args.elements} data elements "
                     f"({sum(1 for k in framework.kinds.values() if k in 'CD')} with a breakdown of 3 to 12 options, "
                     f"{sum(1 for k in framework.kinds.values() if k in 'BD')} monthly), 10 computed indicators, "
                     f"{2 * args.services + 5} targets; made in {time.perf_counter() - began:.1f} s")
        main_path = workdir / "bench.sqlite3"
        # Signed in before the first years' database is copied, so the session is in both.
        client = Client()
        client.force_login(framework.viewer)
        stages = []
        bounds = [0, *(n * 4 for n in measure_at), len(framework.quarters)]
        for quarters in (framework.quarters[a:b] for a, b in zip(bounds, bounds[1:])):
            added, timings = framework.load(quarters, analyze=not args.no_analyze)
            years = len(framework.loaded) // 4
            analysed = "" if args.no_analyze else f", ANALYZE {timings['analyze']:.0f} s"
            notes.append(f"Loaded {len(quarters)} quarters ({quarters[0].label} to {quarters[-1].label}): {added:,} figures in "
                         f"{timings['load']:.0f} s, indexes {timings['index']:.0f} s{analysed}; now {years} years, "
                         f"{DataValue.objects.count():,} figures, {main_path.stat().st_size / 1e9:.2f} GB; "
                         f"peak memory so far {_peak_mb():,.0f} MB")
            if len(framework.loaded) < len(framework.quarters):
                # Keep this state aside while the main database grows.
                connection.close()
                path = workdir / f"bench-{years}-years.sqlite3"
                source, copy = sqlite3.connect(main_path), sqlite3.connect(path)
                source.backup(copy)
                source.close()
                copy.close()
                stages.append(Stage(path, years, framework.loaded[-1]))
            else:
                stages.append(Stage(main_path, years, framework.loaded[-1]))

        _stage_clock()
        bench = Bench(stages, client, args.runs)
        service = framework.services[len(framework.services) // 2]
        monthly = DataElement.objects.filter(frequency=Frequency.MONTHLY).order_by("order")
        plain = monthly.filter(breakdown__isnull=True).first()
        broken_down = max(monthly.filter(breakdown__isnull=False).select_related("breakdown"),
                          key=lambda e: (len(framework.option_ids[e.breakdown_id]), -e.order))
        before = _load_average()
        bench.dashboard(service)
        bench.figure_page(service, broken_down)
        for element in (plain, broken_down):
            bench.year_on_year(element)
        report_charts = bench.report(args.report_runs)
        # Other work on the machine slows every figure: compare runs made in the same state.
        notes.append(f"Measured with the machine at {before} before and {_load_average()} after")
        chart_cost = _chart_cost()
        notes.append(f"Drawing one chart with vl_convert takes {_ms(chart_cost)} once warm: the published report's "
                     f"{report_charts:,} charts would take about {report_charts * chart_cost:,.0f} s to draw for its HTML, "
                     f"PDF or Word version")
        notes.append(f"Peak memory {_peak_mb():,.0f} MB")

        _print_table(bench, notes)
        if len(stages) > 1:
            _print_growth(bench)
        _print_verdict(bench)
        for check in bench.checks:
            print(check)
        print()
        print(f"Query plans (EXPLAIN QUERY PLAN) with {stages[-1].years} years:")
        for name, plan in bench.plans:
            print(f"  {name}:")
            for line in plan:
                print(f"    {line}")
        print()
        if args.keep:
            print("Databases kept: " + ", ".join(str(stage.path) for stage in stages))
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
