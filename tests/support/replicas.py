"""An archive of its own with hot standbys, for the read scale-out tests: a managed primary made by
the real command line (``dalserver db init``, the sample images, a generated catalogue) and
standbys made by ``dalserver db standby create``, each on its own Unix socket; and what the tests
read from the servers (metrics) and from the databases (who runs what)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
from prometheus_client.parser import text_string_to_metric_families

from dalserver.db.cluster import LocalCluster
from dalserver.db.location import managed_cluster
from dalserver.db.standby import LocalStandby, local_standby
from dalserver.settings import Settings

DATABASE = "dalserver_replicas"
STARS = "rso.stars"  # the 100 k-row catalogue
CHURN = "rso.churn"  # a small table the recovery-conflict test deletes from


@dataclass
class ReplicatedArchive:
    home: Path
    env: dict[str, str]  # the dalserver command on this archive (its managed primary)
    primary: LocalCluster
    standbys: list[LocalStandby]

    @property
    def primary_url(self) -> str:
        return self.primary.url(DATABASE)

    def standby_url(self, standby: LocalStandby) -> str:
        return standby.url(DATABASE)

    @property
    def replica_urls(self) -> str:
        return " ".join(self.standby_url(s) for s in self.standbys)

    def dalserver(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "dalserver", *args], env=self.env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"dalserver {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done


def _catalogue(folder: Path, name: str, rows: int, seed: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    table = pa.table(
        {
            "id": np.arange(rows, dtype=np.int64),
            "ra": rng.uniform(0, 360, rows),
            "dec": np.degrees(np.arcsin(rng.uniform(-1, 1, rows))),
            "mag": rng.uniform(14, 24, rows).astype(np.float32),
            "x": rng.uniform(0, 1, rows),
        }
    )
    data, meta = folder / f"{name}.parquet", folder / f"{name}.yaml"
    pq.write_table(table, data)
    meta.write_text("position: [ra, dec]\n")
    return data, meta


@contextmanager
def replicated_archive(
    standby_names: tuple[str, ...] = ("s1", "s2"), star_rows: int = 100_000
) -> Iterator[ReplicatedArchive]:
    """A new archive in a home of its own, with its managed primary and ``standby_names``."""
    home = Path(tempfile.mkdtemp(prefix="dalserver-replicas-"))
    home.chmod(0o755)  # when tests run as root, the 'postgres' account must reach the clusters
    env = {k: v for k, v in os.environ.items() if k != "DALSERVER_DATABASE_URL"}  # this archive's own cluster
    env.update(
        {
            "DALSERVER_HOME": str(home),
            "DALSERVER_DATABASE_NAME": DATABASE,
            "DALSERVER_CATALOG_TTL_SECONDS": "0",  # tables published by a test are queryable at once
            "DALSERVER_JOB_POLL_SECONDS": "0.5",
            "DALSERVER_WORKERS": "1",
        }
    )
    settings = Settings(home=home, database_name=DATABASE)
    primary = managed_cluster(settings)
    archive = ReplicatedArchive(home, env, primary, [])
    try:
        archive.dalserver("db", "init")
        sample = home / "archive" / "suprimecam"
        archive.dalserver("sample", str(sample))
        archive.dalserver("ingest", "images", "--quiet", str(sample))
        for table, rows, seed in ((STARS, star_rows, 7), (CHURN, 3000, 8)):
            data, meta = _catalogue(home, table.split(".")[1], rows, seed)
            archive.dalserver("ingest", "catalog", str(data), "--table", table, "--meta", str(meta), "--quiet")
        for name in standby_names:
            archive.dalserver("db", "standby", "create", name)
            archive.standbys.append(local_standby(home, name))
        yield archive
    finally:
        for standby in archive.standbys:
            standby.remove(primary)
        primary.stop()
        shutil.rmtree(primary.root, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


def metric(base: str, name: str, **labels: str) -> float:
    """The value of one sample of the server's /metrics (0 when it has none yet)."""
    text = httpx.get(f"{base}/metrics", timeout=30).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def active_queries(url: str, like: str) -> list[int]:
    """Process ids of the dalserver query sessions on the server at ``url`` running a statement
    that contains ``like``."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'dalserver-query' AND state = 'active' "
            "AND position(%s in query) > 0",
            (like,),
        ).fetchall()
    return [r[0] for r in rows]


def query_sessions(url: str) -> int:
    """How many dalserver query sessions the server at ``url`` has."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dalserver-query'"
        ).fetchone()
    assert row is not None
    return int(row[0])


def replay(url: str, paused: bool) -> None:
    """Pause or resume the standby at ``url`` replaying the primary's changes."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()")
