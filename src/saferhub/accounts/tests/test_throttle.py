"""Failed sign-ins: lockout per username after 5 in 15 minutes, a limit per address, the audit trail."""
import pytest

from saferhub.accounts.models import FailedAttempt
from saferhub.accounts.services import LOCKED_MESSAGE
from saferhub.audit.models import AuditAction, AuditEvent

PASSWORD = "correct-horse-battery"


def attempt(client, username, password="wrong-password", ip="192.0.2.10"):
    return client.post("/sign-in/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def signed_in(response) -> bool:
    return response.status_code == 302


@pytest.mark.django_db
def test_five_failures_lock_the_username_for_fifteen_minutes(client, viewer, clock):
    for _ in range(4):
        response = attempt(client, "viewer")
        assert "Enter a correct username and password" in response.content.decode()
        clock.advance(minutes=1)
    response = attempt(client, "viewer")
    assert LOCKED_MESSAGE in response.content.decode()
    # Locked: even the right password is refused, without being checked.
    clock.advance(minutes=14, seconds=59)
    response = attempt(client, "viewer", PASSWORD)
    assert not signed_in(response)
    assert LOCKED_MESSAGE in response.content.decode()
    clock.advance(seconds=2)
    assert signed_in(attempt(client, "viewer", PASSWORD))


@pytest.mark.django_db
def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(client, viewer, clock):
    for _ in range(8):
        attempt(client, "viewer")
        clock.advance(minutes=4)
    assert signed_in(attempt(client, "viewer", PASSWORD))


@pytest.mark.django_db
def test_a_successful_sign_in_clears_the_count(client, viewer, clock):
    for _ in range(4):
        attempt(client, "viewer")
    assert signed_in(attempt(client, "viewer", PASSWORD))
    client.post("/sign-out/")
    for _ in range(4):
        response = attempt(client, "viewer")
        assert LOCKED_MESSAGE not in response.content.decode()
    assert signed_in(attempt(client, "viewer", PASSWORD))


@pytest.mark.django_db
def test_an_unknown_username_locks_the_same_way_so_the_lock_reveals_nothing(client, viewer, clock):
    messages = [attempt(client, "no-such-person").content.decode() for _ in range(5)]
    assert all("Enter a correct username and password" in m for m in messages[:4])
    assert LOCKED_MESSAGE in messages[4]


@pytest.mark.django_db
def test_usernames_are_locked_independently(client, viewer, contributor, clock):
    for _ in range(5):
        attempt(client, "viewer")
    assert signed_in(attempt(client, "contributor", PASSWORD))


@pytest.mark.django_db
def test_twenty_failures_from_one_address_block_it(client, viewer, clock):
    for n in range(20):
        # Four tries per username: no username is locked, only the address is counted.
        attempt(client, f"someone-{n // 4}", ip="198.51.100.7")
    response = attempt(client, "viewer", PASSWORD, ip="198.51.100.7")
    assert not signed_in(response)
    assert LOCKED_MESSAGE in response.content.decode()
    # Another address is not affected.
    assert signed_in(attempt(client, "viewer", PASSWORD, ip="198.51.100.8"))


@pytest.mark.django_db
def test_the_address_limit_slides_with_the_window(client, viewer, clock):
    for n in range(20):
        attempt(client, f"someone-{n // 4}", ip="198.51.100.7")
    clock.advance(minutes=15, seconds=1)
    assert signed_in(attempt(client, "viewer", PASSWORD, ip="198.51.100.7"))


@pytest.mark.django_db
def test_the_throttle_table_never_holds_what_was_typed(client, viewer, clock):
    attempt(client, "my-password-by-mistake")
    row = FailedAttempt.objects.get()
    assert "my-password" not in row.key and len(row.key) == 64


@pytest.mark.django_db
def test_every_sign_in_and_failure_is_audited_without_the_password(client, viewer, clock):
    attempt(client, "viewer", "wrong-password-1")
    attempt(client, "nobody-here", "wrong-password-2")
    attempt(client, "viewer", PASSWORD)
    failed_known, failed_unknown, success = AuditEvent.objects.order_by("sequence")
    assert failed_known.action == AuditAction.SIGN_IN_FAILED
    assert failed_known.record_type == "account" and failed_known.record_id == str(viewer.pk)
    assert failed_known.detail["username"] == "viewer" and failed_known.detail["reason"] == "wrong password"
    assert failed_unknown.action == AuditAction.SIGN_IN_FAILED and failed_unknown.record_id == ""
    assert "username" not in failed_unknown.detail and failed_unknown.detail["reason"] == "unknown username"
    assert success.action == AuditAction.SIGN_IN and success.actor_id == viewer.pk
    assert success.record_id == str(viewer.pk) and success.ip_address == "192.0.2.10"
    everything = repr(list(AuditEvent.objects.values()))
    assert "wrong-password" not in everything and "nobody-here" not in everything and PASSWORD not in everything


@pytest.mark.django_db
def test_refused_attempts_while_locked_are_audited(client, viewer, clock):
    for _ in range(6):
        attempt(client, "viewer")
    last = AuditEvent.objects.order_by("-sequence").first()
    assert last.action == AuditAction.SIGN_IN_FAILED and last.detail["reason"] == "username locked"
    assert AuditEvent.objects.order_by("sequence")[4].detail["reason"] == "wrong password; username now locked"


@pytest.mark.django_db
def test_behind_a_proxy_each_client_address_is_counted_not_the_proxys(client, viewer, clock, settings):
    settings.SAFERHUB_BEHIND_PROXY = True
    for n in range(20):
        client.post("/sign-in/", {"username": f"someone-{n // 4}", "password": "x"},
                    REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.9, 198.51.100.{n % 2 + 1}")
    # Ten failures from each client address: neither is blocked, though the proxy passed on all twenty.
    response = client.post("/sign-in/", {"username": "viewer", "password": PASSWORD},
                           REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert signed_in(response)
    assert set(FailedAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.1", "198.51.100.2"}


@pytest.mark.django_db
def test_without_a_proxy_forwarded_addresses_are_ignored(client, viewer, clock, settings):
    settings.SAFERHUB_BEHIND_PROXY = False
    client.post("/sign-in/", {"username": "viewer", "password": "x"}, REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert FailedAttempt.objects.get().ip_address == "192.0.2.1"
