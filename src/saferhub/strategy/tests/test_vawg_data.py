"""Proves the Joint VAWG strategy data file reproduces its two public Progress Updates word for word."""
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "joint-vawg-strategy.yaml"
# tests → strategy → saferhub → src → repository; the seeds live beside the repository.
SEEDS_DIR = Path(__file__).resolve().parents[4].parent / "shared" / "seeds"

JUNE_2023 = "June 2023"
DECEMBER_2022 = "December 2022"
PROGRESS_TO_DATE = "Strategic Delivery Plan – Progress to Date"
NEXT_STEPS = "Delivery Plan – Next Steps:"
OBJECTIVE_HEADING = re.compile(r"^Objective (\d): (.*)$")
DECEMBER_OBJECTIVE_HEADING = re.compile(r"^Objective (\d) – (.*)$")

# How the December 2022 outcome headings map onto the June 2023 tree.
DECEMBER_OUTCOME_CODES = {
    "Proactive engagement with under-represented communities and seldom heard women": "Outcome 1.1",
    "Parity of services across both urban and rural areas, and other isolated communities.": "Outcome 1.2",
    "Increased awareness to promote zero tolerance of all forms of gender inequality and VAWG": "Outcome 2.1",
    "Increased confidence in reporting VAWG offences": "Outcome 3.1",
    "Identification of learning opportunities to ensure continuous service improvements": "Outcome 3.2",
    "Improved joint Safeguarding and Risk Management Approaches": "Outcome 4.1",
    "Improved experiences of those going through Civil and Family Court Proceedings": "Outcome 4.3",
    "Ensure high quality services are available to everyone at their time of need": "Outcome 5.1",
    "Increased availability of interventions for perpetrators of VAWG offences that focus on both enforcement "
    "and rehabilitation": "Outcome 6.1",
    "Increased availability of interventions for those with Dual Status and those with Multiple Unmet Need": "Outcome 6.2",
}

# The slugs agreed for the partnership (organisations, then governance bodies).
ORGANISATION_SLUGS = {
    "north-yorkshire-police", "north-yorkshire-fire-and-rescue", "opfcc", "north-yorkshire-council",
    "city-of-york-council", "idas", "foundation", "halo-project", "st-giles-trust", "changing-lives",
    "horton-housing", "survive", "north-yorkshire-horizons", "suzy-lamplugh-trust", "safelives",
    "crown-prosecution-service", "hmcts", "probation-service", "nhs-england", "humber-and-north-yorkshire-icb",
    "north-yorkshire-youth", "youth-commission", "north-yorkshire-learning-disability-partnership",
    "all-about-respect", "york-womens-centre",
}
GOVERNANCE_BODY_SLUGS = {
    "north-yorkshire-csp", "safer-york-partnership", "vawg-strategic-governance-board", "joint-vawg-delivery-group",
    "vawg-professionals-sub-group", "da-local-partnership-board-north-yorkshire", "da-local-partnership-board-york",
    "marac-matac-steering-group", "da-joint-commissioning-group", "da-scrutiny-panel", "rape-scrutiny-panel",
    "da-family-court-working-group", "joint-coordination-group", "inclusive-communities-jcg",
    "serious-violence-duty-group", "vawg-champions-task-and-finish-group", "white-ribbon-task-and-finish-group",
    "local-criminal-justice-partnership",
}
STATUSES = {"not_started", "on_track", "at_risk", "off_track", "complete", "closed"}
RAGS = {"red", "amber", "green", ""}


