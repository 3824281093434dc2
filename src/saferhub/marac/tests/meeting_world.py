"""The meeting tests' world: a MARAC area coordinated by the police, its coordinator, attendees
from a domestic abuse service and children's social care, an outsider from housing, and a planned
meeting a week away. Import the fixtures into a test module to use them."""
import datetime as dt

import pytest
from django.utils import timezone

from saferhub.core.factories import OrganisationFactory
from saferhub.marac.tests.factories import area_make, meeting_make
from saferhub.partners.models import PersonalDataScope, Role

try:
    from saferhub.accounts.testing import otp_login as _sign_in
except ImportError:  # pragma: no cover - before the accounts app exists
    def _sign_in(client, user):
        client.force_login(user)


@pytest.fixture
def mworld(make_user, organisation, other_organisation):
    csc = OrganisationFactory(slug="childrens-social-care", name="Children's Social Care", short_name="CSC", type="local_authority")
    housing = OrganisationFactory(slug="housing", name="Housing Service", short_name="HOU", type="local_authority")

    def staff(name, org, scope=PersonalDataScope.PARTIES, role=Role.CONTRIBUTOR):
        return make_user(role, org=org, username=name, personal_data_scope=scope, email=f"{name}@example.org",
                         first_name=name.split("_")[0].capitalize(), last_name="Staff")

    coordinator = staff("coordinator", organisation)
    area = area_make(organisation=organisation, coordinators=[coordinator])
    meeting = meeting_make(area=area, starts_at=timezone.now() + dt.timedelta(days=7))
    return {
        "nyp": organisation, "idas": other_organisation, "csc": csc, "housing": housing, "area": area,
        "meeting": meeting, "coordinator": coordinator,
        "idas_worker": staff("idas_worker", other_organisation),
        "idas_colleague": staff("idas_colleague", other_organisation),
        "csc_worker": staff("csc_worker", csc),
        "housing_worker": staff("housing_worker", housing),
        "no_scope": staff("no_scope", other_organisation, scope=PersonalDataScope.NONE),
    }


@pytest.fixture
def sign_in(client):
    def sign(user):
        client.logout()
        _sign_in(client, user)
        return client

    return sign
