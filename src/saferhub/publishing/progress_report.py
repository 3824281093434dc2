"""Builds the public Progress Update of a strategy for one reporting period as plain data, which
the HTML, PDF and DOCX renderers then lay out: background, progress to date per top-level item,
and next steps."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.text import slugify

from saferhub.strategy.models import ProgressReport, ProgressUpdate, ReportingPeriod, Strategy, StrategyItem

NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
PROGRESS_HEADING = "Strategic Delivery Plan – Progress to Date"
NEXT_STEPS_HEADING = "Delivery Plan – Next Steps:"
BACKGROUND_HEADING = "Background"
BULLET_PREFIX = "- "
HEADING_PREFIX = "## "
RESERVED_ANCHORS = ("background", "progress-to-date", "next-steps")


@dataclass
class Bullet:
    text: str
    children: list[str] = field(default_factory=list)


@dataclass
class BackgroundBlock:
    """One piece of the background: a paragraph, a bulleted list or a sub-heading."""

    kind: str  # "paragraph" | "list" | "heading"
    text: str = ""
    items: list[str] = field(default_factory=list)
    anchor: str = ""


@dataclass
class ItemList:
    """The items of one level under a top-level item, with the sentence that introduces them."""

    intro: str
    items: list[str]


@dataclass
class ProgressSection:
    anchor: str
    heading: str
    item_lists: list[ItemList]
    actions_intro: str
    actions_taken: list[Bullet]


@dataclass
class NextStepsSection:
    anchor: str
    heading: str
    next_steps: list[Bullet]


@dataclass
class ContentsEntry:
    anchor: str
    text: str
    children: list[ContentsEntry] = field(default_factory=list)


@dataclass
class ProgressDocument:
    title: str
    strategy_title: str
    period_label: str
    author: str
    background: list[BackgroundBlock]
    progress: list[ProgressSection]
    next_steps: list[NextStepsSection]
    lang: str = "en-GB"
    progress_heading: str = PROGRESS_HEADING
    next_steps_heading: str = NEXT_STEPS_HEADING
    background_heading: str = BACKGROUND_HEADING

    @property
    def contents(self) -> list[ContentsEntry]:
        """The 'On this page' list: every section heading, with the top-level items beneath."""
        entries = []
        if self.background:
            entries.append(ContentsEntry("background", self.background_heading))
            entries += [ContentsEntry(b.anchor, b.text) for b in self.background if b.kind == "heading"]
        if self.progress:
            entries.append(ContentsEntry(
                "progress-to-date", self.progress_heading, [ContentsEntry(s.anchor, s.heading) for s in self.progress]
            ))
        if self.next_steps:
            entries.append(ContentsEntry(
                "next-steps", self.next_steps_heading, [ContentsEntry(s.anchor, s.heading) for s in self.next_steps]
            ))
        return entries


def progress_report_title(strategy: Strategy, period: ReportingPeriod) -> str:
    return f"{strategy.title} – Progress Update – {period.label}"


def count_word(n: int) -> str:
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def plural(noun: str, n: int = 2) -> str:
    """English plural of a level name, for the regular nouns strategies use (Aim, Priority, Focus)."""
    if n == 1 or not noun:
        return noun
    lower = noun.lower()
    if lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        return noun[:-1] + "ies"
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    return noun + "s"


def text_bullets(text: str) -> list[Bullet]:
    """Each line of progress text is a bullet; lines starting "- " are sub-bullets of the line before."""
    bullets: list[Bullet] = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        if line == "-" or line.startswith(BULLET_PREFIX):
            sub = line[1:].strip()
            if not sub:
                continue
            if bullets:
                bullets[-1].children.append(sub)
            else:
                bullets.append(Bullet(sub))
        elif line:
            bullets.append(Bullet(line))
    return bullets


def background_blocks(text: str, anchors: set[str] | None = None) -> list[BackgroundBlock]:
    """Paragraphs are separated by blank lines, lines starting "- " are bullets and lines starting
    "## " are sub-headings (listed in the contents like the Background heading itself)."""
    blocks: list[BackgroundBlock] = []
    paragraph: list[str] = []
    anchors = anchors if anchors is not None else set(RESERVED_ANCHORS)

    def end_paragraph():
        if paragraph:
            blocks.append(BackgroundBlock("paragraph", text=" ".join(paragraph)))
            paragraph.clear()

    for raw in (text or "").replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            end_paragraph()
        elif line.startswith(BULLET_PREFIX):
            end_paragraph()
            if not blocks or blocks[-1].kind != "list":
                blocks.append(BackgroundBlock("list"))
            blocks[-1].items.append(line[len(BULLET_PREFIX):].strip())
        elif line.startswith(HEADING_PREFIX):
            end_paragraph()
            heading = line[len(HEADING_PREFIX):].strip()
            blocks.append(BackgroundBlock("heading", text=heading, anchor=_unique_anchor(heading, anchors)))
        else:
            if blocks and blocks[-1].kind == "list":
                # A plain line straight after bullets starts a new paragraph rather than
                # continuing the last bullet.
                end_paragraph()
            paragraph.append(line)
    end_paragraph()
    return blocks


def _unique_anchor(text: str, taken: set[str]) -> str:
    base = slugify(text)[:60].strip("-") or "section"
    anchor, n = base, 2
    while anchor in taken:
        anchor, n = f"{base}-{n}", n + 1
    taken.add(anchor)
    return anchor


def item_label(item: StrategyItem, level_name: str, position: int) -> str:
    """'Objective 1' whether the item's code is 'Objective 1', '1' or empty."""
    code = item.code.strip()
    if code and level_name and code.lower().startswith(level_name.lower()):
        return code
    return f"{level_name} {code or position}".strip()


