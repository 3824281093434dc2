"""`saferhub audit verify | anchor | export`: check the audit trail's hash chain and its anchors outside
the database; write an anchor; archive its events as CSV."""
from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from saferhub.audit.anchors import anchor_file, anchor_write, anchors_verify
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
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="{verify,anchor,export}")
        commands.add_parser("verify", help="Check every event and every anchor; exit 1 naming the first event edited, "
                                           "deleted, inserted or reordered, or each anchor the trail no longer matches")
        commands.add_parser("anchor", help="Append the chain head to the anchor file outside the database")
        export = commands.add_parser("export", help="Write the events in a date range (all by default) to a CSV file")
        export.add_argument("--from", dest="start", type=_date, help="First day, YYYY-MM-DD (inclusive)")
        export.add_argument("--to", dest="end", type=_date, help="Last day, YYYY-MM-DD (inclusive)")
        export.add_argument("--output", required=True, type=Path, help="The CSV file to write")

    def handle(self, *args, subcommand: str, **options):
        if subcommand == "verify":
            self.verify()
        elif subcommand == "anchor":
            anchor = anchor_write()
            if anchor is None:
                self.stdout.write("The audit trail is empty: nothing to anchor")
            else:
                self.stdout.write(f"Anchored event #{anchor.sequence} ({anchor.hash[:12]}…) in {anchor_file()}")
        else:
            self.export(options["start"], options["end"], options["output"])

    def verify(self) -> None:
        checked, problem = chain_verify()
        anchors = anchors_verify()
        if problem is None:
            self.stdout.write(f"Audit chain intact: {checked} event{'' if checked == 1 else 's'}")
        else:
            self.stdout.write(f"Audit chain broken: {checked} events verified before the first bad one")
        if anchors.anchors == 0:
            self.stdout.write(f"No anchors outside the database yet ({anchor_file()}): `saferhub audit anchor` writes one")
        elif not anchors.problems:
            self.stdout.write(f"Anchors hold: {anchors.anchors} checked, the newest at event #{anchors.newest.sequence} "
                              f"({anchors.newest.at})")
        for line in anchors.problems:
            self.stdout.write(f"Anchor broken: {line}")
        if problem is not None:
            raise CommandError(f"First bad event: {problem}", returncode=1)
        if anchors.problems:
            raise CommandError(f"{len(anchors.problems)} anchor(s) no longer match the trail", returncode=1)

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
