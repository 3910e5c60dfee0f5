"""A catalogue ingest that tells the truth: one published without position columns says so and
names the columns that look like positions (by name and by UCD) with the sidecar key to use;
a sidecar's ``nulls`` make a CSV file's own null markers NULL, as TAP then shows. On an archive
and server of the tests' own, so no other test sees these tables or their registry records."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import pyvo
from astropy.table import Table

from archive_io.table_readers import CatalogError, open_catalog
from data_ingest.catalogs.position_hints import no_position_note, pairs_by_name, pairs_by_ucd
from data_ingest.catalogs.publish import Sidecar
from schemas.model import ColumnDef
from tests.support.archive import Archive
from tests.support.own_archive import own_archive
from tests.support.servers import RunningServer, start_server, stop_server
from tests.support.tap import sync


def _columns(*specs: tuple[str, str | None]) -> list[ColumnDef]:
    return [ColumnDef(name, "double", ucd=ucd) for name, ucd in specs]


@pytest.mark.parametrize(
    ("names", "pairs"),
    [
        (["ra", "dec", "mag"], [("ra", "dec")]),
        (["RAJ2000", "DEJ2000"], [("RAJ2000", "DEJ2000")]),
        (["ALPHA_J2000", "DELTA_J2000"], [("ALPHA_J2000", "DELTA_J2000")]),
        (["_RAJ2000", "_DEJ2000", "RA_ICRS", "DE_ICRS"], [("_RAJ2000", "_DEJ2000"), ("RA_ICRS", "DE_ICRS")]),
        (["raMean", "decMean", "ra_err", "dec_err"], [("raMean", "decMean")]),  # errors are no positions
        (["rate", "radius", "date", "flux"], []),
    ],
)
def test_position_candidates_by_name(names: list[str], pairs: list[tuple[str, str]]) -> None:
    assert pairs_by_name(_columns(*((n, None) for n in names))) == pairs


def test_position_candidates_by_ucd_ignore_errors_and_text_columns() -> None:
    columns = _columns(("x", "pos.eq.ra"), ("y", "pos.eq.dec"), ("ex", "stat.error;pos.eq.ra"))
    columns.append(ColumnDef("label", "char", arraysize="*", ucd="pos.eq.ra"))
    assert pairs_by_ucd(columns) == [("x", "y")]


def test_the_no_position_note_says_what_follows_names_candidates_and_the_sidecar_key() -> None:
    note = no_position_note(_columns(("RAJ2000", None), ("DEJ2000", None), ("a", "pos.eq.ra"), ("d", "pos.eq.dec")))
    assert note.startswith("published without position columns: no spatial index, no cone search (/scs)")
    assert "RAJ2000/DEJ2000 (by name), a/d (by UCD)" in note
    assert "position: [RAJ2000, DEJ2000]" in note and "--meta" in note
    none = no_position_note(_columns(("flux", None)))
    assert "no column looks like a right ascension and declination" in none and "position: [" in none


@pytest.mark.parametrize(
    ("text", "nulls"),
    [
        ("nulls: [\"-99\", NaN, '--']", ("-99", "NaN", "--")),
        ("nulls: -99", ("-99",)),
        ("nulls: [-99, -99.0]", ("-99", "-99.0")),
    ],
)
def test_the_sidecar_names_null_markers_as_the_file_writes_them(
    tmp_path: Path, text: str, nulls: tuple[str, ...]
) -> None:
    path = tmp_path / "meta.yaml"
    path.write_text(text)
    assert Sidecar.load(path).nulls == nulls


def test_a_null_marker_that_is_not_a_cell_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "meta.yaml"
    path.write_text("nulls: [{a: 1}]")
    with pytest.raises(CatalogError, match=r"meta.yaml: nulls: \{'a': 1\} is not a cell text"):
        Sidecar.load(path)


def test_csv_null_markers_become_empty_cells_and_quoted_ones_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_text('id,mag,name\n1,20.5,a\n2,-99,"-99"\n3,NaN,--\n4,,""\n')
    source = open_catalog(path, csv_nulls=("-99", "NaN", "--"))
    assert [(c.name, c.datatype) for c in source.columns] == [("id", "long"), ("mag", "double"), ("name", "char")]
    assert b"".join(source.chunks()) == b'"1","20.5","a"\n"2",,"-99"\n"3",,\n"4",,""\n'
    assert not source.header and source.null_markers == ("-99", "NaN", "--")


@pytest.fixture(scope="module")
def own(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    with own_archive(archive, tmp_path_factory.mktemp("catalog-sidecar"), "dalserver_sidecar_test") as mine:
        yield mine


@pytest.fixture(scope="module")
def own_server(own: Archive) -> Iterator[RunningServer]:
    server = start_server(own.env, own.settings.public_url, own.settings.home / "server.log")
    try:
        yield server
    finally:
        stop_server(server)


def _publish(archive: Archive, path: Path, table: str, meta: Path | None = None) -> subprocess.CompletedProcess[str]:
    extra = ["--meta", str(meta)] if meta else []
    return subprocess.run(
        [sys.executable, "-m", "dalserver", "ingest", "catalog", str(path), "--table", table, "--quiet", *extra],
        env=archive.env,
        capture_output=True,
        text=True,
    )


def test_a_catalogue_without_position_columns_is_published_saying_which_columns_could_be(
    own: Archive, own_server: RunningServer, tmp_path: Path
) -> None:
    path = tmp_path / "vizier.csv"
    path.write_text("Seq,RAJ2000,DEJ2000,Vmag\n1,34.5,-5.0,12.5\n2,34.6,-5.1,13.0\n")
    done = _publish(own, path, "cats.vizier")
    assert done.returncode == 0, done.stderr
    assert "published cats.vizier: 2 rows" in done.stdout
    warning = next(line for line in done.stderr.splitlines() if "without position columns" in line)
    assert "RAJ2000/DEJ2000 (by name)" in warning and "position: [RAJ2000, DEJ2000]" in warning
    tap = pyvo.dal.TAPService(f"{own_server.base}/tap")
    assert [int(r["Seq"]) for r in tap.search('SELECT "Seq" FROM cats.vizier ORDER BY "Seq"')] == [1, 2]


def test_sidecar_null_markers_of_a_csv_file_are_nulls_over_tap(
    own: Archive, own_server: RunningServer, tmp_path: Path
) -> None:
    path = tmp_path / "markers.csv"
    path.write_text(
        'id,ra,dec,mag,name\n1,34.5,-5.0,20.5,a\n2,34.6,-5.1,-99,"-99"\n3,34.7,-5.2,NaN,--\n4,34.8,-5.3,,""\n'
    )
    meta = tmp_path / "meta.yaml"
    meta.write_text('position: [ra, dec]\nnulls: ["-99", "NaN", "--"]\n')
    done = _publish(own, path, "cats.markers", meta)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr
    table: Table = (
        pyvo.dal.TAPService(f"{own_server.base}/tap")
        .search("SELECT id, mag, name FROM cats.markers ORDER BY id")
        .to_table()
    )
    assert table["mag"].dtype.kind == "f" and list(np.ma.getmaskarray(table["mag"])) == [False, True, True, True]
    assert table["mag"][0] == 20.5
    # The quoted "-99" is the text -99, the quoted empty one an empty text, -- a null (CSV tells
    # an empty text, "", from a null, nothing).
    csv = sync(f"{own_server.base}/tap", "SELECT id, name FROM cats.markers ORDER BY id", RESPONSEFORMAT="csv")
    assert csv.text.splitlines()[1:] == ['1,"a"', '2,"-99"', "3,", '4,""']


def test_null_markers_are_for_csv_and_other_formats_say_so(own: Archive, tmp_path: Path) -> None:
    path = tmp_path / "marks.vot"
    Table({"id": [1, 2], "mag": [20.5, -99.0]}).write(path, format="votable")
    meta = tmp_path / "meta.yaml"
    meta.write_text('nulls: ["-99"]\n')
    done = _publish(own, path, "cats.marks_vot", meta)
    assert done.returncode == 0, done.stderr
    assert f"nulls in {meta} apply to CSV files only" in done.stderr
