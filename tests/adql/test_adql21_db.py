"""ADQL 2.1 on the real database: every case runs the translated SQL with pgsphere and checks the
result against a value computed independently (plain SQL written by hand, or Python)."""

from __future__ import annotations

import math
from typing import Any

import psycopg
import pytest

from adql import ADQLError, Catalog, to_postgres

ONE_ROW = "FROM tap_schema.schemas WHERE schema_name = 'ivoa'"


def rows(db: psycopg.Connection, catalog: Catalog, adql: str) -> list[tuple[Any, ...]]:
    return db.execute(to_postgres(adql, catalog).sql).fetchall()


def value(db: psycopg.Connection, catalog: Catalog, expr: str) -> Any:
    return rows(db, catalog, f"SELECT {expr} AS v {ONE_ROW}")[0][0]


def sql_value(db: psycopg.Connection, sql: str) -> Any:
    return db.execute(sql).fetchone()[0]


def great_circle(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    r1, d1, r2, d2 = map(math.radians, (ra1, dec1, ra2, dec2))
    h = math.sin((d2 - d1) / 2) ** 2 + math.cos(d1) * math.cos(d2) * math.sin((r2 - r1) / 2) ** 2
    return math.degrees(2 * math.asin(min(1.0, math.sqrt(h))))


# --- predicates over every numeric ObsCore column, against hand-written SQL ----------------------
NUMERIC_COLUMNS = [
    "s_ra",
    "s_dec",
    "s_fov",
    "s_resolution",
    "s_xel1",
    "t_min",
    "t_max",
    "t_exptime",
    "em_min",
    "em_max",
    "em_res_power",
    "access_estsize",
    "calib_level",
]


@pytest.mark.parametrize("column", NUMERIC_COLUMNS)
@pytest.mark.parametrize("op", ["<", ">=", "<>"])
def test_comparison_with_the_column_median(db: psycopg.Connection, catalog: Catalog, column: str, op: str) -> None:
    median = sql_value(db, f"SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY {column}) FROM ivoa.obscore")
    literal = repr(float(median)) if isinstance(median, float) else str(median)
    got = rows(db, catalog, f"SELECT COUNT(*) FROM ivoa.obscore WHERE {column} {op} {literal}")[0][0]
    assert got == sql_value(db, f"SELECT count(*) FROM ivoa.obscore WHERE {column} {op} {literal}")


@pytest.mark.parametrize("column", NUMERIC_COLUMNS)
def test_between_the_quartiles(db: psycopg.Connection, catalog: Catalog, column: str) -> None:
    low, high = db.execute(
        f"SELECT percentile_disc(0.25) WITHIN GROUP (ORDER BY {column}), percentile_disc(0.75) WITHIN GROUP (ORDER BY {column}) FROM ivoa.obscore"
    ).fetchone()
    got = rows(db, catalog, f"SELECT COUNT(*) FROM ivoa.obscore WHERE {column} BETWEEN {low!r} AND {high!r}")[0][0]
    assert got == sql_value(db, f"SELECT count(*) FROM ivoa.obscore WHERE {column} >= {low!r} AND {column} <= {high!r}")


@pytest.mark.parametrize("column", NUMERIC_COLUMNS)
def test_aggregates_match(db: psycopg.Connection, catalog: Catalog, column: str) -> None:
    got = rows(db, catalog, f"SELECT MIN({column}), MAX({column}), COUNT({column}) FROM ivoa.obscore")[0]
    assert got == db.execute(f"SELECT min({column}), max({column}), count({column}) FROM ivoa.obscore").fetchone()


# --- string predicates ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("where", "sql"),
    [
        ("em_band_name LIKE 'W-%'", "left(em_band_name, 2) = 'W-'"),
        ("em_band_name LIKE '%+'", "right(em_band_name, 1) = '+'"),
        ("em_band_name LIKE 'W-_-_'", "em_band_name IN ('W-J-B', 'W-J-V')"),
        ("em_band_name NOT LIKE 'W%'", "left(em_band_name, 1) <> 'W'"),
        ("em_band_name ILIKE 'n-b-%'", "left(em_band_name, 4) = 'N-B-'"),
        ("obs_id LIKE 'SUPM%F00'", "true"),
        ("em_band_name LIKE 'W-S-I!+' ESCAPE '!'", "em_band_name = 'W-S-I+'"),
        ("em_band_name LIKE 'W!%%' ESCAPE '!'", "false"),
        ("LOWER(em_band_name) = 'w-c-rc'", "em_band_name = 'W-C-RC'"),
        ("UPPER(dataproduct_type) = 'IMAGE'", "true"),
        ("em_band_name IN ('W-J-V', 'W-C-RC')", "em_band_name = 'W-J-V' OR em_band_name = 'W-C-RC'"),
        ("em_band_name NOT IN ('W-J-V', 'W-C-RC')", "em_band_name <> 'W-J-V' AND em_band_name <> 'W-C-RC'"),
        ("em_band_name || '/' || obs_collection = 'W-J-V/Subaru/Suprime-Cam'", "em_band_name = 'W-J-V'"),
        ("em_band_name = 'W-J-' 'V'", "em_band_name = 'W-J-V'"),
        ("em_band_name > 'N'", "em_band_name > 'N'"),
        ("target_name IS NULL", "false"),
        ("pol_states IS NOT NULL", "false"),
        ("NOT (em_band_name = 'W-J-V' OR em_band_name = 'W-C-RC')", "em_band_name NOT IN ('W-J-V', 'W-C-RC')"),
        (
            "em_band_name = 'W-J-V' OR em_band_name = 'W-C-RC' AND s_dec > -5",
            "em_band_name = 'W-J-V' OR (em_band_name = 'W-C-RC' AND s_dec > -5)",
        ),
        (
            "(em_band_name = 'W-J-V' OR em_band_name = 'W-C-RC') AND s_dec > -5",
            "em_band_name IN ('W-J-V', 'W-C-RC') AND s_dec > -5",
        ),
    ],
)
def test_string_predicates(db: psycopg.Connection, catalog: Catalog, where: str, sql: str) -> None:
    got = rows(db, catalog, f"SELECT COUNT(*) FROM ivoa.obscore WHERE {where}")[0][0]
    assert got == sql_value(db, f"SELECT count(*) FROM ivoa.obscore WHERE {sql}")


