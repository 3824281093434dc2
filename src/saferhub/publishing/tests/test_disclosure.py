"""Disclosure control for published counts: what is withheld, what is shown, and that no withheld
figure can be worked out from what is published."""
import pytest
from hypothesis import given, settings, strategies as st

from saferhub.publishing.disclosure import (
    DisclosurePolicy,
    Suppressed,
    display,
    protect_breakdowns,
    protect_series,
    protect_table,
)

C = Suppressed("[c]")
POLICY = DisclosurePolicy()

# IDAS target hardening, Q3 2023/24 (seed 002): items provided, individuals provided to.
TARGET_HARDENING = [
    ("Personal alarm", 23, 21),
    ("Window alarm", 73, 20),
    ("Doorbell camera", 1, 1),
    ("Dummy CCTV", 5, 4),
    ("Window alarm sticker", 1, 1),
    ("Door alarm", 14, 8),
    ("Letterbox lock", 9, 7),
    ("Solar light", 7, 5),
    ("Mobile phone", 2, 2),
    ("Sim card", 1, 1),
    ("Door jammer", 25, 19),
    ("Door chain", 39, 25),
]


# An attacker written apart from the module: bounds reasoning plus exhaustive search.

class _Search:
    """Integer search over the withheld figures of a published table, as a well-informed reader.

    The reader knows every published figure, that each published or withheld total is the sum of
    its line, that a withheld small count is 1..threshold-1 and (being told which is which) that
    any other withheld figure is 0 or at least the threshold. Those domains sit inside the plain
    "at least 0" the brief describes, so an alternative found here is an alternative there too.
    `strict` drops the 0 for complementary figures, as the module's own model does when it decides
    that a table cannot be published at all.
    """

    def __init__(self, truth, published, equations, threshold, strict=False, budget=200_000):
        self.truth, self.equations, self.threshold = truth, equations, threshold
        cap = sum(truth.values()) + threshold
        self.domains = {}
        # Figures never published (a total left out) are unknown but still add up.
        self.free = {key for key in truth if key not in published}
        for key, value in truth.items():
            if key in self.free:
                self.domains[key] = (0, cap)
            elif not isinstance(published[key], Suppressed):
                self.domains[key] = (value, value)
            elif 0 < value < threshold:
                self.domains[key] = (1, threshold - 1)
            else:
                self.domains[key] = (threshold if strict else 0, cap)
        self.small = {key for key, value in truth.items() if 0 < value < threshold}
        self.budget = budget

    def _tidy(self, key, low, high):
        # A complementary figure skips 1..threshold-1.
        if key not in self.small and key not in self.free:
            if 0 < low < self.threshold:
                low = self.threshold
            if 0 < high < self.threshold:
                high = 0
        return low, high

    def _propagate(self, domains):
        changed = True
        while changed:
            changed = False
            for members, total in self.equations:
                low_sum = sum(domains[key][0] for key in members)
                high_sum = sum(domains[key][1] for key in members)
                updates = {total: (max(domains[total][0], low_sum), min(domains[total][1], high_sum))}
                for key in members:
                    low = domains[total][0] - (high_sum - domains[key][1])
                    high = domains[total][1] - (low_sum - domains[key][0])
                    updates[key] = (max(domains[key][0], low), min(domains[key][1], high))
                for key, (low, high) in updates.items():
                    low, high = self._tidy(key, low, high)
                    if low > high:
                        return None
                    if (low, high) != domains[key]:
                        domains[key] = (low, high)
                        changed = True
        return domains

    def _solve(self, domains):
        self.budget -= 1
        if self.budget < 0:
            raise RuntimeError("search budget exhausted")
        domains = self._propagate(dict(domains))
        if domains is None:
            return False
        open_keys = [key for key, (low, high) in domains.items() if low < high]
        if not open_keys:
            return all(sum(domains[key][0] for key in members) == domains[total][0]
                       for members, total in self.equations)
        key = min(open_keys, key=lambda k: (domains[k][1] - domains[k][0], k))
        low, high = domains[key]
        hint = self.truth[key]
        if low <= hint <= high:
            parts = [(hint, hint), (low, hint - 1), (hint + 1, high)]
        else:
            middle = (low + high) // 2
            parts = [(low, middle), (middle + 1, high)]
            if hint > high:
                parts.reverse()
        for part_low, part_high in parts:
            part = self._tidy(key, part_low, part_high)
            if part[0] <= part[1] and self._solve({**domains, key: part}):
                return True
        return False

    def alternatives(self, key):
        """Whether the figure at `key` can be anything other than its true value."""
        low, high = self.domains[key]
        value = self.truth[key]
        return any(
            self._solve({**self.domains, key: (part_low, part_high)})
            for part_low, part_high in ((low, value - 1), (value + 1, high))
            if part_low <= part_high
        )


