"""Retention: when a closed case has been kept as long as its schedule says, delete it or keep only
an anonymised shell of it; never while it is under legal hold. Every case dealt with, and every
run, is written to the audit trail.

A case is anonymised at most once: Case.anonymised_at marks it."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from saferhub.audit.models import AuditAction
from saferhub.audit.trail import audit_event
from saferhub.core.encryption import EncryptedJSONField, EncryptedTextField, encrypted_fields
from saferhub.core.formatting import date_uk
from saferhub.people.models import (
    BreakGlassAccess, Case, CaseKind, CaseParticipant, CaseParty, CaseStatus, Disclosure, Person, RetentionAction,
    RetentionSchedule,
)

logger = logging.getLogger(__name__)

ANONYMISED_NAME = "Anonymised"
REMOVED_TEXT = "Removed under the retention schedule"

# The schedules the demonstration starts with; the partnership sets its own in the admin.
DEFAULT_SCHEDULES = [
    (CaseKind.MARAC, 2192, RetentionAction.DELETE, "Six years after the case closed"),
    (CaseKind.MATAC, 2192, RetentionAction.DELETE, "Six years after the case closed"),
    (CaseKind.ENCOMPASS, 731, RetentionAction.DELETE, "Two years after the notification closed"),
    (CaseKind.DOMESTIC_HOMICIDE_REVIEW, 3653, RetentionAction.ANONYMISE,
     "Ten years after the review closed; the anonymised review is kept for learning"),
]


def default_schedules_load() -> int:
    """Create the default schedules that are missing; leave ones already set as they are.
    Returns how many were created."""
    created = 0
    for kind, days, action, note in DEFAULT_SCHEDULES:
        _, made = RetentionSchedule.objects.get_or_create(case_kind=kind, defaults={
            "keep_for_days": days, "action": action, "note": note})
        created += made
    return created


def anonymised_case_ids() -> set[int]:
    return set(Case.objects.filter(anonymised_at__isnull=False).values_list("pk", flat=True))


def _past_schedule(today: dt.date) -> Q:
    """Closed cases whose closing day plus their schedule's days is on or before `today`. A kind
    of case with no schedule matches nothing, so it is kept."""
    condition = Q(pk__in=[])
    for schedule in RetentionSchedule.objects.all():
        condition |= Q(kind=schedule.case_kind, closed_at__date__lte=today - timedelta(days=schedule.keep_for_days))
    return Q(status=CaseStatus.CLOSED, closed_at__isnull=False) & condition


def retention_due(today: dt.date):
    """Cases to delete or anonymise on `today`: past their schedule, not under legal hold, and not
    already anonymised."""
    return (Case.objects.filter(_past_schedule(today), legal_hold=False).exclude(pk__in=anonymised_case_ids())
            .order_by("closed_at", "pk"))


def retention_held(today: dt.date):
    """Cases that would be due on `today` but are under legal hold."""
    return (Case.objects.filter(_past_schedule(today), legal_hold=True).exclude(pk__in=anonymised_case_ids())
            .order_by("closed_at", "pk"))


@dataclass
class CaseOutcome:
    case_id: int
    reference: str
    kind: str
    action: str
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""

    def __str__(self) -> str:
        if self.error:
            return f"{self.reference}: not done ({self.error})"
        done = {"delete": "deleted", "anonymise": "anonymised"}[self.action]
        people = ", ".join(f"{self.counts.get(k, 0)} {k.removeprefix('people_')}" for k in
                           ("people_deleted", "people_anonymised", "people_kept"))
        return f"{self.reference} ({CaseKind(self.kind).label}): {done}; people: {people}"


@dataclass
class RetentionReport:
    today: dt.date
    dry_run: bool
    done: list[CaseOutcome] = field(default_factory=list)
    failed: list[CaseOutcome] = field(default_factory=list)
    held: list[tuple[int, str]] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for outcome in self.done if outcome.action == action)

    def lines(self) -> list[str]:
        verb = "would be" if self.dry_run else "were"
        lines = [f"Retention on {date_uk(self.today)}{' (dry run: nothing changed)' if self.dry_run else ''}: "
                 f"{self.count('delete')} cases {verb} deleted, {self.count('anonymise')} anonymised, "
                 f"{len(self.held)} kept under legal hold"]
        lines += [f"  {outcome}" for outcome in self.done]
        lines += [f"  {reference}: kept under legal hold" for _, reference in self.held]
        lines += [f"  {outcome}" for outcome in self.failed]
        return lines

    def as_dict(self) -> dict:
        return {
            "today": self.today.isoformat(), "dry_run": self.dry_run,
            "deleted": [o.reference for o in self.done if o.action == RetentionAction.DELETE],
            "anonymised": [o.reference for o in self.done if o.action == RetentionAction.ANONYMISE],
            "held": [reference for _, reference in self.held],
            "failed": {o.reference: o.error for o in self.failed},
        }


@dataclass
class _Plan:
    people_delete: list[int] = field(default_factory=list)
    people_anonymise: list[int] = field(default_factory=list)
    people_kept: list[int] = field(default_factory=list)


def _plan(case: Case, action: str, anonymised: set[int]) -> _Plan:
    """What happens to each person in `case`. Someone also in another case that still holds
    personal data is left alone; the rest are deleted with the case, or anonymised when a case
    shell (this one, or one anonymised before) still names them."""
    plan = _Plan()
    people = sorted(set(CaseParticipant.objects.filter(case=case).values_list("person_id", flat=True)))
    for person_id in people:
        elsewhere = set(CaseParticipant.objects.filter(person_id=person_id).exclude(case=case).values_list("case_id", flat=True))
        if elsewhere - anonymised:
            plan.people_kept.append(person_id)
        elif action == RetentionAction.DELETE and not elsewhere:
            plan.people_delete.append(person_id)
        else:
            plan.people_anonymise.append(person_id)
    return plan


def person_anonymise(person: Person) -> bool:
    """Replace a person's details with an anonymised record; False if it already was one."""
    if person.anonymised_at:
        return False
    person.first_name, person.last_name = ANONYMISED_NAME, ""
    person.aliases, person.addresses = [], []
    person.date_of_birth_text = person.gender = person.ethnicity = person.disability = person.sexuality = ""
    person.anonymised_at = timezone.now()
    person.save()
    person.identifiers.all().delete()
    person.indexes.all().delete()
    return True


