"""ADQL translated to PostgreSQL and run on the real database with pgsphere: each case is checked
against a result computed independently (plain SQL or Python), not against SQL text."""

from __future__ import annotations

import math
from typing import Any

import psycopg
import pytest

from adql import ADQLError, Catalog, to_postgres


def run(db: psycopg.Connection, catalog: Catalog, adql: str) -> list[tuple[Any, ...]]:
    return db.execute(to_postgres(adql, catalog).sql).fetchall()


def scalar(db: psycopg.Connection, sql: str) -> Any:
    return db.execute(sql).fetchone()[0]


@pytest.mark.parametrize(
    ("adql", "sql"),
    [
        ("SELECT COUNT(*) FROM ivoa.obscore", "SELECT count(*) FROM ivoa.obscore"),
        (
            "SELECT COUNT(*) FROM ivoa.obscore WHERE s_ra BETWEEN 34.4 AND 34.5",
            "SELECT count(*) FROM ivoa.obscore WHERE s_ra >= 34.4 AND s_ra <= 34.5",
        ),
        (
            "SELECT COUNT(*) FROM ivoa.obscore WHERE s_ra NOT BETWEEN 34.4 AND 34.5",
            "SELECT count(*) FROM ivoa.obscore WHERE s_ra < 34.4 OR s_ra > 34.5",
        ),
        (
            "SELECT COUNT(*) FROM ivoa.obscore WHERE em_band_name IN ('W-J-V', 'N-B-1010')",
            "SELECT count(*) FROM ivoa.obscore WHERE em_band_name = 'W-J-V' OR em_band_name = 'N-B-1010'",
        ),
        (
            "SELECT COUNT(*) FROM ivoa.obscore WHERE NOT em_band_name = 'W-J-V'",
            "SELECT count(*) FROM ivoa.obscore WHERE em_band_name <> 'W-J-V'",
        ),
        ("SELECT COUNT(*) FROM ivoa.obscore WHERE pol_states IS NULL", "SELECT count(*) FROM ivoa.obscore"),
        (
            "SELECT COUNT(*) FROM ivoa.obscore WHERE target_name IS NOT NULL AND s_dec > -5",
            "SELECT count(*) FROM ivoa.obscore WHERE s_dec > -5",
        ),
        (
            "SELECT COUNT(*) FROM ivoa.obscore WHERE em_band_name LIKE 'N-%'",
            "SELECT count(*) FROM ivoa.obscore WHERE left(em_band_name, 2) = 'N-'",
        ),
        (
            "SELECT COUNT(*) FROM ivoa.obscore WHERE em_band_name ILIKE 'w-j-_'",
            "SELECT count(*) FROM ivoa.obscore WHERE em_band_name IN ('W-J-B', 'W-J-V')",
        ),
        ("SELECT COUNT(DISTINCT em_band_name) FROM ivoa.obscore", "SELECT 9"),
        ("SELECT MAX(s_ra) FROM ivoa.obscore", "SELECT max(s_ra) FROM ivoa.obscore"),
        (
            "SELECT MIN(t_min) FROM ivoa.obscore WHERE s_dec < -5 OR s_ra > 34.9",
            "SELECT min(t_min) FROM ivoa.obscore WHERE s_dec < -5 OR s_ra > 34.9",
        ),
        ("SELECT SUM(s_xel1) FROM ivoa.obscore", "SELECT 132 * 110"),
        ("SELECT AVG(t_exptime) FROM ivoa.obscore", "SELECT avg(t_exptime) FROM ivoa.obscore"),
    ],
)
def test_results_match_plain_sql(db: psycopg.Connection, catalog: Catalog, adql: str, sql: str) -> None:
    assert run(db, catalog, adql)[0][0] == scalar(db, sql)


def test_like_has_no_default_escape_character(db: psycopg.Connection, catalog: Catalog) -> None:
    # In PostgreSQL a backslash escapes by default; in ADQL it is an ordinary character.
    assert run(db, catalog, "SELECT COUNT(*) FROM ivoa.obscore WHERE 'a\\b' LIKE 'a\\b'")[0][0] == 132


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("LOG(EXP(2))", 2.0),
        ("LOG10(1000)", 3.0),
        ("ROUND(2.567, 2)", 2.57),
        ("ROUND(-2.5)", -3.0),
        ("TRUNCATE(2.567, 1)", 2.5),
        ("TRUNCATE(-2.7)", -2.0),
        ("CEILING(1.2)", 2.0),
        ("FLOOR(-1.2)", -2.0),
        ("MOD(7, 3)", 1),
        ("POWER(2, 10)", 1024.0),
        ("SQRT(16)", 4.0),
        ("DEGREES(PI())", 180.0),
        ("RADIANS(180)", math.pi),
        ("ATAN2(1, 1)", math.pi / 4),
        ("ABS(-3)", 3),
        ("UPPER('sxds')", "SXDS"),
        ("LOWER('W-J-V')", "w-j-v"),
        ("DISTANCE(POINT('ICRS', 0, 0), POINT('ICRS', 0, 1))", 1.0),
        ("DISTANCE(359.5, 0, 0.5, 0)", 1.0),
        ("COORD1(POINT('ICRS', 34.5, -4.8))", 34.5),
        ("COORD2(POINT('', 34.5, -4.8))", -4.8),
        ("7 / 2", 3),
        ("7 / 2.0", 3.5),
        ("2 + 3 * 4 - -1", 15),
    ],
)
def test_functions_have_adql_semantics(db: psycopg.Connection, catalog: Catalog, expr: str, expected: object) -> None:
    value = run(db, catalog, f"SELECT TOP 1 {expr} AS v FROM ivoa.obscore")[0][0]
    if isinstance(expected, float):
        assert float(value) == pytest.approx(expected, abs=1e-9)
    else:
        assert value == expected


