"""Running validation rules over the figures of a return (or any service and quarter)."""
from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass

from saferhub.core.formatting import number
from saferhub.performance.expressions import Expression, ExpressionError, Reference
from saferhub.performance.models import (
    DataElement, Frequency, Importance, MissingValueStrategy, Operator, PeriodType, RuleKind, ValidationRule,
)
from saferhub.performance.periods import FinancialQuarter, month_label

# Figures are counts and hours with at most a decimal or two: equal within this tolerance.
TOLERANCE = 1e-6


@dataclass(frozen=True)
class ValueKey:
    element: str
    option: str | None
    period_type: str
    period_start: dt.date


class ValueSet:
    """The figures of one service for one quarter, keyed by element slug, option code and period."""

    def __init__(self, quarter: FinancialQuarter, values: dict[ValueKey, float] | None = None):
        self.quarter = quarter
        self.values: dict[ValueKey, float] = dict(values or {})

    def set(self, element: str, value: float, option: str | None = None, month: dt.date | None = None) -> None:
        if month is None:
            key = ValueKey(element, option, PeriodType.QUARTER, self.quarter.start)
        else:
            key = ValueKey(element, option, PeriodType.MONTH, month)
        self.values[key] = float(value)

    def get(self, element: str, option: str | None = None, month: dt.date | None = None) -> float | None:
        if month is None:
            return self.values.get(ValueKey(element, option, PeriodType.QUARTER, self.quarter.start))
        return self.values.get(ValueKey(element, option, PeriodType.MONTH, month))

    def quarter_value(self, element: str, option: str | None = None) -> float | None:
        """The quarter's figure: as reported, or else the sum of the months reported."""
        value = self.get(element, option)
        if value is not None:
            return value
        months = [self.get(element, option, m) for m in self.quarter.months]
        present = [v for v in months if v is not None]
        return sum(present) if present else None

    def options_reported(self, element: str) -> set[str]:
        return {k.option for k in self.values if k.element == element and k.option is not None}

    def elements(self) -> set[str]:
        return {k.element for k in self.values}

    def resolve(self, ref: Reference, option_codes: list[str]) -> float | None:
        if ref.option == "*":
            parts = [self.quarter_value(ref.element, code) for code in option_codes]
            present = [p for p in parts if p is not None]
            return sum(present) if present else None
        return self.quarter_value(ref.element, ref.option)


@dataclass
class Violation:
    rule: ValidationRule
    service_name: str
    quarter: FinancialQuarter
    left_label: str
    left_value: float | None
    right_label: str
    right_value: float | None
    message: str

    @property
    def importance(self) -> str:
        return self.rule.importance

    @property
    def is_error(self) -> bool:
        return self.rule.importance == Importance.ERROR

    def describe(self) -> str:
        def side(label, value):
            return f"{label} = {number(value) if value is not None else 'missing'}"

        return (
            f"{self.service_name} {self.quarter.label}: [{self.rule.get_importance_display().split(':')[0]}] "
            f"{self.rule.name}: {self.message} ({side(self.left_label, self.left_value)}; "
            f"{side(self.right_label, self.right_value)})"
        )


def _compare(operator: str, left: float, right: float) -> bool:
    if operator == Operator.EQUAL:
        return math.isclose(left, right, abs_tol=TOLERANCE)
    if operator == Operator.NOT_EQUAL:
        return not math.isclose(left, right, abs_tol=TOLERANCE)
    if operator == Operator.GREATER:
        return left > right + TOLERANCE
    if operator == Operator.GREATER_OR_EQUAL:
        return left >= right - TOLERANCE
    if operator == Operator.LESS:
        return left < right - TOLERANCE
    if operator == Operator.LESS_OR_EQUAL:
        return left <= right + TOLERANCE
    raise ValueError(f"Unknown operator {operator}")


def _side(expression: Expression, values: ValueSet, options: dict[str, list[str]], strategy: str):
    """(value, skip): the side's value under its missing-value strategy."""
    resolved = {ref: values.resolve(ref, options.get(ref.element, [])) for ref in expression.references}
    missing = [ref for ref, v in resolved.items() if v is None]
    if strategy == MissingValueStrategy.SKIP_IF_ANY_VALUE_MISSING and missing:
        return None, True
    if strategy == MissingValueStrategy.SKIP_IF_ALL_VALUES_MISSING and resolved and len(missing) == len(resolved):
        return None, True
    return expression.evaluate(resolved, missing_as_zero=True), False


