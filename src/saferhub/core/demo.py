"""The demonstration data set: the partnership, every strategy file shipped with the platform, and
one synthetic sign-in per role. Loading it again changes nothing."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from django.db import transaction

from saferhub.accounts.demo import demo_totp, demo_totp_line
from saferhub.partners.models import Organisation, Role, User
from saferhub.partners.services import partnership_import
from saferhub.strategy.importer import StrategyImportResult, strategy_import
from saferhub.strategy.models import Strategy

STRATEGY_DATA = Path(__file__).resolve().parent.parent / "strategy" / "data"
# The order strategies are listed in: the VAWG strategy first, then the CSP's own plans.
STRATEGY_ORDER = [
    "joint-vawg-strategy",
    "nycsp-priorities-2022-24",
    "domestic-abuse-strategy-2024-28",
    "serious-violence-duty-response-strategy",
    "inclusive-communities",
]
STRATEGY_SUFFIXES = {".yaml", ".yml", ".json", ".xlsx"}
DEMO_PASSWORD = "saferhub-demo-2026"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    organisation: str  # slug
    first_name: str
    last_name: str
    job_title: str


# Synthetic people: the names are invented and belong to no one in the partnership.
DEMO_LOGINS = [
    DemoLogin("admin", Role.ADMINISTRATOR, "opfcc", "Morgan", "Ellery", "Systems Administrator"),
    DemoLogin("manager", Role.STRATEGY_MANAGER, "opfcc", "Priya", "Halden", "Policy and Partnerships Officer"),
    DemoLogin("police.contributor", Role.CONTRIBUTOR, "north-yorkshire-police", "Sam", "Thornbury", "Safeguarding Inspector"),
    DemoLogin("idas.contributor", Role.CONTRIBUTOR, "idas", "Jordan", "Pickersgill", "Service Manager"),
    DemoLogin("council.contributor", Role.CONTRIBUTOR, "north-yorkshire-council", "Casey", "Marwood", "Community Safety Officer"),
    DemoLogin("viewer", Role.VIEWER, "city-of-york-council", "Robin", "Ashcombe", "Community Safety Analyst"),
]


def demo_strategy_files(directory: Path = STRATEGY_DATA) -> list[Path]:
    """Every strategy file in `directory`: the known ones in their fixed order, any others after
    them by name, so a new file is loaded rather than skipped."""
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in STRATEGY_SUFFIXES)
    rank = {slug: position for position, slug in enumerate(STRATEGY_ORDER)}
    return sorted(files, key=lambda p: (rank.get(p.stem, len(rank)), p.name))


@transaction.atomic
def demo_load(*, strategy_directory: Path = STRATEGY_DATA, refresh: bool = False) -> list[str]:
    """Load the demonstration data, all or nothing; return what was done, one line each.

    `make run` calls this on every start, so what staff changed in the app since must survive it:
    a strategy or a return already in the database is left as it is unless `refresh` is given.
    Demo strategy files are named after their strategy's slug."""
    from saferhub.performance.importer import framework_load, returns_load

    lines = [str(partnership_import())]
    files = demo_strategy_files(strategy_directory)
    if not refresh:
        present = set(Strategy.objects.filter(slug__in=[p.stem for p in files]).values_list("slug", flat=True))
        kept = [p for p in files if p.stem in present]
        files = [p for p in files if p.stem not in present]
        if kept:
            lines.append(f"Kept {len(kept)} strategies already loaded, with any changes made since (use --refresh to reload them)")
    results: list[StrategyImportResult] = strategy_import(paths=files) if files else []
    lines += [str(result) for result in results]
    framework = framework_load()
    lines.append(f"Performance framework: {framework['services']} services, {framework['data_elements']} data elements, "
                 f"{framework['validation_rules']} validation rules")
    loaded = returns_load(replace_existing=refresh)
    lines.append(f"Data returns: {loaded} loaded")
    organisations = {o.slug: o for o in Organisation.objects.filter(slug__in={d.organisation for d in DEMO_LOGINS})}
    created = 0
    for login in DEMO_LOGINS:
        user, made = User.objects.update_or_create(username=login.username, defaults={
            "role": login.role, "organisation": organisations[login.organisation],
            "first_name": login.first_name, "last_name": login.last_name, "job_title": login.job_title,
            "email": f"{login.username}@example.org", "is_active": True,
            "is_staff": login.role == Role.ADMINISTRATOR, "is_superuser": login.role == Role.ADMINISTRATOR,
        })
        if made or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        created += made
    _demo_two_factor()
    lines.append(f"Demo sign-ins: {len(DEMO_LOGINS)} ({created} new); see `saferhub demo logins`")
    lines.append(_demo_progress_reports())
    lines += _demo_people()
    return lines


