"""An archive of a test's own: a fresh database beside the session archive's and a home of its
own (archive directory, site instrument profiles), so that what a test ingests or publishes is
seen by no other test. The database is dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from dalserver.settings import Settings
from tests.support.archive import Archive, fresh_database
from tests.support.servers import free_port


@contextmanager
def own_archive(archive: Archive, home: Path, database: str) -> Iterator[Archive]:
    """An empty archive in ``home`` with the database ``database``; the dalserver command run
    with its ``env`` works on it (a server started with that env serves it)."""
    url = fresh_database(archive, database)
    port = free_port()
    settings = Settings(home=home, port=port, database_url=url)
    settings.archive_root.mkdir(parents=True, exist_ok=True)
    env = {**archive.env, "DALSERVER_HOME": str(home), "DALSERVER_PORT": str(port), "DALSERVER_DATABASE_URL": url}
    try:
        yield Archive(settings, url, env)
    finally:
        with psycopg.connect(archive.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
