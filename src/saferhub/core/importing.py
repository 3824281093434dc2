"""What the data-file importers (partners, strategies) report when a file cannot be loaded."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong with one file. `row` is a spreadsheet row number (with `sheet`) or a
    YAML path such as `items[2].actions[0].lead`; `field` names the column or key."""

    file: str
    row: int | str
    field: str
    message: str
    sheet: str = ""

    @property
    def location(self) -> str:
        return f"{self.sheet}!{self.row}" if self.sheet else str(self.row)

    def __str__(self) -> str:
        return f"{self.file}:{self.location}: {self.field}: {self.message}"


class ImportFailed(Exception):
    """Raised when any file has any problem; nothing has been written."""

    def __init__(self, problems: list[ImportProblem]):
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} found; nothing was imported")

    def __str__(self) -> str:
        return "\n".join([self.args[0], *(str(p) for p in self.problems)])


def date_parse(value) -> dt.date | None:
    """A date from a YAML date, an Excel date cell or `YYYY-MM-DD` text; None when empty.
    Raises ValueError for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0, 0):
            raise ValueError("Enter a date without a time")
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"Enter a date as YYYY-MM-DD, not '{value}'")
