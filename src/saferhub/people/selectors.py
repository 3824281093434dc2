"""Reads of the people register and cases for the pages, the API and exports.

Every read goes through `restrict(user, action)` (or, for data protection leads, through what their
organisation holds) and writes one audit event in the same transaction: lists and searches record
counts and record ids, never names."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone

from saferhub.audit.models import AuditAction, AuditEvent
from saferhub.audit.trail import audit_event
from saferhub.partners.models import PersonalDataScope
from saferhub.people import access
from saferhub.people.models import (
    BreakGlassAccess, Case, CaseParticipant, CaseParty, Disclosure, InformationSharingAgreement, ParticipantRole, Person,
)
from saferhub.people.vocabulary import characteristic_label

PAGE_SIZE = 50
AUDIT_PAGE_SIZE = 50
SUBJECT_ACCESS_PURPOSE = "Subject access request"
# The order a case lists its people in: the person at risk first.
ROLE_ORDER = {ParticipantRole.VICTIM: 0, ParticipantRole.PERPETRATOR: 1, ParticipantRole.CHILD: 2, ParticipantRole.OTHER: 3}


# Lists ------------------------------------------------------------------------------------------

@transaction.atomic
def person_list(*, user, page: int | str | None = 1, purpose: str = "") -> Page:
    """One page of the people the user may see, oldest record first."""
    people = Person.objects.restrict(user, access.VIEW).order_by("pk")
    result = Paginator(people, PAGE_SIZE).get_page(page)
    audit_event(user=user, action=AuditAction.LIST, record_type="person", purpose=purpose,
                detail={"count": result.paginator.count, "page": result.number, "results": [p.pk for p in result]})
    return result


@transaction.atomic
def case_list(*, user, status: str = "", page: int | str | None = 1, purpose: str = "") -> Page:
    """One page of the cases the user may see, newest first, optionally only open or closed ones."""
    cases = Case.objects.restrict(user, access.VIEW).select_related("owner")
    if status:
        cases = cases.filter(status=status)
    result = Paginator(cases, PAGE_SIZE).get_page(page)
    audit_event(user=user, action=AuditAction.LIST, record_type="case", purpose=purpose,
                detail={"count": result.paginator.count, "page": result.number, "status": status,
                        "results": [c.pk for c in result]})
    return result


# Parts of a record already opened (and audited) by people.services ---------------------------------

def person_cases(*, user, person: Person) -> list[CaseParticipant]:
    """The person's roles in cases the user may see."""
    return list(CaseParticipant.objects.filter(person=person, case__in=Case.objects.restrict(user, access.VIEW))
                .select_related("case__owner").order_by("-case__opened_at", "case_id", "role"))


def roles_by_person(*, user, people: list[Person]) -> dict[int, list[CaseParticipant]]:
    """Search results' roles in the cases the user may see, by person id."""
    roles = defaultdict(list)
    rows = CaseParticipant.objects.filter(person__in=people, case__in=Case.objects.restrict(user, access.VIEW)) \
        .select_related("case").order_by("case__reference", "role")
    for row in rows:
        roles[row.person_id].append(row)
    return dict(roles)


@dataclass
class CaseParts:
    parties: list[CaseParty]
    participants: list[CaseParticipant]
    disclosures: list[Disclosure]


def case_parts(*, case: Case) -> CaseParts:
    return CaseParts(
        parties=list(case.party_links.select_related("organisation").order_by("since", "pk")),
        participants=sorted(case.participants.select_related("person"), key=lambda p: (ROLE_ORDER.get(p.role, 9), p.person_id)),
        disclosures=list(case.disclosures.select_related("from_organisation", "to_organisation", "agreement", "person")),
    )


def case_break_glass_grant(*, user, case_id: int) -> BreakGlassAccess | None:
    """The live break-glass grant through which alone the user sees this case, if that is how."""
    if not user.is_authenticated or user.personal_data_scope == PersonalDataScope.ALL:
        return None
    if user.organisation_id and CaseParty.objects.filter(case_id=case_id, organisation_id=user.organisation_id).exists():
        return None
    return BreakGlassAccess.objects.filter(user=user, case_id=case_id, expires_at__gt=timezone.now()).first()


def may_record(user) -> bool:
    """Whether the user may add people and open cases at all (a contributor with a data scope)."""
    return access._may_act(user, access.CHANGE) and bool(user.organisation_id)


