"""The structure of a Progress Update built from the tracker."""
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saferhub.core.factories import ActionFactory, ReportingPeriodFactory, StrategyFactory, StrategyItemFactory
from saferhub.publishing.progress_report import (
    Bullet, background_blocks, count_word, plural, progress_document_build, text_bullets,
)
from saferhub.strategy.models import ActionStatus, ProgressReport, ProgressUpdate


@pytest.mark.django_db
def test_title_names_strategy_and_period(tracker):
    document = progress_document_build(strategy=tracker.strategy, period=tracker.june)
    assert document.title == "Test Partnership Strategy – Progress Update – June 2023"


@pytest.mark.django_db
def test_objectives_in_tree_order_with_their_outcomes_and_aims(tracker):
    document = progress_document_build(strategy=tracker.strategy, period=tracker.june)
    assert [s.heading for s in document.progress] == [
        "Objective 1: Listen to everyone", "Objective 2: Prevent harm early", "Objective 3: Nothing reported yet",
    ]
    first, second, third = document.progress
    assert [(lst.intro, lst.items) for lst in first.item_lists] == [
        ("Under Objective 1 there are two Outcomes which are:",
         ["Engage seldom heard groups", "Parity between town and country"]),
        ("To achieve these Outcomes, we Aim to:", ["Consult regularly", "Expand the women's centre"]),
    ]
    assert [(lst.intro, lst.items) for lst in second.item_lists] == [
        ("Under Objective 2 there is one Outcome which is:", ["Raise awareness"]),
        ("To achieve this Outcome, we Aim to:", ["Develop school materials", "Run campaigns"]),
    ]
    # An objective with no outcomes and no progress keeps its heading and nothing else.
    assert third.item_lists == [] and third.actions_taken == [] and third.actions_intro == ""


@pytest.mark.django_db
def test_actions_taken_follow_tree_then_action_order_with_sub_bullets(tracker):
    document = progress_document_build(strategy=tracker.strategy, period=tracker.june)
    first, second, _ = document.progress
    assert first.actions_intro == "Actions taken to date to support these Aims include:"
    assert first.actions_taken == [
        Bullet("Board established."),
        Bullet("Forum met twice."),
        Bullet("Survey ran in March."),
        Bullet("Research was completed, including:", ["Hubs in GP surgeries;", "Safe spaces in shops."]),
    ]
    # An update with next steps only adds nothing to "actions taken".
    assert second.actions_taken == [Bullet("Campaign launched in May.")]


@pytest.mark.django_db
def test_next_steps_per_objective_in_the_same_order(tracker):
    document = progress_document_build(strategy=tracker.strategy, period=tracker.june)
    assert [(s.heading, [b.text for b in s.next_steps]) for s in document.next_steps] == [
        ("Objective 1: Listen to everyone", ["Forum to meet quarterly.", "Open a second centre."]),
        ("Objective 2: Prevent harm early", ["Map what schools teach.", "Evaluate the campaign."]),
    ]


@pytest.mark.django_db
def test_only_the_chosen_periods_updates(tracker):
    june = progress_document_build(strategy=tracker.strategy, period=tracker.june)
    december = progress_document_build(strategy=tracker.strategy, period=tracker.december)
    june_text = str(june)
    assert "December-only" not in june_text
    assert [b.text for b in december.progress[0].actions_taken] == ["December-only survey text."]
    assert december.progress[1].actions_taken == []
    assert [s.heading for s in december.next_steps] == ["Objective 1: Listen to everyone"]


@pytest.mark.django_db
def test_background_comes_from_the_report_when_it_has_one(tracker):
    document = progress_document_build(strategy=tracker.strategy, period=tracker.june)
    assert [(b.kind, b.text, b.items) for b in document.background] == [
        ("paragraph", "The strategy was launched in June 2022.", []),
        ("paragraph", "Its objectives are:", []),
        ("list", "", ["First objective", "Second objective"]),
    ]
    ProgressReport.objects.create(strategy=tracker.strategy, period=tracker.june, title="x",
                                  background="Our own words for June.")
    document = progress_document_build(strategy=tracker.strategy, period=tracker.june)
    assert [b.text for b in document.background] == ["Our own words for June."]
    # The December document still opens with the strategy's background.
    document = progress_document_build(strategy=tracker.strategy, period=tracker.december)
    assert document.background[0].text == "The strategy was launched in June 2022."


