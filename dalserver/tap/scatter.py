"""TAP UPLOAD cross-matches with a sharded catalogue, scattered by the application: the query runs
on every shard with the upload bound to that shard's own session, against the shard's own table,
and the answers are merged here. The coordinator joining an upload with foreign partitions pulls
every shard's rows (minutes); each shard joining the whole upload with its own rows takes
milliseconds, and every catalogue row lives on one shard only, so the concatenation holds each
pair once, border rows included.

Only forms whose merge is exact are scattered: one published table (the sharded one) joined with
uploads, no aggregate, GROUP BY, DISTINCT, OFFSET, subquery or set operation, and ORDER BY only
on output columns of numbers, booleans or times (merged with PostgreSQL's rules for NULL and
NaN; text is left out because the servers' collations decide its order), and only inner joins
(an outer join keeps an upload row on every shard that has no match for it). Every other form
runs as it is on the coordinator through postgres_fdw: slower, equally right.

A plain positional cross-match sends each shard only the upload rows whose circle reaches its
key range (dalserver.tap.upload_reach), and a shard needing none is not asked. The shard
sessions are kept open between queries (``ShardSessions``: opening one costs ~0.1 s, the
driver reading the server's types), their uploads cleared when a query is done with them.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace

import pyarrow as pa
import pyarrow.compute as pc
from psycopg.conninfo import make_conninfo

from adql import Catalog, ast, parse, resolve
from adql.dialects.postgres import PostgresDialect
from adql.functions import is_aggregate
from archive_io.shards import RemoteTable, remote_tables_from_rows, remote_tables_sql
from dalserver.db.adbc import ArrowConnection, ArrowStatement
from dalserver.db.errors import QueryCancelled, ShardUnavailable, database_fault, is_connection_lost
from dalserver.db.query import QueryServers, QueryStream, SessionSetup
from dalserver.tap.upload import UploadTable, bind_uploads
from dalserver.tap.upload_reach import UploadCells, UploadReach, column_values, pruned, upload_reach
from pgsql_text.session import READ_ONLY, setup_statements

CONNECT_SECONDS = 10
_ORDERABLE = ("short", "int", "long", "float", "double", "boolean", "unsignedByte")
_UNMERGEABLE = (ast.DerivedTable, ast.SetQuery, ast.ScalarSubquery, ast.InSubquery, ast.Exists, ast.CommonTable)


@dataclass(frozen=True)
class ScatterPlan:
    """How a query is run shard by shard and merged."""

    table: str  # the published table it reads (schema.table): scattered if it is sharded
    translate: Callable[[str], str]  # the SQL reading that table from the given SQL name instead
    order: tuple[tuple[int, bool], ...]  # ORDER BY as (output column index, descending)
    limit: int | None  # rows kept after the merge: TOP and MAXREC + 1
    reach: UploadReach | None = None  # a positional cross-match: each shard gets the upload rows it can match


def scatter_plan(text: str, catalog: Catalog, row_limit: int | None) -> ScatterPlan | None:
    """The plan for ``text`` if its form merges exactly, else None (it runs as it is)."""
    if row_limit == 0:
        return None
    resolved = resolve(parse(text), catalog)
    query = resolved.query
    if not isinstance(query, ast.Query) or query.distinct or query.group_by or query.having or query.offset:
        return None
    nodes = list(ast.walk(query))
    if any(isinstance(n, _UNMERGEABLE) for n in nodes):
        return None
    if any(isinstance(n, ast.FunctionCall) and not n.user_defined and is_aggregate(n) for n in nodes):
        return None
    if any(isinstance(n, ast.Join) and n.kind not in ("INNER", "CROSS") for n in nodes):
        return None
    # Besides the uploads, the one table (and it a plain one): the shard has nothing else.
    published = [n for n in nodes if isinstance(n, ast.ResolvedTable) and (n.schema or "").lower() != "tap_upload"]
    if len(published) != 1 or published[0].sql_name is not None or not published[0].schema:
        return None
    target = f"{published[0].schema}.{published[0].name}".lower()
    order = _order(query)
    if order is None:
        return None
    limits = [n for n in (query.top, row_limit) if n is not None]

    def translate(sql_name: str) -> str:
        tables = [replace(t, sql_name=sql_name) if t.qualified_name.lower() == target else t for t in catalog.tables]
        return PostgresDialect().translate(resolve(parse(text), Catalog(tables)), row_limit)

    return ScatterPlan(target, translate, order, min(limits) if limits else None, _reach(query, nodes, published[0]))


def _reach(query: ast.Query, nodes: list[ast.Node], table: ast.ResolvedTable) -> UploadReach | None:
    """The cross-match's reach, when one upload occurs once and meets the table by position."""
    if table.position_key is None:
        return None
    uploads = [n for n in nodes if isinstance(n, ast.ResolvedTable) and (n.schema or "").lower() == "tap_upload"]
    names = [u.name.lower() for u in uploads]
    once = {u.sql_alias: u.name.lower() for u in uploads if names.count(u.name.lower()) == 1}
    key = table.position_key
    return upload_reach(query, table.sql_alias, key.ra_column, key.dec_column, once)


