"""Translations remembered: the same query again costs a dictionary look-up, and a query that
differs from an earlier one only in its numbers (the next cone of a survey, an SCS request) skips
the parser, most of a translation's time.

Two levels, both bounded (least recently used first out):

- the exact text, with the catalogue object and the row limit, gives the ``Translation`` itself.
  A catalogue is a value of its own: the service makes a new one whenever TAP_SCHEMA changes
  (dalserver.db.metadata), so an entry can never be older than the metadata it was made from;
- the text with its numbers lifted out gives the syntax tree, into which the query's own numbers
  are put back; name resolution and SQL rendering then run as for a new query, so every check
  that depends on a value still sees it. A number's *shape* stays in the key (each digit becomes
  ``9``, everything else is kept), so two texts of one key lex into the same tokens at the same
  places (positions in error messages stay right); a number the parser reads as part of the
  syntax (TOP, OFFSET, a CHAR length) is kept in the key as it is written, found by checking each
  lifted number against the literal the parser made of it;
- the lifted text once more, with the catalogue and the row limit, gives the SQL itself with a
  slot for each number: no parsing, resolving or rendering at all. It is kept only for a query
  whose translation read none of its numbers' values but those in the key: while a query is
  translated, the translator reports each number it computes with, compares or checks
  (``ast.number_text``), and those are part of this level's key with the values they had (the 1
  of ``1 = CONTAINS(...)``, a circle's radius, an ORDER BY position); the others only ever reach
  the SQL as text, but for integers whose range the translator checks (``ast.integer_within``):
  their slots keep the bounds, and a value outside them is translated (and refused) in full.
  Which of the query's numbers are equal is in the key too, since syntax trees compare equal by
  their literals' texts (GROUP BY x + 1 with SELECT x + 1). Two queries of one
  such key then take the same path through the translator, and the slots make the SQL of the
  second from that of the first. A new template is checked before it is kept: the SQL it gives
  for the query it was made from is the SQL the translator gave for it.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

from adql import ast
from adql.catalog import Catalog
from adql.parser import parse
from adql.resolve import OutputColumn
from adql.translate import Parameterized, Translation, translate_tree

K = TypeVar("K")
V = TypeVar("V")
Tree = ast.Query | ast.SetQuery
# What a number may sit between: strings, quoted names and comments are skipped whole, words
# (names, hexadecimal literals, 1e5x) are not numbers.
_TOKENS = re.compile(
    r"'(?:[^']|'')*'?"  # a string literal (unterminated: the parser reports it)
    r'|"(?:[^"]|"")*"?'  # a delimited identifier
    r"|--[^\n]*"  # a comment
    r"|(?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)(?![\w.])"
    r"|[\w.]+"  # a name, or a word a number runs into
)
_DIGITS = re.compile(r"[0-9]")
# What a number's text is while its template is made: characters no query text or catalogue name
# holds (a query with a NUL in it is not made a template), the equality class between them.
_SLOT = re.compile(f"{ast.SLOT_MARK}([0-9]+){ast.SLOT_MARK}")


class _Recent(Generic[K, V]):
    """A dictionary that forgets its least recently used entries beyond ``size``."""

    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class _Number:
    start: int  # offset in the text
    text: str


def numbers(text: str) -> list[_Number]:
    """The numeric literals of ``text`` as written (without a sign), outside strings, quoted names
    and comments."""
    return [_Number(m.start("number"), m["number"]) for m in _TOKENS.finditer(text) if m["number"] is not None]


def _positions(text: str) -> list[int]:
    """Offsets at which each line of ``text`` starts."""
    starts = [0]
    starts += [m.end() for m in re.finditer("\n", text)]
    return starts


def _pos_of(offset: int, starts: list[int]) -> tuple[int, int]:
    """(line, column), both from 1, of ``offset``, as lark counts them."""
    line = 0
    while line + 1 < len(starts) and starts[line + 1] <= offset:
        line += 1
    return line + 1, offset - starts[line] + 1


@dataclass(frozen=True)
class _Template:
    """A parsed query with the positions of its lifted numbers."""

    tree: Tree
    lifted: tuple[tuple[int, int], ...]  # (line, column) of each lifted number, in text order
    negated: frozenset[tuple[int, int]]  # the lifted numbers the parser folded a minus into


def _literals(tree: Tree) -> dict[tuple[int, int], ast.IntegerLiteral | ast.RealLiteral]:
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.IntegerLiteral | ast.RealLiteral):
            found[(node.pos.line, node.pos.column)] = node
    return found


def _key(text: str, found: list[_Number], kept: frozenset[int]) -> str:
    """``text`` with each number's digits made 9s, except the numbers ``kept`` as written."""
    pieces, at = [], 0
    for k, number in enumerate(found):
        pieces.append(text[at : number.start])
        pieces.append(number.text if k in kept else _DIGITS.sub("9", number.text))
        at = number.start + len(number.text)
    pieces.append(text[at:])
    return "".join(pieces)


