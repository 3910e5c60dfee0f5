"""Test fixtures: a real PostgreSQL + pgsphere (a throw-away managed cluster, or the server named by
DALSERVER_DATABASE_URL), the sample archive ingested with the real command line, and the real
HTTP server (uvicorn in a subprocess on a free port).

Every test that uses one of them, directly or through a fixture built on them (in this file or in
a test module), is marked ``db`` here at collection, so ``pytest -m "not db"`` runs the rest with
no database and no server: the session fixtures start only when a db test asks for them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings as hypothesis_settings
from lxml import etree

from adql import Catalog
from dalserver.db.location import database_url, managed_cluster
from dalserver.settings import Settings
from tests.support.archive import Archive, load_catalog
from tests.support.generated import five_million_view
from tests.support.hips import SERVED_BANDS
from tests.support.isolation import forbid_reading, isolate_environment, real_homes
from tests.support.schemas import registry_schemas, stilts_schemas, votable_schema
from tests.support.servers import RunningServer, free_port, start_server, stop_server

# The suite replays the same examples every run, so a red run always means a change broke
# something (CI sets no variable we could rely on to tell it apart from a user's clone).
# HYPOTHESIS_PROFILE=explore draws new inputs (2000 per property unless a test sets its own
# count) to look for new failures.
# No deadlines: speed is measured in bench/, not by timing tests on a busy CI machine.
hypothesis_settings.register_profile("replay", derandomize=True, print_blob=True, deadline=None)
hypothesis_settings.register_profile("explore", max_examples=2000, print_blob=True, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "replay"))

# The fixtures that need PostgreSQL or a running server; every other such fixture is built on one
# of them, so a test whose fixture closure holds none of them needs neither.
DB_FIXTURES = frozenset({"archive", "running_server", "server", "tap_url", "db", "catalog"})
_RUNNING = pytest.StashKey[pytest.Item]()
_SESSION_HOME = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """No test reads a real archive (the checkout's ./.dalserver, or the developer's): Settings()
    built anywhere in the session, at import of a test module too, and every command a test
    starts, get an empty home of the session's own unless the test names another; reading the
    checkout's archive fails the test (tests/support/isolation.py)."""
    homes = real_homes(Path.cwd(), os.environ)
    home = Path(tempfile.mkdtemp(prefix="dalserver-session-home-"))
    config.stash[_SESSION_HOME] = home
    isolate_environment(os.environ, home)
    forbid_reading(homes)


def pytest_unconfigure(config: pytest.Config) -> None:
    home = config.stash.get(_SESSION_HOME, None)
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if DB_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.config.stash[_RUNNING] = item


