"""The STC-S subset ADQL's REGION accepts: Position, Circle, Box and Polygon, in ICRS."""

from __future__ import annotations

from dataclasses import dataclass

from adql import ast
from adql.errors import ADQLCode, ADQLError

_SHAPES = {
    "POSITION": ("point", 2, 2),
    "CIRCLE": ("circle", 3, 3),
    "BOX": ("box", 4, 4),
    "POLYGON": ("polygon", 6, None),
}
_FRAMES = {"ICRS", "UNKNOWNFRAME"}
_REFPOS = {"GEOCENTER", "BARYCENTER", "HELIOCENTER", "TOPOCENTER", "UNKNOWNREFPOS", "LSR", "LSRK", "LSRD"}
_FLAVORS = {"SPHERICAL2", "UNITSPHERE", "CARTESIAN2"}


@dataclass(frozen=True)
class Shape:
    shape: str  # point, circle, box, polygon
    numbers: tuple[float, ...]


def parse_stcs(text: str, node: ast.Node) -> Shape:
    """Parse ``text``; raise an ADQLError naming what is wrong or unsupported."""

    def fail(message: str) -> ADQLError:
        return ADQLError.at(ADQLCode.UNSUPPORTED, f"REGION('{text}'): {message}", node)

    words = text.split()
    if not words:
        raise fail("empty STC-S string")
    kind = words[0].upper()
    if kind not in _SHAPES:
        raise fail(f"shape {words[0]!r} is not supported; use Position, Circle, Box or Polygon")
    shape, least, most = _SHAPES[kind]
    rest = words[1:]
    while rest and not _is_number(rest[0]):
        word = rest.pop(0).upper()
        if word in _REFPOS or word in _FLAVORS:
            continue
        if word not in _FRAMES:
            raise fail(f"frame {word!r} is not supported; only ICRS")
    if not all(_is_number(w) for w in rest):
        raise fail("only numbers may follow the frame (units and other STC-S parts are not supported)")
    numbers = tuple(float(w) for w in rest)
    if len(numbers) < least or (most is not None and len(numbers) > most) or (shape == "polygon" and len(numbers) % 2):
        raise fail(f"wrong number of coordinates for {kind.title()}")
    return Shape(shape, numbers)


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True
