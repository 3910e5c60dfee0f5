"""When an ObsCore row becomes public, as the ingest stores it and every reader renders it.

``obs_release_date`` is the fact; ``data_rights`` (ObsCore 1.1 sec. B.4.4) follows from it and the
clock, so the servers render it when they read the row (``dalserver.published_obscore``) rather
than trust a stored word that turns false on the release date. The ingest stores the word true at
the time it writes, for readers of the bare table.
"""

from __future__ import annotations

from datetime import datetime

from pgsql_text.quoting import quote_ident

PUBLIC = "public"
PROPRIETARY = "proprietary"
DATA_RIGHTS_SQL = f"(CASE WHEN obs_release_date <= now() THEN '{PUBLIC}' ELSE '{PROPRIETARY}' END)"
REFRESH_DATA_RIGHTS = (
    f"UPDATE ivoa.obscore SET data_rights = {DATA_RIGHTS_SQL} WHERE data_rights IS DISTINCT FROM {DATA_RIGHTS_SQL}"
)


def released_sql(alias: str | None = None) -> str:
    """The condition that the ObsCore row (``alias``, or the one table in FROM) is public now:
    what everything built for anybody (HiPS, MOCs, registry records, examples) reads, and where
    ``dalserver.access.visibility.row_filter`` starts. A NULL date is not released."""
    column = f"{quote_ident(alias)}.obs_release_date" if alias else "obs_release_date"
    return f"{column} <= now()"


def data_rights(release: datetime | None, now: datetime) -> str:
    """ObsCore's data_rights of a row released at ``release`` (None: never, so far)."""
    return PUBLIC if release is not None and release <= now else PROPRIETARY
