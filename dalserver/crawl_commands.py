"""What the ``dalserver crawl`` commands do: the VO crawler (``vo_crawl``) given this archive's
database and settings.

    dalserver crawl run [--service IVOID] [--once] [--every DURATION] [--quiet]
    dalserver crawl services
    dalserver crawl status
    dalserver crawl add URL [--ivoid IVOID] [--title TITLE] [--sia1]

Only this module and the command line import the crawler, and only when a crawl command runs:
``dalserver serve`` (whose process serves) never loads it.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

import psycopg

from dalserver.db.bootstrap import bootstrap
from dalserver.db.location import database_url
from dalserver.settings import Settings

if TYPE_CHECKING:
    from vo_crawl.config import CrawlConfig

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``15m``, ``6h``, ``1d``, ``2w``."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text.lower())
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 90s, 15m, 6h or 1d")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def _version() -> str:
    try:
        return version("dalserver")
    except PackageNotFoundError:
        return "0"


def crawl_config(settings: Settings, interval: float | None = None) -> CrawlConfig:
    from archive_io.remote_answers import user_agent
    from vo_crawl.config import CrawlConfig, load_lists

    include, exclude = load_lists(settings.crawl_path)
    return CrawlConfig(
        user_agent=user_agent(_version(), settings.crawl_contact_url or settings.public_url),
        min_gap_seconds=settings.crawl_min_gap_seconds,
        connect_timeout_seconds=settings.crawl_connect_timeout_seconds,
        read_timeout_seconds=settings.crawl_read_timeout_seconds,
        retries=settings.crawl_retries,
        retry_seconds=settings.crawl_retry_seconds,
        backoff_seconds=settings.crawl_backoff_seconds,
        backoff_max_seconds=settings.crawl_backoff_max_seconds,
        dead_after=settings.crawl_dead_after,
        daily_requests=settings.crawl_daily_requests,
        rows_per_request=settings.crawl_rows_per_request,
        max_body_bytes=settings.crawl_max_body_mb << 20,
        interval_seconds=interval or settings.crawl_interval_seconds,
        refresh_days=settings.crawl_refresh_days,
        census_order=settings.crawl_census_order,
        hosts_in_parallel=settings.crawl_hosts_in_parallel,
        include=include,
        exclude=exclude,
        own_urls=(settings.public_url,),
    )


def _ready(settings: Settings) -> str:
    """The database URL, with the crawler's tables: made by the server's start-up, or here for
    an archive that has not been served since they came (a bootstrap alters tables, which a
    crawl running beside the server must not do every time)."""
    url = database_url(settings)
    with psycopg.connect(url) as conn:
        present = conn.execute(
            "SELECT to_regclass('crawl.run') IS NOT NULL AND to_regclass('vo.remote_coverage') IS NOT NULL"
        ).fetchone()[0]  # type: ignore[index]  # a SELECT without FROM returns exactly one row
    if not present:
        bootstrap(url, settings.schema_extension_dirs)
    return url


def _refresh_records(settings: Settings, url: str) -> None:
    """The cache's registry record follows what the crawl changed."""
    from dalserver.registry import commands

    try:
        commands.refresh(url, settings)
    except Exception as exc:  # the rows are in; the records can be loaded again later
        print(
            f"warning: the registry records were not updated ({exc}); run `dalserver registry refresh`", file=sys.stderr
        )


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from vo_crawl.runner import PassReport, run_forever, run_pass

    url = _ready(settings)
    config = crawl_config(settings, args.every)

    def report(done: PassReport) -> None:
        for ivoid, rows in done.purged.items():
            print(f"{ivoid}: no longer crawled; its {rows} rows removed from the cache")
        for run in done.runs:
            print(run.line(), flush=True)
        if not done.runs:
            print("no service is due (dalserver crawl services lists them, with when they are due next)")
        if done.changed:
            _refresh_records(settings, url)

    if args.once:
        done = run_pass(url, config, args.service, progress=not args.quiet)
        report(done)
        if args.service and not done.runs:
            print(f"error: {args.service} is not a service the crawler knows, or it is excluded", file=sys.stderr)
            return 1
        return 1 if any(r.outcome == "failed" for r in done.runs) else 0
    every = f"every {args.every:g} s" if args.every else f"every {config.interval_seconds:g} s per service"
    print(f"crawling {every}; Ctrl-C to stop (a cell being written stays whole)", flush=True)
    try:
        run_forever(url, config, args.service, not args.quiet, report)
    except KeyboardInterrupt:
        return 130
    return 0


