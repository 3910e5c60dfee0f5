"""The crawler's sources, all on 127.0.0.1: a second dalserver with its own managed cluster
(twelve of the sample images, 12,000 synthetic ObsCore rows spread over the sky, 40 without a
position, and an ObsCore 1.0 catalogue for the awkward source), behind the two sources of
``tests/crawl/stub.py`` (a logging relay and the awkward one). Both are harvested into the session
archive's RegTAP by their /oai, and crawled with the real ``dalserver crawl`` command.

The session archive is left as it was found: the crawl state, the cached rows and the harvested
records go when the package's tests are done.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dalserver.db.location import managed_cluster
from dalserver.records.regtap import delete_record
from dalserver.settings import Settings
from tests.support.archive import Archive
from tests.support.registry import refresh_records
from tests.support.servers import RunningServer, free_port, start_server, stop_server
from tests.support.waiting import eventually

SOURCE_AUTHORITY = "source.demo"
SOURCE_TAP = f"ivo://{SOURCE_AUTHORITY}/tap"
AWKWARD_TAP = "ivo://awkward.demo/tap"
AWKWARD_SIA1 = "ivo://awkward.demo/sia1"
AWKWARD_TABLE = "awk.obscore10"
SYNTHETIC_ROWS = 12000
WITHOUT_POSITION = 40
SAMPLE_IMAGES = 12
STUB_EVERY = 8  # every 8th request to the awkward source is a 503
STUB_STALL = 3  # its third data query stalls
MIN_GAP = 0.05
CRAWL_SETTINGS = {
    "DALSERVER_CRAWL_MIN_GAP_SECONDS": str(MIN_GAP),
    "DALSERVER_CRAWL_READ_TIMEOUT_SECONDS": "1.5",
    "DALSERVER_CRAWL_CONNECT_TIMEOUT_SECONDS": "5",
    "DALSERVER_CRAWL_RETRY_SECONDS": "0.1",
    "DALSERVER_CRAWL_BACKOFF_SECONDS": "1",
    "DALSERVER_CRAWL_ROWS_PER_REQUEST": "3000",
    "DALSERVER_CRAWL_CONTACT_URL": "https://operator.example/crawler",
    "DALSERVER_CRAWL_INTERVAL_SECONDS": "0",  # every run finds every service due again
}


@dataclass
class Sources:
    env: dict[str, str]  # the source dalserver's
    url: str  # its database
    plain: str  # the logging relay's base URL (the source's public URL)
    awkward: str  # the awkward source's base URL
    unruly: str  # the live services of the federated search's tests (stub.py)
    log: Path
    server: RunningServer
    stub: subprocess.Popen[bytes]

    def entries(self, since: float = 0.0) -> list[dict[str, Any]]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return sorted((e for e in map(json.loads, lines) if e["start"] >= since), key=lambda e: e["start"])

    def crawler_entries(self, since: float = 0.0) -> list[dict[str, Any]]:
        """The requests the crawler sent (it says who it is), in the order they came."""
        return [e for e in self.entries(since) if "(IVOA-copy" in e["ua"]]


def run_dalserver(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "dalserver", *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"dalserver {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def crawl_env(archive: Archive) -> dict[str, str]:
    return {**archive.env, **CRAWL_SETTINGS}


def crawl(archive: Archive, *args: str) -> subprocess.CompletedProcess[str]:
    """``dalserver crawl ...`` on the session archive, with the tests' politeness settings."""
    return run_dalserver(crawl_env(archive), "crawl", *args)