def may_break_glass(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.personal_data_scope != PersonalDataScope.NONE)


def may_change(*, user, case: Case | None = None, person: Person | None = None) -> bool:
    if case is not None:
        return Case.objects.restrict(user, access.CHANGE).filter(pk=case.pk).exists()
    return Person.objects.restrict(user, access.CHANGE).filter(pk=person.pk).exists()


def organisations_for_party(*, case: Case):
    from saferhub.partners.models import Organisation

    return Organisation.objects.filter(active=True).exclude(pk__in=case.party_links.values("organisation_id")).order_by("name")


def sharing_agreements() -> QuerySet[InformationSharingAgreement]:
    today = timezone.localdate()
    return InformationSharingAgreement.objects.filter(start__lte=today).filter(
        Q(end__isnull=True) | Q(end__gte=today)).order_by("name")


# What a data protection lead's organisation holds ------------------------------------------------

def is_data_protection_lead(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_data_protection_lead and user.organisation_id)


def held_case_ids(organisation_id: int):
    """Cases the organisation is party to."""
    return CaseParty.objects.filter(organisation_id=organisation_id).values("case_id")


def held_person_ids(organisation_id: int):
    """People the organisation registered or who appear in a case it is party to."""
    return Person.objects.filter(
        Q(created_by_organisation_id=organisation_id)
        | Q(pk__in=CaseParticipant.objects.filter(case_id__in=held_case_ids(organisation_id)).values("person_id"))
    ).values("pk")


def may_see_audit_of(*, user, case: Case | None = None, person: Person | None = None) -> bool:
    if not is_data_protection_lead(user):
        return False
    if case is not None:
        return CaseParty.objects.filter(case=case, organisation_id=user.organisation_id).exists()
    return Person.objects.filter(pk=person.pk, pk__in=held_person_ids(user.organisation_id)).exists()


def _held_case(user, case_id: int) -> Case:
    case = Case.objects.filter(pk=case_id, pk__in=held_case_ids(user.organisation_id)).first() \
        if is_data_protection_lead(user) else None
    if case is None:
        raise Http404("No such case")
    return case


def _held_person(user, person_id: int) -> Person:
    person = Person.objects.filter(pk=person_id, pk__in=held_person_ids(user.organisation_id)).first() \
        if is_data_protection_lead(user) else None
    if person is None:
        raise Http404("No such person")
    return person


# Who has seen a record ---------------------------------------------------------------------------

def _events_naming_person(person_id: int, condition: Q, key: str) -> list[int]:
    """Ids of events matching `condition` whose detail names the person under `key` (a list of
    results, or one person). A text match narrows them first, portably across databases."""
    ids = []
    rows = AuditEvent.objects.filter(condition, detail__icontains=str(person_id)).values_list("pk", "detail")
    for pk, detail in rows.iterator():
        value = (detail or {}).get(key)
        if value == person_id or (isinstance(value, list) and person_id in value):
            ids.append(pk)
    return ids


# Apps whose own records belong to a case (a MARAC referral and its research and actions, a MATAC
# nomination and its plan) add, in their AppConfig.ready(), a function from case ids to the Q that
# finds the events on those records: a case's trail then shows every read and change made
# through them too.
CASE_EVENT_SOURCES: list[Callable[[list[int]], Q]] = []


def events_on(record_type: str, queryset) -> Q:
    """The events on the records of `queryset` (for CASE_EVENT_SOURCES functions), as a subquery."""
    return Q(record_type=record_type, record_id__in=_as_text_ids(queryset))


def _linked_events(case_ids) -> Q:
    """The events on other apps' records of the cases `case_ids` (ids, or a queryset of them)."""
    condition = Q(pk__in=[])
    for source in CASE_EVENT_SOURCES:
        condition |= source(case_ids)
    return condition


def case_events(case: Case) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(Q(record_type="case", record_id=str(case.pk)) | _linked_events([case.pk]))