def _item_lists(strategy: Strategy, label: str, levels: list[list[StrategyItem]]) -> list[ItemList]:
    lists = []
    for depth, items in enumerate(levels[1:], start=1):
        if not items:
            break
        name, n = strategy.level_name(depth), len(items)
        verb = "is" if n == 1 else "are"
        if depth == 1:
            intro = f"Under {label} there {verb} {count_word(n)} {plural(name, n)} which {verb}:"
        else:
            above, above_n = strategy.level_name(depth - 1), len(levels[depth - 1])
            target = f"this {above}" if above_n == 1 else f"these {plural(above)}"
            if name.lower() == "aim":
                intro = f"To achieve {target}, we Aim to:"
            else:
                intro = f"To achieve {target}, the {plural(name, n)} {verb}:"
        lists.append(ItemList(intro=intro, items=[i.title for i in items]))
    return lists


def _actions_intro(strategy: Strategy, levels: list[list[StrategyItem]]) -> str:
    depth = max(d for d, items in enumerate(levels) if items)
    name, n = strategy.level_name(depth), len(levels[depth])
    target = f"this {name}" if n == 1 else f"these {plural(name)}"
    return f"Actions taken to date to support {target} include:"


def progress_document_build(
    *, strategy: Strategy, period: ReportingPeriod, background: str | None = None
) -> ProgressDocument:
    """The document for `strategy` in `period`. `background` defaults to the report's own copy
    when a report exists for the period, else the strategy's. Runs the same few queries however
    large the strategy is."""
    if background is None:
        report = ProgressReport.objects.filter(strategy=strategy, period=period).only("background").first()
        background = report.background if report and report.background.strip() else ""
    if not background.strip():
        background = strategy.background

    items = list(
        StrategyItem.objects.filter(strategy=strategy)
        .only("id", "parent_id", "path", "code", "title")
        .order_by("path")
    )
    updates = list(
        ProgressUpdate.objects.filter(period=period, action__item__strategy=strategy)
        .select_related("action")
        .only("id", "actions_taken", "next_steps", "action__id", "action__item_id", "action__order")
        .order_by("action__item__path", "action__order", "action__id")
    )

    # Items come in path order, so each parent is seen before its children.
    root_of: dict[int, int] = {}
    depth_of: dict[int, int] = {}
    roots: list[StrategyItem] = []
    levels_of: dict[int, list[list[StrategyItem]]] = {}
    for item in items:
        if item.parent_id is None or item.parent_id not in root_of:
            root_of[item.pk], depth_of[item.pk] = item.pk, 0
            roots.append(item)
            levels_of[item.pk] = [[item]]
            continue
        root_of[item.pk] = root_of[item.parent_id]
        depth = depth_of[item.parent_id] + 1
        depth_of[item.pk] = depth
        levels = levels_of[root_of[item.pk]]
        while len(levels) <= depth:
            levels.append([])
        levels[depth].append(item)

    taken: dict[int, list[Bullet]] = {root.pk: [] for root in roots}
    steps: dict[int, list[Bullet]] = {root.pk: [] for root in roots}
    for update in updates:
        root_id = root_of.get(update.action.item_id)
        if root_id is None:
            continue
        taken[root_id] += text_bullets(update.actions_taken)
        steps[root_id] += text_bullets(update.next_steps)

    top_name = strategy.level_name(0)
    anchors: set[str] = set(RESERVED_ANCHORS)
    blocks = background_blocks(background, anchors)
    progress, next_steps = [], []
    for position, root in enumerate(roots, start=1):
        label = item_label(root, top_name, position)
        heading = f"{label}: {root.title}"
        levels = levels_of[root.pk]
        progress.append(ProgressSection(
            anchor=_unique_anchor(label, anchors),
            heading=heading,
            item_lists=_item_lists(strategy, label, levels),
            actions_intro=_actions_intro(strategy, levels) if taken[root.pk] else "",
            actions_taken=taken[root.pk],
        ))
        if steps[root.pk]:
            next_steps.append(NextStepsSection(
                anchor=_unique_anchor(f"next-steps-{label}", anchors), heading=heading, next_steps=steps[root.pk]
            ))

    return ProgressDocument(
        title=progress_report_title(strategy, period),
        strategy_title=strategy.title,
        period_label=period.label,
        author=strategy.owner.name if strategy.owner_id and strategy.owner else "",
        background=blocks,
        progress=progress,
        next_steps=next_steps,
    )
