"""Background tasks of the audit trail, run by the django-tasks database worker."""
from __future__ import annotations

from django_tasks import task

from saferhub.audit.anchors import anchor_write


@task()
def anchor_task() -> dict:
    """Append the chain head to the anchor file (the scheduler queues this daily)."""
    anchor = anchor_write()
    return {"sequence": anchor.sequence, "hash": anchor.hash, "at": anchor.at} if anchor else {}
