"""The translation cache (adql.cache) against the translator itself: every golden query, and a
sibling of it with other digits, gives through the cache exactly what ``to_postgres`` gives (the
same SQL and columns, or the same error at the same place), the first time and from memory; a
new catalogue object is never answered from the old one's translations. No database."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from adql import ADQLError, Catalog, to_postgres
from adql.cache import MAX_CACHED_CHARS, TranslationCache, numbers
from tests.adql.golden import (
    CATALOG,
    CONDITION_QUERY,
    CONDITIONS,
    ERRORS,
    EXPRESSION_QUERY,
    EXPRESSIONS,
    QUERIES,
    C,
    T,
)

GOLDEN = (
    [EXPRESSION_QUERY.format(adql) for adql, _ in EXPRESSIONS]
    + [CONDITION_QUERY.format(adql) for adql, _ in CONDITIONS]
    + [adql for adql, _ in QUERIES]
    + [adql for adql, *_ in ERRORS]
)


def _sibling(text: str) -> str:
    """``text`` with every digit outside strings and quoted names changed (the same shape)."""
    found = numbers(text)
    pieces, at = [], 0
    for number in found:
        pieces.append(text[at : number.start])
        pieces.append(re.sub(r"[0-9]", lambda m: str((int(m[0]) + 3) % 10), number.text))
        at = number.start + len(number.text)
    return "".join(pieces) + text[at:]


def _outcome(translate: object, text: str, catalog: Catalog, row_limit: int | None) -> object:
    try:
        translation = translate(text, catalog, row_limit)  # type: ignore[operator]  # either translator
    except ADQLError as exc:
        return ("error", exc.code, exc.line, exc.column, exc.message)
    return (translation.sql, [(c.name, c.meta) for c in translation.output])


@pytest.mark.parametrize("text", GOLDEN)
def test_a_query_and_its_sibling_translate_through_the_cache_as_without_it(text: str) -> None:
    cache = TranslationCache()
    for query in (text, text, _sibling(text), _sibling(text), _sibling(_sibling(text))):
        for limit in (None, 1001):
            assert _outcome(cache.translate, query, CATALOG, limit) == _outcome(to_postgres, query, CATALOG, limit)


def test_a_cone_of_other_coordinates_reuses_the_parsed_shape() -> None:
    cache = TranslationCache()
    cone = "SELECT TOP 5 n FROM g.t WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {}, {}, 0.02))"
    cache.translate(cone.format("34.500000", "-5.000000"), CATALOG)
    shaped = cache.tree(cone.format("12.345678", "-7.654321"))
    assert shaped == cache.tree(cone.format("12.345678", "-7.654321")) != cache.tree(cone.format("34.500000", "-5.0"))
    sql = cache.translate(cone.format("12.345678", "-7.654321"), CATALOG).sql
    assert "CAST(12.345678 AS double precision)" in sql and "CAST(-7.654321 AS double precision)" in sql


def test_top_offset_and_char_lengths_are_part_of_the_shape_not_lifted() -> None:
    cache = TranslationCache()
    for top, offset in ((5, 3), (7, 3), (7, 4), (50, 10)):
        query = f"SELECT TOP {top} CAST(n AS CHAR({top})) AS c FROM g.t WHERE n > {offset} ORDER BY n OFFSET {offset}"
        assert cache.translate(query, CATALOG, 30).sql == to_postgres(query, CATALOG, 30).sql
        assert f"LIMIT {min(top, 30)} OFFSET {offset}" in cache.translate(query, CATALOG, 30).sql


def test_an_error_in_a_sibling_of_a_cached_query_names_its_own_position() -> None:
    cache = TranslationCache()
    cache.translate("SELECT n FROM g.t WHERE ra > 1.5 AND dec < 2", CATALOG)
    with pytest.raises(ADQLError) as info:
        cache.translate("SELECT n FROM g.t WHERE ra > 1.5 AND nope < 2", CATALOG)
    assert (info.value.line, info.value.column) == (1, 38)


def test_a_new_catalogue_with_other_columns_gets_a_new_translation() -> None:
    cache = TranslationCache()
    query = "SELECT * FROM g.t WHERE n = 1"
    before = cache.translate(query, CATALOG)
    changed = Catalog([replace(T, columns=(C("n", "int"), C("added", "double", unit="m"))), *CATALOG.tables[1:]])
    after = cache.translate(query, changed)
    assert [c.name for c in after.output] == ["n", "added"] != [c.name for c in before.output]
    assert cache.translate(query, CATALOG) is before  # the old catalogue's own, while it lives


def test_numbers_are_found_outside_strings_quoted_names_comments_and_words() -> None:
    text = "SELECT t0.ra, 'a 1''2', \"x 3\" -- 4\n, 5.5e3, .5, 1e5x, 0x1F, 3 FROM g.t"
    found = [(n.start, n.text) for n in numbers(text)]
    assert found == [(text.index("5.5e3"), "5.5e3"), (text.index(".5,"), ".5"), (text.index("3 FROM"), "3")]


def test_a_long_query_is_translated_each_time_and_not_remembered() -> None:
    cache = TranslationCache()
    long = "SELECT n FROM g.t WHERE " + " OR ".join(f"n = {k}" for k in range(200))
    assert len(long) > MAX_CACHED_CHARS
    assert cache.translate(long, CATALOG) == to_postgres(long, CATALOG)
    assert len(cache) == 0