def person_events(person: Person, *, cases=None) -> QuerySet[AuditEvent]:
    """Events on the person's record, searches and lists that showed them, and views of the cases
    they appear in (a case page names its participants). `cases` (ids) limits the case events to
    those cases, so that no one learns of a case outside what their organisation holds."""
    in_cases = CaseParticipant.objects.filter(person=person)
    if cases is not None:
        in_cases = in_cases.filter(case_id__in=cases)
    case_ids = [str(pk) for pk in in_cases.values_list("case_id", flat=True).distinct()]
    found = _events_naming_person(person.pk, Q(record_type="person", action__in=[AuditAction.SEARCH, AuditAction.LIST]), "results")
    named = _events_naming_person(person.pk, Q(record_type="case", record_id__in=case_ids), "person")
    # Views of the cases' own records in other apps (a MARAC referral names its victim too).
    linked = _linked_events([int(pk) for pk in case_ids])
    return AuditEvent.objects.filter(
        Q(record_type="person", record_id=str(person.pk))
        | Q(record_type="case", record_id__in=case_ids, action__in=[AuditAction.VIEW, AuditAction.EXPORT])
        | (linked & Q(action__in=[AuditAction.VIEW, AuditAction.EXPORT]))
        | Q(pk__in=found + named)
    )


@dataclass
class AuditTrail:
    record_type: str
    record: Case | Person
    page: Page


@transaction.atomic
def record_audit_trail(*, user, record_type: str, record_id: int, page: int | str | None = 1) -> AuditTrail:
    """Every audit event on a case or person, newest first, for a data protection lead of an
    organisation holding it. Anyone else is told the record does not exist."""
    if record_type == "case":
        record = _held_case(user, record_id)
        events, label = case_events(record), record.reference
    elif record_type == "person":
        record = _held_person(user, record_id)
        events, label = person_events(record, cases=held_case_ids(user.organisation_id)), record.reference
    else:
        raise Http404("No such record")
    result = Paginator(events.order_by("-sequence"), AUDIT_PAGE_SIZE).get_page(page)
    audit_event(user=user, action=AuditAction.VIEW, record_type="audit", record_id=f"{record_type}:{record.pk}",
                record_label=f"Audit trail of {label}", purpose="Data protection oversight",
                detail={"page": result.number, "count": result.paginator.count})
    return AuditTrail(record_type=record_type, record=record, page=result)


def _as_text_ids(ids) -> QuerySet:
    return ids.annotate(key=Cast("pk", output_field=CharField())).values("key")


@transaction.atomic
def audit_export(*, user, start: dt.date, end: dt.date) -> list[AuditEvent]:
    """The audit events from `start` to `end` (inclusive, local dates) on the records the data
    protection lead's organisation holds, or made by its staff."""
    if not is_data_protection_lead(user):
        raise Http404("No such page")
    organisation_id = user.organisation_id
    zone = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    held = (
        Q(actor__organisation_id=organisation_id)
        | Q(actor__isnull=True, organisation=user.organisation.name)
        | Q(record_type="case", record_id__in=_as_text_ids(Case.objects.filter(pk__in=held_case_ids(organisation_id))))
        | Q(record_type="person", record_id__in=_as_text_ids(Person.objects.filter(pk__in=held_person_ids(organisation_id))))
        | _linked_events(held_case_ids(organisation_id))
    )
    events = list(AuditEvent.objects.filter(held, at__gte=since, at__lt=until).order_by("sequence"))
    audit_event(user=user, action=AuditAction.EXPORT, record_type="audit", record_label="Audit export",
                purpose="Data protection oversight",
                detail={"from": start.isoformat(), "to": end.isoformat(), "count": len(events)})
    return events


# Break-glass report ------------------------------------------------------------------------------

@transaction.atomic
def break_glass_report(*, user, unreviewed_only: bool = False) -> list[BreakGlassAccess]:
    """Break-glass grants by the data protection lead's own organisation's staff, newest first."""
    if not is_data_protection_lead(user):
        raise Http404("No such page")
    grants = BreakGlassAccess.objects.filter(user__organisation_id=user.organisation_id) \
        .select_related("user", "case", "reviewed_by").order_by("-at", "-pk")
    if unreviewed_only:
        grants = grants.filter(reviewed_at__isnull=True)
    grants = list(grants)
    audit_event(user=user, action=AuditAction.LIST, record_type="break_glass", purpose="Data protection oversight",
                detail={"count": len(grants), "unreviewed_only": unreviewed_only})
    return grants


def break_glass_grant_for_review(*, user, grant_id: int) -> BreakGlassAccess:
    grant = BreakGlassAccess.objects.select_related("user", "case", "reviewed_by").filter(
        pk=grant_id, user__organisation_id=user.organisation_id).first() if is_data_protection_lead(user) else None
    if grant is None:
        raise Http404("No such break-glass grant")
    return grant


# Subject access ----------------------------------------------------------------------------------