def normalise(text: str) -> str:
    """Collapse whitespace within each line (the seeds carry no-break spaces) and drop blank lines."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def split_run_together(text: str) -> list[str]:
    # The PDF-to-text conversion ran some bullets together on one line, separated by " ! ".
    return [part.strip() for part in text.split(" ! ")]


def seed_lines(number: str) -> list[str]:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"the partnership's seed documents are not at {SEEDS_DIR}")
    matches = sorted(SEEDS_DIR.glob(f"{number}_*.txt"))
    if not matches:
        pytest.skip(f"seed {number} is not in {SEEDS_DIR}")
    return matches[0].read_text(encoding="utf-8").splitlines()


def entry_text(main: str, sub_items: list[str]) -> str:
    return normalise("\n".join([main, *(f"- {item}" for item in sub_items)]))


def june_bullets() -> list[dict]:
    """Every bullet of seed 004's "Actions taken" and "Next Steps" sections, sub-items folded in.

    A bullet ending in ":" or "–" introduces the rest of its section as its sub-items.
    """
    lines = seed_lines("004")
    progress_start, next_start = lines.index(PROGRESS_TO_DATE), lines.index(NEXT_STEPS)
    bullets: list[dict] = []
    objective, section = None, None
    for number, line in enumerate(lines[progress_start + 1 :], start=progress_start + 2):
        if number - 1 == next_start:
            section = "next_steps"
            continue
        heading = OBJECTIVE_HEADING.match(line)
        if heading:
            objective = int(heading.group(1))
            section = "next_steps" if section == "next_steps" else None
            continue
        if section != "next_steps":
            if line.startswith("Actions taken"):
                section = "actions_taken"
                continue
            if line.startswith(("Outcome:", "Under Objective", "To achieve")):
                section = "tree"
                continue
            if section == "tree":
                continue
        assert section in ("actions_taken", "next_steps"), f"seed 004 line {number} is outside any section: {line!r}"
        assert line.startswith("- "), f"seed 004 line {number} is not a bullet: {line!r}"
        text = line[2:]
        previous = bullets[-1] if bullets else None
        if previous and previous["open"] and (previous["objective"], previous["field"]) == (objective, section):
            previous["sub_items"].extend(split_run_together(text))
        else:
            bullets.append(
                {"objective": objective, "field": section, "main": text, "sub_items": [],
                 "open": text.endswith((":", "–"))}
            )
    return [
        {"period": JUNE_2023, "objective": b["objective"], "field": b["field"], "item": f"Objective {b['objective']}",
         "text": entry_text(b["main"], b["sub_items"])}
        for b in bullets
    ]


def december_bullets() -> list[dict]:
    """Every "•" bullet under seed 000's "Actions taken" headings, with its indented sub-bullets."""
    lines = seed_lines("000")
    bullets: list[dict] = []
    objective, outcome, in_actions = None, None, False
    for number, line in enumerate(lines, start=1):
        heading = DECEMBER_OBJECTIVE_HEADING.match(line)
        if heading:
            objective, in_actions = int(heading.group(1)), False
            continue
        if line.startswith("Outcome: "):
            outcome, in_actions = line[len("Outcome: ") :], False
            continue
        if line.startswith("Actions taken"):
            in_actions = True
            continue
        if not in_actions or not line.strip():
            continue
        if line.startswith("    • "):
            bullets[-1]["sub_items"].append(line[len("    • ") :])
        elif line.startswith("  • "):
            bullets.append({"objective": objective, "outcome": outcome, "main": line[len("  • ") :], "sub_items": []})
        else:
            in_actions = False
    return [
        {"period": DECEMBER_2022, "objective": b["objective"], "field": "actions_taken",
         "item": DECEMBER_OUTCOME_CODES[b["outcome"]], "text": entry_text(b["main"], b["sub_items"])}
        for b in bullets
    ]


def june_tree() -> list[dict]:
    """Seed 004's objectives with their outcomes and aims, in the order published."""
    lines = seed_lines("004")
    start, end = lines.index(PROGRESS_TO_DATE), lines.index(NEXT_STEPS)
    objectives: list[dict] = []
    part = None
    for line in lines[start + 1 : end]:
        heading = OBJECTIVE_HEADING.match(line)
        if heading:
            title = heading.group(2).removesuffix(" Outcome:")
            objectives.append({"number": int(heading.group(1)), "title": title, "outcomes": [], "aims": []})
            part = None
        elif line.startswith(("Outcome: Under Objective", "Under Objective")):
            part = "outcomes"
        elif line.startswith("To achieve"):
            part = "aims"
        elif line.startswith("Actions taken"):
            part = None
        elif part == "outcomes":
            objectives[-1]["outcomes"].append(line.removeprefix("- "))
        elif part == "aims":
            objectives[-1]["aims"].extend(split_run_together(line.removeprefix("- ")))
    return objectives


@pytest.fixture(scope="module")
def strategy() -> dict:
    return yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))


def walk_actions(items: list[dict], objective: int | None = None):
    """Yield (objective number, item code, action) for every action in the tree, in file order."""
    for item in items:
        number = objective or int(item["code"].removeprefix("Objective "))
        for action in item.get("actions", []):
            yield number, item["code"], action
        yield from walk_actions(item.get("items", []), number)


def test_seed_extraction_finds_every_section():
    june = june_bullets()
    december = december_bullets()
    assert Counter(b["field"] for b in june) == {"actions_taken": 32, "next_steps": 33}
    assert len(december) == 33
    for period_bullets in (june, december):
        assert {b["objective"] for b in period_bullets} == {1, 2, 3, 4, 5, 6}
    safe_spaces = next(b for b in june if b["text"].startswith("Research has been completed"))
    assert safe_spaces["text"].count("\n- ") == 4


