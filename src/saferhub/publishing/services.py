"""Writes for Progress Updates: drafting a strategy's update for a period, and publishing it, which
freezes the HTML, PDF and DOCX as they were at that moment."""
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from saferhub.audit.models import ChangeAction
from saferhub.audit.services import change_record, snapshot
from saferhub.core.formatting import date_uk
from saferhub.publishing.progress_report import progress_document_build, progress_report_title
from saferhub.publishing.renderers import document_docx, document_pdf, document_standalone_html
from saferhub.strategy import access
from saferhub.strategy.models import ProgressReport, ReportingPeriod, ReportStatus, Strategy

REPORT_FIELDS = ["title", "background", "status"]


def _published_error(report: ProgressReport, doing: str) -> ValidationError:
    when = f" on {date_uk(report.published_at)}" if report.published_at else ""
    return ValidationError(
        f"The {report.period.label} Progress Update of the {report.strategy.title} was published{when} "
        f"and is frozen: it cannot be {doing}."
    )


@transaction.atomic
def report_create_or_update(*, user, strategy: Strategy, period: ReportingPeriod, background: str) -> ProgressReport:
    """Start (or revise the background of) the draft update of `strategy` for `period`."""
    if not access.can_manage_strategies(user):
        raise PermissionDenied("Only strategy managers can prepare Progress Updates.")
    background = (background or "").replace("\r\n", "\n").strip()
    report = ProgressReport.objects.select_for_update().filter(strategy=strategy, period=period).first()
    if report is not None and report.is_published:
        raise _published_error(report, "changed")
    before = snapshot(report, REPORT_FIELDS) if report else {}
    if report is None:
        report = ProgressReport(strategy=strategy, period=period, status=ReportStatus.DRAFT)
    report.title = progress_report_title(strategy, period)
    report.background = background
    report.save()
    change_record(
        actor=user,
        instance=report,
        action=ChangeAction.UPDATE if before else ChangeAction.CREATE,
        before=before,
        after=snapshot(report, REPORT_FIELDS),
    )
    return report


def report_publish(*, user, report: ProgressReport) -> ProgressReport:
    """Publish a draft: render it in every format now and keep those files as the update."""
    if not access.can_manage_strategies(user):
        raise PermissionDenied("Only strategy managers can publish Progress Updates.")
    if report.is_published:
        raise _published_error(report, "published again")

    # Rendering a PDF takes seconds; doing it before the transaction keeps the database free
    # for others meanwhile. The status is checked again under the lock below.
    document = progress_document_build(strategy=report.strategy, period=report.period, background=report.background)
    html = document_standalone_html(document)
    pdf = document_pdf(document)
    docx = document_docx(document)

    with transaction.atomic():
        locked = ProgressReport.objects.select_for_update().select_related("strategy", "period").get(pk=report.pk)
        if locked.is_published:
            raise _published_error(locked, "published again")
        before = snapshot(locked, REPORT_FIELDS)
        locked.title = document.title
        locked.frozen_html, locked.frozen_pdf, locked.frozen_docx = html, pdf, docx
        locked.status = ReportStatus.PUBLISHED
        locked.published_at = timezone.now()
        locked.published_by = user
        locked.save()
        change_record(
            actor=user,
            instance=locked,
            action=ChangeAction.PUBLISH,
            before=before,
            after={**snapshot(locked, REPORT_FIELDS), "published_at": locked.published_at.isoformat(),
                   "files": {"html": len(html.encode("utf-8")), "pdf": len(pdf), "docx": len(docx)}},
        )
    return locked