# --- numeric functions against Python's math ---------------------------------------------------
FUNCTION_CASES = [
    *[(f"SIN({x})", math.sin(x)) for x in (0, 0.5, -1.25)],
    *[(f"COS({x})", math.cos(x)) for x in (0, 0.5, -1.25)],
    *[(f"TAN({x})", math.tan(x)) for x in (0.1, 0.5, -1.25)],
    *[(f"COT({x})", 1 / math.tan(x)) for x in (0.1, 0.5, -1.25)],
    *[(f"ASIN({x})", math.asin(x)) for x in (0, 0.5, -1)],
    *[(f"ACOS({x})", math.acos(x)) for x in (0, 0.5, -1)],
    *[(f"ATAN({x})", math.atan(x)) for x in (0, 0.5, -20)],
    *[(f"ATAN2({y}, {x})", math.atan2(y, x)) for y, x in ((1, 1), (-1, -1), (0.5, -2))],
    *[(f"EXP({x})", math.exp(x)) for x in (0, 1, -2.5)],
    *[(f"LOG({x})", math.log(x)) for x in (1, 10, 0.25)],
    *[(f"LOG10({x})", math.log10(x)) for x in (1, 1000, 0.001)],
    *[(f"SQRT({x})", math.sqrt(x)) for x in (0, 2, 1e6)],
    *[(f"POWER({b}, {e})", b**e) for b, e in ((2, 10), (10, -2), (2.5, 0.5))],
    *[(f"DEGREES({x})", math.degrees(x)) for x in (0, 1, -3.5)],
    *[(f"RADIANS({x})", math.radians(x)) for x in (0, 180, -90)],
    *[(f"ABS({x})", abs(x)) for x in (-3, 0, 2.5)],
    *[(f"CEILING({x})", float(math.ceil(x))) for x in (1.2, -1.2, 3.0)],
    *[(f"FLOOR({x})", float(math.floor(x))) for x in (1.2, -1.2, 3.0)],
    *[(f"MOD({a}, {b})", math.fmod(a, b)) for a, b in ((7, 3), (-7, 3), (9, 9))],
    ("ROUND(2.5)", 3.0),
    ("ROUND(-2.5)", -3.0),
    ("ROUND(2.4999)", 2.0),
    ("ROUND(1234.5678, 2)", 1234.57),
    ("ROUND(1234.5678, -2)", 1200.0),
    ("TRUNCATE(2.99)", 2.0),
    ("TRUNCATE(-2.99)", -2.0),
    ("TRUNCATE(1234.5678, 2)", 1234.56),
    ("TRUNCATE(1234.5678, -2)", 1200.0),
    ("PI()", math.pi),
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("10 - 4 - 3", 3),
    ("2 * -3", -6),
    ("- (4 - 6)", 2),
    ("1.5e3 / 3", 500.0),
    (".5 + 0.25", 0.75),
    ("3E-2 * 100", 3.0),
    ("0x10 + 0xff", 271),
    ("0xFF & 0x0F", 15),
    ("12 | 3", 15),
    ("12 ^ 10", 6),
    ("~0", -1),
    ("1 | 2 & 3", 3),
]


@pytest.mark.parametrize(("expr", "expected"), FUNCTION_CASES)
def test_numeric_expressions(db: psycopg.Connection, catalog: Catalog, expr: str, expected: float) -> None:
    got = value(db, catalog, expr)
    assert float(got) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_rand_is_in_the_unit_interval(db: psycopg.Connection, catalog: Catalog) -> None:
    assert 0 <= value(db, catalog, "RAND()") < 1


# --- CASE, CAST, COALESCE, NULLIF ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("CASE WHEN 1 > 2 THEN 'a' ELSE 'b' END", "b"),
        ("CASE WHEN 1 < 2 THEN 'a' ELSE 'b' END", "a"),
        ("CASE WHEN 1 > 2 THEN 'a' END", None),
        ("CASE WHEN 1 > 2 THEN 'a' WHEN 2 > 1 THEN 'c' ELSE 'b' END", "c"),
        ("CASE 3 WHEN 1 THEN 'one' WHEN 3 THEN 'three' ELSE 'many' END", "three"),
        ("CASE 7 WHEN 1 THEN 'one' ELSE 'many' END", "many"),
        ("CASE schema_name WHEN 'ivoa' THEN 1 ELSE 0 END", 1),
        ("CAST(3.7 AS INTEGER)", 4),
        ("CAST(-3.7 AS BIGINT)", -4),
        ("CAST(2 AS SMALLINT)", 2),
        ("CAST(1 AS DOUBLE PRECISION) / 4", 0.25),
        ("CAST(0.1 AS REAL)", pytest.approx(0.1, rel=1e-7)),
        ("CAST(42 AS VARCHAR(10))", "42"),
        ("CAST('abcdef' AS CHAR(3))", "abc"),
        ("CAST('2004-06-01T12:00:00' AS TIMESTAMP)", None),  # checked below by type
        ("COALESCE(NULL, 2, 3)", 2),
        ("COALESCE(NULL, NULL, 'x')", "x"),
        ("COALESCE(schema_name, 'none')", "ivoa"),
        ("NULLIF(1, 1)", None),
        ("NULLIF(1, 2)", 1),
        ("NULLIF(schema_name, 'ivoa')", None),
        ("UPPER('sxds') || LOWER('-FIELD')", "SXDS-field"),
        ("'Ωμέγα' || ' ✓'", "Ωμέγα ✓"),
        ("'it''s'", "it's"),
    ],
)
def test_conditional_and_cast_expressions(
    db: psycopg.Connection, catalog: Catalog, expr: str, expected: object
) -> None:
    got = value(db, catalog, expr)
    if expr.startswith("CAST('2004"):
        assert got.year == 2004 and got.hour == 12
    else:
        assert got == expected


