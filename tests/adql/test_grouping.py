"""Grouping and aggregates (adql/grouping.py): what PostgreSQL refuses (SQLSTATE 42803, 42P10) is
an ADQL-GROUPING error at the offending name before any SQL is made (no database), and what it
accepts is accepted and runs (on the real database)."""

from __future__ import annotations

from dataclasses import replace

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adql import ADQLCode, ADQLError, Catalog, to_postgres
from schemas.model import builtin_schemas, catalog_of

OBSCORE = catalog_of(builtin_schemas())  # ObsCore and TAP_SCHEMA with their primary keys

# query, (line, column) of the offending name, a fragment of the message
REFUSED: list[tuple[str, tuple[int, int], str]] = [
    ("SELECT obs_id FROM ivoa.obscore GROUP BY s_ra", (1, 8), "column 'obs_id' is neither grouped nor inside"),
    ("SELECT s_ra,\n  obs_id\nFROM ivoa.obscore GROUP BY s_ra", (2, 3), "add obs_id to GROUP BY"),
    ("SELECT obs_id, COUNT(*) FROM ivoa.obscore", (1, 8), "the aggregate COUNT makes the query one row"),
    ("SELECT * FROM ivoa.obscore GROUP BY s_ra", (1, 8), "is neither grouped"),
    ("SELECT s_ra FROM ivoa.obscore GROUP BY s_ra ORDER BY s_dec", (1, 54), "column 's_dec'"),
    ("SELECT s_ra FROM ivoa.obscore GROUP BY s_ra HAVING s_dec > 0", (1, 52), "column 's_dec'"),
    ("SELECT s_ra FROM ivoa.obscore HAVING COUNT(*) > 1", (1, 8), "column 's_ra'"),
    ("SELECT s_ra FROM ivoa.obscore HAVING 1 = 1", (1, 8), "HAVING makes the query one group"),
    ("SELECT obs_id FROM ivoa.obscore ORDER BY COUNT(*)", (1, 8), "column 'obs_id'"),
    ("SELECT 1 + s_ra + 1 FROM ivoa.obscore GROUP BY s_ra + 1", (1, 12), "column 's_ra'"),
    ("SELECT obs_id FROM ivoa.obscore GROUP BY LOWER(obs_publisher_did)", (1, 8), "column 'obs_id'"),
    ("SELECT obs_id FROM ivoa.obscore GROUP BY 1", (1, 8), "column 'obs_id'"),  # the constant 1, not a position
    (
        "SELECT a.obs_id, b.obs_id FROM ivoa.obscore AS a JOIN ivoa.obscore AS b ON a.s_ra = b.s_ra "
        "GROUP BY a.obs_publisher_did",
        (1, 18),
        "column 'obs_id'",
    ),
    (
        "SELECT a.obs_id FROM ivoa.obscore AS a JOIN ivoa.obscore AS b USING (obs_publisher_did) "
        "GROUP BY obs_publisher_did",
        (1, 8),
        "column 'obs_id'",
    ),
    (
        "SELECT s_ra, (SELECT COUNT(*) FROM tap_schema.schemas AS s WHERE s.schema_name = o.obs_id) "
        "FROM ivoa.obscore AS o GROUP BY s_ra",
        (1, 82),
        "column 'obs_id' of the outer query, used in a subquery,",
    ),
    ("SELECT MAX(COUNT(*)) FROM ivoa.obscore GROUP BY s_ra", (1, 12), "aggregate functions cannot be nested"),
    (
        "SELECT MAX((SELECT COUNT(o.s_ra) FROM tap_schema.schemas)) FROM ivoa.obscore AS o",
        (1, 20),
        "COUNT inside MAX",
    ),
    ("SELECT obs_id FROM ivoa.obscore WHERE COUNT(*) > 1", (1, 39), "WHERE cannot use the aggregate function COUNT"),
    (
        "SELECT obs_id FROM ivoa.obscore AS o WHERE EXISTS (SELECT 1 FROM tap_schema.schemas WHERE MAX(o.s_ra) > 0)",
        (1, 91),
        "WHERE cannot use the aggregate function MAX",
    ),
    ("SELECT COUNT(*) FROM ivoa.obscore GROUP BY MAX(s_ra)", (1, 44), "GROUP BY cannot use the aggregate"),
    ("SELECT COUNT(*) AS n FROM ivoa.obscore GROUP BY n", (1, 49), "GROUP BY n: that is the select list's n"),
    (
        "SELECT a.obs_id FROM ivoa.obscore AS a JOIN ivoa.obscore AS b ON MAX(a.s_ra) = b.s_ra",
        (1, 66),
        "JOIN cannot use the aggregate function MAX",
    ),
    ("SELECT DISTINCT s_ra FROM ivoa.obscore ORDER BY s_dec", (1, 49), "with SELECT DISTINCT, ORDER BY"),
    (
        "SELECT obs_id FROM ivoa.obscore GROUP BY s_ra UNION SELECT schema_name FROM tap_schema.schemas",
        (1, 8),
        "column 'obs_id'",
    ),
    ("SELECT * FROM (SELECT obs_id, COUNT(*) AS n FROM ivoa.obscore) AS d", (1, 23), "column 'obs_id'"),
    ("WITH c AS (SELECT obs_id, COUNT(*) AS n FROM ivoa.obscore) SELECT * FROM c", (1, 19), "column 'obs_id'"),
    # The translation names each table occurrence anew (t1, t2), so PostgreSQL finds no two
    # subqueries equal; the checker agrees and points to the alias that works (ACCEPTED).
    (
        "SELECT DISTINCT (SELECT MAX(p.s_dec) FROM ivoa.obscore AS p WHERE p.s_ra > o.s_ra) FROM ivoa.obscore AS o "
        "ORDER BY (SELECT MAX(p.s_dec) FROM ivoa.obscore AS p WHERE p.s_ra > o.s_ra)",
        (1, 117),
        "give the select list's one an alias (AS v), and ORDER BY that alias",
    ),
    (
        "SELECT (SELECT MAX(p.s_dec) FROM ivoa.obscore AS p WHERE p.s_ra > o.s_ra), COUNT(*) FROM ivoa.obscore AS o "
        "GROUP BY (SELECT MAX(p.s_dec) FROM ivoa.obscore AS p WHERE p.s_ra > o.s_ra)",
        (1, 67),
        "of the outer query, used in a subquery,",
    ),
    (
        "SELECT obs_id FROM ivoa.obscore WHERE s_ra IN (SELECT s_ra FROM ivoa.obscore GROUP BY s_dec)",
        (1, 55),
        "column 's_ra'",
    ),
]

