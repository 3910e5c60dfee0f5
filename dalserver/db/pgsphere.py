"""Load pgsphere into a database, working around the broken Debian bookworm package.

Debian bookworm ships pgsphere 1.1.1 (a 2021 snapshot). Its install script declares two
DaCHS-compatibility operators ``@ (bigint, smoc)`` and ``@ (spoint, smoc)`` whose COMMUTATOR
clashes with ``<@``; PostgreSQL 15.9 and later reject that ("commutator operator @> is already the
commutator of operator <@"), so ``CREATE EXTENSION pg_sphere`` fails. Upstream removed those two
operators (postgrespro/pgsphere#85, #92). When the extension cannot be created for that reason we
run the packaged script ourselves with exactly those two operators left out. Nothing under /usr is
modified.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

_COMPAT_OPERATOR = re.compile(
    r"CREATE OPERATOR @ \(\s*LEFTARG\s*=\s*(?:bigint|spoint),\s*RIGHTARG\s*=\s*smoc,[^;]*;",
    re.IGNORECASE,
)


class PgSphereUnavailable(RuntimeError):
    """pgsphere is neither installed in the database nor loadable from the server's files."""


def has_pgsphere(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT to_regtype('spoint') IS NOT NULL").fetchone()
    return bool(row and row[0])


def ensure_pgsphere(conn: psycopg.Connection) -> str:
    """Make the pgsphere types available in ``conn``'s database; return how it was done."""
    if has_pgsphere(conn):
        return "present"
    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_sphere")
        return "extension"
    except psycopg.errors.InvalidFunctionDefinition as exc:
        if "commutator" not in str(exc):
            raise
        log.info("CREATE EXTENSION pg_sphere failed (%s); loading the patched script", exc)
    except psycopg.errors.UndefinedFile as exc:
        raise PgSphereUnavailable(
            "pgsphere is not installed on the database server: install postgresql-15-pgsphere"
        ) from exc
    script = _patched_install_script(conn)
    with conn.transaction():
        conn.execute(script)  # a trusted file from the server's sharedir
    return "patched-script"


def _patched_install_script(conn: psycopg.Connection) -> str:
    sharedir_row = conn.execute("SELECT setting FROM pg_config WHERE name = 'SHAREDIR'").fetchone()
    version_row = conn.execute(
        "SELECT default_version FROM pg_available_extensions WHERE name = 'pg_sphere'"
    ).fetchone()
    if not sharedir_row or not version_row:
        raise PgSphereUnavailable("pgsphere is not installed on the database server")
    script_path = Path(sharedir_row[0]) / "extension" / f"pg_sphere--{version_row[0]}.sql"
    if not script_path.exists():
        raise PgSphereUnavailable(
            f"cannot read {script_path}: the database server is not on this machine; install a "
            "pgsphere release that loads with CREATE EXTENSION (1.4.2 or later) there"
        )
    text = script_path.read_text()
    text, removed = _COMPAT_OPERATOR.subn("", text)
    if removed != 2:
        raise PgSphereUnavailable(
            f"unexpected pgsphere install script {script_path}: found {removed} compatibility operators instead of 2"
        )
    lines = [line for line in text.splitlines() if not line.startswith("\\")]
    return "\n".join(lines).replace("MODULE_PATHNAME", "$libdir/pg_sphere")
