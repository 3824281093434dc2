"""The demo data's Progress Updates say what the partnership published, in the order it published
it: June 2023 (seed 004) and December 2022 (seed 000), in HTML, Word and (with pdftotext) PDF."""
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from saferhub.publishing.progress_report import progress_document_build
from saferhub.publishing.renderers import document_docx, document_pdf, document_standalone_html
from saferhub.publishing.tests.text import docx_text, html_text, missing_in_order, normalise, pdf_text
from saferhub.strategy.models import ReportingPeriod, Strategy

REPO_DIR = Path(__file__).resolve().parents[4]
SEEDS_DIR = REPO_DIR.parent / "shared" / "seeds"
DATA_FILE = REPO_DIR / "src" / "saferhub" / "strategy" / "data" / "joint-vawg-strategy.yaml"

PROGRESS_TO_DATE = "Strategic Delivery Plan – Progress to Date"
NEXT_STEPS = "Delivery Plan – Next Steps:"
OBJECTIVE = re.compile(r"^Objective \d: ")
# Sentences whose wording the published documents vary ("this Outcome" under two Outcomes,
# "in the past 6-months"); the builder words them consistently, so they are not compared.
VARYING = ("To achieve", "Actions taken")

pytestmark = pytest.mark.skipif(not DATA_FILE.exists(), reason=f"the demo strategy data {DATA_FILE.name} is not there yet")


def seed_lines(number: str) -> list[str]:
    matches = sorted(SEEDS_DIR.glob(f"{number}_*.txt"))
    if not matches:
        pytest.skip(f"seed {number} is not in {SEEDS_DIR}")
    return [normalise(line) for line in matches[0].read_text(encoding="utf-8").splitlines()]


def split_run_together(text: str) -> list[str]:
    # Converting the published PDF to text ran some bullets together on one line, joined by " ! ".
    return [part.strip() for part in text.split(" ! ") if part.strip()]


def june_2023_phrases() -> list[str]:
    """Every objective, outcome, aim, action taken and next step of seed 004, in its order."""
    lines = seed_lines("004")
    phrases = []
    for line in lines[lines.index(PROGRESS_TO_DATE) + 1:]:
        if not line or line.startswith(VARYING):
            continue
        if OBJECTIVE.match(line):
            phrases.append(line.removesuffix(" Outcome:"))
        elif line.startswith(("Outcome: Under Objective", "Under Objective")):
            phrases.append(line.removeprefix("Outcome: "))
        elif line == NEXT_STEPS:
            phrases.append(line)
        else:
            phrases += split_run_together(line.removeprefix("- "))
    return phrases


def december_2022_phrases() -> list[str]:
    """Every action (and sub-bullet) under seed 000's "Actions taken" headings, in its order."""
    phrases, in_actions = [], False
    for raw in sorted(SEEDS_DIR.glob("000_*.txt"))[0].read_text(encoding="utf-8").splitlines():
        line = normalise(raw)
        if raw.startswith("Actions taken"):
            in_actions = True
        elif raw.startswith(("  • ", "    • ")) and in_actions:
            phrases.append(line.removeprefix("• "))
        elif line:
            in_actions = False
    return phrases


def _squeeze(text: str) -> str:
    return text.replace(" ", "").replace("-", "")


def _missing_without_spaces(text: str, phrases: list[str]) -> list[str]:
    squeezed = [_squeeze(phrase) for phrase in phrases]
    gone = set(missing_in_order(_squeeze(text), squeezed))
    return [phrase for phrase, short in zip(phrases, squeezed) if short in gone]


@pytest.fixture
def vawg(db):
    call_command("demo", "load", verbosity=0)
    return Strategy.objects.get(slug="joint-vawg-strategy")


def check_every_format(strategy, period_label: str, phrases: list[str]) -> None:
    document = progress_document_build(strategy=strategy, period=ReportingPeriod.objects.get(label=period_label))
    texts = {
        "HTML": html_text(document_standalone_html(document)),
        "DOCX": docx_text(document_docx(document)),
    }
    problems = {fmt: missing_in_order(text, phrases) for fmt, text in texts.items()}
    if shutil.which("pdftotext"):
        # Text taken out of a PDF reads a space where a line ended after "/" and drops the hyphen
        # where one ended after "-", so the PDF is compared with spaces and hyphens taken out.
        problems["PDF"] = _missing_without_spaces(pdf_text(document_pdf(document)), phrases)
    assert problems == {fmt: [] for fmt in problems}, "missing or out of order:\n" + "\n".join(
        f"{fmt}: {phrase[:100]!r}" for fmt, missing in problems.items() for phrase in missing
    )


def test_seed_extraction_is_complete():
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"the partnership's seed documents are not at {SEEDS_DIR}")
    june = june_2023_phrases()
    assert sum(bool(OBJECTIVE.match(p)) for p in june) == 12  # progress and next steps
    assert "Promote the use of special measures in court" in june
    assert "TSB Plc ‘Safe Spaces’ in their banks and Boots stores;" in june
    assert "Under Objective 5 there is one Outcome which is:" in june
    december = december_2022_phrases()
    assert len(december) == 36  # 33 actions, 3 of them with sub-bullets
    assert december[0].startswith("The VAWG Strategy was presented to the Student Health Network")


@pytest.mark.django_db
def test_june_2023_update_has_every_seed_004_text_in_order(vawg):
    check_every_format(vawg, "June 2023", june_2023_phrases())


@pytest.mark.django_db
def test_december_2022_update_has_every_seed_000_action_in_order(vawg):
    check_every_format(vawg, "December 2022", december_2022_phrases())
