"""Rotating the field encryption keys and recomputing blind indexes (`saferhub keys`).

Rotation works on the stored ciphertext, never through the model fields: each value is decrypted
with whichever configured key opens it and encrypted again under the newest (MultiFernet.rotate),
so the plain text, JSON included, comes back byte for byte as it went in."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models.functions import Cast

from saferhub.audit.models import AuditAction
from saferhub.audit.trail import audit_event
from saferhub.core import encryption

BATCH = 500
KEY_FILE_HEADER = "# Saferhub field encryption keys, newest first: the first encrypts, all decrypt."


class KeyRotationError(Exception):
    """Rotation cannot go ahead, or a stored value cannot be opened with the configured keys."""


@dataclass
class RotationResult:
    source: str  # "file" or "environment"
    reencrypted: int = 0
    already_current: int = 0
    unencrypted: int = 0
    rows: int = 0
    fields: list[str] = field(default_factory=list)
    key_file: Path | None = None
    dropped: int = 0

    def lines(self) -> list[str]:
        lines = [f"Re-encrypted {self.reencrypted} values in {self.rows} rows under the newest key "
                 f"({len(self.fields)} encrypted fields; {self.already_current} were already under it)"]
        if self.unencrypted:
            lines.append(f"Encrypted {self.unencrypted} values that had been stored unencrypted")
        if self.source == "file":
            lines.append(f"New key written first in {self.key_file}")
            if self.dropped:
                lines.append(f"Removed {self.dropped} old keys from {self.key_file}")
            else:
                lines.append("Old keys kept after it: run `saferhub keys rotate --drop-old` later, or remove them by hand, once backups no longer need them")
        else:
            lines.append("Keys come from SAFERHUB_FIELD_KEYS: everything is now under the first key listed there. "
                         "Remove the old keys from SAFERHUB_FIELD_KEYS once every process has the new list.")
        return lines


def encrypted_columns() -> list[tuple[type[models.Model], models.Field]]:
    """Every encrypted field of every model that owns its table."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        found += [(model, f) for f in encryption.encrypted_fields(model)]
    return found


def _label(model, model_field) -> str:
    return f"{model._meta.label}.{model_field.name}"


def _check_keys(keys: list[str]) -> None:
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise KeyRotationError(f"Field key {number} is not a valid Fernet key (32 url-safe base64-encoded bytes)") from None


