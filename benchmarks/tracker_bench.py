"""How the action tracker, a strategy page, the CSV export and a PDF Progress Update hold up as a
partnership grows: 50 strategies, 2,000 then 20,000 actions with 10 progress updates each, in a
throwaway SQLite database. Run with `make bench`; see benchmarks/README.md."""
import argparse
import csv
import datetime as dt
import io
import os
import random
import shutil
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
# The synthetic partnership
# ----------------------------------------------------------------------------------------------

ORGANISATIONS = [
    ("north-yorkshire-police", "North Yorkshire Police", "NYP", "police"),
    ("north-yorkshire-fire-and-rescue", "North Yorkshire Fire and Rescue Service", "NYFRS", "fire"),
    ("opfcc", "Office of the Police, Fire and Crime Commissioner", "OPFCC", "pcc_office"),
    ("north-yorkshire-council", "North Yorkshire Council", "NYC", "local_authority"),
    ("city-of-york-council", "City of York Council", "CYC", "local_authority"),
    ("idas", "IDAS", "IDAS", "provider"),
    ("foundation", "Foundation", "Foundation", "provider"),
    ("probation-service", "The Probation Service", "Probation", "probation"),
    ("humber-and-north-yorkshire-icb", "Humber and North Yorkshire Integrated Care Board", "ICB", "health"),
    ("crown-prosecution-service", "Crown Prosecution Service", "CPS", "courts"),
    ("survive", "Survive", "Survive", "provider"),
    ("york-womens-centre", "York Women's Centre", "YWC", "provider"),
]
BODIES = [
    ("vawg-strategic-governance-board", "VAWG Strategic Governance Board", "board"),
    ("joint-vawg-delivery-group", "Joint VAWG Delivery Group", "group"),
    ("north-yorkshire-csp", "North Yorkshire Community Safety Partnership", "partnership"),
    ("safer-york-partnership", "Safer York Partnership", "partnership"),
    ("serious-violence-duty-group", "Serious Violence Duty Working Group", "group"),
]
THEMES = [
    "Violence Against Women and Girls", "Domestic Abuse", "Serious Violence", "Community Safety",
    "Anti-social Behaviour", "Hate Crime", "Modern Slavery", "Exploitation of Children", "Road Safety",
    "Drugs and Alcohol",
]
VERBS = ["Deliver", "Commission", "Review", "Develop", "Embed", "Promote", "Evaluate", "Extend", "Publish", "Train"]
OBJECTS = [
    "training on coercive control for frontline staff", "a survivor engagement forum",
    "the MARAC referral pathway", "awareness campaigns in schools and colleges",
    "perpetrator behaviour change programmes", "safe accommodation for victims and their children",
    "data sharing between partners", "the night-time economy safety scheme", "bystander training",
    "specialist support for older victims", "a multi-agency problem-solving approach",
    "the Independent Domestic Violence Advisor service", "joint tasking in community safety hubs",
]
TAKEN = [
    "Delivered {n} training sessions to {m} staff across the partnership.",
    "Held a multi-agency workshop to agree the referral criteria.",
    "Published the evaluation findings and shared them with the Delivery Group.",
    "Recruited {n} new volunteers and completed their induction.",
    "Ran a social media campaign reaching {m} people in North Yorkshire and York.",
    "Reviewed {n} cases with partners and agreed improvements to the pathway.",
    "Secured funding for a further year of the service.",
]
NEXT = [
    "Report progress to the next Delivery Group meeting.",
    "Extend the offer to rural districts in the next quarter.",
    "Agree a data sharing protocol with health partners.",
    "Complete the staff survey and analyse the results.",
]
STATUS_WEIGHTS = {"not_started": 8, "on_track": 45, "at_risk": 12, "off_track": 5, "complete": 25, "closed": 5}
RAG_FOR = {"not_started": "", "on_track": "green", "at_risk": "amber", "off_track": "red", "complete": "green", "closed": ""}

STRATEGIES = 50
PERIODS = 10


