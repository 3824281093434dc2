"""Statistical disclosure control for published counts: small-count suppression with
complementary suppression, or rounding to a base.

Published outputs (the quarterly performance report, published dashboards) pass their figures
through `protect_table` (a grid with any of its row, column and grand totals), `protect_series`
(a list, with its total if published) or `protect_breakdowns` (several breakdowns of the same
people, such as by month and by referral source, with their common total); internal views show
exact values and do not. `display` turns a protected figure into text.

Suppression ("suppress", the default)
-------------------------------------
1. Primary suppression: every figure from 1 to threshold - 1 is withheld, totals included (a
   total is a figure like any other). Zeros are shown as 0 and are never withheld.
2. Complementary suppression: the table is a flow network (source -> row totals -> cells ->
   column totals -> sink, the grand total closing the circuit; breakdowns run one after another
   and the total closes the circuit); each figure is an edge carrying
   its value, bounded by what a reader knows of it (below). Another table consistent with what is
   published differs from the true one by a circulation, which splits into cycles, so a withheld
   figure can take another value exactly when the residual graph has a cycle through its edge; a
   breadth-first search finds one or shows there is none. For a figure with none, Dijkstra's
   algorithm finds the cheapest set of shown figures whose withholding would open such a cycle
   (avoiding the grand total, then any total, then withholding as few and as small figures as
   possible; ties go the same way every time) and they are withheld. This repeats until no
   withheld figure is determined. In particular a line with a published total never ends with a
   lone withheld figure: for a list with one small count, the next smallest non-zero figure goes
   too, and where only zeros are left, the total goes instead.
3. If some figure stays determined even with every non-zero figure withheld (a row of four 1s
   whose total, 4, is itself withheld: four figures each at least 1 adding up to at most 4 must
   all be 1), the table is withheld: `withheld` is True, every figure is the marker, and the
   footnote says so. A caller should then publish the footnote in place of the table. This is
   decided with complementary figures taken as "the threshold and above" (below), so it can,
   rarely, withhold a table that a reader allowing for complementary zeros could not break.

What is guaranteed. The reader knows every published figure; knows that each row, column and grand
total that is published (as a number or as the marker) is the sum of its line; knows these rules;
and is even assumed to know which withheld figures are small counts (so 1 to threshold - 1) and
which are complementary (so 0, or the threshold and above, as anything in between would have been
a small count). Against that reader every withheld figure has at least two values consistent with
everything published: its true value and one differing from it by 1. The check is exact integer
reasoning over all the published constraints at once, not an approximation, so it covers
everything interval (bounds) propagation can deduce and more. It treats complementary figures as
"the threshold and above", a subset of what the reader allows, so an alternative it finds is
open to the reader too.

What is not guaranteed.
- How wide the uncertainty is: a withheld figure may be narrowed to two neighbouring values
  ("1 or 2"); there is no minimum protection range.
- Sums of withheld figures: several withheld cells in a line can have an exact, small sum.
- Anything from outside the table: the same people counted in another table or breakdown not
  protected together with it, earlier quarters, year-to-date figures, or local knowledge.
- Zeros, which are shown by design: a 0 says nobody in that group.
- A reader who replays the choice of complementary figures (knowing the cheapest were taken
  says the figures taken are no larger than some left shown).

Sizes: each check is a breadth-first search per withheld figure and each repair a rerun, so the
work grows faster than the table; a 60 x 20 table with all its totals takes about 0.05 seconds.

Rounding ("round")
------------------
Every figure and every total is rounded on its own to the nearest multiple of the base (halves
round up), so totals need not equal the sum of the rounded figures. No check is made: combining
rounded cells with rounded totals can narrow a figure to less than the base.

The policy comes from `DisclosurePolicy()` defaults or Django's SAFERHUB_DISCLOSURE setting, for
example ``SAFERHUB_DISCLOSURE = {"method": "suppress", "threshold": 10, "marker": "[c]"}``.
"""
from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

