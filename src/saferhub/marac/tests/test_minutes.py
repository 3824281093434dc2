"""Minutes: date, venue, chair, agencies present, confidentiality Y/N per attendee, apologies and
information sent, a note per case, incomplete actions in the two categories; marking the meeting
held; the printable and Word exports name cases by reference only, and are audited as exports."""
import datetime as dt
import html
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from docx import Document

from saferhub.audit.models import AuditEvent
from saferhub.marac.agenda import agenda_build
from saferhub.marac.meeting_services import attendance_add, confidentiality_sign, minutes_save
from saferhub.marac.models import ActionStatus, AgendaItem, MaracMeeting, MeetingStatus
from saferhub.marac.tests.factories import action_make, meeting_make, referral_make
from saferhub.marac.tests.meeting_world import mworld, sign_in  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(mworld):
    """A meeting that started an hour ago, with a case, two incomplete actions and two attendees."""
    w = mworld
    w["meeting"].starts_at = timezone.now() - dt.timedelta(hours=1)
    w["meeting"].save()
    last = meeting_make(area=w["area"], status=MeetingStatus.HELD, starts_at=timezone.now() - dt.timedelta(days=7))
    old = referral_make(area=w["area"], with_people=False, meeting=last)
    w["overdue"] = action_make(referral=old, organisation=w["housing"], deadline=timezone.localdate() - dt.timedelta(days=3))
    w["impossible"] = action_make(referral=old, organisation=w["csc"], deadline=timezone.localdate(),
                                  status=ActionStatus.NOT_POSSIBLE)
    w["old"] = old
    w["referral"] = referral_make(area=w["area"], user=w["coordinator"], children=1)
    agenda_build(user=w["coordinator"], meeting=w["meeting"])
    attendance_add(user=w["coordinator"], meeting_id=w["meeting"].pk, attendee=w["idas_worker"], role="IDVA")
    attendance_add(user=w["coordinator"], meeting_id=w["meeting"].pk, attendee=w["csc_worker"], role="Social worker")
    confidentiality_sign(user=w["idas_worker"], meeting_id=w["meeting"].pk, agree=True)
    w["item"] = AgendaItem.objects.get(meeting=w["meeting"], referral=w["referral"])
    return w


def names_in(referral):
    people = [p.person for p in referral.case.participants.select_related("person")]
    return [n for p in people for n in (p.first_name, p.last_name)]


def save(w, **extra):
    values = {"chair": "Detective Inspector, NYP", "venue": "Room 4", "minutes": "Dates for training agreed.",
              "apologies": [w["housing"].pk], "information_sent": [w["housing"].pk],
              "case_notes": {w["item"].pk: "Safety plan agreed; IDVA to make contact."}, "mark_held": True}
    return minutes_save(user=w["coordinator"], meeting_id=w["meeting"].pk, **(values | extra))


def test_saving_the_minutes_marks_the_meeting_held_and_fixes_the_agenda(held):
    w = held
    meeting = save(w)
    assert meeting.status == MeetingStatus.HELD and meeting.held_at is not None
    assert meeting.chair == "Detective Inspector, NYP" and meeting.apologies == [w["housing"].pk]
    assert AgendaItem.objects.get(pk=w["item"].pk).minutes_note.startswith("Safety plan")
    with pytest.raises(ValidationError, match="held"):
        agenda_build(user=w["coordinator"], meeting=meeting)
    event = AuditEvent.objects.filter(record_type="marac_meeting", record_id=str(meeting.pk), purpose="MARAC minutes").get()
    assert "status" in event.fields and "Safety" not in str(event.detail)


def test_minutes_refuse_bad_input_and_save_nothing(held):
    w = held
    with pytest.raises(ValidationError) as error:
        save(w, chair="", apologies=[987654], case_notes={123456: "x"})
    assert {"chair", "apologies", "note_123456"} <= set(error.value.message_dict)
    meeting = MaracMeeting.objects.get(pk=w["meeting"].pk)
    assert meeting.status == MeetingStatus.PLANNED and meeting.apologies == []
    w["meeting"].starts_at = timezone.now() + dt.timedelta(days=1)
    w["meeting"].save()
    with pytest.raises(ValidationError, match="before it starts"):
        save(w)