ACCEPTED: list[str] = [
    "SELECT s_ra, COUNT(*) FROM ivoa.obscore GROUP BY s_ra",
    "SELECT COUNT(*), MAX(s_ra) - MIN(s_ra), AVG(s_fov) FROM ivoa.obscore",
    "SELECT s_ra + 1, COUNT(*) FROM ivoa.obscore GROUP BY s_ra + 1",
    "SELECT (s_ra + 1) * 2 FROM ivoa.obscore GROUP BY s_ra + 1",
    "SELECT ROUND(s_ra) AS r, COUNT(*) FROM ivoa.obscore GROUP BY r ORDER BY r",
    "SELECT ROUND(s_ra) AS r, ROUND(s_ra) + 1 FROM ivoa.obscore GROUP BY r",
    "SELECT CASE WHEN s_ra > 34.5 THEN 'e' ELSE 'w' END AS side, COUNT(*) FROM ivoa.obscore GROUP BY side",
    "SELECT obs_id, s_ra FROM ivoa.obscore GROUP BY obs_publisher_did",
    "SELECT * FROM ivoa.obscore GROUP BY obs_publisher_did",
    "SELECT c.datatype FROM tap_schema.columns AS c GROUP BY c.table_name, c.column_name",
    "SELECT a.obs_id, b.obs_id FROM ivoa.obscore AS a JOIN ivoa.obscore AS b ON a.obs_publisher_did = b.obs_publisher_did "
    "GROUP BY a.obs_publisher_did, b.obs_publisher_did",
    "SELECT obs_publisher_did, COUNT(*) FROM ivoa.obscore AS a JOIN ivoa.obscore AS b USING (obs_publisher_did) "
    "GROUP BY obs_publisher_did",
    "SELECT s_ra FROM ivoa.obscore GROUP BY s_ra HAVING COUNT(*) > 0 ORDER BY MAX(s_dec)",
    "SELECT s_ra FROM ivoa.obscore GROUP BY s_ra, s_dec ORDER BY s_dec",
    "SELECT obs_id FROM ivoa.obscore ORDER BY s_ra",
    "SELECT COUNT(*) FROM ivoa.obscore HAVING COUNT(*) > 0",
    "SELECT COUNT(*) FROM ivoa.obscore GROUP BY 1",
    "SELECT obs_id, (SELECT COUNT(*) FROM tap_schema.schemas AS s WHERE s.schema_name = o.obs_id) "
    "FROM ivoa.obscore AS o GROUP BY obs_id",
    "SELECT obs_id, (SELECT MAX(s_ra) FROM ivoa.obscore) FROM ivoa.obscore",
    "SELECT (SELECT MAX(o.s_ra) FROM tap_schema.schemas WHERE schema_name = 'ivoa') FROM ivoa.obscore AS o",
    "SELECT MAX((SELECT COUNT(*) FROM tap_schema.schemas)) FROM ivoa.obscore",
    "SELECT obs_id FROM ivoa.obscore WHERE s_ra > (SELECT AVG(s_ra) FROM ivoa.obscore)",
    "SELECT obs_id FROM ivoa.obscore AS o WHERE EXISTS "
    "(SELECT 1 FROM ivoa.obscore AS p GROUP BY p.s_ra HAVING MAX(p.s_dec) > o.s_dec)",
    "SELECT DISTINCT s_ra FROM ivoa.obscore ORDER BY s_ra",
    "SELECT DISTINCT s_ra AS r FROM ivoa.obscore ORDER BY r DESC",
    "SELECT DISTINCT s_ra + 1 FROM ivoa.obscore ORDER BY s_ra + 1",
    "SELECT DISTINCT s_ra, s_dec FROM ivoa.obscore ORDER BY 2",
    "SELECT DISTINCT (SELECT MAX(p.s_dec) FROM ivoa.obscore AS p WHERE p.s_ra > o.s_ra) AS m FROM ivoa.obscore AS o "
    "ORDER BY m",
    "SELECT (SELECT MAX(p.s_dec) FROM ivoa.obscore AS p WHERE p.s_ra > o.s_ra) AS m, COUNT(*) FROM ivoa.obscore AS o "
    "GROUP BY m",
    "SELECT s_ra, ivo_string_agg(obs_id, ',') FROM ivoa.obscore GROUP BY s_ra",
    "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM ivoa.obscore GROUP BY s_ra) AS g",
    "SELECT dataproduct_type, COUNT(*) FROM ivoa.obscore GROUP BY dataproduct_type "
    "UNION SELECT schema_name, COUNT(*) FROM tap_schema.schemas GROUP BY schema_name",
]