def _order(query: ast.Query) -> tuple[tuple[int, bool], ...] | None:
    items = [s for s in query.select if isinstance(s, ast.SelectItem)]
    order = []
    for sort in query.order_by:
        if isinstance(sort.expr, ast.OutputRef):
            index = sort.expr.position - 1
        else:
            matches = [i for i, item in enumerate(items) if item.expr == sort.expr]
            if not matches:
                return None
            index = matches[0]
        meta = items[index].expr.meta if index < len(items) else None
        if meta is None or not (meta.xtype == "timestamp" or (meta.datatype in _ORDERABLE and not meta.xtype)):
            return None  # text (the servers' collations order it), geometry, arrays
        order.append((index, sort.descending))
    return tuple(order)


def merged(tables: list[pa.Table], order: tuple[tuple[int, bool], ...], limit: int | None) -> pa.Table:
    """The shards' answers as one, in PostgreSQL's order: NULLs last ascending and first
    descending, NaN above every number."""
    table = pa.concat_tables(tables)
    if order and table.num_rows:
        keys: list[tuple[str, str]] = []
        columns: dict[str, pa.ChunkedArray] = {}
        for i, (index, descending) in enumerate(order):
            column, direction = table.column(index), "descending" if descending else "ascending"
            columns[f"n{i}"] = pc.is_null(column)
            keys.append((f"n{i}", direction))
            if pa.types.is_floating(column.type):
                columns[f"f{i}"] = pc.fill_null(pc.is_nan(column), False)
                keys.append((f"f{i}", direction))
            columns[f"v{i}"] = column
            keys.append((f"v{i}", direction))
        indices = pc.sort_indices(pa.table(columns), sort_keys=keys)
        table = table.take(indices)
    return table.slice(0, limit) if limit is not None else table


