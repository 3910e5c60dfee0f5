"""Table metadata as plain data (schemas/): the YAML definitions, their extension folders, the
DDL derived from them and the ADQL catalogue of what TAP_SCHEMA publishes, without a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.ddl import add_missing_columns_sql, create_index_sql, create_table_sql
from schemas.model import (
    VOTABLE_DATATYPES,
    ColumnDef,
    IndexDef,
    MetadataError,
    TableDef,
    builtin_schemas,
    catalog_of,
    load_schema,
    private_schemas,
)

# The ObsCore 1.1 core columns (its table 6), which come first, in this order.
OBSCORE_MANDATORY = [
    "dataproduct_type",
    "calib_level",
    "obs_collection",
    "obs_id",
    "obs_publisher_did",
    "access_url",
    "access_format",
    "access_estsize",
    "target_name",
    "s_ra",
    "s_dec",
    "s_fov",
    "s_region",
    "s_resolution",
    "s_xel1",
    "s_xel2",
    "t_min",
    "t_max",
    "t_exptime",
    "t_resolution",
    "t_xel",
    "em_min",
    "em_max",
    "em_res_power",
    "em_xel",
    "o_ucd",
    "pol_states",
    "pol_xel",
    "facility_name",
    "instrument_name",
]


def obscore() -> TableDef:
    (table,) = [t for s in builtin_schemas() for t in s.tables if t.name == "obscore"]
    return table


@pytest.mark.parametrize(
    "column, sql_type",
    [
        (ColumnDef("a", "boolean"), "boolean"),
        (ColumnDef("a", "short"), "smallint"),
        (ColumnDef("a", "int"), "integer"),
        (ColumnDef("a", "long"), "bigint"),
        (ColumnDef("a", "float"), "real"),
        (ColumnDef("a", "double"), "double precision"),
        (ColumnDef("a", "char", arraysize="*"), "text"),
        (ColumnDef("a", "unicodeChar", arraysize="16"), "text"),
        (ColumnDef("a", "double", arraysize="*"), "double precision[]"),
        (ColumnDef("a", "double", arraysize="2", xtype="point"), "spoint"),
        (ColumnDef("a", "double", arraysize="3", xtype="circle"), "scircle"),
        (ColumnDef("a", "double", arraysize="*", xtype="polygon"), "spoly"),
        (ColumnDef("a", "char", arraysize="*", xtype="timestamp"), "timestamp"),
        (ColumnDef("a", "char", arraysize="*", xtype="adql:REGION", storage="spoly"), "spoly"),
    ],
)
def test_each_votable_type_is_stored_as_its_postgresql_type(column: ColumnDef, sql_type: str) -> None:
    assert column.sql_type == sql_type


def test_create_table_quotes_names_and_states_not_null_keys_and_uniques() -> None:
    table = TableDef(
        "cats",
        "Stars",
        columns=(ColumnDef("id", "long", nullable=False), ColumnDef("size", "int"), ColumnDef('we"ird', "char")),
        primary_key=("id",),
        unique=(("size", 'we"ird'),),
    )
    assert create_table_sql(table) == (
        'CREATE TABLE IF NOT EXISTS "cats"."Stars" (\n'
        '  "id" bigint NOT NULL,\n  "size" integer,\n  "we""ird" text,\n'
        '  PRIMARY KEY ("id"),\n  UNIQUE ("size", "we""ird")\n)'
    )
    assert create_table_sql(table, name='"cats"."stars_staging"').startswith(
        'CREATE TABLE IF NOT EXISTS "cats"."stars_staging" ('
    )


def test_only_nullable_columns_can_be_added_to_an_existing_table() -> None:
    statements = add_missing_columns_sql(obscore())
    added = [s.split('ADD COLUMN IF NOT EXISTS "')[1].split('"')[0] for s in statements]
    assert "obs_id" not in added and "em_band_name" in added and "s_region" in added
    assert all(s.startswith('ALTER TABLE "ivoa"."obscore" ADD COLUMN IF NOT EXISTS ') for s in statements)


def test_indexes_are_on_columns_or_on_an_expression() -> None:
    table = obscore()
    by_name = {i.name: i for i in table.indexes}
    assert create_index_sql(table, by_name["obscore_s_region"]) == (
        'CREATE INDEX IF NOT EXISTS "obscore_s_region" ON "ivoa"."obscore" USING gist ("s_region")'
    )
    assert create_index_sql(table, by_name["obscore_position"]).endswith(
        "USING gist (spoint(radians(s_ra), radians(s_dec)))"
    )
    assert create_index_sql(table, IndexDef("i", columns=("a", "b"))).endswith('USING btree ("a", "b")')


def test_the_builtin_schemas_are_tap_schema_obscore_with_its_extension_columns_regtap_and_the_crawl_cache() -> None:
    schemas = builtin_schemas()
    assert [s.name for s in schemas] == ["tap_schema", "ivoa", "rr", "vo"]
    assert [t.name for t in schemas[0].tables] == ["schemas", "tables", "columns", "keys", "key_columns"]
    names = [c.name for c in obscore().columns]
    assert names[: len(OBSCORE_MANDATORY)] == OBSCORE_MANDATORY and "em_band_name" in names  # from obscore.d/
    assert all(c.datatype in VOTABLE_DATATYPES for s in schemas for t in s.tables for c in t.columns)


def test_the_private_schemas_are_never_in_the_published_catalogue() -> None:
    published = {t.qualified_name for t in catalog_of(builtin_schemas()).tables}
    private = {t.qualified_name for s in private_schemas() for t in s.tables}
    assert (
        private
        == {
            "auth.users",
            "auth.credentials",
            "auth.members",
            "auth.grants",
            "auth.restricted_tables",
            "uws.job",
            "ingest.provenance",
            "ingest.spellings",
            "registry.resource_state",
            "registry.rr_origin",
            "registry.records_url",
            "registry.harvest",
            "crawl.service",
            "crawl.cell",
            "crawl.problem",
            "crawl.run",
            "dalserver.position_key",
        }
        and not published & private
    )
    assert "ivoa.obscore" in published and "tap_schema.columns" in published


def test_the_catalogue_carries_the_columns_metadata() -> None:
    (table,) = [t for t in catalog_of(builtin_schemas()).tables if t.qualified_name == "ivoa.obscore"]
    s_ra = next(c for c in table.columns if c.name == "s_ra")
    assert (s_ra.datatype, s_ra.unit, s_ra.ucd) == ("double", "deg", "pos.eq.ra")
    assert s_ra.utype == "obscore:Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1"
    s_region = next(c for c in table.columns if c.name == "s_region")
    assert (s_region.xtype, s_region.arraysize) == ("adql:REGION", "*") and s_region.is_geometry


def write_schema(folder: Path, columns: str, extension: str | None = None) -> Path:
    path = folder / "cats.yaml"
    path.write_text(f"schema: cats\ndescription: Catalogues\ntables:\n  - name: stars\n    columns:\n{columns}")
    if extension is not None:
        (folder / "stars.d").mkdir()
        (folder / "stars.d" / "extra.yaml").write_text(extension)
    return path


def test_extension_folders_add_columns_after_the_tables_own(tmp_path: Path) -> None:
    path = write_schema(
        tmp_path,
        "      - {name: id, datatype: long, nullable: false}\n",
        "columns:\n  - {name: mag_g, datatype: float, unit: mag}\n",
    )
    (table,) = load_schema(path).tables
    assert [c.name for c in table.columns] == ["id", "mag_g"] and table.column("mag_g").unit == "mag"
    assert not table.column("id").nullable and table.column("mag_g").nullable


@pytest.mark.parametrize(
    "columns, extension, message",
    [
        ("      - {name: id, datatype: bigint}\n", None, "unknown datatype 'bigint'"),
        ("      - {datatype: long}\n", None, "column needs 'name'"),
        ("      - {name: id, datatype: long}\n      - {name: ID, datatype: int}\n", None, "duplicate column ID"),
        (
            "      - {name: id, datatype: long}\n",
            "columns:\n  - {name: id, datatype: int}\n",
            "extension redefines column id",
        ),
    ],
)
def test_inconsistent_definitions_are_refused_naming_the_column(
    tmp_path: Path, columns: str, extension: str | None, message: str
) -> None:
    with pytest.raises(MetadataError, match=message):
        load_schema(write_schema(tmp_path, columns, extension))
