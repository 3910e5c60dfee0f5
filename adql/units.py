"""Unit conversion for IN_UNIT, with astropy.units reading VO unit strings."""

from __future__ import annotations

import warnings
from functools import cache

import astropy.units as u

from adql import ast
from adql.errors import ADQLError


@cache
def _parse_or_none(text: str) -> u.UnitBase | None:
    """Parsed unit, or None; failures are cached too, as astropy takes milliseconds to fail."""
    for fmt in ("vounit", "generic"):
        try:
            with warnings.catch_warnings():
                # Deprecated VO units (Angstrom, ...) still convert correctly; users write them.
                warnings.simplefilter("ignore", u.UnitsWarning)
                return u.Unit(text, format=fmt)
        except ValueError:
            continue
    return None


def _parse(text: str) -> u.UnitBase:
    unit = _parse_or_none(text)
    if unit is None:
        raise ValueError(text)
    return unit


def unit_factor(source: str, target: str, node: ast.Node) -> float:
    """The factor taking a value in ``source`` to ``target``; an ADQLError if they are incompatible."""
    try:
        src = _parse(source)
    except ValueError:
        raise ADQLError.at("ADQL-TYPE", f"IN_UNIT: the value's unit {source!r} is not a VO unit", node) from None
    try:
        dst = _parse(target)
    except ValueError:
        raise ADQLError.at("ADQL-TYPE", f"IN_UNIT: {target!r} is not a VO unit", node) from None
    try:
        return float(src.to(dst))
    except u.UnitConversionError:
        raise ADQLError.at(
            "ADQL-TYPE", f"IN_UNIT: cannot convert {source!r} to {target!r}: incompatible units", node
        ) from None
