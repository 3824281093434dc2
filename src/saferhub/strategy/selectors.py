"""Reads of strategy data: strategies and their item trees, the action tracker and its filter
choices, and the home page's counts. Every list here costs a fixed number of queries however
many actions or progress updates sit behind it."""
import dataclasses
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterator

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case, CharField, Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When,
    Window,
)
from django.db.models.functions import Coalesce, NullIf, RowNumber
from django.shortcuts import get_object_or_404
from django.utils import timezone

from saferhub.partners.models import GovernanceBody, Organisation
from saferhub.strategy import access
from saferhub.strategy.filters import RAG_NOT_SET, ActionFilters
from saferhub.strategy.models import (
    DUE_SOON_DAYS, OPEN_STATUSES, Action, ActionStatus, ProgressReport, ProgressUpdate, Rag, Strategy,
    StrategyItem,
)

LeadLink = Action.lead_organisations.through
SupportLink = Action.supporting_organisations.through


def _led_by(organisation_id) -> QuerySet:
    return LeadLink.objects.filter(organisation_id=organisation_id).values("action_id")


def _supported_by(organisation_id) -> QuerySet:
    return SupportLink.objects.filter(organisation_id=organisation_id).values("action_id")


def home_summary(*, user) -> dict:
    mine = Action.objects.none()
    if user.organisation_id:
        org = user.organisation_id
        mine = Action.objects.filter(status__in=OPEN_STATUSES).filter(Q(pk__in=_led_by(org)) | Q(pk__in=_supported_by(org)))
    return {
        "strategies": Strategy.objects.all(),
        "my_actions_count": mine.count(),
        "my_overdue_count": mine.filter(due_date__lt=timezone.localdate()).count(),
    }


# --- Status counts -------------------------------------------------------------------------------

def _overdue_q(today: dt.date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}status__in": OPEN_STATUSES, f"{prefix}due_date__lt": today})


def _due_soon_q(today: dt.date, prefix: str = "") -> Q:
    return Q(**{
        f"{prefix}status__in": OPEN_STATUSES,
        f"{prefix}due_date__gte": today,
        f"{prefix}due_date__lte": today + dt.timedelta(days=DUE_SOON_DAYS),
    })


@dataclasses.dataclass
class ActionCounts:
    """How many actions a strategy or item has, by status and RAG, and how many are overdue."""

    total: int = 0
    overdue: int = 0
    by_status: dict[str, int] = dataclasses.field(default_factory=dict)
    by_rag: dict[str, int] = dataclasses.field(default_factory=dict)

    def add(self, other: "ActionCounts") -> None:
        self.total += other.total
        self.overdue += other.overdue
        for key, n in other.by_status.items():
            self.by_status[key] = self.by_status.get(key, 0) + n
        for key, n in other.by_rag.items():
            self.by_rag[key] = self.by_rag.get(key, 0) + n

    @property
    def statuses(self) -> list[tuple[str, str, int]]:
        """(status, label, count) for each status with actions, in workflow order."""
        return [(s.value, s.label, self.by_status[s.value]) for s in ActionStatus if self.by_status.get(s.value)]

    @property
    def rags(self) -> list[tuple[str, str, int]]:
        """(rag, label, count) for each rating with actions, red first; "" is not rated."""
        order = [Rag.RED, Rag.AMBER, Rag.GREEN, Rag.NOT_SET]
        return [(r.value, "Not rated" if r == Rag.NOT_SET else r.label, self.by_rag[r.value])
                for r in order if self.by_rag.get(r.value)]


def _counts_by(key: str, actions: QuerySet, today: dt.date) -> dict:
    """ActionCounts per value of `key` (e.g. item__strategy_id), from one grouped query."""
    counts: dict = defaultdict(ActionCounts)
    rows = (
        actions.order_by().values(key, "status", "rag")
        .annotate(n=Count("pk"), overdue=Count("pk", filter=_overdue_q(today)))
    )
    for row in rows:
        c = counts[row[key]]
        c.total += row["n"]
        c.overdue += row["overdue"]
        c.by_status[row["status"]] = c.by_status.get(row["status"], 0) + row["n"]
        c.by_rag[row["rag"]] = c.by_rag.get(row["rag"], 0) + row["n"]
    return counts


# --- Strategies and their trees ------------------------------------------------------------------

