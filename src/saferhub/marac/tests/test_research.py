"""Agency research: entered by a signed attendee for their own agency, seen only by the meeting's
agencies whose attendees have signed, never by anyone else (who is told the page does not exist),
encrypted at rest, and audited."""
import datetime as dt
import html

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.urls import reverse

from saferhub.audit.models import AuditEvent
from saferhub.marac.agenda import agenda_build
from saferhub.marac.meeting_selectors import meeting_case
from saferhub.marac.meeting_services import attendance_add, confidentiality_sign, research_save
from saferhub.marac.models import AgencyResearch, MeetingStatus
from saferhub.marac.tests.factories import meeting_make, referral_make
from saferhub.marac.tests.meeting_world import mworld, sign_in  # noqa: F401

pytestmark = pytest.mark.django_db
FINDING = "Refuge record: two calls in March about Zanzibarine threats"


@pytest.fixture
def meeting(mworld):
    w = mworld
    w["referral"] = referral_make(area=w["area"], user=w["coordinator"], children=1)
    agenda_build(user=w["coordinator"], meeting=w["meeting"])
    for name, role in (("idas_worker", "IDVA"), ("csc_worker", "Social worker")):
        attendance_add(user=w["coordinator"], meeting_id=w["meeting"].pk, attendee=w[name], role=role)
    confidentiality_sign(user=w["idas_worker"], meeting_id=w["meeting"].pk, agree=True)
    w["case_page"] = reverse("marac:meeting_case", args=[w["meeting"].pk, w["referral"].pk])
    return w


def test_a_signed_attendee_enters_research_on_the_case_page(meeting, sign_in):
    w = meeting
    client = sign_in(w["idas_worker"])
    empty = client.post(w["case_page"], {"text": "  "})
    assert "Enter what your agency found" in html.unescape(empty.content.decode())
    response = client.post(w["case_page"], {"text": FINDING})
    assert response.status_code == 302
    research = AgencyResearch.objects.get(meeting=w["meeting"], referral=w["referral"])
    assert research.organisation == w["idas"] and research.text == FINDING and research.by == w["idas_worker"]
    assert FINDING in html.unescape(client.get(w["case_page"]).content.decode())
    # Saving again updates the agency's one entry.
    client.post(w["case_page"], {"text": FINDING + " (updated)"})
    assert AgencyResearch.objects.filter(meeting=w["meeting"], referral=w["referral"]).count() == 1
    events = AuditEvent.objects.filter(record_type="marac_research").order_by("sequence")
    assert [e.action for e in events] == ["create", "update"]
    assert all("Zanzibarine" not in str(e.detail) + e.record_label + e.purpose for e in events)


def test_research_is_encrypted_at_rest(meeting):
    w = meeting
    research_save(user=w["idas_worker"], meeting_id=w["meeting"].pk, referral_id=w["referral"].pk, text=FINDING)
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM marac_agencyresearch")
        stored = cursor.fetchone()[0]
    assert "Zanzibarine" not in stored


def test_research_is_seen_by_the_meetings_signed_agencies_only(meeting, sign_in):
    w = meeting
    research_save(user=w["idas_worker"], meeting_id=w["meeting"].pk, referral_id=w["referral"].pk, text=FINDING)
    # Another agency at the meeting sees it once its attendee has signed.
    client = sign_in(w["csc_worker"])
    assert client.get(w["case_page"]).status_code == 302
    confidentiality_sign(user=w["csc_worker"], meeting_id=w["meeting"].pk, agree=True)
    assert FINDING in html.unescape(client.get(w["case_page"]).content.decode())
    # The coordinator, not attending, runs the meeting but does not read the agencies' research.
    body = html.unescape(sign_in(w["coordinator"]).get(w["case_page"]).content.decode())
    assert w["referral"].case.reference in body and "Zanzibarine" not in body
    assert meeting_case(user=w["coordinator"], meeting_id=w["meeting"].pk, referral_id=w["referral"].pk).research is None
    # Another agency's staff, and a colleague of the attendee who is not attending: 404.
    for name in ("housing_worker", "idas_colleague"):
        response = sign_in(w[name]).get(w["case_page"])
        assert response.status_code == 404, name
        assert "Zanzibarine" not in html.unescape(response.content.decode())
        with pytest.raises(Http404):
            meeting_case(user=w[name], meeting_id=w["meeting"].pk, referral_id=w["referral"].pk)


