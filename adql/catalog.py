"""What the resolver knows of the published tables: names, columns and their VO metadata.

The service fills a ``Catalog`` from TAP_SCHEMA; tests can build one by hand. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ColumnMeta:
    name: str
    datatype: str  # VOTable datatype: char, unicodeChar, short, int, long, float, double, boolean
    arraysize: str | None = None
    xtype: str | None = None
    unit: str | None = None
    ucd: str | None = None
    utype: str | None = None
    description: str | None = None

    @property
    def is_geometry(self) -> bool:
        return self.xtype in ("point", "circle", "polygon", "moc", "shape", "adql:REGION")


@dataclass(frozen=True)
class PositionKey:
    """A table's HEALPix position key: the expression
    ``healpix_nest(order, spoint(radians(ra), radians(dec)))`` is indexed (a B-tree) or partitions
    the table, so the translator adds a range cover on it next to an exact spatial predicate."""

    ra_column: str
    dec_column: str
    order: int = 12  # the key order: a cell of order k <= order is a contiguous range of keys


@dataclass(frozen=True)
class TableMeta:
    schema: str
    name: str  # unqualified
    columns: tuple[ColumnMeta, ...]
    description: str | None = None
    # Where the table really is, when that is not "schema"."name": uploads live in pg_temp, and a
    # server reads ObsCore through a function that renders its access URLs (archive_io.product_urls).
    sql_name: str | None = None
    # The database's primary key: a query grouped by all of it may show the table's other columns.
    primary_key: tuple[str, ...] = ()
    # The HEALPix position key (dalserver.position_key), when the table has one.
    position_key: PositionKey | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class Catalog:
    tables: list[TableMeta] = field(default_factory=list)

    @classmethod
    def of(cls, tables: Iterable[TableMeta]) -> Catalog:
        return cls(list(tables))

    def with_tables(self, extra: Iterable[TableMeta]) -> Catalog:
        """This catalogue plus ``extra`` (a query's uploaded tables), leaving this one as it was."""
        return Catalog([*self.tables, *extra])

    def table_names(self) -> list[str]:
        return [t.qualified_name for t in self.tables]