def strategy_list(*, user, today: dt.date | None = None) -> list[Strategy]:
    """Every strategy with its owner, governance body and `counts` (ActionCounts)."""
    if not access.can_view_strategies(user):
        return []
    strategies = list(Strategy.objects.select_related("owner", "governance_body"))
    counts = _counts_by("item__strategy_id", Action.objects.all(), today or timezone.localdate())
    for strategy in strategies:
        strategy.counts = counts.get(strategy.pk, ActionCounts())
    return strategies


@dataclasses.dataclass
class ItemNode:
    """One item of a strategy's tree with its children, its own actions' counts (`own`) and the
    counts of everything under it (`counts`)."""

    item: StrategyItem
    children: list["ItemNode"] = dataclasses.field(default_factory=list)
    own: ActionCounts = dataclasses.field(default_factory=ActionCounts)
    counts: ActionCounts = dataclasses.field(default_factory=ActionCounts)


def _tree(items: list[StrategyItem], own_counts: dict) -> list[ItemNode]:
    """Nest items (ordered by path) into nodes and roll each node's counts up to its ancestors."""
    nodes = {item.pk: ItemNode(item=item, own=own_counts.get(item.pk, ActionCounts())) for item in items}
    roots = []
    for item in items:
        node = nodes[item.pk]
        parent = nodes.get(item.parent_id)
        (parent.children if parent else roots).append(node)

    def roll_up(node: ItemNode) -> ActionCounts:
        node.counts.add(node.own)
        for child in node.children:
            node.counts.add(roll_up(child))
        return node.counts

    for root in roots:
        roll_up(root)
    return roots


def strategy_detail(*, user, slug: str, today: dt.date | None = None) -> dict:
    """A strategy, its item tree with action counts, its overall counts and its Progress Updates."""
    if not access.can_view_strategies(user):
        raise PermissionDenied
    strategy = get_object_or_404(Strategy.objects.select_related("owner", "governance_body"), slug=slug)
    today = today or timezone.localdate()
    items = list(strategy.items.order_by("path"))
    own_counts = _counts_by("item_id", Action.objects.filter(item__strategy=strategy), today)
    tree = _tree(items, own_counts)
    total = ActionCounts()
    for counts in own_counts.values():
        total.add(counts)
    reports = list(ProgressReport.objects.filter(strategy=strategy).select_related("period").order_by("-period__end"))
    return {"strategy": strategy, "tree": tree, "counts": total, "reports": reports, "today": today}


def _latest_progress_window() -> Window:
    """Numbers each action's progress updates from 1, newest first (latest period, then latest recorded)."""
    return Window(
        RowNumber(), partition_by=[F("action_id")], order_by=[F("period__end").desc(), F("recorded_at").desc(), F("pk").desc()]
    )


def _latest_progress_prefetch() -> Prefetch:
    """Each action's most recent progress update (latest period, then latest recorded), as the
    list `latest_progress` of at most one, in one query for any number of actions."""
    updates = (
        ProgressUpdate.objects.select_related("period")
        .annotate(newest=_latest_progress_window())
        .filter(newest=1)
    )
    return Prefetch("progress_updates", queryset=updates, to_attr="latest_progress")


def _organisations_prefetch(name: str) -> Prefetch:
    return Prefetch(name, queryset=Organisation.objects.only("pk", "slug", "name", "short_name").order_by("name"))


def item_detail(*, user, slug: str, pk: int, today: dt.date | None = None) -> dict:
    """An item of a strategy, the path down to it, its children with counts, and its own actions
    with each one's latest progress."""
    if not access.can_view_strategies(user):
        raise PermissionDenied
    item = get_object_or_404(StrategyItem.objects.select_related("strategy"), strategy__slug=slug, pk=pk)
    strategy = item.strategy
    parts = item.path.split(".")
    ancestor_paths = [".".join(parts[:n]) for n in range(1, len(parts))]
    ancestors = list(strategy.items.filter(path__in=ancestor_paths).order_by("path")) if ancestor_paths else []
    # The item and everything under it, to give each child its rolled-up counts.
    subtree = list(strategy.items.filter(Q(path=item.path) | Q(path__startswith=item.path + ".")).order_by("path"))
    today = today or timezone.localdate()
    under = Action.objects.filter(item__strategy=strategy).filter(Q(item__path=item.path) | Q(item__path__startswith=item.path + "."))
    own_counts = _counts_by("item_id", under, today)
    (node,) = _tree(subtree, own_counts)
    actions = list(
        item.actions.select_related("governance_body")
        .prefetch_related(
            _organisations_prefetch("lead_organisations"),
            _organisations_prefetch("supporting_organisations"),
            _latest_progress_prefetch(),
        )
        .order_by("order", "pk")
    )
    return {"strategy": strategy, "item": item, "ancestors": ancestors, "node": node, "actions": actions, "today": today}


