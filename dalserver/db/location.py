"""Which archive a command works on: its home, its database (the configured URL, or the
project-managed local cluster under the home) and its public URL; whether it exists yet.

Only the commands that set an archive up (demo, serve, db init) may create the managed cluster;
every other one refuses, saying where it looked, rather than start a second, empty archive.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from dalserver.db.cluster import LocalCluster
from dalserver.home import HOME_DIR_NAME, HOME_VARIABLE, HomeLocation, HomeSource
from dalserver.settings import Settings

HIDDEN = "***"
_CREATE_HINT = "`dalserver db init` (or `dalserver demo`)"


class ArchiveNotFound(Exception):
    """The command needs an existing archive and there is none where it looked."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def managed_cluster(settings: Settings) -> LocalCluster:
    return LocalCluster(settings.home.absolute() / "db")


def database_url(settings: Settings, create: bool = False) -> str:
    """The URL to use, starting the managed cluster first when no URL is configured. Only with
    ``create`` is a missing cluster (or its database) made: otherwise that is ArchiveNotFound."""
    if settings.database_url:
        return settings.database_url
    cluster = managed_cluster(settings)
    if not create and not cluster.is_initialised():
        raise ArchiveNotFound(_no_database(settings))
    cluster.start()
    if not create and not cluster.has_database(settings.database_name):
        raise ArchiveNotFound(
            f"the managed cluster in {cluster.data_dir} has no database {settings.database_name!r} "
            f"(DALSERVER_DATABASE_NAME): create it with `dalserver db init`"
        )
    return cluster.ensure_database(settings.database_name)


def require_archive(settings: Settings, home: HomeLocation) -> None:
    """Raise ArchiveNotFound unless ``home`` is an existing archive: its directory, and a database
    (the configured URL, or a managed cluster already made under it)."""
    if not home.exists:
        raise ArchiveNotFound(_no_home(home))
    if not settings.database_url and not managed_cluster(settings).is_initialised():
        raise ArchiveNotFound(_no_database(settings, home))


def describe_archive(settings: Settings, home: HomeLocation) -> str:
    """One line naming the archive a command works on; a database password is never shown."""
    if settings.database_url:
        database = hide_password(settings.database_url)
    else:
        database = f"the managed cluster in {managed_cluster(settings).data_dir} (database {settings.database_name})"
    return f"archive: home {home.path} ({home.how_found()}); database {database}; public URL {settings.public_url}"


def hide_password(url: str) -> str:
    """A libpq connection string, as a URL or as ``key=value`` pairs, with its password hidden."""
    if "://" not in url:
        return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", rf"\g<1>{HIDDEN}", url)
    netloc = urlsplit(url).netloc
    credentials, at, hosts = netloc.rpartition("@")
    if at and ":" in credentials:
        url = url.replace(netloc, f"{credentials.partition(':')[0]}:{HIDDEN}@{hosts}", 1)
    return re.sub(r"([?&]password=)[^&#]*", rf"\g<1>{HIDDEN}", url, flags=re.IGNORECASE)


def _how_to_point(here: str = "here") -> str:
    return (
        f"\n  Point at your archive: set {HOME_VARIABLE} to its home (its {HOME_DIR_NAME} directory), or run the "
        "command in the directory that holds it or one below it."
        f"\n  Start a new archive {here}: {_CREATE_HINT}."
    )


def _no_home(home: HomeLocation) -> str:
    if home.source is HomeSource.VARIABLE:
        return f"no archive: {HOME_VARIABLE}={home.path} does not exist.{_how_to_point('there')}"
    return (
        f"no archive found: {HOME_VARIABLE} is not set, and there is no {HOME_DIR_NAME} directory in "
        f"{home.searched_from} or any directory above it.{_how_to_point()}"
    )


def _no_database(settings: Settings, home: HomeLocation | None = None) -> str:
    where = f"the archive home {settings.home}" + (f" ({home.how_found()})" if home else "")
    return (
        f"{where} has no database: there is no managed cluster in {managed_cluster(settings).data_dir}, "
        f"and DALSERVER_DATABASE_URL is not set.{_how_to_point('in this home')} Or set DALSERVER_DATABASE_URL "
        "to the archive's PostgreSQL."
    )
