"""Small queries whose SQL text a session has run before, answered from a prepared statement.

PostgreSQL spends most of a small query parsing and planning it (a cone 0.1 ms, an ObsCore search
through ``dalserver.published_obscore`` 0.3 ms, against 0.02-0.07 ms executing it). A statement
prepared on the session (``PREPARE``) is parsed once, and one without parameters is planned once
(its generic plan is the plan: nothing is left to bind), so ``EXECUTE`` runs it at once.

A text is prepared the second time its session meets it: preparing costs a round trip of its own,
which a text seen once would never win back. Only so many stay prepared per session, the least
recently run deallocated first, and the texts seen once are remembered up to a bound as well.

A cone at new coordinates is a new text, but not a new shape: a query answered from an SQL
template (adql.cache) comes with its SQL in ``$1`` ... ``$n`` form (``Parameterized``), and that
form, with the parameters' types, is what is prepared; ``EXECUTE name(34.5, -5.2)`` then runs
it with the query's own numbers. Each parameter has the type PostgreSQL gives the literal it
stands for (``numeric`` for a decimal, ``integer`` or ``bigint`` by an integer's size, one
statement for each set of types), so operators and functions resolve as for the text itself;
the translator reads (and keeps as written) every number whose value decides the SQL (a
circle's radius, an ORDER BY position, ...), so only the numbers it copies become parameters.
PostgreSQL plans the first five executions for their values and then keeps a generic plan if it
costs no more. An SIA query comes parameterized as well, each of its pgsphere constants a
parameter of the constant's type whose value is the constant's own expression (dalserver.sia.query).

The answer is the same as the plain text's: ``EXECUTE`` returns the statement's own result
description, so the same types in the same binary format, and PostgreSQL plans it again by itself
when what it reads changes (a table re-created or analysed, a function replaced). The one case it
refuses, a result whose columns changed type, is deallocated and the text run plain, as new.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from itertools import count

import pyarrow as pa
from adbc_driver_manager import Error as AdbcError

from adql.translate import Parameterized
from dalserver.db.errors import sqlstate_of

KEEP = 8  # statements prepared per session: each holds its plan in the server process (an ObsCore search ~0.1 MB)
REMEMBER = 64  # texts seen once remembered per session
LONGEST = 16_000  # characters: a longer text is never remembered (the memory it would keep)
# "cached plan must not change result type": a prepared statement whose columns changed type.
CACHED_PLAN_CHANGED = "0A000"

# Runs a statement whose result is not read; and runs a query, handing back its result.
Run = Callable[[str], None]
Query = Callable[[str], pa.RecordBatchReader]


class PreparedStatements:
    """The texts one session has run, and the statements it holds prepared for them (used from one
    thread at a time, as the session is)."""

    def __init__(self, keep: int = KEEP, remember: int = REMEMBER):
        self.keep = keep
        self.remember = remember
        # Keyed by the text, or for a parameterized one by "(types) AS sql" (what PREPARE is given)
        self._seen: OrderedDict[str, None] = OrderedDict()  # keys run once, oldest first
        self._names: OrderedDict[str, str] = OrderedDict()  # key -> prepared name, least recent first
        self._numbers = count(1)

    @property
    def prepared(self) -> dict[str, str]:
        """Key (text, or "(types) AS sql") -> name of each statement the session holds prepared."""
        return dict(self._names)

    def query(
        self, sql: str, run: Run, query: Query, parameterized: Parameterized | None = None
    ) -> pa.RecordBatchReader:
        """The result of ``sql``: ``query(sql)`` the first time, ``EXECUTE`` of its prepared
        statement from the second on (``run`` prepares and deallocates). With ``parameterized``
        (the same SQL with its numbers as parameters) the statement is that one's, and serves
        every query of its shape: the cones of one radius anywhere."""
        if parameterized is None:
            key, body, arguments = sql, f"AS {sql}", ""
        else:
            body = f"({', '.join(parameterized.types)}) AS {parameterized.sql}"
            key, arguments = body, f"({', '.join(parameterized.values)})"
        name = self._names.get(key)
        if name is None:
            if len(key) > LONGEST:
                return query(sql)
            if key not in self._seen:
                reader = query(sql)
                self._seen[key] = None
                if len(self._seen) > self.remember:
                    self._seen.popitem(last=False)
                return reader
            name = self._prepare(key, body, run)
        else:
            self._names.move_to_end(key)
        try:
            return query(f"EXECUTE {name}{arguments}")
        except AdbcError as exc:
            if sqlstate_of(exc) != CACHED_PLAN_CHANGED:
                raise
        self._deallocate(key, run)
        self._seen[key] = None  # prepared again next time, with the new columns
        return query(sql)

    def _prepare(self, key: str, body: str, run: Run) -> str:
        if len(self._names) >= self.keep:
            self._deallocate(next(iter(self._names)), run)
        name = f"dalserver_{next(self._numbers)}"
        run(f"PREPARE {name} {body}")
        del self._seen[key]
        self._names[key] = name
        return name

    def _deallocate(self, sql: str, run: Run) -> None:
        run(f"DEALLOCATE {self._names[sql]}")
        del self._names[sql]