# --- The action tracker --------------------------------------------------------------------------

_STATUS_RANK = Case(*[When(status=s, then=Value(i)) for i, s in enumerate(ActionStatus.values)],
                    default=Value(len(ActionStatus.values)), output_field=IntegerField())
# Worst first, so sorting by RAG puts what needs attention at the top; unrated last.
_RAG_RANK = Case(When(rag=Rag.RED, then=Value(0)), When(rag=Rag.AMBER, then=Value(1)),
                 When(rag=Rag.GREEN, then=Value(2)), default=Value(3), output_field=IntegerField())
_DEFAULT_ORDER = ["item__strategy__order", "item__strategy__title", "item__path", "order", "pk"]


def _lead_name() -> Subquery:
    """The first lead organisation's name as tables show it (short name, else full name)."""
    first = (
        LeadLink.objects.filter(action_id=OuterRef("pk"))
        .annotate(shown=Coalesce(NullIf("organisation__short_name", Value("")), "organisation__name"))
        .order_by("shown")
        .values("shown")[:1]
    )
    return Subquery(first, output_field=CharField())


def _ordering(filters: ActionFilters) -> tuple[dict, list]:
    """Annotations and order_by terms for the chosen sort; ties fall back to the strategies' order."""
    annotations: dict = {}
    key = filters.sort
    if key == "reference":
        term = F("reference")
    elif key == "title":
        term = F("title")
    elif key == "due":
        term = F("due_date")
    elif key == "status":
        annotations["status_rank"] = _STATUS_RANK
        term = F("status_rank")
    elif key == "rag":
        annotations["rag_rank"] = _RAG_RANK
        term = F("rag_rank")
    elif key == "lead":
        annotations["lead_name"] = _lead_name()
        term = F("lead_name")
    else:
        return annotations, list(_DEFAULT_ORDER)
    # Undated or unled actions go last whichever way the column is sorted.
    term = term.desc(nulls_last=True) if filters.descending else term.asc(nulls_last=True)
    return annotations, [term, *_DEFAULT_ORDER]


def _search_q(text: str) -> Q:
    """Every word must appear in the title, reference, description or item code."""
    q = Q()
    for word in text.split():
        q &= (Q(title__icontains=word) | Q(reference__icontains=word) | Q(description__icontains=word)
              | Q(item__code__icontains=word))
    return q


def action_list(*, user, filters: ActionFilters) -> QuerySet[Action]:
    """The actions the tracker shows for `filters`, in their sorted order, ready to paginate or
    export: items, strategies, organisations and latest progress come with a fixed number of
    queries. Each action carries `latest_progress` (a list of at most one ProgressUpdate) and,
    when `filters.mine`, `organisation_leads` (True when the user's organisation leads it)."""
    if not access.can_view_strategies(user):
        return Action.objects.none()
    actions = Action.objects.all()
    if filters.mine:
        org = user.organisation_id
        if not org:
            return Action.objects.none()
        actions = actions.filter(Q(pk__in=_led_by(org)) | Q(pk__in=_supported_by(org))).annotate(
            organisation_leads=Exists(LeadLink.objects.filter(action_id=OuterRef("pk"), organisation_id=org))
        )
    if filters.strategy:
        actions = actions.filter(item__strategy__slug=filters.strategy)
        if filters.item:
            path = (StrategyItem.objects.filter(pk=filters.item, strategy__slug=filters.strategy)
                    .values_list("path", flat=True).order_by().first())
            if path is not None:
                actions = actions.filter(Q(item__path=path) | Q(item__path__startswith=path + "."))
    if filters.lead:
        actions = actions.filter(pk__in=LeadLink.objects.filter(organisation__slug=filters.lead).values("action_id"))
    if filters.statuses:
        actions = actions.filter(status__in=filters.statuses)
    if filters.rag:
        actions = actions.filter(rag="" if filters.rag == RAG_NOT_SET else filters.rag)
    if filters.overdue:
        actions = actions.filter(_overdue_q(filters.today))
    if filters.due_soon:
        actions = actions.filter(_due_soon_q(filters.today))
    if filters.body:
        # An action without its own governance body answers to its strategy's.
        actions = actions.filter(
            Q(governance_body__slug=filters.body)
            | Q(governance_body__isnull=True, item__strategy__governance_body__slug=filters.body)
        )
    if filters.q:
        actions = actions.filter(_search_q(filters.q))
    annotations, order = _ordering(filters)
    return (
        actions.annotate(**annotations)
        .select_related("item__strategy__governance_body", "governance_body")
        # Long texts of the strategy and item would otherwise repeat on every row.
        .defer("item__description", "item__strategy__summary", "item__strategy__background")
        .prefetch_related(
            _organisations_prefetch("lead_organisations"),
            _organisations_prefetch("supporting_organisations"),
            _latest_progress_prefetch(),
        )
        .order_by(*order)
    )


