"""Meetings: scheduling from the area's schedule (idempotent), emergency meetings for a named
referral, cancelling, the meeting list and who may see a meeting at all."""
import datetime as dt
import html

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from saferhub.audit.models import ChangeRecord
from saferhub.marac.agenda import agenda_build
from saferhub.marac.meeting_services import meeting_cancel, meeting_emergency_create, meetings_schedule, schedule_dates
from saferhub.marac.models import AgendaItem, AgendaSection, MaracMeeting, MeetingKind, MeetingStatus, ReferralStatus
from saferhub.marac.tests.factories import area_make, referral_make
from saferhub.marac.tests.meeting_world import mworld, sign_in  # noqa: F401
from saferhub.partners.models import Role

pytestmark = pytest.mark.django_db


def test_schedule_dates_follow_the_first_date_and_interval(mworld):
    area = mworld["area"]
    area.first_meeting_date, area.meeting_interval_days = dt.date(2027, 1, 7), 14
    assert schedule_dates(area, dt.date(2027, 1, 1), dt.date(2027, 2, 28)) == [
        dt.date(2027, 1, 7), dt.date(2027, 1, 21), dt.date(2027, 2, 4), dt.date(2027, 2, 18)]
    assert schedule_dates(area, dt.date(2027, 1, 8), dt.date(2027, 1, 21)) == [dt.date(2027, 1, 21)]
    assert schedule_dates(area, dt.date(2026, 1, 1), dt.date(2026, 12, 31)) == []


def test_scheduling_is_idempotent_and_uses_the_areas_time_in_london(mworld):
    w = mworld
    area = w["area"]
    area.first_meeting_date, area.meeting_time = dt.date(2027, 3, 4), dt.time(10, 0)
    area.save()
    added = meetings_schedule(user=w["coordinator"], area=area, since=dt.date(2027, 3, 1), until=dt.date(2027, 4, 30))
    assert [m.scheduled_for for m in added] == [dt.date(2027, 3, 4) + dt.timedelta(days=7 * n) for n in range(9)]
    # 10:00 in London is 10:00 UTC in March and 09:00 UTC once the clocks change (28 March 2027).
    assert added[0].starts_at.astimezone(dt.timezone.utc).hour == 10
    assert added[-1].starts_at.astimezone(dt.timezone.utc).hour == 9
    assert all(m.venue == area.default_venue and m.kind == MeetingKind.REGULAR for m in added)
    again = meetings_schedule(user=w["coordinator"], area=area, since=dt.date(2027, 3, 1), until=dt.date(2027, 5, 13))
    assert [m.scheduled_for for m in again] == [dt.date(2027, 5, 6), dt.date(2027, 5, 13)]
    assert MaracMeeting.objects.filter(area=area, kind=MeetingKind.REGULAR, scheduled_for__isnull=False).count() == 11
    assert ChangeRecord.objects.filter(action="create", object_repr__contains="MARAC").count() >= 11


def test_scheduling_is_refused_to_others_and_checks_its_dates(mworld, make_user):
    w = mworld
    with pytest.raises(PermissionDenied):
        meetings_schedule(user=w["idas_worker"], area=w["area"], until=timezone.localdate() + dt.timedelta(days=30))
    admin = make_user(Role.ADMINISTRATOR, username="admin")
    assert meetings_schedule(user=admin, area=w["area"], since=dt.date(2027, 1, 1), until=dt.date(2027, 1, 31))
    with pytest.raises(ValidationError, match="on or after"):
        meetings_schedule(user=w["coordinator"], area=w["area"], since=dt.date(2027, 2, 1), until=dt.date(2027, 1, 1))
    with pytest.raises(ValidationError, match="two years"):
        meetings_schedule(user=w["coordinator"], area=w["area"], since=dt.date(2027, 1, 1), until=dt.date(2030, 1, 1))
    unscheduled = area_make(organisation=w["nyp"], coordinators=[w["coordinator"]], first_meeting_date=None)
    with pytest.raises(ValidationError, match="no date for its first meeting"):
        meetings_schedule(user=w["coordinator"], area=unscheduled, until=timezone.localdate() + dt.timedelta(days=7))


