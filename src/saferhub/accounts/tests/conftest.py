"""Fixtures for the accounts tests: a clock the tests move by hand, and users who see personal data."""
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest

from saferhub.partners.models import PersonalDataScope, Role


class Clock:
    def __init__(self):
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=dt_timezone.utc)

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("django.utils.timezone.now", clock)
    return clock


@pytest.fixture
def caseworker(make_user):
    """A contributor who sees the cases their organisation is party to."""
    return make_user(Role.CONTRIBUTOR, username="caseworker", personal_data_scope=PersonalDataScope.PARTIES)


@pytest.fixture
def dp_lead(make_user):
    return make_user(Role.VIEWER, username="dp.lead", is_data_protection_lead=True)