METHODS = ("suppress", "round")


@dataclass(frozen=True)
class DisclosurePolicy:
    """How published counts are protected."""

    method: str = "suppress"
    threshold: int = 5
    base: int = 5
    marker: str = "[c]"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"Disclosure method must be one of {', '.join(METHODS)}, not {self.method!r}.")
        if not _is_count(self.threshold) or self.threshold < 3:
            # With a threshold of 2 the only small count is 1, so a withheld small count is always 1.
            raise ValueError(f"Disclosure threshold must be a whole number of at least 3, not {self.threshold!r}.")
        if not _is_count(self.base) or self.base < 2:
            raise ValueError(f"Rounding base must be a whole number of at least 2, not {self.base!r}.")
        if not isinstance(self.marker, str) or not self.marker.strip():
            raise ValueError("Disclosure marker must be some text, such as [c].")

    @classmethod
    def from_settings(cls) -> DisclosurePolicy:
        """The policy in Django's SAFERHUB_DISCLOSURE setting, or the defaults without one."""
        config = _configured_policy()
        if config is None:
            return cls()
        unknown = sorted(set(config) - {"method", "threshold", "base", "marker"})
        if unknown:
            raise ValueError(f"SAFERHUB_DISCLOSURE has unknown keys: {', '.join(unknown)}.")
        return cls(**config)

    @property
    def explanation(self) -> str:
        """A footnote saying what the protection does to the figures."""
        if self.method == "round":
            return f"Figures are rounded to the nearest {self.base}."
        return (
            f"{self.marker} withheld to protect confidentiality: a count from 1 to {self.threshold - 1}, "
            "or a figure from which such a count could be worked out."
        )


@dataclass(frozen=True)
class Suppressed:
    """A withheld figure; it shows as its marker and carries nothing else."""

    marker: str = "[c]"

    def __str__(self) -> str:
        return self.marker


Figure = int | Suppressed


@dataclass(frozen=True)
class ProtectedTable:
    """A table ready to publish: each figure is a number or `Suppressed`."""

    cells: list[list[Figure]]
    row_totals: list[Figure] | None
    col_totals: list[Figure] | None
    grand_total: Figure | None
    suppressed_count: int
    footnote: str
    withheld: bool = False
    policy: DisclosurePolicy = field(default_factory=DisclosurePolicy)


@dataclass(frozen=True)
class ProtectedSeries:
    """A list of counts ready to publish: each figure is a number or `Suppressed`."""

    values: list[Figure]
    total: Figure | None
    suppressed_count: int
    footnote: str
    withheld: bool = False
    policy: DisclosurePolicy = field(default_factory=DisclosurePolicy)


@dataclass(frozen=True)
class ProtectedBreakdowns:
    """Several breakdowns of one total ready to publish: each figure is a number or `Suppressed`."""

    breakdowns: list[list[Figure]]
    total: Figure | None
    suppressed_count: int
    footnote: str
    withheld: bool = False
    policy: DisclosurePolicy = field(default_factory=DisclosurePolicy)


def display(value: Figure, marker: str | None = None) -> str:
    """A published figure as text: 1,234 with thousands separators, or the marker."""
    if isinstance(value, Suppressed):
        return marker if marker is not None else value.marker
    if not _is_count(value):
        raise TypeError(f"Only counts and suppressed figures can be displayed, not {value!r}.")
    return f"{value:,}"


