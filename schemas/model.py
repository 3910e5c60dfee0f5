"""Table metadata as plain data: the one source for DDL, TAP_SCHEMA rows and VOTable FIELDs.

A table is described in YAML (see obscore.yaml); extension files in a ``<table>.d/`` folder add
columns, which is how a collection adds its own ObsCore columns (e.g. ``em_band_name``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from adql.catalog import Catalog, ColumnMeta, TableMeta

SCHEMAS_DIR = Path(__file__).resolve().parent

# VOTable datatypes a TAP_SCHEMA column may declare (TAP 1.1 section 4.3, DALI 1.1).
VOTABLE_DATATYPES = {
    "boolean",
    "short",
    "int",
    "long",
    "float",
    "double",
    "char",
    "unicodeChar",
}
# DALI xtypes we store as pgsphere geometry.
GEOMETRY_XTYPES = {"point": "spoint", "circle": "scircle", "polygon": "spoly"}


class MetadataError(ValueError):
    """A table definition is inconsistent (unknown datatype, duplicate column, ...)."""


@dataclass(frozen=True)
class ColumnDef:
    name: str
    datatype: str
    description: str = ""
    unit: str | None = None
    ucd: str | None = None
    utype: str | None = None
    arraysize: str | None = None
    xtype: str | None = None
    principal: bool = False
    indexed: bool = False
    std: bool = False
    nullable: bool = True
    storage: str | None = None  # PostgreSQL type, where the VO type does not imply it

    @property
    def sql_type(self) -> str:
        """The PostgreSQL type this column is stored as."""
        if self.storage:
            return self.storage
        if self.xtype in GEOMETRY_XTYPES:
            return GEOMETRY_XTYPES[self.xtype]
        if self.xtype == "timestamp":
            return "timestamp"
        base = {
            "boolean": "boolean",
            "short": "smallint",
            "int": "integer",
            "long": "bigint",
            "float": "real",
            "double": "double precision",
            "char": "text",
            "unicodeChar": "text",
        }[self.datatype]
        is_string = self.datatype in ("char", "unicodeChar")
        if self.arraysize and not is_string:
            return base + "[]"
        return base

    def meta(self) -> ColumnMeta:
        """What ADQL and the writers know of the column."""
        return ColumnMeta(
            self.name,
            self.datatype,
            self.arraysize,
            self.xtype,
            self.unit,
            self.ucd,
            self.utype,
            self.description or None,
        )


@dataclass(frozen=True)
class IndexDef:
    """An index: on columns, or on an SQL expression (e.g. the pgsphere position)."""

    name: str
    method: str = "btree"
    columns: tuple[str, ...] = ()
    expression: str | None = None


@dataclass(frozen=True)
class ForeignKeyDef:
    key_id: str
    target_table: str
    columns: tuple[tuple[str, str], ...]  # (from_column, target_column)
    description: str = ""


@dataclass(frozen=True)
class TableDef:
    schema: str
    name: str
    description: str = ""
    utype: str | None = None
    table_type: str = "table"
    columns: tuple[ColumnDef, ...] = ()
    indexes: tuple[IndexDef, ...] = ()
    primary_key: tuple[str, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    foreign_keys: tuple[ForeignKeyDef, ...] = ()
    # An (ra, dec) column pair whose pgsphere index the ADQL translator should target.
    position: tuple[str, str] | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    def column(self, name: str) -> ColumnDef:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def meta(self, sql_name: str | None = None) -> TableMeta:
        """The table as the ADQL resolver sees it (as published in TAP_SCHEMA)."""
        return TableMeta(
            self.schema,
            self.name,
            tuple(c.meta() for c in self.columns),
            self.description or None,
            sql_name=sql_name,
            primary_key=self.primary_key,
        )

    def with_extra_columns(self, extra: tuple[ColumnDef, ...]) -> TableDef:
        known = {c.name for c in self.columns}
        for col in extra:
            if col.name in known:
                raise MetadataError(f"{self.qualified_name}: extension redefines column {col.name}")
            known.add(col.name)
        return replace(self, columns=self.columns + extra)


@dataclass(frozen=True)
class SchemaDef:
    name: str
    description: str = ""
    utype: str | None = None
    tables: tuple[TableDef, ...] = field(default_factory=tuple)


def catalog_of(schemas: tuple[SchemaDef, ...]) -> Catalog:
    """The ADQL catalogue of these schemas' tables, as TAP_SCHEMA would publish them (no database)."""
    return Catalog.of(t.meta() for s in schemas for t in s.tables)


