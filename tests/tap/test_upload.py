"""TAP UPLOAD, sync and async: the user's table in every VOTable serialisation (and CSV), typed
from its FIELDs, cross-matched against a published catalogue through its spatial index, seen by
that one query only; and a clear error document for every bad upload."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import astropy.units as u
import httpx
import numpy as np
import psycopg
import pytest
import pyvo
from astropy.io.votable import from_table
from astropy.table import Table

from adql import to_postgres
from dalserver.settings import Settings
from dalserver.tap.upload import array_text, read_upload
from tests.support.archive import Archive, load_catalog
from tests.support.servers import another_server
from tests.support.uws import wait_for_phase
from tests.support.votable import query_status, rows

N_STARS = 20_000
XMATCH = (
    "SELECT u.name, s.id FROM TAP_UPLOAD.mine AS u JOIN xm.stars AS s "
    "ON CONTAINS(POINT('ICRS', s.ra, s.dec), CIRCLE('ICRS', u.ra, u.dec, 2/3600.0)) = 1 ORDER BY s.id"
)


def _stars() -> Table:
    rng = np.random.default_rng(7)
    t = Table()
    t["id"] = np.arange(N_STARS, dtype=np.int64)
    t["ra"] = rng.uniform(34, 35, N_STARS) * u.deg
    t["dec"] = rng.uniform(-5.5, -4.5, N_STARS) * u.deg
    return t


@pytest.fixture(scope="module")
def stars(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Table:
    """A published catalogue with a positional index, to cross-match uploads against."""
    directory = tmp_path_factory.mktemp("xm")
    table = _stars()
    table.write(directory / "stars.parquet")
    (directory / "stars.yaml").write_text("position: [ra, dec]\n")
    command = [sys.executable, "-m", "dalserver", "ingest", "catalog", str(directory / "stars.parquet")]
    command += ["--table", "xm.stars", "--meta", str(directory / "stars.yaml"), "--quiet"]
    subprocess.run(command, env=archive.env, check=True, capture_output=True)
    return table


def _mine(stars: Table, picks: tuple[int, ...] = (5, 123, 19_999)) -> Table:
    """Positions 1 arcsec off some catalogue stars, with columns of every scalar type."""
    t = Table()
    t["name"] = [f"src-{i}-é" for i in picks]
    t["ra"] = [float(stars["ra"][i]) + (1 / 3600) / np.cos(np.radians(float(stars["dec"][i]))) for i in picks]
    t["dec"] = [float(stars["dec"][i]) for i in picks]
    t["big"] = np.array([2**62 + 1, -(2**53) - 1, 7], dtype=np.int64)
    t["flag"] = np.array([True, False, True])
    return t


def _matches(stars: Table, mine: Table, arcsec: float = 2.0) -> list[int]:
    """Catalogue ids within ``arcsec`` of an uploaded position, computed with numpy."""
    from astropy.coordinates import angular_separation

    ra, dec = np.radians(np.asarray(stars["ra"])), np.radians(np.asarray(stars["dec"]))
    found: list[int] = []
    for pra, pdec in zip(np.radians(np.asarray(mine["ra"])), np.radians(np.asarray(mine["dec"])), strict=True):
        near = np.degrees(angular_separation(ra, dec, pra, pdec)) * 3600 < arcsec
        found.extend(int(i) for i in np.asarray(stars["id"])[near])
    return sorted(found)


def _votable_bytes(table: Table, serialisation: str) -> bytes:
    buffer = io.BytesIO()
    from_table(table).to_xml(buffer, tabledata_format=serialisation)
    return buffer.getvalue()


def _sync(tap_url: str, query: str, files: dict[str, bytes], upload: str, **params: str) -> httpx.Response:
    return httpx.post(
        f"{tap_url}/sync",
        data={"LANG": "ADQL", "QUERY": query, "UPLOAD": upload, **params},
        files={name: (f"{name}.xml", body) for name, body in files.items()},
        timeout=60,
    )


# --- clients -------------------------------------------------------------------------------------
def test_pyvo_sync_upload_cross_matches_against_a_catalogue(tap_url: str, stars: Table) -> None:
    result = pyvo.dal.TAPService(tap_url).search(XMATCH, uploads={"mine": _mine(stars)})
    assert list(result["id"]) == _matches(stars, _mine(stars))
    assert {5, 123, 19_999} <= set(result["id"])
    assert {"src-5-é", "src-123-é", "src-19999-é"} == set(result["name"])


def test_pyvo_async_upload_with_distance(tap_url: str, stars: Table) -> None:
    query = (
        "SELECT u.name, s.id, DISTANCE(POINT(u.ra, u.dec), POINT(s.ra, s.dec)) * 3600 AS sep "
        "FROM TAP_UPLOAD.mine AS u, xm.stars AS s WHERE DISTANCE(POINT(u.ra, u.dec), POINT(s.ra, s.dec)) < 2/3600.0"
    )
    result = pyvo.dal.TAPService(tap_url).run_async(query, uploads={"mine": _mine(stars)})
    assert sorted(result["id"]) == _matches(stars, _mine(stars))
    own = [
        sep for name, i, sep in zip(result["name"], result["id"], result["sep"], strict=True) if name == f"src-{i}-é"
    ]
    assert len(own) == 3 and np.allclose(own, 1.0, atol=1e-6)


def test_pyvo_job_upload_through_the_parameters_resource(tap_url: str, stars: Table) -> None:
    job = pyvo.dal.TAPService(tap_url).submit_job("SELECT COUNT(*) AS n FROM TAP_UPLOAD.later")
    job.upload(later=_mine(stars))
    job.run()
    job.wait(timeout=60)
    assert int(job.fetch_result().to_table()["n"][0]) == 3


@pytest.mark.parametrize("serialisation", ["tabledata", "binary", "binary2"])
def test_every_votable_serialisation_uploads_with_values_intact(tap_url: str, stars: Table, serialisation: str) -> None:
    mine = _mine(stars)
    mine["ra"][1] = np.nan  # a null double
    body = _votable_bytes(mine, serialisation)
    response = _sync(
        tap_url,
        "SELECT name, ra, dec, big, flag FROM TAP_UPLOAD.t",
        {"f": body},
        "t,param:f",
        RESPONSEFORMAT="votable/b2",
    )
    assert response.status_code == 200, response.text
    got = Table.read(io.BytesIO(response.content), format="votable")
    assert list(got["name"]) == list(mine["name"])
    assert list(got["big"]) == [2**62 + 1, -(2**53) - 1, 7]
    assert list(got["dec"]) == list(mine["dec"])  # full double precision
    assert got["ra"].mask[1] and float(got["ra"][0]) == float(mine["ra"][0])
    assert list(got["flag"]) == [True, False, True]


def test_a_csv_upload_and_its_timestamps(tap_url: str) -> None:
    csv = b"id,label,t_obs\n1,alpha,2003-10-01T10:00:00\n2,,2003-10-02T11:30:00.5\n"
    response = _sync(tap_url, "SELECT id, label FROM TAP_UPLOAD.c ORDER BY id", {"c": csv}, "c,param:c")
    assert rows(response) == [["1", "alpha"], ["2", None]]
    body = (
        b'<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE><TABLE>'
        b'<FIELD name="t" datatype="char" arraysize="*" xtype="timestamp"/><DATA><TABLEDATA>'
        b"<TR><TD>2003-10-01T10:00:00Z</TD></TR><TR><TD>2003-10-02T11:30:00.5</TD></TR>"
        b"</TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>"
    )
    response = _sync(tap_url, "SELECT t FROM TAP_UPLOAD.s WHERE t > '2003-10-02'", {"s": body}, "s,param:s")
    assert response.status_code == 200, response.text
    assert rows(response) == [["2003-10-02T11:30:00.500000"]]


def test_two_uploads_in_one_query(tap_url: str, stars: Table) -> None:
    body = _votable_bytes(_mine(stars), "binary2")
    response = _sync(
        tap_url,
        "SELECT COUNT(*) AS n FROM TAP_UPLOAD.a AS a JOIN TAP_UPLOAD.b AS b ON a.name = b.name",
        {"pa": body, "pb": body},
        "a,param:pa;b,param:pb",
    )
    assert rows(response) == [["3"]]


# --- only that query sees it ---------------------------------------------------------------------
def test_an_upload_is_gone_after_its_query(tap_url: str, stars: Table, archive: Archive) -> None:
    _sync(
        tap_url, "SELECT COUNT(*) FROM TAP_UPLOAD.gone", {"f": _votable_bytes(_mine(stars), "binary2")}, "gone,param:f"
    )
    response = httpx.get(f"{tap_url}/sync", params={"LANG": "ADQL", "QUERY": "SELECT * FROM TAP_UPLOAD.gone"})
    assert response.status_code == 400 and "not published" in query_status(response)[1]
    with psycopg.connect(archive.url) as conn:
        left = conn.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'tap_upload_%'").fetchone()[0]
    assert left == 0


def test_a_cross_match_uses_the_catalogues_spatial_index(archive: Archive, stars: Table) -> None:
    """Both ways of writing the match, and DISTANCE, reach the catalogue's GiST index."""
    catalog = load_catalog(archive.url)
    queries = [
        XMATCH,
        XMATCH.replace(
            "POINT('ICRS', s.ra, s.dec), CIRCLE('ICRS', u.ra, u.dec",
            "POINT('ICRS', u.ra, u.dec), CIRCLE('ICRS', s.ra, s.dec",
        ),
        "SELECT u.name, s.id FROM TAP_UPLOAD.mine AS u, xm.stars AS s "
        "WHERE DISTANCE(POINT(u.ra, u.dec), POINT(s.ra, s.dec)) < 2/3600.0",
    ]
    with psycopg.connect(archive.url, autocommit=True) as conn:
        path = Path(archive.settings.home) / "mine.xml"
        path.write_bytes(_votable_bytes(_mine(stars), "tabledata"))
        table = read_upload("mine", path, Settings())
        # The session holds the upload as the server's does: one array per column.
        for index in range(len(table.columns)):
            conn.execute(
                "SELECT set_config(%s, %s, false)", (table.setting(index), array_text(table.data.column(index)))
            )
        for query in queries:
            sql = to_postgres(query, catalog.with_tables([table.meta()])).sql
            plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN {sql}"))
            assert "stars_pos" in plan and "Index" in plan, plan
            assert len(conn.execute(sql).fetchall()) == len(_matches(stars, _mine(stars)))