def _figures(cells, row_totals, col_totals, grand_total):
    """Every figure of a table by position, with the sums a reader knows hold between them."""
    truth = {("cell", r, c): value for r, row in enumerate(cells) for c, value in enumerate(row)}
    height, width = len(cells), len(cells[0]) if cells else 0
    equations = []
    if row_totals is not None:
        truth |= {("row", r): value for r, value in enumerate(row_totals)}
        equations += [([("cell", r, c) for c in range(width)], ("row", r)) for r in range(height)]
    if col_totals is not None:
        truth |= {("col", c): value for c, value in enumerate(col_totals)}
        equations += [([("cell", r, c) for r in range(height)], ("col", c)) for c in range(width)]
    if grand_total is not None:
        truth[("grand",)] = grand_total
        if row_totals is not None:
            equations.append(([("row", r) for r in range(height)], ("grand",)))
        if col_totals is not None:
            equations.append(([("col", c) for c in range(width)], ("grand",)))
        if row_totals is None and col_totals is None:
            equations.append(([key for key in truth if key[0] == "cell"], ("grand",)))
    return truth, equations


def _published(result):
    shown = {("cell", r, c): value for r, row in enumerate(result.cells) for c, value in enumerate(row)}
    if result.row_totals is not None:
        shown |= {("row", r): value for r, value in enumerate(result.row_totals)}
    if result.col_totals is not None:
        shown |= {("col", c): value for c, value in enumerate(result.col_totals)}
    if result.grand_total is not None:
        shown[("grand",)] = result.grand_total
    return shown


def _determined(truth, published, equations, threshold, strict=False):
    """Withheld figures the reader can work out exactly."""
    search = _Search(truth, published, equations, threshold, strict)
    return [key for key, value in published.items()
            if isinstance(value, Suppressed) and not search.alternatives(key)]


def _check_protected(cells, row_totals, col_totals, grand_total, threshold):
    policy = DisclosurePolicy(threshold=threshold)
    result = protect_table(cells, row_totals, col_totals, grand_total, policy=policy)
    truth, equations = _figures(cells, row_totals, col_totals, grand_total)
    published = _published(result)
    assert published.keys() == truth.keys()
    assert result.suppressed_count == sum(isinstance(value, Suppressed) for value in published.values())
    for key, value in truth.items():
        if 0 < value < threshold:
            assert isinstance(published[key], Suppressed), key
        elif value == 0 and not result.withheld:
            assert published[key] == 0, key
        if not isinstance(published[key], Suppressed):
            assert published[key] == value, key
    if result.withheld:
        assert all(isinstance(value, Suppressed) for value in published.values())
        # Withholding is a last resort: even with every non-zero figure withheld, one is exact
        # (to a reader who also knows that no complementary figure is a zero).
        everything = {key: C if value else 0 for key, value in truth.items()}
        assert _determined(truth, everything, equations, threshold, strict=True)
    else:
        assert _determined(truth, published, equations, threshold) == []
    return result


count = st.one_of(st.just(0), st.integers(1, 4), st.integers(5, 60))


@st.composite
def tables(draw):
    height, width = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    cells = [[draw(count) for _ in range(width)] for _ in range(height)]
    row_totals = [sum(row) for row in cells] if draw(st.booleans()) else None
    col_totals = [sum(column) for column in zip(*cells)] if draw(st.booleans()) else None
    grand_total = sum(map(sum, cells)) if draw(st.booleans()) else None
    return cells, row_totals, col_totals, grand_total


@settings(max_examples=200, deadline=None)
@given(tables(), st.sampled_from([3, 5, 10]))
def test_no_withheld_figure_in_a_table_can_be_worked_out(table, threshold):
    _check_protected(*table, threshold)