def test_the_minutes_page_records_everything_domain_md_asks_for(held, sign_in):
    w = held
    save(w)
    client = sign_in(w["coordinator"])
    body = html.unescape(client.get(reverse("marac:meeting_minutes", args=[w["meeting"].pk])).content.decode())
    for text in ("Detective Inspector, NYP", "Room 4", "IDAS", "Children's Social Care", "Apologies", "Information sent",
                 "Housing Service", "Not possible due to change in circumstances", "Agency has not undertaken",
                 "(overdue)", w["referral"].case.reference, w["old"].case.reference, "Safety plan agreed"):
        assert text in body, text
    # Confidentiality signed, Y for the IDVA, N for the social worker, in the attendance table.
    rows = body.split("Attendance and confidentiality statement")[1]
    assert "IDVA</td>\n      <td class=\"govuk-table__cell\">Y" in rows
    assert "Social worker</td>\n      <td class=\"govuk-table__cell\">N" in rows


def test_the_minutes_form_on_the_page(held, sign_in):
    w = held
    client = sign_in(w["coordinator"])
    page = reverse("marac:meeting_minutes", args=[w["meeting"].pk])
    response = client.post(page, {"chair": "Chair of the MARAC", "venue": "", "minutes": "",
                                  "apologies": [str(w["housing"].pk)], f"note_{w['item'].pk}": "Heard.",
                                  "mark_held": "on"})
    assert response.status_code == 302
    meeting = MaracMeeting.objects.get(pk=w["meeting"].pk)
    assert meeting.status == MeetingStatus.HELD and meeting.apologies == [w["housing"].pk]
    bad = client.post(page, {"chair": "x" * 200})
    assert "The chair must be 120 characters or fewer" in html.unescape(bad.content.decode())
    # Attendees read the minutes but cannot write them.
    assert sign_in(w["idas_worker"]).post(page, {"chair": "Someone"}).status_code == 403


def test_exports_name_cases_by_reference_only_and_are_audited(held, sign_in):
    w = held
    save(w)
    client = sign_in(w["idas_worker"])
    printed = html.unescape(client.get(reverse("marac:meeting_minutes_print", args=[w["meeting"].pk])).content.decode())
    assert w["referral"].case.reference in printed and "Agency has not undertaken" in printed
    docx = client.get(reverse("marac:meeting_minutes_docx", args=[w["meeting"].pk]))
    assert docx.status_code == 200 and docx["Content-Disposition"].endswith('.docx"')
    document = Document(io.BytesIO(docx.content))
    text = "\n".join(p.text for p in document.paragraphs)
    text += "\n".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)
    assert w["referral"].case.reference in text and "Not possible due to change in circumstances" in text
    assert "Detective Inspector, NYP" in text and "Y" in text and "N" in text
    for name in names_in(w["referral"]):
        assert name not in printed and name not in text
    exports = AuditEvent.objects.filter(record_type="marac_meeting", action="export", record_id=str(w["meeting"].pk))
    assert exports.count() == 2


def test_attendees_who_left_after_the_childrens_cases_are_minuted(held, sign_in):
    w = held
    social_worker = w["meeting"].attendance.get(user=w["csc_worker"])
    save(w, left_after_children=[social_worker.pk])
    social_worker.refresh_from_db()
    assert social_worker.left_after_children_cases
    idva = w["meeting"].attendance.get(user=w["idas_worker"])
    with pytest.raises(ValidationError, match="attendees of this meeting"):
        save(w, left_after_children=[idva.pk, 987654])
    body = html.unescape(sign_in(w["coordinator"]).get(reverse("marac:meeting_minutes", args=[w["meeting"].pk])).content.decode())
    assert "Left after the children's cases" in body
    rows = body.split("Attendance and confidentiality statement")[1]
    assert "Social worker</td>\n      <td class=\"govuk-table__cell\">N</td>\n      <td class=\"govuk-table__cell\">Yes" in rows
