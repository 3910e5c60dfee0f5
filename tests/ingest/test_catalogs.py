"""Catalogue publishing: every format with its metadata, the sidecar, the spatial index, atomic
replacement, and a clear refusal of bad input with nothing half-published."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
import psycopg
import pytest
import pyvo
from astropy.table import Table

from adql import to_postgres
from tests.support.archive import Archive, load_catalog

N = 20_000


def _table(n: int = N, seed: int = 1) -> Table:
    rng = np.random.default_rng(seed)
    t = Table()
    t["id"] = np.arange(n, dtype=np.int64)
    t["ra"] = rng.uniform(34, 35, n) * u.deg
    t["dec"] = rng.uniform(-5.5, -4.5, n) * u.deg
    t["mag"] = rng.uniform(18, 25, n).astype(np.float32) * u.mag
    t["flag"] = rng.integers(0, 16, n).astype(np.int16)
    t["name"] = [f"SXDS-{i}" for i in range(n)]
    t["ra"].description = "Right ascension (ICRS)"
    return t


SIDECAR = """
description: Synthetic SXDS source list
position: [ra, dec]
columns:
  ra: {ucd: "pos.eq.ra;meta.main"}
  dec: {ucd: "pos.eq.dec;meta.main", description: "Declination (ICRS)"}
  mag: {ucd: phot.mag, description: AB magnitude}
indexes:
  - {columns: [mag]}
"""


def dalserver(archive: Archive, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the dalserver command line against the test archive."""
    return subprocess.run([sys.executable, "-m", "dalserver", *args], env=archive.env, capture_output=True, text=True)