# --- joins, against hand-written SQL --------------------------------------------------------------
JOIN_CASES = [
    (
        "SELECT COUNT(*) FROM tap_schema.tables AS t JOIN tap_schema.columns AS c ON t.table_name = c.table_name",
        "SELECT count(*) FROM tap_schema.tables t, tap_schema.columns c WHERE t.table_name = c.table_name",
    ),
    (
        "SELECT COUNT(*) FROM tap_schema.tables AS t INNER JOIN tap_schema.columns AS c ON t.table_name = c.table_name AND c.std = 1",
        "SELECT count(*) FROM tap_schema.columns WHERE std = 1",
    ),
    (
        "SELECT COUNT(*) FROM tap_schema.tables JOIN tap_schema.columns USING (table_name)",
        "SELECT count(*) FROM tap_schema.columns",
    ),
    ("SELECT COUNT(*) FROM tap_schema.schemas NATURAL JOIN tap_schema.tables", "SELECT 0"),
    (
        "SELECT COUNT(*) FROM tap_schema.tables AS t LEFT OUTER JOIN tap_schema.keys AS k ON k.from_table = t.table_name",
        "SELECT count(*) FROM tap_schema.tables t LEFT JOIN tap_schema.keys k ON k.from_table = t.table_name",
    ),
    (
        "SELECT COUNT(*) FROM tap_schema.tables AS t LEFT JOIN tap_schema.keys AS k ON k.from_table = t.table_name WHERE k.key_id IS NULL",
        "SELECT count(*) FROM tap_schema.tables t WHERE NOT EXISTS (SELECT 1 FROM tap_schema.keys k WHERE k.from_table = t.table_name)",
    ),
    (
        "SELECT COUNT(*) FROM tap_schema.keys AS k RIGHT OUTER JOIN tap_schema.tables AS t ON k.from_table = t.table_name",
        "SELECT count(*) FROM tap_schema.tables t LEFT JOIN tap_schema.keys k ON k.from_table = t.table_name",
    ),
    (
        "SELECT COUNT(*) FROM tap_schema.keys AS k FULL OUTER JOIN tap_schema.tables AS t ON k.from_table = t.table_name",
        "SELECT count(*) FROM tap_schema.keys k FULL JOIN tap_schema.tables t ON k.from_table = t.table_name",
    ),
    (
        "SELECT COUNT(*) FROM tap_schema.schemas CROSS JOIN tap_schema.tables",
        "SELECT (SELECT count(*) FROM tap_schema.schemas) * (SELECT count(*) FROM tap_schema.tables)",
    ),
    (
        "SELECT COUNT(*) FROM tap_schema.schemas AS s, tap_schema.tables AS t WHERE s.schema_name = t.schema_name",
        "SELECT count(*) FROM tap_schema.tables",
    ),
    (
        "SELECT COUNT(*) FROM tap_schema.keys JOIN tap_schema.key_columns USING (key_id) JOIN tap_schema.tables ON from_table = table_name",
        "SELECT count(*) FROM tap_schema.key_columns",
    ),
    (
        "SELECT COUNT(*) FROM (tap_schema.keys JOIN tap_schema.key_columns USING (key_id))",
        "SELECT count(*) FROM tap_schema.key_columns",
    ),
    (
        "SELECT COUNT(*) FROM ivoa.obscore AS a JOIN ivoa.obscore AS b ON a.obs_id = b.obs_id",
        "SELECT count(*) FROM ivoa.obscore",
    ),
    (
        "SELECT COUNT(*) FROM ivoa.obscore AS a JOIN ivoa.obscore AS b ON a.em_band_name = b.em_band_name AND a.obs_id < b.obs_id",
        "SELECT count(*) FROM ivoa.obscore a JOIN ivoa.obscore b ON a.em_band_name = b.em_band_name AND a.obs_id < b.obs_id",
    ),
    (
        "SELECT COUNT(*) FROM ivoa.obscore AS a JOIN ivoa.obscore AS b ON DISTANCE(POINT('ICRS', a.s_ra, a.s_dec), POINT('ICRS', b.s_ra, b.s_dec)) < 0.01 AND a.obs_id <> b.obs_id",
        "SELECT count(*) FROM ivoa.obscore a JOIN ivoa.obscore b ON degrees(spoint(radians(a.s_ra), radians(a.s_dec)) <-> spoint(radians(b.s_ra), radians(b.s_dec))) < 0.01 AND a.obs_id <> b.obs_id",
    ),
    (
        "SELECT COUNT(*) FROM ivoa.obscore AS a JOIN ivoa.obscore AS b ON CONTAINS(POINT('ICRS', a.s_ra, a.s_dec), b.s_region) = 1",
        "SELECT count(*) FROM ivoa.obscore a JOIN ivoa.obscore b ON spoint(radians(a.s_ra), radians(a.s_dec)) <@ b.s_region",
    ),
    (
        "SELECT COUNT(*) FROM ivoa.obscore AS a JOIN ivoa.obscore AS b ON INTERSECTS(a.s_region, b.s_region) = 1",
        "SELECT count(*) FROM ivoa.obscore a JOIN ivoa.obscore b ON a.s_region && b.s_region",
    ),
    (
        "SELECT COUNT(DISTINCT c.table_name) FROM tap_schema.columns AS c JOIN tap_schema.tables AS t ON c.table_name = t.table_name WHERE t.schema_name = 'tap_schema'",
        "SELECT 5",
    ),
]


@pytest.mark.parametrize(("adql", "sql"), JOIN_CASES)
def test_joins(db: psycopg.Connection, catalog: Catalog, adql: str, sql: str) -> None:
    assert rows(db, catalog, adql)[0][0] == sql_value(db, sql)


def test_using_join_names_the_shared_column_once(db: psycopg.Connection, catalog: Catalog) -> None:
    translation = to_postgres("SELECT * FROM tap_schema.keys JOIN tap_schema.key_columns USING (key_id)", catalog)
    names = [o.name for o in translation.output]
    assert names.count("key_id") == 1 and names[0] == "key_id"


