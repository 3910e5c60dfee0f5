"""The SQL text dalserver writes for PostgreSQL with pgsphere, in one place for every caller (the
ADQL translator, SIA's query builder, the DDL, the ingest, the registry, the server's sessions):
quoted names and literals (``quoting``), pgsphere values (``pgsphere``), the setup of every
session (``session``) and what dalserver keeps in its private schema (``private_schema``).

A value that SQL text cannot carry raises ``SQLTextError`` (``errors``); each caller turns it
into its own fault (an ADQL error with a position, an SIA usage fault naming the parameter, a
catalogue error naming the file). Knows nothing of ADQL, HTTP or the archive's tables.
"""
