"""Attendance and the confidentiality statement: an attendee sees no case of the meeting until they
have signed; signing makes their agency party to the cases on that meeting's agenda and no others,
each share recorded as a disclosure on the basis of safeguarding."""
import html

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from saferhub.audit.models import AuditEvent
from saferhub.marac.agenda import agenda_build
from saferhub.marac.meeting_services import CONFIDENTIALITY_VERSION, attendance_add, confidentiality_sign
from saferhub.marac.models import Attendance
from saferhub.marac.tests.factories import referral_make
from saferhub.marac.tests.meeting_world import mworld, sign_in  # noqa: F401
from saferhub.people.models import Case, CaseParty, Disclosure, LawfulBasis

pytestmark = pytest.mark.django_db


@pytest.fixture
def agenda(mworld):
    w = mworld
    w["on_agenda"] = referral_make(area=w["area"], user=w["coordinator"], children=1)
    agenda_build(user=w["coordinator"], meeting=w["meeting"])
    # Accepted after the agenda was built: waits for the next meeting's agenda.
    w["not_on_agenda"] = referral_make(area=w["area"], user=w["coordinator"])
    attendance_add(user=w["coordinator"], meeting_id=w["meeting"].pk, attendee=w["idas_worker"], role="IDVA")
    return w


def meeting_pages(w):
    pk = w["meeting"].pk
    return [reverse("marac:meeting_detail", args=[pk]), reverse("marac:meeting_case", args=[pk, w["on_agenda"].pk]),
            reverse("marac:meeting_minutes", args=[pk]), reverse("marac:meeting_minutes_print", args=[pk]),
            reverse("marac:meeting_minutes_docx", args=[pk])]


def test_an_attendee_is_sent_to_the_statement_before_any_case_page(agenda, sign_in):
    w = agenda
    client = sign_in(w["idas_worker"])
    statement = reverse("marac:meeting_statement", args=[w["meeting"].pk])
    reference = w["on_agenda"].case.reference
    for page in meeting_pages(w):
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith(statement), page
    page = client.get(statement)
    assert page.status_code == 200
    body = html.unescape(page.content.decode())
    assert "I agree" in body and reference not in body
    # Agreeing without ticking the box is refused, with the GOV.UK error summary.
    refused = client.post(statement, {})
    assert refused.status_code == 200 and "Confirm that you agree" in html.unescape(refused.content.decode())
    assert Attendance.objects.get(user=w["idas_worker"]).confidentiality_signed_at is None
    signed = client.post(statement + "?next=" + meeting_pages(w)[1], {"agree": "on"})
    assert signed.status_code == 302 and signed["Location"] == meeting_pages(w)[1]
    for page in meeting_pages(w):
        assert client.get(page).status_code == 200, page
    assert reference in html.unescape(client.get(meeting_pages(w)[0]).content.decode())


def test_signing_records_the_time_and_makes_the_agency_party_to_this_agendas_cases_only(agenda):
    w = agenda
    on_case, off_case = w["on_agenda"].case, w["not_on_agenda"].case
    assert not CaseParty.objects.filter(case=on_case, organisation=w["idas"]).exists()
    assert not Case.objects.restrict(w["idas_worker"]).filter(pk=on_case.pk).exists()
    before = timezone.now()
    attendance = confidentiality_sign(user=w["idas_worker"], meeting_id=w["meeting"].pk, agree=True)
    assert attendance.confidentiality_signed_at >= before
    assert attendance.confidentiality_version == CONFIDENTIALITY_VERSION
    assert Case.objects.restrict(w["idas_worker"]).filter(pk=on_case.pk).exists()
    assert not Case.objects.restrict(w["idas_worker"]).filter(pk=off_case.pk).exists()
    disclosure = Disclosure.objects.get(case=on_case, to_organisation=w["idas"])
    assert disclosure.lawful_basis == LawfulBasis.SAFEGUARDING
    assert disclosure.from_organisation == w["area"].coordinating_organisation
    assert not Disclosure.objects.filter(case=off_case).exists()
    event = AuditEvent.objects.get(action="disclose", record_id=str(on_case.pk))
    assert event.record_label == on_case.reference and event.detail["to"] == ["IDAS"]
    # Signing again changes nothing and shares nothing twice.
    confidentiality_sign(user=w["idas_worker"], meeting_id=w["meeting"].pk, agree=True)
    assert Disclosure.objects.filter(case=on_case, to_organisation=w["idas"]).count() == 1
    assert Attendance.objects.get(pk=attendance.pk).confidentiality_signed_at == attendance.confidentiality_signed_at


def test_a_case_joining_on_rebuild_is_shared_with_agencies_already_signed(agenda):
    w = agenda
    confidentiality_sign(user=w["idas_worker"], meeting_id=w["meeting"].pk, agree=True)
    agenda_build(user=w["coordinator"], meeting=w["meeting"])
    assert Case.objects.restrict(w["idas_worker"]).filter(pk=w["not_on_agenda"].case_id).exists()
    assert Disclosure.objects.filter(case=w["not_on_agenda"].case, to_organisation=w["idas"],
                                     lawful_basis=LawfulBasis.SAFEGUARDING).exists()


def test_someone_not_attending_is_told_the_meeting_does_not_exist(agenda, sign_in):
    w = agenda
    for user in (w["housing_worker"], w["idas_colleague"]):
        client = sign_in(user)
        for page in [*meeting_pages(w), reverse("marac:meeting_statement", args=[w["meeting"].pk])]:
            assert client.get(page).status_code == 404, (user.username, page)
        assert client.post(reverse("marac:meeting_statement", args=[w["meeting"].pk]), {"agree": "on"}).status_code == 404
    assert not CaseParty.objects.filter(organisation=w["housing"]).exists()


def test_the_coordinator_sees_the_agenda_without_attending_but_signs_when_attending(agenda, sign_in):
    w = agenda
    client = sign_in(w["coordinator"])
    assert client.get(meeting_pages(w)[0]).status_code == 200
    attendance_add(user=w["coordinator"], meeting_id=w["meeting"].pk, attendee=w["coordinator"], role="Chair")
    assert client.get(meeting_pages(w)[0]).status_code == 302


def test_attendees_must_be_able_to_see_personal_data_and_attend_once(agenda):
    w = agenda
    with pytest.raises(ValidationError, match="cannot see personal data"):
        attendance_add(user=w["coordinator"], meeting_id=w["meeting"].pk, attendee=w["no_scope"])
    with pytest.raises(ValidationError, match="already attending"):
        attendance_add(user=w["coordinator"], meeting_id=w["meeting"].pk, attendee=w["idas_worker"])


def test_attendance_page_adds_an_attendee(agenda, sign_in):
    w = agenda
    client = sign_in(w["coordinator"])
    page = reverse("marac:meeting_attendance", args=[w["meeting"].pk])
    assert "Children&#39;s Social Care" in client.get(page).content.decode() or "Children's Social Care" in html.unescape(client.get(page).content.decode())
    response = client.post(page, {"attendee": str(w["csc_worker"].pk), "role": "Social worker"})
    assert response.status_code == 302
    assert Attendance.objects.filter(meeting=w["meeting"], user=w["csc_worker"], organisation=w["csc"]).exists()
    error = client.post(page, {"attendee": ""})
    assert "Select who is attending" in html.unescape(error.content.decode())
    assert sign_in(w["idas_worker"]).get(page).status_code == 404