def _blank_encrypted(instance) -> list[str]:
    """Empty every encrypted field of `instance`; return the names of those that held something."""
    blanked = []
    for model_field in encrypted_fields(type(instance)):
        value = getattr(instance, model_field.attname)
        if isinstance(model_field, EncryptedTextField):
            empty = None if model_field.null and value is None else ""
        elif isinstance(model_field, EncryptedJSONField):
            empty = model_field.get_default()
        else:
            continue
        if value not in ("", None, [], {}):
            setattr(instance, model_field.attname, empty)
            blanked.append(model_field.name)
    return blanked


def _other_case_records(case: Case) -> int:
    """Anonymise what other apps keep about the case (a referral, a risk assessment…): every
    encrypted field of a record that belongs to it. Returns how many records changed."""
    changed = 0
    own = {CaseParty, CaseParticipant, BreakGlassAccess, Disclosure}
    for relation in Case._meta.related_objects:
        if relation.many_to_many or relation.related_model in own or not encrypted_fields(relation.related_model):
            continue
        for record in relation.related_model._base_manager.filter(**{relation.field.name: case}):
            names = _blank_encrypted(record)
            if names:
                record.save(update_fields=names)
                changed += 1
    return changed


def _people_audit(ids: list[int], action: str, purpose: str) -> None:
    for person_id in ids:
        audit_event(user=None, action=action, record_type="person", record_id=person_id,
                    record_label=f"P{person_id:06d}", purpose=purpose)