@settings(max_examples=200, deadline=None)
@given(st.lists(count, max_size=12), st.booleans(), st.sampled_from([3, 5, 10]))
def test_no_withheld_figure_in_a_series_can_be_worked_out(values, with_total, threshold):
    total = sum(values) if with_total else None
    result = protect_series(values, total, policy=DisclosurePolicy(threshold=threshold))
    table = _check_protected([values], None if total is None else [total], None, None, threshold)
    assert result.values == table.cells[0]
    assert result.total == (None if total is None else table.row_totals[0])
    assert (result.suppressed_count, result.withheld, result.footnote) == (
        table.suppressed_count, table.withheld, table.footnote)


@st.composite
def breakdowns(draw):
    lists = [draw(st.lists(count, min_size=1, max_size=5)) for _ in range(draw(st.integers(1, 3)))]
    # Pad each breakdown with one more figure so that all add up to the same total.
    total = max(map(sum, lists))
    lists = [parts + [total - sum(parts)] if sum(parts) < total else parts for parts in lists]
    return lists, total if draw(st.booleans()) else None


@settings(max_examples=200, deadline=None)
@given(breakdowns(), st.sampled_from([3, 5, 10]))
def test_no_withheld_figure_in_breakdowns_of_one_total_can_be_worked_out(case, threshold):
    lists, total = case
    result = protect_breakdowns(lists, total, policy=DisclosurePolicy(threshold=threshold))
    truth = {("part", number, position): value
             for number, parts in enumerate(lists) for position, value in enumerate(parts)}
    truth[("total",)] = sum(lists[0])
    published = {("part", number, position): value
                 for number, parts in enumerate(result.breakdowns) for position, value in enumerate(parts)}
    if total is not None:
        published[("total",)] = result.total
    else:
        assert result.total is None
    equations = [([("part", number, position) for position in range(len(parts))], ("total",))
                 for number, parts in enumerate(lists)]
    for key, value in published.items():
        if 0 < truth[key] < threshold:
            assert isinstance(value, Suppressed)
        elif not isinstance(value, Suppressed):
            assert value == truth[key]
        elif truth[key] == 0:
            assert result.withheld
    if result.withheld:
        everything = {key: C if truth[key] else 0 for key in published}
        assert _determined(truth, everything, equations, threshold, strict=True)
    else:
        assert _determined(truth, published, equations, threshold) == []


@settings(max_examples=200, deadline=None)
@given(tables(), st.sampled_from([5, 10]))
def test_rounding_gives_the_nearest_multiple_of_the_base(table, base):
    cells, row_totals, col_totals, grand_total = table
    result = protect_table(cells, row_totals, col_totals, grand_total,
                           policy=DisclosurePolicy(method="round", base=base))
    truth = _figures(cells, row_totals, col_totals, grand_total)[0]
    for key, value in _published(result).items():
        exact = truth[key]
        assert value % base == 0
        assert value - base / 2 <= exact < value + base / 2  # halves round up
    assert result.suppressed_count == 0
    assert result.footnote.startswith(f"Figures are rounded to the nearest {base}.")


def test_target_hardening_table_withholds_its_small_counts():
    cells = [[items, individuals] for _, items, individuals in TARGET_HARDENING]
    result = protect_table(cells, policy=POLICY)

    shown = {name: row for (name, _, _), row in zip(TARGET_HARDENING, result.cells, strict=True)}
    assert shown["Personal alarm"] == [23, 21]
    assert shown["Doorbell camera"] == [C, C]
    assert shown["Dummy CCTV"] == [5, C]
    assert shown["Window alarm sticker"] == [C, C]
    assert shown["Mobile phone"] == [C, C]
    assert shown["Sim card"] == [C, C]
    assert shown["Solar light"] == [7, 5]
    assert result.suppressed_count == 9
    assert result.footnote == (
        "[c] withheld to protect confidentiality: a count from 1 to 4, "
        "or a figure from which such a count could be worked out."
    )


def test_target_hardening_items_with_their_total():
    items = [items for _, items, _ in TARGET_HARDENING]
    result = protect_series(items, total=200, policy=POLICY)

    # The four withheld figures share 5 between them, each at least 1: none can be pinned down.
    assert [display(value) for value in result.values] == [
        "23", "73", "[c]", "5", "[c]", "14", "9", "7", "[c]", "[c]", "25", "39"]
    assert result.total == 200
    assert result.suppressed_count == 4


