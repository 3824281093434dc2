"""The strategy pages and the action tracker as a partnership officer uses them: reading, filtering,
sorting, paging, downloading, and a page whose queries do not grow with the number of actions."""
import csv
import datetime as dt
import io
import re

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from saferhub.core.factories import (
    ActionFactory, GovernanceBodyFactory, OrganisationFactory, ReportingPeriodFactory, StrategyFactory,
    StrategyItemFactory, UserFactory,
)
from saferhub.strategy.models import ActionStatus, ProgressReport, ProgressUpdate, Rag, Strategy

TRACKER = "/strategies/actions/"


@pytest.fixture
def signed_in(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def vawg(db, organisation, other_organisation):
    board = GovernanceBodyFactory(slug="vawg-board", name="VAWG Strategic Governance Board")
    strategy = StrategyFactory(
        slug="vawg", title="Joint VAWG Strategy", short_title="VAWG Strategy", summary="Ending violence against women and girls.",
        level_names=["Objective", "Outcome", "Aim"], owner=other_organisation, governance_body=board,
    )
    o1 = StrategyItemFactory(strategy=strategy, code="1", order=1, short_title="Listen to all women and girls")
    o11 = StrategyItemFactory(strategy=strategy, parent=o1, code="1.1", order=1, title="Engage seldom heard women")
    o2 = StrategyItemFactory(strategy=strategy, code="2", order=2, short_title="Tackle perpetrators")
    today = timezone.localdate()
    late = ActionFactory(item=o11, reference="VAWG-1.01", title="Run listening events", leads=[organisation],
                         supporters=[other_organisation], due_date=today - dt.timedelta(days=3), status=ActionStatus.AT_RISK, rag=Rag.AMBER)
    soon = ActionFactory(item=o11, reference="VAWG-1.02", title="Publish what we heard", leads=[other_organisation],
                         supporters=[organisation], due_date=today + dt.timedelta(days=10), rag=Rag.GREEN)
    done = ActionFactory(item=o2, reference="VAWG-2.01", title="Commission a perpetrator programme", leads=[other_organisation],
                         due_date=today - dt.timedelta(days=30), status=ActionStatus.COMPLETE, rag=Rag.GREEN)
    period = ReportingPeriodFactory(label="June 2023", start=dt.date(2023, 1, 1), end=dt.date(2023, 6, 30))
    ProgressUpdate.objects.create(action=late, period=period, actions_taken="Held four events across the county.",
                                  next_steps="Hold two more in York.", status=ActionStatus.AT_RISK, rag=Rag.AMBER)
    return {"strategy": strategy, "o1": o1, "o11": o11, "o2": o2, "late": late, "soon": soon, "done": done,
            "period": period, "board": board}


def rows(response) -> list[str]:
    """The reference in the first cell of each row of the tracker's table."""
    body = response.content.decode().split('<tbody class="govuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"\s+", " ", cell).strip() for cell in re.findall(r"<tr class=\"govuk-table__row\">\s*<td[^>]*>([^<]*)</td>", body)]


# --- Signing in and reading the strategies -------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/strategies/", "/strategies/vawg/", TRACKER, TRACKER + "mine/", TRACKER + "export.csv"])
def test_anonymous_is_sent_to_sign_in(client, vawg, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_anonymous_is_sent_to_sign_in_from_an_item(client, vawg):
    response = client.get(f"/strategies/vawg/items/{vawg['o1'].pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/")


def test_strategies_page_shows_owner_body_and_counts(signed_in, vawg):
    html = signed_in.get("/strategies/").content.decode()
    assert "Joint VAWG Strategy" in html and "Ending violence against women and girls." in html
    assert "IDAS" in html
    assert '<a class="govuk-link" href="/partners/bodies/vawg-board/">VAWG Strategic Governance Board</a>' in html
    assert "3 actions" in html
    assert "Not recorded" in html  # the test strategy has no dates
    assert "At risk: 1" in html and "On track: 1" in html and "Complete: 1" in html
    # The completed late action is not overdue; the open late one is.
    assert 'href="/strategies/actions/?strategy=vawg&amp;overdue=1">1 overdue action</a>' in html


def test_strategy_page_shows_the_tree_with_level_names_and_counts(signed_in, vawg):
    ProgressReport.objects.create(strategy=vawg["strategy"], period=vawg["period"], title="VAWG Progress Update June 2023")
    response = signed_in.get("/strategies/vawg/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="/strategies/vawg/items/{vawg["o1"].pk}/">Objective 1</a>' in html
    assert f'href="/strategies/vawg/items/{vawg["o11"].pk}/">Outcome 1.1</a>' in html
    # Objective 1 counts the two actions of its outcome.
    assert "2 actions (1 amber, 1 green), <strong>1 overdue</strong>" in html
    assert 'href="/strategies/actions/?strategy=vawg"' in html
    assert "VAWG Progress Update June 2023" in html and "Draft" in html


def test_strategy_dates_read_naturally(signed_in, vawg):
    strategy = vawg["strategy"]
    strategy.start_date = dt.date(2022, 6, 1)
    strategy.save()
    assert "From 1 June 2022" in signed_in.get("/strategies/vawg/").content.decode()
    strategy.end_date = dt.date(2025, 3, 31)
    strategy.save()
    assert "1 June 2022 to 31 March 2025" in signed_in.get("/strategies/").content.decode()


def test_strategy_page_for_an_unknown_strategy_is_404(signed_in, vawg):
    assert signed_in.get("/strategies/nothing-here/").status_code == 404


def test_item_page_shows_path_children_and_actions_with_latest_progress(signed_in, vawg):
    html = signed_in.get(f"/strategies/vawg/items/{vawg['o11'].pk}/").content.decode()
    # Breadcrumbs run up the tree.
    crumbs = html.split('class="govuk-breadcrumbs', 1)[1].split("</nav>", 1)[0]
    assert "Strategies" in crumbs and "VAWG Strategy" in crumbs and "Objective 1" in crumbs
    assert "Engage seldom heard women" in html
    assert f'href="/strategies/actions/{vawg["late"].pk}/">Run listening events</a>' in html
    assert "Held four events across the county." in html and "Next steps: Hold two more in York." in html
    assert "Overdue" in html and "Due soon" in html
    assert f"?strategy=vawg&amp;item={vawg['o11'].pk}" in html


def test_item_page_lists_child_items(signed_in, vawg):
    html = signed_in.get(f"/strategies/vawg/items/{vawg['o1'].pk}/").content.decode()
    assert "Outcomes under this objective" in html
    assert f'href="/strategies/vawg/items/{vawg["o11"].pk}/">Outcome 1.1</a>' in html


def test_item_of_another_strategy_is_404(signed_in, vawg):
    StrategyFactory(slug="da")
    assert signed_in.get(f"/strategies/da/items/{vawg['o1'].pk}/").status_code == 404


# --- The action tracker --------------------------------------------------------------------------

def test_tracker_lists_every_action_with_its_tags(signed_in, vawg):
    response = signed_in.get(TRACKER)
    html = response.content.decode()
    assert rows(response) == ["VAWG-1.01", "VAWG-1.02", "VAWG-2.01"]
    assert "3 actions" in html
    assert f'href="/strategies/actions/{vawg["soon"].pk}/"' in html
    assert ">Outcome 1.1</a>" in html
    assert '<abbr title="North Yorkshire Police">NYP</abbr>' in html
    assert "At risk" in html and "Amber" in html and "June 2023" in html
    # Overdue and due soon are said in words as well as marked.
    assert html.count(">\n  Overdue\n</strong>") == 1 and html.count(">\n  Due soon\n</strong>") == 1
    assert "saferhub-overdue" in html and "saferhub-due-soon" in html


@pytest.mark.parametrize("query, expected", [
    ("strategy=vawg", ["VAWG-1.01", "VAWG-1.02", "VAWG-2.01"]),
    ("lead=idas", ["VAWG-1.02", "VAWG-2.01"]),
    ("status=at_risk&status=complete", ["VAWG-1.01", "VAWG-2.01"]),
    ("rag=green", ["VAWG-1.02", "VAWG-2.01"]),
    ("overdue=1", ["VAWG-1.01"]),
    ("due_soon=1", ["VAWG-1.02"]),
    ("body=vawg-board", ["VAWG-1.01", "VAWG-1.02", "VAWG-2.01"]),
    ("q=perpetrator", ["VAWG-2.01"]),
])
def test_tracker_filters(signed_in, vawg, query, expected):
    response = signed_in.get(f"{TRACKER}?{query}")
    assert rows(response) == expected
    assert "match your filters" in response.content.decode()


def test_tracker_item_filter_includes_items_underneath(signed_in, vawg):
    response = signed_in.get(f"{TRACKER}?strategy=vawg&item={vawg['o1'].pk}")
    assert rows(response) == ["VAWG-1.01", "VAWG-1.02"]
    html = response.content.decode()
    # The item choice appears once a strategy is chosen, with the chosen item selected.
    assert f'<option value="{vawg["o1"].pk}" selected>' in html


def test_filter_form_keeps_what_was_chosen(signed_in, vawg):
    html = signed_in.get(f"{TRACKER}?q=events&status=at_risk&overdue=1&lead=north-yorkshire-police").content.decode()
    assert re.search(r'name="q" type="search"[^>]* value="events"', html)
    assert re.search(r'name="status" type="checkbox" value="at_risk" checked', html)
    assert not re.search(r'name="status" type="checkbox" value="on_track" checked', html)
    assert re.search(r'name="overdue" type="checkbox" value="1" checked', html)
    assert '<option value="north-yorkshire-police" selected>' in html
    # Every control has a label.
    for control_id in re.findall(r'<(?:input|select)[^>]* id="([^"]+)"', html):
        assert f'for="{control_id}"' in html, control_id


def test_tracker_sorts_by_column_headers(signed_in, vawg):
    response = signed_in.get(f"{TRACKER}?sort=due&order=desc")
    assert rows(response) == ["VAWG-1.02", "VAWG-1.01", "VAWG-2.01"]
    html = response.content.decode()
    assert re.search(r'aria-sort="descending">\s*<a class="govuk-link govuk-link--no-visited-state" href="\?sort=due"', html)
    assert html.count('aria-sort="none"') == 5
    assert rows(signed_in.get(f"{TRACKER}?sort=title")) == ["VAWG-2.01", "VAWG-1.02", "VAWG-1.01"]
    assert rows(signed_in.get(f"{TRACKER}?sort=status")) == ["VAWG-1.02", "VAWG-1.01", "VAWG-2.01"]


def test_sort_links_keep_the_filters(signed_in, vawg):
    html = signed_in.get(f"{TRACKER}?rag=green&sort=title").content.decode()
    assert 'href="?rag=green&amp;sort=title&amp;order=desc"' in html
    assert 'href="?rag=green&amp;sort=reference"' in html


def test_tracker_paginates_fifty_a_page(signed_in, db):
    item = StrategyItemFactory()
    for n in range(60):
        ActionFactory(item=item, reference=f"A-{n:03d}", order=n)
    first = signed_in.get(f"{TRACKER}?sort=reference")
    assert len(rows(first)) == 50 and rows(first)[0] == "A-000"
    html = first.content.decode()
    assert "60 actions" in html and "Showing 1 to 50 of 60." in html
    assert 'class="govuk-pagination' in html and 'href="?sort=reference&amp;page=2"' in html
    second = signed_in.get(f"{TRACKER}?sort=reference&page=2")
    assert rows(second) == [f"A-{n:03d}" for n in range(50, 60)]
    assert 'aria-current="page"' in second.content.decode()


def test_no_matches_says_so(signed_in, vawg):
    html = signed_in.get(f"{TRACKER}?q=nothing+like+this").content.decode()
    assert "0 actions match your filters" in html and "No actions match these filters" in html


# --- Exports -------------------------------------------------------------------------------------

def test_csv_export_matches_the_filtered_sorted_view(signed_in, vawg):
    query = "rag=green&sort=reference&order=desc"
    page = rows(signed_in.get(f"{TRACKER}?{query}"))
    html = signed_in.get(f"{TRACKER}?{query}").content.decode()
    assert f'href="/strategies/actions/export.csv?{query.replace("&", "&amp;")}"' in html
    response = signed_in.get(f"{TRACKER}export.csv?{query}")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row["Reference"] for row in table] == page == ["VAWG-2.01", "VAWG-1.02"]
    assert table[1]["Lead organisations"] == "IDAS"
    assert table[1]["Supporting organisations"] == "North Yorkshire Police"
    assert table[1]["Due date"] == vawg["soon"].due_date.isoformat()
    assert table[1]["Deadline"] == "Due soon"
    assert table[1]["Governance body"] == "VAWG Strategic Governance Board"


def test_csv_export_defuses_spreadsheet_formulas(signed_in, vawg):
    ActionFactory(item=vawg["o2"], reference="VAWG-9", title="=HYPERLINK(\"x\")")
    response = signed_in.get(f"{TRACKER}export.csv?q=VAWG-9")
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert table[0]["Action"] == "'=HYPERLINK(\"x\")"


@pytest.mark.parametrize("sort", ["lead", "status", "rag", "title", "due&order=desc"])
def test_csv_export_follows_every_sort_order(signed_in, vawg, sort):
    response = signed_in.get(f"{TRACKER}export.csv?sort={sort}")
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row["Reference"] for row in table] == rows(signed_in.get(f"{TRACKER}?sort={sort}"))


def test_xlsx_export_has_a_frozen_header_and_real_dates(signed_in, vawg):
    response = signed_in.get(f"{TRACKER}export.xlsx?strategy=vawg&sort=due")
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    assert sheet.freeze_panes == "A2"
    values = list(sheet.iter_rows(values_only=True))
    header = values[0]
    assert header[:4] == ("Strategy", "Item", "Reference", "Action")
    references = [row[header.index("Reference")] for row in values[1:]]
    assert references == rows(signed_in.get(f"{TRACKER}?strategy=vawg&sort=due"))
    due = values[1][header.index("Due date")]
    assert isinstance(due, dt.datetime) and due.date() == vawg["done"].due_date
    late = values[1 + references.index("VAWG-1.01")]
    assert late[header.index("Latest progress period")] == "June 2023"
    assert late[header.index("Latest actions taken")] == "Held four events across the county."
    assert late[header.index("Deadline")] == "Overdue"


def test_xlsx_keeps_formula_like_text_as_text(signed_in, vawg):
    ActionFactory(item=vawg["o2"], reference="VAWG-9", title="=1+1")
    response = signed_in.get(f"{TRACKER}export.xlsx?q=VAWG-9")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet["D2"].value == "=1+1" and sheet["D2"].data_type == "s"


def test_unknown_export_format_is_404(signed_in, vawg):
    assert signed_in.get(f"{TRACKER}export.pdf").status_code == 404


# --- My organisation's actions -------------------------------------------------------------------

def test_my_actions_show_lead_and_support(signed_in, vawg):
    response = signed_in.get(TRACKER + "mine/")
    html = response.content.decode()
    assert rows(response) == ["VAWG-1.01", "VAWG-1.02"]
    assert "Your organisation" in html
    lead_row, support_row = html.split("<tbody", 1)[1].split("</tr>")[:2]
    assert ">Lead</td>" in lead_row and ">Supporting</td>" in support_row
    assert 'href="/strategies/actions/export.csv?mine=1"' in html


def test_my_actions_export_holds_only_my_actions(signed_in, vawg):
    response = signed_in.get(f"{TRACKER}export.csv?mine=1")
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [(row["Reference"], row["Your organisation"]) for row in table] == [("VAWG-1.01", "Lead"), ("VAWG-1.02", "Supporting")]


def test_my_actions_take_filters_too(signed_in, vawg):
    assert rows(signed_in.get(TRACKER + "mine/?overdue=1")) == ["VAWG-1.01"]


def test_my_actions_without_an_organisation_explains(client, vawg):
    client.force_login(UserFactory(organisation=None))
    html = client.get(TRACKER + "mine/").content.decode()
    assert "not linked to an organisation" in html
    assert "govuk-table" not in html


# --- Queries -------------------------------------------------------------------------------------

def _tracker_queries(client, count: int) -> int:
    strategy = StrategyFactory()
    parent = StrategyItemFactory(strategy=strategy)
    periods = [ReportingPeriodFactory(label=f"Period {n}", start=dt.date(2020 + n, 1, 1), end=dt.date(2020 + n, 6, 30))
               for n in range(3)]
    orgs = [OrganisationFactory() for _ in range(3)]
    for n in range(count):
        item = StrategyItemFactory(strategy=strategy, parent=parent)
        action = ActionFactory(item=item, leads=orgs[:2], supporters=orgs[2:], due_date=dt.date(2024, 1, 1) + dt.timedelta(days=n),
                               governance_body=GovernanceBodyFactory())
        for period in periods:
            ProgressUpdate.objects.create(action=action, period=period, actions_taken="Done", status="on_track")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{TRACKER}?strategy={strategy.slug}&item={parent.pk}&sort=lead")
    assert response.status_code == 200
    assert len(rows(response)) == min(count, 50)
    return len(queries)


def test_tracker_queries_do_not_grow_with_the_actions(signed_in, db):
    few = _tracker_queries(signed_in, 5)
    Strategy.objects.all().delete()  # and with it the items, actions and progress
    many = _tracker_queries(signed_in, 60)
    assert few == many
    assert many <= 15


def test_strategy_and_item_page_queries_do_not_grow_with_the_actions(signed_in, db):
    def queries(count: int) -> tuple[int, int]:
        strategy = StrategyFactory()
        parent = StrategyItemFactory(strategy=strategy)
        period = ReportingPeriodFactory(label="June 2023", start=dt.date(2023, 1, 1), end=dt.date(2023, 6, 30))
        orgs = [OrganisationFactory() for _ in range(2)]
        for _ in range(count):
            action = ActionFactory(item=StrategyItemFactory(strategy=strategy, parent=parent), leads=orgs[:1], supporters=orgs[1:])
            ProgressUpdate.objects.create(action=action, period=period, actions_taken="Done", status="on_track")
            ActionFactory(item=parent, leads=orgs[:1], supporters=orgs[1:])
        counted = []
        for path in [f"/strategies/{strategy.slug}/", f"/strategies/{strategy.slug}/items/{parent.pk}/", "/strategies/"]:
            with CaptureQueriesContext(connection) as captured:
                assert signed_in.get(path).status_code == 200
            counted.append(len(captured))
        return tuple(counted)

    few = queries(3)
    Strategy.objects.all().delete()
    assert queries(30) == few
