#!/bin/sh
# The standby service: on its first start, a copy of the primary (pg_basebackup -R, streaming
# from a replication slot of its own, so it catches up after any outage); then PostgreSQL as the
# official image starts it, as a hot standby. hot_standby_feedback keeps the primary's VACUUM from
# cancelling long queries here (docs/operators-guide/production.md, "Read scale-out").
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h "$PRIMARY_HOST" -U "$POSTGRES_USER" -d postgres; do sleep 1; done
  # A slot left by an earlier standby of this name would refuse the new one.
  psql -h "$PRIMARY_HOST" -U "$POSTGRES_USER" -d postgres -c \
    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$STANDBY_SLOT'"
  mkdir -p "$PGDATA"
  chown postgres "$PGDATA"
  chmod 700 "$PGDATA"
  gosu postgres pg_basebackup -h "$PRIMARY_HOST" -U "$POSTGRES_USER" -D "$PGDATA" \
    --write-recovery-conf --wal-method=stream --create-slot --slot="$STANDBY_SLOT" --checkpoint=fast
fi
exec docker-entrypoint.sh postgres -c hot_standby=on -c hot_standby_feedback=on
