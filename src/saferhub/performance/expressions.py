"""Expressions over data elements, used by validation rules and computed indicators.

#{slug} is a data element's total for the period, #{slug.option} one breakdown option, and
#{slug.*} the sum of all its options. Numbers, + - * / and brackets are allowed; nothing else is
evaluated, so an expression typed by an administrator cannot run code."""
from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass, field

REFERENCE = re.compile(r"#\{\s*([a-z0-9][a-z0-9_-]*)(?:\.(\*|[a-z0-9][a-z0-9_-]*))?\s*\}")

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


class ExpressionError(ValueError):
    pass


@dataclass(frozen=True)
class Reference:
    element: str
    option: str | None = None  # None: the total; "*": all options summed

    def __str__(self) -> str:
        return "#{" + self.element + ("." + self.option if self.option else "") + "}"


@dataclass
class Expression:
    text: str
    references: list[Reference] = field(default_factory=list)
    _tree: ast.Expression | None = None

    @classmethod
    def parse(cls, text: str) -> "Expression":
        text = (text or "").strip()
        if not text:
            raise ExpressionError("The expression is empty")
        references: list[Reference] = []

        def name_for(match: re.Match) -> str:
            ref = Reference(match.group(1), match.group(2))
            if ref not in references:
                references.append(ref)
            return f"_r{references.index(ref)}"

        python = REFERENCE.sub(name_for, text)
        if "#" in python:
            raise ExpressionError(f"'{text}': a reference must look like #{{data-element}} or #{{data-element.option}}")
        try:
            tree = ast.parse(python, mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(f"'{text}' is not a valid expression") from exc
        for node in ast.walk(tree):
            allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load, *_BINARY, *_UNARY)
            if not isinstance(node, allowed) or (isinstance(node, ast.Constant) and not isinstance(node.value, (int, float))):
                raise ExpressionError(f"'{text}' may use only numbers, data element references, + - * / and brackets")
            if isinstance(node, ast.Name) and not re.fullmatch(r"_r\d+", node.id):
                raise ExpressionError(f"'{text}': unknown name '{node.id}'")
        return cls(text=text, references=references, _tree=tree)

    def evaluate(self, values: dict[Reference, float | None], missing_as_zero: bool = False) -> float | None:
        """The expression's value, or None when a value it needs is missing (unless
        missing_as_zero) or it divides by zero."""
        resolved = []
        for ref in self.references:
            value = values.get(ref)
            if value is None:
                if not missing_as_zero:
                    return None
                value = 0.0
            resolved.append(float(value))

        def walk(node):
            if isinstance(node, ast.Expression):
                return walk(node.body)
            if isinstance(node, ast.Constant):
                return float(node.value)
            if isinstance(node, ast.Name):
                return resolved[int(node.id[2:])]
            if isinstance(node, ast.UnaryOp):
                return _UNARY[type(node.op)](walk(node.operand))
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Div) and right == 0:
                raise ZeroDivisionError
            return _BINARY[type(node.op)](left, right)

        try:
            return walk(self._tree)
        except ZeroDivisionError:
            return None
