"""UK financial periods: the year runs 1 April – 31 March ("2023/24"); Q1 = Apr–Jun, Q2 = Jul–Sep,
Q3 = Oct–Dec, Q4 = Jan–Mar."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_SLUG = re.compile(r"^(\d{4})-(\d{2})-q([1-4])$")
_LABEL = re.compile(r"^\s*(?:(\d{4})/(\d{2})\s*-?\s*Q([1-4])|Q([1-4])\s+(\d{4})/(\d{2}))\s*$", re.IGNORECASE)


def financial_year_of(day: dt.date) -> int:
    """The calendar year the financial year containing `day` starts in."""
    return day.year if day.month >= 4 else day.year - 1


def financial_year_label(start_year: int) -> str:
    return f"{start_year}/{(start_year + 1) % 100:02d}"


@dataclass(frozen=True, order=True)
class FinancialQuarter:
    year: int  # the calendar year the financial year starts in: 2023 for 2023/24
    quarter: int  # 1..4

    def __post_init__(self):
        if self.quarter not in (1, 2, 3, 4):
            raise ValueError(f"A financial quarter is 1 to 4, not {self.quarter}")

    @classmethod
    def parse(cls, text: str) -> "FinancialQuarter":
        """'2023/24-Q3', '2023/24 Q3' or 'Q3 2023/24'."""
        match = _LABEL.match(text or "")
        if not match:
            raise ValueError(f"'{text}' is not a financial quarter: write it like 2023/24-Q3")
        if match.group(1):
            start, end, quarter = int(match.group(1)), int(match.group(2)), int(match.group(3))
        else:
            quarter, start, end = int(match.group(4)), int(match.group(5)), int(match.group(6))
        if (start + 1) % 100 != end:
            raise ValueError(f"'{text}': {start}/{end:02d} is not a financial year (it should be {financial_year_label(start)})")
        return cls(start, quarter)

    @classmethod
    def from_slug(cls, slug: str) -> "FinancialQuarter":
        """The inverse of `slug`: '2023-24-q3'. Raises ValueError for anything else."""
        match = _SLUG.match(slug or "")
        if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
            raise ValueError(f"'{slug}' is not a financial quarter: write it like 2023-24-q3")
        return cls(int(match.group(1)), int(match.group(3)))

    @classmethod
    def from_date(cls, day: dt.date) -> "FinancialQuarter":
        year = financial_year_of(day)
        months_in = (day.month - 4) % 12
        return cls(year, months_in // 3 + 1)

    @property
    def start(self) -> dt.date:
        month = 4 + (self.quarter - 1) * 3
        year = self.year + (1 if month > 12 else 0)
        return dt.date(year, (month - 1) % 12 + 1, 1)

    @property
    def end(self) -> dt.date:
        return self.next().start - dt.timedelta(days=1)

    @property
    def months(self) -> list[dt.date]:
        """The first day of each of the quarter's three months."""
        first = self.start
        return [dt.date(first.year + (first.month + i - 1) // 12, (first.month + i - 1) % 12 + 1, 1) for i in range(3)]

    @property
    def label(self) -> str:
        return f"Q{self.quarter} {financial_year_label(self.year)}"

    @property
    def key(self) -> str:
        """The form used on the command line and in URLs: 2023/24-Q3."""
        return f"{financial_year_label(self.year)}-Q{self.quarter}"

    @property
    def slug(self) -> str:
        return f"{self.year}-{(self.year + 1) % 100:02d}-q{self.quarter}"

    def next(self) -> "FinancialQuarter":
        return FinancialQuarter(self.year + (self.quarter == 4), self.quarter % 4 + 1)

    def previous(self) -> "FinancialQuarter":
        return FinancialQuarter(self.year - (self.quarter == 1), (self.quarter - 2) % 4 + 1)

    def same_quarter_years_ago(self, years: int) -> "FinancialQuarter":
        return FinancialQuarter(self.year - years, self.quarter)

    def __str__(self) -> str:
        return self.label


def month_label(day: dt.date) -> str:
    return f"{day:%B %Y}"


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)
