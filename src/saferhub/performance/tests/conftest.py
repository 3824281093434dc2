"""A small synthetic performance framework: one service reporting monthly enquiries and
individuals by gender, with the two declarative rules and one warning rule."""
import pytest

from saferhub.commissioning.models import Service
from saferhub.performance.models import (
    Breakdown, BreakdownOption, DataElement, Frequency, Importance, MissingValueStrategy, Operator, RuleKind,
    ValidationRule,
)


@pytest.fixture
def hub(db, organisation, other_organisation):
    """The Hub, provided by IDAS (other_organisation)."""
    service = Service.objects.create(slug="hub", name="The Hub", provider=other_organisation)
    gender = Breakdown.objects.create(slug="gender", name="Gender")
    for n, code in enumerate(["female", "male", "missing"]):
        BreakdownOption.objects.create(breakdown=gender, code=code, label=code.title(), order=n)
    enquiries = DataElement.objects.create(slug="enquiries", name="Enquiries", frequency=Frequency.MONTHLY, order=1)
    individuals = DataElement.objects.create(slug="individuals", name="Individuals", breakdown=gender, order=2)
    enquiries.services.add(service)
    individuals.services.add(service)
    ValidationRule.objects.create(slug="totals", name="Breakdowns add up", kind=RuleKind.BREAKDOWN_TOTALS, message="Breakdown differs")
    ValidationRule.objects.create(slug="months", name="Months add up", kind=RuleKind.MONTHS_TO_QUARTER,
                                  left_missing=MissingValueStrategy.NEVER_SKIP, message="Months differ")
    ValidationRule.objects.create(slug="many-repeat-enquiries", name="Repeat enquiries", left_side="#{enquiries}",
                                  operator=Operator.LESS_OR_EQUAL, right_side="#{individuals} * 2",
                                  importance=Importance.WARNING, message="Over two enquiries per individual")
    return service