# --- subqueries, sets, common tables -----------------------------------------------------------
SUBQUERY_CASES = [
    (
        "SELECT COUNT(*) FROM ivoa.obscore WHERE s_ra > (SELECT AVG(s_ra) FROM ivoa.obscore)",
        "SELECT count(*) FROM ivoa.obscore WHERE s_ra > (SELECT avg(s_ra) FROM ivoa.obscore)",
    ),
    (
        "SELECT COUNT(*) FROM ivoa.obscore WHERE em_band_name IN (SELECT em_band_name FROM ivoa.obscore WHERE s_dec < -5.3)",
        "SELECT count(*) FROM ivoa.obscore WHERE em_band_name IN ('W-J-V', 'W-C-RC', 'W-S-I+')",
    ),
    (
        "SELECT COUNT(*) FROM ivoa.obscore WHERE em_band_name NOT IN (SELECT em_band_name FROM ivoa.obscore WHERE s_dec < -5.3)",
        "SELECT count(*) FROM ivoa.obscore WHERE em_band_name NOT IN ('W-J-V', 'W-C-RC', 'W-S-I+')",
    ),
    (
        "SELECT COUNT(*) FROM tap_schema.tables AS t WHERE EXISTS (SELECT 1 FROM tap_schema.keys AS k WHERE k.from_table = t.table_name)",
        "SELECT count(DISTINCT from_table) FROM tap_schema.keys",
    ),
    (
        "SELECT COUNT(*) FROM tap_schema.tables AS t WHERE NOT EXISTS (SELECT * FROM tap_schema.keys AS k WHERE k.from_table = t.table_name)",
        "SELECT count(*) FROM tap_schema.tables WHERE table_name NOT IN (SELECT from_table FROM tap_schema.keys)",
    ),
    (
        "SELECT COUNT(*) FROM ivoa.obscore AS o WHERE t_exptime = (SELECT MAX(t_exptime) FROM ivoa.obscore AS p WHERE p.em_band_name = o.em_band_name)",
        "SELECT count(*) FROM ivoa.obscore o WHERE t_exptime = (SELECT max(t_exptime) FROM ivoa.obscore p WHERE p.em_band_name = o.em_band_name)",
    ),
    (
        "SELECT MAX(n) FROM (SELECT em_band_name, COUNT(*) AS n FROM ivoa.obscore GROUP BY em_band_name) AS g",
        "SELECT 36",
    ),
    ("SELECT COUNT(*) FROM (SELECT DISTINCT em_band_name FROM ivoa.obscore) AS b", "SELECT 9"),
    ("SELECT b FROM (SELECT COUNT(*) FROM ivoa.obscore) AS s (b)", "SELECT 132"),
    (
        "SELECT (SELECT COUNT(*) FROM ivoa.obscore) + (SELECT COUNT(*) FROM tap_schema.schemas) FROM tap_schema.schemas WHERE schema_name = 'ivoa'",
        "SELECT 132 + (SELECT count(*) FROM tap_schema.schemas)",
    ),
    (
        "WITH b AS (SELECT em_band_name, COUNT(*) AS n FROM ivoa.obscore GROUP BY em_band_name) SELECT SUM(n) FROM b",
        "SELECT 132",
    ),
    (
        "WITH b (band, n) AS (SELECT em_band_name, COUNT(*) FROM ivoa.obscore GROUP BY em_band_name) SELECT COUNT(*) FROM b WHERE n = 4",
        "SELECT 6",
    ),
    (
        "WITH a AS (SELECT obs_id FROM ivoa.obscore WHERE s_dec > -5), b AS (SELECT obs_id FROM a WHERE obs_id LIKE 'SUPM1%') SELECT COUNT(*) FROM b",
        "SELECT count(*) FROM ivoa.obscore WHERE s_dec > -5 AND obs_id LIKE 'SUPM1%'",
    ),
    (
        "WITH w AS (SELECT s_ra FROM ivoa.obscore) SELECT COUNT(*) FROM (SELECT s_ra FROM w WHERE s_ra > 34.5) AS d",
        "SELECT count(*) FROM ivoa.obscore WHERE s_ra > 34.5",
    ),
    (
        "SELECT COUNT(*) FROM (SELECT em_band_name FROM ivoa.obscore UNION SELECT em_band_name FROM ivoa.obscore) AS u",
        "SELECT 9",
    ),
    (
        "SELECT COUNT(*) FROM (SELECT em_band_name FROM ivoa.obscore UNION ALL SELECT em_band_name FROM ivoa.obscore) AS u",
        "SELECT 264",
    ),
    (
        "SELECT COUNT(*) FROM (SELECT em_band_name FROM ivoa.obscore EXCEPT SELECT em_band_name FROM ivoa.obscore WHERE s_dec < -5.3) AS u",
        "SELECT 6",
    ),
    (
        "SELECT COUNT(*) FROM (SELECT em_band_name FROM ivoa.obscore INTERSECT SELECT em_band_name FROM ivoa.obscore WHERE s_dec < -5.3) AS u",
        "SELECT 3",
    ),
    (
        "SELECT COUNT(*) FROM (SELECT obs_id FROM ivoa.obscore EXCEPT ALL SELECT obs_id FROM ivoa.obscore WHERE s_ra < 34.5) AS u",
        "SELECT count(*) FROM ivoa.obscore WHERE s_ra >= 34.5",
    ),
    (
        "SELECT COUNT(*) FROM (SELECT schema_name FROM tap_schema.schemas INTERSECT ALL SELECT schema_name FROM tap_schema.tables) AS u",
        "SELECT count(*) FROM tap_schema.schemas",
    ),
]


@pytest.mark.parametrize(("adql", "sql"), SUBQUERY_CASES)
def test_subqueries_sets_and_common_tables(db: psycopg.Connection, catalog: Catalog, adql: str, sql: str) -> None:
    assert rows(db, catalog, adql)[0][0] == sql_value(db, sql)


def test_set_operation_with_order_by_and_top_level_limit(db: psycopg.Connection, catalog: Catalog) -> None:
    adql = "SELECT em_band_name FROM ivoa.obscore WHERE s_dec < -5.3 UNION SELECT table_name FROM tap_schema.tables ORDER BY 1 DESC OFFSET 1"
    got = db.execute(to_postgres(adql, catalog, row_limit=3).sql).fetchall()
    names = sorted(
        {"W-J-V", "W-C-RC", "W-S-I+"} | {r[0] for r in db.execute("SELECT table_name FROM tap_schema.tables")},
        reverse=True,
    )
    assert [r[0] for r in got] == names[1:4]


# --- ORDER BY, TOP, OFFSET, DISTINCT, GROUP BY ------------------------------------------------------
ORDER_CASES = [
    (
        "SELECT TOP 5 obs_id FROM ivoa.obscore ORDER BY obs_id",
        "SELECT obs_id FROM ivoa.obscore ORDER BY obs_id LIMIT 5",
    ),
    (
        "SELECT TOP 5 obs_id FROM ivoa.obscore ORDER BY obs_id DESC",
        "SELECT obs_id FROM ivoa.obscore ORDER BY obs_id DESC LIMIT 5",
    ),
    (
        "SELECT TOP 5 obs_id FROM ivoa.obscore ORDER BY obs_id OFFSET 10",
        "SELECT obs_id FROM ivoa.obscore ORDER BY obs_id LIMIT 5 OFFSET 10",
    ),
    (
        "SELECT obs_id FROM ivoa.obscore ORDER BY obs_id OFFSET 130",
        "SELECT obs_id FROM ivoa.obscore ORDER BY obs_id OFFSET 130",
    ),
    (
        "SELECT TOP 3 obs_id AS o FROM ivoa.obscore ORDER BY o",
        "SELECT obs_id FROM ivoa.obscore ORDER BY obs_id LIMIT 3",
    ),
    (
        "SELECT TOP 3 obs_id, s_ra FROM ivoa.obscore ORDER BY 2 DESC",
        "SELECT obs_id, s_ra FROM ivoa.obscore ORDER BY s_ra DESC LIMIT 3",
    ),
    (
        "SELECT TOP 3 obs_id FROM ivoa.obscore ORDER BY s_ra * -1",
        "SELECT obs_id FROM ivoa.obscore ORDER BY s_ra DESC LIMIT 3",
    ),
    (
        "SELECT DISTINCT em_band_name FROM ivoa.obscore ORDER BY em_band_name",
        "SELECT DISTINCT em_band_name FROM ivoa.obscore ORDER BY 1",
    ),
    (
        "SELECT DISTINCT TOP 2 em_band_name FROM ivoa.obscore ORDER BY em_band_name DESC",
        "SELECT DISTINCT em_band_name FROM ivoa.obscore ORDER BY 1 DESC LIMIT 2",
    ),
    (
        "SELECT em_band_name, COUNT(*) AS n FROM ivoa.obscore GROUP BY em_band_name ORDER BY n DESC, em_band_name",
        "SELECT em_band_name, count(*) FROM ivoa.obscore GROUP BY 1 ORDER BY 2 DESC, 1",
    ),
    (
        "SELECT em_band_name, AVG(t_exptime) FROM ivoa.obscore GROUP BY em_band_name HAVING AVG(t_exptime) > 5000 ORDER BY 1",
        "SELECT em_band_name, avg(t_exptime) FROM ivoa.obscore GROUP BY 1 HAVING avg(t_exptime) > 5000 ORDER BY 1",
    ),
    (
        "SELECT ROUND(s_dec, 0) AS d, COUNT(*) FROM ivoa.obscore GROUP BY d ORDER BY d",
        "SELECT round(s_dec::numeric, 0)::float8 AS d, count(*) FROM ivoa.obscore GROUP BY 1 ORDER BY 1",
    ),
    (
        "SELECT em_band_name, SUM(t_exptime), MIN(t_min), MAX(t_max) FROM ivoa.obscore GROUP BY em_band_name ORDER BY em_band_name",
        "SELECT em_band_name, sum(t_exptime), min(t_min), max(t_max) FROM ivoa.obscore GROUP BY 1 ORDER BY 1",
    ),
    (
        "SELECT em_band_name, ivo_string_agg(obs_id, ',') FROM ivoa.obscore WHERE s_dec < -5.4 AND s_ra < 34.2 GROUP BY em_band_name ORDER BY 1",
        "SELECT em_band_name, string_agg(obs_id, ',') FROM ivoa.obscore WHERE s_dec < -5.4 AND s_ra < 34.2 GROUP BY 1 ORDER BY 1",
    ),
]


