"""The live rows of a federated search, handed to the query's session as TAP uploads are
(``dalserver.tap.upload``): one array per column, each the value of a session setting, bound as a
parameter (no SQL text carries a remote value), read back by the query as ``unnest(...)``.
Nothing is written, so the search runs on a hot standby as on the primary.

pgsphere has the last word on a footprint: the live s_region values are cast in one read-only
SELECT, and only when that fails are they bisected to find the ones pgsphere refuses (a probe is a
setting and a SELECT, autocommit statements: a failed one is its own transaction and leaves the
session as it was); their rows are left out (and counted), the others handed on. pgsphere's
reading of a polygon is the cost here (a millisecond or two for a circle's 32 vertices): the
query reads each once more, and each refused footprint costs about 2 log2(n) probes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from dalserver.db.adbc import ArrowConnection
from dalserver.db.errors import sqlstate_of
from dalserver.federated.live import LIVE_SCHEMA, LIVE_SQL_TYPES, LiveOutcome
from dalserver.tap.upload import array_text
from pgsql_text.quoting import quote_ident, quote_string

ORDER_COLUMN = "live_row"  # the services' order, then the rows': the first of equal URLs is kept
_PREFIX = "dalserver_live"
_PROBE = f"{_PREFIX}.probe"  # the s_region values one bisection step casts
# What a cast that pgsphere (or the array's reader) refuses raises: pgsphere's elog(ERROR) is
# XX000, a malformed array 22P02. Anything else (a lost connection, a cancel, a timeout) is no
# verdict on a footprint and ends the query as it would any other.
_REFUSALS = ("XX", "22")
_ARRAY_TYPES = {"s_region": "text"}  # columns handed over as text, cast row by row (live_source)


def setting(column: str) -> str:
    """The session setting that holds the live rows' ``column`` (names are letters, digits and
    underscores: a valid custom setting name)."""
    return f"{_PREFIX}.{column}"


def _cast(name: str, sql_type: str) -> str:
    return f"current_setting({quote_string(name)})::{sql_type}[]"


def live_source() -> str:
    """What FROM names for the live rows: the columns' arrays, side by side, as rows of the cache's
    types, numbered in order (``live_row``)."""
    # s_region comes as text and is cast row by row: an array of spoly would be parsed at planning
    # too (the planner reads a setting's array to count its rows), and pgsphere's reading of a
    # polygon is what costs (some milliseconds for a circle's 32 vertices). OFFSET 0 keeps the
    # subquery whole, so each row's footprint is cast once, not once for each mention.
    arrays = ", ".join(_cast(setting(c.name), _ARRAY_TYPES.get(c.name, LIVE_SQL_TYPES[c.name])) for c in LIVE_SCHEMA)
    names = ", ".join(quote_ident(c.name) for c in LIVE_SCHEMA)
    columns = ", ".join(
        f"CAST(l.{quote_ident(c.name)} AS {LIVE_SQL_TYPES[c.name]}) AS {quote_ident(c.name)}"
        if c.name in _ARRAY_TYPES
        else f"l.{quote_ident(c.name)}"
        for c in LIVE_SCHEMA
    )
    return (
        f"(SELECT {columns}, l.{ORDER_COLUMN} FROM unnest({arrays}) WITH ORDINALITY "
        f"AS l({names}, {ORDER_COLUMN}) OFFSET 0)"
    )


def live_rows(outcomes: list[LiveOutcome]) -> pa.Table:
    """Every service's rows (LIVE_SCHEMA), in the services' order."""
    tables = [o.rows for o in outcomes if o.rows is not None and o.rows.num_rows]
    return pa.concat_tables(tables) if tables else LIVE_SCHEMA.empty_table()


def bind_live_rows(conn: ArrowConnection, rows: pa.Table) -> None:
    """Hand ``rows`` to the session on ``conn`` (a read-only one will do)."""
    conn.set_settings([setting(c.name) for c in LIVE_SCHEMA], [array_text(rows.column(c.name)) for c in LIVE_SCHEMA])


def _accepted(conn: ArrowConnection, name: str) -> bool:
    """Whether pgsphere takes every footprint in the setting ``name``. A failed statement is
    its own transaction (ADBC's connections are in autocommit): the session goes on as before."""
    try:
        conn.rows(f"SELECT {_cast(name, 'spoly')} IS NULL AS absent")
    except Exception as exc:
        if (sqlstate_of(exc) or "")[:2] not in _REFUSALS:
            raise
        return False
    return True


def refused_indexes(accepts: Callable[[int, int], bool], start: int, stop: int) -> list[int]:
    """The indexes of [start, stop), a range known to hold a refused value, whose values
    ``accepts(lo, hi)`` (whether every value of [lo, hi) is taken) refuses, found by bisection:
    about 2 log2(n) probes for each refused value. When the first half is taken, the refused
    value is in the second, which is not probed as a whole."""
    if stop - start == 1:
        return [start]
    middle = (start + stop) // 2
    if accepts(start, middle):
        return refused_indexes(accepts, middle, stop)
    first = refused_indexes(accepts, start, middle)
    return first + ([] if accepts(middle, stop) else refused_indexes(accepts, middle, stop))


def _bisect(conn: ArrowConnection, regions: pa.Array) -> list[int]:
    def accepts(lo: int, hi: int) -> bool:
        conn.set_settings([_PROBE], [array_text(regions.slice(lo, hi - lo))])
        return _accepted(conn, _PROBE)

    return refused_indexes(accepts, 0, len(regions))


def prepare_live_rows(conn: ArrowConnection, rows: pa.Table) -> Counter[str]:
    """Hand ``rows`` to the session, less those whose footprint pgsphere refuses: how many of
    those each source had."""
    bind_live_rows(conn, rows)
    if _accepted(conn, setting("s_region")):
        return Counter()
    refused = pa.array(_bisect(conn, rows.column("s_region").combine_chunks()), pa.int64())
    keep = pc.invert(pc.is_in(pa.array(range(rows.num_rows), pa.int64()), value_set=refused))
    bind_live_rows(conn, rows.filter(keep))
    # The rows handed on are cast as one once more: should they still fail (a cast that fails for
    # some other reason than a footprint), the query fails with the database's own error here.
    conn.rows(f"SELECT {_cast(setting('s_region'), 'spoly')} IS NULL AS absent")
    return Counter(rows.column("source_ivoid").take(refused).to_pylist())
