"""Factories for tests: synthetic people and cases, created through people.services so that blind
indexes and the audit trail are exactly as the application makes them. Pass `user=`."""
import datetime as dt

import factory

from saferhub.people import services
from saferhub.people.models import Case, CaseKind, Person
from saferhub.people.synthetic import FEMALE_FIRST_NAMES, MALE_FIRST_NAMES, SURNAMES

FIRST_NAMES = [name for pair in zip(FEMALE_FIRST_NAMES, MALE_FIRST_NAMES) for name in pair]


class PersonFactory(factory.Factory):
    """PersonFactory(user=caseworker, first_name=..., identifiers={"nhs_number": ...})"""

    class Meta:
        model = Person

    user = None
    purpose = "Synthetic test referral"
    identifiers = factory.Dict({})
    first_name = factory.Sequence(lambda n: FIRST_NAMES[n % len(FIRST_NAMES)])
    # A different stride from the first names, so pairs do not repeat for a long while.
    last_name = factory.Sequence(lambda n: SURNAMES[(n * 7 + 3) % len(SURNAMES)])
    date_of_birth = factory.Sequence(lambda n: dt.date(1975, 1, 1) + dt.timedelta(days=n * 397))

    @classmethod
    def _create(cls, model_class, user=None, purpose="", identifiers=None, **values):
        if user is None:
            raise ValueError("PersonFactory needs user=: people are registered by a member of staff")
        return services.person_register(user=user, purpose=purpose, identifiers=dict(identifiers or {}), **values)

    @classmethod
    def _build(cls, model_class, user=None, purpose="", identifiers=None, **values):
        person = model_class()
        for name, value in values.items():
            setattr(person, name, value)
        return person


class CaseFactory(factory.Factory):
    """CaseFactory(user=caseworker, people=[(person, "victim"), ...], parties=[organisation])"""

    class Meta:
        model = Case

    user = None
    purpose = "Synthetic test case"
    kind = CaseKind.MARAC
    reference = factory.Sequence(lambda n: f"TEST-{n + 1:04d}")
    summary = "A synthetic case for tests."
    people = factory.List([])
    parties = factory.List([])

    @classmethod
    def _create(cls, model_class, user=None, purpose="", people=(), parties=(), **values):
        if user is None:
            raise ValueError("CaseFactory needs user=: cases are opened by a member of staff")
        case = services.case_open(user=user, purpose=purpose, parties=list(parties), **values)
        for person, role in people:
            services.case_participant_add(user=user, case_id=case.pk, person_id=person.pk, role=role, purpose=purpose)
        return case

    @classmethod
    def _build(cls, model_class, user=None, purpose="", people=(), parties=(), **values):
        return model_class(**values)
