"""Sessions end after 30 minutes without activity, and 12 hours after signing in whatever happens."""
import pytest

from saferhub.accounts.testing import otp_login


def banner(client) -> str:
    return client.get("/sign-in/").content.decode()


@pytest.mark.django_db
def test_a_session_idle_for_longer_than_the_limit_is_signed_out(client, viewer, clock):
    client.force_login(viewer)
    clock.advance(minutes=29)
    assert client.get("/").status_code == 200
    clock.advance(minutes=29)
    assert client.get("/strategies/").status_code == 200
    clock.advance(minutes=30, seconds=1)
    response = client.get("/strategies/")
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=/strategies/"
    assert "You were signed out after 30 minutes without activity" in banner(client)
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_the_idle_limit_comes_from_settings(client, viewer, clock, settings):
    settings.SAFERHUB_SESSION_IDLE_MINUTES = 10
    client.force_login(viewer)
    clock.advance(minutes=11)
    assert client.get("/").status_code == 302
    assert "You were signed out after 10 minutes without activity" in banner(client)


@pytest.mark.django_db
def test_no_session_lasts_more_than_twelve_hours(client, viewer, clock):
    client.force_login(viewer)
    for _ in range(12 * 3):
        clock.advance(minutes=20)
        assert client.get("/").status_code == 200
    clock.advance(minutes=1)
    assert client.get("/").status_code == 302
    assert "You were signed out because you signed in more than 12 hours ago" in banner(client)


@pytest.mark.django_db
def test_an_idle_api_session_gets_the_apis_own_401(client, viewer, clock):
    client.force_login(viewer)
    clock.advance(minutes=31)
    response = client.get("/api/strategies/")
    assert response.status_code == 401
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_a_verified_session_needs_the_second_factor_again_after_expiry(client, caseworker, clock):
    otp_login(client, caseworker)
    assert client.get("/").status_code == 200
    clock.advance(minutes=31)
    assert client.get("/")["Location"].startswith("/sign-in/")
    client.post("/sign-in/", {"username": "caseworker", "password": "correct-horse-battery"})
    assert client.get("/")["Location"].startswith("/account/two-factor/verify/")


@pytest.mark.django_db
def test_session_cookie_lasts_no_longer_than_the_working_day(settings):
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
