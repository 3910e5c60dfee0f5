"""The resolver and its type checker on the published metadata (ObsCore and TAP_SCHEMA from the
YAML, no database): names bind as ADQL says, every value is typed, every type error is found
before any SQL is made."""

from __future__ import annotations

from pathlib import Path

import pytest

from adql import ADQLCode, ADQLError, ast, parse, resolve, to_postgres
from adql.dialects.postgres import USER_FUNCTIONS_SQL
from adql.udf import USER_FUNCTIONS
from schemas.model import builtin_schemas, catalog_of

OBSCORE = catalog_of(builtin_schemas())


def resolved(adql: str) -> ast.QueryExpr:
    return resolve(parse(adql), OBSCORE).query


def test_every_resolved_expression_carries_its_type() -> None:
    query = resolved(
        "SELECT s_ra * 2 AS x, LOWER(obs_id), CASE WHEN s_dec > 0 THEN 'n' ELSE 's' END, "
        "DISTANCE(POINT(s_ra, s_dec), POINT(1, 2)), (SELECT MAX(s_fov) FROM ivoa.obscore) "
        "FROM ivoa.obscore WHERE s_ra IN (1, 2) GROUP BY s_ra, s_dec, obs_id ORDER BY x"
    )
    untyped = [n for n in ast.walk(query) if isinstance(n, ast.Expr) and n.meta is None]
    assert untyped == []


def test_output_columns_keep_the_units_and_ucds_of_their_sources() -> None:
    out = {
        o.name: o.meta
        for o in to_postgres(
            "SELECT s_ra, s_fov * s_fov AS fov2, em_min / t_exptime AS rate, SQRT(s_fov * s_fov) AS fov, "
            "IN_UNIT(s_fov, 'arcmin') AS arcmin, MAX(s_dec) AS d FROM ivoa.obscore GROUP BY s_ra, s_fov, em_min, t_exptime",
            OBSCORE,
        ).output
    }
    assert (out["s_ra"].unit, out["s_ra"].ucd) == ("deg", "pos.eq.ra")
    assert out["fov2"].unit == "deg**2"
    assert out["rate"].unit == "m.s**-1"
    assert out["fov"].unit == "deg"
    assert (out["arcmin"].unit, out["arcmin"].datatype) == ("arcmin", "double")
    assert (out["d"].unit, out["d"].ucd) == ("deg", "pos.eq.dec")


def test_in_unit_converts_a_product_of_columns() -> None:
    sql = to_postgres("SELECT IN_UNIT(s_fov * s_fov, 'arcmin**2') FROM ivoa.obscore", OBSCORE).sql
    assert 'SELECT ((t0."s_fov" * t0."s_fov") * CAST(3600.00000000000' in sql


@pytest.mark.parametrize(
    ("first", "clause"),
    [("COUNT(*)", "GROUP BY s_ra"), ("obs_id", "ORDER BY s_ra"), ("COUNT(*)", "GROUP BY s_ra ORDER BY s_ra")],
)
def test_a_select_alias_that_is_also_a_column_name_is_rendered_by_position(first: str, clause: str) -> None:
    # PostgreSQL binds a GROUP BY name to the input column, ADQL's resolver to the alias: a
    # position is the one reference both read the same way.
    sql = to_postgres(f"SELECT {first} AS n, ROUND(s_ra) AS s_ra FROM ivoa.obscore {clause}", OBSCORE).sql
    tail = sql.split('FROM "ivoa"."obscore" AS t0 ')[1]
    assert tail == clause.replace("s_ra", "2").replace("ORDER BY 2", "ORDER BY 2 ASC")


def test_a_name_without_a_select_alias_is_the_input_column() -> None:
    query = resolved("SELECT ROUND(s_ra) AS r FROM ivoa.obscore GROUP BY s_ra")
    assert isinstance(query, ast.Query)
    (group,) = query.group_by
    assert isinstance(group, ast.ResolvedColumn) and group.column.name == "s_ra"


def test_group_by_a_constant_is_not_a_position() -> None:
    sql = to_postgres("SELECT COUNT(*) FROM ivoa.obscore GROUP BY 1", OBSCORE).sql
    assert sql.endswith("GROUP BY CAST(1 AS bigint)")


