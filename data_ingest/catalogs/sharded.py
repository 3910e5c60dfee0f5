"""Publish a catalogue split by sky region over shard PostgreSQL servers: on the coordinator (the
archive's database) a table ``PARTITION BY RANGE`` of the position's HEALPix order-12 index whose
partitions are ``postgres_fdw`` foreign tables, one per shard, each holding a balanced share of
the rows (bounds at the key's row-count quantiles).

All or nothing, like the ordinary ingest: the file is loaded once into an unlogged staging table
on the coordinator, whose stored generated column computes each row's key once, as it arrives;
each shard copies its key range from there into a table of a new name (all shards at once, COPY
binary straight from one server to the other through this process: the shards' concurrent scans
of the staging table share one pass through PostgreSQL's synchronised scans, and each compares
a stored integer) and indexes it as soon as its rows are in; then one coordinator transaction
swaps the partitioned table in with its TAP_SCHEMA rows (the coverage map read from the staging
copy, not pulled back from the shards). A failure anywhere before that commit drops the new shard
tables and leaves the previous version served everywhere; the replaced version's shard tables
are dropped after it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
from tqdm import tqdm

from archive_io.coverage import import_in_background
from archive_io.shards import (
    KEY_ORDER,
    RemoteTable,
    drop_remote_tables,
    ensure_foreign_server,
    foreign_server_name,
    key_expression,
    remote_tables,
    shard_address,
)
from archive_io.table_readers import CatalogError, open_catalog
from data_ingest.catalogs.publish import (
    PublishReport,
    Sidecar,
    _create_indexes,
    copy_errors_named,
    describe_table,
    load_rows,
    parse_table_name,
    position_index_choice,
    publish_metadata,
)
from pgsql_text.quoting import quote_ident, quote_string
from pgsql_text.session import SPHERE_OUTPUT_DEGREES
from schemas.ddl import create_table_sql
from schemas.model import TableDef

COPY_BUFFER = 1 << 20
# The shard bounds need only balance the shards, not split them exactly: above this many rows
# the quantiles are those of a sample of the staging table's pages, which spares a sort of every key.
QUANTILE_SAMPLE_ROWS = 1_000_000
# A shard's index builds sort its rows; PostgreSQL's default (64 MB) spills a large shard's to disk.
SHARD_INDEX_MEMORY = "256MB"


@dataclass(frozen=True)
class Part:
    """One foreign partition: the shard at ``url`` holds the keys in [low, high) (None: unbounded).
    The first one also holds the rows without a position: no position predicate can select them
    (so no pruning decision concerns them) and a scan of every partition reads them once."""

    url: str
    low: int | None
    high: int | None

    def where(self, key: str) -> str:
        terms = []
        if self.low is not None:
            terms.append(f"{key} >= {self.low}")
        if self.high is not None:
            terms.append(f"{key} < {self.high}")
        return " AND ".join(terms) or "true"

    def bounds(self) -> str:
        low = "MINVALUE" if self.low is None else str(self.low)
        high = "MAXVALUE" if self.high is None else str(self.high)
        return f"FROM ({low}) TO ({high})"


def publish_sharded_catalog(
    conn: psycopg.Connection,
    coordinator_url: str,
    path: Path,
    table_name: str,
    shard_urls: list[str],
    sidecar_path: Path | None = None,
    progress: bool = True,
    warn: Callable[[str], None] | None = None,
    position_index: str | None = None,
) -> PublishReport:
    """Load ``path`` as ``table_name`` split over ``shard_urls`` (replacing any previous version).
    ``position_index`` (gist, healpix, both: the index each shard builds) overrides the sidecar's."""
    started = time.monotonic()
    if not shard_urls:
        raise CatalogError("no shard servers to split the catalogue over: list them in DALSERVER_SHARDS")
    if len({shard_address(u) for u in shard_urls}) != len(shard_urls):
        raise CatalogError("the same shard server is listed twice")
    schema, table = parse_table_name(table_name)
    sidecar = Sidecar.load(sidecar_path)
    if position_index is not None:
        sidecar.position_index = position_index_choice(position_index, "--position-index")
    source = open_catalog(path, csv_nulls=sidecar.nulls)
    definition, notes = describe_table(source, schema, table, sidecar)
    if definition.position is None:
        raise CatalogError(
            f"{path}: a sharded catalogue is split by sky position, and none was found: "
            "name it in the metadata file (position: [ra, dec])"
        )
    for note in notes:
        if warn:
            warn(note)
    key = key_expression(*definition.position)
    import_in_background()  # the coverage map's library, ready when the shards are loaded
    token = secrets.token_hex(4)
    staging = f"{quote_ident(schema)}.{quote_ident(f'{table[:40]}_staging_{token}')}"
    remote_name = f"{table[:40]}_{token}"
    stored_key = quote_ident(f"shard_key_{token}")  # no catalogue column has the token in its name
    created: list[RemoteTable] = []
    try:
        with copy_errors_named(path, source), conn.transaction():
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
            conn.execute(create_table_sql(definition, name=staging).replace("CREATE TABLE", "CREATE UNLOGGED TABLE", 1))
            conn.execute(f"ALTER TABLE {staging} ADD COLUMN {stored_key} bigint GENERATED ALWAYS AS ({key}) STORED")
            rows = load_rows(conn, source, definition, staging, progress)
        load_seconds = time.monotonic() - started
        parts = _balanced_parts(conn, staging, stored_key, shard_urls, rows)
        created = [
            RemoteTable(foreign_server_name(p.url), p.url, schema, remote_name) for p in parts
        ]  # before any exists: a failure drops what was made
        _fill_shards(coordinator_url, definition, staging, stored_key, parts, created, sidecar.position_index, progress)
        with conn.transaction():
            replaced = remote_tables(conn, f"{schema}.{table}")
            _swap_in(conn, definition, key, parts, created)
            publish_metadata(conn, definition, sidecar.access_group, rows, read_from=staging)
            _record_position_key(conn, definition)
    except BaseException:
        for problem in drop_remote_tables(created):
            if warn:
                warn(f"could not remove the partial {problem}: drop it there by hand")
        raise
    finally:
        conn.rollback()  # whatever a failure left open
        with conn.transaction():
            conn.execute(f"DROP TABLE IF EXISTS {staging}")
    for problem in drop_remote_tables(replaced):
        if warn:
            warn(f"could not drop the replaced {problem}: drop it there by hand")
    return PublishReport(f"{schema}.{table}", rows, time.monotonic() - started, load_seconds, notes)


