"""Shard servers of a sharded catalogue, as the coordinator knows them: a ``postgres_fdw`` foreign
server per shard (named from the shard's address, so the same server keeps its name however the
operator lists it), and the remote tables a catalogue's foreign partitions read. Shared by the
ingest (which creates them) and the drop (which removes the remote tables too).

The partition key is the one the ADQL translator covers (docs: wp29 interface): the HEALPix
order-12 nested index of the catalogue's main position.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgsql_text.pgsphere import healpix_key_sql
from pgsql_text.quoting import quote_ident, quote_string

SERVER_PREFIX = "dalserver_shard_"
KEY_ORDER = 12
# postgres_fdw's default fetch_size is 100 rows a round trip: far too few for catalogue scans.
FETCH_SIZE = 10_000


def key_expression(ra: str, dec: str) -> str:
    """The partition key over the (unquoted) position columns: exactly what the translator covers."""
    return healpix_key_sql(KEY_ORDER, quote_ident(ra), quote_ident(dec))


def shard_address(url: str) -> str:
    """Host (or socket directory), port and database of a shard's libpq URL; never a password."""
    info = conninfo_to_dict(url)
    return f"{info.get('host') or 'localhost'}:{info.get('port') or 5432}/{info.get('dbname') or ''}"


def foreign_server_name(url: str) -> str:
    """The coordinator's foreign server for the shard at ``url``, one per address, readable in
    error messages: its host (a socket directory's last two parts), port and database, and a
    digest of the whole address so that two never share a name."""
    info = conninfo_to_dict(url)
    host = str(info.get("host") or "localhost")
    if host.startswith("/"):
        host = "_".join(host.rstrip("/").split("/")[-2:])
    readable = re.sub(r"[^a-z0-9]+", "_", f"{host}_{info.get('port') or 5432}_{info.get('dbname') or ''}".lower())
    digest = hashlib.sha1(shard_address(url).encode()).hexdigest()[:6]
    return f"{SERVER_PREFIX}{readable.strip('_')[:34]}_{digest}"


def _server_options(url: str) -> dict[str, str]:
    info = conninfo_to_dict(url)
    options = {k: str(v) for k, v in info.items() if k in ("host", "hostaddr", "port", "dbname", "sslmode") and v}
    options.update(extensions="pg_sphere", async_capable="true", fetch_size=str(FETCH_SIZE))
    return options


def _user_options(url: str, superuser: bool) -> dict[str, str]:
    info = conninfo_to_dict(url)
    options = {k: str(v) for k, v in info.items() if k in ("user", "password") and v}
    if "password" not in options and superuser:
        # A superuser may let the shard's own authentication (a Unix socket's peer or trust
        # rule, a .pgpass) decide; postgres_fdw otherwise demands a password for non-superusers.
        options["password_required"] = "false"
    return options


def _options_sql(options: dict[str, str], verb: str = "") -> str:
    return ", ".join(f"{verb}{k} {quote_string(v)}" for k, v in options.items())


def ensure_foreign_server(conn: psycopg.Connection, url: str) -> str:
    """Create or update the coordinator's foreign server and user mapping for the shard at ``url``;
    returns the server's name. Run within the caller's transaction."""
    name = foreign_server_name(url)
    row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    server, user = _server_options(url), _user_options(url, superuser=bool(row and row[0]))
    conn.execute("CREATE EXTENSION IF NOT EXISTS postgres_fdw")
    row = conn.execute("SELECT srvoptions FROM pg_foreign_server WHERE srvname = %s", (name,)).fetchone()
    if row is None:
        conn.execute(
            f"CREATE SERVER {quote_ident(name)} FOREIGN DATA WRAPPER postgres_fdw OPTIONS ({_options_sql(server)})"
        )
        conn.execute(f"CREATE USER MAPPING FOR PUBLIC SERVER {quote_ident(name)} OPTIONS ({_options_sql(user)})")
        return name
    have = dict(o.split("=", 1) for o in row[0] or [])
    changes = [f"{'SET' if k in have else 'ADD'} {k} {quote_string(v)}" for k, v in server.items() if have.get(k) != v]
    if changes:
        conn.execute(f"ALTER SERVER {quote_ident(name)} OPTIONS ({', '.join(changes)})")
    conn.execute(f"DROP USER MAPPING IF EXISTS FOR PUBLIC SERVER {quote_ident(name)}")
    conn.execute(f"CREATE USER MAPPING FOR PUBLIC SERVER {quote_ident(name)} OPTIONS ({_options_sql(user)})")
    return name


