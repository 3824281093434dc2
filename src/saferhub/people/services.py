"""Reads and writes of the people register and cases. Each one checks access through
`restrict(user, action)`, writes an audit event in the same transaction, and never puts personal
data into the audit trail (field names only; searches as blind-index digests)."""
from __future__ import annotations

import datetime as dt
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from saferhub.audit.models import AuditAction
from saferhub.audit.trail import audit_event
from saferhub.core.encryption import identifier_index, name_dob_index, normalise_identifier, normalise_name
from saferhub.people import access
from saferhub.people.models import (
    IDENTIFIER_KINDS, BreakGlassAccess, Case, CaseParticipant, CaseParty, CaseStatus, Disclosure, IndexKind,
    InformationSharingAgreement, LawfulBasis, Person, PersonIdentifier, PersonIndex,
)

BREAK_GLASS_HOURS = 24
PERSON_FIELDS = ["first_name", "last_name", "aliases", "date_of_birth", "gender", "ethnicity", "disability",
                 "sexuality", "addresses"]


def _label(person: Person) -> str:
    return person.reference


def _check_person(values: dict) -> None:
    errors = {}
    if not (values.get("first_name") or "").strip():
        errors["first_name"] = "Enter the person's first name"
    if not (values.get("last_name") or "").strip():
        errors["last_name"] = "Enter the person's last name"
    dob = values.get("date_of_birth")
    if dob is not None and dob > timezone.localdate():
        errors["date_of_birth"] = "The date of birth must be in the past"
    if errors:
        raise ValidationError(errors)


def _indexes_rebuild(person: Person, identifiers: dict[str, str]) -> None:
    person.indexes.all().delete()
    rows = [PersonIndex(person=person, kind=IndexKind.NAME_DOB,
                        digest=name_dob_index(person.first_name, person.last_name, person.date_of_birth))]
    for alias in person.aliases or []:
        rows.append(PersonIndex(person=person, kind=IndexKind.ALIAS_DOB, digest=name_dob_index(
            alias.get("first_name", ""), alias.get("last_name", ""), person.date_of_birth)))
    for kind, value in identifiers.items():
        rows.append(PersonIndex(person=person, kind=kind, digest=identifier_index(kind, value)))
    PersonIndex.objects.bulk_create(rows)


def _identifiers_save(person: Person, identifiers: dict[str, str]) -> dict[str, str]:
    """Store the given identifiers (empty value removes one); return all of the person's."""
    for kind, value in identifiers.items():
        if kind not in [k.value for k in IDENTIFIER_KINDS]:
            raise ValidationError({"identifiers": f"Unknown identifier '{kind}'"})
        if normalise_identifier(value):
            PersonIdentifier.objects.update_or_create(person=person, kind=kind, defaults={"value": value.strip()})
        else:
            PersonIdentifier.objects.filter(person=person, kind=kind).delete()
    return {i.kind: i.value for i in person.identifiers.all()}


@transaction.atomic
def person_register(*, user, purpose: str, identifiers: dict[str, str] | None = None, **values) -> Person:
    """Add a person to the register on behalf of the user's organisation."""
    if not access._may_act(user, access.CHANGE):
        raise PermissionDenied("Your account cannot add people to the register.")
    _check_person(values)
    unknown = set(values) - set(PERSON_FIELDS)
    if unknown:
        raise ValueError(f"Unknown person fields: {', '.join(sorted(unknown))}")
    person = Person(created_by_organisation_id=user.organisation_id)
    for name, value in values.items():
        setattr(person, name, value)
    person.save()
    all_identifiers = _identifiers_save(person, identifiers or {})
    _indexes_rebuild(person, all_identifiers)
    audit_event(user=user, action=AuditAction.CREATE, record_type="person", record_id=person.pk,
                record_label=_label(person), fields=[*values, *(f"identifier:{k}" for k in identifiers or {})], purpose=purpose)
    return person


@transaction.atomic
def person_update(*, user, person_id: int, purpose: str, identifiers: dict[str, str] | None = None, **values) -> Person:
    person = person_get_for_change(user=user, person_id=person_id)
    if person.anonymised_at:
        raise ValidationError("This person's record has been anonymised under the retention schedule")
    merged = {name: getattr(person, name) for name in PERSON_FIELDS} | values
    _check_person(merged)
    changed = [name for name, value in values.items() if getattr(person, name) != value]
    for name, value in values.items():
        setattr(person, name, value)
    person.save()
    before = {i.kind: i.value for i in person.identifiers.all()}
    all_identifiers = _identifiers_save(person, identifiers or {})
    changed += [f"identifier:{k}" for k in set(before) | set(all_identifiers) if before.get(k) != all_identifiers.get(k)]
    _indexes_rebuild(person, all_identifiers)
    audit_event(user=user, action=AuditAction.UPDATE, record_type="person", record_id=person.pk,
                record_label=_label(person), fields=changed, purpose=purpose)
    return person