@pytest.mark.parametrize(("adql", "sql"), ORDER_CASES)
def test_ordering_grouping_and_limits(db: psycopg.Connection, catalog: Catalog, adql: str, sql: str) -> None:
    assert rows(db, catalog, adql) == db.execute(sql).fetchall()


# --- geometry, including the poles and RA = 0/360 ----------------------------------------------
DISTANCE_CASES = [
    (0, 0, 0, 1),
    (359.5, 0, 0.5, 0),
    (0, 89.9, 180, 89.9),
    (10, -89.5, 190, -89.5),
    (34.5, -5, 35.5, -4),
    (359.99, 45, 0.01, 45),
    (0, 0, 180, 0),
    (120, 30, 300, -30),
    (0, 90, 123, 89),
    (200, -60, 200.001, -60.001),
]


@pytest.mark.parametrize(("ra1", "dec1", "ra2", "dec2"), DISTANCE_CASES)
def test_distance_is_the_great_circle_distance(
    db: psycopg.Connection, catalog: Catalog, ra1: float, dec1: float, ra2: float, dec2: float
) -> None:
    expected = great_circle(ra1, dec1, ra2, dec2)
    two = value(db, catalog, f"DISTANCE(POINT('ICRS', {ra1}, {dec1}), POINT('ICRS', {ra2}, {dec2}))")
    four = value(db, catalog, f"DISTANCE({ra1}, {dec1}, {ra2}, {dec2})")
    assert two == pytest.approx(expected, abs=1e-9) and four == pytest.approx(expected, abs=1e-9)


CONTAINS_CASES = [
    # point, circle (ra, dec, r)
    ((0.5, 0), (359.8, 0, 1), 1),
    ((359.5, 0), (0.2, 0, 1), 1),
    ((1.5, 0), (359.8, 0, 1), 0),
    ((0, 89.95), (180, 89.95, 0.2), 1),
    ((90, 89.9), (270, 89.9, 0.1), 0),
    ((90, 89.9), (270, 89.9, 0.25), 1),
    ((45, -89.99), (0, -90, 0.05), 1),
    ((34.5, -5), (34.5, -5, 0.0001), 1),
    ((34.5, -5.2), (34.5, -5, 0.1), 0),
    ((90, 0), (0, 0, 90), 1),
]


@pytest.mark.parametrize(("point", "circle", "expected"), CONTAINS_CASES)
def test_contains_point_in_circle(
    db: psycopg.Connection,
    catalog: Catalog,
    point: tuple[float, float],
    circle: tuple[float, float, float],
    expected: int,
) -> None:
    assert (
        great_circle(*point, circle[0], circle[1]) <= circle[2]
        if expected
        else great_circle(*point, circle[0], circle[1]) > circle[2]
    )
    p, c = "POINT('ICRS', {}, {})".format(*point), "CIRCLE('ICRS', {}, {}, {})".format(*circle)
    assert value(db, catalog, f"CONTAINS({p}, {c})") == expected
    assert rows(db, catalog, f"SELECT COUNT(*) {ONE_ROW} AND CONTAINS({p}, {c}) = 1")[0][0] == expected
    assert value(db, catalog, f"INTERSECTS({p}, {c})") == expected


POLYGON_CASES = [
    # polygon vertices, point, inside?
    ((359, -1, 1, -1, 1, 1, 359, 1), (0, 0), 1),
    ((359, -1, 1, -1, 1, 1, 359, 1), (2, 0), 0),
    ((359, -1, 1, -1, 1, 1, 359, 1), (359.5, 0.5), 1),
    ((0, 88, 120, 88, 240, 88), (17, 89.5), 1),
    ((0, 88, 120, 88, 240, 88), (17, 87.5), 0),
    ((34, -5, 35, -5, 35, -4, 34, -4), (34.5, -4.5), 1),
    ((34, -5, 35, -5, 35, -4, 34, -4), (35.5, -4.5), 0),
    ((10, 10, 20, 10, 15, 20), (15, 12), 1),
    ((10, 10, 20, 10, 15, 20), (11, 19), 0),
]


