"""Publish a catalogue: load into a staging table with COPY, index it, and swap it in together
with its TAP_SCHEMA rows in one transaction. Until that transaction commits, the published table
and TAP_SCHEMA are untouched, whatever happens (bad row, killed process, full disk).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from queue import Full, Queue
from typing import Any

import psycopg
import yaml
from tqdm import tqdm

from adql.healpix_cover import KEY_ORDER
from adql.reserved import adql_name, is_reserved
from archive_io.coverage import import_in_background
from archive_io.registry_state import record_catalog, record_catalog_dropped
from archive_io.shards import RemoteTable, drop_remote_tables, remote_tables
from archive_io.table_readers import CatalogError, CatalogSource, duplicate_column, open_catalog
from archive_io.tap_schema import publish_schema, publish_table, unpublish_table
from data_ingest.catalogs.position_hints import no_position_note
from pgsql_text.errors import SQLTextError
from pgsql_text.pgsphere import healpix_key_sql, spoint_sql
from pgsql_text.quoting import quote_ident
from schemas.ddl import create_table_sql
from schemas.model import ColumnDef, IndexDef, SchemaDef, TableDef, column_from_mapping

# The position indexes a catalogue can have (docs/operators-guide/catalogues.md weighs them).
POSITION_INDEXES = ("gist", "healpix", "both")
DEFAULT_POSITION_INDEX = "gist"
PROTECTED_SCHEMAS = {"tap_schema", "ivoa", "public", "information_schema", "dalserver"}
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass
class Sidecar:
    """What an operator adds to or corrects in a file's own metadata (YAML)."""

    description: str | None = None
    utype: str | None = None
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)
    position: tuple[str, str] | None = None
    indexes: list[dict[str, Any]] = field(default_factory=list)
    nulls: tuple[str, ...] = ()  # CSV cells (unquoted) that mean NULL, besides an empty one
    access_group: str | None = None  # ``access: {group: G}``: only members of G see the table
    shards: int | None = None  # split over this many shard servers (data_ingest.catalogs.sharded)
    # Which index serves the position: gist (pgsphere), healpix (a B-tree on the HEALPix key) or both.
    position_index: str = DEFAULT_POSITION_INDEX

    @classmethod
    def load(cls, path: Path | None) -> Sidecar:
        if path is None:
            return cls()
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise CatalogError(f"{path}: cannot read the metadata file: {exc}") from None
        columns = data.get("columns") or {}
        if isinstance(columns, list):
            columns = {c["name"]: c for c in columns}
        position = data.get("position")
        access = data.get("access") or {}
        if access and (
            not isinstance(access, dict) or set(access) - {"group"} or not str(access.get("group", "")).strip()
        ):
            raise CatalogError(
                f"{path}: access: expected a mapping with the one key group: (the group that may see it)"
            )
        return cls(
            description=data.get("description"),
            utype=data.get("utype"),
            columns={str(k): dict(v or {}) for k, v in columns.items()},
            position=(str(position[0]), str(position[1])) if position else None,
            indexes=list(data.get("indexes") or []),
            nulls=_null_markers(data.get("nulls"), path),
            access_group=str(access["group"]).strip() if access else None,
            position_index=position_index_choice(data.get("position_index"), f"{path}: position_index"),
            shards=_shard_count(data.get("shards"), path),
        )


def _shard_count(value: Any, path: Path) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CatalogError(
            f"{path}: shards: expected the number of shard servers to split the table over, not {value!r}"
        )
    return value


def position_index_choice(value: Any, where: str) -> str:
    """The sidecar's (or the command line's) ``position_index``, checked; the default when absent."""
    if value is None:
        return DEFAULT_POSITION_INDEX
    choice = str(value).strip().lower()
    if choice not in POSITION_INDEXES:
        raise CatalogError(f"{where}: {value!r} is not one of {', '.join(POSITION_INDEXES)}")
    return choice


def _null_markers(value: Any, path: Path) -> tuple[str, ...]:
    """The sidecar's ``nulls``: a list of cell texts (a lone one is a list of one). YAML reads
    -99 as a number: it stands for the text -99, as in the file."""
    if value is None:
        return ()
    markers = value if isinstance(value, list) else [value]
    for marker in markers:
        if isinstance(marker, bool) or not isinstance(marker, str | int | float):
            raise CatalogError(
                f'{path}: nulls: {marker!r} is not a cell text; write the markers in quotes, e.g. nulls: ["-99", "NaN"]'
            )
    return tuple(dict.fromkeys(str(m) for m in markers))


