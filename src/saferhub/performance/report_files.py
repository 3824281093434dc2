"""Quarterly performance reports prepared in the background: asking for one (the task worker builds
and renders it), what the reports page shows of each, and the stored file a download serves."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from saferhub.audit.models import ChangeAction
from saferhub.audit.services import change_record
from saferhub.performance import access
from saferhub.performance.models import DataReturn, ReportFile, ReportFileStatus, ReportVersion, ReturnStatus
from saferhub.performance.periods import FinancialQuarter
from saferhub.performance.report import (
    REPORT_FORMATS, YEARS, ReportError, performance_report_build, performance_report_render, report_filename,
)
from saferhub.publishing.disclosure import DisclosurePolicy

logger = logging.getLogger(__name__)

# A request not finished after this long is taken to be lost (the task worker stopped while it was
# queued or being prepared), so it may be asked for again. A full-size PDF takes about 15 minutes.
STALLED_AFTER = dt.timedelta(hours=2)
UNEXPECTED_ERROR = ("An unexpected error stopped Saferhub preparing this report (the details are in the task "
                    "worker's log). Try again; if it fails again, tell your Saferhub administrator.")
IN_PROGRESS = (ReportFileStatus.QUEUED, ReportFileStatus.PREPARING)


def report_file_can_request(user) -> bool:
    """Whoever may download a report may ask for it to be prepared: it is one background job per
    quarter, version and format at a time, and nothing is prepared again while it is up to date."""
    return access.can_view_performance(user)


# --- What a file is built from ------------------------------------------------------------------

@dataclass(frozen=True)
class ReportInputs:
    """What a report's figures depend on: the approved returns of the quarter and of the same
    quarter in the years it compares with (approved returns are locked, so their number and the
    latest approval change exactly when another is approved), and for the published version the
    disclosure control settings."""

    approved_returns: int
    last_approved_at: dt.datetime | None
    disclosure: dict


def _compared_starts(quarter: FinancialQuarter) -> list[dt.date]:
    return [quarter.same_quarter_years_ago(n).start for n in range(YEARS)]


def _approvals(quarters: list[FinancialQuarter]) -> dict[dt.date, tuple[int, dt.datetime | None]]:
    starts = {start for q in quarters for start in _compared_starts(q)}
    rows = (DataReturn.objects.filter(status=ReturnStatus.APPROVED, quarter_start__in=starts).order_by()
            .values("quarter_start").annotate(count=Count("id"), latest=Max("approved_at")))
    return {row["quarter_start"]: (row["count"], row["latest"]) for row in rows}


def _disclosure_settings(version: str) -> dict:
    if version != ReportVersion.PUBLISHED:
        return {}
    try:
        return dataclasses.asdict(DisclosurePolicy.from_settings())
    except ValueError as error:
        # Settings the report cannot use: no file matches them, and preparing one says why.
        return {"invalid": str(error)}


def _inputs(quarter: FinancialQuarter, version: str, approvals: dict) -> ReportInputs:
    found = [approvals[start] for start in _compared_starts(quarter) if start in approvals]
    latest = [at for _, at in found if at is not None]
    return ReportInputs(sum(count for count, _ in found), max(latest) if latest else None, _disclosure_settings(version))


def report_inputs(*, quarter: FinancialQuarter, version: str) -> ReportInputs:
    return _inputs(quarter, version, _approvals([quarter]))


def report_file_stale_reasons(report_file: ReportFile, inputs: ReportInputs) -> list[str]:
    """Why the stored file no longer matches its inputs (nothing when it does, or there is none)."""
    if report_file.prepared_at is None:
        return []
    reasons = []
    if (report_file.approved_returns, report_file.last_approved_at) != (inputs.approved_returns, inputs.last_approved_at):
        more = inputs.approved_returns > report_file.approved_returns or (
            inputs.last_approved_at is not None
            and (report_file.last_approved_at is None or inputs.last_approved_at > report_file.last_approved_at))
        reasons.append("returns approved since it was prepared" if more
                       else "the approved returns have changed since it was prepared")
    if report_file.disclosure != inputs.disclosure:
        reasons.append("the disclosure control settings have changed since it was prepared")
    return reasons


def _check_choice(version: str, fmt: str) -> None:
    if version not in ReportVersion.values:
        raise ValidationError(f"Unknown version {version!r}: use published or internal")
    if fmt not in REPORT_FORMATS:
        raise ValidationError(f"Unknown format {fmt!r}: use one of {', '.join(REPORT_FORMATS)}")


def report_file_stalled(report_file: ReportFile, now: dt.datetime | None = None) -> bool:
    return report_file.status in IN_PROGRESS and (now or timezone.now()) - report_file.requested_at > STALLED_AFTER


def report_file_describe(*, quarter: FinancialQuarter, version: str, fmt: str) -> str:
    """'the published PDF for Q3 2023/24', for messages and hidden link text."""
    return f"the {version} {fmt.upper()} for {quarter.label}"


# --- Asking for a file --------------------------------------------------------------------------

@transaction.atomic
def report_file_request(*, user, quarter: FinancialQuarter, version: str, fmt: str) -> tuple[ReportFile, bool]:
    """Ask the task worker to prepare the report, unless an up-to-date file is ready or one is
    already on its way. Returns the file's row and whether a task was queued."""
    if not report_file_can_request(user):
        raise PermissionDenied("You cannot ask for performance reports.")
    _check_choice(version, fmt)
    if not DataReturn.objects.filter(status=ReturnStatus.APPROVED, quarter_start=quarter.start).exists():
        raise ValidationError(f"No approved returns for {quarter.label}: there is nothing to report")
    now = timezone.now()
    report_file, created = ReportFile.objects.select_for_update().defer("content").get_or_create(
        quarter_start=quarter.start, version=version, file_format=fmt,
        defaults={"status": ReportFileStatus.QUEUED, "requested_by": user, "requested_at": now})
    if not created:
        if report_file.status in IN_PROGRESS and not report_file_stalled(report_file, now):
            return report_file, False
        if report_file.status == ReportFileStatus.READY and not report_file_stale_reasons(
                report_file, report_inputs(quarter=quarter, version=version)):
            return report_file, False
        before = {"status": report_file.status}
        report_file.status, report_file.requested_by, report_file.requested_at = ReportFileStatus.QUEUED, user, now
        report_file.started_at, report_file.error = None, ""
        report_file.save(update_fields=["status", "requested_by", "requested_at", "started_at", "error"])
        change_record(actor=user, instance=report_file, action=ChangeAction.UPDATE, before=before,
                      after={"status": ReportFileStatus.QUEUED})
    else:
        change_record(actor=user, instance=report_file, action=ChangeAction.CREATE,
                      after={"status": ReportFileStatus.QUEUED})
    from saferhub.performance.tasks import report_file_prepare_task

    pk = report_file.pk
    transaction.on_commit(lambda: report_file_prepare_task.enqueue(pk))
    return report_file, True


