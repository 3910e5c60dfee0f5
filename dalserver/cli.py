"""The ``dalserver`` command: run the demo, serve, manage the database, ingest data."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import psycopg

from archive_io.table_readers import CatalogError
from dalserver.db.bootstrap import bootstrap
from dalserver.db.location import database_url, managed_cluster
from dalserver.db.sizing import max_connections, pool_size_per_worker
from dalserver.db.watchdog import ClusterWatchdog
from dalserver.settings import Settings
from data_ingest.catalogs.publish import drop_catalog, publish_catalog
from data_ingest.fits_images import ArchiveContext
from data_ingest.images import ingest_images
from data_ingest.sample import write_sample

log = logging.getLogger("dalserver")


def _context(settings: Settings) -> ArchiveContext:
    return ArchiveContext(settings.archive_root, settings.public_url, settings.ivoid_authority)


def _ingest(settings: Settings, url: str, paths: list[Path], progress: bool = True) -> int:
    schemas = bootstrap(url, settings.schema_extension_dirs)
    obscore = next(t for s in schemas for t in s.tables if t.qualified_name == "ivoa.obscore")
    with psycopg.connect(url) as conn:
        report = ingest_images(
            conn,
            paths,
            _context(settings),
            obscore,
            progress=progress,
            warn=lambda msg: print(f"skipped: {msg}", file=sys.stderr),
        )
    print("\n".join(report.summary()))
    return 1 if report.skipped and not report.ingested else 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from dalserver.app import RESOLVED_URL_VARIABLE

    url = database_url(settings)
    bootstrap(url, settings.schema_extension_dirs)
    workers = args.workers or settings.workers or os.cpu_count() or 1
    try:
        pool_size = pool_size_per_worker(settings.pool_max_size, workers, max_connections(url))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # The workers are new processes: they read their settings from the environment.
    os.environ[RESOLVED_URL_VARIABLE] = url
    os.environ["DALSERVER_POOL_MAX_SIZE"] = str(pool_size)
    watchdog = None
    if not settings.database_url:
        watchdog = ClusterWatchdog(managed_cluster(settings))  # the managed cluster is ours to keep running
        watchdog.start()
    base = f"http://{settings.host}:{settings.port}"
    print(
        f"serving {settings.title}: TAP {base}/tap, SIA {base}/sia, DataLink {base}/datalink "
        f"({workers} worker{'s' if workers > 1 else ''}, {pool_size}+{pool_size} database connections each; "
        "Ctrl-C to stop)",
        flush=True,
    )
    try:
        uvicorn.run(
            "dalserver.app:app_from_environment",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_level=args.log_level,
            timeout_graceful_shutdown=30,
        )
    finally:
        if watchdog is not None:
            watchdog.stop()
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    if "DALSERVER_UPLOAD_URL_FETCH" not in os.environ:
        # TAP requires upload by http(s) URL of services that take uploads; the library default
        # is off (a server fetching URLs for anyone needs the operator's consent), the demo shows
        # the conformant setting, still never fetching from private or loopback addresses.
        settings = settings.model_copy(update={"upload_url_fetch": True})
    url = database_url(settings)
    sample_dir = settings.archive_root / "suprimecam"
    if not any(sample_dir.glob("*.fits")):
        print(f"writing synthetic Suprime-Cam SXDS stacks into {sample_dir}")
        write_sample(sample_dir)
    _ingest(settings, url, [sample_dir])
    print(f"the portal: {settings.public_url}/ (open it in a browser)", flush=True)
    return cmd_serve(settings, args)


def cmd_ingest_images(settings: Settings, args: argparse.Namespace) -> int:
    return _ingest(settings, database_url(settings), [Path(p) for p in args.paths], progress=not args.quiet)


def cmd_ingest_catalog(settings: Settings, args: argparse.Namespace) -> int:
    url = database_url(settings)
    bootstrap(url, settings.schema_extension_dirs)
    with psycopg.connect(url) as conn:
        try:
            report = publish_catalog(
                conn,
                Path(args.file),
                args.table,
                Path(args.meta) if args.meta else None,
                progress=not args.quiet,
                warn=lambda msg: print(f"warning: {msg}", file=sys.stderr),
            )
        except CatalogError as exc:
            print(f"error: {exc}; nothing was published", file=sys.stderr)
            return 1
    print(
        f"published {report.table}: {report.rows} rows in {report.seconds:.1f} s ({report.rows_per_second:,.0f} rows/s; "
        f"loading {report.load_seconds:.1f} s, indexing and swapping {report.seconds - report.load_seconds:.1f} s)"
    )
    return 0


def cmd_drop_catalog(settings: Settings, args: argparse.Namespace) -> int:
    with psycopg.connect(database_url(settings)) as conn:
        try:
            drop_catalog(conn, args.table)
        except CatalogError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    print(f"dropped {args.table}")
    return 0


def cmd_sample(settings: Settings, args: argparse.Namespace) -> int:
    target = Path(args.directory) if args.directory else settings.archive_root / "suprimecam"
    paths = write_sample(target)
    print(f"wrote {len(paths)} FITS files into {target}")
    return 0


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "init":
        bootstrap(database_url(settings), settings.schema_extension_dirs)
        print("database ready")
        return 0
    if settings.database_url:
        print("DALSERVER_DATABASE_URL is set: the database is not managed by dalserver", file=sys.stderr)
        return 2
    cluster = managed_cluster(settings)
    if args.action == "start":
        print(database_url(settings))
    elif args.action == "stop":
        cluster.stop()
    elif args.action == "status":
        print("running" if cluster.is_running() else "stopped", cluster.data_dir)
    elif args.action == "url":
        print(cluster.url(settings.database_name))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dalserver", description=__doc__)
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="set up the demo archive (database, sample data) and serve it")
    demo.add_argument("--workers", type=int, help="server processes (default: one per core)")
    demo.set_defaults(func=cmd_demo)
    serve = sub.add_parser("serve", help="serve the archive")
    serve.add_argument("--workers", type=int, help="server processes (default: DALSERVER_WORKERS, or one per core)")
    serve.set_defaults(func=cmd_serve)
    db = sub.add_parser("db", help="the archive database")
    db.add_argument("action", choices=["init", "start", "stop", "status", "url"])
    db.set_defaults(func=cmd_db)
    ingest = sub.add_parser("ingest", help="add data to the archive")
    ingest_sub = ingest.add_subparsers(dest="kind", required=True)
    images = ingest_sub.add_parser("images", help="FITS images (files or directories) into ivoa.obscore")
    images.add_argument("paths", nargs="+")
    images.add_argument("--quiet", action="store_true", help="no progress bar")
    images.set_defaults(func=cmd_ingest_images)
    catalog = ingest_sub.add_parser("catalog", help="a catalogue (CSV, FITS, VOTable, Parquet) as a published table")
    catalog.add_argument("file")
    catalog.add_argument("--table", required=True, help="schema.table to publish it as (replaced if it exists)")
    catalog.add_argument("--meta", help="YAML sidecar with descriptions, units, UCDs, position columns, indexes")
    catalog.add_argument("--quiet", action="store_true", help="no progress bar")
    catalog.set_defaults(func=cmd_ingest_catalog)
    drop = sub.add_parser("drop", help="remove published data")
    drop_sub = drop.add_subparsers(dest="kind", required=True)
    drop_catalog_parser = drop_sub.add_parser("catalog", help="drop a published catalogue and its metadata")
    drop_catalog_parser.add_argument("table")
    drop_catalog_parser.set_defaults(func=cmd_drop_catalog)
    sample = sub.add_parser("sample", help="write the synthetic Suprime-Cam sample")
    sample.add_argument("directory", nargs="?")
    sample.set_defaults(func=cmd_sample)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    code = int(args.func(Settings(), args))
    if args.func in (cmd_ingest_catalog, cmd_drop_catalog) and argv is None:
        # Arrow's native thread pool can abort the interpreter while it finalises, after all the
        # work is done ("terminate called without an active exception", apache/arrow#34314): one
        # run in fifty under load here. Everything is committed and printed, so leave without it.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