@dataclass
class PublishReport:
    table: str
    rows: int
    seconds: float
    load_seconds: float
    warnings: list[str]

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def parse_table_name(name: str) -> tuple[str, str]:
    parts = name.split(".")
    if len(parts) != 2 or not all(_NAME.match(p) for p in parts):
        raise CatalogError(f"table name {name!r} must be schema.table, letters, digits and underscores")
    schema, table = (p.lower() for p in parts)
    if schema in PROTECTED_SCHEMAS or schema.startswith("pg_"):
        raise CatalogError(f"schema {schema!r} is reserved; publish catalogues in a schema of their own")
    return schema, table


def describe_table(source: CatalogSource, schema: str, table: str, sidecar: Sidecar) -> tuple[TableDef, list[str]]:
    """The table definition: the file's metadata, corrected by the sidecar, checked."""
    notes: list[str] = []
    columns: list[ColumnDef] = []
    if any(not col.name for col in source.columns):
        raise CatalogError(f"{source.path}: a column has no name")
    if (twins := duplicate_column(source.columns)) is not None:
        raise CatalogError(f"{source.path}: duplicate column name {twins[1]!r} (also {twins[0]!r})")
    for col in source.columns:
        override = sidecar.columns.get(col.name)
        if override:
            merged = {k: v for k, v in col.__dict__.items() if v is not None}
            if "datatype" in override:  # a new type does not inherit the old shape
                merged.pop("arraysize", None)
                merged.pop("xtype", None)
            merged.update(override)
            merged["name"] = col.name
            col = column_from_mapping(merged, str(source.path))
        if is_reserved(col.name) or adql_name(col.name) != col.name:
            notes.append(
                f"column {col.name!r} is not a plain ADQL name: queries must write it as {adql_name(col.name)}"
            )
        columns.append(col)
    unknown = set(sidecar.columns) - {c.name for c in columns}
    if unknown:
        raise CatalogError(f"the metadata file describes columns the file does not have: {', '.join(sorted(unknown))}")
    position = sidecar.position or _position_from_ucds(columns)
    if not position:
        notes.append(no_position_note(columns))
    if position:
        names = {c.name for c in columns}
        missing = [p for p in position if p not in names]
        if missing:
            raise CatalogError(f"position column {missing[0]!r} is not in the file")
        # Named by the sidecar and without a UCD of their own: the main position's UCDs, which
        # TOPCAT, Aladin and the portal read to find a table's position.
        main = dict(zip(position, ("pos.eq.ra;meta.main", "pos.eq.dec;meta.main"), strict=True))
        columns = [replace(c, indexed=True, ucd=c.ucd or main[c.name]) if c.name in position else c for c in columns]
    indexes = []
    for spec in sidecar.indexes:
        cols = tuple(spec.get("columns") or [])
        bad = [c for c in cols if c not in {x.name for x in columns}]
        if bad or not cols:
            raise CatalogError(f"index on unknown column(s) {bad or cols}")
        indexes.append(IndexDef(name="", method=str(spec.get("method", "btree")), columns=cols))
    principal = [replace(c, principal=True) if c.principal or c.name in (position or ()) else c for c in columns]
    definition = TableDef(
        schema=schema,
        name=table,
        description=sidecar.description or source.description or f"Catalogue loaded from {source.path.name}",
        utype=sidecar.utype,
        columns=tuple(principal),
        indexes=tuple(indexes),
        position=position,
    )
    return definition, notes


def _position_from_ucds(columns: list[ColumnDef]) -> tuple[str, str] | None:
    def find(ucd: str) -> str | None:
        hits = [c.name for c in columns if (c.ucd or "").lower() == ucd]
        return hits[0] if len(hits) == 1 else None

    ra, dec = find("pos.eq.ra;meta.main"), find("pos.eq.dec;meta.main")
    return (ra, dec) if ra and dec else None


def _index_name(table: str, purpose: str) -> str:
    # Unique per load, so a staging table's indexes never collide with the published ones.
    return f"{table[:40]}_{purpose[:12]}_{secrets.token_hex(3)}"


