"""Which answers are read without COPY (dalserver.pipeline.known_small): only those whose SQL ends
with a LIMIT that keeps them under a megabyte, reckoning text and open arrays at 10 kB a value.
No database."""

from __future__ import annotations

from adql.catalog import ColumnMeta
from dalserver.pipeline import PreparedQuery, known_small

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