@pytest.mark.parametrize(("adql", "where", "fragment"), REFUSED)
def test_grouping_errors_are_found_before_any_sql(adql: str, where: tuple[int, int], fragment: str) -> None:
    with pytest.raises(ADQLError) as info:
        to_postgres(adql, OBSCORE)
    error = info.value
    assert (error.code, (error.line, error.column)) == (ADQLCode.GROUPING, where), error.message
    assert fragment in error.message


@pytest.mark.parametrize("adql", ACCEPTED)
def test_what_postgresql_accepts_is_accepted(adql: str) -> None:
    assert to_postgres(adql, OBSCORE).sql.startswith(("SELECT", "("))


@pytest.mark.parametrize("adql", ACCEPTED)
def test_what_the_checker_accepts_runs_on_postgresql(db: psycopg.Connection, catalog: Catalog, adql: str) -> None:
    db.execute(to_postgres(adql, catalog).sql).fetchall()  # the real catalogue: primary keys from the database


def test_a_table_read_through_a_function_has_no_primary_key_to_group_by() -> None:
    # as a server reads ObsCore (rendering its access URLs): PostgreSQL sees no key through it
    tables = [replace(t, sql_name="dalserver.rows('x')") if t.name == "obscore" else t for t in OBSCORE.tables]
    with pytest.raises(ADQLError) as info:
        to_postgres("SELECT obs_id FROM ivoa.obscore GROUP BY obs_publisher_did", Catalog(tables))
    assert (info.value.code, info.value.column) == (ADQLCode.GROUPING, 8)