def test_the_schedule_page(mworld, sign_in):
    w = mworld
    client = sign_in(w["coordinator"])
    page = reverse("marac:meeting_schedule")
    missing = client.post(page, {"area": str(w["area"].pk)})
    assert "Enter the date to schedule until" in html.unescape(missing.content.decode())
    until = timezone.localdate() + dt.timedelta(days=400)
    response = client.post(page, {"area": str(w["area"].pk), "until-day": until.day, "until-month": until.month,
                                  "until-year": until.year})
    assert response.status_code == 302
    assert MaracMeeting.objects.filter(area=w["area"], scheduled_for__isnull=False).count() > 50
    assert sign_in(w["idas_worker"]).get(page).status_code == 403


def test_an_emergency_meeting_hears_its_referral_alone(mworld):
    w = mworld
    urgent = referral_make(area=w["area"], user=w["coordinator"], children=1)
    other = referral_make(area=w["area"], with_people=False)
    agenda_build(user=w["coordinator"], meeting=w["meeting"])
    starts = timezone.now() + dt.timedelta(days=1)
    emergency = meeting_emergency_create(user=w["coordinator"], referral_id=urgent.pk, starts_at=starts,
                                         venue="", reason="Threats to kill since the referral")
    assert emergency.kind == MeetingKind.EMERGENCY and emergency.emergency_referral == urgent
    assert emergency.venue == w["area"].default_venue
    items = list(AgendaItem.objects.filter(meeting=emergency).order_by("position"))
    assert [(i.section, i.referral_id) for i in items] == [
        (AgendaSection.INTRODUCTIONS, None), (AgendaSection.CHILDREN, urgent.pk), (AgendaSection.OTHER_BUSINESS, None)]
    urgent.refresh_from_db()
    assert urgent.meeting == emergency
    assert not AgendaItem.objects.filter(meeting=w["meeting"], referral=urgent).exists()
    rebuilt = agenda_build(user=w["coordinator"], meeting=w["meeting"])
    assert [i.referral_id for i in rebuilt if i.referral_id] == [other.pk]
    # The reason may name people: it is encrypted and kept out of the audit trail.
    from saferhub.audit.models import AuditEvent
    event = AuditEvent.objects.get(record_type="marac_meeting", action="create", record_id=str(emergency.pk))
    assert "Threats" not in str(event.detail) + event.purpose


def test_an_emergency_meeting_needs_an_accepted_referral_a_future_date_and_a_reason(mworld):
    w = mworld
    submitted = referral_make(area=w["area"], with_people=False, status=ReferralStatus.SUBMITTED)
    with pytest.raises(ValidationError) as error:
        meeting_emergency_create(user=w["coordinator"], referral_id=submitted.pk,
                                 starts_at=timezone.now() - dt.timedelta(days=2), venue="", reason="")
    assert set(error.value.message_dict) == {"referral", "starts_at", "reason"}
    accepted = referral_make(area=w["area"], with_people=False)
    with pytest.raises(PermissionDenied):
        _outsider_emergency(w, accepted)
    assert not MaracMeeting.objects.filter(kind=MeetingKind.EMERGENCY).exists()


def _outsider_emergency(w, referral):
    """A coordinator of another area who can see every case may still not call this area's meetings."""
    from saferhub.partners.models import PersonalDataScope

    w["idas_worker"].personal_data_scope = PersonalDataScope.ALL
    w["idas_worker"].save()
    meeting_emergency_create(user=w["idas_worker"], referral_id=referral.pk, starts_at=timezone.now(), venue="",
                             reason="Urgent")


def test_the_emergency_page_finds_the_referral_by_reference(mworld, sign_in):
    w = mworld
    referral = referral_make(area=w["area"], with_people=False)
    client = sign_in(w["coordinator"])
    page = reverse("marac:meeting_emergency")
    unknown = client.post(page, {"reference": "MARAC-NOPE", "date-day": "1", "date-month": "1", "date-year": "2030",
                                 "time": "10:00", "reason": "Urgent"})
    assert "No referral to a MARAC you coordinate has that case reference" in html.unescape(unknown.content.decode())
    day = timezone.localdate() + dt.timedelta(days=1)
    bad_time = client.post(page, {"reference": referral.case.reference, "date-day": day.day, "date-month": day.month,
                                  "date-year": day.year, "time": "25:99", "reason": "Urgent"})
    assert "24-hour clock" in html.unescape(bad_time.content.decode())
    made = client.post(page, {"reference": referral.case.reference.lower(), "date-day": day.day, "date-month": day.month,
                              "date-year": day.year, "time": "14:30", "reason": "Urgent"})
    emergency = MaracMeeting.objects.get(kind=MeetingKind.EMERGENCY)
    assert made.status_code == 302 and made["Location"] == reverse("marac:meeting_detail", args=[emergency.pk])
    assert timezone.localtime(emergency.starts_at).time() == dt.time(14, 30)