def test_cone_containment_matches_great_circle_distance(db: psycopg.Connection, catalog: Catalog) -> None:
    got = {
        r[0]
        for r in run(
            db,
            catalog,
            "SELECT obs_id FROM ivoa.obscore WHERE CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 34.75, -4.75, 0.3)) = 1",
        )
    }
    rows = db.execute("SELECT obs_id, s_ra, s_dec FROM ivoa.obscore").fetchall()

    def sep(ra: float, dec: float) -> float:
        r1, d1, r2, d2 = map(math.radians, (ra, dec, 34.75, -4.75))
        return math.degrees(
            math.acos(min(1.0, math.sin(d1) * math.sin(d2) + math.cos(d1) * math.cos(d2) * math.cos(r1 - r2)))
        )

    assert got == {o for o, ra, dec in rows if sep(ra, dec) <= 0.3}
    assert got


def test_contains_zero_is_the_complement(db: psycopg.Connection, catalog: Catalog) -> None:
    inside = run(
        db,
        catalog,
        "SELECT COUNT(*) FROM ivoa.obscore WHERE CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 34.5, -5, 0.25)) = 1",
    )[0][0]
    outside = run(
        db,
        catalog,
        "SELECT COUNT(*) FROM ivoa.obscore WHERE 0 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 34.5, -5, 0.25))",
    )[0][0]
    assert inside + outside == 132 and inside > 0


def test_point_in_footprint_finds_every_stack_covering_it(db: psycopg.Connection, catalog: Catalog) -> None:
    got = run(db, catalog, "SELECT COUNT(*) FROM ivoa.obscore WHERE CONTAINS(POINT('ICRS', 34.5, -5.0), s_region) = 1")[
        0
    ][0]
    assert got == scalar(db, "SELECT count(*) FROM ivoa.obscore WHERE spoint(radians(34.5), radians(-5.0)) <@ s_region")
    assert got >= 3


def test_cone_query_uses_the_position_index(db: psycopg.Connection, catalog: Catalog) -> None:
    sql = to_postgres(
        "SELECT obs_id FROM ivoa.obscore WHERE CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 34.5, -5, 0.1)) = 1",
        catalog,
    ).sql
    db.execute("SET enable_seqscan = off")  # 132 rows: make the planner show what it can use
    plan = "\n".join(r[0] for r in db.execute(f"EXPLAIN {sql}"))
    db.execute("RESET enable_seqscan")
    assert "obscore_position" in plan


def test_order_top_offset(db: psycopg.Connection, catalog: Catalog) -> None:
    got = run(db, catalog, "SELECT TOP 3 obs_id FROM ivoa.obscore ORDER BY s_ra DESC, obs_id OFFSET 2")
    assert got == db.execute("SELECT obs_id FROM ivoa.obscore ORDER BY s_ra DESC, obs_id LIMIT 3 OFFSET 2").fetchall()
    by_position = run(db, catalog, "SELECT obs_id, s_dec FROM ivoa.obscore ORDER BY 2, 1")
    assert by_position == db.execute("SELECT obs_id, s_dec FROM ivoa.obscore ORDER BY s_dec, obs_id").fetchall()


def test_group_by_and_having(db: psycopg.Connection, catalog: Catalog) -> None:
    got = run(
        db,
        catalog,
        "SELECT em_band_name, COUNT(*) AS n FROM ivoa.obscore GROUP BY em_band_name HAVING COUNT(*) > 10 ORDER BY em_band_name",
    )
    assert got == [("W-C-RC", 36), ("W-J-V", 36), ("W-S-I+", 36)]


@pytest.mark.parametrize(
    ("adql", "code", "fragment"),
    [
        ("SELECT raa FROM ivoa.obscore", "ADQL-UNKNOWN-COLUMN", "did you mean 's_ra'"),
        ("SELECT x.s_ra FROM ivoa.obscore AS o", "ADQL-UNKNOWN-TABLE", "'x'"),
        ("SELECT s_ra FROM ivoa.obscore a, ivoa.obscore b", "ADQL-AMBIGUOUS", "s_ra"),
        ("SELECT * FROM obscores", "ADQL-UNKNOWN-TABLE", "did you mean"),
        ('SELECT "S_RA" FROM ivoa.obscore', "ADQL-UNKNOWN-COLUMN", "S_RA"),
        ("SELECT ivo_haswords(obs_id, 'x') FROM ivoa.obscore", "ADQL-UNKNOWN-FUNCTION", "did you mean 'ivo_hasword'"),
        ("SELECT SQRT(1, 2) FROM ivoa.obscore", "ADQL-TYPE", "SQRT takes 1"),
        (
            "SELECT * FROM ivoa.obscore WHERE CONTAINS(POINT('GALACTIC', 1, 2), s_region) = 1",
            "ADQL-UNSUPPORTED",
            "GALACTIC",
        ),
        ("SELECT * FROM ivoa.obscore WHERE CONTAINS(s_ra, s_region) = 1", "ADQL-TYPE", "must be a geometry"),
        ("SELECT * FROM ivoa.obscore ORDER BY 99", "ADQL-UNKNOWN-COLUMN", "99"),
    ],
)
def test_resolution_errors_name_the_culprit(catalog: Catalog, adql: str, code: str, fragment: str) -> None:
    with pytest.raises(ADQLError) as info:
        to_postgres(adql, catalog)
    assert info.value.code == code
    assert fragment in str(info.value)


def test_regular_identifiers_are_case_insensitive(db: psycopg.Connection, catalog: Catalog) -> None:
    assert run(db, catalog, "SELECT COUNT(S_RA) FROM IVOA.ObsCore")[0][0] == 132