def _refuse_unmarked(config: pytest.Config) -> None:
    """A test that reaches the database without naming a db fixture (request.getfixturevalue)
    would start a cluster in the fast tier: it fails instead, saying how to mark it."""
    item = config.stash.get(_RUNNING, None)
    if item is not None and item.get_closest_marker("db") is None:
        pytest.fail(
            f"{item.nodeid} starts the test database without being marked db: "
            "ask for the fixture as an argument (or mark the test @pytest.mark.db)",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def archive(request: pytest.FixtureRequest) -> Iterator[Archive]:
    _refuse_unmarked(request.config)
    home = Path(tempfile.mkdtemp(prefix="dalserver-test-"))
    home.chmod(0o755)  # when tests run as root, the 'postgres' account must reach the cluster
    port = free_port()
    settings = Settings(home=home, port=port, database_name="dalserver_test")
    url = database_url(settings, create=True)
    env = {
        **os.environ,
        "DALSERVER_HOME": str(home),
        "DALSERVER_PORT": str(port),
        "DALSERVER_DATABASE_URL": url,
        "DALSERVER_CATALOG_TTL_SECONDS": "0",  # tables published by a test are queryable at once
        "DALSERVER_UPLOAD_URL_FETCH": "true",  # as the demo serves (TAP's mandatory upload-http)
        "DALSERVER_JOB_POLL_SECONDS": "0.5",
        "DALSERVER_WORKERS": "1",  # one process per test server: its pid is the one that serves
        "DALSERVER_SESAME_URL": "",  # the portal's name resolver never goes online from a test
        # The federated search's live services are all on 127.0.0.1 in the tests (tests/crawl/).
        "DALSERVER_FEDERATED_PRIVATE_ADDRESSES": "true",
        "DALSERVER_FEDERATED_TIMEOUT_SECONDS": "3",
    }
    sample = settings.archive_root / "suprimecam"
    subprocess.run([sys.executable, "-m", "dalserver", "sample", str(sample)], env=env, check=True, capture_output=True)
    subprocess.run(
        [sys.executable, "-m", "dalserver", "ingest", "images", "--quiet", str(sample)],
        env=env,
        check=True,
        capture_output=True,
    )
    try:
        yield Archive(settings, url, env)
    finally:
        if not os.environ.get("DALSERVER_DATABASE_URL"):
            managed_cluster(settings).stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def running_server(archive: Archive) -> Iterator[RunningServer]:
    server = start_server(archive.env, archive.settings.public_url, archive.settings.home / "server.log")
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="session")
def server(running_server: RunningServer) -> str:
    """The base URL of the running dalserver."""
    return running_server.base


@pytest.fixture(scope="session")
def tap_url(server: str) -> str:
    return f"{server}/tap"


@pytest.fixture
def db(archive: Archive) -> Iterator[psycopg.Connection]:
    with psycopg.connect(archive.url, autocommit=True) as conn:
        conn.execute("SELECT set_sphere_output('DEG')")
        yield conn


@pytest.fixture(scope="session")
def catalog(archive: Archive) -> Catalog:
    return load_catalog(archive.url)


@pytest.fixture(scope="session")
def ivoa_schema(tmp_path_factory: pytest.TempPathFactory) -> etree.XMLSchema:
    """The IVOA XML schemas STILTS ships (UWS, VOSI, VOResource, VODataService, TAPRegExt), as one."""
    return stilts_schemas(tmp_path_factory.mktemp("xsd"))


@pytest.fixture(scope="session")
def votable_xsd() -> etree.XMLSchema:
    """The VOTable 1.4 schema, as STILTS ships it."""
    return votable_schema()


@pytest.fixture(scope="module")
def five_million(archive: Archive) -> Iterator[str]:
    """A published view of five million generated rows (tests/support/generated.py)."""
    with five_million_view(archive.url) as name:
        yield name


@pytest.fixture(scope="session")
def registry_xsd(tmp_path_factory: pytest.TempPathFactory) -> etree.XMLSchema:
    """OAI-PMH, VOResource 1.1, VODataService 1.2, VORegistry, TAPRegExt, SIA and ConeSearch
    registry extensions and Dublin Core, as Debian's python3-gavo ships them."""
    return registry_schemas(tmp_path_factory.mktemp("registry-xsd"))


@pytest.fixture(scope="session")
def served_surveys(archive: Archive) -> subprocess.CompletedProcess[str]:
    """HiPS surveys of three bands and a colour one, built on the session's archive by the real
    command (64-pixel tiles, so it takes seconds) and served by the session's server."""
    bands = [a for b in SERVED_BANDS for a in ("--band", b)]
    done = subprocess.run(
        [sys.executable, "-m", "dalserver", "hips", "build", *bands, "--tile-width", "64", "--quiet"],
        env=archive.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done


# The screenshots of every step: ``<pytest's basetemp>/portal-screenshots0/<test>/``.
@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("portal-screenshots")


@pytest.fixture
def shots(screenshots: Path, request: pytest.FixtureRequest) -> Path:
    folder = screenshots / request.node.name.replace("/", "_")[:120]
    folder.mkdir(parents=True, exist_ok=True)
    return folder
