"""ADBC's PostgreSQL driver through the driver manager's own API, not its DB-API module.

``adbc_driver_manager.dbapi`` imports ``pyarrow.dataset`` at import time (and with it pyarrow's
Parquet, S3 and file-system libraries) for a convenience dalserver never uses: 11 MB of every
worker's resident memory, 16 MB when the libraries were just installed (freshly written pages sit
in large page-cache folios, which a process maps whole). What dalserver needs of the driver is
small: run a statement, read a result as Arrow batches, cancel, set session settings; it is all here.

The errors are the driver manager's own (``adbc_driver_manager.Error`` and its subclasses, with
``sqlstate``), the same the DB-API module raises. Every call blocks: use a connection from one
thread at a time (``cancel()`` excepted, which is meant to be called from another).
"""

from __future__ import annotations

import contextlib
from typing import Any

import adbc_driver_postgresql
import pyarrow as pa
from adbc_driver_manager import AdbcConnection, AdbcDatabase, AdbcStatement, ArrowArrayStreamHandle
from adbc_driver_manager._reader import AdbcRecordBatchReader

from dalserver.db.prepared import PreparedStatements
from pgsql_text.quoting import quote_string


class ArrowConnection:
    """One database session, with what dalserver keeps about it."""

    def __init__(self, url: str):
        self._database: AdbcDatabase = adbc_driver_postgresql.connect(url)
        try:
            self._connection = AdbcConnection(self._database)  # ADBC connections start in autocommit
        except BaseException:
            self._database.close()
            raise
        self.backend_pid = 0
        self.reused = False  # it waited in the pool (and may have lost its server meanwhile)
        self.statement_timeout_ms: int | None = None  # the session's statement_timeout, once set
        self.prepared = PreparedStatements()  # the small queries' texts it has run, some prepared
        self._kept: ArrowStatement | None = None

    def statement(self) -> ArrowStatement:
        return ArrowStatement(AdbcStatement(self._connection))

    def kept_statement(self) -> ArrowStatement:
        """The statement the session's small queries run on, one after the other, open as long
        as the session: making a statement, setting its options and closing it are driver calls
        that each let go of the GIL, and a query's thread waits to have it back after each while
        the event loop and the other queries' threads run. Its ``close()`` closes its result only."""
        if self._kept is None:
            self._kept = ArrowStatement(AdbcStatement(self._connection), kept=True)
        return self._kept

    def run(self, sql: str) -> None:
        """A statement whose result (if any) is not needed: a setting, one row at most."""
        with contextlib.closing(self.statement()) as stmt:
            stmt.run(sql, copy=False)

    def rows(self, sql: str) -> list[dict[str, Any]]:
        """A small result, as Python rows."""
        with contextlib.closing(self.statement()) as stmt:
            rows: list[dict[str, Any]] = stmt.query(sql).read_all().to_pylist()
            return rows

    def set_settings(self, names: list[str], values: list[str]) -> None:
        """Session settings ``names`` (custom ``prefix.name``s) to ``values``, bound as
        parameters: however large a value, no SQL text carries it."""
        calls = ", ".join(f"set_config({quote_string(n)}, ${i}, false) IS NULL" for i, n in enumerate(names, start=1))
        statement = AdbcStatement(self._connection)
        try:
            statement.set_sql_query(f"SELECT {calls}")
            statement.bind(
                pa.record_batch(
                    [pa.array([v], pa.string()) for v in values], names=[f"p{i}" for i in range(len(values))]
                )
            )
            handle, _ = statement.execute_query()
            AdbcRecordBatchReader._import_from_c(handle.address).read_all().num_rows  # noqa: B018  # run to its end
        finally:
            statement.close()

    def close(self) -> None:
        kept, self._kept = self._kept, None
        try:
            if kept is not None:
                kept.close_statement()  # the driver refuses to close a connection with a statement open
        finally:
            try:
                self._connection.close()
            finally:
                self._database.close()


class ArrowStatement:
    """One statement on a connection: run SQL on it, read the last result, cancel it, close it."""

    def __init__(self, statement: AdbcStatement, kept: bool = False):
        self._statement = statement
        self._reader: AdbcRecordBatchReader | None = None
        self._copy = True  # the driver's default
        self._kept = kept  # its session's kept statement (ArrowConnection.kept_statement)

    def run(self, sql: str, copy: bool = True) -> None:
        """A statement whose result is not read (SET, CREATE, ANALYZE; a SELECT's rows are dropped).
        ``copy=False`` for one with no rows or few (SET, PREPARE): one round trip instead of the
        three of a statement prepared, described, then run."""
        self._use_copy(copy)
        self._execute(sql).release()

    def query(self, sql: str, batch_bytes: int | None = None, copy: bool = True) -> pa.RecordBatchReader:
        """The result's batches, of about ``batch_bytes`` each (the driver's default otherwise).
        The reader raises ADBC's own errors, with their SQLSTATE, after the first batch as well
        (the bare pyarrow reader would raise OSErrors with only a message).

        Without ``copy``, the result is read in one round trip, whole, instead of through a
        prepared statement's description and a ``COPY ... TO STDOUT``: for a result known to be
        small (0.3 ms against 0.6 for a 50-row cone), never for one that may be large. The Arrow
        types and values are the same (both read PostgreSQL's binary format)."""
        if batch_bytes is not None and copy:  # without COPY the driver reads a result whole, one batch
            self._statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(batch_bytes)})
        self._use_copy(copy)
        handle = self._execute(sql)  # held until imported: a freed handle releases its stream
        self._reader = AdbcRecordBatchReader._import_from_c(handle.address)
        return self._reader

    def _use_copy(self, copy: bool) -> None:
        if copy != self._copy:  # an option stays set on the statement until changed
            self._statement.set_options(**{"adbc.postgresql.use_copy": "true" if copy else "false"})
            self._copy = copy

    def cancel(self) -> None:
        """Stop what the statement runs (from any thread)."""
        self._statement.cancel()

    def close(self) -> None:
        """Its result closed, and the statement too unless it is its session's kept one."""
        if self._kept:
            self.close_result()
        else:
            self.close_statement()

    def close_result(self) -> None:
        """The last result's reader closed (if still open); the statement stays."""
        self._close_reader()

    def close_statement(self) -> None:
        try:
            self._close_reader()
        finally:
            self._statement.close()

    def _execute(self, sql: str) -> ArrowArrayStreamHandle:
        self._close_reader()  # a statement has one result at a time
        self._statement.set_sql_query(sql)
        handle: ArrowArrayStreamHandle
        handle, _ = self._statement.execute_query()
        return handle

    def _close_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
