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

    def __str__(self) -> str:
        where = f"event #{self.sequence} (id {self.event_id})" if self.sequence is not None else "the chain"
        return f"{where}: {self.message}"


def chain_verify(batch: int = 5000) -> tuple[int, ChainProblem | None]:
    """Walk the chain in sequence order; return how many events are sound and the first problem
    (None when the whole chain holds). Detects edited, deleted, inserted and reordered events."""
    previous_hash, expected_sequence, checked = GENESIS, 1, 0
    last_id = None
    query = AuditEvent.objects.order_by("sequence")
    start = 0
    while True:
        chunk = list(query.filter(sequence__gte=start)[:batch])
        if not chunk:
            break
        for event in chunk:
            if event.sequence != expected_sequence:
                return checked, ChainProblem(event.sequence, event.pk, f"expected event #{expected_sequence} next: an event is missing or out of order")
            if event.previous_hash != previous_hash:
                return checked, ChainProblem(event.sequence, event.pk, "does not follow the event before it (deleted, inserted or reordered)")
            if event_hash(event, previous_hash) != event.hash:
                return checked, ChainProblem(event.sequence, event.pk, "its content does not match its hash (edited)")
            previous_hash, expected_sequence = event.hash, expected_sequence + 1
            last_id = event.pk
            checked += 1
        start = chunk[-1].sequence + 1
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None and (head.sequence != checked or head.hash != previous_hash):
        return checked, ChainProblem(None, last_id, f"the chain ends at event #{checked} but {head.sequence} were written: the newest events are missing")
    return checked, None
