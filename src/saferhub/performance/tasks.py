"""Background tasks of the performance framework, run by the django-tasks database worker."""
from __future__ import annotations

from django_tasks import task

from saferhub.performance.report_files import report_file_prepare


@task()
def report_file_prepare_task(report_file_id: int) -> dict:
    """Build, render and store a quarterly performance report asked for on the reports page."""
    report_file = report_file_prepare(report_file_id=report_file_id)
    if report_file is None:
        return {"prepared": False}
    return {"prepared": True, "filename": report_file.filename, "size": report_file.size, "sha256": report_file.sha256}
