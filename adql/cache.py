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
  lifted number against the literal the parser made of it.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

from adql import ast
from adql.catalog import Catalog
from adql.parser import parse
from adql.translate import Translation, translate_tree

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


class TranslationCache:
    """Translations and syntax trees of recent queries (see the module's docstring), at most
    ``size`` translations and half as many trees."""

    def __init__(self, size: int = 256):
        self._translations: _Recent[tuple[int, str, int | None], tuple[Catalog, Translation]] = _Recent(size)
        self._trees: _Recent[str, tuple[frozenset[int], _Template]] = _Recent(size // 2)
        self._kept: _Recent[str, frozenset[int]] = _Recent(size // 2)  # lifted key -> numbers kept as written

    def translate(self, text: str, catalog: Catalog, row_limit: int | None = None) -> Translation:
        """What ``adql.to_postgres(text, catalog, row_limit)`` gives, from memory when it can."""
        if len(text) > MAX_CACHED_CHARS:
            return translate_tree(parse(text), catalog, row_limit)
        key = (id(catalog), text, row_limit)
        hit = self._translations.get(key)
        if hit is not None and hit[0] is catalog:  # the id of a catalogue since gone is not enough
            return hit[1]
        translation = translate_tree(self.tree(text), catalog, row_limit)
        self._translations.put(key, (catalog, translation))
        return translation

    def tree(self, text: str) -> Tree:
        """``parse(text)``, from a query of the same shape parsed before when there was one."""
        found = numbers(text)
        if not found:
            return parse(text)
        lifted_key = _key(text, found, frozenset())
        kept = self._kept.get(lifted_key)
        if kept is not None:
            entry = self._trees.get(_key(text, found, kept))
            if entry is not None and entry[0] == kept:
                return _filled(entry[1], [n for k, n in enumerate(found) if k not in kept])
        tree = parse(text)
        self._remember(text, found, tree, lifted_key)
        return tree

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


def _filled(template: _Template, values: list[_Number]) -> Tree:
    """The template's tree with its lifted numbers replaced by ``values`` (in text order)."""
    texts = {}
    for where, number in zip(template.lifted, values, strict=True):
        texts[where] = "-" + number.text if where in template.negated else number.text

    def put_back(node: ast.Node) -> ast.Node:
        if isinstance(node, ast.IntegerLiteral | ast.RealLiteral):
            text = texts.get((node.pos.line, node.pos.column))
            if text is not None and text != node.text:
                return ast.copy_with(node, text=text)
        return node

    return ast.transform(template.tree, put_back)