def test_an_on_condition_may_not_name_another_table_of_the_from_clause() -> None:
    with pytest.raises(ADQLError) as info:
        to_postgres(
            "SELECT a.obs_id FROM tap_schema.schemas AS s, ivoa.obscore AS a JOIN ivoa.obscore AS b "
            "ON a.obs_id = s.schema_name",
            OBSCORE,
        )
    assert info.value.code == ADQLCode.UNKNOWN_TABLE and "not part of this JOIN" in info.value.message
    assert (info.value.line, info.value.column) == (1, 102)


def test_an_on_condition_may_name_an_outer_query() -> None:
    sql = to_postgres(
        "SELECT obs_id FROM ivoa.obscore AS o WHERE EXISTS (SELECT 1 FROM ivoa.obscore AS a "
        "JOIN ivoa.obscore AS b ON a.obs_id = b.obs_id AND b.obs_id = o.obs_id)",
        OBSCORE,
    ).sql
    assert 't2."obs_id" = t0."obs_id"' in sql


def test_reserved_column_names_work_delimited() -> None:
    sql = to_postgres('SELECT "size" FROM tap_schema.columns WHERE "size" > 1', OBSCORE).sql
    assert sql.startswith('SELECT t0."size" AS "size" FROM "tap_schema"."columns" AS t0')
    with pytest.raises(ADQLError) as info:
        to_postgres("SELECT size FROM tap_schema.columns", OBSCORE)
    assert info.value.code == ADQLCode.SYNTAX and 'write "size"' in info.value.message


def test_error_codes_read_as_their_stable_strings() -> None:
    with pytest.raises(ADQLError) as info:
        to_postgres("SELECT LOWER(s_ra) FROM ivoa.obscore", OBSCORE)
    assert info.value.code is ADQLCode.TYPE
    assert f"{info.value.code}: {info.value}" == (
        "ADQL-TYPE: argument 1 of LOWER must be a string, not a floating-point number (line 1, column 14)"
    )
    assert {str(c) for c in ADQLCode} == {
        "ADQL-SYNTAX",
        "ADQL-UNKNOWN-TABLE",
        "ADQL-UNKNOWN-COLUMN",
        "ADQL-AMBIGUOUS",
        "ADQL-UNKNOWN-FUNCTION",
        "ADQL-TYPE",
        "ADQL-GROUPING",
        "ADQL-UNSUPPORTED",
        "ADQL-LIMIT",
    }


def test_every_user_defined_function_has_sql_and_a_signature_for_the_capabilities() -> None:
    assert set(USER_FUNCTIONS) == set(USER_FUNCTIONS_SQL)
    assert (
        USER_FUNCTIONS["ivo_healpix_index"].form == "ivo_healpix_index(order INTEGER, ra DOUBLE, dec DOUBLE) -> BIGINT"
    )
    assert USER_FUNCTIONS["ivo_healpix_center"].form == "ivo_healpix_center(order INTEGER, hpx BIGINT) -> POINT"


def test_the_dialect_modules_refuse_nothing() -> None:
    # Every refusal comes from the parser or the resolver, with a position, before SQL is made.
    dialects = Path(__file__).resolve().parents[2] / "adql" / "dialects"
    for name in ("postgres.py", "pg_geometry.py", "index_rewrites.py"):
        assert "ADQLError" not in (dialects / name).read_text(), name


def test_transform_rebuilds_only_what_changes() -> None:
    tree = parse("SELECT a + 1, CASE WHEN b = 2 THEN c END FROM t")
    same = ast.transform(tree, lambda n: n)
    assert same is tree
    renamed = ast.transform(
        tree, lambda n: ast.ColumnRef((ast.Identifier("z"),)) if isinstance(n, ast.ColumnRef) else n
    )
    names = {n.parts[0].name for n in ast.walk(renamed) if isinstance(n, ast.ColumnRef)}
    assert names == {"z"}
    assert {n.parts[0].name for n in ast.walk(tree) if isinstance(n, ast.ColumnRef)} == {"a", "b", "c"}


def test_children_cover_case_branches_and_subqueries() -> None:
    tree = parse("SELECT CASE WHEN a IN (SELECT b FROM u) THEN 1 ELSE 2 END FROM t")
    assert isinstance(tree, ast.Query)
    item = tree.select[0]
    assert isinstance(item, ast.SelectItem) and isinstance(item.expr, ast.Case)
    kinds = [type(c).__name__ for c in ast.children(item.expr)]
    assert kinds == ["InSubquery", "IntegerLiteral", "IntegerLiteral"]