SYNTHETIC_SQL = (  # released rows: a NULL release date is proprietary, which no crawler sees
    "SELECT setseed(0.25)",
    """
INSERT INTO ivoa.obscore (dataproduct_type, calib_level, obs_collection, obs_id, obs_publisher_did, access_url,
  access_format, access_estsize, target_name, s_ra, s_dec, s_fov, s_region, s_resolution, s_xel1, s_xel2, t_min,
  t_max, t_exptime, em_min, em_max, o_ucd, facility_name, instrument_name, obs_release_date, data_rights)
SELECT (ARRAY['image', 'cube', 'spectrum', 'image'])[1 + mod(n, 4)], 2,
  'Synthetic/' || (ARRAY['Keck', 'VLT', 'HST'])[1 + mod(n, 3)], 'obs-' || n, 'ivo://source.demo/synthetic?obs-' || n,
  %(files)s || 'obs-' || n || '.fits', 'image/fits', 1000 + n, 'field-' || mod(n, 97), ra, dec, 0.1,
  CAST(format('{(%%sd,%%sd),(%%sd,%%sd),(%%sd,%%sd),(%%sd,%%sd)}', ra - w, dec - 0.05, ra + w, dec - 0.05,
    ra + w, dec + 0.05, ra - w, dec + 0.05) AS spoly),
  0.8, 2048, 2048, 50000 + n * 0.25, 50000 + n * 0.25 + 0.01, 600, 4e-7 + mod(n, 5) * 1e-7, 5e-7 + mod(n, 5) * 1e-7,
  'phot.count', (ARRAY['Keck', 'VLT', 'HST'])[1 + mod(n, 3)], (ARRAY['HIRES', 'MUSE', 'WFC3'])[1 + mod(n, 3)],
  TIMESTAMPTZ '2020-01-01', 'public'
FROM (SELECT n, 1 + random() * 358 AS ra, degrees(asin(2 * random() - 1)) * 0.97 AS dec
      FROM generate_series(1, %(rows)s) AS n) AS p, LATERAL (SELECT 0.05 / cos(radians(dec)) AS w) AS x
""",
    """
INSERT INTO ivoa.obscore (dataproduct_type, calib_level, obs_collection, obs_id, obs_publisher_did, access_url,
  facility_name, instrument_name, obs_release_date, data_rights)
SELECT 'timeseries', 1, 'Synthetic/Monitoring', 'nopos-' || n, 'ivo://source.demo/synthetic?nopos-' || n,
  %(files)s || 'nopos-' || n || '.fits', 'Keck', 'HIRES', TIMESTAMPTZ '2020-01-01', 'public'
FROM generate_series(1, %(without)s) AS n
""",
)

AWKWARD_COLUMNS = [  # ObsCore 1.0's: none of what 1.1 added (s_xel1, s_xel2, t_xel, em_xel, pol_xel)
    "dataproduct_type", "calib_level", "obs_collection", "obs_id", "obs_publisher_did", "access_url",
    "access_format", "access_estsize", "target_name", "s_ra", "s_dec", "s_fov", "s_region", "s_resolution",
    "t_min", "t_max", "t_exptime", "t_resolution", "em_min", "em_max", "em_res_power", "o_ucd", "pol_states",
    "facility_name", "instrument_name",
]  # fmt: skip
# (count, ra range, dec range): one spread-out group that overflows MAXREC, two smaller ones
AWKWARD_GROUPS = (
    (150, (100.0, 120.0), (10.0, 30.0)),
    (60, (200.0, 201.0), (-40.0, -39.0)),
    (40, (300.0, 310.0), (60.0, 65.0)),
)
AWKWARD_WITHOUT_POSITION = 3
MALFORMED_DID = "ivo://awkward.demo/obs?bad-region"


