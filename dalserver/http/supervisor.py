"""The process ``dalserver serve`` becomes once the archive is ready: it starts the workers, replaces
one that dies or hangs, looks after the managed PostgreSQL cluster, and holds nothing else.

``dalserver serve`` (and ``demo``) set the archive up with the command line's libraries loaded
(psycopg, the schemas, the ADQL catalogue: some 60 MB, hundreds with an ingest), then replace
themselves with this module (``os.execv``: the same process id, so Ctrl-C, SIGTERM, exit status
and a service manager's view are unchanged). What it imports is uvicorn's supervisor, the cluster
watchdog and the standard library: about 30 MB for the server's whole life, where the parent used
to keep everything the set-up had loaded (228 MB for the demo). Everything else the workers need
they read from the environment the command line left (settings, the resolved database URL).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from pathlib import Path

MODULE = "dalserver.http.supervisor"
# The workers' allocators from their first allocation on (dalserver/http/memory.py sets the same at
# their start, after their imports): glibc's arenas at two, and Arrow's default pool the system
# allocator, not mimalloc, whose pool keeps freed pages and which pyarrow would set up for the
# first buffer it makes (2 MB of an idle worker). An operator's own settings are kept.
WORKER_ALLOCATORS = {"MALLOC_ARENA_MAX": "2", "ARROW_DEFAULT_MEMORY_POOL": "system"}


def command(host: str, port: int, workers: int, log_level: str, metrics_dir: str, cluster: Path | None) -> list[str]:
    """The argument vector that runs this supervisor with the running interpreter."""
    argv = [sys.executable, "-m", MODULE, "--host", host, "--port", str(port), "--workers", str(workers)]
    argv += ["--log-level", log_level, "--metrics-dir", metrics_dir]
    return argv + (["--watch-cluster", str(cluster)] if cluster is not None else [])


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="dalserver serve", description="(run by dalserver serve, not by hand)")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--metrics-dir", required=True, help="the workers' metrics directory, removed at the end")
    parser.add_argument("--watch-cluster", type=Path, help="the managed cluster's directory, restarted if it dies")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    watchdog = None
    if args.watch_cluster is not None:
        from dalserver.db.cluster import LocalCluster
        from dalserver.db.watchdog import ClusterWatchdog

        watchdog = ClusterWatchdog(LocalCluster(args.watch_cluster))  # the managed cluster is ours to keep running
        watchdog.start()
    try:
        from dalserver.http.library_cache import drop_cached_libraries
        from dalserver.http.serving import serve

        drop_cached_libraries()  # the workers map their libraries in small pages (library_cache.py)
        for name, value in WORKER_ALLOCATORS.items():
            os.environ.setdefault(name, value)  # the workers' environment is this one
        serve(args.host, args.port, args.workers, args.log_level)
    finally:
        if watchdog is not None:
            watchdog.stop()
        shutil.rmtree(args.metrics_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