# --- Preparing it (the task worker) -------------------------------------------------------------

def _fail(pk: int, message: str) -> None:
    with transaction.atomic():
        ReportFile.objects.filter(pk=pk).update(status=ReportFileStatus.FAILED, error=message)


def report_file_prepare(*, report_file_id: int) -> ReportFile | None:
    """Build and render the report and store it, replacing the file prepared before. The inputs are
    read before the report is built, so a return approved meanwhile leaves the file out of date
    rather than passing for up to date. A failure leaves a message for the reports page and keeps
    the previous file. Returns None when there was nothing to do (already prepared, or removed)."""
    with transaction.atomic():
        report_file = ReportFile.objects.select_for_update().defer("content").filter(pk=report_file_id).first()
        if report_file is None or report_file.status not in IN_PROGRESS:
            return None
        report_file.status, report_file.started_at = ReportFileStatus.PREPARING, timezone.now()
        report_file.save(update_fields=["status", "started_at"])
    quarter = FinancialQuarter.from_date(report_file.quarter_start)
    published = report_file.version == ReportVersion.PUBLISHED
    inputs = report_inputs(quarter=quarter, version=report_file.version)
    try:
        policy = DisclosurePolicy.from_settings() if published else None
    except ValueError as error:
        _fail(report_file_id, f"The disclosure control settings (SAFERHUB_DISCLOSURE) are wrong: {error}")
        return None
    try:
        report = performance_report_build(quarter=quarter, published=published, policy=policy)
        if not report.sections:
            raise ReportError(f"No approved returns for {quarter.label}: there is nothing to report")
        content = performance_report_render(report, report_file.file_format)
    except ReportError as error:
        _fail(report_file_id, str(error))
        return None
    except Exception:
        logger.exception("Preparing performance report file %s (%s %s %s) failed", report_file_id, quarter.key,
                         report_file.version, report_file.file_format)
        _fail(report_file_id, UNEXPECTED_ERROR)
        raise
    with transaction.atomic():
        report_file = ReportFile.objects.select_for_update().defer("content").get(pk=report_file_id)
        report_file.content, report_file.size = content, len(content)
        report_file.sha256 = hashlib.sha256(content).hexdigest()
        report_file.filename = report_filename(report, report_file.file_format)
        report_file.approved_returns, report_file.last_approved_at = inputs.approved_returns, inputs.last_approved_at
        report_file.disclosure = inputs.disclosure
        report_file.status, report_file.prepared_at, report_file.error = ReportFileStatus.READY, timezone.now(), ""
        report_file.save()
    return report_file