# --- bad uploads ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_limits(archive: Archive) -> Iterator[str]:
    settings = {
        "DALSERVER_UPLOAD_MAX_BYTES": "4000",
        "DALSERVER_UPLOAD_MAX_ROWS": "5",
        "DALSERVER_UPLOAD_URL_FETCH": "false",
    }
    with another_server(archive.env, archive.settings.home / "upload-limits.log", settings) as server:
        yield f"{server.base}/tap"


def _error(response: httpx.Response) -> str:
    assert response.status_code in (400, 413), response.text
    status, message = query_status(response)
    assert status == "ERROR"
    return message


def test_bad_uploads_get_a_message_naming_the_problem(tap_url: str, stars: Table) -> None:
    good = _votable_bytes(_mine(stars), "tabledata")
    q = "SELECT * FROM TAP_UPLOAD.t"
    cases = [
        (
            {"f": b"<VOTABLE><RESOURCE><TABLE><FIELD name='a' datatype='int'/><DATA><TABLEDATA><TR><TD>1"},
            "t,param:f",
            "cannot be read",
        ),
        ({"f": good}, "select,param:f", "not valid"),
        ({"f": good}, "1abc,param:f", "not valid"),
        ({"f": good}, "t,param:f;T,param:f", "twice"),
        ({"f": good}, "t,param:nothere", "no file part"),
        ({"f": good}, "t", "table_name,URI"),
        ({"f": good}, "t,ftp://example.org/t.xml", "not supported"),
        ({"f": good}, "t,http://127.0.0.1:9/t.xml", "private or local address"),
        ({"f": b"a,a\n1,2\n"}, "t,param:f", "two columns named"),
    ]
    for files, upload, expected in cases:
        message = _error(_sync(tap_url, q, files, upload))
        assert expected in message, (upload, message)
        assert "/tmp" not in message  # server paths are not shown