@pytest.mark.parametrize(("vertices", "point", "expected"), POLYGON_CASES)
def test_contains_point_in_polygon(
    db: psycopg.Connection, catalog: Catalog, vertices: tuple[float, ...], point: tuple[float, float], expected: int
) -> None:
    polygon = "POLYGON('ICRS', " + ", ".join(str(v) for v in vertices) + ")"
    assert value(db, catalog, f"CONTAINS(POINT('ICRS', {point[0]}, {point[1]}), {polygon})") == expected
    as_points = (
        "POLYGON('ICRS', "
        + ", ".join(f"POINT('ICRS', {vertices[i]}, {vertices[i + 1]})" for i in range(0, len(vertices), 2))
        + ")"
    )
    assert value(db, catalog, f"CONTAINS(POINT('', {point[0]}, {point[1]}), {as_points})") == expected
    stcs = "Polygon ICRS " + " ".join(str(v) for v in vertices)
    assert value(db, catalog, f"CONTAINS(POINT('ICRS', {point[0]}, {point[1]}), REGION('{stcs}'))") == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("AREA(CIRCLE('ICRS', 10, 20, 1))", 2 * math.pi * (1 - math.cos(math.radians(1))) * (180 / math.pi) ** 2),
        ("AREA(CIRCLE('ICRS', 0, 90, 10))", 2 * math.pi * (1 - math.cos(math.radians(10))) * (180 / math.pi) ** 2),
        ("AREA(POLYGON('ICRS', 0, 0, 90, 0, 0, 90))", 4 * math.pi / 8 * (180 / math.pi) ** 2),
        ("AREA(POINT('ICRS', 1, 2))", 0.0),
        ("AREA(BOX('ICRS', 0, 0, 2, 2))", None),
        ("COORD1(POINT('ICRS', 359.75, -3))", 359.75),
        ("COORD2(POINT('ICRS', 359.75, -3))", -3.0),
        ("COORD1(CENTROID(CIRCLE('ICRS', 12.5, -45, 1)))", 12.5),
        ("COORD2(CENTROID(CIRCLE('ICRS', 12.5, -45, 1)))", -45.0),
        ("COORD1(POINT('ICRS', -10, 0))", 350.0),
        ("COORDSYS(POINT('ICRS', 1, 2))", "ICRS"),
        ("CONTAINS(CIRCLE('ICRS', 10, 10, 0.5), CIRCLE('ICRS', 10, 10, 1))", 1),
        ("CONTAINS(CIRCLE('ICRS', 10, 10, 1), CIRCLE('ICRS', 10, 10, 0.5))", 0),
        ("INTERSECTS(CIRCLE('ICRS', 0, 0, 1), CIRCLE('ICRS', 1.5, 0, 1))", 1),
        ("INTERSECTS(CIRCLE('ICRS', 0, 0, 1), CIRCLE('ICRS', 2.5, 0, 1))", 0),
        ("INTERSECTS(CIRCLE('ICRS', 359.5, 0, 1), CIRCLE('ICRS', 0.5, 0, 0.1))", 1),
        ("INTERSECTS(POLYGON('ICRS', 0, 0, 1, 0, 1, 1, 0, 1), CIRCLE('ICRS', 1.2, 0.5, 0.3))", 1),
        ("INTERSECTS(POLYGON('ICRS', 0, 0, 1, 0, 1, 1, 0, 1), POLYGON('ICRS', 2, 2, 3, 2, 3, 3))", 0),
        ("CONTAINS(POLYGON('ICRS', 0, 0, 1, 0, 1, 1, 0, 1), CIRCLE('ICRS', 0, 0, 5))", 1),
        ("CONTAINS(POINT('ICRS', 0.5, 0.5), BOX('ICRS', 0, 0, 2, 2))", 1),
        ("CONTAINS(POINT('ICRS', 1.5, 0.5), BOX('ICRS', 0, 0, 2, 2))", 0),
        ("CONTAINS(POINT('ICRS', 359.5, 0.5), BOX('ICRS', POINT('ICRS', 0, 0), 2, 2))", 1),
        ("CONTAINS(POINT('ICRS', 0.5, 0.5), REGION('Box ICRS 0 0 2 2'))", 1),
        ("CONTAINS(POINT('ICRS', 0.5, 0.5), REGION('Circle ICRS 0 0 1'))", 1),
        ("CONTAINS(REGION('Position ICRS 0.5 0.5'), REGION('Circle ICRS 0 0 1'))", 1),
        ("CONTAINS(POINT('ICRS', 0.5, 0.5), REGION('CIRCLE ICRS GEOCENTER 0 0 0.5'))", 0),
    ],
)
def test_geometry_functions(db: psycopg.Connection, catalog: Catalog, expr: str, expected: object) -> None:
    got = value(db, catalog, expr)
    if expr.startswith("AREA(BOX"):
        assert got == pytest.approx(4.0, rel=1e-3)  # a 2x2-degree box at the equator
    elif isinstance(expected, float):
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)
    else:
        assert got == expected


def test_footprints_against_stacks_positions(db: psycopg.Connection, catalog: Catalog) -> None:
    got = rows(
        db, catalog, "SELECT COUNT(*) FROM ivoa.obscore WHERE INTERSECTS(s_region, CIRCLE('ICRS', 34.5, -5, 0.05)) = 1"
    )[0][0]
    assert got == sql_value(
        db,
        "SELECT count(*) FROM ivoa.obscore WHERE s_region && scircle(spoint(radians(34.5), radians(-5)), radians(0.05))",
    )
    got = rows(
        db, catalog, "SELECT COUNT(*) FROM ivoa.obscore WHERE CONTAINS(s_region, CIRCLE('ICRS', 34.5, -5, 1)) = 1"
    )[0][0]
    assert got == sql_value(
        db,
        "SELECT count(*) FROM ivoa.obscore WHERE s_region <@ scircle(spoint(radians(34.5), radians(-5)), radians(1))",
    )


