"""The action tracker's filters and sort order, read from and written back to a query string, so
the page, its sort links, its pagination and its exports all describe the same set of actions."""
import dataclasses
import datetime as dt
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils import timezone

from saferhub.strategy.models import ActionStatus, Rag

# Sortable columns: the query-string key and what a person reads in the column header.
SORT_COLUMNS = {
    "reference": "Reference",
    "title": "Action",
    "due": "Due",
    "status": "Status",
    "rag": "RAG",
    "lead": "Lead",
}
# Filtering on "not rated" needs a value a query string can carry; the model stores "".
RAG_NOT_SET = "not_set"
RAG_CHOICES = [(Rag.RED.value, "Red"), (Rag.AMBER.value, "Amber"), (Rag.GREEN.value, "Green"), (RAG_NOT_SET, "Not rated")]
SEARCH_MAX_LENGTH = 200


@dataclasses.dataclass(frozen=True)
class ActionFilters:
    strategy: str = ""  # strategy slug
    item: int | None = None  # item pk; applies only within the chosen strategy, and takes in its descendants
    lead: str = ""  # lead organisation slug
    statuses: tuple[str, ...] = ()
    rag: str = ""  # a Rag value or RAG_NOT_SET
    overdue: bool = False
    due_soon: bool = False
    body: str = ""  # governance body slug
    q: str = ""
    sort: str = ""  # a SORT_COLUMNS key; "" is the strategies' own order
    descending: bool = False
    # Only actions the signed-in user's organisation leads or supports.
    mine: bool = False
    today: dt.date = dataclasses.field(default_factory=timezone.localdate, compare=False)

    @property
    def is_filtered(self) -> bool:
        return any([self.strategy, self.item, self.lead, self.statuses, self.rag, self.overdue,
                    self.due_soon, self.body, self.q])

    def query_items(self, **changes) -> list[tuple[str, str]]:
        """The query-string pairs describing these filters (without `mine` or the page), with
        `changes` applied: `sort="due"`, `descending=True`, `item=None`…"""
        f = dataclasses.replace(self, **changes) if changes else self
        pairs = [("q", f.q), ("strategy", f.strategy), ("item", str(f.item) if f.item else "")]
        pairs += [("lead", f.lead), ("body", f.body)]
        pairs += [("status", status) for status in f.statuses]
        pairs += [("rag", f.rag), ("overdue", "1" if f.overdue else ""), ("due_soon", "1" if f.due_soon else "")]
        pairs += [("sort", f.sort), ("order", "desc" if f.sort and f.descending else "")]
        return [(key, value) for key, value in pairs if value]

    def querystring(self, **changes) -> str:
        return urlencode(self.query_items(**changes))

    def sort_querystring(self, column: str) -> str:
        """The query string that sorts by `column`: ascending first, reversed when already sorted by it."""
        descending = column == self.sort and not self.descending
        return self.querystring(sort=column, descending=descending)

    def aria_sort(self, column: str) -> str:
        if column != self.sort:
            return "none"
        return "descending" if self.descending else "ascending"


def _int_or_none(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number > 0 else None


def action_filters_from_query(query: QueryDict, *, mine: bool = False, today: dt.date | None = None) -> ActionFilters:
    """Read filters from a query string leniently: a value that names nothing (an old link, a
    hand-edited address) is dropped rather than shown as an error, since a filter panel has no
    wrong answers, only narrower or wider lists."""
    statuses = tuple(s for s in ActionStatus.values if s in set(query.getlist("status")))
    rag = query.get("rag", "")
    sort = query.get("sort", "")
    return ActionFilters(
        strategy=query.get("strategy", "").strip(),
        item=_int_or_none(query.get("item")),
        lead=query.get("lead", "").strip(),
        statuses=statuses,
        rag=rag if rag in {value for value, _ in RAG_CHOICES} else "",
        overdue=query.get("overdue") == "1",
        due_soon=query.get("due_soon") == "1",
        body=query.get("body", "").strip(),
        q=" ".join(query.get("q", "").split())[:SEARCH_MAX_LENGTH],
        sort=sort if sort in SORT_COLUMNS else "",
        descending=sort in SORT_COLUMNS and query.get("order") == "desc",
        mine=mine or query.get("mine") == "1",
        today=today or timezone.localdate(),
    )
