"""Harvesting other registries into the local RegTAP: a second dalserver on loopback (its own
database, authority and catalogue) harvested with the real command; incremental with from=,
deleted records removed, an interrupted harvest resumed; a record that is not valid VOResource
skipped by name while the rest load."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import psycopg
import pytest
import pyvo
from pyvo.registry import regtap

from archive_io.registry_state import REGISTRY
from dalserver.records.build import build_records
from dalserver.records.config import RegistryConfig
from dalserver.registry.harvest import HarvestError, harvest
from dalserver.registry.oai import Repository, Responder
from dalserver.settings import Settings
from tests.support.archive import Archive
from tests.support.registry import sample_state, write_catalog
from tests.support.servers import RunningServer, free_port, start_server, stop_server
from tests.support.tap import sync
from tests.support.votable import rows

PEER_AUTHORITY = "peer.demo"
STARS = f"ivo://{PEER_AUTHORITY}/orion/stars"


@dataclass
class Peer:
    server: RunningServer
    env: dict[str, str]
    url: str  # its database

    @property
    def oai(self) -> str:
        return f"{self.server.base}/oai"


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "dalserver", *args], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def peer(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    """Another data centre: its own database, authority and a catalogue of Orion stars; OAI-PMH
    pages of two records, so that harvests take several pages."""
    name = "dalserver_registry_peer"
    with psycopg.connect(archive.url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    url = archive.url.replace(f"/{archive.settings.database_name}?", f"/{name}?")
    home = tmp_path_factory.mktemp("peer")
    port = free_port()
    env = {
        **archive.env,
        "DALSERVER_DATABASE_URL": url,
        "DALSERVER_HOME": str(home),
        "DALSERVER_PORT": str(port),
        "DALSERVER_IVOID_AUTHORITY": PEER_AUTHORITY,
        "DALSERVER_TITLE": "Peer data centre",
        "DALSERVER_OAI_PAGE_SIZE": "2",
    }
    data, meta = write_catalog(home, "stars", (83.8, -5.4), "Young stars in the Orion Nebula Cluster", 200, 4)
    _run(env, "ingest", "catalog", str(data), "--table", "orion.stars", "--meta", str(meta), "--quiet")
    server = start_server(env, f"http://127.0.0.1:{port}", home / "server.log")
    try:
        yield Peer(server, env, url)
    finally:
        stop_server(server)


@pytest.fixture
def registry(tap_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(regtap, "REGISTRY_BASEURL", regtap.REGISTRY_BASEURL)
    pyvo.registry.choose_RegTAP_service(tap_url)
    return tap_url


def _in_rr(tap_url: str, ivoid: str) -> bool:
    return rows(sync(tap_url, f"SELECT COUNT(*) FROM rr.resource WHERE ivoid = '{ivoid}'")) == [["1"]]


def test_harvest_finds_the_peers_resources_which_answer(archive: Archive, peer: Peer, registry: str) -> None:
    out = _run(archive.env, "registry", "harvest", peer.oai, "--quiet").stdout
    assert "records loaded" in out and "0 skipped" in out
    found = {r.ivoid: r for r in pyvo.regsearch(keywords=["Orion"])}
    assert STARS in found
    cone = found[STARS].get_service("scs").search(pos=(83.8, -5.4), radius=0.2)
    assert len(cone) > 0
    assert f"ivo://{PEER_AUTHORITY}/tap" in {r.ivoid for r in pyvo.regsearch(servicetype="tap")}
    # both publishers side by side, each record once
    ivoids = [r.ivoid for r in pyvo.regsearch(servicetype="tap")]
    assert "ivo://dalserver.demo/tap" in ivoids and len(ivoids) == len(set(ivoids))


def test_a_second_harvest_is_incremental_and_removes_withdrawn_records(
    archive: Archive, peer: Peer, tap_url: str
) -> None:
    _run(archive.env, "registry", "harvest", peer.oai, "--quiet")
    assert _in_rr(tap_url, STARS)
    time.sleep(1.1)  # OAI-PMH datestamps have second granularity
    _run(peer.env, "drop", "catalog", "orion.stars")
    out = _run(archive.env, "registry", "harvest", peer.oai, "--quiet").stdout
    # only what changed comes: the withdrawn catalogue and the TAP service that served it
    assert "1 removed" in out and "1 records loaded" in out, out
    assert not _in_rr(tap_url, STARS)
    assert rows(sync(tap_url, f"SELECT COUNT(*) FROM rr.table_column WHERE ivoid = '{STARS}'")) == [["0"]]
    assert _in_rr(tap_url, f"ivo://{PEER_AUTHORITY}/tap")
    data, meta = write_catalog(
        Path(peer.env["DALSERVER_HOME"]), "stars", (83.8, -5.4), "Young stars in the Orion Nebula Cluster", 200, 4
    )
    _run(peer.env, "ingest", "catalog", str(data), "--table", "orion.stars", "--meta", str(meta), "--quiet")


class _Failing(httpx.BaseTransport):
    """The network going away after ``pages`` answers."""

    def __init__(self, pages: int):
        self.left = pages
        self.inner = httpx.HTTPTransport()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.left == 0:
            raise httpx.ConnectError("network unreachable", request=request)
        self.left -= 1
        return self.inner.handle_request(request)


def test_an_interrupted_harvest_resumes_from_the_next_page(archive: Archive, peer: Peer, tap_url: str) -> None:
    with psycopg.connect(archive.url, autocommit=True) as conn:
        conn.execute("DELETE FROM registry.harvest WHERE source = %s", (peer.oai,))
    failing = _Failing(pages=2)
    with pytest.raises(HarvestError, match="run the harvest again to resume"):
        harvest(archive.url, peer.oai, full=True, progress=False, client=httpx.Client(transport=failing))
    with psycopg.connect(archive.url) as conn:
        (token,) = conn.execute("SELECT resume_token FROM registry.harvest WHERE source = %s", (peer.oai,)).fetchone()
    assert token
    counting = _Failing(pages=1000)
    report = harvest(archive.url, peer.oai, progress=False, client=httpx.Client(transport=counting))
    assert report.resumed and report.pages >= 1
    assert "resumptionToken" in str(counting.requests[0].url) and "metadataPrefix" not in str(counting.requests[0].url)
    assert _in_rr(tap_url, STARS) and _in_rr(tap_url, f"ivo://{PEER_AUTHORITY}/sia")
    with psycopg.connect(archive.url) as conn:
        state = conn.execute(
            "SELECT resume_token, harvested_until FROM registry.harvest WHERE source = %s", (peer.oai,)
        ).fetchone()
    assert state[0] is None and state[1] is not None


class _StaticRegistry(BaseHTTPRequestHandler):
    """A registry of another make on loopback, serving fixed records one of which is broken."""

    responder: Responder

    def do_GET(self) -> None:  # noqa: N802  # http.server's name
        args = parse_qs(urlparse(self.path).query)
        body = self.responder.respond(args)
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def broken_registry() -> Iterator[str]:
    settings = Settings(base_url="http://static.example.org", ivoid_authority="static.example")
    records = build_records(sample_state(), settings, RegistryConfig())
    sia = next(r for r in records if r.ivoid == "ivo://static.example/sia")
    assert sia.resource is not None
    sia.resource.remove(sia.resource.find("curation"))  # VOResource requires curation
    repository = Repository(
        "static", "http://static.example.org/oai", "x@example.org", next(r for r in records if r.key == REGISTRY)
    )
    handler = type("Handler", (_StaticRegistry,), {"responder": Responder(repository, records, 3)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/oai"
    finally:
        server.shutdown()


def test_an_invalid_record_is_skipped_by_name_and_the_rest_load(
    archive: Archive, broken_registry: str, tap_url: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dalserver", "registry", "harvest", broken_registry, "--quiet"],
        env=archive.env,
        capture_output=True,
        text=True,
    )
    try:
        assert done.returncode == 0, done.stderr
        assert "skipped ivo://static.example/sia" in done.stderr and "not valid VOResource" in done.stderr
        assert "1 skipped" in done.stdout
        assert not _in_rr(tap_url, "ivo://static.example/sia")
        assert _in_rr(tap_url, "ivo://static.example/tap") and _in_rr(
            tap_url, "ivo://static.example/subaru-suprime-cam"
        )
    finally:
        with psycopg.connect(archive.url) as conn:
            from dalserver.records.regtap import delete_record

            with conn.cursor() as cur:
                for (ivoid,) in cur.execute(
                    "SELECT ivoid FROM registry.rr_origin WHERE origin = %s", (broken_registry,)
                ).fetchall():
                    delete_record(cur, ivoid)


def test_a_harvest_never_replaces_this_archives_own_records(archive: Archive, tap_url: str) -> None:
    """Our own feed harvested back: every record is skipped as ours, none duplicated or replaced."""
    done = subprocess.run(
        [sys.executable, "-m", "dalserver", "registry", "harvest", f"{tap_url[:-4]}/oai", "--quiet", "--full"],
        env=archive.env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "this archive's own records" in done.stderr
    origins = rows(sync(tap_url, "SELECT COUNT(*) FROM rr.resource WHERE ivoid = 'ivo://dalserver.demo/tap'"))
    assert origins == [["1"]]