# Longer queries are translated each time: they are not the small queries this is for, and a
# syntax tree grows with its text (a 1,000-character query's is some 50-100 kB).
MAX_CACHED_CHARS = 1000


@dataclass(frozen=True)
class _SqlTemplate:
    """The SQL of one key of the third level, cut at the numbers: ``pieces[0]``, the text of the
    number of class ``slots[0]``, ``pieces[1]``, ..."""

    catalog: Catalog
    pieces: tuple[str, ...]
    slots: tuple[int, ...]
    output: tuple[OutputColumn, ...]
    bounds: tuple[tuple[int, int, int], ...]  # (number, low, high): integers checked for range
    # The SQL with $1 ... $n in the slots, and the number each parameter is (its first in the text)
    parameterized: str
    parameters: tuple[int, ...]
    integers: frozenset[int]  # the numbers written as integers

    def fits(self, values: list[str]) -> bool:
        """Whether each integer the translator checked the range of is within it."""
        return all(low <= int(values[k]) <= high for k, low, high in self.bounds)

    def sql(self, values: list[str]) -> str:
        parts = [self.pieces[0]]
        for slot, piece in zip(self.slots, self.pieces[1:], strict=True):
            parts.append(values[slot])
            parts.append(piece)
        return "".join(parts)

    def translation(self, values: list[str]) -> Translation:
        numbers = tuple(values[k] for k in self.parameters)
        types = tuple(_integer_type(values[k]) if k in self.integers else "numeric" for k in self.parameters)
        return Translation(self.sql(values), self.output, Parameterized(self.parameterized, types, numbers))


def _integer_type(text: str) -> str:
    """The type PostgreSQL gives an integer literal (within ADQL's, which is bigint's)."""
    return "integer" if -(2**31) <= int(text) < 2**31 else "bigint"


def _parameterized(pieces: tuple[str, ...], slots: tuple[int, ...]) -> tuple[str, tuple[int, ...]]:
    """The SQL with ``$i`` in each slot, the same parameter for the same number; which number
    each parameter is."""
    order: dict[int, int] = {}
    parts = [pieces[0]]
    for slot, piece in zip(slots, pieces[1:], strict=True):
        parts.append(f"${order.setdefault(slot, len(order) + 1)}")
        parts.append(piece)
    return "".join(parts), tuple(order)


@dataclass(frozen=True)
class _Shaped:
    """A query of a shape parsed before: the template, the key it is kept under and the
    query's own lifted numbers (signed as in its tree)."""

    key: str
    template: _Template
    values: list[str]

    def tree(self) -> Tree:
        return _filled(self.template, self.values)

    def classes(self) -> tuple[int, ...]:
        """For each number, the first one written the same: which of them are equal."""
        first: dict[str, int] = {}
        return tuple(first.setdefault(v, k) for k, v in enumerate(self.values))


