"""Where the archive database is: the configured URL, or the project-managed local cluster."""

from __future__ import annotations

from dalserver.db.cluster import LocalCluster
from dalserver.settings import Settings


def managed_cluster(settings: Settings) -> LocalCluster:
    return LocalCluster(settings.home.absolute() / "db")


def database_url(settings: Settings) -> str:
    """The URL to use, starting the managed cluster first when no URL is configured."""
    if settings.database_url:
        return settings.database_url
    cluster = managed_cluster(settings)
    cluster.start()
    return cluster.ensure_database(settings.database_name)