def _balanced_parts(
    conn: psycopg.Connection, staging: str, stored_key: str, shard_urls: list[str], rows: int
) -> list[Part]:
    """One key range per shard, cut at the key's quantiles (those of a sample of pages for a
    large catalogue) so the shards hold about as many rows each; the first one also holds the
    rows without a position. Fewer parts when the keys do not spread so far (a tiny catalogue)."""
    fractions = [i / len(shard_urls) for i in range(1, len(shard_urls))]
    cuts: list[int] = []
    if fractions:
        sample = ""
        if rows > QUANTILE_SAMPLE_ROWS:
            sample = f" TABLESAMPLE SYSTEM ({100 * QUANTILE_SAMPLE_ROWS / rows:.6f}) REPEATABLE (29)"
        row = conn.execute(
            f"SELECT percentile_disc(%s::float8[]) WITHIN GROUP (ORDER BY {stored_key}) FROM {staging}{sample}",
            (fractions,),
        ).fetchone()
        cuts = sorted({int(c) for c in (row[0] if row and row[0] else []) if c is not None})
    conn.commit()
    edges: list[int | None] = [None, *[c for c in cuts if c > 0], None]
    return [Part(url, edges[i], edges[i + 1]) for i, url in enumerate(shard_urls[: len(edges) - 1])]


