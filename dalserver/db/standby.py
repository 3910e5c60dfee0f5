"""Managed local standbys of the managed cluster: hot standbys made with ``pg_basebackup -R``,
each under ``<home>/standbys/<name>/`` with a Unix socket of its own, for trying read scale-out
on one machine (``dalserver db standby``) and for the tests. On several machines the operator's
own tools make the standbys (docs/operators-guide/production.md); dalserver only reads from them.

Each standby streams from a replication slot of its own on the primary, so it catches up after
being stopped however long; ``remove`` drops the slot, which would otherwise keep the primary's
write-ahead log for it forever.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from dalserver.db.cluster import SOCKET_PORT, SUPERUSER, ClusterError, LocalCluster, find_pg_bindir

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ClusterError(f"a standby's name is a lower-case letter and up to 30 letters, digits or _: not {name!r}")
    return name


@dataclass
class LocalStandby(LocalCluster):
    """A hot standby living in ``root`` (pgdata/, run/, postgresql.log), named ``name``; ``marker``
    is its directory under the home (the files are elsewhere when that path is too long for a socket)."""

    name: str = "standby1"
    marker: Path = Path()

    @property
    def slot(self) -> str:
        return f"dalserver_{self.name}"

    def initialise(self) -> None:
        # Never initdb: a standby is a copy of its primary (create), or nothing.
        if not self.is_initialised():
            raise ClusterError(
                f"there is no standby {self.name!r} in {self.root}: make it with `dalserver db standby create`"
            )

    def create(self, primary: LocalCluster, feedback: bool = True) -> None:
        """Copy the running ``primary`` (``pg_basebackup -R``: it starts as its standby) and start it.
        ``feedback``: hot_standby_feedback, so that the primary's VACUUM spares rows its queries
        still read (no recovery conflicts; the primary keeps those rows a little longer)."""
        if self.is_initialised():
            raise ClusterError(f"the standby {self.name!r} exists already ({self.data_dir})")
        if not primary.is_running():
            raise ClusterError(
                f"the managed cluster in {primary.root} is not running: start it first (dalserver db start)"
            )
        self.marker.mkdir(parents=True, exist_ok=True)  # listed under the home even when the files live elsewhere
        self._prepare_dirs()
        self._run(
            str(find_pg_bindir() / "pg_basebackup"),
            "--pgdata",
            str(self.data_dir),
            "--dbname",
            f"host={primary.socket_dir} port={SOCKET_PORT} user={SUPERUSER}",
            "--write-recovery-conf",
            "--wal-method=stream",
            "--create-slot",
            "--slot",
            self.slot,
            "--checkpoint=fast",  # at once, rather than at the primary's next checkpoint
        )
        self.configure(hot_standby_feedback=feedback)
        self.start()

    def configure(self, **settings: bool | str | int) -> None:
        """Settings of this standby's own, after the primary's copied ones (the last one read wins)."""
        values = {
            "unix_socket_directories": f"'{self.socket_dir}'",
            "hot_standby": "on",
            **{key.replace("-", "_"): _setting(value) for key, value in settings.items()},
        }
        self._append_settings("dalserver managed standby settings", values)

    def stop_now(self) -> None:
        """Stop as a crash would (``pg_ctl stop -m immediate``): no checkpoint, recovery at the next start."""
        if self.is_running():
            self._run(str(find_pg_bindir() / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "immediate")

    def remove(self, primary: LocalCluster) -> None:
        """Stop it, drop its replication slot on the primary, delete its files."""
        self.stop()
        if primary.is_running():
            import psycopg

            with psycopg.connect(primary.url("postgres"), autocommit=True) as conn:
                conn.execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                    (self.slot,),
                )
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.marker, ignore_errors=True)


def _setting(value: bool | str | int) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def standbys_root(home: Path) -> Path:
    return home.absolute() / "standbys"


def local_standby(home: Path, name: str) -> LocalStandby:
    where = standbys_root(home) / check_name(name)
    return LocalStandby(where, name=name, marker=where)


def local_standbys(home: Path) -> list[LocalStandby]:
    root = standbys_root(home)
    if not root.is_dir():
        return []
    return [local_standby(home, p.name) for p in sorted(root.iterdir()) if _NAME.match(p.name)]
