"""Writing and verifying the tamper-evident audit trail of personal data.

Services and selectors that read or write personal data call `audit_event` inside their own
transaction, so the event and the change commit (or roll back) together."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.ipv6 import clean_ipv6_address
from django.utils import timezone

from saferhub.audit.context import current
from saferhub.audit.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64
HASHED_FIELDS = [
    "sequence", "at", "actor_id", "actor_name", "organisation", "role", "action", "record_type", "record_id",
    "record_label", "fields", "purpose", "detail", "ip_address", "request_id",
]


def _canonical(event: AuditEvent) -> str:
    values = {}
    for name in HASHED_FIELDS:
        value = getattr(event, name)
        values[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(event: AuditEvent, previous_hash: str) -> str:
    return hashlib.sha256((previous_hash + "\n" + _canonical(event)).encode("utf-8")).hexdigest()


def _ip(address: str | None) -> str | None:
    if not address:
        return None
    if ":" in address:
        try:
            return clean_ipv6_address(address)
        except ValidationError:
            return None
    return address


def audit_event(
    *,
    user,
    action: str,
    record_type: str,
    record_id: str | int = "",
    record_label: str = "",
    fields: Iterable[str] = (),
    purpose: str = "",
    detail: dict | None = None,
) -> AuditEvent:
    """Append one event to the chain. Must run inside the caller's transaction."""
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1)
        context = current()
        actor = user if user is not None and getattr(user, "pk", None) else None
        event = AuditEvent(
            sequence=head.sequence + 1,
            at=timezone.now(),
            actor=actor,
            actor_name=actor.display_name if actor else "system",
            organisation=(actor.organisation.name if actor and actor.organisation_id else ""),
            role=(actor.get_role_display() if actor else ""),
            action=action,
            record_type=record_type,
            record_id=str(record_id),
            record_label=record_label[:200],
            fields=sorted(set(fields)),
            purpose=purpose[:300],
            # As the database will give it back, so the hash computed now is the one verified later.
            detail=json.loads(json.dumps(detail or {}, default=str)),
            ip_address=_ip(context.ip_address),
            request_id=context.request_id,
            previous_hash=head.hash,
        )
        event.hash = event_hash(event, head.hash)
        event.save()
        head.sequence, head.hash = event.sequence, event.hash
        head.save(update_fields=["sequence", "hash"])
    return event


@dataclass
class ChainProblem:
    sequence: int | None
    event_id: int | None
    message: str
    # edited, deleted, inserted, reordered, "newest missing" or "head missing"
    kind: str = ""

    def __str__(self) -> str:
        if self.sequence is None:
            where = "the chain"
        elif self.event_id is None:
            where = f"event #{self.sequence}"
        else:
            where = f"event #{self.sequence} (id {self.event_id})"
        return f"{where}: {self.message}"


def _head() -> tuple[int, str]:
    head = AuditChainHead.objects.filter(id=1).first()
    return (head.sequence, head.hash) if head is not None else (0, GENESIS)


def _written_as(event: AuditEvent, highest: int) -> int | None:
    """The sequence number `event` had when it was written, if its content is otherwise intact and
    only its place in the chain changed; None when its content was edited."""
    original = event.sequence
    try:
        event.sequence = 0
        canonical = _canonical(event)
    finally:
        event.sequence = original
    # "sequence" sorts last among the hashed fields, so the canonical text ends with it: only the
    # number needs trying, not a fresh serialisation per candidate.
    tail = ',"sequence":0}'
    if not canonical.endswith(tail):
        return None
    prefix = event.previous_hash + "\n" + canonical[: -len(tail)] + ',"sequence":'
    for candidate in range(1, highest + 1):
        if candidate != original and hashlib.sha256(f"{prefix}{candidate}}}".encode("utf-8")).hexdigest() == event.hash:
            return candidate
    return None


def _content_problem(event: AuditEvent, highest: int) -> ChainProblem | None:
    if event_hash(event, event.previous_hash) == event.hash:
        return None
    moved_from = _written_as(event, highest)
    if moved_from is not None:
        return ChainProblem(event.sequence, event.pk, f"reordered: it was written as event #{moved_from}, not #{event.sequence}", "reordered")
    return ChainProblem(event.sequence, event.pk, "edited: its content no longer matches its hash", "edited")


def _link_problem(event: AuditEvent, expected_previous: str) -> ChainProblem:
    """The event's own content is intact but it does not follow the event before it."""
    claimed = AuditEvent.objects.filter(hash=event.previous_hash).exclude(pk=event.pk).values_list("sequence", flat=True).first()
    if claimed is not None:
        why = f"it claims to follow event #{claimed}, not #{event.sequence - 1}"
    elif event.previous_hash == GENESIS:
        why = "it claims to be the first event"
    else:
        why = "its previous hash matches no event in the chain"
    return ChainProblem(event.sequence, event.pk,
                        f"inserted: it was not written after the event before it ({why}); or the event before it was altered and re-hashed",
                        "inserted")


def chain_verify(batch: int = 5000) -> tuple[int, ChainProblem | None]:
    """Walk the chain in sequence order; return how many events are sound and the first problem
    (None when the whole chain holds). Names edited, deleted, inserted and reordered events, and
    newest events that are missing.

    The chain head is read before the walk, so events appended while it runs are checked against
    a newer head rather than mistaken for forgeries; only events beyond the head after that are."""
    previous_hash, checked, last_id = GENESIS, 0, None
    written, head_hash = _head()
    while True:
        highest = max(written, AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0)
        while checked < written:
            chunk = list(AuditEvent.objects.filter(sequence__gt=checked, sequence__lte=written).order_by("sequence")[:batch])
            if not chunk:
                break
            for event in chunk:
                expected = checked + 1
                if event.sequence != expected:
                    missing = f"#{expected}" if event.sequence == expected + 1 else f"#{expected} to #{event.sequence - 1}"
                    return checked, ChainProblem(event.sequence, event.pk, f"deleted: event {missing} before it is missing", "deleted")
                problem = _content_problem(event, highest)
                if problem is not None:
                    return checked, problem
                if event.previous_hash != previous_hash:
                    return checked, _link_problem(event, previous_hash)
                previous_hash, checked, last_id = event.hash, event.sequence, event.pk
        if checked < written:
            missing = f"#{checked + 1}" if written == checked + 1 else f"#{checked + 1} to #{written}"
            return checked, ChainProblem(checked + 1, None,
                                         f"newest events missing: event {missing} was written but is not in the trail (the chain ends at #{checked})",
                                         "newest missing")
        if previous_hash != head_hash:
            return checked, ChainProblem(checked, last_id, "edited: the newest event does not match the chain head (replaced)", "edited")
        newer = AuditEvent.objects.filter(sequence__gt=written).order_by("sequence").first()
        if newer is None:
            return checked, None
        latest, latest_hash = _head()
        if latest <= written:
            # Nothing was appended through the trail since the walk began, so this event was not.
            if not AuditChainHead.objects.filter(id=1).exists():
                return checked, ChainProblem(newer.sequence, newer.pk, "the chain head is missing: it was deleted, "
                                             "so the newest events may have been deleted with it", "head missing")
            if newer.sequence == checked + 1 and newer.previous_hash != previous_hash:
                return checked, _link_problem(newer, previous_hash)
            return checked, ChainProblem(newer.sequence, newer.pk,
                                         f"inserted: it was not written through the audit trail (the chain ends at #{written})",
                                         "inserted")
        written, head_hash = latest, latest_hash