class ScatterStream(QueryStream):
    """A query stream that runs a scatter plan when its table is sharded, and the query as it is
    on the coordinator (the stream it extends) otherwise."""

    def __init__(
        self,
        servers: QueryServers,
        plan: ScatterPlan,
        uploads: list[UploadTable],
        sql: str,
        timeout_seconds: float,
        batch_bytes: int,
        setup: SessionSetup | None,
    ):
        super().__init__(servers, sql, timeout_seconds, batch_bytes, setup)
        self.plan, self.uploads = plan, uploads
        self._result: pa.Table | None = None
        self._shard_statements: list[ArrowStatement] = []

    async def open(self) -> None:
        await self.connect()
        rows = await self.lookup(remote_tables_sql(self.plan.table))
        shards = remote_tables_from_rows(self.plan.table, [tuple(r.values()) for r in rows])
        if not shards:
            await super().open()
            return
        work = self._shares(shards)
        # The coordinator's session stays taken until close(): an ABORT recorded against its
        # backend must not reach another query's that took it from the pool meanwhile.
        answers = await asyncio.gather(
            *(asyncio.to_thread(self._on_shard, shard, uploads) for shard, uploads in work), return_exceptions=True
        )
        for answer in answers:
            if isinstance(answer, BaseException):
                self.cancel()
                raise answer
        self._result = merged([a for a in answers if isinstance(a, pa.Table)], self.plan.order, self.plan.limit)

    def _shares(self, shards: list[RemoteTable]) -> list[tuple[RemoteTable, list[UploadTable]]]:
        """Each shard to ask, with the uploads as it is to see them: of a positional cross-match's
        upload only the rows it can match; the shards needing none of them are not asked (but
        one always is, for the answer's columns)."""
        reach = self.plan.reach
        upload = next((u for u in self.uploads if reach and u.name.lower() == reach.upload), None)
        if reach is None or upload is None:
            return [(shard, self.uploads) for shard in shards]
        names = [c.name for c in upload.columns]
        try:
            cells = UploadCells(
                column_values(upload.data.column(names.index(reach.ra))),
                column_values(upload.data.column(names.index(reach.dec))),
                reach.radius_deg,
            )
        except (ValueError, pa.ArrowException):  # not numbers after all: every shard gets every row
            return [(shard, self.uploads) for shard in shards]
        work = []
        for shard in shards:
            mask = cells.rows_for(shard.low, shard.high)
            if mask.any():
                share = replace(upload, data=pruned(upload.data, mask))
                work.append((shard, [share if u is upload else u for u in self.uploads]))
        if not work:
            empty = replace(upload, data=upload.data.slice(0, 0))
            work.append((shards[0], [empty if u is upload else u for u in self.uploads]))
        return work

    def _on_shard(self, shard: RemoteTable, uploads: list[UploadTable]) -> pa.Table:
        if self._cancelled:
            raise QueryCancelled()
        conn: ArrowConnection | None = None
        reusable = False
        try:
            conn = SHARD_SESSIONS.take(shard)
            try:
                conn.run(f"SET statement_timeout = {self.timeout_ms}")
                bind_uploads(conn, uploads)
            except Exception as exc:
                if not (conn.reused and is_connection_lost(exc)):
                    raise
                stale, conn = conn, None
                with contextlib.suppress(Exception):
                    stale.close()  # it died waiting (the shard restarted): once more on a new one
                conn = SHARD_SESSIONS.open(shard)
                conn.run(f"SET statement_timeout = {self.timeout_ms}")
                bind_uploads(conn, uploads)
            statement = conn.statement()
            self._shard_statements.append(statement)
            if self._cancelled:
                raise QueryCancelled()
            try:
                answer = statement.query(self.plan.translate(shard.qualified), self.batch_bytes).read_all()
            finally:
                self._shard_statements.remove(statement)
                statement.close()
            clear_uploads(conn, uploads)
            reusable = True
            return answer
        except ShardUnavailable:
            raise
        except Exception as exc:
            if is_connection_lost(exc):
                raise ShardUnavailable(shard.server) from exc
            raise database_fault(exc, cancelled=self._cancelled) from exc
        finally:
            if conn is not None and reusable:
                SHARD_SESSIONS.give(shard, conn)
            elif conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()

    async def batches(self) -> AsyncIterator[pa.RecordBatch]:
        result = self._result
        if result is None:
            async for batch in super().batches():
                yield batch
            return
        row_bytes = max(1, result.nbytes // max(1, result.num_rows))
        for batch in result.to_batches(max_chunksize=max(1, self.batch_bytes // row_bytes)):
            yield batch

    @property
    def backend_cancels(self) -> bool:
        return False  # the work is on the shards: an ABORT must reach this process (cancel())

    def cancel(self) -> None:
        super().cancel()
        for statement in list(self._shard_statements):
            with contextlib.suppress(Exception):
                statement.cancel()


def clear_uploads(conn: ArrowConnection, uploads: list[UploadTable]) -> None:
    """Empty the session's upload settings: the next query on it must not see, nor the session
    hold, this one's rows."""
    names = [u.setting(i) for u in uploads for i in range(len(u.columns))]
    if names:
        conn.set_settings(names, [""] * len(names))


class ShardSessions:
    """This process's idle sessions on the shards, set up for queries, by shard: a scattered
    query takes one per shard and gives it back when it ended well (any failure closes it)."""

    def __init__(self, per_shard: int = 4):
        self.per_shard = per_shard
        self._idle: dict[str, list[ArrowConnection]] = {}
        self._lock = threading.Lock()

    def take(self, shard: RemoteTable) -> ArrowConnection:
        with self._lock:
            idle = self._idle.get(shard.conninfo)
            if idle:
                conn = idle.pop()
                conn.reused = True
                return conn
        return self.open(shard)

    def open(self, shard: RemoteTable) -> ArrowConnection:
        try:
            conn = ArrowConnection(make_conninfo(shard.conninfo, connect_timeout=CONNECT_SECONDS))
        except Exception as exc:
            raise ShardUnavailable(shard.server) from exc
        try:
            for setting in (*setup_statements("dalserver-query", query_session=True), READ_ONLY):
                conn.run(setting)
        except Exception as exc:
            conn.close()
            if is_connection_lost(exc):
                raise ShardUnavailable(shard.server) from exc
            raise
        return conn

    def give(self, shard: RemoteTable, conn: ArrowConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(shard.conninfo, [])
            if len(idle) < self.per_shard:
                idle.append(conn)
                return
        conn.close()


SHARD_SESSIONS = ShardSessions()