def person_get_for_change(*, user, person_id: int) -> Person:
    person = Person.objects.restrict(user, access.CHANGE).filter(pk=person_id).first()
    if person is None:
        raise Http404("No such person")
    return person


@transaction.atomic
def person_view(*, user, person_id: int, purpose: str = "") -> Person:
    """One person's record, for the user to read. Outside scope it does not exist (404)."""
    person = Person.objects.restrict(user, access.VIEW).filter(pk=person_id).prefetch_related("identifiers").first()
    if person is None:
        raise Http404("No such person")
    audit_event(user=user, action=AuditAction.VIEW, record_type="person", record_id=person.pk,
                record_label=_label(person), purpose=purpose)
    return person


@transaction.atomic
def person_search(*, user, first_name: str = "", last_name: str = "", date_of_birth: dt.date | None = None,
                  identifier_kind: str = "", identifier: str = "", purpose: str = "") -> list[Person]:
    """Exact matches on name + date of birth (or an alias) or on an identifier, within the user's
    scope. The audit event records the digests searched for, never the names."""
    digests = []
    if identifier_kind and normalise_identifier(identifier):
        digests.append((identifier_kind, identifier_index(identifier_kind, identifier)))
    if normalise_name(first_name) and normalise_name(last_name) and date_of_birth:
        digest = name_dob_index(first_name, last_name, date_of_birth)
        digests += [(IndexKind.NAME_DOB, digest), (IndexKind.ALIAS_DOB, digest)]
    if not digests:
        raise ValidationError("Enter a first name, last name and date of birth, or an identifier")
    ids = set()
    for kind, digest in digests:
        ids |= set(PersonIndex.objects.filter(kind=kind, digest=digest).values_list("person_id", flat=True))
    people = list(Person.objects.restrict(user, access.VIEW).filter(pk__in=ids).order_by("pk"))
    audit_event(user=user, action=AuditAction.SEARCH, record_type="person", purpose=purpose,
                detail={"by": sorted({str(k) for k, _ in digests}), "digests": sorted({d[:16] for _, d in digests}),
                        "results": [p.pk for p in people]})
    return people


@transaction.atomic
def case_open(*, user, kind: str, reference: str, purpose: str, summary: str = "", parties: list | None = None) -> Case:
    """Open a case owned by the user's organisation, which is its first party."""
    if not access._may_act(user, access.CHANGE) or not user.organisation_id:
        raise PermissionDenied("Your account cannot open cases.")
    if Case.objects.filter(reference=reference).exists():
        raise ValidationError({"reference": f"A case with the reference {reference} already exists"})
    case = Case.objects.create(kind=kind, reference=reference, summary=summary, owner_id=user.organisation_id)
    CaseParty.objects.create(case=case, organisation_id=user.organisation_id, reason="Owner")
    for organisation in parties or []:
        CaseParty.objects.get_or_create(case=case, organisation=organisation, defaults={"reason": "Party"})
    audit_event(user=user, action=AuditAction.CREATE, record_type="case", record_id=case.pk, record_label=case.reference,
                fields=["kind", "reference", "summary", "parties"], purpose=purpose)
    return case


def case_get(*, user, case_id: int, action: str = access.VIEW) -> Case:
    case = Case.objects.restrict(user, action).filter(pk=case_id).first()
    if case is None:
        raise Http404("No such case")
    return case


@transaction.atomic
def case_view(*, user, case_id: int, purpose: str = "") -> Case:
    case = case_get(user=user, case_id=case_id)
    audit_event(user=user, action=AuditAction.VIEW, record_type="case", record_id=case.pk, record_label=case.reference, purpose=purpose)
    return case


@transaction.atomic
def case_party_add(*, user, case_id: int, organisation, reason: str, lawful_basis: str,
                   agreement: InformationSharingAgreement | None = None) -> CaseParty:
    """Make another organisation party to a case: that is a disclosure, so it records its basis."""
    case = case_get(user=user, case_id=case_id, action=access.CHANGE)
    party, created = CaseParty.objects.get_or_create(case=case, organisation=organisation, defaults={"reason": reason})
    if created:
        disclosure_record(user=user, case=case, to_organisation=organisation, lawful_basis=lawful_basis,
                          agreement=agreement, purpose=reason)
    return party


@transaction.atomic
def case_participant_add(*, user, case_id: int, person_id: int, role: str, purpose: str) -> CaseParticipant:
    case = case_get(user=user, case_id=case_id, action=access.CHANGE)
    person = person_get_for_change(user=user, person_id=person_id)
    participant, _ = CaseParticipant.objects.get_or_create(case=case, person=person, role=role)
    audit_event(user=user, action=AuditAction.UPDATE, record_type="case", record_id=case.pk, record_label=case.reference,
                fields=[f"participant:{role}"], purpose=purpose, detail={"person": person.pk})
    return participant


