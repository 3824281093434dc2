"""Writes of MATAC casework: scheduling meetings, nominating (from a ranked list or a partner
referral), deciding at a meeting, adoption, the action plan, reviews and exit. Each checks access
through the case, runs in one transaction and writes one audit event naming fields, never values."""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from saferhub.audit.models import AuditAction, ChangeAction
from saferhub.audit.services import change_record
from saferhub.audit.trail import audit_event
from saferhub.core.encryption import identifier_index, normalise_identifier
from saferhub.matac.models import (
    Adoption, Decision, Exit, ExitReason, Intervention, MatacAction, MatacActionStatus, MatacMeeting, MatacPanel,
    MatacScore, MeetingStatus, Nomination, NominationDecision, NominationSource, NominationStatus, Pathway, Review,
    RiskView, ScoreStage,
)
from saferhub.matac import casework_scoring as scoring_bridge
from saferhub.partners.models import Organisation
from saferhub.people import access
from saferhub.people.models import Case, CaseKind, CaseParticipant, CaseParty, CaseStatus, IndexKind, ParticipantRole, Person
from saferhub.people.services import case_reference_next, person_register

MAX_SCHEDULE = 26
TEXT_LIMIT = 5000


# Who may do what --------------------------------------------------------------------------------

def panel_member_organisation_ids(panel: MatacPanel) -> set[int]:
    return {panel.police_id, *panel.members.values_list("pk", flat=True)}


def _panel_for_change(*, user, panel_id: int) -> MatacPanel:
    """The panel, if the user may work on it: someone who may change personal data, in the police
    force or a member agency. Anyone else is told it does not exist."""
    panel = MatacPanel.objects.filter(pk=panel_id, active=True).first()
    if panel is None or not access._may_act(user, access.CHANGE) or user.organisation_id not in panel_member_organisation_ids(panel):
        raise Http404("No such MATAC")
    return panel


def _nomination_for_change(*, user, nomination_id: int) -> Nomination:
    nomination = (Nomination.objects.restrict(user, access.CHANGE).select_related("case", "panel")
                  .select_for_update(of=("self",)).filter(pk=nomination_id).first())
    if nomination is None:
        raise Http404("No such nomination")
    return nomination


def _adoption_for_change(*, user, adoption_id: int) -> Adoption:
    adoption = (Adoption.objects.restrict(user, access.CHANGE).select_related("nomination__case", "nomination__panel")
                .filter(pk=adoption_id).first())
    if adoption is None:
        raise Http404("No such adoption")
    return adoption


def _open_adoption(*, user, adoption_id: int) -> Adoption:
    adoption = _adoption_for_change(user=user, adoption_id=adoption_id)
    if Exit.objects.filter(adoption=adoption).exists():
        raise ValidationError("This person has exited MATAC; the case is closed")
    return adoption


def _text(value: str | None, field: str, *, required: str = "") -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: required})
    if len(text) > TEXT_LIMIT:
        raise ValidationError({field: f"Write {TEXT_LIMIT:,} characters or fewer"})
    return text


def _audit(*, user, action: str, record_type: str, record_id, case: Case, fields, purpose: str, detail=None) -> None:
    audit_event(user=user, action=action, record_type=record_type, record_id=record_id, record_label=case.reference,
                fields=fields, purpose=purpose, detail=detail)


# Meetings ---------------------------------------------------------------------------------------

