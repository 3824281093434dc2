"""The people register's test world: two organisations, each with a case and synthetic people,
and staff with every kind of scope, so each test can check what one of them sees."""
import datetime as dt
import re

import pytest

from saferhub.partners.models import PersonalDataScope, Role
from saferhub.people.factories import CaseFactory, PersonFactory
from saferhub.people.models import InformationSharingAgreement, LawfulBasis

try:
    # Staff who see personal data must have passed two-factor sign-in (saferhub.accounts).
    from saferhub.accounts.testing import otp_login as _sign_in
except ImportError:  # pragma: no cover - before the accounts app exists
    def _sign_in(client, user):
        client.force_login(user)

# Out-of-scope names: they must never appear in a response to someone who may not see them.
NYP_NAMES = ["Adaline", "Testperson", "Offenderson"]
IDAS_NAMES = ["Zebedee", "Quincefield"]


@pytest.fixture
def sign_in(client):
    def sign(user):
        client.logout()
        _sign_in(client, user)
        return client

    return sign


@pytest.fixture
def staff(make_user, organisation, other_organisation):
    """Every kind of member of staff, by name."""
    def make(name, role, org, scope, **extra):
        return make_user(role, org=org, username=name, personal_data_scope=scope, email=f"{name}@example.org", **extra)

    return {
        "caseworker": make("caseworker", Role.CONTRIBUTOR, organisation, PersonalDataScope.PARTIES),
        "nyp_viewer": make("nyp_viewer", Role.VIEWER, organisation, PersonalDataScope.PARTIES),
        "coordinator": make("coordinator", Role.CONTRIBUTOR, organisation, PersonalDataScope.ALL),
        "no_scope": make("no_scope", Role.CONTRIBUTOR, organisation, PersonalDataScope.NONE),
        "dp_lead": make("dp_lead", Role.VIEWER, organisation, PersonalDataScope.PARTIES, is_data_protection_lead=True),
        "idas_worker": make("idas_worker", Role.CONTRIBUTOR, other_organisation, PersonalDataScope.PARTIES),
        "idas_dp_lead": make("idas_dp_lead", Role.VIEWER, other_organisation, PersonalDataScope.NONE, is_data_protection_lead=True),
    }


@pytest.fixture
def world(staff, organisation, other_organisation):
    """NYP's case with a victim, a child and a perpetrator; IDAS's case with one person of its own."""
    caseworker, idas_worker = staff["caseworker"], staff["idas_worker"]
    victim = PersonFactory(user=caseworker, first_name="Adaline", last_name="Testperson", date_of_birth=dt.date(1990, 5, 1),
                           identifiers={"police_nominal": "NOM-123", "nhs_number": "999 000 0018"})
    child = PersonFactory(user=caseworker, first_name="Bea", last_name="Testperson", date_of_birth=dt.date(2016, 9, 12))
    perpetrator = PersonFactory(user=caseworker, first_name="Carl", last_name="Offenderson", date_of_birth=dt.date(1987, 1, 20))
    nyp_case = CaseFactory(user=caseworker, reference="MARAC-T-0001", summary="Referral after a DASH assessment.",
                           people=[(victim, "victim"), (child, "child"), (perpetrator, "perpetrator")])
    hidden = PersonFactory(user=idas_worker, first_name="Zebedee", last_name="Quincefield", date_of_birth=dt.date(1985, 2, 3),
                           identifiers={"police_nominal": "NOM-999"})
    idas_case = CaseFactory(user=idas_worker, reference="MARAC-T-0002", people=[(hidden, "victim")])
    agreement = InformationSharingAgreement.objects.create(
        name="MARAC protocol", start=dt.date(2024, 4, 1), lawful_bases=[LawfulBasis.SAFEGUARDING, LawfulBasis.LAW_ENFORCEMENT])
    agreement.parties.add(organisation, other_organisation)
    return {"victim": victim, "child": child, "perpetrator": perpetrator, "nyp_case": nyp_case,
            "hidden": hidden, "idas_case": idas_case, "agreement": agreement, **staff}


def without_tokens(html: str) -> str:
    """A page with its per-response values (CSRF tokens, nonces) taken out, to compare two pages."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return re.sub(r'nonce="[^"]*"', "", html)
