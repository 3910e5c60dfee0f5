"""Shard servers for sharded catalogues: the ones the operator lists (DALSERVER_SHARDS), or else the
managed local shard clusters under ``<home>/shards/<name>/`` (``dalserver shards create``), for
trying sharding on one machine and for the tests; and the check that a shard can serve: reachable,
pgsphere of the coordinator's version, reachable through postgres_fdw from the coordinator.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import psycopg

from archive_io.shards import ensure_foreign_server, foreign_server_name, shard_address
from dalserver.db.cluster import ClusterError, LocalCluster

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ClusterError(f"a shard's name is a lower-case letter and up to 30 letters, digits or _: not {name!r}")
    return name


@dataclass
class LocalShard(LocalCluster):
    """A shard cluster of its own (initdb, pgsphere) living in ``root``; ``marker`` is its directory
    under the home (the files are elsewhere when that path is too long for a socket)."""

    name: str = "shard1"
    marker: Path = Path()

    def create(self, database: str) -> str:
        """Initialise and start it with ``database`` and pgsphere; returns the database's URL."""
        if self.is_initialised():
            raise ClusterError(f"the shard {self.name!r} exists already ({self.data_dir})")
        self.marker.mkdir(parents=True, exist_ok=True)
        self.start()
        url = self.ensure_database(database)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_sphere")
        return url

    def stop_now(self) -> None:
        """Stop as a crash or a lost machine would: no checkpoint."""
        from dalserver.db.cluster import find_pg_bindir

        if self.is_running():
            self._run(str(find_pg_bindir() / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "immediate")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.marker, ignore_errors=True)


def shards_root(home: Path) -> Path:
    return home.absolute() / "shards"


def local_shard(home: Path, name: str) -> LocalShard:
    where = shards_root(home) / check_name(name)
    return LocalShard(where, name=name, marker=where)


def local_shards(home: Path) -> list[LocalShard]:
    root = shards_root(home)
    if not root.is_dir():
        return []
    return [local_shard(home, p.name) for p in sorted(root.iterdir()) if _NAME.match(p.name)]


def shard_urls(listed: list[str], home: Path, database: str) -> list[str]:
    """The shard servers: those the operator lists, or else the managed local shards, in name order."""
    if listed:
        return listed
    return [shard.url(database) for shard in local_shards(home)]


@dataclass(frozen=True)
class ShardCheck:
    url: str
    server: str  # the coordinator's foreign server name, as errors name the shard
    problems: tuple[str, ...]

    @property
    def address(self) -> str:
        return shard_address(self.url)


def check_shard(coordinator_url: str, url: str) -> ShardCheck:
    """What keeps the shard at ``url`` from serving (nothing: it can): reachable, pgsphere
    installed at the coordinator's version, and reachable from the coordinator through postgres_fdw."""
    problems: list[str] = []
    server = foreign_server_name(url)
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as shard:
            theirs = _pgsphere_version(shard)
    except psycopg.Error as exc:
        return ShardCheck(url, server, (f"cannot connect: {_first_line(exc)}",))
    with psycopg.connect(coordinator_url, autocommit=True) as coordinator:
        ours = _pgsphere_version(coordinator)
        if theirs is None:
            problems.append("pgsphere is not installed in its database (CREATE EXTENSION pg_sphere)")
        elif theirs != ours:
            problems.append(f"pgsphere {theirs}, the coordinator has {ours}: the SQL shipped to it would differ")
        fdw = coordinator.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgres_fdw'").fetchone()
        if fdw is None:
            problems.append("postgres_fdw is not available on the coordinator (package postgresql-contrib)")
        else:
            problem = _through_fdw(coordinator, url)
            if problem:
                problems.append(problem)
    return ShardCheck(url, server, tuple(problems))


def _through_fdw(coordinator: psycopg.Connection, url: str) -> str | None:
    """Query the shard through a foreign server made for the purpose, in a transaction rolled back."""
    try:
        with coordinator.transaction(force_rollback=True):
            name = ensure_foreign_server(coordinator, url)
            coordinator.execute(
                "CREATE FOREIGN TABLE public.dalserver_shard_check (extname text) "
                f"SERVER \"{name}\" OPTIONS (schema_name 'pg_catalog', table_name 'pg_extension')"
            )
            coordinator.execute("SELECT count(*) FROM public.dalserver_shard_check").fetchone()
    except psycopg.Error as exc:
        return f"the coordinator cannot query it through postgres_fdw: {_first_line(exc)}"
    return None


def _pgsphere_version(conn: psycopg.Connection) -> str | None:
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'pg_sphere'").fetchone()
    return str(row[0]) if row else None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
