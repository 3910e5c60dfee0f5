"""The translation cache (adql.cache) against the translator itself: every golden query, and
siblings of it with other digits (shifted, and drawn at random so that numbers become equal,
zero or one, out of range), give through the cache exactly what ``to_postgres`` gives (the same
SQL and columns, or the same error at the same place), the first time and from memory, whichever
of the cache's levels answers; a new catalogue object is never answered from the old one's
translations or templates. No database."""

from __future__ import annotations

import random
import re
from dataclasses import replace

import pytest

import adql.cache
from adql import ADQLError, Catalog, PositionKey, to_postgres
from adql.cache import MAX_CACHED_CHARS, TranslationCache, Tree, numbers
from adql.translate import Translation, translate_tree
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


def _drawn(text: str, rng: random.Random, reals: bool = False) -> str:
    """``text`` with the digits of some of its numbers (outside strings and quoted names) drawn at
    random, mostly from 0-2 so that numbers often come out equal to each other, 0 or 1; the
    others are kept, so that siblings often share the values the translator reads. With
    ``reals``, its integers are written as reals first (the translator reads every integer to
    check its range, but not a real that it only copies into the SQL)."""
    found = numbers(text)
    pieces, at = [], 0
    for number in found:
        pieces.append(text[at : number.start])
        written = number.text + ".5" if reals and number.text.isdigit() else number.text
        drawn = re.sub(r"[0-9]", lambda _: rng.choice("0120129"), written)
        pieces.append(drawn if rng.random() < 0.5 else written)
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


KEYED = Catalog([replace(T, position_key=PositionKey("ra", "dec")), *CATALOG.tables[1:]])


@pytest.mark.parametrize("catalog", [CATALOG, KEYED], ids=["plain", "healpix-keyed"])
def test_queries_of_one_shape_with_numbers_drawn_at_random_translate_as_without_the_cache(catalog: Catalog) -> None:
    rng = random.Random(28)
    cache = TranslationCache(size=64)  # small: templates are also forgotten and made again
    for text in GOLDEN:
        for query in [text] + [_drawn(text, rng, reals) for reals in (False, True) for _ in range(4)]:
            for limit in (None, 1001):
                expected = _outcome(to_postgres, query, catalog, limit)
                assert _outcome(cache.translate, query, catalog, limit) == expected, query


def _translations_made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A list that grows by one each time the cache has the translator itself translate."""
    made: list[str] = []

    def counted(tree: Tree, catalog: Catalog, row_limit: int | None = None) -> Translation:
        made.append("tree")
        return translate_tree(tree, catalog, row_limit)

    monkeypatch.setattr(adql.cache, "translate_tree", counted)
    return made


CONE = "SELECT TOP 5 n FROM g.t WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {}, {}, 0.02))"


def test_a_cone_of_other_coordinates_is_answered_from_the_sql_template_without_translating(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = _translations_made(monkeypatch)
    cache = TranslationCache()
    cache.translate(CONE.format("34.500000", "-5.000000"), CATALOG)
    cache.translate(CONE.format("12.345678", "-7.654321"), CATALOG)  # the shape is known: template made
    before = len(made)
    sql = cache.translate(CONE.format("56.000001", "-1.250000"), CATALOG).sql
    assert len(made) == before
    assert sql == to_postgres(CONE.format("56.000001", "-1.250000"), CATALOG).sql


def test_a_number_the_translation_reads_keeps_its_value_in_the_templates_key(monkeypatch: pytest.MonkeyPatch) -> None:
    made = _translations_made(monkeypatch)
    cache = TranslationCache()
    counts = []
    for k, one in enumerate("111001"):
        query = CONE.format(f"1{k}.5", "20.5").replace("1 = CONTAINS", f"{one} = CONTAINS")
        before = len(made)
        assert cache.translate(query, CATALOG).sql == to_postgres(query, CATALOG).sql
        counts.append(len(made) - before)
    # parsed; translated and made a template; from it; 0 read: translated and templated; from
    # that; 1 again: from its own template, still known
    assert counts == [1, 2, 0, 2, 0, 0]


def test_an_integer_out_of_range_in_a_query_of_a_templated_shape_is_refused_as_without_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = _translations_made(monkeypatch)
    cache = TranslationCache()
    query = "SELECT n FROM g.t WHERE n > {} AND ra < 1.5"
    for value in ("1000000000000000000", "2000000000000000000", "3000000000000000000"):
        assert cache.translate(query.format(value), CATALOG).sql == to_postgres(query.format(value), CATALOG).sql
    assert len(made) == 3  # parsed; translated and templated; from the template (the range checked)
    too_big = query.format("9999999999999999999")
    refused = _outcome(cache.translate, too_big, CATALOG, None)
    assert refused == _outcome(to_postgres, too_big, CATALOG, None)
    assert isinstance(refused, tuple) and refused[0] == "error"


def test_a_cone_on_a_healpix_keyed_table_is_translated_with_its_own_cover() -> None:
    cache = TranslationCache()
    for ra in ("10.000000", "11.000000", "200.000000", "10.000000"):
        query = CONE.format(ra, "20.000000")
        assert cache.translate(query, KEYED).sql == to_postgres(query, KEYED).sql


def test_a_new_catalogue_is_never_answered_from_the_old_ones_template() -> None:
    cache = TranslationCache()
    for ra in ("10.5", "11.5", "12.5"):
        cache.translate(f"SELECT * FROM g.t WHERE ra > {ra}", CATALOG)
    changed = Catalog([replace(T, columns=(*T.columns, C("added", "double", unit="m"))), *CATALOG.tables[1:]])
    after = cache.translate("SELECT * FROM g.t WHERE ra > 13.5", changed)
    assert after == to_postgres("SELECT * FROM g.t WHERE ra > 13.5", changed)
    assert "added" in [c.name for c in after.output]


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
