"""Parse ADQL text into the typed AST (adql.ast) with lark in LALR mode.

Every failure, including lexing and tree-size limits, comes out as an ``ADQLError`` with a line
and column; nothing else escapes ``parse``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from adql import ast
from adql.errors import ADQLError

GRAMMAR = Path(__file__).with_name("grammar.lark")
_STRING_PIECE = re.compile(r"'((?:[^']|'')*)'")
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
    return Lark(
        GRAMMAR.read_text(),
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
    )


def warm_up() -> None:
    """Build the LALR tables now rather than at the first query."""
    _lark()


def _pos(meta_or_token: Any) -> ast.Pos:
    line = getattr(meta_or_token, "line", 0) or 0
    column = getattr(meta_or_token, "column", 0) or 0
    return ast.Pos(line, column)


def _unquote_identifier(text: str) -> str:
    return text[1:-1].replace('""', '"')


@v_args(meta=True)
class _ToAst(Transformer):
    """Turns lark's parse tree into adql.ast nodes, one method per grammar rule."""

    # --- leaves ---------------------------------------------------------------------------------
    def identifier(self, meta: Any, children: list[Token]) -> ast.Identifier:
        tok = children[0]
        if tok.type == "DELIMITED_IDENTIFIER":
            return ast.Identifier(_unquote_identifier(str(tok)), delimited=True, pos=_pos(tok))
        return ast.Identifier(str(tok), pos=_pos(tok))

    def integer_literal(self, meta: Any, children: list[Token]) -> ast.IntegerLiteral:
        return ast.IntegerLiteral(str(children[0]), pos=_pos(children[0]))

    def real_literal(self, meta: Any, children: list[Token]) -> ast.RealLiteral:
        return ast.RealLiteral(str(children[0]), pos=_pos(children[0]))

    def string_literal(self, meta: Any, children: list[Token]) -> ast.StringLiteral:
        pieces = _STRING_PIECE.findall(str(children[0]))  # 'a' 'b' is one literal: 'ab'
        return ast.StringLiteral("".join(p.replace("''", "'") for p in pieces), pos=_pos(children[0]))

    def hex_literal(self, meta: Any, children: list[Token]) -> ast.IntegerLiteral:
        return ast.IntegerLiteral(str(int(str(children[0]), 16)), pos=_pos(children[0]))

    def null_literal(self, meta: Any, children: list[Token]) -> ast.NullLiteral:
        return ast.NullLiteral(pos=_pos(children[0]))

    def identifier_chain(self, meta: Any, children: list[Any]) -> tuple[ast.Identifier, ...]:
        if len(children) == 1:
            return (children[0],)
        return (*children[0], children[1])

    def column_reference(self, meta: Any, children: list[Any]) -> ast.ColumnRef:
        return ast.ColumnRef(children[0], pos=_pos(meta))

    # --- expressions ----------------------------------------------------------------------------
    def binary(self, meta: Any, children: list[Any]) -> ast.Binary:
        left, op, right = children
        return ast.Binary(str(op), left, right, pos=_pos(op))

    def unary(self, meta: Any, children: list[Any]) -> ast.Expr:
        op, operand = children
        if str(op) == "+":
            return operand
        if isinstance(operand, ast.IntegerLiteral | ast.RealLiteral) and str(op) == "-":
            return replace(operand, text="-" + operand.text)
        return ast.Unary(str(op), operand, pos=_pos(op))

    def star_arg(self, meta: Any, children: list[Any]) -> dict[str, Any]:
        return {"star": True, "args": (), "distinct": False}

    def function_args(self, meta: Any, children: list[Any]) -> dict[str, Any]:
        quantifier, *args = children
        return {"star": False, "args": tuple(args), "distinct": quantifier == "DISTINCT"}

    def function_call(self, meta: Any, children: list[Any]) -> ast.FunctionCall:
        name, args = children
        args = args or {"star": False, "args": (), "distinct": False}
        return ast.FunctionCall(str(name).upper(), pos=_pos(name), **args)

    def udf_call(self, meta: Any, children: list[Any]) -> ast.FunctionCall:
        name, args = children
        args = args or {"star": False, "args": (), "distinct": False}
        return ast.FunctionCall(name.name, user_defined=True, pos=name.pos, **args)

    # --- predicates -----------------------------------------------------------------------------
    def comparison_predicate(self, meta: Any, children: list[Any]) -> ast.Comparison:
        left, op, right = children
        op_text = "<>" if str(op) == "!=" else str(op)
        return ast.Comparison(op_text, left, right, pos=_pos(op))

    def between_predicate(self, meta: Any, children: list[Any]) -> ast.Between:
        value, negated, _between, low, _and, high = children
        return ast.Between(value, low, high, negated=negated is not None, pos=_pos(meta))

    def in_list(self, meta: Any, children: list[Any]) -> ast.InList:
        value, negated, _in, *items = children
        return ast.InList(value, tuple(items), negated=negated is not None, pos=_pos(meta))

    def in_subquery(self, meta: Any, children: list[Any]) -> ast.InSubquery:
        value, negated, _in, query = children
        return ast.InSubquery(value, query, negated=negated is not None, pos=_pos(meta))

    def exists_predicate(self, meta: Any, children: list[Any]) -> ast.Exists:
        return ast.Exists(children[1], pos=_pos(meta))

    def subquery(self, meta: Any, children: list[Any]) -> ast.Node:
        return children[0]

    def scalar_subquery(self, meta: Any, children: list[Any]) -> ast.ScalarSubquery:
        return ast.ScalarSubquery(children[0], pos=_pos(meta))

    def like_predicate(self, meta: Any, children: list[Any]) -> ast.Like:
        value, negated, op, pattern, _escape, escape = children
        return ast.Like(
            value,
            pattern,
            negated=negated is not None,
            case_insensitive=op.type == "ILIKE",
            escape=escape,
            pos=_pos(meta),
        )

    # --- CASE and CAST --------------------------------------------------------------------------
    def searched_when(self, meta: Any, children: list[Any]) -> tuple[Any, Any]:
        return (children[1], children[3])

    simple_when = searched_when

    def else_clause(self, meta: Any, children: list[Any]) -> Any:
        return children[1]

    def searched_case(self, meta: Any, children: list[Any]) -> ast.Case:
        _case, *whens, otherwise, _end = children
        return ast.Case(None, tuple(whens), otherwise, pos=_pos(meta))

    def simple_case(self, meta: Any, children: list[Any]) -> ast.Case:
        _case, operand, *whens, otherwise, _end = children
        return ast.Case(operand, tuple(whens), otherwise, pos=_pos(meta))

    def cast_target(self, meta: Any, children: list[Token]) -> tuple[str, int | None]:
        return (str(children[0]).upper(), None)

    def double_precision(self, meta: Any, children: list[Token]) -> tuple[str, int | None]:
        return ("DOUBLE PRECISION", None)

    def char_type(self, meta: Any, children: list[Any]) -> tuple[str, int | None]:
        kind, length = children
        return (str(kind).upper(), int(length) if length is not None else None)

    def cast_specification(self, meta: Any, children: list[Any]) -> ast.Cast:
        _cast, expr, _as, (target, length) = children
        return ast.Cast(expr, target, length, pos=_pos(meta))

    def null_predicate(self, meta: Any, children: list[Any]) -> ast.IsNull:
        value, _is, negated, _null = children
        return ast.IsNull(value, negated=negated is not None, pos=_pos(meta))

    def or_(self, meta: Any, children: list[Any]) -> ast.Or:
        return ast.Or(children[0], children[2], pos=_pos(meta))

    def and_(self, meta: Any, children: list[Any]) -> ast.And:
        return ast.And(children[0], children[2], pos=_pos(meta))

    def not_(self, meta: Any, children: list[Any]) -> ast.Not:
        return ast.Not(children[1], pos=_pos(meta))

    # --- clauses --------------------------------------------------------------------------------
    def set_quantifier(self, meta: Any, children: list[Token]) -> str:
        return str(children[0]).upper()

    def top_clause(self, meta: Any, children: list[Token]) -> int:
        return int(children[1])

    def select_all(self, meta: Any, children: list[Any]) -> tuple[ast.SelectStar, ...]:
        return (ast.SelectStar(None, pos=_pos(meta)),)

    def select_list(self, meta: Any, children: list[Any]) -> tuple[Any, ...]:
        return tuple(children)

    def qualified_asterisk(self, meta: Any, children: list[Any]) -> ast.SelectStar:
        return ast.SelectStar(children[0], pos=_pos(meta))

    def derived_column(self, meta: Any, children: list[Any]) -> ast.SelectItem:
        alias = children[-1] if isinstance(children[-1], ast.Identifier) else None
        return ast.SelectItem(children[0], alias, pos=_pos(meta))

    def column_name(self, meta: Any, children: list[Any]) -> ast.Identifier:
        return children[0]

    def correlation_name(self, meta: Any, children: list[Any]) -> ast.Identifier:
        return children[0]

    def select_clause(self, meta: Any, children: list[Any]) -> dict[str, Any]:
        _select, quantifier, top, items = children
        return {"distinct": quantifier == "DISTINCT", "top": top, "select": items}

    def table_name(self, meta: Any, children: list[Any]) -> tuple[ast.Identifier | None, ast.Identifier]:
        first, second = children
        return (first, second) if second is not None else (None, first)

    def table_ref(self, meta: Any, children: list[Any]) -> ast.TableRef:
        schema, name = children[0]
        alias = children[-1] if isinstance(children[-1], ast.Identifier) else None
        return ast.TableRef(schema, name, alias, pos=_pos(meta))

    def derived_table(self, meta: Any, children: list[Any]) -> ast.DerivedTable:
        query = children[0]
        names = children[-1] if isinstance(children[-1], tuple) else ()
        alias = next(c for c in children[1:] if isinstance(c, ast.Identifier))
        return ast.DerivedTable(query, alias, names, pos=_pos(meta))

    def table_primary(self, meta: Any, children: list[Any]) -> Any:
        return children[0]  # a parenthesised join

    def column_name_list(self, meta: Any, children: list[Any]) -> tuple[ast.Identifier, ...]:
        return tuple(children)

    def join_type(self, meta: Any, children: list[Any]) -> str:
        return str(children[0]).upper()

    def join_on(self, meta: Any, children: list[Any]) -> dict[str, Any]:
        return {"on": children[1]}

    def join_using(self, meta: Any, children: list[Any]) -> dict[str, Any]:
        return {"using": children[1]}

    def qualified_join(self, meta: Any, children: list[Any]) -> ast.Join:
        left, natural, kind, _join, right, spec = children
        spec = spec or {}
        if natural is None and not spec:
            raise ADQLError("ADQL-SYNTAX", "JOIN needs ON or USING (or NATURAL JOIN)", meta.line, meta.column)
        if natural is not None and spec:
            raise ADQLError("ADQL-SYNTAX", "NATURAL JOIN takes no ON or USING", meta.line, meta.column)
        return ast.Join(left, right, kind or "INNER", natural is not None, pos=_pos(meta), **spec)

    def cross_join(self, meta: Any, children: list[Any]) -> ast.Join:
        return ast.Join(children[0], children[3], "CROSS", pos=_pos(meta))

    # --- query expressions ----------------------------------------------------------------------
    def with_query(self, meta: Any, children: list[Any]) -> ast.CommonTable:
        name, columns, _as, query = children
        return ast.CommonTable(name, query, columns or (), pos=_pos(meta))

    def with_clause(self, meta: Any, children: list[Any]) -> tuple[ast.CommonTable, ...]:
        return tuple(children[1:])

    def _set(self, op: str, meta: Any, children: list[Any]) -> ast.SetQuery:
        left, _op, quantifier, right = children
        return ast.SetQuery(op, quantifier is not None, left, right, pos=_pos(meta))

    def union(self, meta: Any, children: list[Any]) -> ast.SetQuery:
        return self._set("UNION", meta, children)

    def except_(self, meta: Any, children: list[Any]) -> ast.SetQuery:
        return self._set("EXCEPT", meta, children)

    def intersect(self, meta: Any, children: list[Any]) -> ast.SetQuery:
        return self._set("INTERSECT", meta, children)

    def query_expression(self, meta: Any, children: list[Any]) -> ast.Query | ast.SetQuery:
        with_, body, order, offset = children
        fields: dict[str, Any] = {}
        if with_:
            fields["with_"] = with_
        if order:
            fields.update(order)
        if offset:
            fields.update(offset)
        if not fields:
            return body
        if (body.order_by and "order_by" in fields) or (body.offset is not None and "offset" in fields):
            raise ADQLError("ADQL-SYNTAX", "ORDER BY or OFFSET given twice", meta.line, meta.column)
        return replace(body, **fields)

    def from_clause(self, meta: Any, children: list[Any]) -> dict[str, Any]:
        return {"from_": tuple(children[1:])}

    def where_clause(self, meta: Any, children: list[Any]) -> dict[str, Any]:
        return {"where": children[1]}

    def group_by_clause(self, meta: Any, children: list[Any]) -> dict[str, Any]:
        return {"group_by": tuple(children[2:])}

    def having_clause(self, meta: Any, children: list[Any]) -> dict[str, Any]:
        return {"having": children[1]}

    def ordering_specification(self, meta: Any, children: list[Token]) -> bool:
        return str(children[0]).upper() == "DESC"

    def sort_specification(self, meta: Any, children: list[Any]) -> ast.SortItem:
        expr, descending = children
        return ast.SortItem(expr, bool(descending), pos=_pos(meta))

    def order_by_clause(self, meta: Any, children: list[Any]) -> dict[str, Any]:
        return {"order_by": tuple(children[2:])}

    def offset_clause(self, meta: Any, children: list[Any]) -> dict[str, Any]:
        return {"offset": int(children[1])}

    def query_specification(self, meta: Any, children: list[Any]) -> ast.Query:
        fields: dict[str, Any] = {}
        for part in children:
            if part is not None:
                fields.update(part)
        return ast.Query(pos=_pos(meta), **fields)


