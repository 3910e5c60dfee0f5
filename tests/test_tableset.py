"""The published tables as one typed model (schemas.tableset): TAP_SCHEMA's rows read into schemas,
tables, columns and keys, table definitions published as the same objects, and the translator's
catalogue derived from them. No database: the rows are written as psycopg's dict rows give them."""

from __future__ import annotations

import pytest

from adql.catalog import ColumnMeta
from archive_io.tap_schema import tableset_from_rows
from schemas.model import ColumnDef, ForeignKeyDef, IndexDef, TableDef
from schemas.tableset import Tableset, TapColumn, TapForeignKey, TapTable, published_table

SCHEMAS = [
    {"schema_name": "cat", "description": "Catalogues", "utype": None},
    {"schema_name": "empty", "description": None, "utype": "x:y"},
]
TABLES = [
    {"schema_name": "cat", "table_name": "cat.sources", "table_type": "table", "description": "Sources", "utype": None},
    {"schema_name": "cat", "table_name": "cat.bands", "table_type": "view", "description": None, "utype": None},
]


def _column(table: str, name: str, datatype: str, index: int, **more: object) -> dict[str, object]:
    row: dict[str, object] = {
        "table_name": table,
        "column_name": name,
        "datatype": datatype,
        "arraysize": None,
        "xtype": None,
        "size": None,
        "description": None,
        "utype": None,
        "unit": None,
        "ucd": None,
        "indexed": 0,
        "principal": 0,
        "std": 0,
        "column_index": index,
    }
    return {**row, **more}


COLUMNS = [
    _column("cat.bands", "band", "char", 1, arraysize="*", principal=1),
    _column("cat.sources", "id", "long", 1, ucd="meta.id;meta.main", indexed=1, principal=1),
    _column("cat.sources", '"size"', "float", 2, unit="arcsec", description="Major axis", std=None),
    _column("cat.sources", "band", "char", 3, arraysize="*"),
]
KEYS = [
    {
        "key_id": "sources-bands",
        "from_table": "cat.sources",
        "target_table": "cat.bands",
        "description": "The band of a source",
        "from_column": "band",
        "target_column": "band",
    }
]
PRIMARY_KEYS = [{"schema_name": "cat", "table_name": "sources", "columns": ["id"]}]


def test_tap_schema_rows_are_read_into_schemas_with_tables_with_typed_columns_and_keys() -> None:
    published = tableset_from_rows(SCHEMAS, TABLES, COLUMNS, KEYS, PRIMARY_KEYS)
    assert [s.name for s in published.schemas] == ["cat", "empty"]
    assert published.schemas[1].tables == () and published.schemas[1].utype == "x:y"
    sources = published.table("CAT.Sources")  # found in any case, as clients write names
    assert sources is not None and [t.name for t in published.tables()] == ["cat.sources", "cat.bands"]
    assert (sources.schema, sources.bare_name, sources.table_type, sources.description) == (
        "cat",
        "sources",
        "table",
        "Sources",
    )
    ident, size, band = sources.columns
    assert ident == TapColumn("id", "long", ucd="meta.id;meta.main", indexed=True, principal=True)
    # The name as TAP_SCHEMA lists it, and as SQL writes it; a NULL flag is not set.
    assert (size.name, size.bare_name, size.unit, size.std) == ('"size"', "size", "arcsec", False)
    assert band.arraysize == "*" and not band.principal
    assert sources.foreign_keys == (
        TapForeignKey("sources-bands", "cat.bands", (("band", "band"),), "The band of a source"),
    )
    assert sources.primary_key == ("id",) and published.table("cat.bands").primary_key == ()
    assert published.table("cat.nowhere") is None


def test_the_translators_catalogue_is_derived_from_the_tableset_with_bare_names() -> None:
    catalog = tableset_from_rows(SCHEMAS, TABLES, COLUMNS, KEYS, PRIMARY_KEYS).catalog()
    assert catalog.table_names() == ["cat.sources", "cat.bands"]
    sources = catalog.tables[0]
    assert sources.primary_key == ("id",) and sources.description == "Sources"
    assert sources.columns[1] == ColumnMeta("size", "float", unit="arcsec", description="Major axis")


def test_a_misspelt_metadata_field_is_an_error_where_a_dict_gave_none() -> None:
    column = TapColumn("id", "long", principal=True)
    with pytest.raises(AttributeError):
        column.principle  # type: ignore[attr-defined]  # noqa: B018  # the misspelling is the point
    with pytest.raises(TypeError):
        TapColumn("id", "long", principle=True)  # type: ignore[call-arg]  # the misspelling is the point
    with pytest.raises(AttributeError):
        TapTable("cat", "cat.sources").colums  # type: ignore[attr-defined]  # noqa: B018  # the misspelling is the point
    assert Tableset().table("anything") is None


def test_a_definition_is_published_with_reserved_words_delimited_and_its_indexed_columns_flagged() -> None:
    definition = TableDef(
        schema="cat",
        name="sources",
        description="Sources",
        columns=(
            ColumnDef("id", "long", "Source", principal=True),
            ColumnDef("size", "float", "Major axis", unit="arcsec"),
            ColumnDef("ra", "double", "Right ascension"),
            ColumnDef("dec", "double", "Declination"),
            ColumnDef("band", "char", "Band", arraysize="*", indexed=True, std=True),
            ColumnDef("note", "unicodeChar", "Note", arraysize="*"),
        ),
        indexes=(IndexDef("sources_size", columns=("size",)),),
        primary_key=("id",),
        foreign_keys=(ForeignKeyDef("sources-bands", "cat.bands", (("band", "band"),)),),
        position=("ra", "dec"),
    )
    table = published_table(definition)
    assert (table.name, table.bare_name, table.primary_key) == ("cat.sources", "sources", ("id",))
    assert [c.name for c in table.columns] == ["id", '"size"', "ra", "dec", "band", "note"]
    # indexed: the primary key's first column, an index's, the position pair, a declared one
    assert [c.name for c in table.columns if c.indexed] == ["id", '"size"', "ra", "dec", "band"]
    assert [c.principal for c in table.columns] == [True, False, False, False, False, False]
    assert table.foreign_keys[0].columns == (("band", "band"),)
    assert table.meta() == definition.meta()  # the translator sees the table as defined