def _quarters(today: dt.date, count: int) -> list[tuple[str, dt.date, dt.date]]:
    """The `count` financial quarters up to the one containing `today`, oldest first."""
    start = dt.date(today.year, ((today.month - 1) // 3) * 3 + 1, 1)
    quarters = []
    for _ in range(count):
        year = start.year if start.month >= 4 else start.year - 1
        number = {4: 1, 7: 2, 10: 3, 1: 4}[start.month]
        following = dt.date(start.year + (start.month == 10), (start.month + 3 - 1) % 12 + 1, 1)
        quarters.append((f"{year}/{str(year + 1)[2:]} Q{number}", start, following - dt.timedelta(days=1)))
        start = dt.date(start.year - (start.month == 1), (start.month - 3 - 1) % 12 + 1, 1)
    return quarters[::-1]


class Partnership:
    """Builds the data with bulk inserts and remembers what it needs to add more later."""

    def __init__(self, seed: int = 2024):
        self.random = random.Random(seed)
        self.today = dt.date.today()
        self.actions_made = 0

    def build_frame(self) -> None:
        from saferhub.partners.models import GovernanceBody, Organisation, Role, User
        from saferhub.strategy.models import ReportingPeriod, Strategy, StrategyItem

        self.organisations = [
            Organisation.objects.create(slug=s, name=n, short_name=sn, type=t) for s, n, sn, t in ORGANISATIONS
        ]
        self.bodies = [GovernanceBody.objects.create(slug=s, name=n, kind=k) for s, n, k in BODIES]
        self.viewer = User.objects.create_user("bench-viewer", password="bench-only-password", role=Role.VIEWER,
                                               organisation=self.organisations[0])
        self.recorders = [
            User.objects.create_user(f"bench-contributor-{o.slug}", role=Role.CONTRIBUTOR, organisation=o,
                                     first_name="Contributor", last_name=o.short_name)
            for o in self.organisations
        ]
        self.periods = [
            ReportingPeriod.objects.create(label=label, start=start, end=end, kind="quarter")
            for label, start, end in _quarters(self.today, PERIODS)
        ]

        rnd = self.random
        strategies = [
            Strategy(
                slug=f"strategy-{n:02d}", title=f"{THEMES[n % len(THEMES)]} Strategy {2020 + n % 6}–{2023 + n % 6} ({n})",
                short_title=f"{THEMES[n % len(THEMES)]} {n}", summary="A synthetic strategy for the benchmark.",
                background="Why this strategy exists.\n\n- First reason\n- Second reason",
                level_names=["Objective", "Outcome", "Aim"], owner=rnd.choice(self.organisations),
                governance_body=rnd.choice(self.bodies), order=n,
            )
            for n in range(1, STRATEGIES + 1)
        ]
        Strategy.objects.bulk_create(strategies)
        self.strategies = list(Strategy.objects.order_by("order"))
        # Strategy n gets n shares of the actions, so sizes range from small to one large strategy.
        self.weights = [s.order for s in self.strategies]

        self.items_of: dict[int, list] = {}
        for strategy in self.strategies:
            objectives = []
            for o in range(1, rnd.randint(4, 6) + 1):
                objectives.append(StrategyItem(strategy=strategy, depth=0, path=f"{o:04d}", code=f"{o}",
                                               title=f"Objective {o} of {strategy.short_title}", order=o))
            StrategyItem.objects.bulk_create(objectives)
            outcomes = []
            for objective in objectives:
                for u in range(1, rnd.randint(2, 4) + 1):
                    outcomes.append(StrategyItem(strategy=strategy, parent=objective, depth=1, order=u,
                                                 path=f"{objective.path}.{u:04d}", code=f"{objective.code}.{u}",
                                                 title=f"Outcome {objective.code}.{u}"))
            StrategyItem.objects.bulk_create(outcomes)
            aims = []
            for outcome in outcomes:
                for a in range(1, rnd.randint(2, 3) + 1):
                    aims.append(StrategyItem(strategy=strategy, parent=outcome, depth=2, order=a,
                                             path=f"{outcome.path}.{a:04d}", code=f"{outcome.code}.{a}",
                                             title=f"Aim {outcome.code}.{a}: {rnd.choice(VERBS).lower()} "
                                                   f"{rnd.choice(OBJECTS)}"))
            StrategyItem.objects.bulk_create(aims)
            # Most actions hang off aims, some off outcomes.
            self.items_of[strategy.pk] = aims * 4 + outcomes

    def add_actions(self, count: int) -> None:
        from saferhub.strategy.models import Action, ProgressUpdate

        rnd = self.random
        statuses, status_weights = zip(*STATUS_WEIGHTS.items())
        Lead = Action.lead_organisations.through
        Support = Action.supporting_organisations.through
        for batch_start in range(0, count, 2000):
            size = min(2000, count - batch_start)
            chosen = rnd.choices(self.strategies, weights=self.weights, k=size)
            actions = []
            for strategy in chosen:
                self.actions_made += 1
                n = self.actions_made
                status = rnd.choices(statuses, status_weights)[0]
                due = self.today + dt.timedelta(days=rnd.randint(-400, 500)) if rnd.random() > 0.1 else None
                actions.append(Action(
                    item=rnd.choice(self.items_of[strategy.pk]), reference=f"S{strategy.order:02d}-{n:05d}",
                    title=f"{rnd.choice(VERBS)} {rnd.choice(OBJECTS)}", order=n,
                    description="A synthetic action for the benchmark. " * rnd.randint(1, 4),
                    governance_body=rnd.choice(self.bodies), status=status, rag=RAG_FOR[status],
                    start_date=(due - dt.timedelta(days=365)) if due else None, due_date=due,
                    timescale="" if due else "Ongoing", outcome_measures="Fewer repeat victims.",
                ))
            Action.objects.bulk_create(actions)
            leads, supports, updates = [], [], []
            for action in actions:
                leaders = rnd.sample(self.organisations, rnd.choice([1, 1, 1, 2]))
                supporters = rnd.sample([o for o in self.organisations if o not in leaders], rnd.randint(0, 3))
                leads += [Lead(action_id=action.pk, organisation_id=o.pk) for o in leaders]
                supports += [Support(action_id=action.pk, organisation_id=o.pk) for o in supporters]
                recorder = self.recorders[self.organisations.index(leaders[0])]
                for period in self.periods:
                    taken = [rnd.choice(TAKEN).format(n=rnd.randint(2, 40), m=rnd.randint(50, 5000))
                             for _ in range(rnd.randint(1, 3))]
                    updates.append(ProgressUpdate(
                        action_id=action.pk, period=period,
                        actions_taken="\n".join(f"- {line}" for line in taken),
                        next_steps=rnd.choice(NEXT), status=action.status, rag=action.rag,
                        organisation_id=recorder.organisation_id, recorded_by=recorder,
                        recorded_at=dt.datetime.combine(period.end, dt.time(12), tzinfo=dt.timezone.utc),
                    ))
            Lead.objects.bulk_create(leads)
            Support.objects.bulk_create(supports)
            ProgressUpdate.objects.bulk_create(updates, batch_size=5000)


# ----------------------------------------------------------------------------------------------
# Measuring
# ----------------------------------------------------------------------------------------------


class Row:
    def __init__(self, name, actions, times, queries, note=""):
        self.name, self.actions, self.times, self.queries, self.note = name, actions, times, queries, note


def _timed(fn, runs: int, warm: bool = True) -> tuple[list[float], int, object]:
    """Wall times (seconds) of `runs` calls after one warm-up call, the queries of one call, and
    the last result."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if warm:
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


def _get(client, url: str):
    def fetch():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        # A streamed export is only done once every row has been read.
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return response, body

    return fetch


def _measure_pages(client, runs: int, rows: list, largest, *, full: bool) -> None:
    from saferhub.strategy.models import Action

    count = Action.objects.count()
    tracker = "/strategies/actions/"
    for name, url in [
        ("Action tracker, first page", tracker),
        ("Action tracker, overdue, sorted by due date", f"{tracker}?overdue=1&sort=due"),
        ("Action tracker, one lead organisation", f"{tracker}?lead=idas"),
        ("API /api/actions/ (50 a page)", "/api/actions/?page_size=50"),
    ]:
        times, queries, _ = _timed(_get(client, url), runs)
        rows.append(Row(name, count, times, queries))
    if full:
        times, queries, _ = _timed(_get(client, f"/strategies/{largest.slug}/"), runs)
        rows.append(Row(f"Strategy page, largest strategy ({largest.action_count:,} actions)", count, times, queries))
        times, queries, (_, body) = _timed(_get(client, "/strategies/actions/export.csv"), max(3, runs // 2))
        records = sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8-sig")))) - 1
        rows.append(Row("CSV export, every action", count, times, queries, f"{records:,} rows, {len(body) / 1e6:.1f} MB"))


def _measure_pdf(partnership, largest, runs: int, rows: list, count: int) -> None:
    try:
        from saferhub.publishing.progress_report import progress_document_build
        from saferhub.publishing.renderers import document_render
    except ImportError as error:
        rows.append(Row("PDF Progress Update", count, [], 0, f"SKIPPED: publishing has no renderer yet ({error})"))
        return
    period = partnership.periods[-1]

    def render():
        document = progress_document_build(strategy=largest, period=period)
        return document_render(document, "pdf")

    times, queries, pdf = _timed(render, runs, warm=False)
    rows.append(Row(f"PDF Progress Update, largest strategy, {period.label}", count, times, queries,
                    f"{largest.action_count:,} updates, {len(pdf) / 1e3:,.0f} kB"))


def _print_table(rows: list[Row], build_notes: list[str]) -> None:
    print()
    print("Saferhub tracker benchmark (SQLite, Django test client signed in as a viewer)")
    for note in build_notes:
        print(f"  {note}")
    print()
    header = f"{'Measurement':<62} {'Actions':>8} {'Median':>10} {'Min':>10} {'Max':>10} {'Queries':>8}  Notes"
    print(header)
    print("-" * len(header))
    for row in rows:
        if row.times:
            median, low, high = (f"{v * 1000:,.0f} ms" for v in (statistics.median(row.times), min(row.times), max(row.times)))
            queries = str(row.queries)
        else:
            median = low = high = queries = "—"
        print(f"{row.name:<62} {row.actions:>8,} {median:>10} {low:>10} {high:>10} {queries:>8}  {row.note}")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--first", type=int, default=2000, help="actions at the first measurement (2,000)")
    parser.add_argument("--actions", type=int, default=20000, help="actions at the second measurement (20,000)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per page; the median is reported (7)")
    parser.add_argument("--pdf-runs", type=int, default=3, help="timed PDF renderings (3)")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite database and print where it is")
    args = parser.parse_args()
    if not 0 < args.first <= args.actions:
        parser.error("--first must be between 1 and --actions")

    workdir = Path(tempfile.mkdtemp(prefix="saferhub-bench-"))
    try:
        _configure(workdir)
        from django.core.management import call_command
        from django.db.models import Count
        from django.test import Client

        from saferhub.strategy.models import Action, ProgressUpdate, Strategy

        build_notes = []
        began = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        partnership = Partnership()
        partnership.build_frame()
        partnership.add_actions(args.first)
        build_notes.append(f"Built {STRATEGIES} strategies, {args.first:,} actions, "
                           f"{ProgressUpdate.objects.count():,} progress updates in {time.perf_counter() - began:.1f} s")

        client = Client()
        client.force_login(partnership.viewer)
        rows: list[Row] = []

        def largest_strategy():
            return Strategy.objects.annotate(action_count=Count("items__actions")).order_by("-action_count").first()

        _measure_pages(client, args.runs, rows, largest_strategy(), full=False)

        began = time.perf_counter()
        partnership.add_actions(args.actions - args.first)
        build_notes.append(f"Added {args.actions - args.first:,} actions, reaching {Action.objects.count():,} actions and "
                           f"{ProgressUpdate.objects.count():,} progress updates, in {time.perf_counter() - began:.1f} s")
        largest = largest_strategy()
        _measure_pages(client, args.runs, rows, largest, full=True)
        _measure_pdf(partnership, largest, args.pdf_runs, rows, Action.objects.count())
        _print_table(rows, build_notes)
        if args.keep:
            print(f"Database kept at {workdir / 'bench.sqlite3'}")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
