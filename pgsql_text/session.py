"""The one session setup every dalserver connection runs, whichever driver opened it.

Geometry leaves the database as pgsphere text in degrees (turned into DALI by the writers, taken
apart by ``pgsql_text.pgsphere.spoly_vertices``); literals rely on standard_conforming_strings
(see ``pgsql_text.quoting.quote_string``).
"""

from __future__ import annotations

from pgsql_text.quoting import quote_string

# Also run alone by the ingest and the HiPS build, whose connections are not set up here.
SPHERE_OUTPUT_DEGREES = "SELECT set_sphere_output('DEG')"
COMMON = (
    SPHERE_OUTPUT_DEGREES,
    "SET standard_conforming_strings = on",
    # ADQL's timestamps are UTC (DALI): a string compared with a stored time (obs_release_date,
    # timestamptz) is read in UTC, whatever the database server's own zone.
    "SET TimeZone = 'UTC'",
)
# Users' queries only: if the server process dies mid-query (kill -9, OOM), PostgreSQL notices
# within seconds and stops the query instead of computing a result nobody will read.
QUERY_SESSION = ("SET client_connection_check_interval = '2s'",)
READ_ONLY = "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"


def setup_statements(application_name: str, query_session: bool = False) -> list[str]:
    """The statements that prepare a new session, in order (``application_name`` shows in pg_stat_activity)."""
    return [
        *COMMON,
        f"SET application_name = {quote_string(application_name)}",
        *(QUERY_SESSION if query_session else ()),
    ]
