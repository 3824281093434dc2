"""Writing the edit history. Services call these inside their own transaction."""
import datetime as dt
from decimal import Decimal
from typing import Any, Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models

from saferhub.audit.models import ChangeAction, ChangeRecord


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple, set)):
        return sorted(_plain(v) for v in value)
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of `instance` as JSON-safe values (many-to-many fields as sorted names)."""
    result = {}
    for name in fields:
        field = instance._meta.get_field(name)
        if field.many_to_many:
            value = [str(o) for o in getattr(instance, name).all()] if instance.pk else []
        else:
            value = getattr(instance, name)
        result[name] = _plain(value)
    return result


def change_record(
    *,
    actor,
    instance: models.Model,
    action: str,
    before: dict | None = None,
    after: dict | None = None,
) -> ChangeRecord | None:
    """Record one change. An update that changed nothing is not recorded."""
    before, after = before or {}, after or {}
    if action == ChangeAction.UPDATE and before == after:
        return None
    return ChangeRecord.objects.create(
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=str(instance.pk),
        object_repr=str(instance)[:300],
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        actor_name=(actor.display_name if actor is not None and actor.pk else "system"),
        before=before,
        after=after,
    )


def history_for(instance: models.Model):
    return ChangeRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=str(instance.pk),
    ).select_related("actor")
