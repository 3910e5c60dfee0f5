"""Which answers are read without COPY (dalserver.pipeline.known_small): only those whose SQL ends
with a LIMIT that keeps them under a megabyte, reckoning text and open arrays at 10 kB a value.
No database."""

from __future__ import annotations

from adql.catalog import ColumnMeta
from dalserver.pipeline import _OUTER_LIMIT, PreparedQuery, _outer_limit, known_small

NUMBERS = [ColumnMeta("id", "long"), ColumnMeta("ra", "double"), ColumnMeta("mag", "float")]
WITH_TEXT = [*NUMBERS, ColumnMeta("name", "char", "*")]


def _query(sql: str, columns: list[ColumnMeta]) -> PreparedQuery:
    return PreparedQuery(sql, columns, 10_000)


def test_a_cone_of_numbers_under_maxrec_is_small_and_one_with_text_only_under_a_low_limit() -> None:
    assert known_small(_query("SELECT ... LIMIT 10001", NUMBERS))
    assert not known_small(_query("SELECT ... LIMIT 10001", WITH_TEXT))
    assert known_small(_query("SELECT ... LIMIT 50", WITH_TEXT))
    assert known_small(_query("SELECT ... LIMIT 2 OFFSET 500", WITH_TEXT))


def test_no_limit_at_the_end_of_the_sql_is_never_small() -> None:
    assert not known_small(_query("SELECT * FROM (SELECT ... LIMIT 5) AS t", NUMBERS))
    assert not known_small(_query("SELECT 'LIMIT 5' AS x", NUMBERS))


def test_fixed_arrays_count_their_elements_and_open_ones_as_text() -> None:
    point = [ColumnMeta("pos", "double", "2", "point")]
    polygon = [ColumnMeta("region", "double", "*", "polygon")]
    assert known_small(_query("SELECT ... LIMIT 65536", point))
    assert not known_small(_query("SELECT ... LIMIT 65537", point))
    assert not known_small(_query("SELECT ... LIMIT 105", polygon))


def test_the_outer_limit_is_found_where_a_search_of_the_whole_text_finds_it() -> None:
    texts = [
        "SELECT ... LIMIT 5",
        "SELECT ... LIMIT 5\n",
        "SELECT ... LIMIT 2 OFFSET 500",
        "SELECT ... LIMIT 5 OFFSET",
        "SELECT ... XLIMIT 5",
        "SELECT ... _LIMIT 5",
        "SELECT ... (LIMIT 5",
        "LIMIT 7",
        "SELECT ... LIMIT 5 LIMIT 6",
        "SELECT ... LIMIT LIMIT 6",
        "SELECT * FROM (SELECT ... LIMIT 5) AS t LIMIT 9",
        "SELECT * FROM (SELECT ... LIMIT 5) AS t",
        "SELECT 'LIMIT 5' AS x",
        "SELECT ... LIMIT 5 ",
        "SELECT ... LIMIT  5",
        "SELECT ... limit 5",
        "",
    ]
    for text in texts:
        searched = _OUTER_LIMIT.search(text)
        found = _outer_limit(text)
        assert (found and (found.start(), found.group(0))) == (searched and (searched.start(), searched.group(0))), text
