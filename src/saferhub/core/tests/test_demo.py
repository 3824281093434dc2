"""The demonstration data set: every shipped strategy file loads, loading twice changes nothing, and
there is a sign-in for every role."""
import shutil

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from saferhub.core.demo import DEMO_LOGINS, DEMO_PASSWORD, STRATEGY_DATA, demo_load, demo_strategy_files
from saferhub.core.importing import ImportFailed
from saferhub.partners.models import GovernanceBody, Organisation, Role, User
from saferhub.strategy.models import Action, ProgressUpdate, ReportingPeriod, Strategy, StrategyItem

SHIPPED_STRATEGIES = [
    "joint-vawg-strategy",
    "nycsp-priorities-2022-24",
    "domestic-abuse-strategy-2024-28",
    "serious-violence-duty-response-strategy",
    "inclusive-communities",
]


def totals() -> dict:
    return {
        "organisations": Organisation.objects.count(), "bodies": GovernanceBody.objects.count(),
        "strategies": Strategy.objects.count(), "items": StrategyItem.objects.count(),
        "actions": Action.objects.count(), "progress": ProgressUpdate.objects.count(),
        "periods": ReportingPeriod.objects.count(), "users": User.objects.count(),
    }


@pytest.fixture
def demo(db):
    demo_load()


def test_loading_the_demo_twice_gives_the_same_data(demo):
    first = totals()
    call_command("demo", "load")
    assert totals() == first
    assert first["strategies"] == len(demo_strategy_files())


def test_every_shipped_strategy_loads_in_the_agreed_order(demo, capsys):
    call_command("strategy", "list")
    slugs = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    assert slugs[:len(SHIPPED_STRATEGIES)] == SHIPPED_STRATEGIES


def test_the_csp_strategies_are_transcribed_as_published(demo):
    codes = {s: list(StrategyItem.objects.filter(strategy__slug=s, depth=1).order_by("path").values_list("code", flat=True))
             for s in SHIPPED_STRATEGIES[1:]}
    assert codes["nycsp-priorities-2022-24"] == ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5"]
    assert codes["domestic-abuse-strategy-2024-28"] == (
        [f"3.1.{n}" for n in range(1, 6)] + [f"3.2.{n}" for n in range(1, 8)]
        + [f"3.3.{n}" for n in range(1, 11)] + [f"3.4.{n}" for n in range(1, 7)])
    assert codes["serious-violence-duty-response-strategy"] == [
        "4.1a", "4.1b", "4.2a", "4.2b", "4.2c", "4.3a", "4.3b", "4.3c", "4.4a", "4.5a", "4.5b"]
    assert codes["inclusive-communities"] == ["5.1", "5.2", "5.3", "5.4", "5.5"]
    assert "Claire’s Law" in StrategyItem.objects.get(strategy__slug="domestic-abuse-strategy-2024-28", code="3.3.7").title
    # Every objective or commitment has one delivery action, due when its strategy ends.
    for slug in SHIPPED_STRATEGIES[1:]:
        strategy = Strategy.objects.get(slug=slug)
        for item in StrategyItem.objects.filter(strategy=strategy, depth=1):
            assert [a.due_date for a in item.actions.all()] == [strategy.end_date], (slug, item.code)
    grants = Action.objects.filter(item__strategy__slug="serious-violence-duty-response-strategy", item__depth=0)
    assert grants.count() == 8
    assert "29 emergency bleed kits" in grants.get(title="Emergency Bleed Control Kits").outcome_measures
    assert grants.get(title="St Giles Trust").lead_organisations.get().slug == "st-giles-trust"


def test_the_agreed_bodies_report_as_stated_after_the_demo_load(demo):
    from saferhub.partners.tests.test_partners_import import ORGANISATIONS, REPORTING_LINES

    assert set(ORGANISATIONS) <= set(Organisation.objects.values_list("slug", flat=True))
    for slug, reports_to in REPORTING_LINES.items():
        body = GovernanceBody.objects.get(slug=slug)
        assert (body.reports_to.slug if body.reports_to else None) == reports_to, slug


def test_there_is_a_demo_sign_in_for_every_role(demo, capsys):
    assert {login.role for login in DEMO_LOGINS} == set(Role.values)
    for login in DEMO_LOGINS:
        user = authenticate(username=login.username, password=DEMO_PASSWORD)
        assert user is not None and user.role == login.role and user.organisation.slug == login.organisation
    call_command("demo", "logins")
    out = capsys.readouterr().out
    assert DEMO_PASSWORD in out and "police.contributor" in out and "City of York Council" in out


def test_a_new_strategy_file_is_loaded_after_the_known_ones(tmp_path):
    for path in STRATEGY_DATA.iterdir():
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "a-new-strategy.yaml").write_text("slug: a-new-strategy\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a strategy", encoding="utf-8")
    names = [p.stem for p in demo_strategy_files(tmp_path)]
    assert names[:len(SHIPPED_STRATEGIES)] == SHIPPED_STRATEGIES
    assert names[-1] == "a-new-strategy" and "notes" not in names


def test_a_bad_strategy_file_stops_the_demo_load_and_nothing_is_written(db, tmp_path):
    for path in STRATEGY_DATA.iterdir():
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "broken.yaml").write_text("slug: broken\ntitle: Broken\nlevel_names: [Theme]\nowner: nobody\n",
                                          encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        demo_load(strategy_directory=tmp_path)
    assert [(p.row, p.field) for p in caught.value.problems] == [("owner", "owner")]
    assert not Strategy.objects.exists() and not Organisation.objects.exists()


def test_loading_again_keeps_what_staff_changed_unless_refreshed(demo):
    """`make run` loads the demo on every start: it must not undo work done in the app."""
    from saferhub.performance.models import DataReturn, DataValue

    action = Action.objects.filter(item__strategy__slug="joint-vawg-strategy").first()
    original_title = action.title
    Action.objects.filter(pk=action.pk).update(title="Renamed in the app")
    data_return = DataReturn.objects.get(service__slug="idas-community-based-support", quarter_start="2023-10-01")
    DataValue.objects.filter(data_return=data_return).delete()
    call_command("demo", "load")
    action.refresh_from_db()
    assert action.title == "Renamed in the app"
    assert not DataValue.objects.filter(data_return=data_return).exists()
    call_command("demo", "load", "--refresh")
    action = Action.objects.get(reference=action.reference, item__strategy__slug="joint-vawg-strategy")
    assert action.title == original_title
    assert DataValue.objects.filter(data_return__service__slug="idas-community-based-support").exists()


def test_demo_includes_the_performance_framework_and_seed_returns(demo):
    from saferhub.commissioning.models import Service
    from saferhub.performance.models import DataReturn

    assert Service.objects.filter(slug__in=["idas-community-based-support", "foundation-plus-choices"]).count() == 2
    assert DataReturn.objects.filter(quarter_start="2023-10-01").count() == 4


def test_demo_people_register_is_synthetic_and_its_audit_chain_verifies(demo):
    """The demo holds invented people only, every change to them is in the audit trail, and the
    trail verifies (the issue asks the demo database to pass `saferhub audit verify`)."""
    from saferhub.audit.trail import chain_verify
    from saferhub.people.models import Case, Person, RetentionSchedule

    assert Case.objects.count() >= 20 and Person.objects.count() >= 40
    assert RetentionSchedule.objects.filter(case_kind="marac", keep_for_days=2192).exists()
    checked, problem = chain_verify()
    assert problem is None and checked > 0
    call_command("audit", "verify")
