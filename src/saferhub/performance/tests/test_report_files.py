"""Quarterly performance reports prepared in the background: the task stores exactly what the
report renders, a request is queued once, a newly approved return puts the file out of date, a
failure says so and offers to try again, and the download serves the stored file without ever
rendering in the request."""
import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from saferhub.performance.models import DataReturn, ReportFile, ReportFileStatus, ReturnStatus
from saferhub.performance.periods import FinancialQuarter
from saferhub.performance.report import performance_report_build, performance_report_render
from saferhub.performance.report_files import (
    UNEXPECTED_ERROR, report_file_list, report_file_request,
)
from saferhub.performance.services import data_return_approve
from saferhub.performance.tests.performance_demo import performance_demo_load
from saferhub.publishing.tests.text import html_text

Q3 = FinancialQuarter.parse("2023/24-Q3")
REPORTS = "/performance/reports/"


@pytest.fixture
def demo(db):
    performance_demo_load()


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def prepare(django_capture_on_commit_callbacks):
    """Ask for a file as `user` and let the commit run what it queued."""
    def ask(user, version="published", fmt="html", quarter=Q3):
        with django_capture_on_commit_callbacks(execute=True):
            report_file, queued = report_file_request(user=user, quarter=quarter, version=version, fmt=fmt)
        return ReportFile.objects.get(pk=report_file.pk), queued

    return ask


def _queued_tasks() -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path__endswith="report_file_prepare_task").count()


def _hold_back(slug: str, quarter: FinancialQuarter) -> DataReturn:
    """A demo return still waiting for approval (submitted late), to be approved after the file is prepared."""
    data_return = DataReturn.objects.get(service__slug=slug, quarter_start=quarter.start)
    data_return.status, data_return.approved_at = ReturnStatus.SUBMITTED, None
    data_return.save()
    return data_return


def _entry(quarter, version, fmt):
    for group in report_file_list(quarters=[quarter]):
        for entry in group.entries:
            if (entry.version, entry.fmt) == (version, fmt):
                return entry
    raise AssertionError(f"No entry for {quarter} {version} {fmt}")


# --- The task -----------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("version, published, filename", [
    ("published", True, "performance-report-2023-24-q3.html"),
    ("internal", False, "performance-report-2023-24-q3-internal.html"),
])
def test_the_task_stores_exactly_what_the_report_renders(demo, immediate_tasks, prepare, manager, version, published,
                                                         filename):
    stored, queued = prepare(manager, version=version)
    expected = performance_report_render(performance_report_build(quarter=Q3, published=published), "html")
    assert queued and stored.status == ReportFileStatus.READY and stored.error == ""
    assert bytes(stored.content) == expected
    assert stored.size == len(expected) and stored.sha256 == hashlib.sha256(expected).hexdigest()
    assert stored.filename == filename and stored.requested_by == manager and stored.prepared_at is not None
    compared = [Q3.start, Q3.same_quarter_years_ago(1).start, Q3.same_quarter_years_ago(2).start]
    assert stored.approved_returns == DataReturn.objects.filter(status=ReturnStatus.APPROVED,
                                                                quarter_start__in=compared).count() > 0
    if published:
        assert stored.disclosure == {"method": "suppress", "threshold": 5, "base": 5, "marker": "[c]"}
        assert "[c]" in expected.decode()
    else:
        assert stored.disclosure == {} and "Appendix" in expected.decode()


@pytest.mark.django_db
def test_a_pdf_is_prepared_and_stored(demo, immediate_tasks, prepare, manager):
    stored, _ = prepare(manager, fmt="pdf")
    content = bytes(stored.content)
    assert stored.status == ReportFileStatus.READY and content.startswith(b"%PDF-")
    assert stored.sha256 == hashlib.sha256(content).hexdigest() and stored.filename.endswith(".pdf")


@pytest.mark.django_db
def test_the_database_worker_prepares_a_queued_file(demo, prepare, manager, monkeypatch):
    from django.core.management import call_command
    from django_tasks_db.management.commands import db_worker
    from django_tasks_db.models import DBTaskResult

    # The worker drops connections it finds inside a transaction, as the test's own is.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    queued, _ = prepare(manager, version="internal", fmt="docx")
    assert queued.status == ReportFileStatus.QUEUED
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    result = DBTaskResult.objects.get()
    assert result.status == "SUCCESSFUL", result.traceback
    stored = ReportFile.objects.get(pk=queued.pk)
    assert stored.status == ReportFileStatus.READY and bytes(stored.content).startswith(b"PK")
    assert result.return_value == {"prepared": True, "filename": "performance-report-2023-24-q3-internal.docx",
                                   "size": stored.size, "sha256": stored.sha256}


