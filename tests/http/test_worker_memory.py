"""A server worker loads a science library when a request needs it, and stays within a bound after
a mixed session: read from the worker's own memory map and status in /proc (a shared object
mapped is a library loaded), on a worker that has answered nothing else."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dalserver.records.stored import stored_path
from tests.support.archive import Archive
from tests.support.servers import RunningServer, resident_mb, start_server_on_free_port, stop_server

# What building the registry records, the MOC files, SODA and the previews load; cone search and
# the portal's lists read the registry state only.
MOC_LIBRARIES = ("mocpy", "cdshealpix", "astropy")
# What the FITS and Parquet answers, the previews, SODA's cutouts and the HiPS build load: none of
# the mixed session's requests needs them (its OAI records are the stored ones).
SCIENCE_LIBRARIES = (*MOC_LIBRARIES, "erfa", "scipy", "PIL", "reproject", "pyarrow/_parquet", "matplotlib")
# A worker's own memory after the session (RssAnon: heap, arenas, the interpreter's objects) was
# 85 MB here. Its resident library pages (RssFile) are shared with the other workers and follow the
# page cache's state rather than the worker: 60 MB where the libraries' cache was dropped before
# it started (docs/operators-guide/production.md, Memory), 100 MB where another process (this test
# run) keeps them cached, because the kernel maps a faulted page's cached neighbours with it. So
# each has its own bound, the shared part's loose: 146 MB of RSS in all on one machine, 184 on CI.
WORKER_OWN_MB = 110
MIXED_SESSION_MB = 210


def _mapped(pid: int, libraries: tuple[str, ...]) -> list[str]:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return [name for name in libraries if f"/{name}" in maps]


@pytest.fixture
def fresh_worker(archive: Archive, tmp_path: Path) -> Iterator[RunningServer]:
    """One worker (the server's own process) that has answered nothing else and runs no async jobs."""
    server = start_server_on_free_port(archive.env, tmp_path / "server.log", {"DALSERVER_ASYNC_WORKERS": "0"})
    try:
        yield server
    finally:
        stop_server(server)


def test_cone_search_the_portal_and_oai_load_no_moc_library_even_when_the_stored_records_are_out_of_date(
    fresh_worker: RunningServer, archive: Archive
) -> None:
    base, pid = fresh_worker.base, fresh_worker.process.pid
    listing = {"verb": "ListRecords", "metadataPrefix": "ivo_vor"}
    with httpx.Client(base_url=base, timeout=60) as client:
        cone = client.get("/scs/ivoa.obscore", params={"RA": "34.5", "DEC": "-5", "SR": "0.5"})
        assert cone.status_code == 200 and b"<TR>" in cone.content
        assert client.get("/scs").status_code == 200
        assert client.get("/portal/catalogues.json").status_code == 200
        stored = client.get("/oai", params=listing)  # the records the server's start stored
        assert stored.status_code == 200 and b"<spatial>" in stored.content
        assert _mapped(pid, MOC_LIBRARIES) == []
        path = stored_path(archive.settings)
        aside = path.rename(path.with_suffix(".aside"))
        try:
            built = client.get("/oai", params=listing)  # built apart, as when an ingest is not refreshed yet
        finally:
            aside.rename(path)
    assert built.status_code == 200 and b"<spatial>" in built.content  # the coverage needed mocpy: the child's
    assert _mapped(pid, MOC_LIBRARIES) == []
    assert _without_date(built.content) == _without_date(stored.content)


def _without_date(oai: bytes) -> bytes:
    return re.sub(rb"<oai:responseDate>[^<]*</oai:responseDate>", b"", oai)


def test_a_worker_stays_under_its_bound_and_loads_no_science_library_in_a_mixed_session(
    fresh_worker: RunningServer, served_surveys: subprocess.CompletedProcess[str]
) -> None:
    base, pid = fresh_worker.base, fresh_worker.process.pid
    cone = "SELECT TOP 50 * FROM ivoa.obscore WHERE 1 = CONTAINS(POINT(s_ra, s_dec), CIRCLE(34.5, -5, 0.5))"
    with httpx.Client(base_url=base, timeout=60) as client:
        survey = next(
            line.split("=", 1)[1].strip()
            for line in client.get("/hips/hipslist").text.splitlines()
            if line.startswith("hips_service_url")
        )
        for _ in range(3):
            for method, path, data in (
                ("POST", "/tap/sync", {"LANG": "ADQL", "QUERY": cone}),
                ("POST", "/tap/sync", {"LANG": "ADQL", "QUERY": "SELECT * FROM ivoa.obscore", "RESPONSEFORMAT": "csv"}),
                ("GET", "/sia/query?POS=CIRCLE+34.5+-5+0.05", None),
                ("GET", "/scs/ivoa.obscore?RA=34.5&DEC=-5&SR=0.5", None),
                ("GET", f"{survey}/properties", None),
                ("GET", "/oai?verb=ListRecords&metadataPrefix=ivo_vor", None),
                ("GET", "/", None),
                ("GET", "/portal/config.json", None),
                ("GET", "/tap/tables", None),
            ):
                assert client.request(method, path, data=data).status_code == 200, path
    assert resident_mb(pid, "RssAnon") <= WORKER_OWN_MB and resident_mb(pid) <= MIXED_SESSION_MB
    assert _mapped(pid, SCIENCE_LIBRARIES) == []
