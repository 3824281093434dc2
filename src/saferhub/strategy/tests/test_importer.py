"""Importing strategy files: good YAML, JSON and XLSX files load the tree, actions and progress;
every kind of bad row is reported with file, row and field and nothing is written; re-importing
updates in place."""
import datetime as dt
import json

import pytest
import yaml
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from saferhub.audit.models import ChangeAction, ChangeRecord
from saferhub.core.factories import GovernanceBodyFactory, OrganisationFactory, UserFactory
from saferhub.core.importing import ImportFailed
from saferhub.partners.models import Role
from saferhub.strategy.importer import strategy_import, tracker_template_write
from saferhub.strategy.models import Action, ProgressUpdate, ReportingPeriod, Strategy, StrategyItem
from saferhub.strategy.services import progress_update_record

D = dt.date


@pytest.fixture
def partnership(db, organisation, other_organisation):
    """The organisations and bodies the test files refer to (NYP and IDAS come from conftest)."""
    OrganisationFactory(slug="opfcc", name="Office of the Police, Fire and Crime Commissioner", short_name="OPFCC",
                        type="pcc_office")
    board = GovernanceBodyFactory(slug="vawg-strategic-governance-board", name="VAWG Strategic Governance Board")
    GovernanceBodyFactory(slug="joint-vawg-delivery-group", name="Joint VAWG Delivery Group", reports_to=board)


def good_document() -> dict:
    return {
        "slug": "test-strategy",
        "title": "Test Strategy to Address Violence",
        "short_title": "Test Strategy",
        "summary": "What the strategy is for.",
        "background": "First paragraph.\n\n- a bullet\n- another",
        "level_names": ["Objective", "Outcome", "Aim"],
        "owner": "opfcc",
        "governance_body": "vawg-strategic-governance-board",
        "start_date": D(2022, 6, 1),
        "end_date": D(2025, 3, 31),
        "periods": [
            {"label": "December 2022", "start": D(2022, 6, 1), "end": D(2022, 12, 31), "kind": "half_year"},
            {"label": "June 2023", "start": D(2023, 1, 1), "end": D(2023, 6, 30), "kind": "half_year"},
        ],
        "items": [
            {
                "code": "Objective 1",
                "title": "Listening to All Women and Girls",
                "short_title": "Listen",
                "items": [
                    {
                        "code": "Outcome 1.1",
                        "title": "Proactive engagement with seldom heard women",
                        "items": [{"code": "Aim 1.1.1", "title": "Regularly consult and engage"}],
                        "actions": [{
                            "reference": "T-1.01",
                            "title": "Present the strategy to the Student Health Network",
                            "lead": ["opfcc"],
                            "governance_body": "joint-vawg-delivery-group",
                            "status": "complete",
                            "rag": "green",
                        }],
                    },
                    {"code": "Outcome 1.2", "title": "Parity of services across urban and rural areas"},
                ],
                "actions": [{
                    "reference": "T-1.02",
                    "title": "Establish a Scarborough spoke of the women's centre",
                    "description": "Full wording of the action.",
                    "lead": ["opfcc"],
                    "support": ["north-yorkshire-police", "idas"],
                    "start_date": D(2022, 6, 1),
                    "due_date": D(2023, 12, 31),
                    "timescale": "By the end of 2023",
                    "status": "on_track",
                    "rag": "amber",
                    "outcome_measures": "Women supported in Scarborough.",
                    "progress": [
                        {"period": "June 2023", "actions_taken": "Premises found.\n- lease signed",
                         "next_steps": "Open the hub.", "status": "on_track", "rag": "green"},
                        {"period": "December 2022", "actions_taken": "Spoke established.", "status": "on_track",
                         "rag": "amber", "organisation": "idas"},
                    ],
                }],
            },
            {
                "code": "Objective 2",
                "title": "Tackling the root causes",
                "actions": [
                    {"reference": "T-2.01", "title": "Develop campaign materials", "lead": "idas, opfcc"},
                    {"reference": "T-2.02", "title": "Develop a network of champions", "lead": ["north-yorkshire-police"]},
                ],
            },
        ],
    }


