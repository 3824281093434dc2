"""Emails to agency representatives about MARAC: an action assigned, overdue action reminders and
an agenda circulated. Email leaves the secure system, so no message names or describes anyone: it
gives case references, agencies, dates and a link to sign in to Saferhub, nothing else.

Sent through django.core.mail (SMTP settings from the environment: SAFERHUB_EMAIL_*). A failure to
send is logged and counted, never raised: the action or the agenda stands whether or not the email
leaves, and both are in Saferhub for whoever looks."""
from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.urls import reverse
from django.utils import timezone

from saferhub.core.formatting import date_uk
from saferhub.marac.action_selectors import actions_overdue
from saferhub.marac.models import Attendance, MaracAction, MaracArea, MaracMeeting
from saferhub.partners.models import User

logger = logging.getLogger(__name__)
SIGN_OFF = ("This email holds no personal information on purpose: sign in to Saferhub to read the case.\n"
            "Please do not forward it outside your agency.\n")


def link(path: str) -> str:
    """An absolute link to a Saferhub page, for an email read outside the application."""
    return settings.SAFERHUB_SITE_URL.rstrip("/") + path


def agency_representatives(*, organisation_id: int, area_id: int) -> list[str]:
    """Email addresses of an agency's MARAC representatives for an area: the active staff of the
    agency who have attended that area's MARAC, most recent first."""
    user_ids = (Attendance.objects.filter(meeting__area_id=area_id, organisation_id=organisation_id, user__isnull=False)
                .order_by("-meeting__starts_at").values_list("user_id", flat=True))
    ordered = list(dict.fromkeys(user_ids))
    users = {u.pk: u for u in User.objects.filter(pk__in=ordered, is_active=True, organisation_id=organisation_id).exclude(email="")}
    return [users[pk].email for pk in ordered if pk in users]


def _send(subject: str, body: str, recipients: list[str], connection=None) -> int:
    recipients = list(dict.fromkeys(r for r in recipients if r))
    if not recipients:
        return 0
    try:
        # One message per recipient: representatives of different agencies never see each other's addresses.
        messages = [EmailMessage(subject, body, None, [address], connection=connection) for address in recipients]
        return (connection or get_connection()).send_messages(messages) or 0
    except Exception:
        logger.exception("Could not send the MARAC email %r", subject)
        return 0


def action_assigned_notify(*, action_id: int) -> int:
    """Tell the assignee (or, when no one is named, the agency's MARAC representatives) that an action
    was assigned. Returns how many emails left."""
    action = (MaracAction.objects.select_related("referral__case", "referral__area", "organisation", "assignee")
              .filter(pk=action_id).first())
    if action is None:
        return 0
    if action.assignee_id and action.assignee.is_active and action.assignee.email:
        recipients = [action.assignee.email]
    else:
        recipients = agency_representatives(organisation_id=action.organisation_id, area_id=action.referral.area_id)
    reference = action.referral.case.reference
    body = (
        f"{action.referral.area.name} has assigned an action on MARAC case {reference} to {action.organisation.name}.\n\n"
        f"Deadline: {date_uk(action.deadline)}\n"
        f"Read the action and record its outcome in Saferhub: {link(reverse('marac:action_plan', args=[action.referral_id]))}\n\n"
        + SIGN_OFF
    )
    return _send(f"MARAC action assigned: case {reference}", body, recipients)


def actions_overdue_remind(*, as_of: dt.date | None = None) -> int:
    """Remind each agency of its open actions past their deadline, one email to each assignee and,
    for actions no one is named on, to the agency's MARAC representatives. Returns emails sent."""
    as_of = as_of or timezone.localdate()
    by_recipient: dict[str, list[MaracAction]] = defaultdict(list)
    for area in MaracArea.objects.filter(active=True):
        representatives: dict[int, list[str]] = {}
        for action in actions_overdue(area=area, as_of=as_of):
            if action.assignee_id and action.assignee.is_active and action.assignee.email:
                recipients = [action.assignee.email]
            else:
                if action.organisation_id not in representatives:
                    representatives[action.organisation_id] = agency_representatives(
                        organisation_id=action.organisation_id, area_id=area.pk)
                recipients = representatives[action.organisation_id]
            action.referral.area = area
            for address in recipients:
                by_recipient[address].append(action)
    sent = 0
    if not by_recipient:
        return 0
    connection = get_connection()
    for address, actions in sorted(by_recipient.items()):
        lines = [f"- Case {a.referral.case.reference}, {a.referral.area.name}: due {date_uk(a.deadline)} "
                 f"({(as_of - a.deadline).days} days overdue)" for a in actions]
        body = (
            f"{len(actions)} MARAC action{'s' if len(actions) != 1 else ''} assigned to your agency "
            f"{'are' if len(actions) != 1 else 'is'} past {'their' if len(actions) != 1 else 'its'} deadline:\n\n"
            + "\n".join(lines)
            + f"\n\nRecord what was done, or why it was not, in Saferhub: {link(reverse('marac:my_actions'))}?overdue=1\n"
            "Actions still open at the next meeting are reported on its agenda as not undertaken.\n\n"
            + SIGN_OFF
        )
        sent += _send(f"MARAC actions overdue: {len(actions)}", body, [address], connection=connection)
    return sent


def agenda_circulate(*, meeting: MaracMeeting) -> int:
    """Tell the agencies attending a meeting that its agenda is ready: each attendee with an email,
    and the MARAC representatives of each attending agency with no named attendee. Only the
    meeting's date, area and a link: the agenda itself stays in Saferhub. Returns emails sent."""
    attendance = list(Attendance.objects.filter(meeting=meeting).select_related("user"))
    recipients = [a.user.email for a in attendance if a.user_id and a.user.is_active and a.user.email]
    named = {a.organisation_id for a in attendance if a.user_id}
    for organisation_id in sorted({a.organisation_id for a in attendance} - named):
        recipients += agency_representatives(organisation_id=organisation_id, area_id=meeting.area_id)
    starts = timezone.localtime(meeting.starts_at)
    venue = f" at {meeting.venue}" if meeting.venue else ""
    body = (
        f"The agenda for the {meeting.area.name} MARAC on {date_uk(starts.date())} at {starts:%H:%M}{venue} is ready.\n\n"
        f"Read it, and enter your agency's research before the meeting, in Saferhub: {link(reverse('marac:meeting_detail', args=[meeting.pk]))}\n"
        "You will be asked to sign the confidentiality statement before you see the cases.\n\n"
        + SIGN_OFF
    )
    return _send(f"{meeting.area.name} MARAC agenda: {date_uk(starts.date())}", body, recipients)