@dataclasses.dataclass
class ActionFilterChoices:
    strategies: list[Strategy]
    items: list[StrategyItem]
    lead_organisations: list[Organisation]
    governance_bodies: list[GovernanceBody]


def action_filter_choices(*, filters: ActionFilters) -> ActionFilterChoices:
    """What each filter can be set to: every strategy; the chosen strategy's items; organisations
    that lead an action; governance bodies that oversee an action or a strategy."""
    items = []
    if filters.strategy:
        items = list(StrategyItem.objects.filter(strategy__slug=filters.strategy).select_related("strategy").order_by("path"))
    bodies = GovernanceBody.objects.filter(
        Q(pk__in=Action.objects.filter(governance_body__isnull=False).values("governance_body_id"))
        | Q(pk__in=Strategy.objects.filter(governance_body__isnull=False).values("governance_body_id"))
    )
    return ActionFilterChoices(
        strategies=list(Strategy.objects.only("slug", "title", "short_title", "order")),
        items=items,
        lead_organisations=list(Organisation.objects.filter(pk__in=LeadLink.objects.values("organisation_id"))),
        governance_bodies=list(bodies.only("slug", "name")),
    )


_EXPORT_FIELDS = [
    "pk", "reference", "title", "description", "start_date", "due_date", "timescale", "status", "rag",
    "item__code", "item__short_title", "item__title", "item__strategy__title", "item__strategy__short_title",
]


def action_export_records(*, user, filters: ActionFilters, chunk_size: int = 1000) -> Iterator[dict]:
    """The actions of `action_list` in the same order, as plain dicts for a download: each with
    `leads` and `supporters` (names), `body` (its governance body, else its strategy's), `latest`
    (the latest progress update's period label, recorded date, actions taken and next steps, or
    None) and, for `filters.mine`, `organisation_leads`. Rows are read a chunk at a time with
    three more queries per chunk and no model instances, so 20,000 actions stream quickly."""
    actions = action_list(user=user, filters=filters).prefetch_related(None)
    fields = [*_EXPORT_FIELDS, "organisation_leads"] if filters.mine else _EXPORT_FIELDS
    records = actions.values(
        *fields, body=Coalesce("governance_body__name", "item__strategy__governance_body__name")
    ).iterator(chunk_size=chunk_size)
    while chunk := list(itertools.islice(records, chunk_size)):
        ids = [record["pk"] for record in chunk]
        leads, supporters = defaultdict(list), defaultdict(list)
        for link, names in [(LeadLink, leads), (SupportLink, supporters)]:
            pairs = link.objects.filter(action_id__in=ids).order_by("organisation__name")
            for action_id, name in pairs.values_list("action_id", "organisation__name"):
                names[action_id].append(name)
        latest = {
            row[0]: row[1:]
            for row in ProgressUpdate.objects.annotate(newest=_latest_progress_window())
            .filter(action_id__in=ids, newest=1)
            .values_list("action_id", "period__label", "recorded_at", "actions_taken", "next_steps")
        }
        for record in chunk:
            pk = record["pk"]
            record["leads"], record["supporters"] = leads[pk], supporters[pk]
            if pk in latest:
                label, recorded_at, taken, next_steps = latest[pk]
                record["latest"] = {"period": label, "recorded_on": timezone.localdate(recorded_at),
                                    "actions_taken": taken, "next_steps": next_steps}
            else:
                record["latest"] = None
            yield record
