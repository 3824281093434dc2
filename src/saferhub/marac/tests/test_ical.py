"""The iCalendar feed: RFC 5545 structure, folding and escaping, a UID that stays the same for a
meeting, UTC times, nothing personal; the secret address variant and its revocation."""
import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from saferhub.marac.ical import calendar, escape_text, fold
from saferhub.marac.meeting_services import attendance_add, calendar_token_create, calendar_token_revoke
from saferhub.marac.models import CalendarFeedToken
from saferhub.marac.tests.factories import area_make, meeting_make, referral_make
from saferhub.marac.agenda import agenda_build
from saferhub.marac.tests.meeting_world import mworld, sign_in  # noqa: F401

pytestmark = pytest.mark.django_db


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def events(text: str) -> list[dict]:
    found, current = [], None
    for line in unfold(text):
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            found.append(current)
            current = None
        elif current is not None and ":" in line:
            name, value = line.split(":", 1)
            current[name] = value
    return found


def test_escaping_and_folding_follow_rfc_5545():
    assert escape_text("Room 1, Block A; back\\slash\nnext") == "Room 1\\, Block A\\; back\\\\slash\\nnext"
    line = "LOCATION:" + "Ystafell gyfarfod é " * 10
    folded = fold(line)
    parts = folded.split("\r\n")
    assert all(len(part.encode("utf-8")) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert "".join([parts[0], *(p[1:] for p in parts[1:])]) == line
    assert fold("SUMMARY:short") == "SUMMARY:short"


def test_the_feed_lists_the_users_areas_meetings_with_stable_uids_and_no_personal_data(mworld, sign_in):
    w = mworld
    w["meeting"].venue = "Room 2, Civic Centre; Northallerton"
    w["meeting"].save()
    referral = referral_make(area=w["area"], user=w["coordinator"], children=1)
    agenda_build(user=w["coordinator"], meeting=w["meeting"])
    other_area = area_make(organisation=w["idas"])
    hidden = meeting_make(area=other_area)
    client = sign_in(w["coordinator"])
    response = client.get(reverse("marac:meetings_ics"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    text = response.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    found = events(text)
    assert [e["UID"] for e in found] == [f"marac-meeting-{w['meeting'].pk}@saferhub"]
    event = found[0]
    assert event["DTSTART"] == w["meeting"].starts_at.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    assert re.fullmatch(r"\d{8}T\d{6}Z", event["DTSTAMP"])
    assert event["LOCATION"] == "Room 2\\, Civic Centre\\; Northallerton"
    assert event["SUMMARY"] == f"{w['area'].name} MARAC"
    assert f"marac-meeting-{hidden.pk}@" not in text
    people = [p.person for p in referral.case.participants.select_related("person")]
    for value in [referral.case.reference, *(p.first_name for p in people), *(p.last_name for p in people)]:
        assert value not in text
    # The same meeting keeps its UID when moved.
    w["meeting"].starts_at += dt.timedelta(hours=1)
    w["meeting"].save()
    again = events(client.get(reverse("marac:meetings_ics")).content.decode())
    assert again[0]["UID"] == event["UID"] and again[0]["DTSTART"] != event["DTSTART"]


def test_an_attendee_sees_their_meetings_area_and_a_stranger_an_empty_calendar(mworld, sign_in):
    w = mworld
    attendance_add(user=w["coordinator"], meeting_id=w["meeting"].pk, attendee=w["idas_worker"])
    assert len(events(sign_in(w["idas_worker"]).get(reverse("marac:meetings_ics")).content.decode())) == 1
    stranger = sign_in(w["housing_worker"]).get(reverse("marac:meetings_ics"))
    assert stranger.status_code == 200 and events(stranger.content.decode()) == []


def test_the_feed_needs_sign_in(client):
    response = client.get(reverse("marac:meetings_ics"))
    assert response.status_code == 302 and "sign-in" in response["Location"]


def test_a_secret_address_works_without_sign_in_until_revoked(mworld, client):
    w = mworld
    token = calendar_token_create(user=w["coordinator"])
    assert token not in "".join(CalendarFeedToken.objects.values_list("digest", flat=True))
    address = reverse("marac:meetings_ics_token", args=[token])
    response = client.get(address)
    assert response.status_code == 200 and len(events(response.content.decode())) == 1
    # A new address replaces the old one.
    newer = calendar_token_create(user=w["coordinator"])
    assert client.get(address).status_code == 404
    assert client.get(reverse("marac:meetings_ics_token", args=[newer])).status_code == 200
    assert calendar_token_revoke(user=w["coordinator"]) == 1
    assert client.get(reverse("marac:meetings_ics_token", args=[newer])).status_code == 404
    assert client.get(reverse("marac:meetings_ics_token", args=["guess"])).status_code == 404


def test_the_calendar_page_shows_a_new_address_once(mworld, sign_in):
    w = mworld
    client = sign_in(w["coordinator"])
    page = reverse("marac:meeting_calendar")
    made = client.post(page, {"action": "create"}).content.decode()
    assert "/marac/meetings/calendar/" in made
    assert "/marac/meetings/calendar/" not in client.get(page).content.decode().split("Download the calendar file")[1]
    client.post(page, {"action": "revoke"})
    assert not CalendarFeedToken.objects.filter(user=w["coordinator"], revoked_at__isnull=True).exists()


def test_calendar_text_for_an_emergency_and_a_cancelled_meeting(mworld):
    w = mworld
    emergency = meeting_make(area=w["area"], kind="emergency", status="cancelled")
    text = calendar([emergency], now=timezone.now())
    event = events(text)[0]
    assert event["SUMMARY"].endswith("MARAC (emergency)") and event["STATUS"] == "CANCELLED"