def test_a_zero_stays_zero():
    # +Choices referrals (seed 002): emergency accommodation, DA perpetrators, stalking interventions.
    result = protect_table([[8, 4], [32, 46], [0, 9]], col_totals=[40, 59], policy=POLICY)

    # The 4 alone would be 59 - 46 - 9, so the next smallest figure in its column goes too.
    assert result.cells == [[8, C], [32, 46], [0, C]]
    assert result.col_totals == [40, 59]
    assert result.suppressed_count == 2


def test_a_lone_small_count_takes_the_next_smallest_figure_with_it():
    result = protect_series([3, 10, 20], total=33, policy=POLICY)
    assert (result.values, result.total) == ([C, C, 20], 33)


def test_a_complementary_figure_at_the_threshold_does_not_hide_a_one():
    # Withholding the 5 would not do: a reader who knows it is at least 5 gets 13 - 7 - 5 = 1.
    assert protect_series([1, 5, 7], total=13, policy=POLICY).values == [C, 5, C]
    # A 2 can fall to 1 as the 5 rises to 6, so there the 5 is enough.
    assert protect_series([2, 5, 30], total=37, policy=POLICY).values == [C, C, 30]
    # With nothing else to pair with, the total goes: it is at least 5, so the 1 could be 1 to 4.
    result = protect_series([1, 5], total=6, policy=POLICY)
    assert (result.values, result.total) == ([C, 5], C)


def test_where_only_zeros_are_left_the_total_is_withheld():
    # The 12 hides the 3 in the first column, but in its own row only a zero is left to pair with.
    result = _check_protected([[3, 20], [12, 0]], [23, 12], [15, 20], 35, threshold=5)
    assert result.cells == [[C, 20], [C, 0]]
    assert (result.row_totals, result.col_totals, result.grand_total) == ([C, C], [15, 20], 35)


def test_breakdowns_of_one_total_are_protected_together():
    # Referrals by month and by source for the same quarter: 6 in all, 1 in October.
    result = protect_breakdowns([[1, 5, 0], [2, 4]], total=6, policy=POLICY)
    assert result.breakdowns == [[C, 5, 0], [C, C]]
    assert result.total == C
    assert result.suppressed_count == 4

    # Without a published total the breakdowns still add up to the same number: shown in full, the
    # months would give 25 - 22 = 3. The 10 is the smallest figure whose withholding hides the 3.
    result = protect_breakdowns([[10, 15], [3, 22]], policy=POLICY)
    assert result.breakdowns == [[C, 15], [C, 22]]
    assert result.total is None


def test_a_breakdown_that_does_not_add_up_is_refused():
    with pytest.raises(ValueError, match="same total, not 6, 7"):
        protect_breakdowns([[1, 5], [7]], policy=POLICY)
    with pytest.raises(ValueError, match="total is 5 but its figures add up to 6"):
        protect_breakdowns([[1, 5]], total=5, policy=POLICY)
    with pytest.raises(ValueError, match="at least one breakdown"):
        protect_breakdowns([], policy=POLICY)


def test_a_table_that_cannot_be_protected_is_withheld():
    # Four withheld figures each at least 1 and a withheld total of at most 4: all must be 1.
    result = protect_series([1, 1, 1, 1, 0], total=4, policy=POLICY)
    assert result.withheld
    assert (result.values, result.total) == ([C] * 5, C)
    assert result.footnote == (
        "[c] withheld to protect confidentiality: these figures cannot be published "
        "without revealing a count from 1 to 4."
    )


def test_a_table_with_every_total_shown():
    cells = [[3, 20, 30], [10, 25, 6], [40, 7, 2]]
    result = _check_protected(cells, [53, 41, 49], [53, 52, 38], 143, threshold=5)
    # The 3 and the 2 hide behind each other through the corners of a rectangle.
    assert result.cells == [[C, 20, C], [10, 25, 6], [C, 7, C]]
    assert (result.row_totals, result.col_totals, result.grand_total) == ([53, 41, 49], [53, 52, 38], 143)