@pytest.mark.django_db
def test_contents_lists_sections_and_objectives(tracker):
    document = progress_document_build(strategy=tracker.strategy, period=tracker.june)
    contents = document.contents
    assert [e.text for e in contents] == [
        "Background", "Strategic Delivery Plan – Progress to Date", "Delivery Plan – Next Steps:",
    ]
    assert [c.text for c in contents[1].children] == [s.heading for s in document.progress]
    assert [c.text for c in contents[2].children] == [s.heading for s in document.next_steps]
    anchors = [e.anchor for e in contents] + [c.anchor for e in contents for c in e.children]
    assert len(anchors) == len(set(anchors)), "every heading needs its own anchor"


@pytest.mark.django_db
def test_level_names_come_from_the_strategy(db):
    strategy = StrategyFactory(level_names=["Priority", "Commitment"])
    priority = StrategyItemFactory(strategy=strategy, code="3", title="Support victims", order=1)
    for n in range(1, 6):
        StrategyItemFactory(strategy=strategy, parent=priority, code=f"3.1.{n}", title=f"Commitment {n}", order=n)
    action = ActionFactory(item=priority, title="Helpline")
    period = ReportingPeriodFactory(label="2023/24 Q3", start=dt.date(2023, 10, 1), end=dt.date(2023, 12, 31))
    ProgressUpdate.objects.create(action=action, period=period, actions_taken="Helpline opened.", status=ActionStatus.ON_TRACK)
    document = progress_document_build(strategy=strategy, period=period)
    section = document.progress[0]
    assert section.heading == "Priority 3: Support victims"
    assert section.item_lists[0].intro == "Under Priority 3 there are five Commitments which are:"
    assert section.actions_intro == "Actions taken to date to support these Commitments include:"


@pytest.mark.django_db
def test_a_fixed_number_of_queries_however_large_the_strategy(tracker):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            progress_document_build(strategy=tracker.strategy, period=tracker.june)
        return len(captured)

    small = queries()
    parent = tracker.objectives[2]
    for n in range(1, 16):
        item = StrategyItemFactory(strategy=tracker.strategy, parent=parent, code=f"Outcome 3.{n}", order=n)
        action = ActionFactory(item=item, leads=[])
        ProgressUpdate.objects.create(action=action, period=tracker.june, actions_taken=f"Did {n}.",
                                      next_steps=f"Will do {n}.", status=ActionStatus.ON_TRACK)
    assert queries() == small <= 4


def test_number_words_and_plurals():
    assert [count_word(n) for n in (1, 2, 10, 11)] == ["one", "two", "ten", "11"]
    assert [plural(w) for w in ("Aim", "Outcome", "Priority", "Focus", "Day")] == [
        "Aims", "Outcomes", "Priorities", "Focuses", "Days",
    ]
    assert plural("Outcome", 1) == "Outcome"


def test_text_bullets_nest_dash_lines_under_the_line_before():
    assert text_bullets("First.\n- a\n-  b\n\nSecond.\n") == [Bullet("First.", ["a", "b"]), Bullet("Second.")]
    assert text_bullets("- starts with a dash") == [Bullet("starts with a dash")]
    assert text_bullets("  \n") == []


def test_background_headings_get_their_own_anchor():
    blocks = background_blocks("Intro.\n## Background\nMore text\nwrapped here.")
    assert [(b.kind, b.text) for b in blocks] == [
        ("paragraph", "Intro."), ("heading", "Background"), ("paragraph", "More text wrapped here."),
    ]
    assert blocks[1].anchor == "background-2"