@transaction.atomic
def case_close(*, user, case_id: int, purpose: str) -> Case:
    case = case_get(user=user, case_id=case_id, action=access.CHANGE)
    case.status, case.closed_at = CaseStatus.CLOSED, timezone.now()
    case.save(update_fields=["status", "closed_at"])
    audit_event(user=user, action=AuditAction.UPDATE, record_type="case", record_id=case.pk, record_label=case.reference,
                fields=["status", "closed_at"], purpose=purpose)
    return case


@transaction.atomic
def disclosure_record(*, user, case: Case, to_organisation, lawful_basis: str, purpose: str,
                      person: Person | None = None, agreement: InformationSharingAgreement | None = None) -> Disclosure:
    if lawful_basis not in LawfulBasis.values:
        raise ValidationError({"lawful_basis": "Select the lawful basis for sharing"})
    if not purpose.strip():
        raise ValidationError({"purpose": "Say why the information is being shared"})
    if agreement is not None and lawful_basis not in (agreement.lawful_bases or []):
        raise ValidationError({"agreement": f"The {agreement} does not cover sharing on the basis of {LawfulBasis(lawful_basis).label.lower()}"})
    disclosure = Disclosure.objects.create(
        case=case, person=person, from_organisation_id=user.organisation_id, to_organisation=to_organisation,
        lawful_basis=lawful_basis, agreement=agreement, purpose=purpose.strip(), by=user)
    audit_event(user=user, action=AuditAction.DISCLOSE, record_type="case", record_id=case.pk, record_label=case.reference,
                purpose=LawfulBasis(lawful_basis).label,
                detail={"to": to_organisation.name, "agreement": agreement.name if agreement else "", "person": person.pk if person else None})
    return disclosure


@transaction.atomic
def break_glass_open(*, user, case_id: int, reason: str) -> BreakGlassAccess:
    """Open a case outside the user's scope for a stated reason: granted for a short time, flagged
    in the audit trail and listed for the user's organisation's data protection lead."""
    from saferhub.partners.models import PersonalDataScope

    if not user.is_authenticated or user.personal_data_scope == PersonalDataScope.NONE:
        raise PermissionDenied("Your account has no access to personal data.")
    if len(reason.strip()) < 20:
        raise ValidationError({"reason": "Explain in at least 20 characters why you need to open this record"})
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        raise Http404("No such case")
    grant = BreakGlassAccess.objects.create(user=user, case=case, reason=reason.strip(),
                                            expires_at=timezone.now() + timedelta(hours=BREAK_GLASS_HOURS))
    audit_event(user=user, action=AuditAction.BREAK_GLASS, record_type="case", record_id=case.pk, record_label=case.reference,
                purpose=reason.strip()[:300], detail={"grant": grant.pk, "expires_at": grant.expires_at.isoformat()})
    return grant


def _legal_hold_case(*, user, case_id: int) -> Case:
    """The case, locked, if the user may put it under legal hold or release it: an administrator
    for any case, a data protection lead for cases their organisation is party to."""
    from saferhub.partners.models import Role

    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied("Sign in to change a legal hold.")
    cases = Case.objects.select_for_update()
    if not user.has_role(Role.ADMINISTRATOR):
        if not (user.is_data_protection_lead and user.organisation_id):
            raise PermissionDenied("Only a data protection lead or an administrator can change a legal hold.")
        cases = cases.filter(pk__in=CaseParty.objects.filter(organisation_id=user.organisation_id).values("case_id"))
    case = cases.filter(pk=case_id).first()
    if case is None:
        raise Http404("No such case")
    return case


@transaction.atomic
def case_legal_hold_set(*, user, case_id: int, reason: str) -> Case:
    """Put a case under legal hold: the retention schedule keeps it, however long it is past due,
    until the hold is cleared."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the case must be kept, such as the proceedings it is needed for"})
    if len(reason) > 300:
        raise ValidationError({"reason": "The reason must be 300 characters or fewer"})
    case = _legal_hold_case(user=user, case_id=case_id)
    case.legal_hold, case.legal_hold_reason = True, reason
    case.save(update_fields=["legal_hold", "legal_hold_reason"])
    audit_event(user=user, action=AuditAction.UPDATE, record_type="case", record_id=case.pk, record_label=case.reference,
                fields=["legal_hold", "legal_hold_reason"], purpose=f"Legal hold set: {reason}")
    return case


@transaction.atomic
def case_legal_hold_clear(*, user, case_id: int, reason: str) -> Case:
    """Release a case from legal hold; from then on its retention schedule applies again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the legal hold is no longer needed"})
    case = _legal_hold_case(user=user, case_id=case_id)
    if not case.legal_hold:
        raise ValidationError("This case is not under legal hold")
    case.legal_hold, case.legal_hold_reason = False, ""
    case.save(update_fields=["legal_hold", "legal_hold_reason"])
    audit_event(user=user, action=AuditAction.UPDATE, record_type="case", record_id=case.pk, record_label=case.reference,
                fields=["legal_hold", "legal_hold_reason"], purpose=f"Legal hold cleared: {reason}"[:300])
    return case