def test_the_published_catalogue_knows_the_database_primary_keys(catalog: Catalog) -> None:
    keys = {t.qualified_name: t.primary_key for t in catalog.tables}
    assert keys["ivoa.obscore"] == ("obs_publisher_did",)
    assert keys["tap_schema.columns"] == ("table_name", "column_name")


# --- the checker against PostgreSQL itself, on generated queries ---------------------------------
# Queries that are ADQL and PostgreSQL alike (plain columns, + and *, COUNT, MIN, MAX, SUM,
# correlated scalar subqueries, DISTINCT, HAVING, ORDER BY; no GROUP BY positions or aliases, which
# the two read differently): PostgreSQL's own verdict on the text is the oracle.
_COLUMNS = ["o.obs_id", "o.s_ra", "o.s_dec", "o.obs_publisher_did", "o.s_fov"]
_NUMBERS = ["o.s_ra", "o.s_dec", "o.s_fov"]
_sum = st.sampled_from(_NUMBERS).map(lambda c: f"{c} + 1")
_plain = st.sampled_from(_COLUMNS) | _sum
_number_aggregate = st.just("COUNT(*)") | st.builds(
    "{}({})".format, st.sampled_from(["MIN", "MAX", "SUM"]), st.sampled_from(_NUMBERS)
)
_aggregate = _number_aggregate | st.just("MAX(o.obs_id)")
_subquery = st.builds(
    "(SELECT {}(p.s_dec) FROM ivoa.obscore AS p WHERE p.s_ra > {})".format,
    st.sampled_from(["MAX", "MIN"]),
    st.sampled_from(_NUMBERS),
)
_number = st.one_of(
    st.sampled_from(_NUMBERS),
    _sum,
    _number_aggregate,
    _subquery,
    st.builds("{} * 2".format, _number_aggregate),
    st.builds("MAX({}) + {}".format, st.sampled_from(_NUMBERS), st.sampled_from(_NUMBERS)),
)
_value = _number | st.sampled_from(["o.obs_id", "o.obs_publisher_did", "MAX(o.obs_id)"])


@st.composite
def _queries(draw: st.DrawFn) -> str:
    select = draw(st.lists(_value, min_size=1, max_size=3))
    distinct = draw(st.booleans())
    group_by = draw(st.lists(_plain, max_size=2, unique=True))
    text = f"SELECT {'DISTINCT ' if distinct else ''}{', '.join(select)} FROM ivoa.obscore AS o"
    if draw(st.booleans()):
        text += f" WHERE {draw(st.sampled_from(_NUMBERS))} > 0"
    if group_by:
        text += f" GROUP BY {', '.join(group_by)}"
    if draw(st.integers(0, 3)) == 0:
        text += f" HAVING {draw(_number)} > 0"
    if draw(st.booleans()):
        # not a subquery: the text's two copies would be equal, the translation's not (REFUSED)
        text += f" ORDER BY {draw(_value.filter(lambda v: not v.startswith('(SELECT')))}"
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_queries())
def test_the_checker_refuses_exactly_what_postgresql_refuses(
    db: psycopg.Connection, catalog: Catalog, adql: str
) -> None:
    try:
        sql = to_postgres(adql, catalog).sql
    except ADQLError as error:
        assert error.code is ADQLCode.GROUPING, error
        with pytest.raises(psycopg.Error) as refused:
            db.execute(adql).fetchall()
        assert refused.value.sqlstate in ("42803", "42P10"), (adql, error)
        return
    with db.transaction():
        db.execute(adql).fetchall()  # PostgreSQL takes the text as it is
        db.execute(sql).fetchall()  # and the translation
