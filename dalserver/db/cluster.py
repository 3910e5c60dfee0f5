"""A project-managed PostgreSQL cluster: initdb, start, stop, under one data directory.

It listens on a Unix socket only (no TCP port, so it never collides with the distribution's
cluster or another dalserver), and loads pgsphere into the archive database.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from pgsql_text.quoting import quote_ident

log = logging.getLogger(__name__)

SUPERUSER = "dalserver"
# Only names the socket file when listen_addresses is empty; no TCP port is opened.
SOCKET_PORT = 5432
# sockaddr_un.sun_path holds 107 bytes; keep a margin for ".s.PGSQL.5432".
MAX_SOCKET_DIR_LEN = 90


class ClusterError(RuntimeError):
    """The managed cluster could not be created, started or reached."""


def find_pg_bindir() -> Path:
    """Locate PostgreSQL's server binaries (initdb, pg_ctl), preferring the newest version."""
    explicit = os.environ.get("DALSERVER_PG_BINDIR")
    if explicit:
        return Path(explicit)
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise ClusterError(
        "PostgreSQL server binaries not found: install postgresql-15 and postgresql-15-pgsphere "
        "(./dev demo does this), or set DALSERVER_PG_BINDIR."
    )


@dataclass
class LocalCluster:
    """A PostgreSQL cluster owned by this project, living in ``root`` (pgdata/, run/, log)."""

    root: Path

    def __post_init__(self) -> None:
        self.root = self._usable_root(Path(self.root).absolute())

    # --- layout -----------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.root / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "postgresql.log"

    def url(self, dbname: str) -> str:
        """A libpq URL for ``dbname`` over the cluster's Unix socket."""
        return f"postgresql://{SUPERUSER}@/{dbname}?host={self.socket_dir}&port={SOCKET_PORT}"

    # --- running as root: PostgreSQL refuses to, so the 'postgres' account owns the files ---
    @staticmethod
    def _run_as() -> str | None:
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam("postgres")
        except KeyError as exc:
            raise ClusterError(
                "running as root needs the 'postgres' system account, which the postgresql-15 package creates"
            ) from exc
        return "postgres"

    def _usable_root(self, wanted: Path) -> Path:
        """Keep ``wanted`` unless the server account cannot reach it or the socket path is too long."""
        too_long = len(str(wanted / "run")) > MAX_SOCKET_DIR_LEN
        account = self._run_as()
        unreachable = account is not None and not _reachable_by(account, wanted)
        if not (too_long or unreachable):
            return wanted
        digest = hashlib.sha1(str(wanted).encode()).hexdigest()[:12]
        fallback = Path("/var/tmp") / f"dalserver-{os.geteuid()}-{digest}"
        reason = "socket path too long" if too_long else f"'{account}' cannot enter {wanted}"
        log.info("database cluster placed in %s (%s)", fallback, reason)
        return fallback

    def _command(self, *args: str) -> list[str]:
        account = self._run_as()
        if account is None:
            return list(args)
        return ["runuser", "-u", account, "--", *args]

    def _prepare_dirs(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        self.socket_dir.mkdir(exist_ok=True)
        self.socket_dir.chmod(0o700)
        account = self._run_as()
        if account is not None:
            entry = pwd.getpwnam(account)
            for path in (self.root, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            if self.log_file.exists():
                os.chown(self.log_file, entry.pw_uid, entry.pw_gid)

    # --- lifecycle --------------------------------------------------------------------------
    def is_initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def initialise(self) -> None:
        if self.is_initialised():
            return
        self._prepare_dirs()
        bindir = find_pg_bindir()
        log.info("initialising PostgreSQL cluster in %s", self.data_dir)
        self._run(
            str(bindir / "initdb"),
            "--pgdata",
            str(self.data_dir),
            "--username",
            SUPERUSER,
            "--auth-local=trust",
            "--auth-host=reject",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        )
        self._write_settings()

    def _write_settings(self) -> None:
        # Conservative settings for a laptop or a 2-core box; an operator with a big machine
        # points DALSERVER_DATABASE_URL at a tuned server instead.
        settings = {
            "listen_addresses": "''",
            "unix_socket_directories": f"'{self.socket_dir}'",
            "unix_socket_permissions": "0700",
            "port": str(SOCKET_PORT),
            "max_connections": "100",
            "shared_buffers": "256MB",
            "work_mem": "32MB",
            "fsync": "on",
            "log_min_messages": "warning",
        }
        self._append_settings("dalserver managed settings", settings)

    def _append_settings(self, heading: str, settings: dict[str, str]) -> None:
        """``settings`` after those postgresql.conf has (the last one read wins), as the cluster's owner."""
        text = f"\n# {heading}\n" + "".join(f"{key} = {value}\n" for key, value in settings.items())
        conf = self.data_dir / "postgresql.conf"
        if self._run_as() is None:
            with conf.open("a") as fh:
                fh.write(text)
        else:
            subprocess.run(self._command("sh", "-c", f"cat >> '{conf}'"), input=text.encode(), check=True)

    def is_running(self) -> bool:
        if not self.is_initialised():
            return False
        if Path("/proc/self/stat").exists():
            return self.postmaster_alive()
        result = subprocess.run(
            self._command(str(find_pg_bindir() / "pg_ctl"), "status", "-D", str(self.data_dir)),
            capture_output=True,
        )
        return result.returncode == 0

    def postmaster_alive(self) -> bool:
        """Whether the postmaster named in postmaster.pid runs (cheap: no subprocess). A killed
        postmaster not yet reaped by its parent is a zombie: dead, though its pid still answers."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (OSError, ValueError):
            return False
        name, _, rest = stat.partition(" (")[2].rpartition(") ")
        return name.startswith("postgres") and rest.split()[0] not in ("Z", "X")

    def _remove_stale_locks(self) -> None:
        """After the postmaster was killed, its lock files name it until its parent reaps it
        (seconds, on some systems), and PostgreSQL refuses to start meanwhile. They are removed
        here only when the old postmaster is dead and no process is attached to its shared memory
        any more: exactly when PostgreSQL itself would call them stale."""
        lock = self.data_dir / "postmaster.pid"
        try:
            lines = lock.read_text().splitlines()
        except OSError:
            return
        if self.postmaster_alive() or len(lines) < 7 or not _shared_memory_free(lines[6]):
            return
        lock.unlink(missing_ok=True)
        (self.socket_dir / f".s.PGSQL.{SOCKET_PORT}.lock").unlink(missing_ok=True)

    def start(self, timeout: float = 60.0) -> None:
        """Initialise if needed and start; a no-op when it is already running."""
        self.initialise()
        self._prepare_dirs()
        if self.is_running():
            return
        self._remove_stale_locks()
        log.info("starting PostgreSQL (socket in %s)", self.socket_dir)
        self._run(
            str(find_pg_bindir() / "pg_ctl"),
            "start",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            # After a crash PostgreSQL first fsyncs every file of the data directory, one by one
            # (seconds here); one syncfs of the file system is as durable and takes milliseconds.
            "-o",
            "-c recovery_init_sync_method=syncfs",
            "-w",
            "-t",
            str(int(timeout)),
        )
        self._wait_ready(timeout)

    def stop(self) -> None:
        if self.is_running():
            self._run(str(find_pg_bindir() / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast")

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        isready = find_pg_bindir() / "pg_isready"
        while time.monotonic() < deadline:
            result = subprocess.run(
                [str(isready), "-h", str(self.socket_dir), "-p", str(SOCKET_PORT), "-q"],
                capture_output=True,
            )
            if result.returncode == 0:
                return
            time.sleep(0.2)
        raise ClusterError(f"PostgreSQL did not become ready; see {self.log_file}")

    def has_database(self, dbname: str) -> bool:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone() is not None

    def ensure_database(self, dbname: str) -> str:
        """Create ``dbname`` if missing and return its URL."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
            if not exists:
                conn.execute(f"CREATE DATABASE {quote_ident(dbname)}")
        return self.url(dbname)

    def _run(self, *args: str) -> None:
        result = subprocess.run(self._command(*args), capture_output=True, text=True)
        if result.returncode != 0:
            tail = ""
            if self.log_file.exists():
                tail = "\n" + "\n".join(self.log_file.read_text(errors="replace").splitlines()[-15:])
            raise ClusterError(f"{Path(args[0]).name} failed ({result.returncode}): {result.stderr.strip()}{tail}")


def _shared_memory_free(lock_line: str) -> bool:
    """Whether the System V segment a postmaster.pid names (line 7: key and id) has nobody attached."""
    try:
        shmid = int(lock_line.split()[1])
        table = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except (OSError, ValueError, IndexError):
        return False
    for row in table:
        fields = row.split()
        if len(fields) > 6 and fields[1] == str(shmid):
            return fields[6] == "0"
    return True  # the segment is gone


def _reachable_by(account: str, path: Path) -> bool:
    """Can ``account`` traverse every existing ancestor of ``path``?"""
    existing = path
    while not existing.exists():
        existing = existing.parent
    result = subprocess.run(["runuser", "-u", account, "--", "test", "-x", str(existing)], capture_output=True)
    return result.returncode == 0
