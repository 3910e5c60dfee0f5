"""Bind an ADQL tree to the published tables: tables and columns by ADQL's case rules, ``*``
expanded, joins, derived tables, common table expressions and (correlated) subqueries scoped,
and every output column given a name and VO metadata (datatype, unit, UCD).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import cast

from adql import ast, joins, typecheck
from adql.catalog import Catalog, ColumnMeta
from adql.errors import ADQLCode, ADQLError, suggestion
from adql.functions import strip
from adql.grouping import check_grouping
from adql.kinds import expr_kind, kind_of
from pgsql_text.errors import SQLTextError
from pgsql_text.quoting import quote_ident

MAX_NESTING = 32
MAX_COLUMNS = 1664  # PostgreSQL's limit on a select list (SQLSTATE 54011)
_QUERIES = (ast.Query, ast.SetQuery)


@dataclass(frozen=True)
class OutputColumn:
    name: str
    meta: ColumnMeta  # name inside is the output name


@dataclass(frozen=True)
class ResolvedQuery:
    query: ast.Query | ast.SetQuery  # every name resolved, stars expanded
    output: tuple[OutputColumn, ...]


@dataclass
class _Source:
    """One table occurrence in FROM: what ADQL may call it, its SQL alias, its columns."""

    columns: tuple[ColumnMeta, ...]
    sql_alias: str
    name: str  # table name, CTE name or derived-table alias
    schema: str | None = None
    alias: ast.Identifier | None = None  # correlation name, when given
    primary_key: tuple[str, ...] = ()  # a published table's, in the database (not a CTE's or a subquery's)

    def answers_to(self, qualifier: tuple[ast.Identifier, ...]) -> bool:
        if self.alias is not None:
            return len(qualifier) == 1 and qualifier[0].matches(self.alias.name)
        if len(qualifier) == 1:
            return qualifier[0].matches(self.name)
        if len(qualifier) == 2 and self.schema is not None:
            return qualifier[0].matches(self.schema) and qualifier[1].matches(self.name)
        return False

    def find(self, ident: ast.Identifier) -> ColumnMeta | None:
        found = [c for c in self.columns if ident.matches(c.name)]
        if len(found) > 1 and not ident.delimited:
            exact = [c for c in found if c.name == ident.name]
            found = exact or found[:1]
        return found[0] if found else None

    @property
    def label(self) -> str:
        if self.alias is not None:
            return self.alias.name
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass
class _Scope:
    parent: _Scope | None = None
    sources: list[_Source] = field(default_factory=list)
    # Columns named once for NATURAL/USING joins: lower-case name -> (aliases, meta)
    merged: dict[str, tuple[tuple[str, ...], ColumnMeta]] = field(default_factory=dict)
    ctes: dict[str, tuple[ColumnMeta, ...]] = field(default_factory=dict)  # name -> output columns
    # Tables of the same FROM that an ON condition may not name (only for the error message).
    hidden: list[_Source] = field(default_factory=list)

    def find_cte(self, ident: ast.Identifier) -> tuple[str, tuple[ColumnMeta, ...]] | None:
        scope: _Scope | None = self
        while scope is not None:
            for name, columns in scope.ctes.items():
                if ident.matches(name):
                    return name, columns
            scope = scope.parent
        return None


class _Resolver:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.aliases = itertools.count()
        self.depth = 0
        # The queries whose outputs the dialect turns into text (the whole query, and the operands
        # of its set operations): there geometries can be told apart by DISTINCT and UNION.
        self.text_outputs: set[int] = set()

    # --- query expressions ----------------------------------------------------------------------
    def query_expr(self, node: ast.Query | ast.SetQuery, parent: _Scope | None) -> ResolvedQuery:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ADQLError.at(ADQLCode.LIMIT, f"queries nested more than {MAX_NESTING} deep", node)
        if self.depth == 1:
            self.text_outputs.add(id(node))
        try:
            scope = _Scope(parent)
            with_ = self.common_tables(node.with_, scope)
            resolved = self.set_query(node, scope) if isinstance(node, ast.SetQuery) else self.query(node, scope)
            return ResolvedQuery(ast.copy_with(resolved.query, with_=with_), resolved.output)
        finally:
            self.depth -= 1

    def common_tables(self, ctes: tuple[ast.CommonTable, ...], scope: _Scope) -> tuple[ast.CommonTable, ...]:
        result = []
        for cte in ctes:
            if any(cte.name.matches(n) for n in scope.ctes):
                raise ADQLError.at(ADQLCode.AMBIGUOUS, f"WITH defines '{cte.name.name}' twice", cte)
            _check_sql_text(cte.name)
            _check_sql_names([*scope.ctes, cte.name.name], cte)
            inner = self.query_expr(cte.query, scope)
            columns = self._renamed(inner.output, cte.column_names, cte)
            scope.ctes[cte.name.name] = columns
            result.append(ast.copy_with(cte, query=inner.query))
        return tuple(result)

    def _renamed(
        self, output: tuple[OutputColumn, ...], names: tuple[ast.Identifier, ...], node: ast.Node
    ) -> tuple[ColumnMeta, ...]:
        if names and len(names) != len(output):
            raise ADQLError.at(ADQLCode.TYPE, f"{len(names)} column names given for {len(output)} columns", node)
        for name in names:
            _check_sql_text(name)
        if names:
            columns = tuple(replace(o.meta, name=n.name) for o, n in zip(output, names, strict=True))
        else:
            columns = tuple(o.meta for o in output)
        _check_sql_names([c.name for c in columns], node)
        return columns

    def set_query(self, node: ast.SetQuery, scope: _Scope) -> ResolvedQuery:
        if id(node) in self.text_outputs:
            self.text_outputs |= {id(node.left), id(node.right)}
        left = self.query_expr(node.left, scope)
        right = self.query_expr(node.right, scope)
        if len(left.output) != len(right.output):
            raise ADQLError.at(
                ADQLCode.TYPE,
                f"{node.op} of queries with {len(left.output)} and {len(right.output)} columns",
                node,
            )
        typecheck.check_set_columns(node.op, [o.meta for o in left.output], [o.meta for o in right.output], node)
        if not node.all and id(node) not in self.text_outputs:
            for column in left.output:
                typecheck.check_key(node.op, kind_of(column.meta), node)
        order_by = tuple(self.sort_by_output(s, left.output) for s in node.order_by)
        for sort in order_by:
            if isinstance(sort.expr, ast.IntegerLiteral):
                typecheck.check_key(
                    "ORDER BY", kind_of(left.output[int(ast.number_text(sort.expr)) - 1].meta), sort.expr
                )
            else:
                typecheck.check_key("ORDER BY", expr_kind(sort.expr), sort.expr)
        query = ast.copy_with(node, left=left.query, right=right.query, order_by=order_by)
        return ResolvedQuery(query, left.output)

    def sort_by_output(self, sort: ast.SortItem, output: tuple[OutputColumn, ...]) -> ast.SortItem:
        """ORDER BY of a set operation: output names or positions only."""
        if isinstance(sort.expr, ast.IntegerLiteral):
            self._check_position(sort, len(output))
            return sort
        if isinstance(sort.expr, ast.ColumnRef) and len(sort.expr.parts) == 1:
            for position, out in enumerate(output, start=1):
                if sort.expr.parts[0].matches(out.name):
                    ref = ast.OutputRef(out.name, position, pos=sort.expr.pos, meta=out.meta)
                    return ast.copy_with(sort, expr=ref)
        raise ADQLError.at(
            ADQLCode.UNKNOWN_COLUMN,
            "ORDER BY of UNION/EXCEPT/INTERSECT takes output column names or positions",
            sort,
        )

    @staticmethod
    def _check_position(sort: ast.SortItem, count: int) -> int:
        assert isinstance(sort.expr, ast.IntegerLiteral)
        position = int(ast.number_text(sort.expr))
        if not 1 <= position <= count:
            raise ADQLError.at(
                ADQLCode.UNKNOWN_COLUMN, f"ORDER BY {position}: the select list has {count} columns", sort
            )
        return position

    def query(self, node: ast.Query, scope: _Scope) -> ResolvedQuery:
        from_ = tuple(self.from_item(item, scope) for item in node.from_)
        written, items = self.select_items(node.select, scope)
        if len(items) > MAX_COLUMNS:
            raise ADQLError.at(
                ADQLCode.LIMIT, f"the select list has {len(items)} columns; at most {MAX_COLUMNS} are possible", node
            )
        for item in written:
            if item.alias is not None:
                _check_sql_text(item.alias)
        names = _unique_names([_output_name(w, i) for w, i in zip(written, items, strict=True)])
        output = tuple(
            OutputColumn(n, _named(i.expr.meta or strip(None), n)) for i, n in zip(items, names, strict=True)
        )
        # Select-list names GROUP BY and ORDER BY may use: name -> (position, output column)
        aliases = {
            i.alias.name: (position, o)
            for position, (i, o) in enumerate(zip(items, output, strict=True), start=1)
            if i.alias is not None
        }
        order_by = []
        for sort in node.order_by:
            if isinstance(sort.expr, ast.IntegerLiteral):
                position = self._check_position(sort, len(items))
                typecheck.check_key("ORDER BY", expr_kind(items[position - 1].expr), sort.expr)
                order_by.append(sort)
            else:
                order_by.append(ast.copy_with(sort, expr=self.grouping_expr(sort.expr, scope, aliases)))
                typecheck.check_key("ORDER BY", expr_kind(order_by[-1].expr), sort.expr)
        group_by = tuple(self.grouping_expr(g, scope, aliases) for g in node.group_by)
        for term in group_by:
            typecheck.check_key("GROUP BY", expr_kind(term), term)
        if node.distinct and id(node) not in self.text_outputs:
            for item in items:
                typecheck.check_key("DISTINCT", expr_kind(item.expr), item)
        query = ast.copy_with(
            node,
            select=tuple(ast.copy_with(i, alias=ast.Identifier(n, True)) for i, n in zip(items, names, strict=True)),
            from_=from_,
            where=self.condition(node.where, scope) if node.where else None,
            group_by=group_by,
            having=self.condition(node.having, scope) if node.having else None,
            order_by=tuple(order_by),
        )
        check_grouping(query, {s.sql_alias: s.primary_key for s in scope.sources if s.primary_key})
        return ResolvedQuery(query, output)

    def grouping_expr(self, node: ast.Expr, scope: _Scope, aliases: dict[str, tuple[int, OutputColumn]]) -> ast.Expr:
        """A GROUP BY or ORDER BY term: a bare name that a select-list alias has means that
        output column (even where a table column has the same name), else an expression."""
        if isinstance(node, ast.ColumnRef) and len(node.parts) == 1:
            for key, (position, out) in aliases.items():
                if node.parts[0].matches(key):
                    return ast.OutputRef(out.name, position, pos=node.pos, meta=out.meta)
        return self.expr(node, scope)

    # --- FROM -----------------------------------------------------------------------------------
    def from_item(self, item: ast.Node, scope: _Scope) -> ast.Node:
        if isinstance(item, ast.TableRef):
            return self.table(item, scope)
        if isinstance(item, ast.DerivedTable):
            # A derived table sees the WITH names but not its sibling tables.
            inner = self.query_expr(item.query, _Scope(scope.parent, ctes=scope.ctes))
            columns = self._renamed(inner.output, item.column_names, item)
            alias = f"t{next(self.aliases)}"
            self._add_source(scope, _Source(columns, alias, item.alias.name, alias=item.alias), item)
            return ast.copy_with(item, query=inner.query, sql_alias=alias)
        if isinstance(item, ast.Join):
            return self.join(item, scope)
        raise ADQLError.at(ADQLCode.UNSUPPORTED, f"unsupported FROM item {type(item).__name__}", item)

    def _add_source(self, scope: _Scope, source: _Source, node: ast.Node) -> None:
        for other in scope.sources:
            if other.label.lower() == source.label.lower() and (
                other.alias or source.alias or other.schema == source.schema
            ):
                raise ADQLError.at(
                    ADQLCode.AMBIGUOUS,
                    f"'{source.label}' appears twice in FROM; give one of them a correlation name (AS x)",
                    node,
                )
        scope.sources.append(source)

    def table(self, ref: ast.TableRef, scope: _Scope) -> ast.ResolvedTable:
        if ref.catalog is not None:
            raise ADQLError.at(
                ADQLCode.UNKNOWN_TABLE,
                f"'{ref.catalog.name}' would be a catalog name; this service has no catalogs: "
                f"write the table as {_written(ref.schema)}.{ref.name.name}",
                ref.catalog,
            )
        alias = f"t{next(self.aliases)}"
        if ref.schema is None:
            cte = scope.find_cte(ref.name)
            if cte is not None:
                name, columns = cte
                self._add_source(scope, _Source(columns, alias, name, alias=ref.alias), ref)
                return ast.ResolvedTable(None, name, alias, pos=ref.pos)
        matches = [
            t
            for t in self.catalog.tables
            if ref.name.matches(t.name) and (ref.schema is None or ref.schema.matches(t.schema))
        ]
        written = f"{ref.schema.name}.{ref.name.name}" if ref.schema else ref.name.name
        if not matches:
            # A qualified name is compared with qualified names, a bare one with bare names;
            # either way the qualified name is shown, once.
            known = [(t.qualified_name if ref.schema else t.name, t.qualified_name) for t in self.catalog.tables]
            raise ADQLError.at(
                ADQLCode.UNKNOWN_TABLE,
                f"table '{written}' is not published by this service" + suggestion(written, known),
                ref,
            )
        if len(matches) > 1:
            names = ", ".join(sorted(t.qualified_name for t in matches))
            raise ADQLError.at(ADQLCode.AMBIGUOUS, f"table '{written}' is ambiguous: qualify it as one of {names}", ref)
        table = matches[0]
        # PostgreSQL sees a primary key only on a table the query names itself, not through a
        # function or view (a server reads ObsCore through one that renders its URLs).
        key = table.primary_key if table.sql_name is None else ()
        self._add_source(scope, _Source(table.columns, alias, table.name, table.schema, ref.alias, key), ref)
        return ast.ResolvedTable(
            table.schema, table.name, alias, table.sql_name, position_key=table.position_key, pos=ref.pos
        )

    def join(self, node: ast.Join, scope: _Scope) -> ast.Join:
        first = len(scope.sources)
        left = self.from_item(node.left, scope)
        before = len(scope.sources)
        right = self.from_item(node.right, scope)
        left_sources, right_sources = scope.sources[first:before], scope.sources[before:]
        using = node.using
        if node.natural:
            left_names = {c.name.lower() for s in left_sources for c in s.columns}
            using = tuple(
                ast.Identifier(c.name, True, pos=node.pos)
                for s in right_sources
                for c in s.columns
                if c.name.lower() in left_names
            )
        using_kinds = []
        for ident in using:
            sides = []
            for sources in (left_sources, right_sources):
                hits = [(s, c) for s in sources for c in [s.find(ident)] if c is not None]
                if not hits:
                    raise ADQLError.at(
                        ADQLCode.UNKNOWN_COLUMN, f"USING column '{ident.name}' is not in both joined tables", ident
                    )
                sides.append(hits[0])
            (left_source, left_column), (right_source, right_column) = sides
            joins.check_using_column(ident, left_column, right_column, (left_source.label, right_source.label))
            using_kinds.append(kind_of(left_column))
            scope.merged[left_column.name.lower()] = ((left_source.sql_alias, right_source.sql_alias), left_column)
        if node.kind == "FULL" and (using or node.natural):
            joins.check_full_join_using(node, using_kinds)
        on = None
        if node.on is not None:
            # SQL: an ON condition sees the tables of its own join (and outer queries), not the
            # other tables of the same FROM.
            joined = left_sources + right_sources
            aliases = {s.sql_alias for s in joined}
            own = _Scope(
                scope.parent,
                joined,
                {k: v for k, v in scope.merged.items() if set(v[0]) <= aliases},
                hidden=[s for s in scope.sources if s.sql_alias not in aliases],
            )
            on = self.condition(node.on, own)
            if node.kind == "FULL":
                joins.check_full_join_on(
                    on, frozenset(s.sql_alias for s in left_sources), frozenset(s.sql_alias for s in right_sources)
                )
        return ast.copy_with(
            node,
            left=left,
            right=right,
            on=on,
            using=tuple(ast.Identifier(i.name, True) for i in using) if not node.natural else (),
        )

    # --- column references ----------------------------------------------------------------------
    def column(self, ref: ast.ColumnRef, scope: _Scope) -> ast.Expr:
        *qualifier, name = ref.parts
        level: _Scope | None = scope
        while level is not None:
            found = self._column_in(ref, tuple(qualifier), name, level)
            if found is not None:
                return found
            level = level.parent
        # Not found anywhere: explain against the innermost scope.
        sources = [s for s in scope.sources if not qualifier or s.answers_to(tuple(qualifier))]
        outside = [s for s in scope.hidden if not qualifier or s.answers_to(tuple(qualifier))]
        if outside and (qualifier or any(s.find(name) for s in outside)):
            raise ADQLError.at(
                ADQLCode.UNKNOWN_COLUMN if not qualifier else ADQLCode.UNKNOWN_TABLE,
                f"'{ref.text}' belongs to '{outside[0].label}', which is not part of this JOIN: "
                "an ON condition can only name the tables it joins",
                ref,
            )
        if qualifier and not sources:
            q = ".".join(p.name for p in qualifier)
            raise ADQLError.at(
                ADQLCode.UNKNOWN_TABLE,
                f"'{q}' in '{ref.text}' does not name a table of the FROM clause"
                + suggestion(q, [s.label for s in scope.sources]),
                ref,
            )
        candidates = [c.name for s in sources for c in s.columns]
        tables = " or ".join(f"'{s.label}'" for s in sources) or "the FROM clause"
        raise ADQLError.at(
            ADQLCode.UNKNOWN_COLUMN,
            f"column '{name.name}' not found in table {tables}" + suggestion(name.name, candidates),
            ref,
        )

    def _column_in(
        self, ref: ast.ColumnRef, qualifier: tuple[ast.Identifier, ...], name: ast.Identifier, scope: _Scope
    ) -> ast.Expr | None:
        if not qualifier:
            for key, (aliases, meta) in scope.merged.items():
                if name.matches(key):
                    return ast.MergedColumn(aliases, meta, pos=ref.pos, meta=meta)
        sources = [s for s in scope.sources if not qualifier or s.answers_to(qualifier)]
        found = [(s, c) for s in sources for c in [s.find(name)] if c is not None]
        if len(found) > 1:
            tables = ", ".join(s.label for s, _ in found)
            raise ADQLError.at(
                ADQLCode.AMBIGUOUS, f"column '{name.name}' is ambiguous: it exists in {tables}; qualify it", ref
            )
        if found:
            source, column = found[0]
            return ast.ResolvedColumn(source.sql_alias, column, pos=ref.pos, meta=column)
        return None

    # --- expressions and conditions ------------------------------------------------------------
    def expr(self, node: ast.Expr, scope: _Scope) -> ast.Expr:
        return cast(ast.Expr, self._bind(node, scope))

    def condition(self, node: ast.Condition, scope: _Scope) -> ast.Condition:
        return cast(ast.Condition, self._bind(node, scope))

    def _bind(self, node: ast.Node, scope: _Scope) -> ast.Node:
        """Names bound and types checked bottom-up; each subquery resolved in its own scope."""

        def bind(current: ast.Node) -> ast.Node:
            if isinstance(current, ast.ColumnRef):
                return self.column(current, scope)
            if isinstance(current, ast.ScalarSubquery | ast.InSubquery | ast.Exists):
                return self.subquery(current, scope)
            return typecheck.check(current)

        return ast.transform(node, bind, leaves=_QUERIES)

    def subquery(self, node: ast.ScalarSubquery | ast.InSubquery | ast.Exists, scope: _Scope) -> ast.Node:
        inner = self.query_expr(node.query, scope)
        if isinstance(node, ast.Exists):
            return ast.copy_with(node, query=inner.query)
        if len(inner.output) != 1:
            what = "a subquery used as a value" if isinstance(node, ast.ScalarSubquery) else "the subquery of IN"
            raise ADQLError.at(ADQLCode.TYPE, f"{what} must return one column, not {len(inner.output)}", node)
        if isinstance(node, ast.InSubquery):
            value = typecheck.check_subquery_value(node.value, inner.output[0].meta, node)
            return ast.copy_with(node, value=value, query=inner.query)
        return ast.copy_with(node, query=inner.query, meta=inner.output[0].meta)

    # --- select list ----------------------------------------------------------------------------
    def select_items(
        self, items: tuple[ast.SelectItem | ast.SelectStar, ...], scope: _Scope
    ) -> tuple[list[ast.SelectItem], list[ast.SelectItem]]:
        """The select list as written (stars expanded) and resolved, item by item."""
        written: list[ast.SelectItem] = []
        result: list[ast.SelectItem] = []
        for item in items:
            if isinstance(item, ast.SelectStar):
                expanded = self.star(item, scope)
                written.extend(expanded)
                result.extend(expanded)
            else:
                written.append(item)
                result.append(ast.copy_with(item, expr=self.expr(item.expr, scope)))
        return written, result

    def star(self, item: ast.SelectStar, scope: _Scope) -> list[ast.SelectItem]:
        sources = scope.sources
        merged_done: set[str] = set()
        result = []
        if item.qualifier is not None:
            sources = [s for s in scope.sources if s.answers_to(item.qualifier)]
            if not sources:
                q = ".".join(p.name for p in item.qualifier)
                raise ADQLError.at(ADQLCode.UNKNOWN_TABLE, f"'{q}.*' does not name a table of the FROM clause", item)
        else:
            # SQL: the columns of NATURAL/USING joins come first, once.
            for key, (aliases, meta) in scope.merged.items():
                merged = ast.MergedColumn(aliases, meta, pos=item.pos, meta=meta)
                result.append(ast.SelectItem(merged, pos=item.pos))
                merged_done.add(key)
        for source in sources:
            for column in source.columns:
                if column.name.lower() in merged_done and source.sql_alias in scope.merged[column.name.lower()][0]:
                    continue
                resolved = ast.ResolvedColumn(source.sql_alias, column, pos=item.pos, meta=column)
                result.append(ast.SelectItem(resolved, pos=item.pos))
        return result


def _named(meta: ColumnMeta, name: str) -> ColumnMeta:
    """``meta`` under the output name ``name`` (itself when it has that name already: a column as
    it is, the 34 of an ObsCore ``SELECT *``, is not copied)."""
    return meta if meta.name == name else replace(meta, name=name)


def _output_name(written: ast.SelectItem, resolved: ast.SelectItem) -> str:
    """The alias, a column's own name, a function's name (as written: the checker may have put
    the call in another form), else "expr"."""
    if written.alias is not None:
        return written.alias.name
    if isinstance(written.expr, ast.FunctionCall):
        return written.expr.name.lower()
    if isinstance(resolved.expr, ast.ResolvedColumn | ast.MergedColumn):
        return resolved.expr.column.name
    return "expr"


SQL_NAME_BYTES = 63  # PostgreSQL keeps this much of a name (NAMEDATALEN - 1) and drops the rest


def _check_sql_text(name: ast.Identifier) -> None:
    """A name the query gives that the SQL will carry (an alias, a WITH table, a derived column):
    valid ADQL that SQL text cannot carry (a NUL) is refused here, where the query wrote it."""
    try:
        quote_ident(name.name)
    except SQLTextError as exc:
        raise ADQLError.at(ADQLCode.UNSUPPORTED, str(exc), name) from None


def _check_sql_names(names: list[str], node: ast.Node) -> None:
    """Names the SQL must tell apart (a subquery's columns, the WITH tables) must differ within
    the bytes PostgreSQL keeps of a name, or it confuses them (SQLSTATE 42702, 42712)."""
    seen: dict[bytes, str] = {}
    for name in names:
        kept = name.encode()[:SQL_NAME_BYTES].decode(errors="ignore")  # never half a character
        key = kept.encode()
        if key in seen and seen[key] == name:
            raise ADQLError.at(ADQLCode.AMBIGUOUS, f"'{name}' names two columns; give each its own name", node)
        if key in seen:
            raise ADQLError.at(
                ADQLCode.AMBIGUOUS,
                f"the names '{seen[key]}' and '{name}' begin with the same {SQL_NAME_BYTES} bytes, all the "
                "database keeps of a name, so it cannot tell them apart; shorten one of them",
                node,
            )
        seen[key] = name


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


def resolve(query: ast.Query | ast.SetQuery, catalog: Catalog) -> ResolvedQuery:
    """Resolve every name in ``query`` against ``catalog``; raise ``ADQLError`` if one is unknown."""
    return _Resolver(catalog).query_expr(query, None)


def _written(schema: ast.Identifier | None) -> str:
    return schema.name if schema is not None else "schema"