def _expression_rule(rule, service_name, values, options) -> list[Violation]:
    left_expr, right_expr = Expression.parse(rule.left_side), Expression.parse(rule.right_side)
    if rule.operator in (Operator.COMPULSORY_PAIR, Operator.EXCLUSIVE_PAIR):
        left = _side(left_expr, values, options, MissingValueStrategy.SKIP_IF_ALL_VALUES_MISSING)[0]
        right = _side(right_expr, values, options, MissingValueStrategy.SKIP_IF_ALL_VALUES_MISSING)[0]
        present = (left is not None, right is not None)
        broken = present[0] != present[1] if rule.operator == Operator.COMPULSORY_PAIR else all(present)
    else:
        left, skip_left = _side(left_expr, values, options, rule.left_missing)
        right, skip_right = _side(right_expr, values, options, rule.right_missing)
        if skip_left or skip_right or left is None or right is None:
            return []
        broken = not _compare(rule.operator, left, right)
    if not broken:
        return []
    return [Violation(rule, service_name, values.quarter, rule.left_side, left, rule.right_side, right, rule.message)]


def _breakdown_rule(rule, service_name, values, elements: dict[str, DataElement], options) -> list[Violation]:
    found = []
    for slug in sorted(values.elements()):
        element = elements.get(slug)
        if element is None or element.breakdown_id is None or not values.options_reported(slug):
            continue
        periods = [None] + (values.quarter.months if element.frequency == Frequency.MONTHLY else [])
        for month in periods:
            total = values.get(slug, None, month)
            parts = [values.get(slug, code, month) for code in options[slug]]
            if total is None or all(p is None for p in parts):
                continue
            parts_sum = sum(p for p in parts if p is not None)
            if not math.isclose(parts_sum, total, abs_tol=TOLERANCE):
                when = month_label(month) if month else values.quarter.label
                found.append(Violation(
                    rule, service_name, values.quarter,
                    f"{element.name} by {element.breakdown.name.lower()} ({when})", parts_sum,
                    f"{element.name} total ({when})", total,
                    rule.message or "The breakdown does not add up to the total",
                ))
    return found


def _months_rule(rule, service_name, values, elements: dict[str, DataElement], options) -> list[Violation]:
    found = []
    for slug in sorted(values.elements()):
        element = elements.get(slug)
        if element is None or element.frequency != Frequency.MONTHLY:
            continue
        for option in [None, *options.get(slug, [])]:
            total = values.get(slug, option)
            months = [values.get(slug, option, m) for m in values.quarter.months]
            if total is None or all(m is None for m in months):
                continue
            if any(m is None for m in months) and rule.left_missing != MissingValueStrategy.NEVER_SKIP:
                continue
            months_sum = sum(m for m in months if m is not None)
            if not math.isclose(months_sum, total, abs_tol=TOLERANCE):
                name = element.name + (f" ({option})" if option else "")
                missing = [month_label(m) for m, v in zip(values.quarter.months, months) if v is None]
                label = f"{name}: sum of months" + (f" (missing {', '.join(missing)})" if missing else "")
                found.append(Violation(
                    rule, service_name, values.quarter, label, months_sum, f"{name}: {values.quarter.label} total", total,
                    rule.message or "The months do not add up to the quarter",
                ))
    return found


def rule_check_syntax(rule: ValidationRule) -> list[str]:
    """Problems with a rule's expressions, for the rule form and the loader."""
    problems = []
    if rule.kind == RuleKind.EXPRESSION:
        for side_name, text in (("left side", rule.left_side), ("right side", rule.right_side)):
            try:
                Expression.parse(text)
            except ExpressionError as exc:
                problems.append(f"{side_name}: {exc}")
    return problems


def validate_values(
    *, service, values: ValueSet, rules: list[ValidationRule], elements: dict[str, DataElement]
) -> list[Violation]:
    """Every violation of `rules` by one service's figures for one quarter. `elements` maps slug to
    DataElement (with breakdown and its options prefetched)."""
    options = {
        slug: [o.code for o in element.breakdown.options.all()] if element.breakdown_id else []
        for slug, element in elements.items()
    }
    reported = values.elements()
    found: list[Violation] = []
    for rule in rules:
        rule_services = {s.pk for s in rule.services.all()}
        if not rule.active or (rule_services and service.pk not in rule_services):
            continue
        if rule.kind == RuleKind.EXPRESSION:
            named = {ref.element for text in (rule.left_side, rule.right_side) for ref in Expression.parse(text).references}
            if not named & reported:
                continue
            found += _expression_rule(rule, service.name, values, options)
        elif rule.kind == RuleKind.BREAKDOWN_TOTALS:
            found += _breakdown_rule(rule, service.name, values, elements, options)
        elif rule.kind == RuleKind.MONTHS_TO_QUARTER:
            found += _months_rule(rule, service.name, values, elements, options)
    return found


def group_by_importance(violations: list[Violation]) -> dict[str, list[Violation]]:
    grouped: dict[str, list[Violation]] = defaultdict(list)
    for v in violations:
        grouped[v.importance].append(v)
    return grouped
