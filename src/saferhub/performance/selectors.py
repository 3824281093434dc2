"""Reads of performance data."""
from __future__ import annotations

from saferhub.performance.models import DataElement, DataReturn, DataValue, ValidationRule
from saferhub.performance.periods import FinancialQuarter
from saferhub.performance.validation import ValueKey, ValueSet, Violation, validate_values


def elements_by_slug() -> dict[str, DataElement]:
    return {e.slug: e for e in DataElement.objects.select_related("breakdown").prefetch_related("breakdown__options")}


def active_rules() -> list[ValidationRule]:
    return list(ValidationRule.objects.filter(active=True).prefetch_related("services"))


def return_values(data_return: DataReturn) -> ValueSet:
    """The figures held for a return's service and quarter."""
    quarter = FinancialQuarter.from_date(data_return.quarter_start)
    rows = DataValue.objects.filter(data_return=data_return).values_list(
        "data_element__slug", "option__code", "period_type", "period_start", "value")
    return ValueSet(quarter, {ValueKey(slug, code, ptype, start): value for slug, code, ptype, start, value in rows})


def return_violations(data_return: DataReturn, *, rules=None, elements=None) -> list[Violation]:
    return validate_values(
        service=data_return.service, values=return_values(data_return),
        rules=rules if rules is not None else active_rules(),
        elements=elements if elements is not None else elements_by_slug(),
    )


def period_violations(quarter: FinancialQuarter) -> list[tuple[DataReturn, list[Violation]]]:
    """Every return of the quarter with its violations, services in name order."""
    rules, elements = active_rules(), elements_by_slug()
    returns = DataReturn.objects.filter(quarter_start=quarter.start).select_related("service").order_by("service__name")
    return [(r, return_violations(r, rules=rules, elements=elements)) for r in returns]
