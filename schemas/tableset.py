"""The published tables as TAP_SCHEMA lists them, typed: a tableset (VODataService's word for it)
of schemas with tables with columns and foreign keys.

``archive_io.tap_schema`` writes it from the table definitions and reads it back from the
database; VOSI's /tables, the registry records, cone search and the ADQL translator's catalogue
(``Tableset.catalog()``) all read this one shape. Names are kept exactly as TAP_SCHEMA holds them
(qualified table names, reserved words delimited: ``"size"``); ``bare_name`` and ``meta()`` give
them as SQL and the translator write them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from adql.catalog import Catalog, ColumnMeta, PositionKey, TableMeta
from adql.reserved import adql_name
from schemas.model import SchemaDef, TableDef


def undelimited(name: str) -> str:
    """``"size"`` -> ``size``: a name as SQL and the translator's catalogue write it."""
    if len(name) >= 2 and name.startswith('"') and name.endswith('"'):
        return name[1:-1].replace('""', '"')
    return name


@dataclass(frozen=True, slots=True)
class TapColumn:
    """A row of ``tap_schema.columns``."""

    name: str  # as TAP_SCHEMA lists it: an ADQL reserved word delimited ("size")
    datatype: str  # VOTable datatype
    arraysize: str | None = None
    xtype: str | None = None
    description: str | None = None
    utype: str | None = None
    unit: str | None = None
    ucd: str | None = None
    indexed: bool = False
    principal: bool = False
    std: bool = False

    @property
    def bare_name(self) -> str:
        return undelimited(self.name)

    def meta(self) -> ColumnMeta:
        """The column as the translator and the writers know it."""
        return ColumnMeta(
            self.bare_name,
            self.datatype,
            self.arraysize,
            self.xtype,
            self.unit,
            self.ucd,
            self.utype,
            self.description,
        )


@dataclass(frozen=True, slots=True)
class TapForeignKey:
    """A row of ``tap_schema.keys`` with its ``key_columns``."""

    key_id: str
    target_table: str
    columns: tuple[tuple[str, str], ...]  # (from_column, target_column)
    description: str | None = None


@dataclass(frozen=True, slots=True)
class TapTable:
    """A row of ``tap_schema.tables`` with its columns, foreign keys and primary key."""

    schema: str
    name: str  # qualified, as TAP_SCHEMA lists it: schema.table
    table_type: str | None = None
    description: str | None = None
    utype: str | None = None
    columns: tuple[TapColumn, ...] = ()
    foreign_keys: tuple[TapForeignKey, ...] = ()
    # The database's primary key (TAP_SCHEMA has no place for it): a query grouped by all of it
    # may show the table's other columns, as PostgreSQL allows.
    primary_key: tuple[str, ...] = ()
    # The HEALPix position key the table is indexed or partitioned on (dalserver.position_key,
    # private like the primary key): the translator adds range covers on it.
    position_key: PositionKey | None = None

    @property
    def bare_name(self) -> str:
        """The name without its schema, as the SQL of a query names the table."""
        prefix = self.schema + "."
        return self.name[len(prefix) :] if self.name.lower().startswith(prefix.lower()) else self.name

    def meta(self) -> TableMeta:
        """The table as the translator resolves names against it."""
        return TableMeta(
            self.schema,
            self.bare_name,
            tuple(c.meta() for c in self.columns),
            self.description,
            primary_key=self.primary_key,
            position_key=self.position_key,
        )


@dataclass(frozen=True, slots=True)
class TapSchema:
    """A row of ``tap_schema.schemas`` with its tables."""

    name: str
    description: str | None = None
    utype: str | None = None
    tables: tuple[TapTable, ...] = ()


@dataclass(frozen=True, slots=True)
class Tableset:
    """Everything TAP_SCHEMA publishes, in its order (schema_index, table_index, column_index)."""

    schemas: tuple[TapSchema, ...] = ()

    def tables(self) -> Iterator[TapTable]:
        for schema in self.schemas:
            yield from schema.tables

    def table(self, qualified_name: str) -> TapTable | None:
        """The published table of this name (in any case), if there is one."""
        wanted = qualified_name.lower()
        return next((t for t in self.tables() if t.name.lower() == wanted), None)

    def catalog(self) -> Catalog:
        """What the ADQL translator resolves a query against."""
        return Catalog.of(t.meta() for t in self.tables())


def published_table(table: TableDef) -> TapTable:
    """The TAP_SCHEMA entry a table definition is published as: reserved-word columns
    delimited; a column indexed where the definition says so, where an index or the primary key
    starts with it, and the position pair the translator targets."""
    indexed = {c for index in table.indexes for c in index.columns} | set(table.primary_key[:1])
    if table.position:
        indexed |= set(table.position)
    columns = tuple(
        TapColumn(
            adql_name(c.name),  # TAP 1.1: reserved words appear delimited, e.g. "size"
            c.datatype,
            c.arraysize,
            c.xtype,
            c.description,
            c.utype,
            c.unit,
            c.ucd,
            indexed=c.indexed or c.name in indexed,
            principal=c.principal,
            std=c.std,
        )
        for c in table.columns
    )
    keys = tuple(TapForeignKey(k.key_id, k.target_table, k.columns, k.description) for k in table.foreign_keys)
    return TapTable(
        table.schema,
        table.qualified_name,
        table.table_type,
        table.description,
        table.utype,
        columns,
        keys,
        table.primary_key,
    )


def tableset_of(schemas: tuple[SchemaDef, ...]) -> Tableset:
    """The tableset these definitions are published as (no database)."""
    return Tableset(
        tuple(TapSchema(s.name, s.description, s.utype, tuple(published_table(t) for t in s.tables)) for s in schemas)
    )