def write_awkward_catalog(directory: Path) -> tuple[Path, Path]:
    """The awkward source's ObsCore 1.0 table as a CSV catalogue: three groups of rows, three
    rows without a position, and one row whose s_region is not a region."""
    import numpy as np

    rng = np.random.default_rng(7)
    rows: list[dict[str, object]] = []

    def add(n: int, ra: float | None, dec: float | None, region: str | None) -> None:
        rows.append(
            {
                "dataproduct_type": "image",
                "calib_level": 1 + n % 3,
                "obs_collection": "Awkward/Old",
                "obs_id": f"awk-{n}",
                "obs_publisher_did": f"ivo://awkward.demo/obs?awk-{n}" if region != "broken" else MALFORMED_DID,
                "access_url": f"http://127.0.0.1/awkward/awk-{n}.fits",
                "access_format": "image/fits",
                "access_estsize": 2000 + n,
                "target_name": f"target {n % 7}",
                "s_ra": ra,
                "s_dec": dec,
                "s_fov": 0.2,
                "s_region": "Polygon ICRS 200.5 -39.5 200.6 -39.5 oops" if region == "broken" else region,
                "s_resolution": 1.2,
                "t_min": 45000.0 + n,
                "t_max": 45000.5 + n,
                "t_exptime": 300.0,
                "t_resolution": 300.0,
                "em_min": 3.5e-7,
                "em_max": 9.0e-7,
                "em_res_power": 5.0,
                "o_ucd": "phot.count",
                "pol_states": "/I/",
                "facility_name": "Old Schmidt",
                "instrument_name": "Plate camera",
            }
        )

    n = 0
    for count, (ra0, ra1), (dec0, dec1) in AWKWARD_GROUPS:
        for _ in range(count):
            n += 1
            ra, dec = float(rng.uniform(ra0, ra1)), float(rng.uniform(dec0, dec1))
            region = f"Polygon ICRS {ra - 0.05:.6f} {dec - 0.05:.6f} {ra + 0.05:.6f} {dec - 0.05:.6f} {ra:.6f} {dec + 0.05:.6f}"
            add(n, ra, dec, region)
    add(n + 1, 200.5, -39.5, "broken")
    for i in range(AWKWARD_WITHOUT_POSITION):
        add(n + 2 + i, None, None, None)
    data = directory / "obscore10.csv"
    with data.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, AWKWARD_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    meta = directory / "obscore10.yaml"
    meta.write_text("description: An ObsCore 1.0 table of old plates\nposition: [s_ra, s_dec]\n")
    return data, meta


def _make_source(archive: Archive, home: Path, env: dict[str, str], plain: str) -> str:
    run_dalserver(env, "db", "init")
    url = run_dalserver(env, "db", "url").stdout.strip()
    images = home / "archive" / "suprimecam"
    images.mkdir(parents=True)
    for path in sorted((archive.settings.archive_root / "suprimecam").glob("*.fits"))[:SAMPLE_IMAGES]:
        shutil.copy(path, images / path.name)
    run_dalserver(env, "ingest", "images", "--quiet", str(images))
    values = {"rows": SYNTHETIC_ROWS, "without": WITHOUT_POSITION, "files": f"{plain}/files/"}
    with psycopg.connect(url) as conn:  # one transaction: setseed holds for the inserts
        conn.execute(SYNTHETIC_SQL[0])
        for statement in SYNTHETIC_SQL[1:]:
            conn.execute(statement, values)
    data, meta = write_awkward_catalog(home)
    run_dalserver(env, "ingest", "catalog", str(data), "--table", AWKWARD_TABLE, "--meta", str(meta), "--quiet")
    return url


def _start_stub(
    home: Path, backend: str, plain_port: int, awkward_port: int, unruly_port: int
) -> tuple[subprocess.Popen[bytes], Path]:
    log = home / "access.jsonl"
    ready = home / "stub.ready"
    config = home / "stub.json"
    config.write_text(
        json.dumps(
            {
                "backend": backend,
                "plain_port": plain_port,
                "awkward_port": awkward_port,
                "awkward_url": f"http://127.0.0.1:{awkward_port}",
                "unruly_port": unruly_port,
                "table": AWKWARD_TABLE,
                "every": STUB_EVERY,
                "stall": STUB_STALL,
                "log": str(log),
                "ready": str(ready),
            }
        )
    )
    stub = subprocess.Popen(
        [sys.executable, "-m", "tests.crawl.stub", str(config)],
        stdout=(home / "stub.out").open("w"),
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2],
    )
    if not eventually(lambda: ready.exists() or stub.poll() is not None, 30):
        stub.kill()
        raise RuntimeError("the stub did not start")
    if stub.poll() is not None:
        raise RuntimeError("the stub did not start:\n" + (home / "stub.out").read_text())
    return stub, log


