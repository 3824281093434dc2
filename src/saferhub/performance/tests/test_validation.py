"""Validation rules over a return's figures: breakdown totals, months to quarter, expressions with
missing-value strategies, pairs, and which services a rule applies to."""
import pytest

from saferhub.commissioning.models import Service
from saferhub.core.factories import OrganisationFactory
from saferhub.performance.models import (
    Breakdown, BreakdownOption, DataElement, Frequency, Importance, MissingValueStrategy, Operator, RuleKind,
    ValidationRule,
)
from saferhub.performance.periods import FinancialQuarter
from saferhub.performance.selectors import elements_by_slug
from saferhub.performance.validation import ValueSet, validate_values

Q3 = FinancialQuarter.parse("2023/24-Q3")


@pytest.fixture
def framework(db):
    provider = OrganisationFactory()
    service = Service.objects.create(slug="hub", name="The Hub", provider=provider)
    gender = Breakdown.objects.create(slug="gender", name="Gender")
    for n, code in enumerate(["female", "male", "missing"]):
        BreakdownOption.objects.create(breakdown=gender, code=code, label=code.title(), order=n)
    DataElement.objects.create(slug="individuals", name="Individuals", breakdown=gender)
    DataElement.objects.create(slug="enquiries", name="Enquiries", frequency=Frequency.MONTHLY)
    rules = {
        "totals": ValidationRule.objects.create(slug="totals", name="Breakdowns add up", kind=RuleKind.BREAKDOWN_TOTALS, message="Breakdown differs"),
        "months": ValidationRule.objects.create(slug="months", name="Months add up", kind=RuleKind.MONTHS_TO_QUARTER,
                                                left_missing=MissingValueStrategy.NEVER_SKIP, message="Months differ"),
        "fewer": ValidationRule.objects.create(slug="fewer", name="No more individuals than enquiries",
                                               left_side="#{individuals}", operator=Operator.LESS_OR_EQUAL,
                                               right_side="#{enquiries}", message="Too many individuals"),
    }
    return service, rules


def run(service, values, rules):
    return validate_values(service=service, values=values, rules=list(rules), elements=elements_by_slug())


def test_breakdown_one_short_of_its_total_is_an_error(framework):
    service, rules = framework
    values = ValueSet(Q3)
    values.set("individuals", 1627)
    for code, v in {"female": 1430, "male": 160, "missing": 36}.items():
        values.set("individuals", v, option=code)
    [violation] = run(service, values, [rules["totals"]])
    assert violation.is_error
    assert (violation.left_value, violation.right_value) == (1626, 1627)
    assert "Individuals by gender" in violation.left_label
    assert "The Hub" in violation.describe() and "1,626" in violation.describe() and "1,627" in violation.describe()


def test_breakdown_that_adds_up_passes(framework):
    service, rules = framework
    values = ValueSet(Q3)
    values.set("individuals", 10)
    values.set("individuals", 6, option="female")
    values.set("individuals", 4, option="male")
    assert run(service, values, [rules["totals"]]) == []


def test_months_must_add_up_to_the_quarter_and_a_missing_month_counts(framework):
    service, rules = framework
    values = ValueSet(Q3)
    values.set("enquiries", 2491)
    for month, v in zip(Q3.months, [867, 887, 737]):
        values.set("enquiries", v, month=month)
    assert run(service, values, [rules["months"]]) == []
    del values.values[next(k for k in values.values if k.period_start == Q3.months[2])]
    [violation] = run(service, values, [rules["months"]])
    assert violation.left_value == 867 + 887 and "missing December 2023" in violation.left_label


def test_expression_rule_uses_the_quarter_sum_of_monthly_figures(framework):
    service, rules = framework
    values = ValueSet(Q3)
    values.set("individuals", 50)
    for month in Q3.months:
        values.set("enquiries", 10, month=month)
    [violation] = run(service, values, [rules["fewer"]])
    assert (violation.left_value, violation.right_value) == (50, 30)


def test_skip_if_any_value_missing_skips_the_rule(framework):
    service, rules = framework
    values = ValueSet(Q3)
    values.set("individuals", 50)
    assert run(service, values, [rules["fewer"]]) == []


def test_never_skip_treats_missing_as_zero(framework):
    service, rules = framework
    rule = rules["fewer"]
    rule.right_missing = MissingValueStrategy.NEVER_SKIP
    values = ValueSet(Q3)
    values.set("individuals", 5)
    [violation] = run(service, values, [rule])
    assert violation.right_value == 0


@pytest.mark.parametrize("operator, present, broken", [
    (Operator.COMPULSORY_PAIR, ("individuals",), True),
    (Operator.COMPULSORY_PAIR, ("individuals", "enquiries"), False),
    (Operator.COMPULSORY_PAIR, (), False),
    (Operator.EXCLUSIVE_PAIR, ("individuals", "enquiries"), True),
    (Operator.EXCLUSIVE_PAIR, ("enquiries",), False),
])
def test_pair_operators(framework, operator, present, broken):
    service, _ = framework
    rule = ValidationRule.objects.create(slug=f"pair-{operator}", name="Pair", left_side="#{individuals}",
                                         operator=operator, right_side="#{enquiries}", message="Pair broken",
                                         importance=Importance.WARNING)
    values = ValueSet(Q3)
    for slug in present:
        values.set(slug, 1)
    found = run(service, values, [rule])
    assert bool(found) == broken
    assert all(not v.is_error for v in found)


def test_rule_limited_to_other_services_does_not_apply(framework):
    service, rules = framework
    other = Service.objects.create(slug="other", name="Other", provider=service.provider)
    rules["fewer"].services.add(other)
    values = ValueSet(Q3)
    values.set("individuals", 50)
    values.set("enquiries", 1)
    assert run(service, values, [rules["fewer"]]) == []
    assert len(run(other, values, [rules["fewer"]])) == 1