def test_research_of_one_meeting_is_not_shown_at_another(meeting, sign_in):
    w = meeting
    research_save(user=w["idas_worker"], meeting_id=w["meeting"].pk, referral_id=w["referral"].pk, text=FINDING)
    w["meeting"].status = MeetingStatus.HELD
    w["meeting"].save()
    other = meeting_make(area=w["area"], starts_at=w["meeting"].starts_at + dt.timedelta(days=7))
    attendance_add(user=w["coordinator"], meeting_id=other.pk, attendee=w["csc_worker"])
    confidentiality_sign(user=w["csc_worker"], meeting_id=other.pk, agree=True)
    with pytest.raises(Http404):
        meeting_case(user=w["csc_worker"], meeting_id=other.pk, referral_id=w["referral"].pk)


def test_research_cannot_be_entered_unsigned_off_agenda_or_after_the_meeting(meeting):
    w = meeting
    with pytest.raises(Http404):
        research_save(user=w["csc_worker"], meeting_id=w["meeting"].pk, referral_id=w["referral"].pk, text=FINDING)
    with pytest.raises(Http404):
        research_save(user=w["housing_worker"], meeting_id=w["meeting"].pk, referral_id=w["referral"].pk, text=FINDING)
    elsewhere = referral_make(area=w["area"], user=w["coordinator"])
    with pytest.raises(Http404):
        research_save(user=w["idas_worker"], meeting_id=w["meeting"].pk, referral_id=elsewhere.pk, text=FINDING)
    w["meeting"].status = MeetingStatus.HELD
    w["meeting"].save()
    with pytest.raises(ValidationError, match="before the meeting"):
        research_save(user=w["idas_worker"], meeting_id=w["meeting"].pk, referral_id=w["referral"].pk, text=FINDING)
    assert not AgencyResearch.objects.exists()


def test_reading_a_case_at_the_meeting_is_audited(meeting, sign_in):
    w = meeting
    sign_in(w["idas_worker"]).get(w["case_page"])
    event = AuditEvent.objects.filter(record_type="marac_referral", record_id=str(w["referral"].pk)).latest("sequence")
    assert event.action == "view" and "research" in event.fields
    assert event.record_label == w["referral"].case.reference


def test_the_case_trail_shows_the_referral_research_and_action_events(meeting):
    """"Who has seen" a case lists the events on its MARAC referral, research and actions, and
    nothing from another case's referral."""
    from saferhub.marac.action_services import action_add
    from saferhub.marac.referral_selectors import referral_view
    from saferhub.people.selectors import case_events, person_events

    w = meeting
    other = referral_make(area=w["area"], user=w["coordinator"])
    research_save(user=w["idas_worker"], meeting_id=w["meeting"].pk, referral_id=w["referral"].pk, text=FINDING)
    referral_view(user=w["coordinator"], referral_id=w["referral"].pk)
    referral_view(user=w["coordinator"], referral_id=other.pk)
    action_add(user=w["coordinator"], referral_id=w["referral"].pk, organisation=w["idas"], assignee=w["idas_worker"],
               description="Safety planning visit", deadline=dt.date.today() + dt.timedelta(days=14))
    kinds = set(case_events(w["referral"].case).values_list("record_type", flat=True))
    assert {"case", "marac_referral", "marac_research", "marac_action"} <= kinds
    referral_ids = set(case_events(w["referral"].case).filter(record_type="marac_referral").values_list("record_id", flat=True))
    assert referral_ids == {str(w["referral"].pk)}
    assert str(other.pk) not in set(case_events(w["referral"].case).values_list("record_id", flat=True).filter(
        record_type="marac_referral"))
    # The coordinator's organisation's data protection lead exports them too (research by another
    # agency's staff included, as it is on a case the organisation holds).
    from saferhub.core.factories import UserFactory
    from saferhub.people.selectors import audit_export

    lead = UserFactory(organisation=w["coordinator"].organisation, is_data_protection_lead=True)
    exported = audit_export(user=lead, start=dt.date.today() - dt.timedelta(days=1), end=dt.date.today())
    assert any(e.record_type == "marac_research" and e.actor_id == w["idas_worker"].pk for e in exported)
    assert w["idas_worker"].organisation_id != w["coordinator"].organisation_id
    # The victim's own trail lists the views of the referral that named them (not the changes).
    victim = w["referral"].case.participants.get(role="victim").person
    seen = person_events(victim).filter(record_type__startswith="marac_")
    assert set(seen.values_list("record_type", "action")) == {("marac_referral", "view")}
