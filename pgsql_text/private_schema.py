"""dalserver's private schema in the archive's database, and the refusal helper that lives there:
a function that stops a query with a message of the translator's, under an SQLSTATE of its own.
The service creates both at bootstrap (``SUPPORT_SQL``) and maps the SQLSTATE to a client error;
the published ObsCore view function (``archive_io.product_urls``) lives in the same schema.
"""

from __future__ import annotations

SCHEMA = "dalserver"  # private: never in TAP_SCHEMA, so ADQL cannot name it
REFUSAL_SQLSTATE = "DA001"  # class DA: not used by PostgreSQL

SUPPORT_SQL = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    # VOLATILE: PostgreSQL must not evaluate it while planning, only on the rows that reach it.
    f"""CREATE OR REPLACE FUNCTION {SCHEMA}.refuse(message text) RETURNS double precision
    LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
        RAISE EXCEPTION USING ERRCODE = '{REFUSAL_SQLSTATE}', MESSAGE = message;
    END $$""",
)


def refusal_sql(message_sql: str) -> str:
    """An expression that stops the query with the text ``message_sql`` evaluates to."""
    return f"{SCHEMA}.refuse({message_sql})"
