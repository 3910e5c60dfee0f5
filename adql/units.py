"""Units for IN_UNIT, with astropy.units reading VO unit strings: the unit a computed value has
(products, quotients, powers of its operands) and the factor from one unit to another."""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any

from adql import ast
from adql.errors import ADQLCode, ADQLError


def _units() -> Any:
    """astropy.units, imported when a query first needs a unit (IN_UNIT): it costs ~30 MB and 0.3 s."""
    import astropy.units

    return astropy.units


# Keyed by what queries say (IN_UNIT, exponents): bounded, so a stream of new strings cannot
# grow a worker without end; the few units of the published columns stay in.
_MEMO = 4096


@lru_cache(maxsize=_MEMO)
def _parse_or_none(text: str) -> Any:
    """Parsed unit, or None; failures are cached too, as astropy takes milliseconds to fail."""
    u = _units()
    for fmt in ("vounit", "generic"):
        try:
            with warnings.catch_warnings():
                # Deprecated VO units (Angstrom, ...) still convert correctly; users write them.
                warnings.simplefilter("ignore", u.UnitsWarning)
                return u.Unit(text, format=fmt)
        except ValueError:
            continue
    return None


def _text(unit: Any) -> str | None:
    try:
        return str(unit.to_string("vounit"))
    except ValueError:
        return None


@lru_cache(maxsize=_MEMO)
def combined(op: str, left: str | None, right: str | None) -> str | None:
    """The unit of ``left op right`` for * and /, or None when it does not follow."""
    u = _units()
    a = _parse_or_none(left) if left else u.dimensionless_unscaled
    b = _parse_or_none(right) if right else u.dimensionless_unscaled
    if a is None or b is None or (not left and not right):
        return None
    result = a * b if op == "*" else a / b
    if result == u.dimensionless_unscaled:
        return None
    return _text(result)


@lru_cache(maxsize=_MEMO)
def powered(unit: str | None, exponent: float) -> str | None:
    """The unit of a value in ``unit`` raised to ``exponent``, or None."""
    base = _parse_or_none(unit) if unit else None
    if base is None:
        return None
    try:
        return _text(base**exponent)
    except (ValueError, TypeError):
        return None


def unit_factor(source: str, target: str, node: ast.Node) -> float:
    """The factor taking a value in ``source`` to ``target``; an ADQLError if they are incompatible."""
    src, dst = _parse_or_none(source), _parse_or_none(target)
    if src is None:
        raise ADQLError.at(ADQLCode.TYPE, f"IN_UNIT: the value's unit {source!r} is not a VO unit", node)
    if dst is None:
        raise ADQLError.at(ADQLCode.TYPE, f"IN_UNIT: {target!r} is not a VO unit", node)
    try:
        return float(src.to(dst))
    except _units().UnitConversionError:
        raise ADQLError.at(
            ADQLCode.TYPE, f"IN_UNIT: cannot convert {source!r} to {target!r}: incompatible units", node
        ) from None
