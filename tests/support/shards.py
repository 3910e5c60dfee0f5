"""An archive of its own with a catalogue split over three managed local shards, for the sharding
tests: made by the real command line (``dalserver db init``, ``dalserver shards create``,
``dalserver ingest catalog --shards 3``) beside an unsharded copy of the same rows and a small
table that stays on the coordinator; and what the tests read from the shards themselves."""

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

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq

from dalserver.db.cluster import LocalCluster
from dalserver.db.location import managed_cluster
from dalserver.db.shards import LocalShard, local_shard
from dalserver.settings import Settings

DATABASE = "dalserver_shards"
SHARDED = "shd.stars"  # split over the three shards
FLAT = "shd.flat"  # the same rows in one ordinary table: the answers to compare with
FIELDS = "shd.fields"  # a small table on the coordinator, for joins
SHARD_NAMES = ("s1", "s2", "s3")


@dataclass
class ShardedArchive:
    home: Path
    env: dict[str, str]  # the dalserver command on this archive
    coordinator: LocalCluster
    shards: list[LocalShard]
    rows: int

    @property
    def coordinator_url(self) -> str:
        return self.coordinator.url(DATABASE)

    def shard_url(self, shard: LocalShard) -> str:
        return shard.url(DATABASE)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "dalserver", *args], env=self.env, capture_output=True, text=True, timeout=600
        )

    def dalserver(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = self.run(*args)
        assert done.returncode == 0, f"dalserver {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done

    def partition_bounds(self, table: str = SHARDED) -> list[int]:
        """The key values where one shard's range ends and the next one's begins."""
        schema, name = table.split(".")
        with psycopg.connect(self.coordinator_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = %s::regclass",
                (f"{schema}.{name}",),
            ).fetchall()
        bounds = set()
        for (text,) in rows:
            for token in text.replace("(", " ").replace(")", " ").replace("'", " ").split():
                if token.isdigit():
                    bounds.add(int(token))
        return sorted(bounds)

    def shards_that_ran(self, marker: str) -> list[str]:
        """The shards whose statement log holds ``marker`` (each logs every statement it runs)."""
        return [s.name for s in self.shards if marker in s.log_file.read_text(errors="replace")]

    def shard_tables(self) -> dict[str, list[str]]:
        """Shard name -> the tables of schema shd it holds."""
        tables = {}
        for shard in self.shards:
            with psycopg.connect(self.shard_url(shard), autocommit=True) as conn:
                tables[shard.name] = sorted(
                    r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'shd'").fetchall()
                )
        return tables


def catalogue_file(folder: Path, name: str, rows: int, seed: int) -> tuple[Path, Path]:
    """Rows spread evenly over the sphere (the poles too), with the sidecar naming the position."""
    rng = np.random.default_rng(seed)
    table = pa.table(
        {
            "id": np.arange(rows, dtype=np.int64),
            "ra": rng.uniform(0, 360, rows),
            "dec": np.degrees(np.arcsin(rng.uniform(-1, 1, rows))),
            "mag": np.round(rng.uniform(14, 24, rows), 3).astype(np.float32),
            "flag": rng.integers(0, 5, rows).astype(np.int16),
        }
    )
    data, meta = folder / f"{name}.parquet", folder / f"{name}.yaml"
    pq.write_table(table, data)
    meta.write_text("position: [ra, dec]\n")
    return data, meta


def _fields_file(folder: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(11)
    count = 40
    table = pa.table(
        {
            "fid": np.arange(count, dtype=np.int32),
            "ra": rng.uniform(0, 360, count),
            "dec": rng.uniform(-85, 85, count),
            "radius": rng.uniform(0.2, 1.0, count),
        }
    )
    data, meta = folder / "fields.parquet", folder / "fields.yaml"
    pq.write_table(table, data)
    meta.write_text("position: [ra, dec]\n")
    return data, meta


@contextmanager
def sharded_archive(rows: int) -> Iterator[ShardedArchive]:
    """A new archive with three managed local shards, ``rows`` rows both sharded and flat."""
    home = Path(tempfile.mkdtemp(prefix="dalserver-shards-"))
    home.chmod(0o755)  # when tests run as root, the 'postgres' account must reach the clusters
    env = {k: v for k, v in os.environ.items() if k not in ("DALSERVER_DATABASE_URL", "DALSERVER_SHARDS")}
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
    coordinator = managed_cluster(settings)
    archive = ShardedArchive(home, env, coordinator, [], rows)
    try:
        archive.dalserver("db", "init")
        for name in SHARD_NAMES:
            archive.dalserver("shards", "create", name)
            shard = local_shard(home, name)
            with psycopg.connect(shard.url(DATABASE), autocommit=True) as conn:
                conn.execute("ALTER SYSTEM SET log_statement = 'all'")  # what the coordinator sent it
                conn.execute("SELECT pg_reload_conf()")
            archive.shards.append(shard)
        data, meta = catalogue_file(home, "stars", rows, 7)
        archive.dalserver("ingest", "catalog", str(data), "--table", FLAT, "--meta", str(meta), "--quiet")
        archive.dalserver(
            "ingest", "catalog", str(data), "--table", SHARDED, "--meta", str(meta), "--shards", "3", "--quiet"
        )
        data, meta = _fields_file(home)
        archive.dalserver("ingest", "catalog", str(data), "--table", FIELDS, "--meta", str(meta), "--quiet")
        yield archive
    finally:
        for shard in archive.shards:
            shard.remove()
        coordinator.stop()
        shutil.rmtree(coordinator.root, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
