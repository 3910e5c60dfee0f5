"""ADQL -> SQL golden tables (tests/adql/golden.py): no database, milliseconds per case."""

from __future__ import annotations

import pytest

from adql import ADQLError, to_postgres
from tests.adql.golden import (
    CATALOG,
    CONDITION_QUERY,
    CONDITION_SQL,
    CONDITIONS,
    ERRORS,
    EXPRESSION_QUERY,
    EXPRESSION_SQL,
    EXPRESSIONS,
    QUERIES,
)


@pytest.mark.parametrize(("adql", "sql"), EXPRESSIONS)
def test_expression_translates_to_the_expected_sql(adql: str, sql: str) -> None:
    assert to_postgres(EXPRESSION_QUERY.format(adql), CATALOG).sql == EXPRESSION_SQL.format(sql)


@pytest.mark.parametrize(("adql", "sql"), CONDITIONS)
def test_condition_translates_to_the_expected_sql(adql: str, sql: str) -> None:
    assert to_postgres(CONDITION_QUERY.format(adql), CATALOG).sql == CONDITION_SQL.format(sql)


@pytest.mark.parametrize(("adql", "sql"), QUERIES)
def test_query_translates_to_the_expected_sql(adql: str, sql: str) -> None:
    assert to_postgres(adql, CATALOG).sql == sql


@pytest.mark.parametrize(("adql", "code", "line", "column"), ERRORS)
def test_bad_query_is_refused_with_its_code_and_position(adql: str, code: str, line: int, column: int) -> None:
    with pytest.raises(ADQLError) as info:
        to_postgres(adql, CATALOG)
    assert (info.value.code, info.value.line, info.value.column) == (code, line, column), info.value.message


def test_row_limit_caps_top_and_applies_to_set_operations() -> None:
    assert to_postgres("SELECT TOP 50 n FROM g.t", CATALOG, row_limit=10).sql.endswith("LIMIT 10")
    assert to_postgres("SELECT TOP 5 n FROM g.t", CATALOG, row_limit=10).sql.endswith("LIMIT 5")
    union = to_postgres("SELECT n FROM g.t UNION SELECT n FROM g.u", CATALOG, row_limit=7).sql
    assert union.endswith(") LIMIT 7")