@dataclass(frozen=True)
class RemoteTable:
    """A table on a shard that one of the coordinator's foreign partitions reads."""

    server: str  # the coordinator's foreign server
    conninfo: str  # how to reach the shard from here (the server's and user mapping's options)
    schema: str
    name: str
    low: int | None = None  # the partition's key range [low, high), when known (None: unbounded)
    high: int | None = None

    @property
    def qualified(self) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(self.name)}"


def remote_tables_sql(qualified_name: str) -> str:
    """The query for the shard tables behind the foreign partitions of ``qualified_name``
    (schema.table, as published): one row (server, server options, user options, table options,
    partition bound) each; none for an ordinary table or one that does not exist."""
    schema, _, table = qualified_name.partition(".")
    return f"""
        SELECT s.srvname, s.srvoptions, um.umoptions, ft.ftoptions, pg_get_expr(c.relpartbound, c.oid)
        FROM pg_class parent
        JOIN pg_namespace n ON n.oid = parent.relnamespace
        JOIN pg_inherits i ON i.inhparent = parent.oid
        JOIN pg_foreign_table ft ON ft.ftrelid = i.inhrelid
        JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_foreign_server s ON s.oid = ft.ftserver
        LEFT JOIN pg_user_mappings um ON um.srvid = s.oid AND um.usename = 'public'
        WHERE n.nspname = {quote_string(schema.lower())} AND parent.relname = {quote_string(table.lower())}
        ORDER BY i.inhrelid
    """


def remote_tables_from_rows(
    qualified_name: str, rows: Sequence[tuple[str, list[str] | None, list[str] | None, list[str] | None, str | None]]
) -> list[RemoteTable]:
    """The rows of ``remote_tables_sql`` as shard tables."""
    schema, _, table = qualified_name.partition(".")
    found = []
    for server, server_options, user_options, table_options, bound in rows:
        reach = {
            k: v
            for k, v in {**_options(server_options), **_options(user_options)}.items()
            if k in ("host", "hostaddr", "port", "dbname", "sslmode", "user", "password")
        }
        where = _options(table_options)
        low, high = _range_bound(bound)
        found.append(
            RemoteTable(
                server,
                make_conninfo(**reach),
                where.get("schema_name", schema),
                where.get("table_name", table),
                low,
                high,
            )
        )
    return found


# As pg_get_expr writes a bound: FOR VALUES FROM (MINVALUE) TO ('67040396')
_BOUND = re.compile(r"FOR VALUES FROM \((MINVALUE|'?-?\d+'?)\) TO \((MAXVALUE|'?-?\d+'?)\)")


def _range_bound(bound: str | None) -> tuple[int | None, int | None]:
    """[low, high) of a range partition's bound as PostgreSQL writes it (None: unbounded, or not one)."""
    match = _BOUND.fullmatch((bound or "").strip())
    if match is None:
        return None, None
    low, high = (text.strip("'") for text in match.groups())
    return (None if low == "MINVALUE" else int(low)), (None if high == "MAXVALUE" else int(high))


def _options(values: list[str] | None) -> dict[str, str]:
    return dict(v.split("=", 1) for v in values or [])


def remote_tables(conn: psycopg.Connection, qualified_name: str) -> list[RemoteTable]:
    """The shard tables behind ``qualified_name``'s foreign partitions (none: not sharded)."""
    return remote_tables_from_rows(qualified_name, conn.execute(remote_tables_sql(qualified_name)).fetchall())


def drop_remote_tables(tables: list[RemoteTable]) -> list[str]:
    """Drop ``tables`` on their shards; returns what could not be dropped (a shard down), in words."""
    problems = []
    for remote in tables:
        try:
            with psycopg.connect(remote.conninfo, autocommit=True, connect_timeout=10) as conn:
                conn.execute(f"DROP TABLE IF EXISTS {remote.qualified}")
        except psycopg.Error as exc:
            problems.append(f"{remote.qualified} on shard {remote.server} ({_first_line(exc)})")
    return problems


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
