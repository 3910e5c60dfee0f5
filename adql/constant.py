"""The value of an expression over numeric literals (``2/3600.0``), where one can be known
before the query runs: for range checks (circle radii) and the index rewrites."""

from __future__ import annotations

import operator
from collections.abc import Callable

from adql import ast

_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


def constant_value(expr: ast.Expr) -> float | None:
    """The value of an arithmetic expression over numeric literals, else None. Integers stay
    integers, so that their division truncates as in ADQL (and PostgreSQL): 180/2 + 1 is 91."""
    if isinstance(expr, ast.IntegerLiteral):
        return int(ast.number_text(expr))
    if isinstance(expr, ast.RealLiteral):
        return float(ast.number_text(expr))
    if isinstance(expr, ast.Unary) and expr.op == "-":
        value = constant_value(expr.operand)
        return None if value is None else -value
    if isinstance(expr, ast.Binary) and expr.op in _ARITHMETIC:
        left, right = constant_value(expr.left), constant_value(expr.right)
        if left is None or right is None or (expr.op == "/" and right == 0):
            return None
        if expr.op == "/" and isinstance(left, int) and isinstance(right, int):
            quotient = abs(left) // abs(right)
            return quotient if (left < 0) == (right < 0) else -quotient
        return _ARITHMETIC[expr.op](left, right)
    return None