class TranslationCache:
    """Translations, SQL templates and syntax trees of recent queries (see the module's
    docstring), at most ``size`` translations and templates and half as many trees."""

    def __init__(self, size: int = 256):
        self._translations: _Recent[tuple[int, str, int | None], tuple[Catalog, Translation]] = _Recent(size)
        self._trees: _Recent[str, tuple[frozenset[int], _Template]] = _Recent(size // 2)
        self._kept: _Recent[str, frozenset[int]] = _Recent(size // 2)  # lifted key -> numbers kept as written
        # (catalogue, row limit, shape, equal numbers) -> the numbers read by its last translation
        self._read: _Recent[tuple[int, int | None, str, tuple[int, ...]], frozenset[int]] = _Recent(size)
        self._sql: _Recent[tuple[object, ...], _SqlTemplate] = _Recent(size)

    def translate(self, text: str, catalog: Catalog, row_limit: int | None = None) -> Translation:
        """What ``adql.to_postgres(text, catalog, row_limit)`` gives, from memory when it can."""
        if len(text) > MAX_CACHED_CHARS:
            return translate_tree(parse(text), catalog, row_limit)
        key = (id(catalog), text, row_limit)
        hit = self._translations.get(key)
        if hit is not None and hit[0] is catalog:  # the id of a catalogue since gone is not enough
            return hit[1]
        found = numbers(text)
        shaped = self._shaped(text, found) if found else None
        if shaped is None:
            translation = translate_tree(self._parsed(text, found), catalog, row_limit)
        elif ast.SLOT_MARK in text:  # its markers would be taken for slots: no SQL template
            translation = translate_tree(shaped.tree(), catalog, row_limit)
        else:
            translation = self._from_template(shaped, catalog, row_limit)
        self._translations.put(key, (catalog, translation))
        return translation

    def tree(self, text: str) -> Tree:
        """``parse(text)``, from a query of the same shape parsed before when there was one."""
        found = numbers(text)
        shaped = self._shaped(text, found) if found else None
        return shaped.tree() if shaped is not None else self._parsed(text, found)

    def _parsed(self, text: str, found: list[_Number]) -> Tree:
        """``parse(text)``, its shape remembered when it has numbers."""
        tree = parse(text)
        if found:
            self._remember(text, found, tree, _key(text, found, frozenset()))
        return tree

    def _shaped(self, text: str, found: list[_Number]) -> _Shaped | None:
        kept = self._kept.get(_key(text, found, frozenset()))
        if kept is None:
            return None
        key = _key(text, found, kept)
        entry = self._trees.get(key)
        if entry is None or entry[0] != kept:
            return None
        template = entry[1]
        lifted = [n for k, n in enumerate(found) if k not in kept]
        values = [
            "-" + number.text if where in template.negated else number.text
            for where, number in zip(template.lifted, lifted, strict=True)
        ]
        return _Shaped(key, template, values)

    def _from_template(self, shaped: _Shaped, catalog: Catalog, row_limit: int | None) -> Translation:
        classes = shaped.classes()
        base = (id(catalog), row_limit, shaped.key, classes)
        read = self._read.get(base)
        if read is not None:
            template = self._sql.get(_template_key(base, read, shaped.values))
            if template is not None and template.catalog is catalog and template.fits(shaped.values):
                return template.translation(shaped.values)
        with ast.numbers_read() as seen:
            translation = translate_tree(shaped.tree(), catalog, row_limit)
        read = frozenset(k for k, at in enumerate(shaped.template.lifted) if at in seen.values)
        self._read.put(base, read)
        if len(read) < len(shaped.values):
            made = _sql_template(shaped, classes, read, _bounds(shaped, seen, read), catalog, row_limit, translation)
            if made is not None:
                self._sql.put(_template_key(base, read, shaped.values), made)
        return translation

    def _remember(self, text: str, found: list[_Number], tree: Tree, lifted_key: str) -> None:
        literals = _literals(tree)
        starts = _positions(text)
        kept, lifted, negated = set(), [], set()
        for k, number in enumerate(found):
            where = _pos_of(number.start, starts)
            literal = literals.get(where)
            if literal is None:
                kept.add(k)  # TOP, OFFSET, CHAR(n): read by the parser, not a literal
            elif literal.text == number.text:
                lifted.append(where)
            elif literal.text == "-" + number.text:
                lifted.append(where)
                negated.add(where)
            else:
                return  # the parser made something else of it: this shape is not remembered
        if not set(literals) <= set(lifted):
            return  # a literal not written as a number (hexadecimal): this shape is not remembered
        frozen = frozenset(kept)
        self._kept.put(lifted_key, frozen)
        self._trees.put(_key(text, found, frozen), (frozen, _Template(tree, tuple(lifted), frozenset(negated))))

    def __len__(self) -> int:
        return len(self._translations)


def _template_key(base: tuple[object, ...], read: frozenset[int], values: list[str]) -> tuple[object, ...]:
    """Where an SQL template is kept: the shape's ``base`` key, the numbers read and their values."""
    return (*base, read, tuple(values[k] for k in sorted(read)))


def _bounds(shaped: _Shaped, seen: ast.NumbersRead, read: frozenset[int]) -> tuple[tuple[int, int, int], ...]:
    """(number, low, high) of each number not ``read`` whose range ``seen`` says was checked."""
    return tuple(
        (k, *seen.bounds[at]) for k, at in enumerate(shaped.template.lifted) if at in seen.bounds and k not in read
    )


def _sql_template(
    shaped: _Shaped,
    classes: tuple[int, ...],
    read: frozenset[int],
    bounds: tuple[tuple[int, int, int], ...],
    catalog: Catalog,
    row_limit: int | None,
    translation: Translation,
) -> _SqlTemplate | None:
    """The SQL of ``shaped`` with a slot for each number not ``read``, made by translating it
    with those numbers' texts replaced by markers; None if it does not give back ``translation``
    (then the query is translated each time, as without this level)."""
    marked = [v if k in read else f"{ast.SLOT_MARK}{classes[k]}{ast.SLOT_MARK}" for k, v in enumerate(shaped.values)]
    try:
        with ast.numbers_read() as seen:
            marked_translation = translate_tree(_filled(shaped.template, marked), catalog, row_limit)
    except Exception:  # noqa: BLE001 - a marker the translator could not take: no template, nothing wrong
        return None
    if frozenset(k for k, at in enumerate(shaped.template.lifted) if at in seen.values) != read:
        return None
    if _bounds(shaped, seen, read) != bounds:
        return None
    cut = _SLOT.split(marked_translation.sql)
    pieces, slots = tuple(cut[0::2]), tuple(int(c) for c in cut[1::2])
    literals = _literals(shaped.template.tree)
    integers = frozenset(
        k for k, at in enumerate(shaped.template.lifted) if isinstance(literals.get(at), ast.IntegerLiteral)
    )
    template = _SqlTemplate(
        catalog, pieces, slots, marked_translation.output, bounds, *_parameterized(pieces, slots), integers
    )
    if template.output != translation.output or template.sql(shaped.values) != translation.sql:
        return None
    return template


def _filled(template: _Template, values: list[str]) -> Tree:
    """The template's tree with its lifted numbers' texts (signed) replaced by ``values``."""
    texts = dict(zip(template.lifted, values, strict=True))

    def put_back(node: ast.Node) -> ast.Node:
        if isinstance(node, ast.IntegerLiteral | ast.RealLiteral):
            text = texts.get((node.pos.line, node.pos.column))
            if text is not None and text != node.text:
                return ast.copy_with(node, text=text)
        return node

    return ast.transform(template.tree, put_back)