def write_yaml(tmp_path, document, name="strategy.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def counts() -> dict:
    return {
        "strategies": Strategy.objects.count(), "items": StrategyItem.objects.count(),
        "actions": Action.objects.count(), "progress": ProgressUpdate.objects.count(),
        "periods": ReportingPeriod.objects.count(), "audit": ChangeRecord.objects.count(),
        "leads": Action.lead_organisations.through.objects.count(),
        "support": Action.supporting_organisations.through.objects.count(),
    }


def failure_of(paths) -> ImportFailed:
    with pytest.raises(ImportFailed) as caught:
        strategy_import(paths=paths)
    return caught.value


def assert_problem(failure: ImportFailed, *, file, row, field, sheet=""):
    found = [(p.file, p.row, p.field, p.sheet) for p in failure.problems]
    assert any(p.file.endswith(file) and p.row == row and p.field == field and p.sheet == sheet
               for p in failure.problems), f"no problem at {file}:{sheet}!{row} {field}; got {found}"


# Good files ---------------------------------------------------------------------------------------


def assert_good_strategy_loaded():
    strategy = Strategy.objects.get(slug="test-strategy")
    assert strategy.title == "Test Strategy to Address Violence"
    assert strategy.level_names == ["Objective", "Outcome", "Aim"]
    assert strategy.owner.slug == "opfcc"
    assert strategy.governance_body.slug == "vawg-strategic-governance-board"
    assert (strategy.start_date, strategy.end_date) == (D(2022, 6, 1), D(2025, 3, 31))

    tree = [(i.code, i.depth, i.path, i.parent.code if i.parent else None)
            for i in StrategyItem.objects.filter(strategy=strategy).select_related("parent").order_by("path")]
    assert tree == [
        ("Objective 1", 0, "0001", None),
        ("Outcome 1.1", 1, "0001.0001", "Objective 1"),
        ("Aim 1.1.1", 2, "0001.0001.0001", "Outcome 1.1"),
        ("Outcome 1.2", 1, "0001.0002", "Objective 1"),
        ("Objective 2", 0, "0002", None),
    ]
    in_order = list(Action.objects.filter(item__strategy=strategy).order_by("item__path", "order")
                    .values_list("reference", "item__code"))
    assert in_order == [("T-1.02", "Objective 1"), ("T-1.01", "Outcome 1.1"),
                        ("T-2.01", "Objective 2"), ("T-2.02", "Objective 2")]

    action = Action.objects.get(reference="T-1.02")
    assert [o.slug for o in action.lead_organisations.all()] == ["opfcc"]
    assert sorted(o.slug for o in action.supporting_organisations.all()) == ["idas", "north-yorkshire-police"]
    assert (action.start_date, action.due_date, action.status, action.rag) == (D(2022, 6, 1), D(2023, 12, 31), "on_track", "amber")
    assert action.timescale == "By the end of 2023"
    assert action.outcome_measures == "Women supported in Scarborough."
    assert sorted(o.slug for o in Action.objects.get(reference="T-2.01").lead_organisations.all()) == ["idas", "opfcc"]
    assert Action.objects.get(reference="T-2.01").status == "not_started"
    assert Action.objects.get(reference="T-1.01").governance_body.slug == "joint-vawg-delivery-group"

    updates = {u.period.label: u for u in action.progress_updates.select_related("period", "organisation")}
    assert set(updates) == {"December 2022", "June 2023"}
    assert updates["June 2023"].actions_taken == "Premises found.\n- lease signed"
    assert updates["June 2023"].next_steps == "Open the hub."
    assert updates["June 2023"].organisation.slug == "opfcc"  # the first lead, as none is given
    assert updates["December 2022"].organisation.slug == "idas"
    assert (updates["December 2022"].period.start, updates["December 2022"].period.end) == (D(2022, 6, 1), D(2022, 12, 31))


def test_good_yaml_file_loads_tree_order_paths_leads_and_progress(partnership, tmp_path):
    results = strategy_import(paths=[write_yaml(tmp_path, good_document())])

    assert_good_strategy_loaded()
    assert results[0].created and results[0].actions == 4 and results[0].progress == 2
    record = ChangeRecord.objects.get(action=ChangeAction.IMPORT, object_id=str(Strategy.objects.get().pk))
    assert record.after["file"] == "strategy.yaml"
    assert record.after["import"]["actions_created"] == 4


def test_good_json_file_loads_the_same(partnership, tmp_path):
    path = tmp_path / "strategy.json"
    path.write_text(json.dumps(good_document(), default=str), encoding="utf-8")
    strategy_import(paths=[path])
    assert_good_strategy_loaded()


def tracker_workbook(*, strategy=None, items=None, actions=None, progress=None, drop_sheet=None, headers=None):
    """An XLSX tracker as a person would fill it: real date cells in some places, text in others."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    sheets = {
        "Strategy": [["field", "value"]] + (strategy if strategy is not None else [
            ["slug", "test-strategy"], ["title", "Test Strategy to Address Violence"], ["short_title", "Test Strategy"],
            ["level_names", "Objective, Outcome, Aim"], ["owner", "opfcc"],
            ["governance_body", "vawg-strategic-governance-board"],
            ["start_date", dt.datetime(2022, 6, 1)], ["end_date", "2025-03-31"],
        ]),
        "Items": [["code", "parent_code", "title", "short_title", "description"]] + (items if items is not None else [
            ["Objective 1", None, "Listening to All Women and Girls", "Listen", None],
            ["Outcome 1.1", "Objective 1", "Proactive engagement with seldom heard women", None, None],
            ["Aim 1.1.1", "Outcome 1.1", "Regularly consult and engage", None, None],
            ["Outcome 1.2", "Objective 1", "Parity of services across urban and rural areas", None, None],
            ["Objective 2", None, "Tackling the root causes", None, None],
        ]),
        "Actions": [["reference", "item_code", "title", "description", "lead", "support", "governance_body",
                     "start_date", "due_date", "timescale", "status", "rag", "outcome_measures"]] + (
            actions if actions is not None else [
                ["T-1.02", "Objective 1", "Establish a Scarborough spoke of the women's centre", "Full wording of the action.",
                 "opfcc", "north-yorkshire-police, idas", None, dt.datetime(2022, 6, 1), "2023-12-31",
                 "By the end of 2023", "On track", "Amber", "Women supported in Scarborough."],
                ["T-1.01", "Outcome 1.1", "Present the strategy to the Student Health Network", None, "opfcc", None,
                 "joint-vawg-delivery-group", None, None, None, "complete", "green", None],
                ["T-2.01", "Objective 2", "Develop campaign materials", None, "idas, opfcc", None, None, None, None,
                 None, None, None, None],
                ["T-2.02", "Objective 2", "Develop a network of champions", None, "north-yorkshire-police", None, None,
                 None, None, None, None, None, None],
            ]),
        "Progress": [["action_reference", "period", "period_start", "period_end", "actions_taken", "next_steps",
                      "status", "rag", "organisation"]] + (progress if progress is not None else [
            ["T-1.02", "June 2023", dt.datetime(2023, 1, 1), dt.datetime(2023, 6, 30), "Premises found.\n- lease signed",
             "Open the hub.", "on_track", "green", None],
            ["T-1.02", "December 2022", "2022-06-01", "2022-12-31", "Spoke established.", None, "on_track", "amber", "idas"],
        ]),
    }
    for name, rows in sheets.items():
        if name == drop_sheet:
            continue
        sheet = workbook.create_sheet(name)
        if headers and name in headers:
            rows = [headers[name]] + rows[1:]
        for row in rows:
            sheet.append(row)
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                if isinstance(cell.value, dt.datetime):
                    cell.number_format = "dd/mm/yyyy"
    return workbook


def save(workbook, tmp_path, name="tracker.xlsx"):
    path = tmp_path / name
    workbook.save(path)
    return path


def test_good_xlsx_tracker_loads_tree_order_paths_leads_and_progress(partnership, tmp_path):
    strategy_import(paths=[save(tracker_workbook(), tmp_path)])

    assert_good_strategy_loaded()
    # The kind of a period given only by dates follows from them.
    assert ReportingPeriod.objects.get(label="June 2023").kind == "half_year"


def test_xlsx_progress_rows_may_name_a_period_declared_on_another_row(partnership, tmp_path):
    progress = [
        ["T-1.02", "June 2023", "2023-01-01", "2023-06-30", "Premises found.", None, "on_track", None, None],
        ["T-2.01", "June 2023", None, None, "Materials drafted.", None, "on_track", None, None],
    ]
    strategy_import(paths=[save(tracker_workbook(progress=progress), tmp_path)])
    assert ProgressUpdate.objects.filter(period__label="June 2023").count() == 2


# Bad files: every kind of problem names file, row and field, and nothing is written --------------


def mutate(change):
    document = good_document()
    change(document)
    return document


def first_action(document):
    return document["items"][0]["actions"][0]


BAD_YAML = {
    "no title": (lambda d: d.pop("title"), "title", "title"),
    "no slug": (lambda d: d.pop("slug"), "slug", "slug"),
    "bad slug": (lambda d: d.update(slug="Test Strategy"), "slug", "slug"),
    "no level names": (lambda d: d.pop("level_names"), "level_names", "level_names"),
    "unknown owner": (lambda d: d.update(owner="nobody"), "owner", "owner"),
    "unknown strategy body": (lambda d: d.update(governance_body="no-such-board"), "governance_body", "governance_body"),
    "end before start": (lambda d: d.update(end_date=D(2021, 1, 1)), "end_date", "end_date"),
    "unknown top-level field": (lambda d: d.update(owners="opfcc"), "owners", "owners"),
    "period ends before it starts": (lambda d: d["periods"][0].update(end=D(2022, 1, 1)), "periods[0].end", "end"),
    "period date not a date": (lambda d: d["periods"][1].update(start="January"), "periods[1].start", "start"),
    "item without title": (lambda d: d["items"][1].pop("title"), "items[1].title", "title"),
    "duplicate item code": (lambda d: d["items"][1].update(code="Objective 1"), "items[1].code", "code"),
    "item nested deeper than the levels": (
        lambda d: d["items"][0]["items"][0]["items"][0].update(items=[{"code": "X", "title": "Too deep"}]),
        "items[0].items[0].items[0].items[0].items", "items"),
    "unknown item field": (lambda d: d["items"][0].update(colour="red"), "items[0].colour", "colour"),
    "action without reference": (lambda d: first_action(d).pop("reference"), "items[0].actions[0].reference", "reference"),
    "duplicate reference": (lambda d: d["items"][1]["actions"][1].update(reference="T-2.01"),
                            "items[1].actions[1].reference", "reference"),
    "action without title": (lambda d: first_action(d).pop("title"), "items[0].actions[0].title", "title"),
    "action title too long": (lambda d: first_action(d).update(title="x" * 301), "items[0].actions[0].title", "title"),
    "action without lead": (lambda d: first_action(d).pop("lead"), "items[0].actions[0].lead", "lead"),
    "unknown lead": (lambda d: first_action(d).update(lead=["opfcc", "nobody"]), "items[0].actions[0].lead[1]", "lead"),
    "unknown supporter": (lambda d: first_action(d).update(support=["idas", "ghost-org"]),
                          "items[0].actions[0].support[1]", "support"),
    "unknown action body": (lambda d: first_action(d).update(governance_body="no-board"),
                            "items[0].actions[0].governance_body", "governance_body"),
    "text in a date": (lambda d: first_action(d).update(due_date="next spring"), "items[0].actions[0].due_date", "due_date"),
    "impossible date": (lambda d: first_action(d).update(due_date="2023-02-30"), "items[0].actions[0].due_date", "due_date"),
    "due before start": (lambda d: first_action(d).update(due_date=D(2022, 1, 1)), "items[0].actions[0].due_date", "due_date"),
    "bad status": (lambda d: first_action(d).update(status="done"), "items[0].actions[0].status", "status"),
    "bad rag": (lambda d: first_action(d).update(rag="purple"), "items[0].actions[0].rag", "rag"),
    "unknown action field": (lambda d: first_action(d).update(leads=["opfcc"]), "items[0].actions[0].leads", "leads"),
    "progress for an undeclared period": (lambda d: first_action(d)["progress"][0].update(period="March 2024"),
                                          "items[0].actions[0].progress[0].period", "period"),
    "progress twice for a period": (lambda d: first_action(d)["progress"][1].update(period="June 2023"),
                                    "items[0].actions[0].progress[1].period", "period"),
    "progress without text": (lambda d: first_action(d)["progress"][1].pop("actions_taken"),
                              "items[0].actions[0].progress[1].actions_taken", "actions_taken"),
    "progress by an unknown organisation": (lambda d: first_action(d)["progress"][1].update(organisation="nobody"),
                                            "items[0].actions[0].progress[1].organisation", "organisation"),
    "progress with a bad status": (lambda d: first_action(d)["progress"][0].update(status="finished"),
                                   "items[0].actions[0].progress[0].status", "status"),
}


@pytest.mark.parametrize("case", BAD_YAML)
def test_each_kind_of_bad_yaml_is_reported_with_file_row_and_field_and_nothing_is_written(partnership, tmp_path, case):
    change, row, field = BAD_YAML[case]
    before = counts()
    failure = failure_of([write_yaml(tmp_path, mutate(change))])
    assert_problem(failure, file="strategy.yaml", row=row, field=field)
    assert counts() == before


def test_a_bad_last_action_of_many_in_yaml_is_named_and_nothing_is_written(partnership, tmp_path):
    document = good_document()
    document["items"][1]["actions"] = [
        {"reference": f"T-9.{n:03d}", "title": f"Action {n}", "lead": ["opfcc"], "due_date": D(2024, 3, 31)}
        for n in range(1, 201)
    ]
    document["items"][1]["actions"][-1]["due_date"] = "the end of March"
    before = counts()
    failure = failure_of([write_yaml(tmp_path, document)])
    assert [(p.row, p.field) for p in failure.problems] == [("items[1].actions[199].due_date", "due_date")]
    assert counts() == before


def test_a_period_already_stored_with_other_dates_is_an_error(partnership, tmp_path):
    ReportingPeriod.objects.create(label="June 2023", start=D(2023, 4, 1), end=D(2023, 6, 30))
    failure = failure_of([write_yaml(tmp_path, good_document())])
    assert_problem(failure, file="strategy.yaml", row="periods[1].start", field="start")
    assert not Strategy.objects.exists()


def many_actions(count: int) -> list[list]:
    return [[f"T-9.{n:03d}", "Objective 2", f"Action number {n}", None, "opfcc", None, None, None, "2024-03-31",
             None, "on_track", "green", None] for n in range(1, count + 1)]


def with_last_action(change):
    """60 good actions, the last changed by `change`; returns (actions, its row number)."""
    actions = many_actions(60)
    change(actions[-1])
    return actions, 61


def set_cell(column, value):
    columns = ["reference", "item_code", "title", "description", "lead", "support", "governance_body", "start_date",
               "due_date", "timescale", "status", "rag", "outcome_measures"]

    def change(row):
        row[columns.index(column)] = value
    return change


BAD_XLSX_ACTIONS = {
    "unknown item code": ("item_code", "Objective 9"),
    "text in a date cell": ("due_date", "end of March"),
    "unknown lead": ("lead", "opfcc, nobody"),
    "no lead": ("lead", None),
    "unknown supporter": ("support", "ghost-org"),
    "unknown governance body": ("governance_body", "no-such-board"),
    "duplicate reference": ("reference", "T-9.001"),
    "no title": ("title", None),
    "bad status": ("status", "done"),
    "bad rag": ("rag", "blue"),
    "a number in a date cell": ("start_date", 2023),
    "due before start": ("start_date", "2025-01-01"),
}


@pytest.mark.parametrize("case", BAD_XLSX_ACTIONS)
def test_a_bad_last_row_of_many_in_an_xlsx_tracker_is_reported_and_nothing_is_written(partnership, tmp_path, case):
    column, value = BAD_XLSX_ACTIONS[case]
    actions, row = with_last_action(set_cell(column, value))
    field = "due_date" if case == "due before start" else column
    before = counts()
    failure = failure_of([save(tracker_workbook(actions=actions), tmp_path)])
    assert_problem(failure, file="tracker.xlsx", row=row, field=field, sheet="Actions")
    assert counts() == before


def test_xlsx_item_problems_name_their_row(partnership, tmp_path):
    items = [
        ["Objective 1", None, "Listening", None, None],
        ["Outcome 1.1", "Objective 7", "Engagement", None, None],  # no such parent
        ["Outcome 1.2", "Objective 2", "Parity", None, None],  # parent comes later
        ["Objective 2", None, "Root causes", None, None],
        ["Objective 2", None, None, None, None],  # duplicate code, no title
    ]
    before = counts()
    failure = failure_of([save(tracker_workbook(items=items, actions=[], progress=[]), tmp_path)])
    assert_problem(failure, file="tracker.xlsx", row=3, field="parent_code", sheet="Items")
    assert_problem(failure, file="tracker.xlsx", row=4, field="parent_code", sheet="Items")
    assert_problem(failure, file="tracker.xlsx", row=6, field="code", sheet="Items")
    assert_problem(failure, file="tracker.xlsx", row=6, field="title", sheet="Items")
    assert "later row" in next(p.message for p in failure.problems if p.row == 4)
    assert counts() == before


def test_xlsx_progress_problems_name_their_row(partnership, tmp_path):
    progress = [
        ["T-1.02", "June 2023", "2023-01-01", "2023-06-30", "Premises found.", None, "on_track", None, None],
        ["T-7.77", "June 2023", None, None, "Unknown action.", None, "on_track", None, None],
        ["T-2.01", "March 2024", None, None, "Undeclared period.", None, "on_track", None, None],
        ["T-2.02", "June 2023", "2023-01-01", "2023-07-31", "Other dates.", None, "on_track", None, None],
        ["T-2.01", "June 2023", None, None, "Bad date.", None, "on_track", None, "nobody"],
    ]
    before = counts()
    failure = failure_of([save(tracker_workbook(progress=progress), tmp_path)])
    assert_problem(failure, file="tracker.xlsx", row=3, field="action_reference", sheet="Progress")
    assert_problem(failure, file="tracker.xlsx", row=4, field="period", sheet="Progress")
    assert_problem(failure, file="tracker.xlsx", row=5, field="period_end", sheet="Progress")
    assert_problem(failure, file="tracker.xlsx", row=6, field="organisation", sheet="Progress")
    assert counts() == before


def test_xlsx_strategy_sheet_problems_name_their_row(partnership, tmp_path):
    strategy = [["slug", "test-strategy"], ["title", None], ["level_names", "Objective"], ["owner", "nobody"],
                ["colour", "red"], ["start_date", "soon"]]
    failure = failure_of([save(tracker_workbook(strategy=strategy, items=[], actions=[], progress=[]), tmp_path)])
    assert_problem(failure, file="tracker.xlsx", row=3, field="title", sheet="Strategy")
    assert_problem(failure, file="tracker.xlsx", row=5, field="owner", sheet="Strategy")
    assert_problem(failure, file="tracker.xlsx", row=6, field="field", sheet="Strategy")
    assert_problem(failure, file="tracker.xlsx", row=7, field="start_date", sheet="Strategy")


def test_xlsx_missing_sheets_and_columns_are_reported(partnership, tmp_path):
    failure = failure_of([save(tracker_workbook(drop_sheet="Items"), tmp_path, "no-items.xlsx")])
    assert any(p.field == "Items" and "no 'Items' sheet" in p.message for p in failure.problems)

    headers = {"Actions": ["reference", "item_code", "title", "leads"]}
    failure = failure_of([save(tracker_workbook(headers=headers), tmp_path, "columns.xlsx")])
    assert_problem(failure, file="columns.xlsx", row=1, field="leads", sheet="Actions")  # unknown column
    assert_problem(failure, file="columns.xlsx", row=1, field="lead", sheet="Actions")  # required column missing
    assert not Strategy.objects.exists()


def test_a_file_that_is_not_a_workbook_is_reported(partnership, tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip file")
    failure = failure_of([path])
    assert failure.problems[0].file.endswith("broken.xlsx") and failure.problems[0].field == "file"


def test_every_problem_in_every_file_is_reported_and_good_files_are_not_written_either(partnership, tmp_path):
    good = write_yaml(tmp_path, good_document(), "good.yaml")
    bad = mutate(lambda d: (d.update(slug="other-strategy", owner="nobody"), first_action(d).update(status="done"),
                            d["items"][1]["actions"][0].update(lead=[])))
    failure = failure_of([good, write_yaml(tmp_path, bad, "bad.yaml")])
    assert {(p.file.rsplit("/", 1)[-1], p.field) for p in failure.problems} == {
        ("bad.yaml", "owner"), ("bad.yaml", "status"), ("bad.yaml", "lead")}
    assert counts()["strategies"] == 0 and counts()["actions"] == 0


def test_two_files_with_the_same_slug_are_refused(partnership, tmp_path):
    failure = failure_of([write_yaml(tmp_path, good_document(), "a.yaml"), write_yaml(tmp_path, good_document(), "b.yaml")])
    assert_problem(failure, file="b.yaml", row="slug", field="slug")


# Re-importing ------------------------------------------------------------------------------------


def test_importing_the_same_file_again_changes_nothing_and_duplicates_nothing(partnership, tmp_path):
    path = write_yaml(tmp_path, good_document())
    strategy_import(paths=[path])
    first = counts()
    ids = dict(Action.objects.values_list("reference", "pk"))
    updated_at = dict(Action.objects.values_list("reference", "updated_at"))

    results = strategy_import(paths=[path])

    assert {k: v for k, v in counts().items() if k != "audit"} == {k: v for k, v in first.items() if k != "audit"}
    assert counts()["audit"] == first["audit"] + 1  # one import record, nothing else
    assert dict(Action.objects.values_list("reference", "pk")) == ids
    assert dict(Action.objects.values_list("reference", "updated_at")) == updated_at
    assert not results[0].created and results[0].actions_created == results[0].actions_updated == 0
    assert ChangeRecord.objects.filter(action=ChangeAction.IMPORT).count() == 2


def test_xlsx_reimport_is_idempotent(partnership, tmp_path):
    path = save(tracker_workbook(), tmp_path)
    strategy_import(paths=[path])
    first = counts()
    strategy_import(paths=[path])
    assert counts()["actions"] == first["actions"] and counts()["items"] == first["items"]
    assert counts()["progress"] == first["progress"]


def test_reimport_updates_in_place_moves_reorders_and_removes(partnership, organisation, tmp_path):
    strategy_import(paths=[write_yaml(tmp_path, good_document())])
    kept_id = Action.objects.get(reference="T-1.02").pk
    objective_two_id = StrategyItem.objects.get(code="Objective 2").pk
    # Progress recorded in the application for a period the file does not mention survives.
    recorder = UserFactory(role=Role.STRATEGY_MANAGER, organisation=organisation)
    later = ReportingPeriod.objects.create(label="December 2023", start=D(2023, 7, 1), end=D(2023, 12, 31))
    progress_update_record(user=recorder, action=Action.objects.get(pk=kept_id), period=later,
                           actions_taken="Hub opened.", status="complete", rag="green")

    document = good_document()
    objective_one, objective_two = document["items"]
    document["items"] = [objective_two, objective_one]  # swap the objectives
    objective_two["actions"] = [objective_two["actions"][0]]  # T-2.02 removed
    moved = objective_one["actions"].pop()  # T-1.02 moves to Outcome 1.2 and is renamed
    moved["title"] = "Open the Scarborough women's centre hub"
    objective_one["items"][1]["actions"] = [moved]
    objective_one["items"].append({"code": "Outcome 1.3", "title": "A new outcome"})
    strategy_import(paths=[write_yaml(tmp_path, document)])

    tree = list(StrategyItem.objects.order_by("path").values_list("code", "path"))
    assert tree == [("Objective 2", "0001"), ("Objective 1", "0002"), ("Outcome 1.1", "0002.0001"),
                    ("Aim 1.1.1", "0002.0001.0001"), ("Outcome 1.2", "0002.0002"), ("Outcome 1.3", "0002.0003")]
    assert StrategyItem.objects.get(code="Objective 2").pk == objective_two_id
    action = Action.objects.get(reference="T-1.02")
    assert action.pk == kept_id
    assert action.item.code == "Outcome 1.2" and action.title == "Open the Scarborough women's centre hub"
    assert not Action.objects.filter(reference="T-2.02").exists()
    assert set(action.progress_updates.values_list("period__label", flat=True)) == {
        "December 2022", "June 2023", "December 2023"}


def test_reimport_removes_actions_the_file_does_not_have_even_without_references(partnership, tmp_path):
    path = write_yaml(tmp_path, good_document())
    strategy_import(paths=[path])
    item = StrategyItem.objects.get(code="Objective 2")
    for title in ["Added in the app", "Also added in the app"]:
        Action.objects.create(item=item, title=title, reference="")
    results = strategy_import(paths=[path])
    assert sorted(Action.objects.values_list("reference", flat=True)) == ["T-1.01", "T-1.02", "T-2.01", "T-2.02"]
    assert results[0].actions_removed == 2


def test_items_without_codes_are_matched_by_position(partnership, tmp_path):
    document = good_document()
    for objective in document["items"]:
        objective.pop("code")
    strategy_import(paths=[write_yaml(tmp_path, document)])
    ids = list(StrategyItem.objects.filter(depth=0).order_by("path").values_list("pk", flat=True))
    document["items"][0]["title"] = "Listening, retitled"
    strategy_import(paths=[write_yaml(tmp_path, document)])
    assert list(StrategyItem.objects.filter(depth=0).order_by("path").values_list("pk", flat=True)) == ids
    assert StrategyItem.objects.get(pk=ids[0]).title == "Listening, retitled"


def test_leads_changed_in_the_file_are_replaced(partnership, tmp_path):
    strategy_import(paths=[write_yaml(tmp_path, good_document())])
    document = good_document()
    first_action(document).update(lead=["idas"], support=[])
    results = strategy_import(paths=[write_yaml(tmp_path, document)])
    action = Action.objects.get(reference="T-1.02")
    assert [o.slug for o in action.lead_organisations.all()] == ["idas"]
    assert not action.supporting_organisations.exists()
    assert results[0].actions_updated == 1


# Who may import ----------------------------------------------------------------------------------


def test_only_strategy_managers_may_import(partnership, make_user, tmp_path):
    path = write_yaml(tmp_path, good_document())
    with pytest.raises(PermissionDenied):
        strategy_import(paths=[path], user=make_user(Role.CONTRIBUTOR))
    manager = make_user(Role.STRATEGY_MANAGER, username="importer")
    strategy_import(paths=[path], user=manager)
    assert ProgressUpdate.objects.filter(recorded_by=manager).count() == 2
    assert ChangeRecord.objects.get(action=ChangeAction.IMPORT).actor == manager


# The template and the command --------------------------------------------------------------------


def test_the_template_has_every_sheet_and_column_and_imports_once_filled(partnership, tmp_path):
    path = tracker_template_write(tmp_path / "template.xlsx")
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Strategy", "Items", "Actions", "Progress"]
    assert [c.value for c in workbook["Actions"][1]][:3] == ["reference", "item_code", "title"]
    assert [c.value for c in workbook["Strategy"]["A"]][1:4] == ["slug", "title", "short_title"]

    filled = {"slug": "from-template", "title": "From the template", "level_names": "Priority, Objective"}
    for row in workbook["Strategy"].iter_rows(min_row=2):
        row[1].value = filled.get(row[0].value)
    workbook["Items"].append(["1", None, "A priority"])
    workbook["Actions"].append(["A-1", "1", "Do the thing", None, "opfcc"])
    workbook.save(path)
    strategy_import(paths=[path])
    assert Action.objects.get(reference="A-1").item.strategy.slug == "from-template"


def test_strategy_command_imports_lists_and_writes_the_template(partnership, tmp_path, capsys):
    call_command("strategy", "import", str(write_yaml(tmp_path, good_document())))
    assert "created test-strategy" in capsys.readouterr().out

    call_command("strategy", "list")
    assert capsys.readouterr().out == "test-strategy\tTest Strategy to Address Violence\n"

    call_command("strategy", "template", "--output", str(tmp_path / "t.xlsx"))
    assert (tmp_path / "t.xlsx").exists()


def test_strategy_command_prints_every_problem_and_fails(partnership, tmp_path, capsys):
    document = mutate(lambda d: (first_action(d).update(lead=["nobody"]), d["items"][1].pop("title")))
    path = write_yaml(tmp_path, document, "bad.yaml")
    with pytest.raises(CommandError) as caught:
        call_command("strategy", "import", str(path))
    assert caught.value.returncode == 1
    lines = capsys.readouterr().err.splitlines()
    assert f"{path}:items[0].actions[0].lead[0]: lead: Unknown organisation 'nobody'" in lines
    assert f"{path}:items[1].title: title: Enter the item's title" in lines
    assert not Strategy.objects.exists()


def test_xlsx_problem_lines_name_sheet_and_row(partnership, tmp_path, capsys):
    actions, row = with_last_action(set_cell("lead", "nobody, opfcc, ghost"))
    path = save(tracker_workbook(actions=actions), tmp_path)
    with pytest.raises(CommandError):
        call_command("strategy", "import", str(path))
    assert f"{path}:Actions!{row}: lead: Unknown organisations 'nobody', 'ghost'" in capsys.readouterr().err.splitlines()


def test_bad_yaml_syntax_is_reported_with_its_line(partnership, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("slug: x\ntitle: [unclosed\n", encoding="utf-8")
    failure = failure_of([path])
    assert failure.problems[0].field == "file" and str(failure.problems[0].row).startswith("line ")



@pytest.mark.django_db
def test_reimport_refuses_to_drop_an_action_with_recorded_progress(tmp_path, manager):
    """Re-importing an older file must not silently delete work recorded in the app."""
    import yaml

    from saferhub.core.factories import OrganisationFactory
    from saferhub.core.importing import ImportFailed
    from saferhub.strategy.importer import strategy_import
    from saferhub.strategy.models import Action, ProgressUpdate
    from saferhub.strategy.services import progress_update_record, reporting_period_get_or_create
    import datetime as dt

    OrganisationFactory(slug="opfcc", name="OPFCC")
    doc = {"slug": "s", "title": "S", "level_names": ["Objective"], "items": [{"code": "1", "title": "One", "actions": [
        {"reference": "A1", "title": "Keep me", "lead": ["opfcc"]},
        {"reference": "A2", "title": "Drop me", "lead": ["opfcc"]}]}]}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc))
    strategy_import(paths=[path])
    period = reporting_period_get_or_create(label="June 2024", start=dt.date(2024, 1, 1), end=dt.date(2024, 6, 30))
    progress_update_record(user=manager, action=Action.objects.get(reference="A2"), period=period,
                           actions_taken="Done a lot", status="on_track", rag="green")
    doc["items"][0]["actions"].pop()
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ImportFailed) as failure:
        strategy_import(paths=[path])
    assert "'A2' has progress recorded" in str(failure.value)
    assert Action.objects.filter(reference="A2").exists() and ProgressUpdate.objects.count() == 1