def test_every_published_bullet_is_one_progress_entry(strategy):
    entries = []
    for objective, item_code, action in walk_actions(strategy["items"]):
        for progress in action["progress"]:
            for field in ("actions_taken", "next_steps"):
                text = normalise(progress.get(field) or "")
                if text:
                    entries.append({"period": progress["period"], "objective": objective, "field": field,
                                    "item": item_code, "text": text, "reference": action["reference"]})

    problems = []
    expected = june_bullets() + december_bullets()
    for bullet in expected:
        found = [entry for entry in entries if entry["text"] == bullet["text"]]
        if len(found) != 1:
            problems.append(f"{len(found)} entries hold the {bullet['period']} bullet {bullet['text'][:90]!r}")
            continue
        where = {key: found[0][key] for key in ("period", "objective", "field", "item")}
        wanted = {key: bullet[key] for key in ("period", "objective", "field", "item")}
        if where != wanted:
            problems.append(f"{found[0]['reference']} is filed as {where}, the seed has {wanted}")
    expected_texts = Counter(bullet["text"] for bullet in expected)
    problems += [f"{entry['reference']} holds text no seed bullet has: {entry['text'][:90]!r}"
                 for entry in entries if entry["text"] not in expected_texts]
    assert not problems, "\n".join(problems)
    assert len(entries) == len(expected)


def test_tree_is_the_june_2023_structure_in_seed_order(strategy):
    assert strategy["level_names"] == ["Objective", "Outcome", "Aim"]
    seed = june_tree()
    items = strategy["items"]
    assert [item["title"] for item in items] == [objective["title"] for objective in seed]
    for number, (item, objective) in enumerate(zip(items, seed), start=1):
        assert item["code"] == f"Objective {number}"
        outcomes = item.get("items", [])
        assert [outcome["title"] for outcome in outcomes] == objective["outcomes"]
        assert [outcome["code"] for outcome in outcomes] == [f"Outcome {number}.{k}" for k in range(1, len(outcomes) + 1)]
        aims = [(outcome["code"], aim) for outcome in outcomes for aim in outcome.get("items", [])]
        assert [aim["title"] for _, aim in aims] == objective["aims"]
        for outcome_code, aim in aims:
            assert aim["code"].startswith(outcome_code.replace("Outcome", "Aim") + "."), aim["code"]
            assert "items" not in aim


def test_objectives_carry_the_december_2022_headings(strategy):
    december = {}
    lines = seed_lines("000")
    for number, line in enumerate(lines):
        heading = DECEMBER_OBJECTIVE_HEADING.match(line)
        if heading:
            description = next(following for following in lines[number + 1 :] if following.strip())
            december[int(heading.group(1))] = (heading.group(2), description)
    for number, item in enumerate(strategy["items"], start=1):
        short_title, description = december[number]
        assert item["short_title"] == short_title
        assert item.get("description", item["title"]) == description


def test_background_is_the_june_2023_opening_text(strategy):
    lines = seed_lines("004")
    opening = lines[lines.index("Background") + 1 : lines.index(PROGRESS_TO_DATE)]
    opening.remove("Violence Against Women and Girls Strategic Delivery Plan")
    assert normalise(strategy["background"]) == normalise("\n".join(opening))
    assert sum(line.startswith("- ") for line in strategy["background"].splitlines()) == 6


def test_every_action_is_complete_and_uses_agreed_slugs(strategy):
    assert strategy["owner"] in ORGANISATION_SLUGS
    assert strategy["governance_body"] in GOVERNANCE_BODY_SLUGS
    periods = {period["label"] for period in strategy["periods"]}
    assert periods == {DECEMBER_2022, JUNE_2023}
    references = Counter()
    for objective, _, action in walk_actions(strategy["items"]):
        reference = action["reference"]
        references[reference] += 1
        assert re.fullmatch(rf"VAWG-{objective}\.\d\d", reference), reference
        assert 0 < len(action["title"]) <= 300, reference
        assert action["description"], reference
        assert action["lead"] and set(action["lead"]) <= ORGANISATION_SLUGS, reference
        assert set(action.get("support", [])) <= ORGANISATION_SLUGS, reference
        assert not set(action["lead"]) & set(action.get("support", [])), reference
        assert action["governance_body"] in GOVERNANCE_BODY_SLUGS, reference
        assert action["status"] in STATUSES and action["rag"] in RAGS, reference
        if "start_date" in action and "due_date" in action:
            assert action["start_date"] <= action["due_date"], reference
        assert [progress["period"] for progress in action["progress"]] in ([DECEMBER_2022], [JUNE_2023]), reference
        for progress in action["progress"]:
            assert progress["status"] in STATUSES and progress["rag"] in RAGS, reference
    assert [reference for reference, count in references.items() if count > 1] == []