def ingest(archive: Archive, path: Path, table: str, meta: Path | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--meta", str(meta)] if meta is not None else []
    return dalserver(archive, "ingest", "catalog", str(path), "--table", table, "--quiet", *extra)


def columns_of(db: psycopg.Connection, table: str) -> dict[str, tuple[Any, ...]]:
    return {
        r[0]: r[1:]
        for r in db.execute(
            "SELECT column_name, datatype, unit, ucd, description, indexed FROM tap_schema.columns WHERE table_name = %s",
            (table,),
        )
    }


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("catalogs")
    t = _table()
    paths = {fmt: folder / f"cat.{fmt}" for fmt in ("csv", "parquet", "fits", "vot")}
    t.write(paths["csv"])
    t.write(paths["parquet"])
    t.write(paths["fits"])
    t.write(paths["vot"], format="votable")
    (folder / "meta.yaml").write_text(SIDECAR)
    paths["meta"] = folder / "meta.yaml"
    return paths


@pytest.mark.parametrize("fmt", ["csv", "parquet", "fits", "vot"])
def test_every_format_publishes_rows_and_metadata(
    archive: Archive, db: psycopg.Connection, files: dict[str, Path], fmt: str
) -> None:
    table = f"cats.src_{fmt}"
    result = ingest(archive, files[fmt], table, files["meta"])
    assert result.returncode == 0, result.stderr
    assert f"published {table}: {N} rows" in result.stdout and "rows/s" in result.stdout
    assert db.execute(f"SELECT count(*), sum(id), min(name) FROM {table}").fetchone() == (N, N * (N - 1) // 2, "SXDS-0")
    cols = columns_of(db, table)
    assert set(cols) == {"id", "ra", "dec", "mag", "flag", "name"}
    assert cols["ra"][:3] == ("double", "deg" if fmt != "csv" else None, "pos.eq.ra;meta.main")
    assert cols["dec"][2:5] == ("pos.eq.dec;meta.main", "Declination (ICRS)", 1)
    assert cols["mag"][2:] == ("phot.mag", "AB magnitude", 1)
    assert cols["id"][0] == "long"
    if fmt != "csv":  # CSV has no units or column types beyond what can be inferred
        assert cols["mag"][:2] == ("float", "mag")
        assert cols["flag"][0] == "short"
    if fmt in ("parquet", "vot"):
        assert cols["ra"][3] == "Right ascension (ICRS)"


def test_values_survive_exactly(db: psycopg.Connection, files: dict[str, Path]) -> None:
    t = _table()
    for fmt in ("csv", "parquet", "fits", "vot"):
        got = db.execute(f"SELECT id, ra, dec FROM cats.src_{fmt} WHERE id IN (0, 777, 19999) ORDER BY id").fetchall()
        assert got == [(i, float(t["ra"][i]), float(t["dec"][i])) for i in (0, 777, 19999)], fmt


def test_published_tables_appear_in_tap_tables_and_answer_adql(tap_url: str, files: dict[str, Path]) -> None:
    service = pyvo.dal.TAPService(tap_url)
    assert "cats.src_parquet" in list(service.tables.keys())
    columns = {c.name: c for c in service.tables["cats.src_parquet"].columns}
    assert columns["mag"].ucd == "phot.mag"
    result = service.search(
        "SELECT COUNT(*) AS n FROM cats.src_parquet WHERE CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 34.5, -5, 0.1)) = 1"
    )
    t = _table()
    expected = sum(
        1
        for ra, dec in zip(t["ra"], t["dec"], strict=True)
        if np.degrees(
            np.arccos(
                np.clip(
                    np.sin(np.radians(dec)) * np.sin(np.radians(-5))
                    + np.cos(np.radians(dec)) * np.cos(np.radians(-5)) * np.cos(np.radians(ra - 34.5)),
                    -1,
                    1,
                )
            )
        )
        <= 0.1
    )
    assert int(result[0]["n"]) == expected > 0


def test_cone_queries_use_the_spatial_index(archive: Archive, db: psycopg.Connection, files: dict[str, Path]) -> None:
    catalog = load_catalog(archive.url)  # after the catalogues of this module were published
    sql = to_postgres(
        "SELECT id FROM cats.src_csv WHERE CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 34.5, -5, 0.01)) = 1",
        catalog,
    ).sql
    plan = "\n".join(r[0] for r in db.execute(f"EXPLAIN {sql}"))
    print(plan)
    assert "Index Scan" in plan or "Bitmap Index Scan" in plan
    assert "src_csv_pos_" in plan


def test_a_bad_row_leaves_the_published_table_and_tap_schema_as_they_were(
    archive: Archive, db: psycopg.Connection, files: dict[str, Path], tmp_path: Path
) -> None:
    assert ingest(archive, files["csv"], "cats.stable", files["meta"]).returncode == 0
    before = (db.execute("SELECT count(*) FROM cats.stable").fetchone(), columns_of(db, "cats.stable"))
    bad = tmp_path / "bad.csv"
    lines = files["csv"].read_text().splitlines()
    lines[15000] = (
        lines[15000].replace(",SXDS", ",not-a-number-here,SXDS").replace(lines[15000].split(",")[4], "oops", 1)
    )
    bad.write_text("\n".join(lines) + "\n")
    result = ingest(archive, bad, "cats.stable", files["meta"])
    assert result.returncode == 1
    assert "bad.csv" in result.stderr and "line 15001" in result.stderr and "nothing was published" in result.stderr
    assert (db.execute("SELECT count(*) FROM cats.stable").fetchone(), columns_of(db, "cats.stable")) == before
    assert not db.execute("SELECT 1 FROM pg_tables WHERE schemaname = 'cats' AND tablename LIKE '%staging%'").fetchall()


def test_a_killed_ingest_leaves_everything_as_it_was(
    archive: Archive, db: psycopg.Connection, files: dict[str, Path], tmp_path: Path
) -> None:
    assert ingest(archive, files["parquet"], "cats.killme").returncode == 0
    big = tmp_path / "big.parquet"
    _table(n=3_000_000, seed=2).write(big)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dalserver", "ingest", "catalog", str(big), "--table", "cats.killme", "--quiet"],
        env=archive.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the COPY into the staging table is under way
        if db.execute("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'COPY %%killme_staging%%'").fetchone():
            break
        time.sleep(0.05)
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    for _ in range(100):  # the server notices the dead client and rolls back
        if not db.execute("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'COPY %%killme%%'").fetchone():
            break
        time.sleep(0.1)
    assert db.execute("SELECT count(*) FROM cats.killme").fetchone() == (N,)
    assert db.execute("SELECT count(*) FROM tap_schema.tables WHERE table_name = 'cats.killme'").fetchone() == (1,)
    assert not db.execute(
        "SELECT 1 FROM pg_tables WHERE schemaname = 'cats' AND tablename LIKE 'killme_staging%'"
    ).fetchall()


@pytest.mark.parametrize(
    ("content", "meta", "fragments"),
    [
        (b"a,b\n1,2\n3\n", None, ["line 3", "missing data for column"]),
        (b"a,b\n1,2\n3,4,5\n", None, ["line 3", "extra data"]),
        (b"a,a\n1,2\n", None, ["duplicate column name 'a'"]),
        (b"a,b\n1,x\n2,y\n", "columns:\n  b: {datatype: int}\n", ["line 2", "invalid input syntax for type integer"]),
        (b"a,b\n1,caf\xe9\n", None, ["line 2", "invalid byte sequence"]),
        (b"a,b\n1,2\n", "columns:\n  c: {unit: m}\n", ["columns the file does not have: c"]),
        (b"a,b\n1,2\n", "position: [ra, dec]\n", ["position column 'ra' is not in the file"]),
        # a name SQL text cannot carry: the SQL-text floor's error, told as the ingest's
        (b"a\x00b,c\n1,2\n", None, ["input.csv: the name 'a\\x00b' contains the NUL character"]),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(
    archive: Archive, db: psycopg.Connection, tmp_path: Path, content: bytes, meta: str | None, fragments: list[str]
) -> None:
    path = tmp_path / "input.csv"
    path.write_bytes(content)
    meta_path = None
    if meta is not None:
        meta_path = tmp_path / "meta.yaml"
        meta_path.write_text(meta)
    result = ingest(archive, path, "cats.bad", meta_path)
    assert result.returncode == 1
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert db.execute("SELECT count(*) FROM tap_schema.tables WHERE table_name = 'cats.bad'").fetchone() == (0,)


def test_non_utf8_text_in_a_later_block_names_the_line(
    archive: Archive, db: psycopg.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "latin1.csv"
    rows = [b"a,b"] + [f"{i},name{i}".encode() for i in range(60000)] + [b"60000,caf\xe9"]
    path.write_bytes(b"\n".join(rows) + b"\n")
    result = ingest(archive, path, "cats.latin1")
    assert result.returncode == 1
    assert "invalid byte sequence" in result.stderr and "line 60002" in result.stderr


def test_reserved_words_as_column_names_are_published_delimited(archive: Archive, tap_url: str, tmp_path: Path) -> None:
    path = tmp_path / "reserved.csv"
    path.write_text('size,"select",ok\n1,2,3\n4,5,6\n')
    result = ingest(archive, path, "cats.reserved")
    assert result.returncode == 0, result.stderr
    assert "'size'" in result.stderr and '"size"' in result.stderr
    rows = pyvo.dal.TAPService(tap_url).search('SELECT "size", "select", ok FROM cats.reserved ORDER BY ok')
    assert [int(r["size"]) for r in rows] == [1, 4]


def test_drop_catalog_removes_the_table_and_its_metadata(
    archive: Archive, db: psycopg.Connection, files: dict[str, Path]
) -> None:
    assert ingest(archive, files["csv"], "dropme.src").returncode == 0
    result = dalserver(archive, "drop", "catalog", "dropme.src")
    assert result.returncode == 0, result.stderr
    assert not db.execute("SELECT 1 FROM tap_schema.tables WHERE table_name = 'dropme.src'").fetchall()
    assert not db.execute("SELECT 1 FROM tap_schema.columns WHERE table_name = 'dropme.src'").fetchall()
    assert not db.execute("SELECT 1 FROM tap_schema.schemas WHERE schema_name = 'dropme'").fetchall()
    assert not db.execute("SELECT 1 FROM pg_tables WHERE schemaname = 'dropme'").fetchall()
    again = dalserver(archive, "drop", "catalog", "dropme.src")
    assert again.returncode == 1 and "no published catalogue" in again.stderr
    protected = dalserver(archive, "drop", "catalog", "ivoa.obscore")
    assert protected.returncode == 1 and "reserved" in protected.stderr


def test_votable_tabledata_streams_nulls_and_unicode_and_binary2_loads_too(
    archive: Archive, db: psycopg.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "small.vot"
    path.write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE><TABLE>
<DESCRIPTION>Tiny list</DESCRIPTION>
<FIELD name="id" datatype="long"><VALUES null="-1"/></FIELD>
<FIELD name="ra" datatype="double" unit="deg" ucd="pos.eq.ra;meta.main"><DESCRIPTION>RA</DESCRIPTION></FIELD>
<FIELD name="dec" datatype="double" unit="deg" ucd="pos.eq.dec;meta.main"/>
<FIELD name="label" datatype="unicodeChar" arraysize="*"/>
<FIELD name="ok" datatype="boolean"/>
<DATA><TABLEDATA>
<TR><TD>1</TD><TD>34.5</TD><TD>-5.0</TD><TD>Ωμέγα, "quoted"</TD><TD>T</TD></TR>
<TR><TD>-1</TD><TD>NaN</TD><TD></TD><TD/><TD>F</TD></TR>
</TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>""",
        encoding="utf-8",
    )
    result = ingest(archive, path, "cats.tiny")
    assert result.returncode == 0, result.stderr
    assert db.execute("SELECT id, ra, dec, label, ok FROM cats.tiny ORDER BY ra NULLS LAST").fetchall()[0] == (
        1,
        34.5,
        -5.0,
        'Ωμέγα, "quoted"',
        True,
    )
    second = db.execute("SELECT id, dec, label, ok FROM cats.tiny WHERE NOT ok").fetchone()
    assert second == (None, None, None, False)
    assert columns_of(db, "cats.tiny")["ra"] == ("double", "deg", "pos.eq.ra;meta.main", "RA", 1)  # position from UCDs

    table = _table(n=500)
    table["mag"] = np.ma.masked_array(table["mag"], mask=np.arange(500) % 7 == 0)
    for serialisation in ("binary", "binary2"):
        binary = tmp_path / f"{serialisation}.vot"
        table.write(binary, format="votable", tabledata_format=serialisation)
        result = ingest(archive, binary, f"cats.{serialisation}")
        assert result.returncode == 0, result.stderr
        got = db.execute(
            f"SELECT count(*), max(id), count(mag), min(name), sum(flag) FROM cats.{serialisation}"
        ).fetchone()
        assert got == (500, 499, 500 - 72, "SXDS-0", int(table["flag"].sum())), serialisation
        ras = [r[0] for r in db.execute(f"SELECT ra FROM cats.{serialisation} ORDER BY id")]
        assert ras == [float(x) for x in table["ra"]]
