"""Tables of figures as the dashboards, the quarterly report and the spreadsheet exports show them:
a caption, typed columns and rows whose first cell names the row."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from saferhub.core.formatting import number
from saferhub.performance.models import Polarity, Unit

NOT_REPORTED = "Not reported"
NO_COMPARISON = "No comparison"
NUMERIC_KINDS = {Unit.COUNT, Unit.HOURS, Unit.PERCENT, Unit.POUNDS, "change", "number"}


@dataclass(frozen=True)
class Change:
    """The change from one figure to another, worded for the figure's unit and polarity: a
    percentage's change is in percentage points, and a polarity says whether it is better. Each
    wording is worked out once: a summary of 200 figures asks for them again and again."""

    previous: float | None
    current: float | None
    unit: str = Unit.COUNT
    polarity: str = Polarity.NEUTRAL

    @cached_property
    def value(self) -> float | None:
        """Per cent (or percentage points for percentages); None when it cannot be computed."""
        if self.previous is None or self.current is None:
            return None
        if self.unit == Unit.PERCENT:
            return self.current - self.previous
        if self.previous == 0:
            return None
        return (self.current - self.previous) / self.previous * 100

    @cached_property
    def direction(self) -> str:
        value = self.value
        if value is None:
            return ""
        return "up" if round(value, 1) > 0 else "down" if round(value, 1) < 0 else "same"

    @cached_property
    def assessment(self) -> str:
        """'better' or 'worse' for figures with a polarity, else ''."""
        if self.direction in ("", "same") or self.polarity == Polarity.NEUTRAL:
            return ""
        rising_is_better = self.polarity == Polarity.HIGHER_IS_BETTER
        return "better" if (self.direction == "up") == rising_is_better else "worse"

    @cached_property
    def text(self) -> str:
        """'up 5.8%', 'down 3 percentage points', 'no change', or '' when there is nothing to compare."""
        if self.direction == "":
            return ""
        if self.direction == "same":
            return "no change"
        size = f"{abs(self.value):,.1f}".removesuffix(".0")
        size += " percentage points" if self.unit == Unit.PERCENT else "%"
        return f"{self.direction} {size}"

    @cached_property
    def text_with_assessment(self) -> str:
        text = self.text
        return f"{text} ({self.assessment})" if text and self.assessment else text


def figure_text(value: Any, kind: str = Unit.COUNT) -> str:
    """A figure as a person reads it: 2,491; 81.7%; 106 hours; £42,240."""
    if value is None:
        return NOT_REPORTED
    if isinstance(value, str):
        return value
    if isinstance(value, Change):
        return value.text_with_assessment or NO_COMPARISON
    if kind == Unit.PERCENT:
        return f"{number(value)}%"
    if kind == Unit.POUNDS:
        return f"£{value:,.0f}"
    if kind in (Unit.COUNT, Unit.HOURS, "number"):
        return number(value)
    return str(value)


@dataclass
class Column:
    heading: str
    kind: str = "text"  # text, a Unit, "change" or "number"

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS


@dataclass
class Table:
    key: str  # a slug naming the table within its page: its id and its export's file name
    caption: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""

    def text(self, row: int, column: int) -> str:
        return figure_text(self.rows[row][column], self.columns[column].kind)

    def text_rows(self) -> list[list[str]]:
        return [[figure_text(cell, column.kind) if column.kind != "text" else ("" if cell is None else str(cell))
                 for cell, column in zip(row, self.columns)] for row in self.rows]

    def export_rows(self) -> list[list[Any]]:
        """Cells as spreadsheet values: numbers stay numbers, a change is its per cent rounded to
        one place, a missing figure is an empty cell."""
        rows = []
        for row in self.rows:
            cells = []
            for cell, column in zip(row, self.columns):
                if isinstance(cell, Change):
                    cells.append(None if cell.value is None else round(cell.value, 1))
                elif isinstance(cell, float) and cell.is_integer():
                    cells.append(int(cell))
                else:
                    cells.append(cell)
            rows.append(cells)
        return rows

    def govuk(self) -> dict:
        """The parameters of the GOV.UK table macro."""
        head = [{"text": c.heading, **({"format": "numeric"} if c.numeric else {})} for c in self.columns]
        rows = [[{"text": text, **({"format": "numeric"} if c.numeric and n else {})}
                 for n, (text, c) in enumerate(zip(row, self.columns))] for row in self.text_rows()]
        return {"caption": self.caption, "captionClasses": "govuk-table__caption--s", "head": head,
                "rows": rows, "firstCellIsHeader": True, "attributes": {"id": f"table-{self.key}"}}