# --- Asking for a file --------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_second_request_while_queued_does_not_queue_again(demo, prepare, manager, viewer):
    first, queued = prepare(manager)
    assert queued and first.status == ReportFileStatus.QUEUED and _queued_tasks() == 1
    again, queued = prepare(viewer)
    assert not queued and again.requested_by == manager and _queued_tasks() == 1
    ReportFile.objects.filter(pk=first.pk).update(status=ReportFileStatus.PREPARING)
    assert prepare(viewer)[1] is False and _queued_tasks() == 1
    # Another format of the same quarter is a file of its own.
    assert prepare(viewer, fmt="docx")[1] is True and _queued_tasks() == 2


@pytest.mark.django_db
def test_a_request_lost_by_the_worker_can_be_made_again(demo, prepare, manager, viewer):
    first, _ = prepare(manager)
    ReportFile.objects.filter(pk=first.pk).update(requested_at=timezone.now() - dt.timedelta(hours=3))
    assert _entry(Q3, "published", "html").can_prepare
    again, queued = prepare(viewer)
    assert queued and again.requested_by == viewer and _queued_tasks() == 2


@pytest.mark.django_db
def test_nothing_is_prepared_again_while_the_file_is_up_to_date(demo, immediate_tasks, prepare, manager):
    first, _ = prepare(manager)
    again, queued = prepare(manager)
    assert not queued and again.prepared_at == first.prepared_at
    assert not _entry(Q3, "published", "html").can_prepare


@pytest.mark.django_db
def test_a_quarter_without_approved_returns_cannot_be_asked_for(demo, prepare, manager):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="No approved returns for Q1 2020/21"):
        prepare(manager, quarter=FinancialQuarter(2020, 1))
    with pytest.raises(ValidationError, match="Unknown format 'csv'"):
        prepare(manager, fmt="csv")
    assert not ReportFile.objects.exists()


# --- Out of date --------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("slug, years_ago", [("idas-target-hardening", 0), ("idas-community-based-support", 1)],
                         ids=["in the quarter", "in the same quarter a year before"])
def test_approving_another_return_puts_the_file_out_of_date(demo, immediate_tasks, prepare, manager, client, slug,
                                                            years_ago):
    late = _hold_back(slug, Q3.same_quarter_years_ago(years_ago))
    stored, _ = prepare(manager)
    assert _entry(Q3, "published", "html").up_to_date
    data_return_approve(user=manager, data_return=late)
    entry = _entry(Q3, "published", "html")
    assert entry.has_file and not entry.up_to_date and entry.can_prepare
    assert entry.stale_reasons == ["returns approved since it was prepared"]
    client.force_login(manager)
    page = html_text(client.get(REPORTS).content.decode())
    assert "Out of date Download HTML of the published report for Q3 2023/24" in page
    assert "Out of date: returns approved since it was prepared." in page
    assert "Prepare again the published HTML for Q3 2023/24" in page
    # The out-of-date file can still be downloaded until it is prepared again.
    assert client.get(f"{REPORTS}2023-24-q3/published.html").content == bytes(stored.content)
    again, queued = prepare(manager)
    assert queued and _entry(Q3, "published", "html").up_to_date
    assert again.approved_returns == stored.approved_returns + 1 and again.content != stored.content
    assert bytes(again.content) == performance_report_render(performance_report_build(quarter=Q3), "html")


@pytest.mark.django_db
def test_changed_disclosure_settings_put_only_the_published_file_out_of_date(demo, immediate_tasks, prepare, manager,
                                                                             settings):
    prepare(manager, version="published")
    prepare(manager, version="internal")
    settings.SAFERHUB_DISCLOSURE = {"method": "suppress", "threshold": 10}
    assert _entry(Q3, "published", "html").stale_reasons == [
        "the disclosure control settings have changed since it was prepared"]
    assert _entry(Q3, "internal", "html").up_to_date


# --- Failure ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_failing_render_marks_the_file_failed_and_the_page_offers_to_try_again(
        demo, immediate_tasks, prepare, manager, client, monkeypatch, django_capture_on_commit_callbacks):
    def broken(report, fmt):
        raise RuntimeError("Traceback: vl_convert crashed at 0xdeadbeef")

    monkeypatch.setattr("saferhub.performance.report_files.performance_report_render", broken)
    failed, queued = prepare(manager, fmt="pdf")
    assert queued and failed.status == ReportFileStatus.FAILED and failed.error == UNEXPECTED_ERROR
    assert failed.prepared_at is None and bytes(failed.content) == b""
    client.force_login(manager)
    page = html_text(client.get(REPORTS).content.decode())
    assert UNEXPECTED_ERROR in page and "0xdeadbeef" not in page and "Traceback" not in page
    assert "Try again the published PDF for Q3 2023/24" in page
    assert client.get(f"{REPORTS}2023-24-q3/published.pdf").status_code == 404

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{REPORTS}2023-24-q3/published.pdf/prepare")
    assert response.status_code == 302
    retried = ReportFile.objects.get(pk=failed.pk)
    assert retried.status == ReportFileStatus.READY and retried.error == "" and bytes(retried.content).startswith(b"%PDF-")


