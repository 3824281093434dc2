"""Test world for MARAC referrals, for any MARAC test module to import (`from
saferhub.marac.tests.referral_fixtures import *`): an area coordinated by IDAS, a police referrer,
a coordinator, and `referral_input(...)` that builds a referral of synthetic people with a chosen
number of "yes" answers."""
import datetime as dt

import pytest

from saferhub.marac.checklist_services import checklist_current, checklist_questions
from saferhub.marac.models import MaracArea
from saferhub.marac.referral_services import ChildInput, PersonInput, ReferralInput
from saferhub.partners.models import PersonalDataScope, Role

try:
    from saferhub.accounts.testing import otp_login as _sign_in
except ImportError:  # pragma: no cover - before the accounts app exists
    def _sign_in(client, user):
        client.force_login(user)

__all__ = ["area", "referrer", "coordinator", "outsider", "sign_in", "referral_input", "answers_with", "VICTIM_NAME"]

VICTIM_NAME = ("Ottilie", "Fernsby")


@pytest.fixture
def area(other_organisation):
    return MaracArea.objects.create(slug="test-area", name="Test MARAC", coordinating_organisation=other_organisation)


@pytest.fixture
def referrer(make_user, organisation):
    return make_user(Role.CONTRIBUTOR, org=organisation, username="referrer", personal_data_scope=PersonalDataScope.PARTIES)


@pytest.fixture
def coordinator(make_user, other_organisation):
    return make_user(Role.CONTRIBUTOR, org=other_organisation, username="marac_coordinator",
                     personal_data_scope=PersonalDataScope.PARTIES)


@pytest.fixture
def outsider(make_user):
    from saferhub.core.factories import OrganisationFactory

    health = OrganisationFactory(slug="test-health", name="Test Health Trust", short_name="THT", type="health")
    return make_user(Role.CONTRIBUTOR, org=health, username="outsider", personal_data_scope=PersonalDataScope.PARTIES)


@pytest.fixture
def sign_in(client):
    def sign(user):
        client.logout()
        _sign_in(client, user)
        return client

    return sign


def answers_with(yes: int, *, stalking: bool = False) -> dict[str, tuple[str, str]]:
    """Answers to the current checklist: the first `yes` main questions yes, the rest no (the
    stalking question among the yeses only when `stalking`), and the stalking screen when opened."""
    main, screen = checklist_questions(checklist_current())
    order = sorted(main, key=lambda q: (not (stalking and q.triggers_stalking_screen), q.triggers_stalking_screen, q.number))
    answers = {q.key: ("yes" if i < yes else "no", "") for i, q in enumerate(order)}
    if any(answers[q.key][0] == "yes" for q in main if q.triggers_stalking_screen):
        answers.update({q.key: ("not_known", "") for q in screen})
    return answers


def referral_input(*, yes: int = 14, incidents: int = 0, judgement: bool = False, reasons: str = "",
                   stalking: bool = False, children=(), victim_dob=dt.date(1990, 4, 2), **changes) -> ReferralInput:
    values = dict(
        victim=PersonInput(first_name=VICTIM_NAME[0], last_name=VICTIM_NAME[1], date_of_birth=victim_dob, gender="female"),
        perpetrators=[PersonInput(first_name="Rufus", last_name="Quellington", date_of_birth=dt.date(1986, 7, 9))],
        children=[ChildInput(**c) for c in children],
        answers=answers_with(yes, stalking=stalking),
        assessed_on=dt.date.today() - dt.timedelta(days=1),
        incidents_in_window=incidents,
        professional_judgement=judgement,
        professional_judgement_reasons=reasons,
        safe_contact_details="Mobile only, text first",
        safe_to_call=True,
    )
    values.update(changes)
    return ReferralInput(**values)