def _fill_shards(
    coordinator_url: str,
    definition: TableDef,
    staging: str,
    stored_key: str,
    parts: list[Part],
    tables: list[RemoteTable],
    position_index: str,
    progress: bool,
) -> None:
    """Copy each part into its new shard table and index it there, all shards at once."""
    bar = tqdm(total=len(parts), desc="loading and indexing shards", unit="shard", disable=not progress)
    with ThreadPoolExecutor(max_workers=len(parts), thread_name_prefix="shard-load") as pool:
        futures = [
            pool.submit(
                _fill_shard, coordinator_url, definition, staging, stored_key, part, remote, position_index, i == 0
            )
            for i, (part, remote) in enumerate(zip(parts, tables, strict=True))
        ]
        failures = []
        for future, remote in zip(futures, tables, strict=True):
            try:
                future.result()
                bar.update()
            except Exception as exc:  # every shard's fate is waited for before any cleanup
                failures.append(f"shard {remote.server} ({shard_address(remote.conninfo)}): {_first_line(exc)}")
    bar.close()
    if failures:
        raise CatalogError("loading the shards failed, nothing was published: " + "; ".join(failures))


def _fill_shard(
    coordinator_url: str,
    definition: TableDef,
    staging: str,
    stored_key: str,
    part: Part,
    remote: RemoteTable,
    position_index: str,
    nulls: bool,
) -> None:
    columns = ", ".join(quote_ident(c.name) for c in definition.columns)
    where = f"({part.where(stored_key)})" + (f" OR {stored_key} IS NULL" if nulls else "")
    with (
        psycopg.connect(remote.conninfo, connect_timeout=10) as shard,
        psycopg.connect(coordinator_url) as source,
    ):
        shard.execute("CREATE EXTENSION IF NOT EXISTS pg_sphere")
        shard.execute(SPHERE_OUTPUT_DEGREES)
        shard.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(remote.schema)}")
        # Created in the COPY's transaction, so that COPY may write its rows frozen (no later pass
        # of VACUUM over the whole table to freeze them); a failure rolls both back.
        shard.execute(create_table_sql(definition, name=remote.qualified))
        with (
            source.cursor().copy(
                f"COPY (SELECT {columns} FROM {staging} WHERE {where}) TO STDOUT (FORMAT binary)"
            ) as out,
            shard.cursor().copy(f"COPY {remote.qualified} ({columns}) FROM STDIN (FORMAT binary, FREEZE)") as into,
        ):
            for data in out:
                into.write(data)
        shard.commit()
        shard.execute(f"SET maintenance_work_mem = '{SHARD_INDEX_MEMORY}'")
        _create_indexes(shard, definition, remote.qualified, position_index, progress=False)
        shard.execute(f"ANALYZE {remote.qualified}")
        shard.commit()


def _swap_in(
    conn: psycopg.Connection, definition: TableDef, key: str, parts: list[Part], tables: list[RemoteTable]
) -> None:
    """In the caller's transaction: the new partitioned table over the new shard tables, in place of the old."""
    schema = quote_ident(definition.schema)
    token = tables[0].name.rsplit("_", 1)[1]
    building = f"{schema}.{quote_ident(f'{definition.name[:40]}_new_{token}')}"
    conn.execute(create_table_sql(definition, name=building) + f" PARTITION BY RANGE (({key}))")
    for i, (part, remote) in enumerate(zip(parts, tables, strict=True)):
        server = ensure_foreign_server(conn, part.url)
        partition = f"{schema}.{quote_ident(f'{definition.name[:40]}_p{i + 1}_{token}')}"
        conn.execute(
            f"CREATE FOREIGN TABLE {partition} PARTITION OF {building} FOR VALUES {part.bounds()} "
            f"SERVER {quote_ident(server)} OPTIONS (schema_name {quote_string(remote.schema)}, "
            f"table_name {quote_string(remote.name)})"
        )
    conn.execute(f"DROP TABLE IF EXISTS {schema}.{quote_ident(definition.name)}")
    conn.execute(f"ALTER TABLE {building} RENAME TO {quote_ident(definition.name)}")


def _record_position_key(conn: psycopg.Connection, definition: TableDef) -> None:
    """The translator's cue to add a key-range cover next to each position predicate, which is
    what lets the coordinator prune the shards a cone does not touch."""
    assert definition.position is not None
    conn.execute(
        "INSERT INTO dalserver.position_key (table_name, ra_column, dec_column, key_order) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (table_name) DO UPDATE SET ra_column = excluded.ra_column, dec_column = excluded.dec_column, "
        "key_order = excluded.key_order",
        (definition.qualified_name, *definition.position, KEY_ORDER),
    )


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
