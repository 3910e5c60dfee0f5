#!/bin/sh
# Run once by the official image when it creates the primary's database: standbys may connect
# for replication from the compose network (the image's own rules allow it from localhost only).
set -eu
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