def meeting_dates(*, first: dt.date, interval_days: int, start: dt.date, count: int) -> list[dt.date]:
    """The next `count` meeting dates on or after `start`, every `interval_days` from `first`."""
    if interval_days < 1:
        raise ValidationError({"interval_days": "Meetings must be at least a day apart"})
    if start <= first:
        step = 0
    else:
        step = -(-(start - first).days // interval_days)
    return [first + dt.timedelta(days=interval_days * (step + i)) for i in range(count)]


@transaction.atomic
def meeting_schedule(*, user, panel_id: int, count: int = 6, start: dt.date | None = None) -> list[MatacMeeting]:
    """The panel's next `count` meetings from `start` (today by default), every 4 weeks (the
    panel's interval) from its first meeting date; those already held in the calendar are kept."""
    panel = _panel_for_change(user=user, panel_id=panel_id)
    if not 1 <= count <= MAX_SCHEDULE:
        raise ValidationError({"count": f"Schedule from 1 to {MAX_SCHEDULE} meetings at a time"})
    start = start or timezone.localdate()
    meetings = []
    for date in meeting_dates(first=panel.first_meeting_date, interval_days=panel.interval_days, start=start, count=count):
        meeting, created = MatacMeeting.objects.get_or_create(
            panel=panel, date=date, defaults={"venue": panel.default_venue, "chair_role": panel.chair_role})
        if created:
            change_record(actor=user, instance=meeting, action=ChangeAction.CREATE,
                          after={"panel": panel.slug, "date": date.isoformat(), "venue": meeting.venue, "chair_role": meeting.chair_role})
        meetings.append(meeting)
    return meetings


def _meeting_of(panel: MatacPanel, meeting_id: int | None, *, field: str = "meeting") -> MatacMeeting | None:
    if meeting_id in (None, ""):
        return None
    meeting = MatacMeeting.objects.filter(pk=meeting_id, panel=panel).first()
    if meeting is None:
        raise ValidationError({field: f"Select a meeting of the {panel.name} MATAC"})
    return meeting


# Nominations ------------------------------------------------------------------------------------

def _nominee(*, user, perpetrator_id: str, first_name: str, last_name: str, date_of_birth: dt.date | None,
             purpose: str) -> Person:
    """The person with this police nominal id on the register (within the user's scope), or a new
    entry for them when they are not there yet."""
    digest = identifier_index(IndexKind.POLICE_NOMINAL, perpetrator_id)
    person = (Person.objects.restrict(user, access.VIEW)
              .filter(indexes__kind=IndexKind.POLICE_NOMINAL, indexes__digest=digest).order_by("pk").first())
    if person is not None:
        return person
    if not (first_name or "").strip() or not (last_name or "").strip():
        raise ValidationError({"first_name": "This police nominal id is not on the register: enter the person's first and last name"})
    values = {"first_name": first_name.strip(), "last_name": last_name.strip()}
    if date_of_birth:
        values["date_of_birth"] = date_of_birth
    return person_register(user=user, purpose=purpose, identifiers={IndexKind.POLICE_NOMINAL: perpetrator_id}, **values)


def _open_case(*, user, panel: MatacPanel, person: Person, referring_organisation_id: int) -> Case:
    """A MATAC case owned by the police, with the member agencies (and the referrer) as parties."""
    already = Nomination.objects.filter(panel=panel, person=person, case__status=CaseStatus.OPEN).select_related("case").first()
    if already is not None:
        raise ValidationError({"perpetrator_id": f"This person already has an open MATAC case ({already.case.reference})"})
    case = Case.objects.create(kind=CaseKind.MATAC, reference=case_reference_next(kind=CaseKind.MATAC), owner_id=panel.police_id)
    CaseParty.objects.create(case=case, organisation_id=panel.police_id, reason="Owner: MATAC lead force")
    for organisation_id in sorted(panel_member_organisation_ids(panel) - {panel.police_id}):
        CaseParty.objects.get_or_create(case=case, organisation_id=organisation_id, defaults={"reason": "MATAC member agency"})
    CaseParty.objects.get_or_create(case=case, organisation_id=referring_organisation_id, defaults={"reason": "Referring agency"})
    CaseParticipant.objects.create(case=case, person=person, role=ParticipantRole.PERPETRATOR)
    audit_event(user=user, action=AuditAction.CREATE, record_type="case", record_id=case.pk, record_label=case.reference,
                fields=["kind", "reference", "parties", "participant:perpetrator"], purpose="MATAC nomination")
    return case


def _score_store(*, nomination: Nomination, stage: str, taken: scoring_bridge.TakenScore, run=None) -> MatacScore:
    score, _ = MatacScore.objects.update_or_create(
        nomination=nomination, stage=stage,
        defaults={"reference_date": taken.reference_date, "scheme_version": taken.scheme_version,
                  "scheme_id": taken.scheme_id, "run": run,
                  **taken.fields()})
    return score


def _check_nominal(perpetrator_id: str) -> str:
    value = (perpetrator_id or "").strip()
    if not normalise_identifier(value):
        raise ValidationError({"perpetrator_id": "Enter the police nominal id"})
    if len(value) > 60:
        raise ValidationError({"perpetrator_id": "A police nominal id is 60 characters or fewer"})
    return value


@transaction.atomic
def nomination_from_run(*, user, panel_id: int, run_id: int, rank: int, first_name: str = "", last_name: str = "",
                        date_of_birth: dt.date | None = None, meeting_id: int | None = None) -> Nomination:
    """Nominate the person at `rank` on a ranked list; their score at nomination is the one the
    list gives them."""
    panel = _panel_for_change(user=user, panel_id=panel_id)
    meeting = _meeting_of(panel, meeting_id)
    entry = scoring_bridge.ranked_entry(user=user, run_id=run_id, rank=rank)
    person = _nominee(user=user, perpetrator_id=entry.perpetrator_id, first_name=first_name, last_name=last_name,
                      date_of_birth=date_of_birth, purpose="MATAC nomination from a ranked list")
    case = _open_case(user=user, panel=panel, person=person, referring_organisation_id=panel.police_id)
    nomination = Nomination.objects.create(
        case=case, panel=panel, person=person, perpetrator_id=entry.perpetrator_id, source=NominationSource.RANKED_LIST,
        run_id=entry.run_id, rank=rank, referring_organisation_id=panel.police_id, reference_date=entry.taken.reference_date,
        nominated_by=user, meeting=meeting)
    _score_store(nomination=nomination, stage=ScoreStage.NOMINATION, taken=entry.taken, run=nomination.run)
    _audit(user=user, action=AuditAction.CREATE, record_type="matac_nomination", record_id=nomination.pk, case=case,
           fields=["source", "run", "rank", "perpetrator_id", "meeting", "score"], purpose="MATAC nomination from a ranked list")
    return nomination


@transaction.atomic
def nomination_from_referral(*, user, panel_id: int, perpetrator_id: str, reasons: str, reference_date: dt.date | None = None,
                             first_name: str = "", last_name: str = "", date_of_birth: dt.date | None = None,
                             meeting_id: int | None = None) -> Nomination:
    """A partner agency refers a perpetrator. They are scored against the same incident data; an id
    the data does not hold, or a person who does not meet the criteria, is still recorded, with
    the score shown as not eligible and why."""
    panel = _panel_for_change(user=user, panel_id=panel_id)
    perpetrator_id = _check_nominal(perpetrator_id)
    reasons = _text(reasons, "reasons", required="Say why your agency is referring this person")
    reference_date = reference_date or timezone.localdate()
    if reference_date > timezone.localdate():
        raise ValidationError({"reference_date": "The date to score at cannot be in the future"})
    meeting = _meeting_of(panel, meeting_id)
    person = _nominee(user=user, perpetrator_id=perpetrator_id, first_name=first_name, last_name=last_name,
                      date_of_birth=date_of_birth, purpose="MATAC partner referral")
    case = _open_case(user=user, panel=panel, person=person, referring_organisation_id=user.organisation_id)
    nomination = Nomination.objects.create(
        case=case, panel=panel, person=person, perpetrator_id=perpetrator_id, source=NominationSource.PARTNER_REFERRAL,
        referring_organisation_id=user.organisation_id, reasons=reasons, reference_date=reference_date,
        nominated_by=user, meeting=meeting)
    taken = scoring_bridge.score_take(user=user, perpetrator_id=perpetrator_id, reference_date=reference_date)
    _score_store(nomination=nomination, stage=ScoreStage.NOMINATION, taken=taken)
    _audit(user=user, action=AuditAction.CREATE, record_type="matac_nomination", record_id=nomination.pk, case=case,
           fields=["source", "perpetrator_id", "reasons", "reference_date", "meeting", "score"], purpose="MATAC partner referral")
    return nomination


@transaction.atomic
def nomination_decide(*, user, nomination_id: int, meeting_id: int, decision: str, reason: str = "",
                      lead_agency_id: int | None = None) -> NominationDecision:
    """The meeting's decision on a nomination: adopt (with a lead agency; the score at adoption is
    taken on the meeting's date), not adopt (with a reason; the case closes) or defer."""
    nomination = _nomination_for_change(user=user, nomination_id=nomination_id)
    if nomination.status not in (NominationStatus.AWAITING, NominationStatus.DEFERRED):
        raise ValidationError(f"This nomination has already been decided: {nomination.get_status_display().lower()}")
    if decision not in Decision.values:
        raise ValidationError({"decision": "Select adopt, do not adopt or defer"})
    meeting = _meeting_of(nomination.panel, meeting_id)
    if meeting is None:
        raise ValidationError({"meeting": "Select the meeting that made the decision"})
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError({"meeting": "That meeting was cancelled; select the meeting that made the decision"})
    if meeting.date > timezone.localdate():
        raise ValidationError({"meeting": "A decision can be recorded only at a meeting that has taken place"})
    if meeting.date < nomination.nominated_at.date() and meeting.date < nomination.reference_date:
        raise ValidationError({"meeting": "That meeting was before the nomination"})
    reason = _text(reason, "reason", required="Say why the person is not adopted" if decision == Decision.NOT_ADOPT else "")
    lead = None
    if decision == Decision.ADOPT:
        lead = Organisation.objects.filter(pk=lead_agency_id).first() if lead_agency_id else None
        if lead is None or lead.pk not in panel_member_organisation_ids(nomination.panel):
            raise ValidationError({"lead_agency": "Select the lead agency from the MATAC's members"})
    record = NominationDecision.objects.create(nomination=nomination, meeting=meeting, decision=decision, reason=reason,
                                               decided_by=user)
    nomination.meeting = meeting
    fields = ["decision", "meeting", *(["reason"] if reason else [])]
    if decision == Decision.ADOPT:
        nomination.status = NominationStatus.ADOPTED
        Adoption.objects.create(nomination=nomination, decision=record, adopted_on=meeting.date, lead_agency=lead)
        taken = scoring_bridge.score_take(user=user, perpetrator_id=nomination.perpetrator_id, reference_date=meeting.date)
        _score_store(nomination=nomination, stage=ScoreStage.ADOPTION, taken=taken)
        fields += ["adopted_on", "lead_agency", "score"]
    elif decision == Decision.NOT_ADOPT:
        nomination.status = NominationStatus.NOT_ADOPTED
        nomination.case.status, nomination.case.closed_at = CaseStatus.CLOSED, timezone.now()
        nomination.case.save(update_fields=["status", "closed_at"])
    else:
        nomination.status = NominationStatus.DEFERRED
    nomination.save(update_fields=["status", "meeting"])
    if meeting.status == MeetingStatus.PLANNED:
        meeting.status = MeetingStatus.HELD
        meeting.save(update_fields=["status"])
    _audit(user=user, action=AuditAction.UPDATE, record_type="matac_nomination", record_id=nomination.pk,
           case=nomination.case, fields=fields, purpose="MATAC decision")
    return record


# The action plan, reviews and exit --------------------------------------------------------------

def _choice(value: str, choices, field: str, message: str) -> str:
    if value not in choices.values:
        raise ValidationError({field: message})
    return value


def _member_agency(adoption: Adoption, agency_id) -> Organisation:
    agency = Organisation.objects.filter(pk=agency_id).first() if agency_id else None
    if agency is None or agency.pk not in panel_member_organisation_ids(adoption.nomination.panel):
        raise ValidationError({"agency": "Select an agency that sits on the MATAC"})
    return agency


def _owner(agency: Organisation, owner_id):
    from saferhub.partners.models import User

    if owner_id in (None, ""):
        return None
    owner = User.objects.filter(pk=owner_id, organisation=agency, is_active=True).first()
    if owner is None:
        raise ValidationError({"owner": f"Select a member of staff of {agency.name}"})
    return owner


@transaction.atomic
def action_add(*, user, adoption_id: int, intervention: str, pathway: str, agency_id: int, description: str,
               deadline: dt.date, owner_id: int | None = None) -> MatacAction:
    adoption = _open_adoption(user=user, adoption_id=adoption_id)
    errors = {}
    for value, choices, field, message in (
        (intervention, Intervention, "intervention", "Select the type of intervention"),
        (pathway, Pathway, "pathway", "Select the criminogenic pathway"),
    ):
        try:
            _choice(value, choices, field, message)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if not isinstance(deadline, dt.date):
        errors["deadline"] = "Enter the deadline"
    elif deadline < adoption.adopted_on:
        errors["deadline"] = "The deadline must be on or after the date the person was adopted"
    if not (description or "").strip():
        errors["description"] = "Describe the action"
    if errors:
        raise ValidationError(errors)
    agency = _member_agency(adoption, agency_id)
    action = MatacAction.objects.create(
        adoption=adoption, intervention=intervention, pathway=pathway, agency=agency, owner=_owner(agency, owner_id),
        description=_text(description, "description"), deadline=deadline)
    _audit(user=user, action=AuditAction.CREATE, record_type="matac_action", record_id=action.pk, case=adoption.case,
           fields=["intervention", "pathway", "agency", "owner", "description", "deadline"], purpose="MATAC action plan")
    return action


@transaction.atomic
def action_update(*, user, action_id: int, status: str | None = None, outcome: str | None = None,
                  deadline: dt.date | None = None, owner_id: int | None = None) -> MatacAction:
    """Change an action's status, outcome, deadline or owner. Closing it (any status but open)
    needs its outcome."""
    action = (MatacAction.objects.restrict(user, access.CHANGE).select_related("adoption__nomination__case", "agency")
              .filter(pk=action_id).first())
    if action is None:
        raise Http404("No such action")
    if Exit.objects.filter(adoption_id=action.adoption_id).exists():
        raise ValidationError("This person has exited MATAC; the case is closed")
    changed = []
    if status is not None and status != action.status:
        action.status = _choice(status, MatacActionStatus, "status", "Select the action's status")
        action.completed_at = None if status == MatacActionStatus.OPEN else timezone.now()
        changed += ["status", "completed_at"]
    if outcome is not None and outcome.strip() != action.outcome:
        action.outcome = _text(outcome, "outcome")
        changed.append("outcome")
    if action.status != MatacActionStatus.OPEN and not action.outcome:
        raise ValidationError({"outcome": "Say what came of the action"})
    if deadline is not None and deadline != action.deadline:
        if deadline < action.adoption.adopted_on:
            raise ValidationError({"deadline": "The deadline must be on or after the date the person was adopted"})
        action.deadline = deadline
        changed.append("deadline")
    if owner_id is not None and owner_id != action.owner_id:
        action.owner = _owner(action.agency, owner_id)
        changed.append("owner")
    if not changed:
        return action
    action.save()
    _audit(user=user, action=AuditAction.UPDATE, record_type="matac_action", record_id=action.pk,
           case=action.adoption.case, fields=changed, purpose="MATAC action plan")
    return action


@transaction.atomic
def review_record(*, user, adoption_id: int, reviewed_on: dt.date, notes: str, risk_view: str,
                  meeting_id: int | None = None) -> Review:
    adoption = _open_adoption(user=user, adoption_id=adoption_id)
    errors = {}
    if not isinstance(reviewed_on, dt.date):
        errors["reviewed_on"] = "Enter the date of the review"
    elif reviewed_on < adoption.adopted_on:
        errors["reviewed_on"] = "The review cannot be before the person was adopted"
    elif reviewed_on > timezone.localdate():
        errors["reviewed_on"] = "The review cannot be in the future"
    if risk_view not in RiskView.values:
        errors["risk_view"] = "Select the panel's view of the risk"
    if not (notes or "").strip():
        errors["notes"] = "Enter the review notes"
    if errors:
        raise ValidationError(errors)
    meeting = _meeting_of(adoption.nomination.panel, meeting_id)
    review = Review.objects.create(adoption=adoption, meeting=meeting, reviewed_on=reviewed_on,
                                   notes=_text(notes, "notes"), risk_view=risk_view, by=user)
    _audit(user=user, action=AuditAction.CREATE, record_type="matac_review", record_id=review.pk, case=adoption.case,
           fields=["reviewed_on", "notes", "risk_view", "meeting"], purpose="MATAC review")
    return review


@transaction.atomic
def exit_record(*, user, adoption_id: int, exited_on: dt.date, reason: str, other_reason: str = "") -> Exit:
    """The person leaves MATAC, for a reason from the list ('other' says what); the case closes."""
    adoption = _open_adoption(user=user, adoption_id=adoption_id)
    errors = {}
    if reason not in ExitReason.values:
        errors["reason"] = "Select the reason for exit"
    elif reason == ExitReason.OTHER and not (other_reason or "").strip():
        errors["other_reason"] = "Say what the other reason is"
    if not isinstance(exited_on, dt.date):
        errors["exited_on"] = "Enter the date of exit"
    elif exited_on < adoption.adopted_on:
        errors["exited_on"] = "The exit cannot be before the person was adopted"
    elif exited_on > timezone.localdate():
        errors["exited_on"] = "The exit cannot be in the future"
    if errors:
        raise ValidationError(errors)
    exit_ = Exit.objects.create(adoption=adoption, exited_on=exited_on, reason=reason,
                                other_reason=_text(other_reason, "other_reason") if reason == ExitReason.OTHER else "", by=user)
    case = adoption.case
    case.status, case.closed_at = CaseStatus.CLOSED, timezone.now()
    case.save(update_fields=["status", "closed_at"])
    _audit(user=user, action=AuditAction.CREATE, record_type="matac_exit", record_id=exit_.pk, case=case,
           fields=["exited_on", "reason", *(["other_reason"] if exit_.other_reason else [])], purpose="MATAC exit")
    return exit_


def panel_members(panel: MatacPanel) -> list[Organisation]:
    return list(Organisation.objects.filter(pk__in=panel_member_organisation_ids(panel)).order_by("name"))
