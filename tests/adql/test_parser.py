"""The ADQL parser: the skeleton's subset parses into the typed tree; everything else is an
ADQLError with a position, whatever the input."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adql import ADQLError, ast, parse

VALID = [
    "SELECT * FROM ivoa.obscore",
    "select top 10 s_ra, s_dec AS d FROM ivoa.obscore o WHERE s_ra > 34 ORDER BY s_ra DESC, 2 OFFSET 5",
    "SELECT o.* FROM ivoa.obscore AS o WHERE NOT (s_ra BETWEEN 1 AND 2 OR s_dec NOT BETWEEN -3 AND .5e1)",
    "SELECT COUNT(*), em_band_name FROM ivoa.obscore GROUP BY em_band_name HAVING COUNT(*) >= 2",
    "SELECT * FROM ivoa.obscore WHERE CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 34.5, -4.8, 0.1)) = 1",
    'SELECT "s_ra" FROM "ivoa"."obscore" WHERE obs_id LIKE \'SUPM%\' AND target_name IS NOT NULL',
    "SELECT s_ra FROM ivoa.obscore WHERE em_band_name IN ('W-J-V', 'W-C-RC') -- a comment",
    "SELECT DISTINCT em_band_name FROM ivoa.obscore WHERE obs_id NOT LIKE 'X%' AND s_fov <> 1",
    "SELECT 1.5e-3 * s_ra + -2 AS x, 'it''s' AS s FROM ivoa.obscore",
]


@pytest.mark.parametrize("text", VALID)
def test_valid_queries_parse(text: str) -> None:
    assert isinstance(parse(text), ast.Query)


def test_keywords_are_case_insensitive_and_identifiers_keep_their_spelling() -> None:
    q = parse('sElEcT ToP 3 "MixedCase" FrOm t')
    assert isinstance(q, ast.Query) and q.top == 3
    item = q.select[0]
    assert isinstance(item, ast.SelectItem) and isinstance(item.expr, ast.ColumnRef)
    assert item.expr.parts[0] == ast.Identifier("MixedCase", delimited=True)


def test_positions_are_recorded() -> None:
    q = parse("SELECT a\n  FROM t\n WHERE b = 1")
    assert isinstance(q, ast.Query) and q.where is not None and (q.where.pos.line, q.where.pos.column) == (3, 10)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("SELEC * FROM t", 1, 1),
        ("SELECT * FROM", 1, 14),
        ("SELECT a FROM t WHERE a = 'open", 1, 27),
        ("SELECT a\nFROM t\nWHERE a ==== 3", 3, 10),
        ("SELECT a FROM t; DROP TABLE t", 1, 16),
    ],
)
def test_syntax_errors_carry_line_and_column(text: str, line: int, column: int) -> None:
    with pytest.raises(ADQLError) as info:
        parse(text)
    assert info.value.code == "ADQL-SYNTAX"
    assert (info.value.line, info.value.column) == (line, column)


def test_empty_and_oversized_queries_are_refused() -> None:
    for text in ("", "   ", "SELECT " + "a," * 60000 + "a FROM t"):
        with pytest.raises(ADQLError):
            parse(text)


_TOKENS = st.sampled_from(
    [
        "SELECT",
        "TOP",
        "10",
        "*",
        "FROM",
        "t",
        "ivoa.obscore",
        "WHERE",
        "a",
        "=",
        "'x'",
        "(",
        ")",
        ",",
        "AND",
        "OR",
        "NOT",
        "BETWEEN",
        "IN",
        "LIKE",
        "IS",
        "NULL",
        "ORDER",
        "BY",
        "GROUP",
        "CONTAINS",
        "POINT",
        "1.5",
        "-",
        "+",
        '"q"',
        ".",
        "AS",
        "DESC",
        "OFFSET",
        ";",
        "''",
        "\n",
        "--",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_TOKENS, max_size=25))
def test_random_token_soup_only_ever_raises_adql_errors(tokens: list[str]) -> None:
    with contextlib.suppress(ADQLError):
        parse(" ".join(tokens))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_only_ever_raises_adql_errors(text: str) -> None:
    with contextlib.suppress(ADQLError):
        parse(text)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(VALID), st.integers(min_value=0, max_value=200), st.text(max_size=3))
def test_mutated_valid_queries_only_ever_raise_adql_errors(base: str, at: int, insert: str) -> None:
    at = at % (len(base) + 1)
    with contextlib.suppress(ADQLError):
        parse(base[:at] + insert + base[at + 1 :])
