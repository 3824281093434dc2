"""Reads for Progress Updates: the reports of each strategy, one report, the published ones the
public may see, and what a draft is still missing."""
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.utils.text import slugify

from saferhub.publishing.progress_report import ProgressDocument, progress_document_build
from saferhub.publishing.renderers import FORMATS, document_render
from saferhub.strategy.models import (
    OPEN_STATUSES, Action, ProgressReport, ProgressUpdate, ReportingPeriod, ReportStatus, Strategy,
)


def period_slug(period: ReportingPeriod) -> str:
    return slugify(period.label)


def report_filename(report: ProgressReport, fmt: str) -> str:
    """joint-vawg-strategy-progress-update-june-2023.pdf"""
    return f"{report.strategy.slug}-progress-update-{period_slug(report.period)}.{fmt}"


def strategies_with_reports() -> list[Strategy]:
    """Every strategy, each with its reports newest period first (as `report_list`)."""
    reports = ProgressReport.objects.select_related("period", "published_by").order_by("-period__end", "-period__start")
    return list(Strategy.objects.prefetch_related(Prefetch("reports", queryset=reports, to_attr="report_list")))


def report_get(pk: int) -> ProgressReport:
    try:
        return ProgressReport.objects.select_related("strategy", "strategy__owner", "period", "published_by").get(pk=pk)
    except ProgressReport.DoesNotExist:
        raise Http404("No Progress Update with that number") from None


def published_report_get(*, strategy_slug: str, period_slug_value: str) -> ProgressReport:
    """The published update a public address names; drafts answer as if they did not exist."""
    reports = ProgressReport.objects.filter(strategy__slug=strategy_slug, status=ReportStatus.PUBLISHED).select_related(
        "strategy", "period"
    )
    for report in reports:
        if period_slug(report.period) == period_slug_value:
            return report
    raise Http404("No published Progress Update at this address")


def report_for(strategy: Strategy, period: ReportingPeriod) -> ProgressReport | None:
    return ProgressReport.objects.filter(strategy=strategy, period=period).first()


def report_document(report: ProgressReport) -> ProgressDocument:
    """The live document of a report (its own background, else the strategy's)."""
    return progress_document_build(strategy=report.strategy, period=report.period, background=report.background)


def report_file(report: ProgressReport, fmt: str) -> bytes:
    """The file of a report in `fmt`: as frozen at publication, or rendered now for a draft."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if report.is_published:
        frozen = {"html": report.frozen_html.encode("utf-8"), "pdf": report.frozen_pdf, "docx": report.frozen_docx}[fmt]
        return bytes(frozen)
    return document_render(report_document(report), fmt)


def strategy_periods(strategy: Strategy):
    """The periods a strategy has progress recorded in, or a report for, newest first."""
    has_updates = ProgressUpdate.objects.filter(period=OuterRef("pk"), action__item__strategy=strategy)
    return ReportingPeriod.objects.filter(Q(Exists(has_updates)) | Q(reports__strategy=strategy)).distinct()


def period_to_report(strategy: Strategy) -> ReportingPeriod | None:
    """The newest period with progress recorded and no report yet: the one a manager most likely
    wants to report on next."""
    return strategy_periods(strategy).exclude(reports__strategy=strategy).first()


def actions_without_update(*, strategy: Strategy, period: ReportingPeriod) -> list[Action]:
    """Open actions of the strategy with nothing recorded for the period, in tree order, with their
    leads: what a manager chases before publishing."""
    recorded = ProgressUpdate.objects.filter(action=OuterRef("pk"), period=period)
    return list(
        Action.objects.filter(item__strategy=strategy, status__in=OPEN_STATUSES)
        .exclude(Exists(recorded))
        .select_related("item")
        .prefetch_related("lead_organisations")
        .order_by("item__path", "order", "id")
    )
