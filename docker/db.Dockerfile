# PostgreSQL 15 with pgsphere. The official image installs from the PostgreSQL project's apt
# repository, whose pgsphere loads with plain CREATE EXTENSION (Debian bookworm's own 2021
# package does not on PostgreSQL 15.9+, which dalserver works around only for local clusters).
FROM postgres:15-bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15-pgsphere \
 && rm -rf /var/lib/apt/lists/*
