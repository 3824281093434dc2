"""A small synthetic strategy with progress in two periods, shaped like the VAWG Progress Updates."""
import datetime as dt
from dataclasses import dataclass

import pytest

from saferhub.core.factories import ActionFactory, ReportingPeriodFactory, StrategyFactory, StrategyItemFactory
from saferhub.strategy.models import ActionStatus, ProgressUpdate


@dataclass
class Tracker:
    strategy: object
    june: object
    december: object
    objectives: list
    actions: dict


def _item(strategy, parent, position, code, title):
    return StrategyItemFactory(strategy=strategy, parent=parent, order=position, code=code, title=title)


def _update(action, period, taken="", steps=""):
    return ProgressUpdate.objects.create(
        action=action, period=period, actions_taken=taken, next_steps=steps, status=ActionStatus.ON_TRACK
    )


@pytest.fixture
def tracker(db, organisation):
    strategy = StrategyFactory(
        slug="test-strategy",
        title="Test Partnership Strategy",
        level_names=["Objective", "Outcome", "Aim"],
        background="The strategy was launched in June 2022.\n\nIts objectives are:\n- First objective\n- Second objective",
        owner=organisation,
    )
    june = ReportingPeriodFactory(label="June 2023", start=dt.date(2023, 1, 1), end=dt.date(2023, 6, 30))
    december = ReportingPeriodFactory(label="December 2022", start=dt.date(2022, 6, 1), end=dt.date(2022, 12, 31))

    o1 = _item(strategy, None, 1, "Objective 1", "Listen to everyone")
    o1a = _item(strategy, o1, 1, "Outcome 1.1", "Engage seldom heard groups")
    o1b = _item(strategy, o1, 2, "Outcome 1.2", "Parity between town and country")
    a11 = _item(strategy, o1a, 1, "Aim 1.1.1", "Consult regularly")
    a12 = _item(strategy, o1b, 1, "Aim 1.2.1", "Expand the women's centre")
    o2 = _item(strategy, None, 2, "Objective 2", "Prevent harm early")
    o2a = _item(strategy, o2, 1, "Outcome 2.1", "Raise awareness")
    a21 = _item(strategy, o2a, 1, "Aim 2.1.1", "Develop school materials")
    a22 = _item(strategy, o2a, 2, "Aim 2.1.2", "Run campaigns")
    o3 = _item(strategy, None, 3, "Objective 3", "Nothing reported yet")

    actions = {
        # Created out of tree order on purpose: the document follows the tree, then action order.
        "campaign": ActionFactory(item=a22, title="Campaign", order=1, leads=[organisation]),
        "survey": ActionFactory(item=a11, title="Survey", order=2, leads=[organisation]),
        "forum": ActionFactory(item=a11, title="Forum", order=1, leads=[organisation]),
        "board": ActionFactory(item=o1, title="Board", order=1, leads=[organisation]),
        "centre": ActionFactory(item=a12, title="Centre", order=1, leads=[organisation]),
        "schools": ActionFactory(item=a21, title="Schools", order=1, leads=[organisation]),
        "idle": ActionFactory(item=a21, title="Idle", order=2, leads=[organisation]),
    }
    _update(actions["campaign"], june, "Campaign launched in May.", "Evaluate the campaign.")
    _update(actions["survey"], june, "Survey ran in March.")
    _update(actions["forum"], june, "Forum met twice.", "Forum to meet quarterly.")
    _update(actions["board"], june, "Board established.")
    _update(actions["centre"], june, "Research was completed, including:\n- Hubs in GP surgeries;\n- Safe spaces in shops.",
            "Open a second centre.")
    _update(actions["schools"], june, "", "Map what schools teach.")
    _update(actions["survey"], december, "December-only survey text.", "December-only next step.")
    return Tracker(strategy=strategy, june=june, december=december, objectives=[o1, o2, o3], actions=actions)