def column_from_mapping(data: dict[str, Any], where: str) -> ColumnDef:
    try:
        name = str(data["name"])
        datatype = str(data["datatype"])
    except KeyError as exc:
        raise MetadataError(f"{where}: column needs {exc.args[0]!r}") from exc
    if datatype not in VOTABLE_DATATYPES:
        raise MetadataError(f"{where}: column {name}: unknown datatype {datatype!r}")
    arraysize = data.get("arraysize")
    return ColumnDef(
        name=name,
        datatype=datatype,
        description=str(data.get("description", "")).strip(),
        unit=data.get("unit") or None,
        ucd=data.get("ucd") or None,
        utype=data.get("utype") or None,
        arraysize=str(arraysize) if arraysize is not None else None,
        xtype=data.get("xtype") or None,
        principal=bool(data.get("principal", False)),
        indexed=bool(data.get("indexed", False)),
        std=bool(data.get("std", False)),
        nullable=bool(data.get("nullable", True)),
        storage=data.get("storage") or None,
    )


def _table_from_mapping(schema: str, data: dict[str, Any], where: str) -> TableDef:
    name = str(data["name"])
    columns = tuple(column_from_mapping(c, f"{where}:{name}") for c in data.get("columns", []))
    seen: set[str] = set()
    for col in columns:
        if col.name.lower() in seen:
            raise MetadataError(f"{where}: {schema}.{name}: duplicate column {col.name}")
        seen.add(col.name.lower())
    indexes = tuple(
        IndexDef(
            name=str(i["name"]),
            method=str(i.get("method", "btree")),
            columns=tuple(i.get("columns", ())),
            expression=i.get("expression"),
        )
        for i in data.get("indexes", [])
    )
    fks = tuple(
        ForeignKeyDef(
            key_id=str(k["key_id"]),
            target_table=str(k["target_table"]),
            columns=tuple((str(a), str(b)) for a, b in k["columns"]),
            description=str(k.get("description", "")),
        )
        for k in data.get("foreign_keys", [])
    )
    position = data.get("position")
    return TableDef(
        schema=schema,
        name=name,
        description=str(data.get("description", "")).strip(),
        utype=data.get("utype"),
        table_type=str(data.get("table_type", "table")),
        columns=columns,
        indexes=indexes,
        primary_key=tuple(data.get("primary_key", ())),
        unique=tuple(tuple(u) for u in data.get("unique", ())),
        foreign_keys=fks,
        position=(str(position[0]), str(position[1])) if position else None,
    )


def load_schema(path: Path, extension_dirs: tuple[Path, ...] = ()) -> SchemaDef:
    """Read one schema file; columns from ``<table>.d/*.yaml`` in ``extension_dirs`` are appended."""
    data = yaml.safe_load(path.read_text())
    schema_name = str(data["schema"])
    tables = []
    for table_data in data.get("tables", []):
        table = _table_from_mapping(schema_name, table_data, path.name)
        extra: list[ColumnDef] = []
        for directory in (path.parent, *extension_dirs):
            ext_dir = directory / f"{table.name}.d"
            for ext_file in sorted(ext_dir.glob("*.yaml")) if ext_dir.is_dir() else ():
                ext = yaml.safe_load(ext_file.read_text()) or {}
                extra.extend(column_from_mapping(c, ext_file.name) for c in ext.get("columns", []))
        tables.append(table.with_extra_columns(tuple(extra)))
    return SchemaDef(
        name=schema_name,
        description=str(data.get("description", "")).strip(),
        utype=data.get("utype"),
        tables=tuple(tables),
    )


def private_schemas() -> tuple[SchemaDef, ...]:
    """Schemas the service keeps for itself and never publishes: the UWS job store, ingest
    provenance and name spellings, the registry records' dates and coverage, the VO crawler's state,
    users, groups, grants and credentials, the catalogues' HEALPix position keys."""
    return (
        load_schema(SCHEMAS_DIR / "uws.yaml"),
        load_schema(SCHEMAS_DIR / "provenance.yaml"),
        load_schema(SCHEMAS_DIR / "spellings.yaml"),
        load_schema(SCHEMAS_DIR / "registry.yaml"),
        load_schema(SCHEMAS_DIR / "crawl.yaml"),
        load_schema(SCHEMAS_DIR / "access.yaml"),
        load_schema(SCHEMAS_DIR / "position_key.yaml"),
    )


def builtin_schemas(extension_dirs: tuple[Path, ...] = ()) -> tuple[SchemaDef, ...]:
    """The schemas every dalserver archive publishes: TAP_SCHEMA, ivoa (ObsCore), rr (RegTAP) and
    vo (the VO crawler's cache of other archives' data)."""
    return (
        load_schema(SCHEMAS_DIR / "tap_schema.yaml", extension_dirs),
        load_schema(SCHEMAS_DIR / "obscore.yaml", extension_dirs),
        load_schema(SCHEMAS_DIR / "regtap.yaml", extension_dirs),
        load_schema(SCHEMAS_DIR / "vo.yaml", extension_dirs),
    )
