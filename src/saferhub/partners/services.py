"""Writes to partnership data: loading organisations and governance bodies from the partnership file."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import transaction

from saferhub.audit.models import ChangeAction
from saferhub.audit.services import change_record, snapshot
from saferhub.partners.importer import PARTNERSHIP_FILE, partnership_file_parse
from saferhub.partners.models import GovernanceBody, Organisation, Role

ORGANISATION_FIELDS = ["name", "short_name", "type", "aliases", "website", "active"]
BODY_FIELDS = [
    "name", "kind", "purpose", "reports_to", "chair_organisation", "chair_title", "members",
    "meeting_frequency", "established",
]


@dataclass
class PartnershipImportResult:
    file: str
    organisations_created: int = 0
    organisations_updated: int = 0
    organisations_unchanged: int = 0
    bodies_created: int = 0
    bodies_updated: int = 0
    bodies_unchanged: int = 0

    def __str__(self) -> str:
        return (
            f"{self.file}: organisations {self.organisations_created} created, {self.organisations_updated} updated, "
            f"{self.organisations_unchanged} unchanged; governance bodies {self.bodies_created} created, "
            f"{self.bodies_updated} updated, {self.bodies_unchanged} unchanged"
        )


@transaction.atomic
def partnership_import(*, user=None, path: str | Path = PARTNERSHIP_FILE) -> PartnershipImportResult:
    """Create or update (by slug) every organisation and governance body in the file, all or
    nothing. Records not in the file are left alone. `user` is None for the command line."""
    if user is not None and not user.has_role(Role.ADMINISTRATOR):
        raise PermissionDenied("Only administrators can load partnership data.")
    data = partnership_file_parse(path)
    result = PartnershipImportResult(file=data.file)

    organisations = {o.slug: o for o in Organisation.objects.filter(slug__in=[r.slug for r in data.organisations])}
    for record in data.organisations:
        organisation = organisations.get(record.slug)
        before = snapshot(organisation, ORGANISATION_FIELDS) if organisation else {}
        if organisation is None:
            organisation = Organisation(slug=record.slug)
        for name in ORGANISATION_FIELDS:
            setattr(organisation, name, getattr(record, name))
        after = snapshot(organisation, ORGANISATION_FIELDS)
        if before == after:
            result.organisations_unchanged += 1
            continue
        if before:
            result.organisations_updated += 1
        else:
            result.organisations_created += 1
        organisation.save()
        organisations[record.slug] = organisation
        change_record(actor=user, instance=organisation, action=ChangeAction.IMPORT, before=before, after=after)

    org_by_slug = {o.slug: o for o in Organisation.objects.all()}
    bodies = {b.slug: b for b in GovernanceBody.objects.select_related("reports_to", "chair_organisation")}
    befores = {}
    # Bodies first, reporting lines second: a body may report to one later in the file.
    for record in data.bodies:
        body = bodies.get(record.slug)
        befores[record.slug] = snapshot(body, BODY_FIELDS) if body else {}
        if body is None:
            body = GovernanceBody(slug=record.slug)
        body.name, body.kind, body.purpose = record.name, record.kind, record.purpose
        body.chair_organisation = org_by_slug.get(record.chair_organisation)
        body.chair_title = record.chair_title
        body.meeting_frequency, body.established = record.meeting_frequency, record.established
        body.save()
        bodies[record.slug] = body
    for record in data.bodies:
        body = bodies[record.slug]
        reports_to = bodies.get(record.reports_to)
        if body.reports_to_id != (reports_to.pk if reports_to else None):
            body.reports_to = reports_to
            body.save(update_fields=["reports_to"])
        body.members.set([org_by_slug[slug] for slug in record.members])
        before, after = befores[record.slug], snapshot(body, BODY_FIELDS)
        if before == after:
            result.bodies_unchanged += 1
            continue
        if before:
            result.bodies_updated += 1
        else:
            result.bodies_created += 1
        change_record(actor=user, instance=body, action=ChangeAction.IMPORT, before=before, after=after)
    return result
