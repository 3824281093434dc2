"""Writes of MARAC referrals: a referral from any agency (checked field by field, then written in
one transaction as a people.Case with its people, answers, score and criteria) and the coordinator's
decision to accept or decline it. Each writes its audit event in the same transaction and never
puts personal values into it."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from saferhub.audit.models import AuditAction
from saferhub.audit.trail import audit_event
from saferhub.core.encryption import name_dob_index, normalise_name
from saferhub.marac import criteria
from saferhub.marac.checklist_services import checklist_current, checklist_questions
from saferhub.marac.models import (
    Answer, ChecklistAnswer, MaracArea, MaracReferral, ReferralChild, ReferralStatus, RiskChecklist,
)
from saferhub.partners.models import Organisation, PersonalDataScope, Role
from saferhub.people import access
from saferhub.people import services as people_services
from saferhub.people.models import CaseKind, IndexKind, LawfulBasis, ParticipantRole, Person
from saferhub.people.vocabulary import CHARACTERISTICS

REFERRAL_PURPOSE = "MARAC referral (safeguarding)"
CHILD_MAX_AGE = 17
VICTIM_MIN_AGE = 16
MAX_PERPETRATORS = 5
MAX_CHILDREN = 12
MAX_INCIDENTS = 999
NAME_MAX = 100
COMMENT_MAX = 2000
TEXT_MAX = 5000
SCHOOL_MAX = 200


@dataclass
class PersonInput:
    """What the referrer says about one person. Characteristics are the codes of people.vocabulary."""

    first_name: str = ""
    last_name: str = ""
    date_of_birth: dt.date | None = None
    gender: str = ""
    ethnicity: str = ""
    disability: str = ""
    sexuality: str = ""

    def values(self) -> dict:
        return {"first_name": self.first_name.strip(), "last_name": self.last_name.strip(),
                "date_of_birth": self.date_of_birth, "gender": self.gender, "ethnicity": self.ethnicity,
                "disability": self.disability, "sexuality": self.sexuality}


@dataclass
class ChildInput(PersonInput):
    age: int | None = None
    school: str = ""
    school_organisation: Organisation | None = None


@dataclass
class ReferralInput:
    """A referral as typed on the form or sent to the API. `answers` maps a question's key to
    (answer, comment); `date` fields are already dates (the form and the API parse them)."""

    victim: PersonInput
    perpetrators: list[PersonInput]
    children: list[ChildInput] = field(default_factory=list)
    answers: dict[str, tuple[str, str]] = field(default_factory=dict)
    assessed_on: dt.date | None = None
    incidents_in_window: int | None = None
    professional_judgement: bool = False
    professional_judgement_reasons: str = ""
    safe_contact_details: str = ""
    safe_to_call: bool = False


def age_on(date_of_birth: dt.date, day: dt.date) -> int:
    return day.year - date_of_birth.year - ((day.month, day.day) < (date_of_birth.month, date_of_birth.day))


def may_refer(user) -> bool:
    """A contributor (or above) with access to personal data, on behalf of their organisation."""
    return access._may_act(user, access.CHANGE) and bool(user.organisation_id)


def _check_person(errors: dict, prefix: str, noun: str, person: PersonInput, today: dt.date, *, dob_required: bool) -> None:
    for part, words in (("first_name", "first name"), ("last_name", "last name")):
        value = (getattr(person, part) or "").strip()
        if not normalise_name(value):
            errors.setdefault(f"{prefix}.{part}", f"Enter the {noun}'s {words}")
        elif len(value) > NAME_MAX:
            errors.setdefault(f"{prefix}.{part}", f"The {noun}'s {words} must be {NAME_MAX} characters or fewer")
    if person.date_of_birth is None:
        if dob_required:
            errors.setdefault(f"{prefix}.date_of_birth", f"Enter the {noun}'s date of birth")
    elif person.date_of_birth > today:
        errors.setdefault(f"{prefix}.date_of_birth", f"The {noun}'s date of birth must be in the past")
    elif person.date_of_birth.year < 1900:
        errors.setdefault(f"{prefix}.date_of_birth", f"The {noun}'s date of birth must be after 1900")
    for name, answers in CHARACTERISTICS.items():
        value = getattr(person, name) or ""
        if value and value not in dict(answers):
            errors.setdefault(f"{prefix}.{name}", f"Select the {noun}'s {name} from the list")


def referral_input_check(*, area: MaracArea | None, checklist: RiskChecklist, referral: ReferralInput,
                         today: dt.date | None = None) -> dict[str, str]:
    """Every problem with a referral, keyed by field ('victim.date_of_birth', 'children.0.age',
    'answers.stalking', …). The form and the API show these against the fields they name."""
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    if area is None:
        errors["area"] = "Select the MARAC area"
    elif not area.active:
        errors["area"] = f"{area.name} no longer takes referrals"
    _check_person(errors, "victim", "victim", referral.victim, today, dob_required=True)
    dob = referral.victim.date_of_birth
    if dob is not None and "victim.date_of_birth" not in errors and age_on(dob, today) < VICTIM_MIN_AGE:
        errors["victim.date_of_birth"] = (f"The victim must be {VICTIM_MIN_AGE} or over for a MARAC; refer younger "
                                          f"people to children's social care")
    if not referral.perpetrators:
        errors["perpetrators"] = "Enter at least one perpetrator"
    elif len(referral.perpetrators) > MAX_PERPETRATORS:
        errors["perpetrators"] = f"Enter at most {MAX_PERPETRATORS} perpetrators"
    for index, perpetrator in enumerate(referral.perpetrators[:MAX_PERPETRATORS]):
        _check_person(errors, f"perpetrators.{index}", f"perpetrator {index + 1}" if index else "perpetrator",
                      perpetrator, today, dob_required=False)
    if len(referral.children) > MAX_CHILDREN:
        errors["children"] = f"Enter at most {MAX_CHILDREN} children; put any others in the comments"
    for index, child in enumerate(referral.children[:MAX_CHILDREN]):
        prefix, noun = f"children.{index}", f"child {index + 1}"
        _check_person(errors, prefix, noun, child, today, dob_required=False)
        age = child.age
        if age is None and child.date_of_birth is not None and f"{prefix}.date_of_birth" not in errors:
            age = age_on(child.date_of_birth, today)
        if age is None:
            errors.setdefault(f"{prefix}.age", f"Enter the age of {noun}")
        elif age < 0:
            errors.setdefault(f"{prefix}.age", f"The age of {noun} must be 0 or more")
        elif age > CHILD_MAX_AGE:
            errors.setdefault(f"{prefix}.age", f"{noun.capitalize()} is older than {CHILD_MAX_AGE}: record adults in the "
                                               f"household in the comments, not as children")
        if child.date_of_birth is not None and f"{prefix}.date_of_birth" not in errors \
                and age_on(child.date_of_birth, today) > CHILD_MAX_AGE:
            errors.setdefault(f"{prefix}.date_of_birth", f"{noun.capitalize()}'s date of birth makes them older than "
                                                         f"{CHILD_MAX_AGE}")
        if len(child.school or "") > SCHOOL_MAX:
            errors.setdefault(f"{prefix}.school", f"The school of {noun} must be {SCHOOL_MAX} characters or fewer")
    _check_answers(errors, checklist, referral.answers)
    if referral.assessed_on is None:
        errors["assessed_on"] = "Enter the date the risk checklist was completed"
    elif referral.assessed_on > today:
        errors["assessed_on"] = "The date the risk checklist was completed must be today or in the past"
    elif dob is not None and referral.assessed_on < dob:
        errors["assessed_on"] = "The date the risk checklist was completed must be after the victim's date of birth"
    incidents = referral.incidents_in_window
    if incidents is None:
        errors["incidents_in_window"] = "Enter the number of incidents, 0 if there were none"
    elif not 0 <= incidents <= MAX_INCIDENTS:
        errors["incidents_in_window"] = f"The number of incidents must be between 0 and {MAX_INCIDENTS}"
    reasons = (referral.professional_judgement_reasons or "").strip()
    if referral.professional_judgement and not reasons:
        errors["professional_judgement_reasons"] = "Give your reasons for referring on professional judgement"
    elif len(reasons) > TEXT_MAX:
        errors["professional_judgement_reasons"] = f"The reasons must be {TEXT_MAX:,} characters or fewer"
    contact = (referral.safe_contact_details or "").strip()
    if referral.safe_to_call and not contact:
        errors["safe_contact_details"] = "Enter a safe number or way to contact the victim, as it is safe to call"
    elif len(contact) > TEXT_MAX:
        errors["safe_contact_details"] = f"The safe contact details must be {TEXT_MAX:,} characters or fewer"
    return errors


def _check_answers(errors: dict, checklist: RiskChecklist, answers: dict[str, tuple[str, str]]) -> None:
    main, stalking = checklist_questions(checklist)
    known = {q.key for q in main + stalking}
    for key in sorted(set(answers) - known):
        errors.setdefault("answers", f"The checklist (version {checklist.version}) has no question '{key}'")
    screen_open = any(answers.get(q.key, ("", ""))[0] == Answer.YES for q in main if q.triggers_stalking_screen)
    for question in main + (stalking if screen_open else []):
        answer, comment = answers.get(question.key, ("", ""))
        where = "the stalking screen's" if question.section == "stalking" else "the checklist's"
        if answer not in Answer.values:
            errors[f"answers.{question.key}"] = (f"Answer {where} question {question.number} ({question.topic}): "
                                                 f"yes, no or not known")
        elif len(comment or "") > COMMENT_MAX:
            errors[f"answers.{question.key}"] = f"The comment on {where} question {question.number} must be {COMMENT_MAX:,} characters or fewer"


def _person_for(*, user, person: PersonInput) -> Person:
    """The register's record of this person if one the user may change matches exactly on the
    blind index of name and date of birth; otherwise a new record."""
    values = person.values()
    if values["date_of_birth"] is not None:
        digest = name_dob_index(values["first_name"], values["last_name"], values["date_of_birth"])
        matches = list(Person.objects.restrict(user, access.CHANGE).filter(
            indexes__kind=IndexKind.NAME_DOB, indexes__digest=digest, anonymised_at__isnull=True).distinct()[:2])
        if len(matches) == 1:
            return matches[0]
    return people_services.person_register(user=user, purpose=REFERRAL_PURPOSE, **values)


def area_get(*, slug: str | None = None, area_id: int | None = None) -> MaracArea | None:
    areas = MaracArea.objects.select_related("coordinating_organisation").filter(active=True)
    if slug is not None:
        return areas.filter(slug=slug).first()
    return areas.filter(pk=area_id).first() if area_id is not None else None


@transaction.atomic
def referral_submit(*, user, area: MaracArea | None, referral: ReferralInput, api_token=None) -> MaracReferral:
    """Refer a victim to a MARAC for the user's organisation: opens the MARAC case (owned by the
    referring organisation, shared with the area's coordinating organisation on the lawful basis of
    safeguarding), adds the people, records the checklist, score and criteria, and looks for an
    earlier referral of the same victim and perpetrator. All or nothing: any problem raises
    ValidationError keyed by field and nothing is kept. `api_token` is the accounts.ApiToken a
    partner's system sent it with, named (prefix and name, never the token) in the audit event."""
    if not may_refer(user):
        raise PermissionDenied("Your account cannot make MARAC referrals.")
    checklist = checklist_current()
    errors = referral_input_check(area=area, checklist=checklist, referral=referral)
    if errors:
        raise ValidationError(errors)
    case = people_services.case_open(user=user, kind=CaseKind.MARAC, purpose=REFERRAL_PURPOSE,
                                     reference=people_services.case_reference_next(kind=CaseKind.MARAC))
    coordinating = area.coordinating_organisation
    people_services.case_party_add(user=user, case_id=case.pk, organisation=coordinating,
                                   reason=f"Coordinates {area.name}", lawful_basis=LawfulBasis.SAFEGUARDING)
    participants = [(referral.victim, ParticipantRole.VICTIM)] + [(p, ParticipantRole.PERPETRATOR) for p in referral.perpetrators]
    child_people = []
    for person_input, role in participants + [(c, ParticipantRole.CHILD) for c in referral.children]:
        person = _person_for(user=user, person=person_input)
        people_services.case_participant_add(user=user, case_id=case.pk, person_id=person.pk, role=role,
                                             purpose=REFERRAL_PURPOSE)
        if role == ParticipantRole.CHILD:
            child_people.append((person_input, person))
    main, stalking = checklist_questions(checklist)
    screen_open = any(referral.answers.get(q.key, ("", ""))[0] == Answer.YES for q in main if q.triggers_stalking_screen)
    asked = main + (stalking if screen_open else [])
    score = sum(1 for q in main if referral.answers[q.key][0] == Answer.YES)
    record = MaracReferral.objects.create(
        case=case, area=area, referring_organisation_id=user.organisation_id, referred_by=user, referred_at=timezone.now(),
        checklist=checklist, score=score, assessed_on=referral.assessed_on,
        incidents_in_window=referral.incidents_in_window, professional_judgement=referral.professional_judgement,
        professional_judgement_reasons=referral.professional_judgement_reasons.strip(),
        safe_contact_details=referral.safe_contact_details.strip(), safe_to_call=referral.safe_to_call,
        has_children=bool(referral.children))
    ChecklistAnswer.objects.bulk_create([
        ChecklistAnswer(referral=record, question=q, answer=referral.answers[q.key][0],
                        comment=(referral.answers[q.key][1] or "").strip()) for q in asked])
    today = timezone.localdate()
    ReferralChild.objects.bulk_create([
        ReferralChild(referral=record, person=person, school=(child.school or "").strip(),
                      school_organisation=child.school_organisation,
                      age_at_referral=child.age if child.age is not None else age_on(child.date_of_birth, today))
        for child, person in child_people])
    finder = criteria.repeat_finder()
    if finder is not None:
        finder(referral=record)
        record.refresh_from_db(fields=["is_repeat", "repeat_of"])
    results = criteria.criteria_evaluate(
        area=area, score=score, incidents=referral.incidents_in_window, judgement_chosen=referral.professional_judgement,
        judgement_reasons=referral.professional_judgement_reasons, is_repeat=record.is_repeat)
    met = criteria.criteria_met(results)
    if not met:
        raise ValidationError({"criteria": criteria.criteria_refusal(area)})
    record.criteria_met, record.criteria_explained = met, [r.as_dict() for r in results]
    record.save(update_fields=["criteria_met", "criteria_explained"])
    audit_event(user=user, action=AuditAction.CREATE, record_type="marac_referral", record_id=record.pk,
                record_label=case.reference, purpose=REFERRAL_PURPOSE,
                fields=["area", "victim", "perpetrators", "children", "answers", "score", "criteria", "assessed_on",
                        "incidents_in_window", "professional_judgement", "safe_contact_details", "safe_to_call"],
                detail={"area": area.slug, "checklist": checklist.pk, "score": score, "criteria": met,
                        "children": len(referral.children), "perpetrators": len(referral.perpetrators),
                        **({"api_token": {"id": api_token.pk, "prefix": api_token.prefix, "name": api_token.name,
                                          "scope": api_token.scope}} if api_token is not None else {})})
    return record