# --- Reading ------------------------------------------------------------------------------------

def size_text(size: int) -> str:
    """1.2 MB, 840 KB, 512 bytes."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    if size >= 1_000:
        return f"{size / 1_000:.0f} KB"
    return f"{size} bytes"


@dataclass
class ReportFileEntry:
    """One quarter, version and format on the reports page."""

    quarter: FinancialQuarter
    version: str
    fmt: str
    report_file: ReportFile | None
    stale_reasons: list[str]
    stalled: bool

    @property
    def status(self) -> str:
        return self.report_file.status if self.report_file else ""

    @property
    def has_file(self) -> bool:
        return self.report_file is not None and self.report_file.prepared_at is not None

    @property
    def in_progress(self) -> bool:
        return self.status in IN_PROGRESS

    @property
    def up_to_date(self) -> bool:
        return self.has_file and not self.stale_reasons

    @property
    def can_prepare(self) -> bool:
        """Offer to prepare it: nothing on its way and no up-to-date file."""
        return (not self.in_progress or self.stalled) and not (self.status == ReportFileStatus.READY and self.up_to_date)

    @property
    def describe(self) -> str:
        return report_file_describe(quarter=self.quarter, version=self.version, fmt=self.fmt)

    @property
    def size_text(self) -> str:
        return size_text(self.report_file.size) if self.report_file else ""


@dataclass
class QuarterReports:
    quarter: FinancialQuarter
    entries: list[ReportFileEntry]


def report_file_list(*, quarters: list[FinancialQuarter]) -> list[QuarterReports]:
    """Every version and format of each quarter's report with the state of its file, in two
    queries (the files' bytes are not read)."""
    approvals = _approvals(quarters)
    stored = {(f.quarter_start, f.version, f.file_format): f
              for f in ReportFile.objects.filter(quarter_start__in=[q.start for q in quarters])
              .defer("content").select_related("requested_by")}
    now = timezone.now()
    result = []
    for quarter in quarters:
        entries = []
        for version in ReportVersion.values:
            inputs = _inputs(quarter, version, approvals)
            for fmt in REPORT_FORMATS:
                found = stored.get((quarter.start, version, fmt))
                entries.append(ReportFileEntry(
                    quarter, version, fmt, found, report_file_stale_reasons(found, inputs) if found else [],
                    bool(found and report_file_stalled(found, now))))
        result.append(QuarterReports(quarter, entries))
    return result


def report_file_ready(*, quarter: FinancialQuarter, version: str, fmt: str) -> ReportFile:
    """The stored file to download, with its bytes. Raises ReportFile.DoesNotExist when none has
    been prepared (an out-of-date file is still served: the reports page says it is out of date)."""
    return ReportFile.objects.get(quarter_start=quarter.start, version=version, file_format=fmt, prepared_at__isnull=False)
