"""The coverage maps the server publishes: made from the footprints and source positions, in
FITS, ASCII and JSON (MOC 2.0), readable by mocpy and astropy."""

from __future__ import annotations

import io
from collections.abc import Iterator

import astropy.units as u
import httpx
import numpy as np
import psycopg
import pytest
from astropy.io import fits
from mocpy import MOC

from archive_io.coverage import footprints_moc
from data_ingest.sample import stack_specs
from pgsql_text.pgsphere import spoly_vertices
from tests.support.archive import Archive
from tests.support.registry import drop_catalog, publish_catalog, write_sxds_catalog

COLLECTION = "subaru-suprime-cam"


def _covers(moc: MOC, ra: float, dec: float) -> bool:
    return bool(moc.contains_lonlat(np.array([ra]) * u.deg, np.array([dec]) * u.deg)[0])


@pytest.fixture(scope="module")
def sources(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[np.ndarray]:
    directory = tmp_path_factory.mktemp("moc")
    data, meta = write_sxds_catalog(directory, sources=200, seed=5)
    publish_catalog(archive.env, data, "mocs.sources", meta)
    table = np.genfromtxt(data, delimiter=",", names=True)
    yield np.column_stack([table["ra"], table["dec"]])
    drop_catalog(archive.env, "mocs.sources")


@pytest.mark.parametrize("suffix", ["fits", "txt", "json"])
def test_the_collection_moc_covers_every_stack_and_nothing_far_away(server: str, suffix: str) -> None:
    response = httpx.get(f"{server}/moc/collection/{COLLECTION}.{suffix}", timeout=30)
    assert response.status_code == 200
    if suffix == "fits":
        assert response.headers["content-type"] == "application/fits"
        with fits.open(io.BytesIO(response.content)) as hdus:
            assert hdus[1].header["MOCVERS"] == "2.0" and hdus[1].header["MOCORD_S"] == 10
        moc = MOC.from_fits(io.BytesIO(response.content))
    elif suffix == "txt":
        moc = MOC.from_string(response.text, format="ascii")
    else:
        moc = MOC.from_string(response.text, format="json")
    for spec in stack_specs():
        assert _covers(moc, spec.ra, spec.dec)
    assert not _covers(moc, 200.0, 60.0) and not _covers(moc, 34.5, 10.0)


def test_the_collection_moc_is_the_union_of_the_footprints(server: str, db: psycopg.Connection) -> None:
    rows = db.execute(
        "SELECT CAST(s_region AS text) FROM ivoa.obscore WHERE obs_collection = 'Subaru/Suprime-Cam'"
    ).fetchall()
    expected = footprints_moc([spoly_vertices(text) for (text,) in rows])
    served = MOC.from_string(httpx.get(f"{server}/moc/collection/Subaru/Suprime-Cam.txt", timeout=30).text)
    assert served == expected


def test_a_catalogue_moc_holds_the_cells_with_sources(server: str, sources: np.ndarray) -> None:
    moc = MOC.from_string(httpx.get(f"{server}/moc/table/mocs.sources.txt", timeout=30).text)
    assert all(_covers(moc, ra, dec) for ra, dec in sources)
    # 200 sources in 0.8 square degrees: order-10 cells (0.0034 deg2) hold them, most of the field is empty
    assert moc.sky_fraction * 41253 < 0.75


def test_unknown_names_and_suffixes_are_404(server: str) -> None:
    for path in (
        "/moc/collection/nothing.fits",
        "/moc/table/no.such.txt",
        "/moc/collection/subaru-suprime-cam.png",
        "/moc/other.fits",
    ):
        response = httpx.get(f"{server}{path}", timeout=30)
        assert response.status_code == 404, path
        assert b"QUERY_STATUS" in response.content


def test_the_archive_moc_is_the_union_of_everything(server: str) -> None:
    moc = MOC.from_string(httpx.get(f"{server}/moc/all.txt", timeout=30).text)
    assert _covers(moc, 34.5, -5.0) and not _covers(moc, 200.0, 60.0)
