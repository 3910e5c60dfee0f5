"""Generated ADQL (tests/support/adql_generator.py) on the real database: whatever the checker
accepts, PostgreSQL runs, or refuses for the values the query meets (a division by zero, a
subquery giving several rows: a 400 for the client), never for the query's form (SQLSTATE class
42, 0A000: a 500) and never by crashing the server, which pgsphere did on a polygon of NULL
vertices (issue #22)."""

from __future__ import annotations

import random

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adql import ADQLError, Catalog, to_postgres
from dalserver.db.errors import database_fault
from tests.support.adql_generator import QueryGenerator


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False))
def test_what_the_checker_accepts_never_fails_in_the_database_as_a_server_error(
    db: psycopg.Connection, catalog: Catalog, rng: random.Random
) -> None:
    adql = QueryGenerator(rng).query()
    try:
        sql = to_postgres(adql, catalog, row_limit=5).sql
    except ADQLError:
        return
    try:
        with db.transaction(), db.cursor(name="generated") as cur:
            db.execute("SET LOCAL statement_timeout = 5000")
            db.execute("SET TRANSACTION READ ONLY")
            cur.execute(sql)
            cur.fetchmany(5)
    except psycopg.Error as exc:
        fault = database_fault(exc)
        assert fault.status_code == 400, (adql, sql, exc.sqlstate, str(exc))
