"""MARAC email: an action assigned (to the assignee, else the agency's MARAC representatives),
overdue reminders (the task and the daily scheduler step), the agenda circulated to the attending
agencies; no email names or describes anyone; and one message sent by Django's SMTP backend to a
real SMTP server listening on this machine."""
import datetime as dt
import socketserver
import threading

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from saferhub.marac.models import ActionStatus, Attendance, MeetingStatus
from saferhub.marac.notifications import (
    action_assigned_notify, actions_overdue_remind, agency_representatives, agenda_circulate,
)
from saferhub.marac.tests.factories import action_make, area_make, meeting_make, referral_make
from saferhub.partners.models import PersonalDataScope, Role
from saferhub.people.models import Person

pytestmark = pytest.mark.django_db
SECRET_TEXT = "Quillon-household-detail"


@pytest.fixture
def world(organisation, other_organisation, make_user):
    def person(name, org, **extra):
        return make_user(Role.CONTRIBUTOR, org=org, username=name, personal_data_scope=PersonalDataScope.PARTIES,
                         email=f"{name}@example.org", **extra)

    coordinator = person("coordinator", organisation)
    area = area_make(organisation=organisation, coordinators=[coordinator], name="Test MARAC")
    police = person("officer", organisation)
    idva = person("idva", other_organisation)
    rep = person("idas_rep", other_organisation)
    referral = referral_make(area=area, user=police)
    last = meeting_make(area=area, status=MeetingStatus.HELD, starts_at=timezone.now() - dt.timedelta(days=7))
    Attendance.objects.create(meeting=last, organisation=other_organisation, user=rep)
    Attendance.objects.create(meeting=last, organisation=organisation, user=coordinator)
    return {"area": area, "referral": referral, "coordinator": coordinator, "idva": idva, "rep": rep, "police": police,
            "idas": other_organisation, "nyp": organisation, "last": last}


def _names(referral) -> list[str]:
    people = Person.objects.filter(participations__case=referral.case)
    return [value for p in people for value in (p.first_name, p.last_name)]


def _assert_no_personal_data(message, referral) -> None:
    text = message.subject + message.body
    for value in _names(referral) + [SECRET_TEXT]:
        assert value not in text, f"{value!r} in an email"
    assert referral.case.reference in text


def test_assigned_to_a_person_emails_them_only(world):
    action = action_make(referral=world["referral"], organisation=world["idas"], deadline=timezone.localdate(),
                         description=SECRET_TEXT)
    action.assignee = world["idva"]
    action.save()
    assert action_assigned_notify(action_id=action.pk) == 1
    (message,) = mail.outbox
    assert message.to == ["idva@example.org"]
    _assert_no_personal_data(message, world["referral"])
    assert f"/marac/referrals/{world['referral'].pk}/actions/" in message.body
    assert message.body.count("http://") == 1


def test_no_one_named_emails_the_agencys_representatives(world):
    action = action_make(referral=world["referral"], organisation=world["idas"], deadline=timezone.localdate(),
                         description=SECRET_TEXT)
    assert agency_representatives(organisation_id=world["idas"].pk, area_id=world["area"].pk) == ["idas_rep@example.org"]
    assert action_assigned_notify(action_id=action.pk) == 1
    assert mail.outbox[0].to == ["idas_rep@example.org"]
    # An inactive representative is not emailed; with no one to tell, nothing is sent.
    world["rep"].is_active = False
    world["rep"].save()
    assert action_assigned_notify(action_id=action.pk) == 0


def test_overdue_reminders_one_email_per_person(world, organisation):
    today = timezone.localdate()
    referral = world["referral"]
    first = action_make(referral=referral, organisation=world["idas"], deadline=today - dt.timedelta(days=3),
                        description=SECRET_TEXT)
    first.assignee = world["idva"]
    first.save()
    action_make(referral=referral, organisation=world["idas"], deadline=today - dt.timedelta(days=10))  # to the representative
    second = action_make(referral=referral, organisation=world["idas"], deadline=today - dt.timedelta(days=1))
    second.assignee = world["idva"]
    second.save()
    action_make(referral=referral, organisation=world["idas"], deadline=today + dt.timedelta(days=1))  # not yet due
    action_make(referral=referral, organisation=world["idas"], deadline=today - dt.timedelta(days=5), status=ActionStatus.DONE)
    assert actions_overdue_remind(as_of=today) == 2
    by_person = {m.to[0]: m for m in mail.outbox}
    assert set(by_person) == {"idva@example.org", "idas_rep@example.org"}
    idva = by_person["idva@example.org"]
    assert "2 MARAC actions" in idva.body and "3 days overdue" in idva.body and "1 days overdue" in idva.body
    assert "10 days overdue" in by_person["idas_rep@example.org"].body
    for message in mail.outbox:
        _assert_no_personal_data(message, referral)


