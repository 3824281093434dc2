"""Factories for tests and benchmarks: synthetic organisations, staff and strategy data only."""
import datetime as dt

import factory
from factory.django import DjangoModelFactory

from saferhub.partners.models import GovernanceBody, Organisation, OrganisationType, Role, User
from saferhub.strategy.models import Action, ActionStatus, ReportingPeriod, Strategy, StrategyItem


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Test Organisation {n}")
    short_name = factory.Sequence(lambda n: f"TO{n}")
    type = OrganisationType.OTHER


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User {n}")
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.VIEWER

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or "correct-horse-battery")
        if create:
            self.save(update_fields=["password"])


class GovernanceBodyFactory(DjangoModelFactory):
    class Meta:
        model = GovernanceBody

    slug = factory.Sequence(lambda n: f"body-{n}")
    name = factory.Sequence(lambda n: f"Test Board {n}")
    kind = "board"


class StrategyFactory(DjangoModelFactory):
    class Meta:
        model = Strategy

    slug = factory.Sequence(lambda n: f"strategy-{n}")
    title = factory.Sequence(lambda n: f"Test Strategy {n}")
    level_names = ["Objective", "Outcome", "Aim"]


class StrategyItemFactory(DjangoModelFactory):
    class Meta:
        model = StrategyItem

    strategy = factory.SubFactory(StrategyFactory)
    parent = None
    depth = factory.LazyAttribute(lambda o: o.parent.depth + 1 if o.parent else 0)
    order = factory.Sequence(lambda n: n + 1)
    path = factory.LazyAttribute(lambda o: (o.parent.path + "." if o.parent else "") + f"{o.order:04d}")
    code = factory.Sequence(lambda n: f"{n + 1}")
    title = factory.Sequence(lambda n: f"Item {n}")


class ActionFactory(DjangoModelFactory):
    class Meta:
        model = Action
        skip_postgeneration_save = True

    item = factory.SubFactory(StrategyItemFactory)
    title = factory.Sequence(lambda n: f"Action {n}")
    description = "A synthetic action for tests."
    status = ActionStatus.ON_TRACK
    order = factory.Sequence(lambda n: n)

    @factory.post_generation
    def leads(self, create, extracted, **kwargs):
        if create and extracted:
            self.lead_organisations.set(extracted)

    @factory.post_generation
    def supporters(self, create, extracted, **kwargs):
        if create and extracted:
            self.supporting_organisations.set(extracted)


class ReportingPeriodFactory(DjangoModelFactory):
    class Meta:
        model = ReportingPeriod
        django_get_or_create = ("label",)

    label = "June 2023"
    start = dt.date(2023, 1, 1)
    end = dt.date(2023, 6, 30)