def key_file_write(path: Path, keys: list[str]) -> None:
    """Replace the key file atomically: a process reading it sees the old file or the new one,
    never a half-written key. Readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{path.name}.{os.getpid()}.new"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(KEY_FILE_HEADER + "\n" + "".join(f"{key}\n" for key in keys))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    encryption.keys_reload()


def _reencrypt_all(result: RotationResult, batch: int = BATCH, *, audit: bool = True) -> None:
    """Bring every stored value under the newest key, in one transaction, `batch` rows at a time.
    Values the newest key already opens are left alone, so a second pass finds nothing to do."""
    newest = Fernet(encryption.field_keys()[0].encode())
    columns: dict[type[models.Model], list[models.Field]] = {}
    for model, model_field in encrypted_columns():
        columns.setdefault(model, []).append(model_field)
        result.fields.append(_label(model, model_field))
    with transaction.atomic():
        for model, model_fields in columns.items():
            raw = {f"raw_{f.attname}": Cast(f.attname, models.TextField()) for f in model_fields}
            last = None
            while True:
                rows = model._base_manager.order_by("pk").select_for_update()
                if last is not None:
                    rows = rows.filter(pk__gt=last)
                chunk = list(rows.annotate(**raw).values_list("pk", *raw)[:batch])
                if not chunk:
                    break
                for pk, *stored_values in chunk:
                    changes = {}
                    for model_field, stored in zip(model_fields, stored_values):
                        if not stored:
                            continue
                        if not stored.startswith(encryption.PREFIX):
                            changes[model_field.attname] = encryption.encrypt(stored)
                            result.unencrypted += 1
                            continue
                        token = stored[len(encryption.PREFIX):].encode("ascii")
                        try:
                            newest.decrypt(token)
                        except InvalidToken:
                            pass
                        else:
                            result.already_current += 1
                            continue
                        try:
                            changes[model_field.attname] = encryption.reencrypt(stored)
                        except InvalidToken:
                            raise KeyRotationError(
                                f"{model._meta.verbose_name.capitalize()} {pk}: {model_field.name} cannot be decrypted with any "
                                "configured key. Is the key it was written with missing? Nothing was changed.") from None
                        result.reencrypted += 1
                    if changes:
                        model._base_manager.filter(pk=pk).update(
                            **{name: models.Value(value, output_field=models.TextField()) for name, value in changes.items()})
                        result.rows += 1
                last = chunk[-1][0]
        if not audit:
            return
        audit_event(user=None, action=AuditAction.UPDATE, record_type="keys", record_label="Field encryption keys",
                    fields=result.fields, purpose="Field encryption key rotation",
                    detail={"source": result.source, "reencrypted": result.reencrypted, "rows": result.rows,
                            "already_current": result.already_current, "unencrypted": result.unencrypted})


def keys_rotate(*, drop_old: bool = False, batch: int = BATCH) -> RotationResult:
    """Re-encrypt every encrypted value under the newest field key.

    With a key file, a new key is generated and written first in the file before anything is
    re-encrypted; running processes read the file on every use, so they encrypt under it at once
    and can still read values under the old keys, which stay after it. `drop_old` removes those
    only once the re-encryption has committed and a second pass finds nothing left under them.
    With SAFERHUB_FIELD_KEYS the operator has already put the new key first."""
    encryption.keys_reload()
    try:
        path = encryption.field_keys_file()
        keys = encryption.field_keys()
    except (ImproperlyConfigured, OSError) as error:
        raise KeyRotationError(f"The field keys cannot be read: {error}") from None
    if not keys:
        raise KeyRotationError("No field encryption keys are configured")
    _check_keys(keys)
    if path is None:
        if drop_old:
            raise KeyRotationError("Keys come from SAFERHUB_FIELD_KEYS, which Saferhub cannot change: "
                                   "rotate without --drop-old, then remove the old keys from the variable yourself")
        result = RotationResult(source="environment")
        _reencrypt_all(result, batch)
        return result
    result = RotationResult(source="file", key_file=path)
    try:
        key_file_write(path, [Fernet.generate_key().decode(), *keys])
    except OSError as error:
        raise KeyRotationError(f"The key file {path} cannot be written: {error}. Nothing was changed.") from None
    _reencrypt_all(result, batch)
    if drop_old:
        # Anything a running process wrote under an old key before it saw the new file.
        stragglers = RotationResult(source="file")
        _reencrypt_all(stragglers, batch, audit=False)
        result.reencrypted += stragglers.reencrypted
        result.rows += stragglers.rows
        current = encryption.field_keys()
        key_file_write(path, current[:1])
        result.dropped = len(current) - 1
        with transaction.atomic():
            audit_event(user=None, action=AuditAction.UPDATE, record_type="keys", record_label="Field encryption keys",
                        purpose="Old field encryption keys removed after rotation",
                        detail={"dropped": result.dropped, "reencrypted_since": stragglers.reencrypted})
    return result


def keys_reindex(*, batch: int = BATCH) -> int:
    """Recompute every person's blind indexes under the current blind-index key (after it
    changes); anonymised people have none and get none. Returns how many people were indexed."""
    from saferhub.people.models import Person
    from saferhub.people.services import _indexes_rebuild

    count, last = 0, None
    with transaction.atomic():
        while True:
            people = Person.objects.filter(anonymised_at__isnull=True).order_by("pk").prefetch_related("identifiers")
            if last is not None:
                people = people.filter(pk__gt=last)
            chunk = list(people[:batch])
            if not chunk:
                break
            for person in chunk:
                _indexes_rebuild(person, {i.kind: i.value for i in person.identifiers.all()})
            count += len(chunk)
            last = chunk[-1].pk
        audit_event(user=None, action=AuditAction.UPDATE, record_type="keys", record_label="Blind indexes",
                    fields=["indexes"], purpose="Blind indexes recomputed", detail={"people": count})
    return count
