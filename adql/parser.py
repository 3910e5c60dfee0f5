"""Parse ADQL text into the typed AST (adql.ast) with lark in LALR mode.

Every failure, including lexing and tree-size limits, comes out as an ``ADQLError`` with a line
and column; nothing else escapes ``parse``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, cast

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from adql import ast
from adql.errors import ADQLCode, ADQLError
from adql.reserved import is_reserved

GRAMMAR = Path(__file__).with_name("grammar.lark")
# A piece of a string literal, or a comment between pieces (whose quotes are not pieces).
_STRING_PIECE = re.compile(r"--[^\n]*|'((?:[^']|'')*)'")
MAX_QUERY_CHARS = 100_000

# Readable names for the terminals lark reports in "expected ..." lists.
_TERMINAL_NAMES = {
    "REGULAR_IDENTIFIER": "a name",
    "DELIMITED_IDENTIFIER": "a quoted name",
    "UNSIGNED_INTEGER": "a number",
    "UNSIGNED_REAL": "a number",
    "STRING": "a string",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "DOT": "'.'",
    "ASTERISK": "'*'",
    "COMP_OP": "a comparison",
    "ADD_OP": "'+' or '-'",
    "MUL_OP": "'*' or '/'",
    "FUNCTION_NAME": "a function",
    "$END": "the end of the query",
}


@cache
def _lark() -> Lark:
    # The transformer runs inside the LALR parser (no parse tree is built, then walked): the
    # parser is most of the translation time. Positions come from the tokens.
    return Lark(GRAMMAR.read_text(), parser="lalr", transformer=_ToAst(), maybe_placeholders=True)


def warm_up() -> None:
    """Build the LALR tables now rather than at the first query."""
    _lark()


def _pos(item: Any) -> ast.Pos:
    """Where ``item`` starts: a token's position, a node's, or that of a tuple's first item."""
    if isinstance(item, Token):
        return ast.Pos(item.line or 0, item.column or 0)
    if isinstance(item, ast.Node):
        return item.pos
    if isinstance(item, tuple) and item:
        return _pos(item[0])
    if isinstance(item, dict) and "pos" in item:
        return cast(ast.Pos, item["pos"])
    return ast.Pos()


def _first_pos(children: list[Any]) -> ast.Pos:
    for child in children:
        if child is not None:
            pos = _pos(child)
            if pos.line:
                return pos
    return ast.Pos()


def _syntax(message: str, pos: ast.Pos) -> ADQLError:
    return ADQLError(ADQLCode.SYNTAX, message, pos.line or None, pos.column or None)


def _unquote_identifier(text: str) -> str:
    return text[1:-1].replace('""', '"')


def _no_with(query: ast.QueryExpr) -> ast.QueryExpr:
    if query.with_:
        raise _syntax("WITH is allowed only before the whole query, not in a subquery (ADQL 2.1)", query.with_[0].pos)
    return query


