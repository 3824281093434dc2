"""Reads and writes of the people register and cases. Each one checks access through
`restrict(user, action)`, writes an audit event in the same transaction, and never puts personal
data into the audit trail (field names only; searches as blind-index digests)."""
from __future__ import annotations

import datetime as dt
import logging
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from saferhub.audit.models import AuditAction
from saferhub.audit.trail import audit_event
from saferhub.core.encryption import identifier_index, name_dob_index, normalise_identifier, normalise_name
from saferhub.people import access
from saferhub.people.blocking import blocking_keys
from saferhub.people.models import (
    IDENTIFIER_KINDS, BreakGlassAccess, Case, CaseParticipant, CaseParty, CaseStatus, Disclosure, IndexKind,
    InformationSharingAgreement, LawfulBasis, Person, PersonIdentifier, PersonIndex,
)

BREAK_GLASS_HOURS = 24
logger = logging.getLogger(__name__)
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
    blocks = set(blocking_keys(person.first_name, person.last_name, person.date_of_birth))
    for alias in person.aliases or []:
        blocks |= set(blocking_keys(alias.get("first_name", ""), alias.get("last_name", ""), person.date_of_birth))
    rows += [PersonIndex(person=person, kind=kind, digest=digest) for kind, digest in sorted(blocks)]
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
    if agreement is not None:
        signed = set(agreement.parties.values_list("pk", flat=True))
        if user.organisation_id not in signed or to_organisation.pk not in signed:
            raise ValidationError({"agreement": f"Both organisations must be parties to the {agreement}"})
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
                purpose="Break-glass: reason recorded with the grant",
                detail={"grant": grant.pk, "expires_at": grant.expires_at.isoformat()})
    transaction.on_commit(lambda: break_glass_notify(grant_id=grant.pk))
    return grant


def break_glass_notify(*, grant_id: int) -> int:
    """Email the data protection leads of the user's organisation that a case was opened by
    break-glass. Only the case reference and the member of staff are named: the reason may hold
    personal data, so it stays in Saferhub's report. Returns how many leads were told."""
    from saferhub.partners.models import User

    grant = BreakGlassAccess.objects.select_related("user__organisation", "case").get(pk=grant_id)
    if not grant.user.organisation_id:
        return 0
    leads = list(User.objects.filter(organisation_id=grant.user.organisation_id, is_data_protection_lead=True,
                                     is_active=True).exclude(email="").values_list("email", flat=True))
    if not leads:
        return 0
    at = timezone.localtime(grant.at)
    message = (
        f"{grant.user.display_name} ({grant.user.username}) of {grant.user.organisation.name} opened case "
        f"{grant.case.reference} by break-glass on {at:%d %B %Y} at {at:%H:%M}.\n\n"
        f"Their reason, and a place to record your review, are in Saferhub's break-glass report: "
        f"{reverse('people:break_glass_report')}\n"
    )
    try:
        send_mail(f"Break-glass access to case {grant.case.reference}", message, None, leads)
    except Exception:
        # The grant stands and is listed in the report whether or not the email leaves.
        logger.exception("Could not email the data protection leads about break-glass grant %s", grant_id)
        return 0
    return len(leads)


@transaction.atomic
def break_glass_open_by_reference(*, user, reference: str, reason: str) -> tuple[Case, BreakGlassAccess | None]:
    """Break-glass to a case named by its reference. Only someone who already knows a reference and
    states a reason learns whether it exists. The grant is None when the user may already see the
    case, so none is needed."""
    from saferhub.partners.models import PersonalDataScope

    if not user.is_authenticated or user.personal_data_scope == PersonalDataScope.NONE:
        raise PermissionDenied("Your account has no access to personal data.")
    errors = {}
    if len((reason or "").strip()) < 20:
        errors["reason"] = "Explain in at least 20 characters why you need to open this record"
    case = Case.objects.filter(reference__iexact=(reference or "").strip()).first()
    if case is None:
        errors["reference"] = "No case has that reference"
    if errors:
        raise ValidationError(errors)
    if Case.objects.restrict(user, access.VIEW).filter(pk=case.pk).exists():
        return case, None
    return case, break_glass_open(user=user, case_id=case.pk, reason=reason)


@transaction.atomic
def break_glass_review(*, user, grant_id: int, note: str) -> BreakGlassAccess:
    """A data protection lead records that they have looked at a break-glass grant by their own
    organisation's staff. Anyone else is told the grant does not exist."""
    grant = BreakGlassAccess.objects.select_related("case").filter(
        pk=grant_id, user__organisation_id=user.organisation_id).first() if _is_data_protection_lead(user) else None
    if grant is None:
        raise Http404("No such break-glass grant")
    if not (note or "").strip():
        raise ValidationError({"note": "Enter a note on your review"})
    grant.reviewed_by, grant.reviewed_at, grant.review_note = user, timezone.now(), note.strip()
    grant.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
    audit_event(user=user, action=AuditAction.UPDATE, record_type="break_glass", record_id=grant.pk,
                record_label=grant.case.reference, fields=["reviewed_by", "reviewed_at", "review_note"],
                purpose="Data protection review of break-glass access")
    return grant


def _is_data_protection_lead(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_data_protection_lead and user.organisation_id)


@transaction.atomic
def case_disclosure_record(*, user, case_id: int, to_organisation, lawful_basis: str, purpose: str,
                           person_id: int | None = None, agreement: InformationSharingAgreement | None = None) -> Disclosure:
    """Record sharing a case (or one person in it) with another organisation, by someone who may
    change the case."""
    case = case_get(user=user, case_id=case_id, action=access.CHANGE)
    person = None
    if person_id is not None:
        person = Person.objects.filter(pk=person_id, participations__case=case).distinct().first()
        if person is None:
            raise ValidationError({"person": "Select a person in this case"})
    return disclosure_record(user=user, case=case, to_organisation=to_organisation, lawful_basis=lawful_basis,
                             purpose=purpose, person=person, agreement=agreement)


CASE_REFERENCE_PREFIXES = {
    "marac": "MARAC", "matac": "MATAC", "encompass": "ENC", "protective_order": "PO", "prison_block": "PCB",
    "dhr": "DHR", "scrutiny": "SCR", "other": "CASE",
}


def case_reference_next(*, kind: str, year: int | None = None) -> str:
    """The next free reference for a kind of case this year, such as MARAC-2026-0042."""
    year = year or timezone.localdate().year
    stem = f"{CASE_REFERENCE_PREFIXES.get(kind, 'CASE')}-{year}-"
    taken = set(Case.objects.filter(reference__startswith=stem).values_list("reference", flat=True))
    number = len(taken) + 1
    while f"{stem}{number:04d}" in taken:
        number += 1
    return f"{stem}{number:04d}"


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