def publish_catalog(
    conn: psycopg.Connection,
    path: Path,
    table_name: str,
    sidecar_path: Path | None = None,
    progress: bool = True,
    warn: Callable[[str], None] | None = None,
    position_index: str | None = None,
) -> PublishReport:
    """Load ``path`` as ``table_name`` (replacing it if it exists) and publish it in TAP_SCHEMA.
    ``position_index`` (gist, healpix, both) overrides the sidecar's."""
    started = time.monotonic()
    schema, table = parse_table_name(table_name)
    sidecar = Sidecar.load(sidecar_path)
    if position_index is not None:
        sidecar.position_index = position_index_choice(position_index, "--position-index")
    source = open_catalog(path, csv_nulls=sidecar.nulls)
    definition, notes = describe_table(source, schema, table, sidecar)
    if sidecar.nulls and not source.null_markers:
        notes.append(f"nulls in {sidecar_path} apply to CSV files only: {path.name} marks its nulls its own way")
    if definition.position:
        import_in_background()  # the coverage map's library, ready when the rows are in
    if sidecar.position_index != DEFAULT_POSITION_INDEX and not definition.position:
        notes.append(
            f"position_index: {sidecar.position_index} needs position columns: the table has no position index"
        )
    for note in notes:
        if warn:
            warn(note)
    staging = f"{table[:40]}_staging_{secrets.token_hex(4)}"
    qualified_staging = f"{quote_ident(schema)}.{quote_ident(staging)}"
    with copy_errors_named(path, source), conn.transaction():
        replaced = remote_tables(conn, f"{schema}.{table}")  # a sharded version's shard tables
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
        conn.execute(create_table_sql(definition, name=qualified_staging))
        rows = load_rows(conn, source, definition, qualified_staging, progress)
        load_seconds = time.monotonic() - started
        _create_indexes(conn, definition, qualified_staging, sidecar.position_index, progress)
        conn.execute(f"ANALYZE {qualified_staging}")
        conn.execute(f"DROP TABLE IF EXISTS {quote_ident(schema)}.{quote_ident(table)}")
        conn.execute(f"ALTER TABLE {qualified_staging} RENAME TO {quote_ident(table)}")
        publish_metadata(conn, definition, sidecar.access_group, rows)
        record_position_key(conn, definition, sidecar.position_index)
    _dropped_remote(replaced, warn)
    return PublishReport(f"{schema}.{table}", rows, time.monotonic() - started, load_seconds, notes)


def load_rows(
    conn: psycopg.Connection, source: CatalogSource, definition: TableDef, qualified: str, progress: bool
) -> int:
    """COPY the file's rows into the table ``qualified`` (made from ``definition``); their number."""
    column_list = ", ".join(quote_ident(c.name) for c in definition.columns)
    header = ", HEADER true" if source.header else ""
    copy_sql = f"COPY {qualified} ({column_list}) FROM STDIN WITH (FORMAT csv{header})"
    bar = tqdm(
        total=source.total, unit=source.unit, unit_scale=True, desc=f"loading {source.path.name}", disable=not progress
    )
    with conn.cursor() as cur:
        with cur.copy(copy_sql) as copy:
            for chunk in prefetched(source.chunks()):
                copy.write(chunk)
                bar.update(len(chunk) if source.unit == "B" else chunk.count(b"\n"))
        rows = cur.rowcount
    bar.close()
    return rows


@contextmanager
def copy_errors_named(path: Path, source: CatalogSource) -> Iterator[None]:
    """A bad cell or a name SQL cannot carry becomes a CatalogError naming the file and row."""
    try:
        yield
    except (psycopg.errors.DataError, psycopg.errors.BadCopyFileFormat, psycopg.errors.UntranslatableCharacter) as exc:
        raise CatalogError(f"{path}: {_copy_error(exc, source)}") from None
    except SQLTextError as exc:  # a column name SQL cannot carry (a NUL, which Parquet allows)
        raise CatalogError(f"{path}: {exc}") from None


def publish_metadata(
    conn: psycopg.Connection, definition: TableDef, access_group: str | None, rows: int, read_from: str | None = None
) -> None:
    """TAP_SCHEMA, the access rule and the registry's state for the table just swapped in
    (its coverage read from ``read_from``, a local copy of its rows, when given)."""
    publish_schema(conn, SchemaDef(definition.schema, f"Catalogues published in {definition.schema}"))
    publish_table(conn, definition)
    restrict_table(conn, definition.qualified_name, access_group)
    if access_group is None:
        record_catalog(conn, definition, rows, read_from)
    else:  # no registry record, no coverage map, no cone search: a group's table is not public
        record_catalog_dropped(conn, definition.qualified_name)


def _dropped_remote(tables: list[RemoteTable], warn: Callable[[str], None] | None) -> None:
    """After the swap: the shard tables the replaced version read (left, with a warning, on a shard down)."""
    for problem in drop_remote_tables(tables):
        if warn:
            warn(f"could not drop the replaced {problem}: drop it there by hand")