class _ToAst(Transformer[Token, ast.QueryExpr]):
    """Builds adql.ast nodes as the parser reduces, one method per grammar rule."""

    # --- leaves ---------------------------------------------------------------------------------
    def identifier(self, children: list[Token]) -> ast.Identifier:
        tok = children[0]
        if tok.type == "DELIMITED_IDENTIFIER":
            return ast.Identifier(_unquote_identifier(str(tok)), delimited=True, pos=_pos(tok))
        name = str(tok)
        if is_reserved(name):
            raise _syntax(
                f"'{name}' is a reserved word in ADQL; as a name it must be delimited: write \"{name}\" "
                "(in double quotes, with the exact case of the published name)",
                _pos(tok),
            )
        return ast.Identifier(name, pos=_pos(tok))

    def integer_literal(self, children: list[Token]) -> ast.IntegerLiteral:
        return ast.IntegerLiteral(str(children[0]), pos=_pos(children[0]))

    def real_literal(self, children: list[Token]) -> ast.RealLiteral:
        return ast.RealLiteral(str(children[0]), pos=_pos(children[0]))

    def string_literal(self, children: list[Token]) -> ast.StringLiteral:
        # 'a' 'b' (or 'a' -- note, then 'b' on the next line) is one literal: 'ab'.
        pieces = _STRING_PIECE.findall(str(children[0]))
        value = "".join(p.replace("''", "'") for p in pieces)
        if "\x00" in value:
            raise _syntax("string literals cannot contain the NUL character", _pos(children[0]))
        return ast.StringLiteral(value, pos=_pos(children[0]))

    def hex_literal(self, children: list[Token]) -> ast.IntegerLiteral:
        return ast.IntegerLiteral(str(int(str(children[0]), 16)), pos=_pos(children[0]))

    def null_literal(self, children: list[Token]) -> ast.NullLiteral:
        return ast.NullLiteral(pos=_pos(children[0]))

    def identifier_chain(self, children: list[Any]) -> tuple[ast.Identifier, ...]:
        if len(children) == 1:
            return (children[0],)
        return (*children[0], children[1])

    def column_reference(self, children: list[Any]) -> ast.ColumnRef:
        return ast.ColumnRef(children[0], pos=_pos(children[0]))

    # --- expressions ----------------------------------------------------------------------------
    def binary(self, children: list[Any]) -> ast.Binary:
        left, op, right = children
        return ast.Binary(str(op), left, right, pos=_pos(op))

    def unary(self, children: list[Any]) -> ast.Expr:
        operand: ast.Expr
        op, operand = children
        if str(op) == "+":
            return operand
        if isinstance(operand, ast.IntegerLiteral | ast.RealLiteral) and str(op) == "-":
            return replace(operand, text="-" + operand.text)
        return ast.Unary(str(op), operand, pos=_pos(op))

    def star_arg(self, children: list[Any]) -> dict[str, Any]:
        return {"star": True, "args": (), "distinct": False}

    def function_args(self, children: list[Any]) -> dict[str, Any]:
        quantifier, *args = children
        return {"star": False, "args": tuple(args), "distinct": quantifier == "DISTINCT"}

    def function_call(self, children: list[Any]) -> ast.FunctionCall:
        name, args = children
        args = args or {"star": False, "args": (), "distinct": False}
        return ast.FunctionCall(str(name).upper(), pos=_pos(name), **args)

    def udf_call(self, children: list[Any]) -> ast.FunctionCall:
        name, args = children
        args = args or {"star": False, "args": (), "distinct": False}
        return ast.FunctionCall(name.name, user_defined=True, pos=name.pos, **args)

    # --- predicates -----------------------------------------------------------------------------
    def comparison_predicate(self, children: list[Any]) -> ast.Comparison:
        left, op, right = children
        op_text = "<>" if str(op) == "!=" else str(op)
        return ast.Comparison(op_text, left, right, pos=_pos(op))

    def between_predicate(self, children: list[Any]) -> ast.Between:
        value, negated, _between, low, _and, high = children
        return ast.Between(value, low, high, negated=negated is not None, pos=_pos(value))

    def in_list(self, children: list[Any]) -> ast.InList:
        value, negated, _in, *items = children
        return ast.InList(value, tuple(items), negated=negated is not None, pos=_pos(value))

    def in_subquery(self, children: list[Any]) -> ast.InSubquery:
        value, negated, _in, query = children
        return ast.InSubquery(value, query, negated=negated is not None, pos=_pos(value))

    def exists_predicate(self, children: list[Any]) -> ast.Exists:
        return ast.Exists(children[1], pos=_pos(children[0]))

    def subquery(self, children: list[Any]) -> ast.QueryExpr:
        return _no_with(children[0])

    def scalar_subquery(self, children: list[Any]) -> ast.ScalarSubquery:
        return ast.ScalarSubquery(children[0], pos=_pos(children[0]))

    def like_predicate(self, children: list[Any]) -> ast.Like:
        value, negated, op, pattern, _escape, escape = children
        return ast.Like(
            value,
            pattern,
            negated=negated is not None,
            case_insensitive=op.type == "ILIKE",
            escape=escape,
            pos=_pos(value),
        )

    # --- CASE and CAST --------------------------------------------------------------------------
    def searched_when(self, children: list[Any]) -> tuple[Any, Any]:
        return (children[1], children[3])

    simple_when = searched_when

    def else_clause(self, children: list[Any]) -> Any:
        return children[1]

    def searched_case(self, children: list[Any]) -> ast.Case:
        case, *whens, otherwise, _end = children
        return ast.Case(None, tuple(whens), otherwise, pos=_pos(case))

    def simple_case(self, children: list[Any]) -> ast.Case:
        case, operand, *whens, otherwise, _end = children
        return ast.Case(operand, tuple(whens), otherwise, pos=_pos(case))

    def cast_target(self, children: list[Token]) -> tuple[str, int | None]:
        return (str(children[0]).upper(), None)

    def double_precision(self, children: list[Token]) -> tuple[str, int | None]:
        return ("DOUBLE PRECISION", None)

    def char_type(self, children: list[Any]) -> tuple[str, int | None]:
        kind, length = children
        return (str(kind).upper(), int(length) if length is not None else None)

    def cast_specification(self, children: list[Any]) -> ast.Cast:
        cast_, expr, _as, (target, length) = children
        return ast.Cast(expr, target, length, pos=_pos(cast_))

    def null_predicate(self, children: list[Any]) -> ast.IsNull:
        value, _is, negated, _null = children
        return ast.IsNull(value, negated=negated is not None, pos=_pos(value))

    def or_(self, children: list[Any]) -> ast.Or:
        return ast.Or(children[0], children[2], pos=_pos(children[0]))

    def and_(self, children: list[Any]) -> ast.And:
        return ast.And(children[0], children[2], pos=_pos(children[0]))

    def not_(self, children: list[Any]) -> ast.Not:
        return ast.Not(children[1], pos=_pos(children[0]))

    # --- clauses --------------------------------------------------------------------------------
    def set_quantifier(self, children: list[Token]) -> str:
        return str(children[0]).upper()

    def top_clause(self, children: list[Token]) -> int:
        return int(children[1])

    def select_all(self, children: list[Any]) -> tuple[ast.SelectStar, ...]:
        return (ast.SelectStar(None, pos=_pos(children[0])),)

    def select_list(self, children: list[Any]) -> tuple[Any, ...]:
        return tuple(children)

    def qualified_asterisk(self, children: list[Any]) -> ast.SelectStar:
        return ast.SelectStar(children[0], pos=_pos(children[0]))

    def derived_column(self, children: list[Any]) -> ast.SelectItem:
        alias = children[-1] if isinstance(children[-1], ast.Identifier) else None
        return ast.SelectItem(children[0], alias, pos=_pos(children[0]))

    def column_name(self, children: list[ast.Identifier]) -> ast.Identifier:
        return children[0]

    def correlation_name(self, children: list[ast.Identifier]) -> ast.Identifier:
        return children[0]

    def select_clause(self, children: list[Any]) -> dict[str, Any]:
        select, quantifier, top, items = children
        return {"distinct": quantifier == "DISTINCT", "top": top, "select": items, "pos": _pos(select)}

    def table_name(self, children: list[Any]) -> tuple[ast.Identifier | None, ...]:
        parts = [c for c in children if c is not None]
        return (None,) * (3 - len(parts)) + tuple(parts)  # (catalog, schema, table)

    def table_ref(self, children: list[Any]) -> ast.TableRef:
        catalog, schema, name = children[0]
        alias = children[-1] if isinstance(children[-1], ast.Identifier) else None
        return ast.TableRef(schema, name, alias, catalog, pos=_pos(catalog or schema or name))

    def derived_table(self, children: list[Any]) -> ast.DerivedTable:
        query = children[0]
        names = children[-1] if isinstance(children[-1], tuple) else ()
        alias = next(c for c in children[1:] if isinstance(c, ast.Identifier))
        return ast.DerivedTable(query, alias, names, pos=_pos(query))

    def table_primary(self, children: list[Any]) -> Any:
        return children[0]  # a parenthesised join

    def column_name_list(self, children: list[Any]) -> tuple[ast.Identifier, ...]:
        return tuple(children)

    def join_type(self, children: list[Any]) -> str:
        return str(children[0]).upper()

    def join_on(self, children: list[Any]) -> dict[str, Any]:
        return {"on": children[1]}

    def join_using(self, children: list[Any]) -> dict[str, Any]:
        return {"using": children[1]}

    def qualified_join(self, children: list[Any]) -> ast.Join:
        left, natural, kind, join, right, spec = children
        spec = spec or {}
        if natural is None and not spec:
            raise _syntax(
                "JOIN needs ON or USING (or NATURAL JOIN); for every pair of rows write CROSS JOIN", _pos(join)
            )
        if natural is not None and spec:
            raise _syntax("NATURAL JOIN takes no ON or USING", _pos(natural))
        return ast.Join(left, right, kind or "INNER", natural is not None, pos=_pos(left), **spec)

    def cross_join(self, children: list[Any]) -> ast.Join:
        return ast.Join(children[0], children[3], "CROSS", pos=_pos(children[0]))

    # --- query expressions ----------------------------------------------------------------------
    def with_query(self, children: list[Any]) -> ast.CommonTable:
        name, columns, _as, query = children
        return ast.CommonTable(name, query, columns or (), pos=_pos(name))

    def with_clause(self, children: list[Any]) -> tuple[ast.CommonTable, ...]:
        return tuple(children[1:])

    def parenthesised(self, children: list[Any]) -> _Parenthesised:
        return _Parenthesised(children[0])

    def _set(self, op: str, children: list[Any]) -> ast.SetQuery:
        left, _op, quantifier, right = (_unwrapped(c) for c in children)
        return ast.SetQuery(op, quantifier is not None, left, right, pos=_pos(left))

    def union(self, children: list[Any]) -> ast.SetQuery:
        return self._set("UNION", children)

    def except_(self, children: list[Any]) -> ast.SetQuery:
        return self._set("EXCEPT", children)

    def intersect(self, children: list[Any]) -> ast.SetQuery:
        return self._set("INTERSECT", children)

    def query_expression(self, children: list[Any]) -> ast.QueryExpr:
        body: ast.QueryExpr | _Parenthesised
        with_, body, order, offset = children
        fields: dict[str, Any] = {}
        if order:
            fields.update(order)
        if offset:
            fields.update(offset)
        if isinstance(body, _Parenthesised):
            inner = body.query
            limited = inner.order_by or inner.offset is not None or getattr(inner, "top", None) is not None
            # (SELECT TOP 5 ... ORDER BY a) ORDER BY b: the outer clauses apply to the
            # parenthesised query's rows, so it becomes a derived table.
            body = _wrapped(inner) if fields and limited else inner
        if with_:
            fields["with_"] = with_
        return replace(body, **fields) if fields else body

    def from_clause(self, children: list[Any]) -> dict[str, Any]:
        return {"from_": tuple(children[1:])}

    def where_clause(self, children: list[Any]) -> dict[str, Any]:
        return {"where": children[1]}

    def group_by_clause(self, children: list[Any]) -> dict[str, Any]:
        return {"group_by": tuple(children[2:])}

    def having_clause(self, children: list[Any]) -> dict[str, Any]:
        return {"having": children[1]}

    def ordering_specification(self, children: list[Token]) -> bool:
        return str(children[0]).upper() == "DESC"

    def sort_specification(self, children: list[Any]) -> ast.SortItem:
        expr, descending = children
        return ast.SortItem(expr, bool(descending), pos=_pos(expr))

    def order_by_clause(self, children: list[Any]) -> dict[str, Any]:
        return {"order_by": tuple(children[2:])}

    def offset_clause(self, children: list[Any]) -> dict[str, Any]:
        return {"offset": int(children[1])}

    def query_specification(self, children: list[Any]) -> ast.Query:
        fields: dict[str, Any] = {}
        for part in children:
            if part is not None:
                fields.update(part)
        pos = fields.pop("pos")
        return ast.Query(pos=pos, **fields)


