"""The iCalendar feed of MARAC meetings (RFC 5545): one VEVENT per meeting, its UID stable for the
meeting's life, times in UTC, text escaped and lines folded at 75 octets with CRLF endings.
It names areas, dates and venues only: never a case, a person or a reason."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse

from saferhub.marac.models import MaracMeeting, MeetingKind, MeetingStatus

MEETING_LENGTH = dt.timedelta(hours=3)
PRODID = "-//Saferhub//MARAC meetings//EN"


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon and comma escaped, line breaks as \\n."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line so no line is longer than 75 octets (§3.1), never inside a character."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        # Continuation lines start with a space, which counts towards their 75 octets.
        limit = 75 if not out else 74
        if size + width > limit:
            out.append(current)
            current, size = "", 0
        current += char
        size += width
    out.append(current)
    return "\r\n ".join(out)


def utc_stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _event(meeting: MaracMeeting, stamp: dt.datetime) -> list[str]:
    kind = " (emergency)" if meeting.kind == MeetingKind.EMERGENCY else ""
    link = settings.SAFERHUB_SITE_URL.rstrip("/") + reverse("marac:meeting_detail", args=[meeting.pk])
    status = {MeetingStatus.CANCELLED: "CANCELLED"}.get(meeting.status, "CONFIRMED")
    lines = [
        "BEGIN:VEVENT",
        f"UID:marac-meeting-{meeting.pk}@saferhub",
        f"DTSTAMP:{utc_stamp(stamp)}",
        f"DTSTART:{utc_stamp(meeting.starts_at)}",
        f"DTEND:{utc_stamp(meeting.starts_at + MEETING_LENGTH)}",
        f"SUMMARY:{escape_text(f'{meeting.area.name} MARAC{kind}')}",
        f"STATUS:{status}",
        f"DESCRIPTION:{escape_text('The agenda and cases are in Saferhub: ' + link)}",
        f"URL:{link}",
    ]
    if meeting.venue:
        lines.append(f"LOCATION:{escape_text(meeting.venue)}")
    lines.append("END:VEVENT")
    return lines


def calendar(meetings: Iterable[MaracMeeting], *, now: dt.datetime, name: str = "MARAC meetings") -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             f"X-WR-CALNAME:{escape_text(name)}"]
    for meeting in meetings:
        lines += _event(meeting, now)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
