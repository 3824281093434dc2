"""MARAC meeting pages in a real browser: the coordinator's list, schedule, emergency, meeting,
attendance, agenda and minutes pages, and an attendee's way through the confidentiality statement
to a case and their agency's research, with no accessibility violations (axe-core, WCAG 2 A/AA)
and nothing blocked by the CSP."""
import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from saferhub.accounts.testing import otp_login
from saferhub.core.factories import OrganisationFactory, UserFactory
from saferhub.marac.agenda import agenda_build
from saferhub.marac.meeting_services import attendance_add
from saferhub.marac.models import ActionStatus, AgencyResearch, MeetingStatus
from saferhub.marac.tests.factories import action_make, area_make, meeting_make, referral_make
from saferhub.partners.models import PersonalDataScope, Role


def _signed_in(page, live_server, user) -> None:
    client = Client()
    otp_login(client, user)
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


@pytest.mark.django_db(transaction=True)
def test_meeting_pages_are_accessible_from_agenda_to_research(page, axe, live_server):
    police = OrganisationFactory(slug="north-yorkshire-police", name="North Yorkshire Police", short_name="NYP", type="police")
    idas = OrganisationFactory(slug="idas", name="IDAS", short_name="IDAS", type="provider")
    coordinator = UserFactory(username="coordinator", role=Role.CONTRIBUTOR, organisation=police,
                              personal_data_scope=PersonalDataScope.PARTIES)
    idva = UserFactory(username="idva", role=Role.CONTRIBUTOR, organisation=idas, personal_data_scope=PersonalDataScope.PARTIES)
    area = area_make(organisation=police, coordinators=[coordinator], name="York MARAC", slug="york")
    last = meeting_make(area=area, status=MeetingStatus.HELD, starts_at=timezone.now() - dt.timedelta(days=7))
    old = referral_make(area=area, with_people=False, meeting=last)
    action_make(referral=old, organisation=idas, deadline=timezone.localdate() - dt.timedelta(days=2))
    action_make(referral=old, organisation=police, deadline=timezone.localdate(), status=ActionStatus.NOT_POSSIBLE)
    meeting = meeting_make(area=area, starts_at=timezone.now() + dt.timedelta(days=2))
    referral = referral_make(area=area, user=coordinator, children=1)
    referral_make(area=area, user=coordinator)
    agenda_build(user=coordinator, meeting=meeting)
    attendance_add(user=coordinator, meeting_id=meeting.pk, attendee=idva, role="IDVA")

    _signed_in(page, live_server, coordinator)
    page.goto("/marac/meetings/")
    expect(page.get_by_role("link", name="Schedule meetings")).to_be_visible()
    axe(page)
    page.get_by_role("link", name="Schedule meetings").click()
    page.get_by_role("button", name="Schedule meetings").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page)
    page.goto("/marac/meetings/emergency/")
    page.get_by_role("button", name="Call the meeting").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page)
    page.goto(f"/marac/meetings/{meeting.pk}/")
    expect(page.get_by_role("heading", name="Incomplete actions from the last meeting")).to_be_visible()
    expect(page.get_by_text("Not possible due to change in circumstances")).to_be_visible()
    expect(page.get_by_role("link", name=referral.case.reference)).to_be_visible()
    axe(page)
    page.goto(f"/marac/meetings/{meeting.pk}/attendance/")
    axe(page)
    page.goto(f"/marac/meetings/{meeting.pk}/agenda/add/")
    page.get_by_role("button", name="Add to the agenda").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page)
    page.goto(f"/marac/meetings/{meeting.pk}/minutes/")
    axe(page)
    page.goto(f"/marac/meetings/{meeting.pk}/minutes/print/")
    axe(page)
    page.goto("/marac/meetings/calendar/")
    page.get_by_role("button", name="Make an address").click()
    expect(page.get_by_text("Your calendar address")).to_be_visible()
    axe(page)

    _signed_in(page, live_server, idva)
    page.goto(f"/marac/meetings/{meeting.pk}/cases/{referral.pk}/")
    expect(page.get_by_role("heading", name="Confidentiality statement")).to_be_visible()
    axe(page)
    page.get_by_role("button", name="I agree").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page)
    page.get_by_label("I agree to the confidentiality statement").check()
    page.get_by_role("button", name="I agree").click()
    expect(page.get_by_role("heading", name=f"Case {referral.case.reference}")).to_be_visible()
    axe(page)
    page.get_by_role("button", name="Save your agency's research").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page)
    page.get_by_label("What your agency found in its records").fill("Two contacts with the service this year.")
    page.get_by_role("button", name="Save your agency's research").click()
    expect(page.locator("p.saferhub-pre-line", has_text="Two contacts with the service this year.")).to_be_visible()
    assert AgencyResearch.objects.filter(meeting=meeting, referral=referral, organisation=idas).exists()
    page.goto(f"/marac/meetings/{meeting.pk}/")
    axe(page)
