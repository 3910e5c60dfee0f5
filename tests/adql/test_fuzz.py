"""Whatever the input, the whole pipeline (parse, resolve, translate) either produces one SELECT
over published tables or raises ADQLError: nothing else escapes."""

from __future__ import annotations

import re

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adql import ADQLCode, ADQLError, Catalog, to_postgres
from tests.adql import golden
from tests.adql.test_adql21_db import JOIN_CASES, ORDER_CASES, SUBQUERY_CASES, TUTORIAL_CASES

CORPUS = [adql for adql, _ in JOIN_CASES + SUBQUERY_CASES + ORDER_CASES + TUTORIAL_CASES]
PUBLISHED_SCHEMAS = {"ivoa", "tap_schema"}
_QUALIFIED = re.compile(r'"([^"]+)"\."[^"]+" AS t\d+')


def _check(sql: str) -> None:
    assert sql.startswith(("SELECT", "WITH", "(")), sql
    assert {m for m in _QUALIFIED.findall(sql)} <= PUBLISHED_SCHEMAS, sql


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(CORPUS),
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=0, max_value=8),
    st.text(max_size=4),
)
def test_mutated_queries_translate_safely_or_raise_adql_errors(
    catalog: Catalog, base: str, at: int, cut: int, insert: str
) -> None:
    at = at % (len(base) + 1)
    text = base[:at] + insert + base[at + cut :]
    try:
        sql = to_postgres(text, catalog, row_limit=10).sql
    except ADQLError:
        return
    _check(sql)


_WORDS = st.sampled_from(
    [
        "SELECT",
        "TOP 3",
        "*",
        "FROM",
        "ivoa.obscore",
        "tap_schema.tables",
        "AS a",
        "AS b",
        "WHERE",
        "s_ra",
        "a.s_ra",
        "obs_id",
        "=",
        "<",
        "1",
        "2.5",
        "'x'",
        "(",
        ")",
        ",",
        "AND",
        "OR",
        "NOT",
        "JOIN",
        "ON",
        "USING (obs_id)",
        "LEFT",
        "NATURAL",
        "UNION",
        "EXCEPT",
        "INTERSECT",
        "WITH q AS",
        "IN",
        "EXISTS",
        "CASE",
        "WHEN",
        "THEN",
        "ELSE",
        "END",
        "CAST(",
        "AS INTEGER)",
        "COALESCE(",
        "CONTAINS(",
        "POINT('ICRS',",
        "CIRCLE('ICRS',",
        "s_region",
        "GROUP BY",
        "ORDER BY",
        "HAVING",
        "COUNT(*)",
        "DISTANCE(",
        "||",
        "&",
        "0x1F",
        "ivo_hasword(",
        "IN_UNIT(s_fov, 'arcmin')",
        "pg_catalog.pg_user",
        '"size"',
        "--",
        ";",
        "DROP TABLE x",
    ]
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_WORDS, min_size=1, max_size=30))
def test_random_token_sequences_translate_safely_or_raise_adql_errors(catalog: Catalog, words: list[str]) -> None:
    try:
        sql = to_postgres(" ".join(words), catalog, row_limit=10).sql
    except ADQLError:
        return
    _check(sql)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(CORPUS),
    st.integers(min_value=0, max_value=400),
    st.text(alphabet="()',.*=<>-+ 0123456789abcdefxyzSELCTFROMWHER", max_size=3),
)
def test_translated_mutants_are_single_statements_the_database_accepts_or_rejects_cleanly(
    catalog: Catalog, db: psycopg.Connection, base: str, at: int, insert: str
) -> None:
    at = at % (len(base) + 1)
    try:
        sql = to_postgres(base[:at] + insert + base[at:], catalog, row_limit=5).sql
    except ADQLError:
        return
    _check(sql)
    try:
        # The service runs queries through a server-side cursor, which takes exactly one SELECT.
        with db.transaction(), db.cursor(name="fuzz") as cur:
            db.execute("SET TRANSACTION READ ONLY")
            cur.execute(sql)
            cur.fetchmany(5)
    except psycopg.errors.Error as exc:
        assert not isinstance(exc, psycopg.errors.SyntaxError), (sql, exc)


GOLDEN_QUERIES = golden.adql_queries()


@settings(max_examples=800, deadline=None)
@given(
    st.sampled_from(GOLDEN_QUERIES),
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=0, max_value=8),
    st.text(alphabet="()',.*=<>-+|&~^\"; \n0123456789abcdefnpqrstxyz_SELCTFROMWHERUNIOJ", max_size=5),
)
def test_mutated_golden_queries_translate_or_raise_adql_errors_only(base: str, at: int, cut: int, insert: str) -> None:
    at = at % (len(base) + 1)
    text = base[:at] + insert + base[at + cut :]
    try:
        sql = to_postgres(text, golden.CATALOG, row_limit=10).sql
    except ADQLError as exc:
        assert exc.code in set(ADQLCode) and exc.message
        return
    assert sql.startswith(("SELECT", "WITH", "(")), sql
