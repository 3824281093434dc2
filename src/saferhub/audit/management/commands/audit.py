"""`saferhub audit verify | export`: check the audit trail's hash chain; archive its events as CSV."""
from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from saferhub.audit.models import AuditAction, AuditEvent
from saferhub.audit.trail import audit_event, chain_verify

EXPORT_COLUMNS = [
    "sequence", "at", "actor_id", "actor_name", "organisation", "role", "action", "record_type", "record_id",
    "record_label", "fields", "purpose", "detail", "ip_address", "request_id", "previous_hash", "hash",
]


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"'{value}' is not a date: use YYYY-MM-DD") from None


def _cell(event: AuditEvent, name: str):
    value = getattr(event, name)
    if name in {"fields", "detail"}:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return "" if value is None else value


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain, or export its events to a CSV file for offline archiving."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="{verify,export}")
        commands.add_parser("verify", help="Check every event; exit 1 naming the first one edited, deleted, inserted or reordered")
        export = commands.add_parser("export", help="Write the events in a date range (all by default) to a CSV file")
        export.add_argument("--from", dest="start", type=_date, help="First day, YYYY-MM-DD (inclusive)")
        export.add_argument("--to", dest="end", type=_date, help="Last day, YYYY-MM-DD (inclusive)")
        export.add_argument("--output", required=True, type=Path, help="The CSV file to write")

    def handle(self, *args, subcommand: str, **options):
        if subcommand == "verify":
            self.verify()
        else:
            self.export(options["start"], options["end"], options["output"])

    def verify(self) -> None:
        checked, problem = chain_verify()
        if problem is None:
            self.stdout.write(f"Audit chain intact: {checked} event{'' if checked == 1 else 's'}")
            return
        self.stdout.write(f"Audit chain broken: {checked} events verified before the first bad one")
        raise CommandError(f"First bad event: {problem}", returncode=1)

    def export(self, start: dt.date | None, end: dt.date | None, output: Path) -> None:
        if start and end and start > end:
            raise CommandError("--from must not be after --to")
        events = AuditEvent.objects.order_by("sequence")
        if start:
            events = events.filter(at__date__gte=start)
        if end:
            events = events.filter(at__date__lte=end)
        output.parent.mkdir(parents=True, exist_ok=True)
        count, first, last = 0, None, None
        # Archived as stored (no spreadsheet-formula escaping), so the hashes can be recomputed
        # from the file.
        with output.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(EXPORT_COLUMNS)
            for event in events.iterator(chunk_size=2000):
                writer.writerow([_cell(event, name) for name in EXPORT_COLUMNS])
                count += 1
                first = first or event.sequence
                last = event.sequence
        with transaction.atomic():
            audit_event(user=None, action=AuditAction.EXPORT, record_type="audit", record_label="Audit trail export",
                        purpose="Offline archive of the audit trail",
                        detail={"from": start.isoformat() if start else "", "to": end.isoformat() if end else "",
                                "events": count, "first": first, "last": last})
        span = f"#{first} to #{last}" if count else "none"
        self.stdout.write(f"Exported {count} audit events ({span}) to {output}")