def _describe_expected(expected: set[str]) -> str:
    names = sorted({_TERMINAL_NAMES.get(e, e) for e in expected})
    if len(names) > 8:
        names = names[:8] + ["..."]
    return ", ".join(n if n.startswith(("'", "a ", "the ")) else n.upper() for n in names)


def _syntax_error(exc: UnexpectedInput, text: str) -> ADQLError:
    line, column = getattr(exc, "line", None), getattr(exc, "column", None)
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        expected = getattr(exc, "expected", None) or getattr(exc, "accepts", set())
        lines = text.splitlines() or [""]
        return ADQLError(
            "ADQL-SYNTAX",
            f"query ends too early; expected {_describe_expected(set(expected))}",
            len(lines),
            len(lines[-1]) + 1,
        )
    if isinstance(exc, UnexpectedToken):
        found = str(exc.token)
        return ADQLError(
            "ADQL-SYNTAX",
            f"unexpected '{found}'; expected {_describe_expected(set(exc.accepts or exc.expected))}",
            line,
            column,
        )
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else "?"
        hint = ""
        if char == "'":
            hint = " (unterminated string?)"
        elif char == '"':
            hint = " (unterminated quoted name?)"
        return ADQLError("ADQL-SYNTAX", f"unexpected character '{char}'{hint}", line, column)
    return ADQLError("ADQL-SYNTAX", "syntax error", line, column)


def parse(text: str) -> ast.Query | ast.SetQuery:
    """Parse one ADQL query; raise ``ADQLError`` for anything that is not valid ADQL."""
    if not isinstance(text, str):
        raise ADQLError("ADQL-SYNTAX", "the query must be text")
    if len(text) > MAX_QUERY_CHARS:
        raise ADQLError("ADQL-LIMIT", f"query longer than {MAX_QUERY_CHARS} characters")
    if not text.strip():
        raise ADQLError("ADQL-SYNTAX", "the query is empty")
    try:
        tree: Tree = _lark().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text) from None
    except RecursionError:
        raise ADQLError("ADQL-LIMIT", "query nested too deeply") from None
    try:
        result = _ToAst().transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, ADQLError):
            raise exc.orig_exc from None
        raise ADQLError("ADQL-SYNTAX", f"cannot read query: {exc.orig_exc}") from None
    except RecursionError:
        raise ADQLError("ADQL-LIMIT", "query nested too deeply") from None
    assert isinstance(result, ast.Query | ast.SetQuery)
    return result