def test_cancelling_sends_the_cases_back_to_wait(mworld):
    w = mworld
    referral = referral_make(area=w["area"], with_people=False)
    agenda_build(user=w["coordinator"], meeting=w["meeting"])
    meeting_cancel(user=w["coordinator"], meeting_id=w["meeting"].pk)
    referral.refresh_from_db()
    assert referral.meeting is None
    assert MaracMeeting.objects.get(pk=w["meeting"].pk).status == MeetingStatus.CANCELLED
    with pytest.raises(ValidationError):
        agenda_build(user=w["coordinator"], meeting=w["meeting"])


def test_the_meeting_list_shows_the_users_meetings_by_area(mworld, sign_in):
    w = mworld
    other_area = area_make(organisation=w["idas"])
    from saferhub.marac.tests.factories import meeting_make
    meeting_make(area=other_area, venue="Somewhere Else Hall")
    client = sign_in(w["coordinator"])
    body = html.unescape(client.get(reverse("marac:meeting_list")).content.decode())
    assert w["area"].name in body and "Somewhere Else Hall" not in body
    assert reverse("marac:meeting_detail", args=[w["meeting"].pk]) in body
    assert client.get(reverse("marac:meeting_list") + "?when=past").status_code == 200
    # Staff with no access to personal data cannot use MARAC pages.
    assert sign_in(w["no_scope"]).get(reverse("marac:meeting_list")).status_code == 403
    stranger = html.unescape(sign_in(w["housing_worker"]).get(reverse("marac:meeting_list")).content.decode())
    assert "There are no upcoming meetings you take part in" in stranger


def test_coordinator_pages_answer(mworld, sign_in):
    w = mworld
    referral_make(area=w["area"], user=w["coordinator"], children=1)
    client = sign_in(w["coordinator"])
    pk = w["meeting"].pk
    assert client.post(reverse("marac:meeting_agenda_build", args=[pk])).status_code == 302
    for name in ("meeting_detail", "meeting_attendance", "meeting_agenda_add", "meeting_minutes", "meeting_minutes_print"):
        assert client.get(reverse(f"marac:{name}", args=[pk])).status_code == 200, name
    added = client.post(reverse("marac:meeting_agenda_add", args=[pk]), {"kind": "60", "note": "Training dates"})
    assert added.status_code == 302
    assert "Training dates" in html.unescape(client.get(reverse("marac:meeting_detail", args=[pk])).content.decode())
    assert client.post(reverse("marac:meeting_agenda_publish", args=[pk])).status_code == 302
    assert MaracMeeting.objects.get(pk=pk).agenda_published_at is not None


def test_publishing_the_agenda_emails_the_attendees_without_naming_cases(mworld, django_capture_on_commit_callbacks):
    from django.core import mail

    from saferhub.marac.meeting_services import agenda_publish, attendance_add

    w = mworld
    referral = referral_make(area=w["area"], user=w["coordinator"], children=1)
    with pytest.raises(ValidationError, match="Build the agenda"):
        agenda_publish(user=w["coordinator"], meeting_id=w["meeting"].pk)
    agenda_build(user=w["coordinator"], meeting=w["meeting"])
    attendance_add(user=w["coordinator"], meeting_id=w["meeting"].pk, attendee=w["idas_worker"])
    with django_capture_on_commit_callbacks(execute=True):
        agenda_publish(user=w["coordinator"], meeting_id=w["meeting"].pk)
    assert [m.to for m in mail.outbox] == [[w["idas_worker"].email]]
    assert referral.case.reference not in mail.outbox[0].body
    assert reverse("marac:meeting_detail", args=[w["meeting"].pk]) in mail.outbox[0].body
