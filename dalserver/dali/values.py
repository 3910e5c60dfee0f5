"""DALI literal values shared by SIA and SODA: intervals, circles, polygons and the POS shapes.

Parsing only: each function returns a checked value or raises ``ValueError`` with a message that
names what is wrong, for the caller to wrap in its protocol's fault ("UsageFault", "UsageError").
Angles are ICRS degrees throughout (SIA 2.0 sec. 2.1.1, SODA 1.0 sec. 3.3).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Interval:
    """A closed interval; an open end is -inf or +inf."""

    low: float
    high: float


@dataclass(frozen=True)
class Circle:
    ra: float
    dec: float
    radius: float


@dataclass(frozen=True)
class Polygon:
    vertices: tuple[tuple[float, float], ...]  # (ra, dec), at least three


@dataclass(frozen=True)
class Range:
    """RANGE lon1 lon2 lat1 lat2; lon1 > lon2 wraps through 0 (e.g. RANGE 350 10 ...)."""

    ra_min: float
    ra_max: float
    dec_min: float
    dec_max: float

    @property
    def full_ra(self) -> bool:
        return self.ra_max - self.ra_min >= 360.0


Shape = Circle | Polygon | Range
# a shape's parser: its text and the parameter it came in, which messages name
ShapeParser = Callable[[str, str], Shape]


def _numbers(text: str, what: str) -> list[float]:
    values = []
    for word in text.split():
        try:
            value = float(word)
        except ValueError:
            raise ValueError(f"{what}: {word!r} is not a number") from None
        if math.isnan(value):
            raise ValueError(f"{what}: NaN is not a usable value")
        values.append(value)
    return values


def _finite(values: list[float], what: str) -> None:
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{what}: only RANGE and intervals may use -Inf or +Inf")


def _check_position(ra: float, dec: float, what: str) -> None:
    if not 0.0 <= ra <= 360.0:
        raise ValueError(f"{what}: right ascension {ra:g} is outside [0, 360] degrees")
    if not -90.0 <= dec <= 90.0:
        raise ValueError(f"{what}: declination {dec:g} is outside [-90, 90] degrees")


def parse_interval(text: str, what: str) -> Interval:
    """``low high`` (either may be -Inf/+Inf) or one number, meaning [v, v]."""
    values = _numbers(text, what)
    if len(values) == 1:
        if not math.isfinite(values[0]):
            raise ValueError(f"{what}: a single value must be finite, not {text.strip()!r}")
        return Interval(values[0], values[0])
    if len(values) != 2:
        raise ValueError(f"{what}: expected one number or two (low high, -Inf/+Inf for open ends), got {text!r}")
    low, high = values
    if low > high:
        raise ValueError(f"{what}: the lower bound {low:g} is greater than the upper bound {high:g}")
    if low == math.inf or high == -math.inf:
        raise ValueError(f"{what}: the interval {text.strip()!r} is empty")
    return Interval(low, high)


def parse_circle(text: str, what: str = "CIRCLE") -> Circle:
    """``ra dec radius`` in degrees."""
    values = _numbers(text, what)
    if len(values) != 3:
        raise ValueError(f"{what}: a circle is 'ra dec radius' (three numbers), got {len(values)}")
    _finite(values, what)
    ra, dec, radius = values
    _check_position(ra, dec, what)
    if not 0.0 < radius <= 180.0:
        raise ValueError(f"{what}: the radius must be in (0, 180] degrees, not {radius:g}")
    return Circle(ra, dec, radius)


def parse_polygon(text: str, what: str = "POLYGON") -> Polygon:
    """``ra1 dec1 ra2 dec2 ra3 dec3 ...`` in degrees, at least three vertices."""
    values = _numbers(text, what)
    if len(values) % 2:
        raise ValueError(f"{what}: a polygon needs pairs of numbers (ra dec), got {len(values)} numbers")
    if len(values) < 6:
        raise ValueError(f"{what}: a polygon needs at least 3 vertices, got {len(values) // 2}")
    _finite(values, what)
    vertices = tuple(zip(values[0::2], values[1::2], strict=True))
    for ra, dec in vertices:
        _check_position(ra, dec, what)
    if len(set(vertices)) < 3:
        raise ValueError(f"{what}: a polygon needs at least 3 distinct vertices")
    return Polygon(vertices)


def parse_range(text: str, what: str = "POS RANGE") -> Range:
    values = _numbers(text, what)
    if len(values) != 4:
        raise ValueError(f"{what}: a range is 'ra1 ra2 dec1 dec2', got {len(values)} numbers")
    ra1, ra2, dec1, dec2 = values
    if ra1 == -math.inf:
        ra1 = 0.0
    if ra2 == math.inf:
        ra2 = 360.0
    dec1, dec2 = max(dec1, -90.0), min(dec2, 90.0)
    _finite([ra1, ra2, dec1, dec2], what)
    _check_position(ra1, dec1, what)
    _check_position(ra2, dec2, what)
    if dec1 > dec2:
        raise ValueError(f"{what}: the lower declination {dec1:g} is greater than the upper {dec2:g}")
    return Range(ra1, ra2, dec1, dec2)


_POS_SHAPES: dict[str, ShapeParser] = {"CIRCLE": parse_circle, "POLYGON": parse_polygon, "RANGE": parse_range}


def parse_pos(text: str, what: str = "POS") -> Shape:
    """A POS value: a shape keyword (CIRCLE, RANGE, POLYGON) and its numbers."""
    words = text.split(maxsplit=1)
    if not words:
        raise ValueError(f"{what}: empty value; use CIRCLE ra dec r, RANGE ra1 ra2 dec1 dec2 or POLYGON ra1 dec1 ...")
    keyword = words[0].upper()
    parse = _POS_SHAPES.get(keyword)
    if parse is None:
        raise ValueError(
            f"{what}: unknown shape {words[0]!r}; use CIRCLE ra dec r, RANGE ra1 ra2 dec1 dec2 or POLYGON ra1 dec1 ..."
        )
    return parse(words[1] if len(words) > 1 else "", f"{what} {keyword}")