@pytest.fixture(scope="package")
def sources(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sources]:
    home = tmp_path_factory.mktemp("crawl-source")
    home.chmod(0o755)  # when tests run as root, the 'postgres' account must reach the cluster
    port, plain_port, awkward_port, unruly_port = free_port(), free_port(), free_port(), free_port()
    plain = f"http://127.0.0.1:{plain_port}"
    env = {k: v for k, v in os.environ.items() if k != "DALSERVER_DATABASE_URL"}  # its own managed cluster
    env.update(
        {
            "DALSERVER_HOME": str(home),
            "DALSERVER_PORT": str(port),
            "DALSERVER_BASE_URL": plain,  # its records and URLs lead through the logging relay
            "DALSERVER_IVOID_AUTHORITY": SOURCE_AUTHORITY,
            "DALSERVER_TITLE": "Source data centre",
            "DALSERVER_WORKERS": "1",
            "DALSERVER_CATALOG_TTL_SECONDS": "0",
        }
    )
    stub = server = None
    try:
        url = _make_source(archive, home, env, plain)
        stub, log = _start_stub(home, f"http://127.0.0.1:{port}", plain_port, awkward_port, unruly_port)
        server = start_server(env, f"http://127.0.0.1:{port}", home / "server.log")
        unruly = f"http://127.0.0.1:{unruly_port}"
        yield Sources(env, url, plain, f"http://127.0.0.1:{awkward_port}", unruly, log, server, stub)
    finally:
        if server is not None:
            stop_server(server)
        if stub is not None:
            stub.terminate()
            stub.wait(timeout=30)
        managed_cluster(Settings(home=home)).stop()
        _forget(archive, [f"{plain}/oai", f"http://127.0.0.1:{awkward_port}/oai"])


def _forget(archive: Archive, harvested: list[str]) -> None:
    """The session archive as it was: no crawl state, no cached rows, no harvested records."""
    with psycopg.connect(archive.url) as conn, conn.transaction(), conn.cursor() as cur:
        for table in (
            "vo.remote_obscore",
            "vo.remote_coverage",
            "crawl.cell",
            "crawl.problem",
            "crawl.run",
            "crawl.service",
        ):
            cur.execute(f"DELETE FROM {table}")
        for (ivoid,) in cur.execute(
            "SELECT ivoid FROM registry.rr_origin WHERE origin = ANY(%s) OR origin LIKE 'added:%%'", (harvested,)
        ).fetchall():
            delete_record(cur, ivoid)
        cur.execute("DELETE FROM registry.harvest WHERE source = ANY(%s)", (harvested,))
    refresh_records(archive.env)


@dataclass
class FirstCrawl:
    started: float
    finished: float
    output: str


@pytest.fixture(scope="package")
def first_crawl(archive: Archive, sources: Sources) -> FirstCrawl:
    """Both sources harvested into the session archive's RegTAP, then crawled once."""
    for oai in (f"{sources.plain}/oai", f"{sources.awkward}/oai"):
        harvested = run_dalserver(archive.env, "registry", "harvest", oai, "--quiet").stdout
        assert " 0 skipped" in harvested, harvested
    started = time.time()
    done = crawl(archive, "run", "--once", "--quiet")
    return FirstCrawl(started, time.time(), done.stdout)


@pytest.fixture(scope="package")
def second_crawl(archive: Archive, first_crawl: FirstCrawl) -> FirstCrawl:
    """The same services crawled again at once, nothing having changed."""
    started = time.time()
    done = crawl(archive, "run", "--once", "--quiet")
    return FirstCrawl(started, time.time(), done.stdout)
