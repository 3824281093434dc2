"""Expressions over data elements: what they accept, what they refuse, how they evaluate."""
import pytest
from hypothesis import given, strategies as st

from saferhub.performance.expressions import Expression, ExpressionError, Reference


def test_references_and_arithmetic():
    expr = Expression.parse("#{calls.professional} + #{calls.survivor} * 2 - #{calls.*} / 4")
    assert expr.references == [Reference("calls", "professional"), Reference("calls", "survivor"), Reference("calls", "*")]
    values = {Reference("calls", "professional"): 166, Reference("calls", "survivor"): 74, Reference("calls", "*"): 246}
    assert expr.evaluate(values) == pytest.approx(166 + 148 - 61.5)


def test_missing_value_gives_none_unless_counted_as_zero():
    expr = Expression.parse("#{a} + #{b}")
    assert expr.evaluate({Reference("a"): 3}) is None
    assert expr.evaluate({Reference("a"): 3}, missing_as_zero=True) == 3


def test_division_by_zero_gives_none():
    assert Expression.parse("#{a} / #{b}").evaluate({Reference("a"): 1, Reference("b"): 0}) is None


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')", "#{a} ** 2", "open('x')", "#{A}", "#{a} +", "", "[1]", "'text'",
    "#{a}.real", "lambda: 1",
])
def test_anything_but_arithmetic_is_refused(text):
    with pytest.raises(ExpressionError):
        Expression.parse(text)


@given(st.text(max_size=40))
def test_arbitrary_text_never_runs_code(text):
    try:
        expr = Expression.parse(text)
    except ExpressionError:
        return
    # Whatever parsed is arithmetic over references only.
    values = {ref: 1.0 for ref in expr.references}
    result = expr.evaluate(values)
    assert result is None or isinstance(result, float)
