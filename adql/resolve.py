"""Bind an ADQL tree to the published tables: tables and columns by ADQL's case rules, ``*``
expanded, and every output column given a name and VO metadata (datatype, unit, UCD).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from adql import ast
from adql.catalog import Catalog, ColumnMeta, TableMeta
from adql.errors import ADQLError, suggestion
from adql.functions import result_meta


@dataclass(frozen=True)
class OutputColumn:
    name: str
    meta: ColumnMeta  # name inside is the output name


@dataclass(frozen=True)
class ResolvedQuery:
    query: ast.Query  # column references resolved, stars expanded
    output: tuple[OutputColumn, ...]


@dataclass(frozen=True)
class _Occurrence:
    """One table in FROM: what ADQL may call it, and its SQL alias."""

    table: TableMeta
    adql_name: ast.Identifier | None  # correlation name, when given
    sql_alias: str

    def answers_to(self, qualifier: tuple[ast.Identifier, ...]) -> bool:
        if self.adql_name is not None:
            return len(qualifier) == 1 and qualifier[0].matches(self.adql_name.name)
        if len(qualifier) == 1:
            return qualifier[0].matches(self.table.name)
        if len(qualifier) == 2:
            return qualifier[0].matches(self.table.schema) and qualifier[1].matches(self.table.name)
        return False

    def find_column(self, ident: ast.Identifier) -> ColumnMeta | None:
        for column in self.table.columns:
            if ident.matches(column.name):
                return column
        return None


def _err(code: str, message: str, node: ast.Node) -> ADQLError:
    return ADQLError(code, message, node.pos.line or None, node.pos.column or None)


class _Resolver:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.occurrences: list[_Occurrence] = []
        self.output_aliases: dict[str, OutputColumn] = {}

    # --- FROM -----------------------------------------------------------------------------------
    def table(self, ref: ast.TableRef, index: int) -> _Occurrence:
        matches = [
            t
            for t in self.catalog.tables
            if ref.name.matches(t.name) and (ref.schema is None or ref.schema.matches(t.schema))
        ]
        written = f"{ref.schema.name}.{ref.name.name}" if ref.schema else ref.name.name
        if not matches:
            raise _err(
                "ADQL-UNKNOWN-TABLE",
                f"table '{written}' is not published by this service"
                + suggestion(written, self.catalog.table_names() + [t.name for t in self.catalog.tables]),
                ref,
            )
        if len(matches) > 1:
            names = ", ".join(sorted(t.qualified_name for t in matches))
            raise _err("ADQL-AMBIGUOUS", f"table '{written}' is ambiguous: qualify it as one of {names}", ref)
        return _Occurrence(matches[0], ref.alias, f"t{index}")

    # --- column references ----------------------------------------------------------------------
    def column(self, ref: ast.ColumnRef) -> ast.ResolvedColumn:
        *qualifier, name = ref.parts
        if qualifier:
            scope = [o for o in self.occurrences if o.answers_to(tuple(qualifier))]
            if not scope:
                q = ".".join(p.name for p in qualifier)
                known = [o.adql_name.name if o.adql_name else o.table.qualified_name for o in self.occurrences]
                raise _err(
                    "ADQL-UNKNOWN-TABLE",
                    f"'{q}' in '{ref.text}' does not name a table of the FROM clause" + suggestion(q, known),
                    ref,
                )
        else:
            scope = self.occurrences
        found = [(o, c) for o in scope for c in [o.find_column(name)] if c is not None]
        if not found:
            candidates = [c.name for o in scope for c in o.table.columns]
            tables = " or ".join(f"'{o.table.qualified_name}'" for o in scope)
            raise _err(
                "ADQL-UNKNOWN-COLUMN",
                f"column '{name.name}' not found in table {tables}" + suggestion(name.name, candidates),
                ref,
            )
        if len(found) > 1:
            tables = ", ".join(o.table.qualified_name for o, _ in found)
            raise _err(
                "ADQL-AMBIGUOUS",
                f"column '{name.name}' is ambiguous: it exists in {tables}; qualify it",
                ref,
            )
        occurrence, column = found[0]
        return ast.ResolvedColumn(occurrence.sql_alias, column, pos=ref.pos)

    # --- generic tree walk ----------------------------------------------------------------------
    def expr(self, node: ast.Expr, allow_output_alias: bool = False) -> ast.Expr:
        if isinstance(node, ast.ColumnRef):
            if allow_output_alias and len(node.parts) == 1:
                for key, out in self.output_aliases.items():
                    if node.parts[0].matches(key):
                        # Referring to an output alias: keep it by name, the dialect quotes it.
                        return ast.ColumnRef((ast.Identifier(out.name, True),), pos=node.pos)
            return self.column(node)
        if isinstance(node, ast.Unary):
            return replace(node, operand=self.expr(node.operand))
        if isinstance(node, ast.Binary):
            return replace(node, left=self.expr(node.left), right=self.expr(node.right))
        if isinstance(node, ast.FunctionCall):
            return replace(node, args=tuple(self.expr(a) for a in node.args))
        return node

    def condition(self, node: ast.Condition) -> ast.Condition:
        if isinstance(node, ast.Comparison):
            return replace(node, left=self.expr(node.left), right=self.expr(node.right))
        if isinstance(node, ast.Between):
            return replace(node, value=self.expr(node.value), low=self.expr(node.low), high=self.expr(node.high))
        if isinstance(node, ast.InList):
            return replace(node, value=self.expr(node.value), items=tuple(self.expr(i) for i in node.items))
        if isinstance(node, ast.Like):
            return replace(node, value=self.expr(node.value), pattern=self.expr(node.pattern))
        if isinstance(node, ast.IsNull):
            return replace(node, value=self.expr(node.value))
        if isinstance(node, ast.And | ast.Or):
            return replace(node, left=self.condition(node.left), right=self.condition(node.right))
        if isinstance(node, ast.Not):
            return replace(node, operand=self.condition(node.operand))
        raise _err("ADQL-UNSUPPORTED", f"unsupported condition {type(node).__name__}", node)

    # --- select list ----------------------------------------------------------------------------
    def select_items(self, items: tuple[ast.SelectItem | ast.SelectStar, ...]) -> list[ast.SelectItem]:
        result: list[ast.SelectItem] = []
        for item in items:
            if isinstance(item, ast.SelectStar):
                scope = self.occurrences
                if item.qualifier is not None:
                    scope = [o for o in self.occurrences if o.answers_to(item.qualifier)]
                    if not scope:
                        q = ".".join(p.name for p in item.qualifier)
                        raise _err("ADQL-UNKNOWN-TABLE", f"'{q}.*' does not name a table of the FROM clause", item)
                for occ in scope:
                    for column in occ.table.columns:
                        result.append(
                            ast.SelectItem(ast.ResolvedColumn(occ.sql_alias, column, pos=item.pos), pos=item.pos)
                        )
            else:
                result.append(replace(item, expr=self.expr(item.expr)))
        return result


def _output_name(item: ast.SelectItem) -> str:
    if item.alias is not None:
        return item.alias.name
    if isinstance(item.expr, ast.ResolvedColumn):
        return item.expr.column.name
    if isinstance(item.expr, ast.FunctionCall):
        return item.expr.name.lower()
    return "expr"


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        key = name.lower()
        if key in seen:
            seen[key] += 1
            name = f"{name}_{seen[key]}"
        else:
            seen[key] = 1
        unique.append(name)
    return unique


def resolve(query: ast.Query, catalog: Catalog) -> ResolvedQuery:
    """Resolve every name in ``query`` against ``catalog``; raise ``ADQLError`` if one is unknown."""
    resolver = _Resolver(catalog)
    resolved_from: list[ast.ResolvedTable] = []
    for index, ref in enumerate(query.from_):
        assert isinstance(ref, ast.TableRef)
        occurrence = resolver.table(ref, index)
        resolver.occurrences.append(occurrence)
        resolved_from.append(
            ast.ResolvedTable(occurrence.table.schema, occurrence.table.name, occurrence.sql_alias, pos=ref.pos)
        )
    items = resolver.select_items(query.select)
    names = _unique_names([_output_name(i) for i in items])
    output = []
    for item, name in zip(items, names, strict=True):
        meta = replace(result_meta(item.expr), name=name)
        output.append(OutputColumn(name, meta))
        if item.alias is not None:
            resolver.output_aliases[item.alias.name] = OutputColumn(name, meta)
    order_by = []
    for sort in query.order_by:
        if isinstance(sort.expr, ast.IntegerLiteral):
            position = int(sort.expr.text)
            if not 1 <= position <= len(items):
                raise _err(
                    "ADQL-UNKNOWN-COLUMN",
                    f"ORDER BY {position}: the select list has {len(items)} columns",
                    sort,
                )
            order_by.append(sort)
        else:
            order_by.append(replace(sort, expr=resolver.expr(sort.expr, allow_output_alias=True)))
    resolved = replace(
        query,
        select=tuple(replace(i, alias=ast.Identifier(n, True)) for i, n in zip(items, names, strict=True)),
        from_=tuple(resolved_from),
        where=resolver.condition(query.where) if query.where else None,
        group_by=tuple(resolver.expr(g, allow_output_alias=True) for g in query.group_by),
        having=resolver.condition(query.having) if query.having else None,
        order_by=tuple(order_by),
    )
    return ResolvedQuery(resolved, tuple(output))