def _apply_one(case_id: int, today: dt.date, dry_run: bool) -> CaseOutcome | None:
    """Delete or anonymise one case, if it is still due once locked. Runs in its own transaction."""
    case = Case.objects.select_for_update().filter(pk=case_id).first()
    anonymised = anonymised_case_ids()
    if case is None or case.legal_hold or case.pk in anonymised or not retention_due(today).filter(pk=case.pk).exists():
        return None
    schedule = RetentionSchedule.objects.get(case_kind=case.kind)
    plan = _plan(case, schedule.action, anonymised)
    outcome = CaseOutcome(case.pk, case.reference, case.kind, schedule.action)
    counts = outcome.counts
    counts.update(people_deleted=len(plan.people_delete), people_anonymised=len(plan.people_anonymise),
                  people_kept=len(plan.people_kept), participants=case.participants.count(),
                  parties=case.party_links.count(), disclosures=case.disclosures.count(),
                  break_glass=case.break_glass.count())
    if dry_run:
        return outcome
    purpose = f"Retention schedule: {schedule}"
    if schedule.action == RetentionAction.DELETE:
        Disclosure.objects.filter(case=case).delete()
        BreakGlassAccess.objects.filter(case=case).delete()
        CaseParty.objects.filter(case=case).delete()
        CaseParticipant.objects.filter(case=case).delete()
        case.delete()
        for person in Person.objects.filter(pk__in=plan.people_anonymise):
            person_anonymise(person)
        Person.objects.filter(pk__in=plan.people_delete).delete()
        audit_event(user=None, action=AuditAction.DELETE, record_type="case", record_id=outcome.case_id,
                    record_label=outcome.reference, purpose=purpose, detail=counts)
        _people_audit(plan.people_delete, AuditAction.DELETE, purpose)
    else:
        # Free text about the case may name people: the summary, break-glass reasons, review
        # notes and the purposes given for disclosures go; who shared with whom, and when, stays.
        case.summary = ""
        case.anonymised_at = timezone.now()
        case.save(update_fields=["summary", "anonymised_at"])
        counts["break_glass_reasons_removed"] = BreakGlassAccess.objects.filter(case=case).update(
            reason=REMOVED_TEXT, review_note="")
        counts["disclosure_purposes_removed"] = Disclosure.objects.filter(case=case).update(purpose=REMOVED_TEXT)
        counts["other_records_anonymised"] = _other_case_records(case)
        for person in Person.objects.filter(pk__in=plan.people_anonymise):
            person_anonymise(person)
        audit_event(user=None, action=AuditAction.ANONYMISE, record_type="case", record_id=case.pk,
                    record_label=case.reference, fields=["summary", "participants"], purpose=purpose, detail=counts)
    _people_audit(plan.people_anonymise, AuditAction.ANONYMISE, purpose)
    return outcome


def retention_apply(*, today: dt.date, dry_run: bool = False) -> RetentionReport:
    """Delete or anonymise every case due on `today`, each in its own transaction; skip and report
    those under legal hold. A case that cannot be dealt with (another record protects it) is
    reported and left as it was, and the others still go ahead. A dry run changes nothing."""
    report = RetentionReport(today=today, dry_run=dry_run)
    report.held = list(retention_held(today).values_list("pk", "reference"))
    for case_id, reference, kind in retention_due(today).values_list("pk", "reference", "kind"):
        try:
            with transaction.atomic():
                outcome = _apply_one(case_id, today, dry_run)
                if dry_run:
                    transaction.set_rollback(True)
        except Exception as error:
            logger.exception("Retention could not deal with case %s", reference)
            report.failed.append(CaseOutcome(case_id, reference, kind, "", error=f"{type(error).__name__}: {error}"))
            continue
        if outcome is not None:
            report.done.append(outcome)
    if not dry_run:
        with transaction.atomic():
            audit_event(user=None, action=AuditAction.LIST, record_type="retention", record_label="Retention run",
                        purpose="Retention schedule run; cases under legal hold kept",
                        detail={"today": today.isoformat(), "deleted": report.count(RetentionAction.DELETE),
                                "anonymised": report.count(RetentionAction.ANONYMISE),
                                "held": [reference for _, reference in report.held],
                                "failed": [o.reference for o in report.failed]})
    return report