def protect_table(
    cells: Sequence[Sequence[int]],
    row_totals: Sequence[int] | None = None,
    col_totals: Sequence[int] | None = None,
    grand_total: int | None = None,
    policy: DisclosurePolicy | None = None,
) -> ProtectedTable:
    """Protect a grid of counts and whichever of its totals will be published.

    Totals must be the sums of the figures shown: a total that also counts categories not shown
    needs those categories as a row or column of their own.
    """
    grid = [list(row) for row in cells]
    height, width = len(grid), len(grid[0]) if grid else 0
    if any(len(row) != width for row in grid):
        raise ValueError("Every row of the table must have the same number of cells.")
    for row in grid:
        _check_counts(row, "cell")
    row_sums = [sum(row) for row in grid]
    col_sums = [sum(row[column] for row in grid) for column in range(width)]
    _check_totals(row_totals, row_sums, "row total", "rows")
    _check_totals(col_totals, col_sums, "column total", "columns")
    _check_totals(None if grand_total is None else [grand_total], [sum(row_sums)], "grand total")

    # Source -> row totals -> cells -> column totals -> sink, and the grand total back to source.
    network = _Network(2 + height + width)
    for row in range(height):
        for column in range(width):
            network.add(("cell", row, column), 2 + row, 2 + height + column, grid[row][column], True)
    for row in range(height):
        network.add(("row", row), _SOURCE, 2 + row, row_sums[row], row_totals is not None)
    for column in range(width):
        network.add(("col", column), 2 + height + column, _SINK, col_sums[column], col_totals is not None)
    network.add(("grand",), _SINK, _SOURCE, sum(row_sums), grand_total is not None)

    outcome = _Outcome(network, policy)
    shown = outcome.shown
    return ProtectedTable(
        cells=[[shown[("cell", row, column)] for column in range(width)] for row in range(height)],
        row_totals=None if row_totals is None else [shown[("row", row)] for row in range(height)],
        col_totals=None if col_totals is None else [shown[("col", column)] for column in range(width)],
        grand_total=shown.get(("grand",)),
        suppressed_count=outcome.suppressed_count,
        footnote=outcome.footnote,
        withheld=outcome.withheld,
        policy=outcome.policy,
    )


def protect_series(
    values: Sequence[int], total: int | None = None, policy: DisclosurePolicy | None = None
) -> ProtectedSeries:
    """Protect a list of counts and, if it will be published, their total."""
    result = protect_breakdowns([values], total=total, policy=policy)
    return ProtectedSeries(
        values=result.breakdowns[0],
        total=result.total,
        suppressed_count=result.suppressed_count,
        footnote=result.footnote,
        withheld=result.withheld,
        policy=result.policy,
    )


def protect_breakdowns(
    breakdowns: Sequence[Sequence[int]], total: int | None = None, policy: DisclosurePolicy | None = None
) -> ProtectedBreakdowns:
    """Protect several breakdowns of the same people (by month, by referral source, ...) together,
    with their common total if it will be published.

    Protecting each breakdown on its own is not enough: a total withheld in one breakdown could be
    added up from another, and each breakdown narrows what the others can hide.
    """
    lists = [list(parts) for parts in breakdowns]
    if not lists:
        raise ValueError("There must be at least one breakdown.")
    for parts in lists:
        _check_counts(parts, "figure")
    sums = [sum(parts) for parts in lists]
    if any(value != sums[0] for value in sums):
        raise ValueError(f"Every breakdown must add up to the same total, not {', '.join(map(str, sums))}.")
    _check_totals(None if total is None else [total], sums[:1], "total")

    # Breakdown b runs from node b to node b + 1, so each adds up to what flows through the next;
    # the total runs from the last node back to the first.
    network = _Network(len(lists) + 1)
    for number, parts in enumerate(lists):
        for position, value in enumerate(parts):
            network.add(("cell", number, position), number, number + 1, value, True)
    network.add(("grand",), len(lists), 0, sums[0], total is not None)

    outcome = _Outcome(network, policy)
    return ProtectedBreakdowns(
        breakdowns=[[outcome.shown[("cell", number, position)] for position in range(len(parts))]
                    for number, parts in enumerate(lists)],
        total=outcome.shown.get(("grand",)),
        suppressed_count=outcome.suppressed_count,
        footnote=outcome.footnote,
        withheld=outcome.withheld,
        policy=outcome.policy,
    )


