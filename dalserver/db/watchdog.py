"""Keeps the managed PostgreSQL cluster running: a postmaster that died (killed, crashed) is
started again within seconds, and the log says so. Runs in the ``dalserver serve`` process that
owns the workers, so one process, not every worker, looks after the cluster."""

from __future__ import annotations

import logging
import threading
import time

from dalserver.db.cluster import ClusterError, LocalCluster

log = logging.getLogger(__name__)


class ClusterWatchdog(threading.Thread):
    def __init__(self, cluster: LocalCluster, interval: float = 0.5):
        super().__init__(name="postgresql-watchdog", daemon=True)
        self.cluster = cluster
        self.interval = interval
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        while not self._stop.wait(self.interval):
            if self.cluster.postmaster_alive():
                continue
            log.warning("PostgreSQL (managed cluster in %s) is not running; starting it again", self.cluster.root)
            began = time.monotonic()
            if self._restart():
                log.warning("PostgreSQL is running again (%.1f s)", time.monotonic() - began)

    def _restart(self, give_up_after: float = 60.0) -> bool:
        """Start the cluster; backends of the dead postmaster may still hold its shared memory
        for a moment, so a refusal is tried again."""
        deadline = time.monotonic() + give_up_after
        while not self._stop.is_set():
            try:
                self.cluster.start()
                return True
            except ClusterError as exc:
                if time.monotonic() > deadline:
                    log.error("PostgreSQL could not be started again: %s", exc)
                    return False
                self._stop.wait(0.2)
        return False