def prefetched(chunks: Iterator[bytes], depth: int = 2) -> Iterator[bytes]:
    """Produce the next chunks in a thread while the current one is sent: reading and converting
    (pyarrow releases the GIL) overlap with COPY. At most ``depth`` chunks wait in memory."""
    queue: Queue[bytes | BaseException | None] = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        queue.put(chunk, timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put(None)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            queue.put(exc)

    thread = threading.Thread(target=produce, name="catalog-reader", daemon=True)
    thread.start()
    try:
        while (item := queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


def position_index_sql(definition: TableDef, qualified: str, position_index: str) -> list[str]:
    """CREATE INDEX statements for the position: the pgsphere GiST on the point, a B-tree on its
    HEALPix key, or both. Each on exactly the expression the ADQL translator writes (for POINT(ra,
    dec), and for its range covers), or the planner would not use it."""
    if not definition.position:
        return []
    ra, dec = (quote_ident(c) for c in definition.position)
    statements = []
    if position_index in ("gist", "both"):
        statements.append(
            f"CREATE INDEX {quote_ident(_index_name(definition.name, 'pos'))} ON {qualified} "
            f"USING gist ({spoint_sql(ra, dec)})"
        )
    if position_index in ("healpix", "both"):
        statements.append(
            f"CREATE INDEX {quote_ident(_index_name(definition.name, 'hpx'))} ON {qualified} "
            f"USING btree ({healpix_key_sql(KEY_ORDER, ra, dec)})"
        )
    return statements


def record_position_key(conn: psycopg.Connection, definition: TableDef, position_index: str) -> None:
    """dalserver.position_key says whether the published table has a HEALPix key (the translator
    then adds range covers on it); a re-ingest replaces the row, a GiST-only one removes it."""
    conn.execute("DELETE FROM dalserver.position_key WHERE table_name = %s", (definition.qualified_name,))
    if definition.position and position_index in ("healpix", "both"):
        conn.execute(
            "INSERT INTO dalserver.position_key (table_name, ra_column, dec_column, key_order) VALUES (%s, %s, %s, %s)",
            (definition.qualified_name, *definition.position, KEY_ORDER),
        )


def _create_indexes(
    conn: psycopg.Connection, definition: TableDef, qualified: str, position_index: str, progress: bool
) -> None:
    statements = position_index_sql(definition, qualified, position_index)
    for index in definition.indexes:
        cols = ", ".join(quote_ident(c) for c in index.columns)
        statements.append(
            f"CREATE INDEX {quote_ident(_index_name(definition.name, index.columns[0]))} ON {qualified} USING {index.method} ({cols})"
        )
    for statement in tqdm(statements, desc="indexing", unit="index", disable=not progress or not statements):
        conn.execute(statement)


def _copy_error(exc: psycopg.Error, source: CatalogSource) -> str:
    diag = exc.diag
    message = diag.message_primary or str(exc)
    where = diag.context or ""
    match = re.search(r"line (\d+)(?:, column (\w+))?", where)
    if match:
        line = int(match.group(1))
        place = f"line {line}" if source.header else f"row {line}"
        if match.group(2):
            place += f", column {match.group(2)}"
        return f"{place}: {message}"
    return message


def restrict_table(conn: psycopg.Connection, qualified_name: str, group: str | None) -> None:
    """Only ``group`` may see the published table (None: everybody), from this transaction's commit."""
    conn.execute("DELETE FROM auth.restricted_tables WHERE table_name = lower(%s)", (qualified_name,))
    if group is not None:
        conn.execute(
            "INSERT INTO auth.restricted_tables (table_name, group_name) VALUES (lower(%s), %s)",
            (qualified_name, group),
        )


def drop_catalog(conn: psycopg.Connection, table_name: str, warn: Callable[[str], None] | None = None) -> None:
    """Remove a published catalogue and its TAP_SCHEMA rows, in one transaction; a sharded one's
    shard tables after it commits."""
    schema, table = parse_table_name(table_name)
    with conn.transaction():
        exists = conn.execute(
            "SELECT 1 FROM tap_schema.tables WHERE table_name = %s", (f"{schema}.{table}",)
        ).fetchone()
        if not exists:
            raise CatalogError(f"no published catalogue is called {schema}.{table}")
        shard_tables = remote_tables(conn, f"{schema}.{table}")
        conn.execute(f"DROP TABLE IF EXISTS {quote_ident(schema)}.{quote_ident(table)}")
        unpublish_table(conn, f"{schema}.{table}")
        conn.execute("DELETE FROM dalserver.position_key WHERE table_name = %s", (f"{schema}.{table}",))
        restrict_table(conn, f"{schema}.{table}", None)
        record_catalog_dropped(conn, f"{schema}.{table}")
        left = conn.execute("SELECT count(*) FROM tap_schema.tables WHERE schema_name = %s", (schema,)).fetchone()
        if left and left[0] == 0:
            conn.execute("DELETE FROM tap_schema.schemas WHERE schema_name = %s", (schema,))
    _dropped_remote(shard_tables, warn)