def _configured_policy() -> dict | None:
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
    except ImportError:
        return None
    try:
        return getattr(settings, "SAFERHUB_DISCLOSURE", None)
    except ImproperlyConfigured:
        return None


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_counts(values: Sequence[object], what: str) -> None:
    for value in values:
        if not _is_count(value) or value < 0:
            raise ValueError(f"Every {what} must be a whole number of 0 or more, not {value!r}.")


def _check_totals(totals: Sequence[int] | None, sums: list[int], what: str, lines: str = "") -> None:
    """Totals must be the sums of their figures: the protection reasons from that."""
    if totals is None:
        return
    if len(totals) != len(sums):
        raise ValueError(f"There are {len(totals)} {what}s for {len(sums)} {lines}.")
    _check_counts(totals, what)
    for position, (total, expected) in enumerate(zip(totals, sums, strict=True)):
        if total != expected:
            place = f"The {what} at position {position + 1}" if lines else f"The {what}"
            raise ValueError(f"{place} is {total} but its figures add up to {expected}.")


def _round(value: int, base: int) -> int:
    return (2 * value + base) // (2 * base) * base


class _Outcome:
    """What to publish for a network under a policy."""

    def __init__(self, network: _Network, policy: DisclosurePolicy | None) -> None:
        self.policy = policy = policy or DisclosurePolicy.from_settings()
        published = network.published
        self.withheld = False
        self.suppressed_count = 0
        if policy.method == "round":
            self.shown = {key: _round(network.edges[key].value, policy.base) for key in published}
            self.footnote = policy.explanation
            if any(key[0] != "cell" for key in published):
                self.footnote += " Totals are rounded separately, so may not equal the sum of the figures shown."
            return
        marker = Suppressed(policy.marker)
        withheld = network.withhold(policy.threshold)
        if withheld is None:
            self.withheld = True
            self.shown = {key: marker for key in published}
            self.footnote = (
                f"{policy.marker} withheld to protect confidentiality: these figures cannot be published "
                f"without revealing a count from 1 to {policy.threshold - 1}."
            )
        else:
            self.shown = {key: marker if key in withheld else network.edges[key].value for key in published}
            self.footnote = policy.explanation if withheld else ""
        self.suppressed_count = sum(isinstance(value, Suppressed) for value in self.shown.values())


# What is known of a figure: shown, a withheld small count, a withheld complementary figure, or
# not published at all (a total the caller leaves out).
_SHOWN, _SMALL, _COMPLEMENTARY, _UNPUBLISHED = range(4)
_SOURCE, _SINK = 0, 1
_NO_COST = (0, 0, 0, 0)


@dataclass
class _Edge:
    tail: int
    head: int
    value: int
    state: int


