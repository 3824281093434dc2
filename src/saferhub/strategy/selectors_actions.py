"""Reads behind one action's page and the strategy editing forms."""
import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, QuerySet

from saferhub.audit.models import ChangeRecord
from saferhub.audit.services import history_for
from saferhub.strategy.models import Action, ProgressUpdate, ReportingPeriod, StrategyItem


def actions_for_page() -> QuerySet[Action]:
    """Actions with everything their page shows, fetched in a fixed number of queries."""
    return Action.objects.select_related("item__strategy", "governance_body").prefetch_related(
        "lead_organisations",
        "supporting_organisations",
        Prefetch(
            "progress_updates",
            queryset=ProgressUpdate.objects.select_related("period", "organisation", "recorded_by__organisation"),
        ),
    )


def item_with_ancestors(item: StrategyItem) -> list[StrategyItem]:
    """The item and each item above it, top first, read through the materialised path."""
    segments = item.path.split(".")
    prefixes = [".".join(segments[: i + 1]) for i in range(len(segments))]
    return list(StrategyItem.objects.filter(strategy_id=item.strategy_id, path__in=prefixes)
                .select_related("strategy").order_by("path"))


def action_edit_history(action: Action, updates: list[ProgressUpdate]) -> QuerySet[ChangeRecord]:
    """Every recorded change to the action and to the progress recorded against it, newest first."""
    progress = ChangeRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(ProgressUpdate),
        object_id__in=[str(update.pk) for update in updates],
    )
    return (history_for(action) | progress).select_related("actor__organisation", "content_type").order_by("-at", "-id")


def reporting_periods() -> list[ReportingPeriod]:
    """Every reporting period, the most recent first."""
    return list(ReportingPeriod.objects.order_by("-end", "-start", "label"))


def period_containing(periods: list[ReportingPeriod], day: dt.date) -> ReportingPeriod | None:
    """Of the periods containing `day`, the shortest (a quarter before its year), then the latest."""
    containing = [p for p in periods if p.contains(day)]
    containing.sort(key=lambda p: ((p.end - p.start).days, -p.end.toordinal()))
    return containing[0] if containing else None