def _subject_access_person(user, person_id: int) -> Person:
    person = Person.objects.restrict(user, access.CHANGE).filter(pk=person_id).first()
    if person is None and is_data_protection_lead(user):
        person = Person.objects.filter(pk=person_id, pk__in=held_person_ids(user.organisation_id)).first()
    if person is None:
        raise Http404("No such person")
    return person


def may_export_subject_access(*, user, person: Person) -> bool:
    return Person.objects.restrict(user, access.CHANGE).filter(pk=person.pk).exists() or (
        is_data_protection_lead(user) and Person.objects.filter(pk=person.pk, pk__in=held_person_ids(user.organisation_id)).exists())


def _iso(value) -> str | None:
    if not value:
        return None
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value)
    return value.isoformat()


@transaction.atomic
def subject_access_export(*, user, person_id: int, file_format: str = "json") -> dict:
    """Everything held about one person, within what the user's organisation holds: their record
    decrypted, identifiers, cases and roles, disclosures, and the audit events on them. Staff are
    named in audit events by organisation and role only, not personally."""
    person = _subject_access_person(user, person_id)
    visible = Case.objects.restrict(user, access.VIEW)
    case_condition = Q(case__in=visible)
    if is_data_protection_lead(user):
        case_condition |= Q(case_id__in=held_case_ids(user.organisation_id))
    participations = list(CaseParticipant.objects.filter(case_condition, person=person)
                          .select_related("case__owner").order_by("case__opened_at", "case_id", "role"))
    roles = defaultdict(list)
    cases = {}
    for row in participations:
        cases[row.case_id] = row.case
        roles[row.case_id].append(row.get_role_display())
    disclosures = Disclosure.objects.filter(case_id__in=list(cases)).filter(Q(person=person) | Q(person__isnull=True)) \
        .select_related("case", "from_organisation", "to_organisation", "agreement").order_by("at", "pk")
    events = list(person_events(person, cases=list(cases)).order_by("sequence"))
    export = {
        "generated_at": _iso(timezone.now()),
        "generated_for": user.organisation.name if user.organisation_id else "",
        "purpose": SUBJECT_ACCESS_PURPOSE,
        "person": {
            "reference": person.reference,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "aliases": [{"first_name": a.get("first_name", ""), "last_name": a.get("last_name", "")} for a in person.aliases or []],
            "date_of_birth": _iso(person.date_of_birth),
            "gender": characteristic_label("gender", person.gender),
            "ethnicity": characteristic_label("ethnicity", person.ethnicity),
            "disability": characteristic_label("disability", person.disability),
            "sexuality": characteristic_label("sexuality", person.sexuality),
            "addresses": [{"lines": list(a.get("lines", [])), "postcode": a.get("postcode", "")} for a in person.addresses or []],
            "recorded_at": _iso(person.created_at),
            "recorded_by": person.created_by_organisation.name if person.created_by_organisation_id else "",
            "anonymised_at": _iso(person.anonymised_at),
        },
        "identifiers": [{"kind": i.get_kind_display(), "value": i.value} for i in person.identifiers.order_by("kind")],
        "cases": [
            {
                "reference": case.reference, "kind": case.get_kind_display(), "status": case.get_status_display(),
                "roles": roles[case.pk], "owner": case.owner.name, "opened_at": _iso(case.opened_at),
                "closed_at": _iso(case.closed_at),
                "parties": [p.organisation.name for p in case.party_links.select_related("organisation").order_by("since", "pk")],
            }
            for case in cases.values()
        ],
        "disclosures": [
            {
                "case": d.case.reference, "from": d.from_organisation.name, "to": d.to_organisation.name,
                "about": "This person" if d.person_id else "The whole case",
                "lawful_basis": d.get_lawful_basis_display(), "agreement": d.agreement.name if d.agreement else "",
                "purpose": d.purpose, "at": _iso(d.at),
            }
            for d in disclosures
        ],
        "audit_events": [
            {
                "at": _iso(e.at), "organisation": e.organisation, "role": e.role, "action": e.get_action_display(),
                "record": e.record_label or e.record_type, "purpose": e.purpose, "fields": list(e.fields or []),
            }
            for e in events
        ],
    }
    audit_event(user=user, action=AuditAction.EXPORT, record_type="person", record_id=person.pk,
                record_label=person.reference, purpose=SUBJECT_ACCESS_PURPOSE,
                detail={"format": file_format, "cases": len(cases), "events": len(events)})
    return export