def test_the_reminder_task_runs_the_reminders(world):
    from saferhub.marac.tasks import actions_overdue_remind_task

    action_make(referral=world["referral"], organisation=world["idas"], deadline=timezone.localdate() - dt.timedelta(days=1))
    result = actions_overdue_remind_task.call(today=timezone.localdate().isoformat())
    assert result["emails"] == 1 and len(mail.outbox) == 1


def test_the_scheduler_queues_reminders_once_a_day_when_something_is_overdue(world):
    from django_tasks_db.models import DBTaskResult

    from saferhub.core.management.commands.scheduler import marac_reminder_step
    from saferhub.marac.tasks import actions_overdue_remind_task

    def at(day, hour):
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))

    day = timezone.localdate() - dt.timedelta(days=1)
    assert marac_reminder_step(at(day, 9), 7) is None, "nothing overdue, nothing queued"
    action_make(referral=world["referral"], organisation=world["idas"], deadline=day - dt.timedelta(days=1))
    assert marac_reminder_step(at(day, 6), 7) is None, "not yet the hour"
    assert marac_reminder_step(at(day, 7), 7) is not None
    assert marac_reminder_step(at(day, 15), 7) is None, "already queued today"
    assert DBTaskResult.objects.filter(task_path=actions_overdue_remind_task.module_path).count() == 1


def test_agenda_circulated_to_attendees_and_unnamed_agencies_representatives(world, make_user):
    from saferhub.core.factories import OrganisationFactory

    probation = OrganisationFactory(slug="probation", name="Probation", type="probation")
    probation_rep = make_user(Role.CONTRIBUTOR, org=probation, username="probation_rep", email="probation_rep@example.org",
                              personal_data_scope=PersonalDataScope.PARTIES)
    Attendance.objects.create(meeting=world["last"], organisation=probation, user=probation_rep)
    meeting = meeting_make(area=world["area"], starts_at=timezone.now() + dt.timedelta(days=2))
    Attendance.objects.create(meeting=meeting, organisation=world["nyp"], user=world["coordinator"])
    Attendance.objects.create(meeting=meeting, organisation=probation)  # the agency, no one named yet
    world["referral"].meeting = meeting
    world["referral"].save()
    assert agenda_circulate(meeting=meeting) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["coordinator@example.org", "probation_rep@example.org"]
    for message in mail.outbox:
        assert "Test MARAC" in message.subject and "agenda" in message.body
        assert f"/marac/meetings/{meeting.pk}/" in message.body
        for value in _names(world["referral"]) + [world["referral"].case.reference]:
            assert value not in message.body + message.subject


def test_a_failing_mail_server_does_not_break_anything(world):
    action = action_make(referral=world["referral"], organisation=world["idas"], deadline=timezone.localdate())
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
                           EMAIL_PORT=_free_port(), EMAIL_TIMEOUT=2):
        assert action_assigned_notify(action_id=action.pk) == 0


# A real SMTP server ------------------------------------------------------------------------------

def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _SmtpSink(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to accept messages: greets, answers EHLO/HELO, MAIL, RCPT, DATA
    (collecting the message up to the lone dot), RSET, NOOP and QUIT, and keeps what it received."""

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 sink ready")
        envelope = {"from": "", "to": []}
        while True:
            line = self.rfile.readline().decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                return
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-sink")
                self.reply("250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 sink")
            elif verb == "MAIL":
                envelope = {"from": line.split(":", 1)[1].strip(" <>"), "to": []}
                self.reply("250 OK")
            elif verb == "RCPT":
                envelope["to"].append(line.split(":", 1)[1].strip(" <>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (data := self.rfile.readline().decode("utf-8", "replace").rstrip("\r\n")) != ".":
                    lines.append(data[1:] if data.startswith("..") else data)
                self.server.received.append({**envelope, "data": "\n".join(lines)})
                self.reply("250 OK: queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


@pytest.fixture
def smtp_sink():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpSink)
    server.daemon_threads = True
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_sent_through_a_real_smtp_server(world, smtp_sink):
    action = action_make(referral=world["referral"], organisation=world["idas"], deadline=timezone.localdate(),
                         description=SECRET_TEXT)
    action.assignee = world["idva"]
    action.save()
    host, port = smtp_sink.server_address
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST=host, EMAIL_PORT=port,
                           EMAIL_USE_TLS=False, EMAIL_USE_SSL=False, EMAIL_HOST_USER="", EMAIL_HOST_PASSWORD="",
                           DEFAULT_FROM_EMAIL="saferhub@example.org", EMAIL_TIMEOUT=5):
        assert action_assigned_notify(action_id=action.pk) == 1
    (received,) = smtp_sink.received
    assert received["from"] == "saferhub@example.org" and received["to"] == ["idva@example.org"]
    assert f"Subject: MARAC action assigned: case {world['referral'].case.reference}" in received["data"]
    assert world["referral"].case.reference in received["data"] and SECRET_TEXT not in received["data"]
