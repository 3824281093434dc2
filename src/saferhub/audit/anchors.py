"""Anchors of the audit trail outside the database.

The hash chain shows any event edited, deleted, inserted or reordered, but someone able to rewrite
the whole table could also recompute every hash from the first event. An anchor defeats that: it
is the chain head (sequence and hash) written, with the time, to an append-only file outside the
database (`SAFERHUB_AUDIT_ANCHOR_FILE`, default `SAFERHUB_DATA_DIR/audit/anchors.jsonl`; point it at
storage the database's administrators cannot write, or copy it off the machine). Each line carries
an HMAC under a key derived from SECRET_KEY, so a line cannot be forged without the server's key.
`saferhub audit verify` checks that every anchored event still has the anchored hash; the
scheduler writes an anchor daily and `saferhub audit anchor` writes one on demand."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from saferhub.audit.models import AuditChainHead, AuditEvent

SALT = "saferhub.audit.anchor"


def anchor_file() -> Path:
    configured = getattr(settings, "AUDIT_ANCHOR_FILE", None) or os.environ.get("SAFERHUB_AUDIT_ANCHOR_FILE")
    return Path(configured) if configured else Path(settings.DATA_DIR) / "audit" / "anchors.jsonl"


def _message(sequence: int, hash_: str, at: str) -> str:
    return f"{sequence}:{hash_}:{at}"


def _mac(message: str, secret: str) -> str:
    return salted_hmac(SALT, message, secret=secret, algorithm="sha256").hexdigest()


@dataclass(frozen=True)
class Anchor:
    sequence: int
    hash: str
    at: str

    def line(self) -> str:
        return json.dumps({"sequence": self.sequence, "hash": self.hash, "at": self.at,
                           "mac": _mac(_message(self.sequence, self.hash, self.at), settings.SECRET_KEY)})


def anchor_write() -> Anchor | None:
    """Append the chain head to the anchor file; None when the trail is still empty."""
    head = AuditChainHead.objects.filter(id=1).first()
    if head is None or head.sequence == 0:
        return None
    anchor = Anchor(head.sequence, head.hash, timezone.now().isoformat(timespec="seconds"))
    path = anchor_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(anchor.line() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return anchor


@dataclass(frozen=True)
class AnchorCheck:
    anchors: int
    problems: list[str]
    newest: Anchor | None


def anchors_verify() -> AnchorCheck:
    """Check every anchor line: its HMAC (under SECRET_KEY or a fallback key) and that the event it
    names still has the anchored hash. Problems name the file's line."""
    path = anchor_file()
    if not path.exists():
        return AnchorCheck(0, [], None)
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    problems, anchors, newest = [], 0, None
    with open(path, encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            where = f"{path.name} line {number}"
            try:
                data = json.loads(text)
                anchor = Anchor(int(data["sequence"]), str(data["hash"]), str(data["at"]))
                mac = str(data["mac"])
            except (ValueError, KeyError, TypeError):
                problems.append(f"{where}: not an anchor line")
                continue
            anchors += 1
            message = _message(anchor.sequence, anchor.hash, anchor.at)
            if not any(constant_time_compare(mac, _mac(message, secret)) for secret in secrets):
                problems.append(f"{where}: its HMAC does not match (the line was altered, or written with another key)")
                continue
            stored = AuditEvent.objects.filter(sequence=anchor.sequence).values_list("hash", flat=True).first()
            if stored is None:
                problems.append(f"{where}: event #{anchor.sequence}, anchored at {anchor.at}, is no longer in the trail")
            elif stored != anchor.hash:
                problems.append(f"{where}: event #{anchor.sequence} no longer has the hash anchored at {anchor.at} "
                                "(the trail was rewritten from that event or before)")
            newest = anchor if newest is None or anchor.sequence >= newest.sequence else newest
    return AnchorCheck(anchors, problems, newest)
