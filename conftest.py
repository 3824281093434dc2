"""Fixtures shared by every app's tests."""
import uuid

import pytest
from django.test import override_settings

from saferhub.core.factories import OrganisationFactory, UserFactory
from saferhub.partners.models import Role


@pytest.fixture(autouse=True, scope="session")
def _private_matac_store(tmp_path_factory):
    """No test reads or changes the MATAC incident store of a developer's demo (var/matac/store):
    the session's own store, which a test or module may point elsewhere again."""
    with override_settings(MATAC_STORE_DIR=str(tmp_path_factory.mktemp("matac-session") / "store")):
        yield


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _own_audit_anchors(settings, tmp_path_factory):
    """Each test's audit anchors in a file of its own (never the developer's var/audit), since
    each test's trail is rolled back with its database."""
    settings.AUDIT_ANCHOR_FILE = str(tmp_path_factory.getbasetemp() / f"anchors-{uuid.uuid4().hex}.jsonl")


@pytest.fixture
def organisation(db):
    return OrganisationFactory(slug="north-yorkshire-police", name="North Yorkshire Police", short_name="NYP", type="police")


@pytest.fixture
def other_organisation(db):
    return OrganisationFactory(slug="idas", name="IDAS", short_name="IDAS", type="provider")


@pytest.fixture
def make_user(db, organisation):
    def make(role=Role.VIEWER, org=None, **kwargs):
        return UserFactory(role=role, organisation=org or organisation, **kwargs)

    return make


@pytest.fixture
def viewer(make_user):
    return make_user(Role.VIEWER, username="viewer")


@pytest.fixture
def contributor(make_user):
    return make_user(Role.CONTRIBUTOR, username="contributor")


@pytest.fixture
def manager(make_user):
    return make_user(Role.STRATEGY_MANAGER, username="manager")


@pytest.fixture
def administrator(make_user):
    return make_user(Role.ADMINISTRATOR, username="administrator")
