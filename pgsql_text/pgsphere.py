"""pgsphere values as SQL and as text: the one place the translator, SIA's query builder and the
ingest spell points, circles and polygons, and where polygons read back as text are taken apart.

pgsphere works in radians; its text input takes degrees with a ``d`` suffix, which keeps every
digit of a float written with ``repr``. Every session dalserver opens reads geometry as degree
text (``pgsql_text.session``), ``{(34.5d , -5d),...}`` for a polygon.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pgsql_text.quoting import float8, quote_string

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def spoly_text(vertices: Iterable[tuple[float, float]]) -> str:
    """pgsphere's text form of a polygon, ``{(ra d, dec d), ...}``, vertices in degrees."""
    return "{" + ",".join(f"({float(ra)!r}d,{float(dec)!r}d)" for ra, dec in vertices) + "}"


def spoly_vertices(text: str | None) -> tuple[tuple[float, float], ...]:
    """The vertices (ra, dec in degrees) of a polygon in pgsphere's degree text, ``{(34.5d , -5d),...}``;
    none for NULL."""
    numbers = [float(n) for n in _NUMBER.findall(text or "")]
    return tuple(zip(numbers[0::2], numbers[1::2], strict=False))


def spoly_literal(vertices: Iterable[tuple[float, float]]) -> str:
    """A constant polygon (degrees) as an SQL expression of type spoly."""
    return f"CAST({quote_string(spoly_text(vertices))} AS spoly)"


def spoint_sql(ra_sql: str, dec_sql: str) -> str:
    """A point from two SQL expressions in degrees: the form the position indexes are built on."""
    return f"spoint(radians({ra_sql}), radians({dec_sql}))"


def healpix_key_sql(order: int, ra_sql: str, dec_sql: str) -> str:
    """A position's HEALPix key: the expression a catalogue's key B-tree (or its partitions) is
    built on, and the one the translator's range covers name, character for character."""
    return f"healpix_nest({int(order)}, {spoint_sql(ra_sql, dec_sql)})"


def spoint_literal(ra: float, dec: float) -> str:
    return spoint_sql(float8(ra), float8(dec))


def scircle_sql(centre_sql: str, radius_sql: str) -> str:
    """A circle around an spoint expression, the radius an SQL expression in degrees."""
    return f"scircle({centre_sql}, radians({radius_sql}))"


def scircle_literal(ra: float, dec: float, radius: float) -> str:
    return scircle_sql(spoint_literal(ra, dec), float8(radius))


def spoly_of_points_sql(points_sql: Iterable[str]) -> str:
    """A polygon whose vertices (spoint expressions) are known only when the query runs, built
    with pgsphere's ordered aggregate; NULL when a vertex is NULL.

    pgsphere's aggregate skips NULL vertices (a polygon of the others: a wrong shape) and crashes
    the database server when every vertex is NULL, so it gets all the vertices or none: over no
    rows it is NULL."""
    points = list(points_sql)
    rows = ", ".join(f"({i}, {p})" for i, p in enumerate(points))
    return (
        f"(SELECT spoly(v.p ORDER BY v.i) FROM (SELECT i, p, count(p) OVER () AS known FROM (VALUES {rows}) "
        f"AS v0(i, p)) AS v WHERE v.known = {len(points)})"
    )