def test_a_small_total_is_withheld_like_any_other_figure():
    result = protect_table([[2, 0], [30, 40]], row_totals=[2, 70], grand_total=72, policy=POLICY)
    assert result.cells[0] == [C, 0]
    assert result.row_totals[0] == C
    assert result.grand_total == 72


def test_the_same_table_is_always_protected_the_same_way():
    cells = [[1, 9, 9, 9], [9, 9, 9, 9], [9, 9, 9, 1]]
    rows, columns = [sum(row) for row in cells], [sum(column) for column in zip(*cells)]
    first = protect_table(cells, rows, columns, sum(rows), policy=POLICY)
    assert all(protect_table(cells, rows, columns, sum(rows), policy=POLICY) == first for _ in range(5))
    assert cells == [[1, 9, 9, 9], [9, 9, 9, 9], [9, 9, 9, 1]]


def test_an_empty_series():
    result = protect_series([], total=0, policy=POLICY)
    assert (result.values, result.total, result.suppressed_count, result.footnote) == ([], 0, 0, "")


def test_nothing_small_means_no_footnote():
    result = protect_series([12, 30], total=42, policy=POLICY)
    assert (result.values, result.total, result.footnote) == ([12, 30], 42, "")


def test_rounding_rounds_halves_up_and_totals_separately():
    result = protect_table([[5, 14], [15, 4]], row_totals=[19, 19], grand_total=38,
                           policy=DisclosurePolicy(method="round", base=10))
    assert result.cells == [[10, 10], [20, 0]]
    assert result.row_totals == [20, 20]
    assert result.grand_total == 40
    assert result.footnote == (
        "Figures are rounded to the nearest 10. "
        "Totals are rounded separately, so may not equal the sum of the figures shown."
    )


def test_the_policy_defaults_to_suppressing_counts_below_five():
    assert POLICY == DisclosurePolicy(method="suppress", threshold=5, base=5, marker="[c]")


def test_the_policy_comes_from_settings(settings):
    settings.SAFERHUB_DISCLOSURE = {"threshold": 10, "marker": "[x]"}
    result = protect_series([7, 30])
    assert result.values == [Suppressed("[x]"), 30]
    assert display(result.values[0]) == "[x]"
    assert result.footnote.startswith("[x] withheld to protect confidentiality: a count from 1 to 9,")

    settings.SAFERHUB_DISCLOSURE = {"method": "round", "base": 10}
    assert protect_series([7, 34]).values == [10, 30]


def test_without_the_setting_the_defaults_apply(settings):
    del settings.SAFERHUB_DISCLOSURE
    assert DisclosurePolicy.from_settings() == POLICY


@pytest.mark.parametrize("config, message", [
    ({"threshold": 10, "treshold": 5}, "unknown keys: treshold"),
    ({"method": "blur"}, "method must be one of suppress, round"),
    ({"threshold": 2}, "at least 3"),
    ({"threshold": 5.0}, "at least 3"),
    ({"base": 1}, "base must be"),
    ({"marker": " "}, "marker must be"),
])
def test_a_bad_setting_is_refused(settings, config, message):
    settings.SAFERHUB_DISCLOSURE = config
    with pytest.raises(ValueError, match=message):
        protect_series([3, 4])


def test_display():
    assert display(0) == "0"
    assert display(1234567) == "1,234,567"
    assert display(C) == "[c]"
    assert display(Suppressed("[low]")) == "[low]"
    assert display(C, marker="*") == "*"
    for value in ("5", None, True, 2.5):
        with pytest.raises(TypeError):
            display(value)


@pytest.mark.parametrize("kwargs, message", [
    ({"cells": [[1, 2], [3]]}, "same number of cells"),
    ({"cells": [[1, -2]]}, "0 or more"),
    ({"cells": [[1.0, 2]]}, "whole number"),
    ({"cells": [[1, 2]], "row_totals": [4]}, "row total at position 1 is 4 but its figures add up to 3"),
    ({"cells": [[1, 2]], "col_totals": [1]}, "1 column totals for 2 columns"),
    ({"cells": [[1, 2]], "grand_total": 30}, "grand total is 30 but its figures add up to 3"),
])
def test_a_malformed_table_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        protect_table(policy=POLICY, **kwargs)
