"""Remote ``s_region`` values into pgsphere polygons: STC-S (``Polygon ICRS 10 20 ...``,
``Circle ICRS 10 20 0.5``) as ObsCore 1.1 asks, and DALI polygons and circles (bare numbers,
told by the FIELD's xtype) as some services send them.

A value that is not a region at all (unknown words, numbers missing, a declination beyond a pole)
is an error: the row is malformed. A well-formed region pgsphere cannot hold as one polygon
(Union, Position, Box, another frame) gives None: the row is kept without a footprint. A circle
becomes the polygon of ``CIRCLE_VERTICES`` vertices that encloses it. Whether pgsphere takes a
polygon (edges crossing, degenerate shapes) is left to pgsphere itself when the rows are stored.
"""

from __future__ import annotations

import math

CIRCLE_VERTICES = 32
_SHAPES = {"POLYGON", "CIRCLE", "BOX", "POSITION", "UNION", "INTERSECTION", "NOT", "CONVEX", "ELLIPSE"}
# Frames whose coordinates are ICRS's to well under an arcsecond (FK5 J2000's offset is ~20 mas).
_ICRS_LIKE = {"ICRS", "FK5", "J2000", "UNKNOWNFRAME"}
_OTHER_FRAMES = {"GALACTIC", "FK4", "B1950", "ECLIPTIC", "GALACTIC_II", "SUPER_GALACTIC", "GEO_C", "GEO_D"}
_REFPOS = {"GEOCENTER", "BARYCENTER", "HELIOCENTER", "TOPOCENTER", "UNKNOWNREFPOS", "LSR", "LSRK", "LSRD"}
_FLAVORS = {"SPHERICAL2", "UNITSPHERE", "CARTESIAN2", "CARTESIAN3"}

Vertices = list[tuple[float, float]]


class RegionError(ValueError):
    """The value is not a region."""


def _numbers(words: list[str], text: str) -> list[float]:
    try:
        values = [float(w) for w in words]
    except ValueError:
        raise RegionError(f"not a number in {text[:80]!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise RegionError(f"a coordinate is not finite in {text[:80]!r}")
    return values


def _check_dec(dec: float, text: str) -> None:
    if not -90.0 <= dec <= 90.0:
        raise RegionError(f"declination {dec} beyond a pole in {text[:80]!r}")


def _polygon(values: list[float], text: str) -> Vertices:
    if len(values) % 2 or len(values) < 6:
        raise RegionError(f"a polygon needs three vertices or more, as pairs of numbers: {text[:80]!r}")
    vertices = [(values[i] % 360.0, values[i + 1]) for i in range(0, len(values), 2)]
    for _, dec in vertices:
        _check_dec(dec, text)
    # Drop repeated vertices (many services close the polygon by repeating the first one).
    kept: Vertices = []
    for vertex in vertices:
        if not kept or vertex != kept[-1]:
            kept.append(vertex)
    if len(kept) > 1 and kept[0] == kept[-1]:
        kept.pop()
    if len(kept) < 3:
        raise RegionError(f"a polygon with fewer than three distinct vertices: {text[:80]!r}")
    return kept


def circle_polygon(ra: float, dec: float, radius: float) -> Vertices:
    """The polygon whose edges touch the circle from outside (it contains the circle)."""
    if not 0.0 < radius < 90.0:
        raise RegionError(f"circle radius {radius} is not between 0 and 90 degrees")
    _check_dec(dec, f"Circle {ra} {dec} {radius}")
    # A regular polygon around the centre: vertices at the circumradius, found by spherical
    # trigonometry, so the edges' midpoints lie on the circle (tan R = tan r / cos(pi/n)).
    reach = math.atan(math.tan(math.radians(radius)) / math.cos(math.pi / CIRCLE_VERTICES))
    lat0, lon0 = math.radians(dec), math.radians(ra)
    out: Vertices = []
    for i in range(CIRCLE_VERTICES):
        bearing = 2 * math.pi * i / CIRCLE_VERTICES
        lat = math.asin(math.sin(lat0) * math.cos(reach) + math.cos(lat0) * math.sin(reach) * math.cos(bearing))
        lon = lon0 + math.atan2(
            math.sin(bearing) * math.sin(reach) * math.cos(lat0), math.cos(reach) - math.sin(lat0) * math.sin(lat)
        )
        out.append((math.degrees(lon) % 360.0, max(-90.0, min(90.0, math.degrees(lat)))))
    return out


def region_vertices(text: str | None, xtype: str | None = None) -> Vertices | None:
    """The polygon ``text`` describes, None when there is none to store; RegionError if it is
    not a region."""
    if text is None or not text.strip():
        return None
    words = text.replace("(", " ").replace(")", " ").split()
    kind = (xtype or "").lower()
    if kind in ("polygon", "circle") and words and _is_number(words[0]):  # DALI: numbers only
        values = _numbers(words, text)
        if kind == "circle":
            if len(values) != 3:
                raise RegionError(f"a DALI circle is three numbers: {text[:80]!r}")
            return circle_polygon(values[0], values[1], values[2])
        return _polygon(values, text)
    shape = words[0].upper()
    if shape not in _SHAPES:
        raise RegionError(f"not an STC-S region: {text[:80]!r}")
    if shape not in ("POLYGON", "CIRCLE"):
        return None  # well-formed, but not one polygon
    rest = words[1:]
    other_frame = False
    while rest and not _is_number(rest[0]):
        word = rest.pop(0).upper()
        if word in _OTHER_FRAMES:
            other_frame = True
        elif word not in _ICRS_LIKE and word not in _REFPOS and word not in _FLAVORS:
            raise RegionError(f"unknown word {word!r} in {text[:80]!r}")
    values = _numbers(rest, text)
    if shape == "CIRCLE":
        if len(values) != 3:
            raise RegionError(f"an STC-S circle is a centre and a radius: {text[:80]!r}")
        vertices = circle_polygon(values[0], values[1], values[2])
    else:
        vertices = _polygon(values, text)
    return None if other_frame else vertices


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True