# --- The pages ----------------------------------------------------------------------------------

@pytest.fixture
def no_rendering(monkeypatch):
    """The reports page, asking for a file and downloading it must never build or render a report."""
    def forbidden(*args, **kwargs):
        raise AssertionError("A report was built or rendered in the request")

    for module in ("saferhub.performance.report", "saferhub.performance.report_files"):
        monkeypatch.setattr(f"{module}.performance_report_build", forbidden)
        monkeypatch.setattr(f"{module}.performance_report_render", forbidden)


@pytest.mark.django_db
def test_the_pages_never_render_a_report(demo, no_rendering, client, viewer, django_capture_on_commit_callbacks):
    client.force_login(viewer)
    page = html_text(client.get(REPORTS).content.decode())
    assert "Q3 2023/24" in page and "Prepare the published PDF for Q3 2023/24" in page
    assert "saferhub report performance --period 2023/24-Q3" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{REPORTS}2023-24-q3/published.pdf/prepare", follow=True)
    text = html_text(response.content.decode())
    assert "Preparing the published PDF for Q3 2023/24" in text
    assert f"Being prepared — requested {timezone.localdate().day}" in text and f"by {viewer.display_name}" in text
    assert "Refresh this page" in text
    assert _queued_tasks() == 1
    assert client.get(f"{REPORTS}2023-24-q3/published.pdf").status_code == 404


@pytest.mark.django_db
def test_download_serves_the_stored_file(demo, no_rendering, client, viewer, manager):
    ReportFile.objects.create(
        quarter_start=Q3.start, version="internal", file_format="docx", status=ReportFileStatus.READY,
        requested_by=manager, requested_at=timezone.now(), prepared_at=timezone.now(), content=b"PK stored bytes",
        size=15, sha256=hashlib.sha256(b"PK stored bytes").hexdigest(), filename="performance-report-2023-24-q3-internal.docx")
    client.force_login(viewer)
    response = client.get(f"{REPORTS}2023-24-q3/internal.docx")
    assert response.status_code == 200 and response.content == b"PK stored bytes"
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert response["Content-Disposition"] == 'attachment; filename="performance-report-2023-24-q3-internal.docx"'
    page = html_text(client.get(REPORTS).content.decode())
    assert "Download DOCX of the internal report for Q3 2023/24 (15 bytes, prepared" in page


@pytest.mark.django_db
def test_download_answers_404_until_a_file_is_ready(demo, no_rendering, client, viewer, manager):
    ReportFile.objects.create(quarter_start=Q3.start, version="published", file_format="html",
                              status=ReportFileStatus.QUEUED, requested_by=manager, requested_at=timezone.now())
    client.force_login(viewer)
    response = client.get(f"{REPORTS}2023-24-q3/published.html")
    assert response.status_code == 404
    assert "No file of the published HTML for Q3 2023/24 has been prepared yet" in html_text(response.content.decode())
    assert client.get(f"{REPORTS}2023-24-q3/published.pdf").status_code == 404
    assert client.get(f"{REPORTS}2023-24-q3/secret.html").status_code == 404
    assert client.get(f"{REPORTS}2023-24-q3/published.csv").status_code == 404
    assert client.get(f"{REPORTS}2023-q3/published.html").status_code == 404


@pytest.mark.django_db
def test_asking_for_a_file_takes_a_post_with_a_known_report(demo, client, viewer):
    client.force_login(viewer)
    assert client.get(f"{REPORTS}2023-24-q3/published.pdf/prepare").status_code == 405
    assert client.post(f"{REPORTS}2023-24-q3/secret.pdf/prepare").status_code == 404
    response = client.post(f"{REPORTS}2020-21-q1/published.pdf/prepare", follow=True)
    assert "No approved returns for Q1 2020/21" in html_text(response.content.decode())
    assert not ReportFile.objects.exists()


@pytest.mark.django_db
def test_a_request_is_in_the_edit_history(demo, prepare, manager):
    from saferhub.audit.services import history_for

    report_file, _ = prepare(manager)
    [record] = history_for(report_file)
    assert record.actor == manager and record.after == {"status": "queued"}