# The coordinator's decision ---------------------------------------------------------------------

def coordinates(user, area: MaracArea) -> bool:
    """Named as one of the area's coordinators, or a contributor (or above) of its coordinating
    organisation with access to personal data."""
    if not (user.is_authenticated and user.is_active) or user.personal_data_scope == PersonalDataScope.NONE:
        return False
    if area.coordinators.filter(pk=user.pk).exists():
        return True
    return user.organisation_id == area.coordinating_organisation_id and user.has_role(Role.CONTRIBUTOR)


def _referral_for_decision(*, user, referral_id: int) -> MaracReferral:
    referral = (MaracReferral.objects.restrict(user, access.CHANGE).select_for_update(of=("self",))
                .select_related("area", "case").filter(pk=referral_id).first())
    if referral is None or not coordinates(user, referral.area):
        raise Http404("No such referral")
    if referral.status != ReferralStatus.SUBMITTED:
        raise ValidationError(f"This referral has already been {referral.get_status_display().lower()}")
    return referral


@transaction.atomic
def referral_accept(*, user, referral_id: int) -> MaracReferral:
    """The coordinator accepts a referral: it waits for the area's next meeting agenda."""
    referral = _referral_for_decision(user=user, referral_id=referral_id)
    referral.status, referral.decided_by, referral.decided_at = ReferralStatus.ACCEPTED, user, timezone.now()
    referral.save(update_fields=["status", "decided_by", "decided_at"])
    audit_event(user=user, action=AuditAction.UPDATE, record_type="marac_referral", record_id=referral.pk,
                record_label=referral.case.reference, fields=["status", "decided_by", "decided_at"],
                purpose="MARAC referral accepted by the coordinator")
    return referral


@transaction.atomic
def referral_decline(*, user, referral_id: int, reason: str) -> MaracReferral:
    """The coordinator declines a referral, giving a reason; its case is closed."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for declining the referral"})
    if len(reason) > TEXT_MAX:
        raise ValidationError({"reason": f"The reason must be {TEXT_MAX:,} characters or fewer"})
    referral = _referral_for_decision(user=user, referral_id=referral_id)
    referral.status, referral.decided_by, referral.decided_at = ReferralStatus.DECLINED, user, timezone.now()
    referral.decision_reason = reason
    referral.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    audit_event(user=user, action=AuditAction.UPDATE, record_type="marac_referral", record_id=referral.pk,
                record_label=referral.case.reference, fields=["status", "decided_by", "decided_at", "decision_reason"],
                purpose="MARAC referral declined by the coordinator")
    people_services.case_close(user=user, case_id=referral.case_id, purpose="MARAC referral declined")
    return referral