# --- user-defined functions and IN_UNIT --------------------------------------------------------------
@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("ivo_nocasematch('Suprime-Cam', 'suprime%')", 1),
        ("ivo_nocasematch('Suprime-Cam', 'hsc%')", 0),
        ("ivo_hasword('Subaru Prime Focus Camera', 'focus')", 1),
        ("ivo_hasword('Subaru Prime Focus Camera', 'FOCUS camera')", 1),
        ("ivo_hasword('Subaru Prime Focus Camera', 'foc')", 0),
        ("ivo_hashlist_has('ivoa#TAP#ObsCore', 'obscore')", 1),
        ("ivo_hashlist_has('ivoa#TAP#ObsCore', 'obs')", 0),
        ("ivo_interval_overlaps(1, 3, 2, 4)", 1),
        ("ivo_interval_overlaps(1, 2, 3, 4)", 0),
        ("ivo_interval_overlaps(1, 3, 3, 4)", 1),
        ("IVO_INTERVAL_OVERLAPS(5, 6, 1, 10)", 1),
        ("IN_UNIT(CAST(1 AS DOUBLE PRECISION), 'deg')", None),
    ],
)
def test_user_defined_functions(db: psycopg.Connection, catalog: Catalog, expr: str, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(ADQLError, match="declared unit"):
            to_postgres(f"SELECT {expr} {ONE_ROW}", catalog)
    else:
        assert value(db, catalog, expr) == expected


@pytest.mark.parametrize(
    ("expr", "unit", "factor"),
    [
        ("s_fov", "arcmin", 60.0),
        ("s_fov", "arcsec", 3600.0),
        ("s_fov", "rad", math.pi / 180),
        ("em_min", "nm", 1e9),
        ("em_min", "Angstrom", 1e10),
        ("t_exptime", "h", 1 / 3600),
        ("t_exptime", "min", 1 / 60),
        ("t_min", "s", 86400.0),
        ("s_resolution", "deg", 1 / 3600),
        ("access_estsize", "byte", 1000.0),
    ],
)
def test_in_unit_converts_with_the_declared_unit(
    db: psycopg.Connection, catalog: Catalog, expr: str, unit: str, factor: float
) -> None:
    got = rows(
        db,
        catalog,
        f"SELECT IN_UNIT({expr}, '{unit}'), {expr} FROM ivoa.obscore WHERE obs_id = (SELECT MIN(obs_id) FROM ivoa.obscore)",
    )[0]
    assert got[0] == pytest.approx(got[1] * factor, rel=1e-12)
    assert to_postgres(f"SELECT IN_UNIT({expr}, '{unit}') FROM ivoa.obscore", catalog).output[0].meta.unit == unit


# --- queries from public tutorials, adapted to this archive's tables ----------------------------
TUTORIAL_CASES = [
    # Gaia archive cone search, as in its ADQL cookbook
    (
        "SELECT TOP 100 obs_id, s_ra, s_dec FROM ivoa.obscore WHERE CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 34.5, -5.0, 0.3)) = 1 ORDER BY obs_id",
        "SELECT obs_id, s_ra, s_dec FROM ivoa.obscore WHERE degrees(spoint(radians(s_ra), radians(s_dec)) <-> spoint(radians(34.5), radians(-5.0))) <= 0.3 ORDER BY obs_id LIMIT 100",
    ),
    # Gaia cookbook: distance column with sorting
    (
        "SELECT TOP 5 obs_id, DISTANCE(POINT('ICRS', s_ra, s_dec), POINT('ICRS', 34.5, -5.0)) AS dist FROM ivoa.obscore ORDER BY dist, obs_id",
        "SELECT obs_id, degrees(spoint(radians(s_ra), radians(s_dec)) <-> spoint(radians(34.5), radians(-5.0))) AS dist FROM ivoa.obscore ORDER BY 2, 1 LIMIT 5",
    ),
    # Gaia cookbook: "1 = CONTAINS" written the other way round
    (
        "SELECT COUNT(*) FROM ivoa.obscore WHERE 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), BOX('ICRS', 34.5, -5.0, 0.4, 0.4))",
        "SELECT count(*) FROM ivoa.obscore WHERE s_ra BETWEEN 34.3 AND 34.7 AND s_dec BETWEEN -5.2 AND -4.8",
    ),
    # ObsCore 1.1 appendix examples
    (
        "SELECT * FROM ivoa.obscore WHERE dataproduct_type = 'image' AND calib_level >= 3 AND CONTAINS(POINT('ICRS', 34.5, -5.0), s_region) = 1 ORDER BY obs_id",
        "SELECT * FROM ivoa.obscore WHERE spoint(radians(34.5), radians(-5.0)) <@ s_region ORDER BY obs_id",
    ),
    (
        "SELECT COUNT(*) FROM ivoa.obscore WHERE em_min < 5.5e-7 AND em_max > 5.5e-7",
        "SELECT count(*) FROM ivoa.obscore WHERE em_min < 5.5e-7 AND em_max > 5.5e-7",
    ),
    (
        "SELECT COUNT(*) FROM ivoa.obscore WHERE t_min > 52900 AND t_max < 53500 AND t_exptime >= 3600",
        "SELECT count(*) FROM ivoa.obscore WHERE t_min > 52900 AND t_max < 53500 AND t_exptime >= 3600",
    ),
    # TOPCAT's TAP examples menu: table metadata
    (
        "SELECT TOP 20 table_name, description FROM TAP_SCHEMA.tables WHERE table_name LIKE 'ivoa.%' ORDER BY table_name",
        "SELECT table_name, description FROM tap_schema.tables WHERE table_name LIKE 'ivoa.%' ORDER BY 1 LIMIT 20",
    ),
    (
        "SELECT column_name, datatype, unit, ucd FROM TAP_SCHEMA.columns WHERE table_name = 'ivoa.obscore' AND ucd LIKE 'pos.eq%' ORDER BY column_index",
        "SELECT column_name, datatype, unit, ucd FROM tap_schema.columns WHERE table_name = 'ivoa.obscore' AND ucd LIKE 'pos.eq%' ORDER BY column_index",
    ),
    # pyvo documentation: counting per category
    (
        "SELECT dataproduct_type, COUNT(*) AS n FROM ivoa.obscore GROUP BY dataproduct_type",
        "SELECT dataproduct_type, count(*) FROM ivoa.obscore GROUP BY 1",
    ),
    (
        "SELECT TOP 3 obs_publisher_did, access_url, access_estsize FROM ivoa.obscore WHERE instrument_name = 'Suprime-Cam' ORDER BY access_estsize DESC, obs_publisher_did",
        "SELECT obs_publisher_did, access_url, access_estsize FROM ivoa.obscore ORDER BY 3 DESC, 1 LIMIT 3",
    ),
    # astroquery-style case-insensitive search on collection
    ("SELECT COUNT(*) FROM ivoa.obscore WHERE ivo_nocasematch(obs_collection, '%suprime%') = 1", "SELECT 132"),
    # GAVO ADQL course: self-join to find overlapping observations in two bands
    (
        "SELECT COUNT(*) FROM ivoa.obscore AS v JOIN ivoa.obscore AS i ON INTERSECTS(v.s_region, i.s_region) = 1 WHERE v.em_band_name = 'W-J-V' AND i.em_band_name = 'W-S-I+'",
        "SELECT count(*) FROM ivoa.obscore v JOIN ivoa.obscore i ON v.s_region && i.s_region WHERE v.em_band_name = 'W-J-V' AND i.em_band_name = 'W-S-I+'",
    ),
    # GAVO ADQL course: histogram by binning
    (
        "SELECT FLOOR(s_dec * 2) / 2 AS bin, COUNT(*) AS n FROM ivoa.obscore GROUP BY bin ORDER BY bin",
        "SELECT floor(s_dec * 2) / 2 AS bin, count(*) FROM ivoa.obscore GROUP BY 1 ORDER BY 1",
    ),
    (
        "SELECT TOP 1 em_band_name, IN_UNIT(em_min, 'nm') AS lo, IN_UNIT(em_max, 'nm') AS hi FROM ivoa.obscore WHERE em_band_name = 'W-C-RC'",
        "SELECT em_band_name, em_min * 1e9, em_max * 1e9 FROM ivoa.obscore WHERE em_band_name = 'W-C-RC' LIMIT 1",
    ),
]


@pytest.mark.parametrize(("adql", "sql"), TUTORIAL_CASES)
def test_tutorial_queries(db: psycopg.Connection, catalog: Catalog, adql: str, sql: str) -> None:
    got, expected = rows(db, catalog, adql), db.execute(sql).fetchall()
    assert len(got) == len(expected) and len(got) > 0
    for a, b in zip(got, expected, strict=True):
        assert [pytest.approx(x, rel=1e-12) if isinstance(x, float) else x for x in a] == [
            str(y) if type(y).__name__ == "str" else y for y in b
        ] or a == b


# --- errors: every failure is an ADQLError with a code and a position ------------------------------
ERROR_CASES = [
    ("SELECT * FROM ivoa.obscore AS a, ivoa.obscore AS b WHERE s_ra > 1", "ADQL-AMBIGUOUS"),
    ("SELECT * FROM ivoa.obscore, ivoa.obscore", "ADQL-AMBIGUOUS"),
    ("SELECT * FROM ivoa.obscore JOIN tap_schema.tables", "ADQL-SYNTAX"),
    ("SELECT * FROM ivoa.obscore NATURAL JOIN tap_schema.tables ON 1 = 1", "ADQL-SYNTAX"),
    ("SELECT * FROM tap_schema.tables JOIN tap_schema.schemas USING (nothing)", "ADQL-UNKNOWN-COLUMN"),
    ("SELECT obs_id FROM ivoa.obscore UNION SELECT obs_id, s_ra FROM ivoa.obscore", "ADQL-TYPE"),
    ("SELECT obs_id FROM ivoa.obscore UNION SELECT obs_id FROM ivoa.obscore ORDER BY s_ra", "ADQL-UNKNOWN-COLUMN"),
    ("SELECT * FROM ivoa.obscore WHERE s_ra > (SELECT s_ra, s_dec FROM ivoa.obscore)", "ADQL-TYPE"),
    ("SELECT * FROM ivoa.obscore WHERE s_ra IN (SELECT s_ra, s_dec FROM ivoa.obscore)", "ADQL-TYPE"),
    (
        "WITH x AS (SELECT 1 AS a FROM ivoa.obscore), x AS (SELECT 2 AS a FROM ivoa.obscore) SELECT * FROM x",
        "ADQL-AMBIGUOUS",
    ),
    ("WITH x (a, b) AS (SELECT obs_id FROM ivoa.obscore) SELECT * FROM x", "ADQL-TYPE"),
    ("SELECT nope FROM (SELECT obs_id FROM ivoa.obscore) AS d", "ADQL-UNKNOWN-COLUMN"),
    ("SELECT * FROM (SELECT obs_id FROM ivoa.obscore)", "ADQL-SYNTAX"),
    ("SELECT d.obs_id FROM (SELECT o.obs_id FROM ivoa.obscore AS o WHERE o.s_ra > d.s_ra) AS d", "ADQL-UNKNOWN-TABLE"),
    ("SELECT IN_UNIT(s_fov, 'kg') FROM ivoa.obscore", "ADQL-TYPE"),
    ("SELECT IN_UNIT(s_fov, 'furlongs per fortnight') FROM ivoa.obscore", "ADQL-TYPE"),
    ("SELECT IN_UNIT(s_fov, em_band_name) FROM ivoa.obscore", "ADQL-TYPE"),
    ("SELECT REGION('Ellipse ICRS 1 2 3 4 5') FROM ivoa.obscore", "ADQL-UNSUPPORTED"),
    ("SELECT REGION('Circle GALACTIC 1 2 3') FROM ivoa.obscore", "ADQL-UNSUPPORTED"),
    ("SELECT REGION('Polygon ICRS 1 2 3') FROM ivoa.obscore", "ADQL-UNSUPPORTED"),
    ("SELECT REGION(em_band_name) FROM ivoa.obscore", "ADQL-TYPE"),
    ("SELECT POLYGON('ICRS', 1, 2, 3, 4) FROM ivoa.obscore", "ADQL-TYPE"),
    ("SELECT POLYGON('ICRS', 1, 2, 3, 4, 5) FROM ivoa.obscore", "ADQL-TYPE"),
    ("SELECT AREA(s_ra) FROM ivoa.obscore", "ADQL-TYPE"),
    ("SELECT COORD1(s_ra) FROM ivoa.obscore", "ADQL-TYPE"),
    ("SELECT DISTANCE(s_ra, s_dec) FROM ivoa.obscore", "ADQL-TYPE"),
    ("SELECT CIRCLE('FK5', 1, 2, 3) FROM ivoa.obscore", "ADQL-UNSUPPORTED"),
    ("SELECT CIRCLE('ICRS', 1, 2, 120) FROM ivoa.obscore", "ADQL-UNSUPPORTED"),
    ("SELECT CIRCLE('ICRS', 1, 2, -1) FROM ivoa.obscore", "ADQL-UNSUPPORTED"),
    ("SELECT POINT(em_band_name, 1, 2) FROM ivoa.obscore", "ADQL-TYPE"),
    ("SELECT ivo_hasword(obs_id) FROM ivoa.obscore", "ADQL-TYPE"),
    ("SELECT SUM(*) FROM ivoa.obscore", "ADQL-SYNTAX"),
    ("SELECT COALESCE() FROM ivoa.obscore", "ADQL-TYPE"),
    ("SELECT COUNT() FROM ivoa.obscore", "ADQL-TYPE"),  # found by the fuzzer: it used to crash
    ("SELECT CAST(s_ra AS GEOMETRY) FROM ivoa.obscore", "ADQL-SYNTAX"),
    ("SELECT CASE WHEN 1 THEN 2 END FROM ivoa.obscore", "ADQL-SYNTAX"),
    ("SELECT TOP -1 * FROM ivoa.obscore", "ADQL-SYNTAX"),
    ("SELECT * FROM ivoa.obscore ORDER BY 0", "ADQL-UNKNOWN-COLUMN"),
    ("SELECT * FROM pg_catalog.pg_class", "ADQL-UNKNOWN-TABLE"),
    ("SELECT * FROM ivoa.obscore WHERE s_ra > 1; SELECT 1", "ADQL-SYNTAX"),
    ("SELECT 'unterminated FROM ivoa.obscore", "ADQL-SYNTAX"),
    ('SELECT "unterminated FROM ivoa.obscore', "ADQL-SYNTAX"),
    ("SELECT s_ra FROM ivoa.obscore WHERE s_ra LIKE 'x' ESCAPE", "ADQL-SYNTAX"),
    ("SELECT * FROM ivoa.obscore LIMIT 10", "ADQL-SYNTAX"),
]


@pytest.mark.parametrize(("adql", "code"), ERROR_CASES)
def test_errors_are_adql_errors_with_a_code_and_position(catalog: Catalog, adql: str, code: str) -> None:
    with pytest.raises(ADQLError) as info:
        to_postgres(adql, catalog)
    assert info.value.code == code, str(info.value)
    assert info.value.line is not None or code == "ADQL-SYNTAX"


def test_correlated_subquery_sees_the_outer_table(db: psycopg.Connection, catalog: Catalog) -> None:
    adql = (
        "SELECT COUNT(*) FROM ivoa.obscore AS o WHERE EXISTS "
        "(SELECT 1 FROM ivoa.obscore AS p WHERE p.em_band_name = o.em_band_name AND p.t_exptime > o.t_exptime)"
    )
    expected = sql_value(
        db,
        "SELECT count(*) FROM ivoa.obscore o WHERE t_exptime < (SELECT max(t_exptime) FROM ivoa.obscore p WHERE p.em_band_name = o.em_band_name)",
    )
    assert rows(db, catalog, adql)[0][0] == expected


def test_output_columns_carry_units_and_ucds_from_their_source(catalog: Catalog) -> None:
    out = to_postgres(
        "SELECT o.s_ra, MAX(o.s_dec) AS top_dec, AVG(t_exptime), s_ra + 1 AS ra1, DISTANCE(POINT('ICRS', s_ra, s_dec), POINT('ICRS', 0, 0)) AS d "
        "FROM ivoa.obscore AS o GROUP BY o.s_ra, o.s_dec, t_exptime",
        catalog,
    ).output
    meta = {o.name: o.meta for o in out}
    assert (meta["s_ra"].unit, meta["s_ra"].ucd) == ("deg", "pos.eq.ra")
    assert (meta["top_dec"].unit, meta["top_dec"].ucd, meta["top_dec"].datatype) == ("deg", "pos.eq.dec", "double")
    assert meta["avg"].unit == "s"
    assert meta["d"].unit == "deg"
    assert meta["ra1"].datatype == "double"