class _Network:
    """Figures as a circulation: each figure is an edge carrying its value, and every published
    sum is a node where what flows in equals what flows out."""

    def __init__(self, node_count: int) -> None:
        self.node_count = node_count
        self.edges: dict[tuple, _Edge] = {}
        self.threshold = 0

    def add(self, key: tuple, tail: int, head: int, value: int, published: bool) -> None:
        self.edges[key] = _Edge(tail, head, value, _SHOWN if published else _UNPUBLISHED)

    @property
    def published(self) -> list[tuple]:
        return [key for key, edge in self.edges.items() if edge.state != _UNPUBLISHED]

    def withhold(self, threshold: int) -> set[tuple] | None:
        """The figures to withhold, or None when the whole table has to be withheld."""
        self.threshold = threshold
        for edge in self.edges.values():
            if edge.state == _SHOWN and 0 < edge.value < threshold:
                edge.state = _SMALL
        while True:
            arcs = self._residual()
            determined = next((key for key in self.edges if self._is_determined(arcs, key)), None)
            if determined is None:
                return {key for key, edge in self.edges.items() if edge.state in (_SMALL, _COMPLEMENTARY)}
            release = self._cheapest_release(determined)
            if release is None:
                return None
            for key in release:
                self.edges[key].state = _COMPLEMENTARY

    def _bounds(self, edge: _Edge) -> tuple[float, float]:
        if edge.state == _SHOWN:
            return edge.value, edge.value
        if edge.state == _SMALL:
            return 1, self.threshold - 1
        if edge.state == _COMPLEMENTARY:
            # Known to be 0 or at least the threshold, and never a zero (zeros protect nothing).
            # Keeping to the part holding the true value is stricter than the reader needs to be,
            # so any alternative value found here is open to the reader too.
            return self.threshold, math.inf
        return 0, math.inf

    def _residual(self) -> list[list[tuple[int, tuple]]]:
        """For each node, where one more unit can be pushed: (next node, figure changed)."""
        arcs: list[list[tuple[int, tuple]]] = [[] for _ in range(self.node_count)]
        for key, edge in self.edges.items():
            low, high = self._bounds(edge)
            if edge.value < high:
                arcs[edge.tail].append((edge.head, key))
            if edge.value > low:
                arcs[edge.head].append((edge.tail, key))
        return arcs

    def _is_determined(self, arcs, key: tuple) -> bool:
        # Another consistent table differs from the true one by a circulation, which splits into
        # cycles; so the figure can move exactly when a cycle of pushable steps runs through it.
        edge = self.edges[key]
        if edge.state not in (_SMALL, _COMPLEMENTARY):
            return False
        low, high = self._bounds(edge)
        can_rise = edge.value < high and _reaches(arcs, edge.head, edge.tail, key)
        can_fall = edge.value > low and _reaches(arcs, edge.tail, edge.head, key)
        return not (can_rise or can_fall)

    def _cost(self, key: tuple) -> tuple[int, int, int, int]:
        # Lose the grand total last, then any total, then as few and as small figures as possible.
        return (int(key[0] == "grand"), int(key[0] != "cell"), 1, self.edges[key].value)

    def _cheapest_release(self, key: tuple) -> list[tuple] | None:
        """The shown figures to withhold so that the figure at `key` can move; None if none will do."""
        arcs = self._residual()
        for other, edge in self.edges.items():
            if edge.state != _SHOWN or edge.value == 0:
                continue
            # Once withheld a figure is known only to be at least the threshold: it can always
            # rise, and fall only from above the threshold.
            arcs[edge.tail].append((edge.head, other))
            if edge.value > self.threshold:
                arcs[edge.head].append((edge.tail, other))
        edge = self.edges[key]
        low, high = self._bounds(edge)
        routes = []
        if edge.value < high:
            routes.append(self._cheapest_path(arcs, edge.head, edge.tail, key))
        if edge.value > low:
            routes.append(self._cheapest_path(arcs, edge.tail, edge.head, key))
        routes = [route for route in routes if route is not None]
        return min(routes)[1] if routes else None

    def _cheapest_path(self, arcs, start: int, goal: int, skip: tuple):
        """Dijkstra's algorithm: the cost and the shown figures on the cheapest path, or None."""
        best = {start: _NO_COST}
        came: dict[int, tuple[int, tuple]] = {}
        queue = [(_NO_COST, start)]
        while queue:
            cost, node = heapq.heappop(queue)
            if cost != best[node]:
                continue
            if node == goal:
                figures = []
                while node != start:
                    node, key = came[node]
                    if self.edges[key].state == _SHOWN:
                        figures.append(key)
                return cost, sorted(figures)
            for neighbour, key in arcs[node]:
                if key == skip:
                    continue
                step = self._cost(key) if self.edges[key].state == _SHOWN else _NO_COST
                total = tuple(a + b for a, b in zip(cost, step, strict=True))
                if neighbour not in best or total < best[neighbour]:
                    best[neighbour] = total
                    came[neighbour] = (node, key)
                    heapq.heappush(queue, (total, neighbour))
        return None


def _reaches(arcs, start: int, goal: int, skip: tuple) -> bool:
    seen = {start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            return True
        for neighbour, key in arcs[node]:
            if key != skip and neighbour not in seen:
                seen.add(neighbour)
                queue.append(neighbour)
    return False