def test_upload_limits_are_enforced_and_advertised(small_limits: str, stars: Table) -> None:
    many = Table({"x": np.arange(6)})
    message = _error(
        _sync(small_limits, "SELECT * FROM TAP_UPLOAD.t", {"f": _votable_bytes(many, "binary2")}, "t,param:f")
    )
    assert "6 rows" in message and "limit of 5" in message
    big = Table({"x": np.arange(5), "s": ["x" * 1000] * 5})
    message = _error(
        _sync(small_limits, "SELECT * FROM TAP_UPLOAD.t", {"f": _votable_bytes(big, "tabledata")}, "t,param:f")
    )
    assert "limit" in message and "4000" in message
    url = _error(_sync(small_limits, "SELECT 1", {}, "t,https://example.org/t.xml"))
    assert "switched off" in url
    capabilities = httpx.get(f"{small_limits}/capabilities").text
    assert '<hard unit="byte">4000</hard>' in capabilities
    assert "upload-inline" in capabilities and "upload-http" not in capabilities


def test_async_upload_errors_end_the_job_in_error(tap_url: str) -> None:
    response = httpx.post(
        f"{tap_url}/async",
        data={"LANG": "ADQL", "QUERY": "SELECT * FROM TAP_UPLOAD.t", "UPLOAD": "t,param:f", "PHASE": "RUN"},
        files={"f": ("f.xml", b"<VOTABLE>broken")},
        follow_redirects=False,
    )
    job_url = response.headers["location"]
    assert wait_for_phase(job_url, ("COMPLETED", "ERROR")) == "ERROR"
    assert "cannot be read" in query_status(httpx.get(f"{job_url}/error"))[1]