def cmd_services(settings: Settings, args: argparse.Namespace) -> int:
    from vo_crawl.report import services
    from vo_crawl.runner import discover

    url = _ready(settings)
    discover(url, crawl_config(settings), purge=False)  # the list as the registry stands now; rows go at the next run
    with psycopg.connect(url) as conn:
        print("\n".join(services(conn)))
    return 0


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from vo_crawl.report import status

    url = _ready(settings)
    with psycopg.connect(url) as conn:
        print("\n".join(status(conn)))
    return 0


def cmd_add(settings: Settings, args: argparse.Namespace) -> int:
    from dalserver.records.regtap import RecordError, record_digest, rows_of, write_record
    from vo_crawl.add import AddError, describe
    from vo_crawl.polite import Gates, PoliteClient, RequestFailed
    from vo_crawl.runner import discover

    url = _ready(settings)
    config = crawl_config(settings)
    service_url = args.url.strip().rstrip("?").rstrip("/")
    with psycopg.connect(url) as conn:
        # the service's own record first (a standard capability), then records naming it as auxiliary
        known = [
            ivoid
            for (ivoid,) in conn.execute(
                "SELECT i.ivoid FROM rr.interface i JOIN rr.capability c ON c.ivoid = i.ivoid "
                "AND c.cap_index = i.cap_index WHERE rtrim(rtrim(i.access_url, '?'), '/') = %s "
                "GROUP BY i.ivoid ORDER BY bool_and(c.standard_id LIKE '%%aux%%'), i.ivoid",
                (service_url,),
            ).fetchall()
        ]
    if known and not args.ivoid:
        others = f" (and {len(known) - 1} records of what it serves)" if len(known) > 1 else ""
        print(f"{service_url} is in the registry already, as {known[0]}{others}; nothing added")
        return 0
    try:
        with PoliteClient(config, Gates(config.min_gap_seconds)) as client:
            record = describe(client, service_url, args.ivoid, args.title, sia1=args.sia1)
    except (AddError, RequestFailed) as exc:
        print(f"error: {getattr(exc, 'message', None) or exc}", file=sys.stderr)
        return 1
    rows = rows_of(record)
    try:
        with psycopg.connect(url) as conn, conn.transaction(), conn.cursor() as cur:
            write_record(
                cur, rows, f"added:{service_url}", datetime.now(UTC).replace(microsecond=0), record_digest(record)
            )
    except RecordError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    discover(url, config, purge=False)
    print(f"added {rows.ivoid} ({service_url}) to the registry; the next dalserver crawl run crawls it")
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    crawl = sub.add_parser("crawl", help="the VO crawler: other archives' data into this archive's cache")
    actions = crawl.add_subparsers(dest="action", required=True)
    run = actions.add_parser("run", help="crawl the services that are due (progress bar per service)")
    run.add_argument("--service", metavar="IVOID", help="crawl only this service, due or not")
    run.add_argument("--once", action="store_true", help="one pass, then exit (for cron or a systemd timer)")
    run.add_argument(
        "--every",
        type=duration,
        metavar="DURATION",
        help="take each service's census this often (e.g. 6h, 1d; default DALSERVER_CRAWL_INTERVAL_SECONDS)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.set_defaults(crawl_func=cmd_run)
    services = actions.add_parser("services", help="the services, with state, last success, rows and last error")
    services.set_defaults(crawl_func=cmd_services)
    status = actions.add_parser("status", help="how the crawls have gone: runs, skipped rows, problems")
    status.set_defaults(crawl_func=cmd_status)
    add = actions.add_parser("add", help="a service no harvested registry lists, from its VOSI capabilities")
    add.add_argument("url", help="the base URL of a TAP service with ObsCore, or of an SIA service")
    add.add_argument("--ivoid", help="its IVOA identifier (default: ivo://<host>/<path> from the URL)")
    add.add_argument("--title", help="its title")
    add.add_argument("--sia1", action="store_true", help="it is an SIA 1.0 service (which has no VOSI capabilities)")
    add.set_defaults(crawl_func=cmd_add)
    crawl.set_defaults(func=run_command)


def run_command(settings: Settings, args: argparse.Namespace) -> int:
    from vo_crawl.config import CrawlConfigError

    try:
        return int(args.crawl_func(settings, args))
    except CrawlConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