DEMO_CASES = 24


def _demo_people() -> list[str]:
    """Sign-ins for the people register, retention schedules, and synthetic cases (invented people
    only). The generator skips references it made before, so loading again adds nothing."""
    from saferhub.people.demo import demo_people_generate
    from saferhub.people.retention import default_schedules_load

    default_schedules_load()
    return ["Retention schedules loaded", *demo_people_generate(cases=DEMO_CASES), *_demo_marac(), *_demo_matac()]


def _demo_marac() -> list[str]:
    """The MARAC areas and checklist, the demo coordinator, and synthetic MARAC cases while there are none."""
    from saferhub.marac.demo import demo_marac_load

    return demo_marac_load()


def _demo_matac() -> list[str]:
    """The MATAC panel, a generated police extract scored, and its casework (adds nothing when loaded before)."""
    from saferhub.matac.demo import matac_demo_load

    return matac_demo_load()


# The two Progress Updates the partnership has published, ready as drafts for a manager to publish.
DEMO_REPORTS = [("joint-vawg-strategy", "December 2022"), ("joint-vawg-strategy", "June 2023")]


def _demo_progress_reports() -> str:
    from saferhub.publishing.services import report_create_or_update
    from saferhub.strategy.models import ProgressReport, ReportingPeriod

    manager = User.objects.get(username="manager")
    made = 0
    for slug, label in DEMO_REPORTS:
        strategy = Strategy.objects.filter(slug=slug).first()
        period = ReportingPeriod.objects.filter(label=label).first()
        if strategy and period and not ProgressReport.objects.filter(strategy=strategy, period=period).exists():
            report_create_or_update(user=manager, strategy=strategy, period=period, background=strategy.background)
            made += 1
    return f"Progress Updates: {made} drafts prepared"


def _demo_two_factor() -> None:
    """Demo users who see personal data need two-factor sign-in, with the demo's published key."""
    for user in User.objects.filter(username__in=[d.username for d in DEMO_LOGINS]):
        if user.sees_personal_data:
            demo_totp(user)


def demo_logins_text() -> list[str]:
    """The demonstration accounts, one a line, for the console."""
    names = dict(Organisation.objects.values_list("slug", "name"))
    lines = [f"Demo sign-ins (password for all: {DEMO_PASSWORD})"]
    from saferhub.matac.demo import LOGINS as MATAC_LOGINS
    from saferhub.people.demo import PEOPLE_LOGINS

    matac_logins = [SimpleNamespace(username=username, role=Role.CONTRIBUTOR, organisation=organisation)
                    for username, organisation, *_ in MATAC_LOGINS]
    logins = [*DEMO_LOGINS, *PEOPLE_LOGINS, *matac_logins]
    width = max(len(d.username) for d in logins)
    two_factor = {u.username for u in User.objects.filter(username__in=[d.username for d in logins]) if u.sees_personal_data}
    for login in logins:
        lines.append(f"  {login.username:<{width}}  {Role(login.role).label:<16}  {names.get(login.organisation, login.organisation)}")
        if login.username in two_factor:
            lines.append(f"  {'':<{width}}  {demo_totp_line()}")
    return lines