_PARENTHESISED = ast.Identifier("parenthesised query", delimited=True)


@dataclass(frozen=True)
class _Parenthesised:
    """A set operand or whole query written in parentheses, until its context is known."""

    query: ast.QueryExpr


def _unwrapped(item: Any) -> Any:
    return item.query if isinstance(item, _Parenthesised) else item


def _wrapped(query: ast.QueryExpr) -> ast.Query:
    """``SELECT * FROM (query)``: a parenthesised query whose rows outer clauses then order."""
    derived = ast.DerivedTable(query, replace(_PARENTHESISED, pos=query.pos), pos=query.pos)
    return ast.Query((ast.SelectStar(None, pos=query.pos),), (derived,), pos=query.pos)


def _describe_expected(expected: set[str]) -> str:
    names = sorted({_TERMINAL_NAMES.get(e, e) for e in expected})
    if len(names) > 8:
        names = names[:8] + ["..."]
    return ", ".join(n if n.startswith(("'", "a ", "the ")) else n.upper() for n in names)


def _syntax_error(exc: UnexpectedInput, text: str) -> ADQLError:
    line, column = getattr(exc, "line", None), getattr(exc, "column", None)
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        expected = getattr(exc, "expected", None) or getattr(exc, "accepts", None) or set()
        lines = text.splitlines() or [""]
        return ADQLError(
            ADQLCode.SYNTAX,
            f"query ends too early; expected {_describe_expected(set(expected))}",
            len(lines),
            len(lines[-1]) + 1,
        )
    if isinstance(exc, UnexpectedToken):
        found = str(exc.token)
        return ADQLError(
            ADQLCode.SYNTAX,
            f"unexpected '{found}'; expected {_describe_expected(set(exc.accepts or exc.expected))}",
            line,
            column,
        )
    if isinstance(exc, UnexpectedCharacters):
        at: int | None = exc.pos_in_stream  # lark types it as its base class's None; the lexer sets an int
        char = text[at] if at is not None and at < len(text) else "?"
        hint = ""
        if char == "'":
            hint = " (unterminated string?)"
        elif char == '"':
            hint = " (unterminated quoted name?)"
        return ADQLError(ADQLCode.SYNTAX, f"unexpected character '{char}'{hint}", line, column)
    return ADQLError(ADQLCode.SYNTAX, "syntax error", line, column)


def parse(text: str) -> ast.Query | ast.SetQuery:
    """Parse one ADQL query; raise ``ADQLError`` for anything that is not valid ADQL."""
    if not isinstance(text, str):
        raise ADQLError(ADQLCode.SYNTAX, "the query must be text")
    if len(text) > MAX_QUERY_CHARS:
        raise ADQLError(ADQLCode.LIMIT, f"query longer than {MAX_QUERY_CHARS} characters")
    if not text.strip():
        raise ADQLError(ADQLCode.SYNTAX, "the query is empty")
    try:
        result = _unwrapped(_lark().parse(text))
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text) from None
    except RecursionError:
        raise ADQLError(ADQLCode.LIMIT, "query nested too deeply") from None
    assert isinstance(result, ast.Query | ast.SetQuery)
    return result
