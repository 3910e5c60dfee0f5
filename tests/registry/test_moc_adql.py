"""ADQL's MOC() and the RegTAP comparisons, translated without a database: MOC(order, shape) made
fine and degraded, MOC('ascii') read as smoc, CONTAINS/INTERSECTS of MOCs with MOCs, points,
circles and polygons; ivo_hasword's index-friendly comparison; wrong calls refused by type."""

from __future__ import annotations

import pytest

from adql import ADQLError, to_postgres
from schemas.model import builtin_schemas, catalog_of

CATALOG = catalog_of(builtin_schemas())


def _sql(where: str, table: str = "rr.stc_spatial") -> str:
    return to_postgres(f"SELECT ivoid FROM {table} WHERE {where}", CATALOG).sql


def test_moc_of_a_circle_is_made_at_order_10_and_degraded() -> None:
    sql = _sql("1 = CONTAINS(MOC(6, CIRCLE(34.5, -5.0, 0.1)), coverage)")
    assert "smoc_degrade(CAST(6 AS integer), smoc((CASE WHEN (circum(scircle(" in sql
    assert "ELSE GREATEST(CAST(6 AS integer), 10) END), scircle(" in sql
    assert sql.endswith('<@ t0."coverage")')  # a bare operator: the GIN index on coverage serves it


def test_an_ascii_moc_is_read_as_smoc() -> None:
    assert "CAST('6/1-3 7/' AS smoc)" in _sql("1 = INTERSECTS(coverage, MOC('6/1-3 7/'))")


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (
            "1 = CONTAINS(POINT(34.5, -5.0), coverage)",
            'spoint(radians(CAST(34.5 AS double precision)), radians(CAST(-5.0 AS double precision))) <@ t0."coverage"',
        ),
        ("1 = INTERSECTS(CIRCLE(34.5, -5.0, 1), coverage)", '&& t0."coverage"'),
        ("1 = CONTAINS(coverage, POLYGON(30, -10, 40, -10, 35, 0))", 't0."coverage" <@ smoc(10, '),
    ],
)
def test_coverage_compares_with_points_circles_and_polygons(where: str, expected: str) -> None:
    assert expected in _sql(where)


def test_moc_needs_an_order_and_a_geometry_or_a_string() -> None:
    with pytest.raises(ADQLError, match="MOC"):
        _sql("1 = CONTAINS(MOC(6, 'x'), coverage)")
    with pytest.raises(ADQLError, match="MOC takes 1 or 2 arguments"):
        _sql("1 = CONTAINS(MOC(6, 7, 8), coverage)")


def test_hasword_compared_with_one_is_a_text_search_condition() -> None:
    sql = _sql("1 = ivo_hasword(res_description, 'galaxies')", "rr.resource")
    assert "to_tsvector('english', t0.\"res_description\") @@ plainto_tsquery('english', 'galaxies')" in sql
    assert "CASE" not in sql
    negated = _sql("0 = ivo_hasword(res_description, 'galaxies')", "rr.resource")
    assert negated.count("NOT (") == 1 and "IS NOT NULL" in negated
