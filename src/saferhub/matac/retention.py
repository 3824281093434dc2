"""Retention of the MATAC incident store: police incidents are kept for a set number of days
(`SAFERHUB_MATAC_INCIDENT_RETENTION_DAYS`, six years by default) and the daily retention run
(`saferhub retention run`, and the task the scheduler queues) removes the rows dated before that.

The period may not be shorter than the longest window of any scoring scheme: a shorter one would
change today's scores. Removing rows changes the store's content hash, so ranked lists made before
keep their rows but no longer reproduce from the store (as with any removal)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from saferhub.audit.models import AuditAction
from saferhub.audit.trail import audit_event
from saferhub.core.formatting import date_uk
from saferhub.matac.scheme import DEFAULT_SCHEME
from saferhub.matac.store import IncidentStore


@dataclass(frozen=True)
class IncidentRetention:
    today: dt.date
    keep_days: int
    cutoff: dt.date
    rows: int
    dry_run: bool
    refused: str = ""

    def line(self) -> str:
        if self.refused:
            return f"MATAC incident store: nothing removed. {self.refused}"
        verb = "would be" if self.dry_run else "were"
        return (f"MATAC incident store: {self.rows:,} incident rows dated before {date_uk(self.cutoff)} {verb} removed "
                f"(kept for {self.keep_days:,} days)")

    def as_dict(self) -> dict:
        return {"cutoff": self.cutoff.isoformat(), "keep_days": self.keep_days, "rows": self.rows,
                "dry_run": self.dry_run, "refused": self.refused}


def longest_window_days() -> int:
    from saferhub.matac.models import ScoringScheme

    return max([DEFAULT_SCHEME.window_days] + [s.scheme.window_days for s in ScoringScheme.objects.all()])


def incident_retention_apply(*, today: dt.date, dry_run: bool = False, store: IncidentStore | None = None,
                             keep_days: int | None = None) -> IncidentRetention:
    """Remove (or, in a dry run, count) the store's rows dated more than `keep_days` (default: the
    setting) before `today`. A removal is written to the audit trail."""
    keep = settings.MATAC_INCIDENT_RETENTION_DAYS if keep_days is None else keep_days
    cutoff = today - dt.timedelta(days=keep)
    longest = longest_window_days()
    if keep < longest:
        return IncidentRetention(today, keep, cutoff, 0, dry_run, refused=(
            f"The retention period ({keep:,} days) is shorter than the longest scoring window ({longest:,} days): "
            f"set SAFERHUB_MATAC_INCIDENT_RETENTION_DAYS to at least {longest:,}."))
    store = store or IncidentStore()
    if dry_run:
        return IncidentRetention(today, keep, cutoff, store.count_rows(before=cutoff), dry_run)
    with transaction.atomic():
        rows = store.remove_rows(before=cutoff)
        if rows:
            audit_event(user=None, action=AuditAction.DELETE, record_type="matac_store",
                        record_label="MATAC incident store", purpose="MATAC incident retention",
                        fields=["incident_date"],
                        detail={"rows_removed": rows, "before": cutoff.isoformat(), "keep_days": keep,
                                "store_hash": store.content_hash()})
    return IncidentRetention(today, keep, cutoff, rows, dry_run)
