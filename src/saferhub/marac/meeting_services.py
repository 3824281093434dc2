"""Writes of MARAC meetings: scheduling, emergency meetings, attendance and the confidentiality
statement, agency research, agenda items added by hand, publishing the agenda and the minutes.

Coordinators of an area run its meetings. An attendee signs the confidentiality statement before
seeing any case of the meeting; on signing, their organisation becomes party to the cases on that
meeting's agenda (and only those), a disclosure on the basis of safeguarding, recorded as such."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from saferhub.audit.models import AuditAction, ChangeAction
from saferhub.audit.services import change_record, snapshot
from saferhub.audit.trail import audit_event
from saferhub.marac.models import (
    AgencyResearch, AgendaItem, AgendaSection, Attendance, CalendarFeedToken, MaracArea, MaracMeeting, MaracReferral,
    MeetingKind, MeetingStatus, ReferralStatus,
)
from saferhub.partners.models import Organisation, Role
from saferhub.people import access
from saferhub.people.models import CaseParty, Disclosure, LawfulBasis

CONFIDENTIALITY_VERSION = "2026-1"
CONFIDENTIALITY_STATEMENT = [
    "Information shared at this MARAC is confidential. It is shared to keep people at high risk of domestic "
    "abuse, and their children, safe: on the basis of safeguarding, not consent.",
    "I will use it only for that purpose. I will not share it outside my agency, or with anyone in my agency "
    "who does not need it to carry out the actions agreed, without the agreement of the MARAC.",
    "I will keep what I record about these cases securely, in my agency's own systems, and I will not pass "
    "any of it to the people discussed or to the people who harm them.",
    "I understand that my signature, and the time I signed, are recorded in the minutes.",
]
SCHEDULE_LIMIT_DAYS = 732
RESEARCH_LIMIT = 10000
NOTE_LIMIT = 5000
MEETING_FIELDS = ["starts_at", "venue", "kind", "status", "chair", "scheduled_for", "apologies", "information_sent"]


def is_coordinator(user, area: MaracArea) -> bool:
    return bool(user.is_authenticated and user.is_active and area.coordinators.filter(pk=user.pk).exists())


def coordinator_check(user, area: MaracArea) -> None:
    if not is_coordinator(user, area) or not access._may_act(user, access.CHANGE):
        raise PermissionDenied(f"Only the coordinators of {area.name} MARAC can do that.")


def _meeting_for_change(user, meeting_id: int) -> MaracMeeting:
    meeting = MaracMeeting.objects.select_for_update(of=("self",)).select_related("area").filter(pk=meeting_id).first()
    if meeting is None or not is_coordinator(user, meeting.area):
        raise Http404("No such MARAC meeting")
    coordinator_check(user, meeting.area)
    return meeting


def _local_start(day: dt.date, at: dt.time | None) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, at or dt.time(10, 0)))


def schedule_dates(area: MaracArea, since: dt.date, until: dt.date) -> list[dt.date]:
    """The dates of the area's schedule from `since` to `until`, both included."""
    first, step = area.first_meeting_date, dt.timedelta(days=area.meeting_interval_days or 7)
    if first is None or until < first:
        return []
    skip = max(0, -(-(since - first).days // step.days)) if since > first else 0
    dates, day = [], first + skip * step
    while day <= until:
        dates.append(day)
        day += step
    return dates


@transaction.atomic
def meetings_schedule(*, user, area: MaracArea, until: dt.date, since: dt.date | None = None) -> list[MaracMeeting]:
    """Add the area's regular meetings from `since` (today by default) to `until` from its schedule.
    Dates already scheduled are left alone, so running it twice adds nothing. Returns those added."""
    if not (is_coordinator(user, area) or user.has_role(Role.ADMINISTRATOR)):
        raise PermissionDenied(f"Only the coordinators of {area.name} MARAC or an administrator can schedule its meetings.")
    since = since or timezone.localdate()
    errors = {}
    if area.first_meeting_date is None:
        errors["area"] = f"{area.name} MARAC has no date for its first meeting: set its schedule first"
    if until is None:
        errors["until"] = "Enter the date to schedule meetings until"
    elif until < since:
        errors["until"] = "The date to schedule until must be on or after the first date"
    elif (until - since).days > SCHEDULE_LIMIT_DAYS:
        errors["until"] = "Schedule at most two years of meetings at a time"
    if errors:
        raise ValidationError(errors)
    area = MaracArea.objects.select_for_update(of=("self",)).get(pk=area.pk)
    dates = schedule_dates(area, since, until)
    taken = set(MaracMeeting.objects.filter(area=area, kind=MeetingKind.REGULAR, scheduled_for__in=dates)
                .values_list("scheduled_for", flat=True))
    added = [MaracMeeting(area=area, kind=MeetingKind.REGULAR, scheduled_for=day, venue=area.default_venue,
                          starts_at=_local_start(day, area.meeting_time)) for day in dates if day not in taken]
    added = MaracMeeting.objects.bulk_create(added)
    for meeting in added:
        change_record(actor=user, instance=meeting, action=ChangeAction.CREATE, after=snapshot(meeting, MEETING_FIELDS))
    return added


@transaction.atomic
def meeting_emergency_create(*, user, referral_id: int, starts_at: dt.datetime, venue: str, reason: str) -> MaracMeeting:
    """Call an emergency meeting for one accepted referral that cannot wait for the next regular
    one. The referral leaves any meeting it was waiting for and is heard at this one."""
    from saferhub.marac.agenda import agenda_build

    referral = (MaracReferral.objects.restrict(user, access.CHANGE).select_for_update(of=("self",))
                .select_related("area", "case", "meeting").filter(pk=referral_id).first())
    if referral is None:
        raise Http404("No such MARAC referral")
    coordinator_check(user, referral.area)
    errors = {}
    if referral.status != ReferralStatus.ACCEPTED:
        errors["referral"] = f"Accept referral {referral.case.reference} before calling a meeting for it"
    elif referral.meeting is not None and referral.meeting.status == MeetingStatus.HELD:
        errors["referral"] = f"Referral {referral.case.reference} has already been heard"
    if starts_at is None:
        errors["starts_at"] = "Enter the date and time of the meeting"
    elif timezone.localtime(starts_at).date() < timezone.localdate():
        errors["starts_at"] = "The meeting must be today or in the future"
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "Say why the case cannot wait for the next meeting"
    elif len(reason) > NOTE_LIMIT:
        errors["reason"] = f"The reason must be {NOTE_LIMIT:,} characters or fewer"
    if len(venue or "") > 200:
        errors["venue"] = "The venue must be 200 characters or fewer"
    if errors:
        raise ValidationError(errors)
    meeting = MaracMeeting.objects.create(area=referral.area, starts_at=starts_at, kind=MeetingKind.EMERGENCY,
                                          venue=(venue or "").strip() or referral.area.default_venue,
                                          emergency_referral=referral, emergency_reason=reason)
    AgendaItem.objects.filter(referral=referral, manual=False, meeting__status=MeetingStatus.PLANNED).delete()
    referral.meeting = meeting
    referral.save(update_fields=["meeting"])
    change_record(actor=user, instance=meeting, action=ChangeAction.CREATE, after=snapshot(meeting, MEETING_FIELDS))
    audit_event(user=user, action=AuditAction.CREATE, record_type="marac_meeting", record_id=meeting.pk,
                record_label=str(meeting), fields=["emergency_referral", "emergency_reason"],
                purpose="Emergency MARAC", detail={"referral": referral.pk})
    agenda_build(user=user, meeting=meeting)
    return meeting


@transaction.atomic
def meeting_cancel(*, user, meeting_id: int) -> MaracMeeting:
    """Cancel a planned meeting: its waiting referrals go back to wait for the next one."""
    meeting = _meeting_for_change(user, meeting_id)
    if meeting.status != MeetingStatus.PLANNED:
        raise ValidationError("Only a planned meeting can be cancelled")
    before = snapshot(meeting, MEETING_FIELDS)
    MaracReferral.objects.filter(meeting=meeting).update(meeting=None)
    meeting.status = MeetingStatus.CANCELLED
    meeting.save(update_fields=["status"])
    change_record(actor=user, instance=meeting, action=ChangeAction.UPDATE, before=before,
                  after=snapshot(meeting, MEETING_FIELDS))
    return meeting


# Attendance and the confidentiality statement ---------------------------------------------------

@transaction.atomic
def attendance_add(*, user, meeting_id: int, attendee, role: str = "") -> Attendance:
    """A coordinator adds a member of another agency's (or their own) staff to a meeting."""
    meeting = _meeting_for_change(user, meeting_id)
    errors = {}
    if meeting.status != MeetingStatus.PLANNED:
        errors["attendee"] = "Attendees can only be added to a planned meeting"
    elif attendee is None or not attendee.is_active:
        errors["attendee"] = "Select someone whose account is active"
    elif not attendee.organisation_id:
        errors["attendee"] = f"{attendee.display_name} does not belong to an agency"
    elif not attendee.sees_personal_data:
        errors["attendee"] = f"{attendee.display_name}'s account cannot see personal data, so they cannot attend"
    elif Attendance.objects.filter(meeting=meeting, user=attendee).exists():
        errors["attendee"] = f"{attendee.display_name} is already attending"
    if len((role or "").strip()) > 120:
        errors["role"] = "The role must be 120 characters or fewer"
    if errors:
        raise ValidationError(errors)
    attendance = Attendance.objects.create(meeting=meeting, user=attendee, organisation_id=attendee.organisation_id,
                                           role=(role or "").strip())
    change_record(actor=user, instance=attendance, action=ChangeAction.CREATE,
                  after=snapshot(attendance, ["meeting", "user", "organisation", "role"]))
    return attendance


@transaction.atomic
def attendance_remove(*, user, attendance_id: int) -> None:
    attendance = Attendance.objects.select_related("meeting").filter(pk=attendance_id).first()
    if attendance is None:
        raise Http404("No such attendance")
    meeting = _meeting_for_change(user, attendance.meeting_id)
    if meeting.status != MeetingStatus.PLANNED:
        raise ValidationError("Attendance of a held or cancelled meeting stays as the minutes record it")
    change_record(actor=user, instance=attendance, action=ChangeAction.DELETE,
                  before=snapshot(attendance, ["meeting", "user", "organisation", "role", "confidentiality_signed_at"]))
    attendance.delete()


def parties_grant(*, user, meeting: MaracMeeting, organisation_ids: list[int] | None = None) -> int:
    """Make the organisations of the meeting's signed attendees (or those given) party to the cases
    on its agenda that they are not party to yet: only those cases, and each share recorded as a
    disclosure on the basis of safeguarding with one audit event per case. Returns shares made.
    A fixed number of queries plus one audit event per case shared."""
    if organisation_ids is None:
        organisation_ids = list(Attendance.objects.filter(meeting=meeting, confidentiality_signed_at__isnull=False)
                                .values_list("organisation_id", flat=True).distinct())
    if not organisation_ids:
        return 0
    cases = dict(AgendaItem.objects.filter(meeting=meeting, referral__isnull=False)
                 .values_list("referral__case_id", "referral__case__reference"))
    if not cases:
        return 0
    existing = set(CaseParty.objects.filter(case_id__in=cases, organisation_id__in=organisation_ids)
                   .values_list("case_id", "organisation_id"))
    wanted = [(case_id, org_id) for case_id in sorted(cases) for org_id in sorted(set(organisation_ids))
              if (case_id, org_id) not in existing]
    if not wanted:
        return 0
    starts = timezone.localtime(meeting.starts_at)
    reason = f"Attends the {meeting.area.name} MARAC of {starts:%d %B %Y}"
    CaseParty.objects.bulk_create([CaseParty(case_id=c, organisation_id=o, reason=reason[:200]) for c, o in wanted])
    Disclosure.objects.bulk_create([
        Disclosure(case_id=c, from_organisation_id=meeting.area.coordinating_organisation_id, to_organisation_id=o,
                   lawful_basis=LawfulBasis.SAFEGUARDING, purpose=reason, by=user) for c, o in wanted])
    names = dict(Organisation.objects.filter(pk__in={o for _, o in wanted}).values_list("pk", "name"))
    for case_id in sorted({c for c, _ in wanted}):
        audit_event(user=user, action=AuditAction.DISCLOSE, record_type="case", record_id=case_id,
                    record_label=cases[case_id], purpose=LawfulBasis.SAFEGUARDING.label,
                    detail={"to": sorted(names[o] for c, o in wanted if c == case_id), "meeting": meeting.pk})
    return len(wanted)


@transaction.atomic
def confidentiality_sign(*, user, meeting_id: int, agree: bool) -> Attendance:
    """An attendee agrees to the confidentiality statement. Their agency then becomes party to the
    cases on the meeting's agenda. Anyone not attending is told the meeting does not exist."""
    attendance = (Attendance.objects.select_for_update(of=("self",)).select_related("meeting__area")
                  .filter(meeting_id=meeting_id, user=user).first())
    if attendance is None or not user.is_active:
        raise Http404("No such MARAC meeting")
    if not agree:
        raise ValidationError({"agree": "Confirm that you agree to the confidentiality statement"})
    if attendance.meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError("This meeting was cancelled")
    if attendance.confidentiality_signed_at is None:
        attendance.confidentiality_signed_at = timezone.now()
        attendance.confidentiality_version = CONFIDENTIALITY_VERSION
        attendance.save(update_fields=["confidentiality_signed_at", "confidentiality_version"])
        change_record(actor=user, instance=attendance, action=ChangeAction.UPDATE, before={"confidentiality_signed_at": None},
                      after=snapshot(attendance, ["confidentiality_signed_at", "confidentiality_version"]))
        parties_grant(user=user, meeting=attendance.meeting, organisation_ids=[attendance.organisation_id])
    return attendance


# Agency research ----------------------------------------------------------------------------------

def signed_attendance(user, meeting: MaracMeeting) -> Attendance | None:
    if not user.is_authenticated or not user.is_active:
        return None
    return Attendance.objects.filter(meeting=meeting, user=user, confidentiality_signed_at__isnull=False).first()


@transaction.atomic
def research_save(*, user, meeting_id: int, referral_id: int, text: str) -> AgencyResearch:
    """What the user's agency found in its own records about one case on the meeting's agenda.
    Only a signed attendee may enter it, for their own agency, until the meeting is held."""
    meeting = MaracMeeting.objects.select_related("area").filter(pk=meeting_id).first()
    attendance = signed_attendance(user, meeting) if meeting is not None else None
    if attendance is None or not access._may_act(user, access.VIEW):
        raise Http404("No such MARAC meeting")
    referral = (MaracReferral.objects.restrict(user, access.VIEW).select_related("case")
                .filter(pk=referral_id, agenda_items__meeting=meeting).distinct().first())
    if referral is None:
        raise Http404("No such case on this meeting's agenda")
    if meeting.status != MeetingStatus.PLANNED:
        raise ValidationError("Research can only be entered before the meeting is held")
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Enter what your agency found in its records, or say it found nothing"})
    if len(text) > RESEARCH_LIMIT:
        raise ValidationError({"text": f"The research must be {RESEARCH_LIMIT:,} characters or fewer"})
    research, created = AgencyResearch.objects.update_or_create(
        meeting=meeting, referral=referral, organisation_id=attendance.organisation_id,
        defaults={"text": text, "by": user})
    audit_event(user=user, action=AuditAction.CREATE if created else AuditAction.UPDATE, record_type="marac_research",
                record_id=research.pk, record_label=referral.case.reference, fields=["text"],
                purpose="MARAC agency research", detail={"meeting": meeting.pk})
    return research


# The agenda by hand, publishing and minutes -------------------------------------------------------

@transaction.atomic
def agenda_item_add(*, user, meeting_id: int, section: int, note: str = "", reference: str = "") -> AgendaItem:
    """A coordinator adds a case for review (12 months since its last MARAC, or any the area wants
    reviewed), named by its case reference, or an item of any other business. Kept on rebuild."""
    meeting = _meeting_for_change(user, meeting_id)
    if meeting.status != MeetingStatus.PLANNED:
        raise ValidationError("Items can only be added to the agenda of a planned meeting")
    note, reference = (note or "").strip(), (reference or "").strip()
    referral = None
    if section == AgendaSection.ANNIVERSARY:
        referral = (MaracReferral.objects.restrict(user, access.VIEW).select_related("case", "meeting")
                    .filter(area=meeting.area, case__reference__iexact=reference).first()) if reference else None
        if referral is None:
            raise ValidationError({"reference": f"Enter the reference of a case of {meeting.area.name} MARAC"})
        if referral.meeting_id is None or referral.meeting.status != MeetingStatus.HELD:
            raise ValidationError({"reference": f"Case {referral.case.reference} has not been heard yet: it joins the "
                                                "next agenda as a new case"})
        if AgendaItem.objects.filter(meeting=meeting, referral=referral).exists():
            raise ValidationError({"reference": f"Case {referral.case.reference} is already on this agenda"})
    elif section == AgendaSection.OTHER_BUSINESS:
        if not note:
            raise ValidationError({"note": "Enter the item of business"})
    else:
        raise ValidationError({"section": "Add a case for review or an item of any other business"})
    if len(note) > 300:
        raise ValidationError({"note": "The item must be 300 characters or fewer"})
    position = (AgendaItem.objects.filter(meeting=meeting).order_by("-position").values_list("position", flat=True).first() or 0) + 1
    item = AgendaItem.objects.create(meeting=meeting, section=section, referral=referral, note=note, manual=True,
                                     position=position)
    audit_event(user=user, action=AuditAction.UPDATE, record_type="marac_meeting", record_id=meeting.pk,
                record_label=str(meeting), fields=["agenda"], purpose="Adding to the MARAC agenda",
                detail={"referral": referral.pk if referral else None})
    if referral is not None:
        parties_grant(user=user, meeting=meeting)
    return item


@transaction.atomic
def agenda_publish(*, user, meeting_id: int) -> MaracMeeting:
    """Publish the agenda to the meeting's agencies; they are emailed (no personal data) that it is ready."""
    meeting = _meeting_for_change(user, meeting_id)
    if meeting.agenda_built_at is None:
        raise ValidationError("Build the agenda before publishing it")
    if meeting.status != MeetingStatus.PLANNED:
        raise ValidationError("Only the agenda of a planned meeting can be published")
    meeting.agenda_published_at = timezone.now()
    meeting.save(update_fields=["agenda_published_at"])
    change_record(actor=user, instance=meeting, action=ChangeAction.PUBLISH, before={"agenda_published_at": None},
                  after=snapshot(meeting, ["agenda_published_at"]))
    try:
        from saferhub.marac.notifications import agenda_circulate
    except ImportError:
        agenda_circulate = None
    if agenda_circulate is not None:
        transaction.on_commit(lambda: agenda_circulate(meeting=meeting))
    return meeting


@transaction.atomic
def minutes_save(*, user, meeting_id: int, chair: str, venue: str, minutes: str, apologies: list[int],
                 information_sent: list[int], case_notes: dict[int, str], mark_held: bool = False,
                 left_after_children: list[int] | None = None) -> MaracMeeting:
    """Record the minutes: chair, venue, apologies and information sent (organisations), a note per
    case, the attendees who left after the children's cases, and general minutes; optionally mark
    the meeting held, after which the agenda is fixed."""
    meeting = _meeting_for_change(user, meeting_id)
    errors = {}
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError("A cancelled meeting has no minutes")
    chair, venue, minutes = (chair or "").strip(), (venue or "").strip(), (minutes or "").strip()
    if len(chair) > 120:
        errors["chair"] = "The chair must be 120 characters or fewer"
    if len(venue) > 200:
        errors["venue"] = "The venue must be 200 characters or fewer"
    if len(minutes) > NOTE_LIMIT * 4:
        errors["minutes"] = f"The minutes must be {NOTE_LIMIT * 4:,} characters or fewer"
    known = set(Organisation.objects.filter(pk__in=[*apologies, *information_sent]).values_list("pk", flat=True))
    for name, ids in (("apologies", apologies), ("information_sent", information_sent)):
        unknown = [i for i in ids if i not in known]
        if unknown:
            errors[name] = f"Unknown agency {unknown[0]}: select agencies from the list"
    attendance = {a.pk: a for a in Attendance.objects.filter(meeting=meeting)}
    left = set(left_after_children or [])
    if left - set(attendance):
        errors["left_after_children"] = "Select attendees of this meeting"
    items = {item.pk: item for item in AgendaItem.objects.filter(meeting=meeting, referral__isnull=False)}
    for item_id, note in case_notes.items():
        if item_id not in items:
            errors[f"note_{item_id}"] = "That case is not on this meeting's agenda"
        elif len((note or "").strip()) > NOTE_LIMIT:
            errors[f"note_{item_id}"] = f"The note must be {NOTE_LIMIT:,} characters or fewer"
    if mark_held:
        if not chair:
            errors["chair"] = "Enter who chaired the meeting"
        if meeting.starts_at > timezone.now():
            errors["mark_held"] = "A meeting cannot be marked held before it starts"
    if errors:
        raise ValidationError(errors)
    before = snapshot(meeting, MEETING_FIELDS)
    meeting.chair, meeting.venue, meeting.minutes = chair, venue or meeting.venue, minutes
    meeting.apologies, meeting.information_sent = sorted(set(apologies)), sorted(set(information_sent))
    changed_notes = []
    for item_id, note in case_notes.items():
        if items[item_id].minutes_note != (note or "").strip():
            items[item_id].minutes_note = (note or "").strip()
            changed_notes.append(items[item_id])
    AgendaItem.objects.bulk_update(changed_notes, ["minutes_note"])
    if left_after_children is not None:
        changed_left = [a for a in attendance.values() if a.left_after_children_cases != (a.pk in left)]
        for a in changed_left:
            a.left_after_children_cases = a.pk in left
        Attendance.objects.bulk_update(changed_left, ["left_after_children_cases"])
    else:
        changed_left = []
    fields = ["chair", "venue", "minutes", "apologies", "information_sent"]
    if mark_held and meeting.status != MeetingStatus.HELD:
        meeting.status, meeting.held_at = MeetingStatus.HELD, timezone.now()
        fields += ["status", "held_at"]
    meeting.save(update_fields=fields)
    change_record(actor=user, instance=meeting, action=ChangeAction.UPDATE, before=before,
                  after=snapshot(meeting, MEETING_FIELDS))
    audit_event(user=user, action=AuditAction.UPDATE, record_type="marac_meeting", record_id=meeting.pk,
                record_label=str(meeting), fields=["minutes", *(["case_notes"] if changed_notes else []),
                                                   *(["left_after_children_cases"] if changed_left else []),
                                                   *(["status"] if "status" in fields else [])],
                purpose="MARAC minutes", detail={"cases": [i.referral_id for i in changed_notes]})
    return meeting


# The calendar feed's secret address --------------------------------------------------------------

def calendar_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def calendar_token_create(*, user) -> str:
    """A new secret calendar address for the user; any earlier one stops working. The token is
    shown once and only its digest is kept."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied("Sign in to make a calendar address.")
    calendar_token_revoke(user=user)
    token = secrets.token_urlsafe(32)
    record = CalendarFeedToken.objects.create(user=user, digest=calendar_token_digest(token))
    change_record(actor=user, instance=record, action=ChangeAction.CREATE, after={"user": user.username})
    return token


@transaction.atomic
def calendar_token_revoke(*, user) -> int:
    tokens = list(CalendarFeedToken.objects.filter(user=user, revoked_at__isnull=True))
    for record in tokens:
        record.revoked_at = timezone.now()
        record.save(update_fields=["revoked_at"])
        change_record(actor=user, instance=record, action=ChangeAction.UPDATE, before={"revoked_at": None},
                      after=snapshot(record, ["revoked_at"]))
    return len(tokens)