def test_stilts_tapquery_uploads_synchronously_and_asynchronously(tap_url: str, stars: Table, tmp_path: Path) -> None:
    source = tmp_path / "mine.vot"
    _mine(stars).write(source, format="votable")
    for sync in ("true", "false"):
        out = tmp_path / f"out-{sync}.csv"
        subprocess.run(
            [
                "stilts",
                "tapquery",
                f"tapurl={tap_url}",
                f"sync={sync}",
                f"adql={XMATCH.replace('TAP_UPLOAD.mine', 'TAP_UPLOAD.up1')}",
                "nupload=1",
                f"upload1={source}",
                "ufmt1=votable",
                "upname1=up1",
                f"out={out}",
                "ofmt=csv",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        lines = out.read_text().splitlines()
        assert lines[0] == "name,id"
        assert [int(line.split(",")[1]) for line in lines[1:]] == _matches(stars, _mine(stars)), sync


def test_a_job_with_an_upload_survives_until_it_runs(tap_url: str, stars: Table) -> None:
    body = _votable_bytes(_mine(stars), "binary2")
    response = httpx.post(
        f"{tap_url}/async",
        data={"LANG": "ADQL", "QUERY": "SELECT COUNT(*) AS n FROM TAP_UPLOAD.t", "UPLOAD": "t,param:f"},
        files={"f": ("f.xml", body)},
        follow_redirects=False,
    )
    job_url = response.headers["location"]
    httpx.post(f"{job_url}/phase", data={"PHASE": "RUN"})
    assert wait_for_phase(job_url, ("COMPLETED", "ERROR")) == "COMPLETED"
    assert rows(httpx.get(f"{job_url}/results/result")) == [["3"]]
