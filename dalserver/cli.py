"""The ``dalserver`` command: run the demo, serve, manage the database, ingest data."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from dalserver import access_commands, crawl_commands
from dalserver.command_archive import command_settings
from dalserver.db.bootstrap import bootstrap
from dalserver.db.location import ArchiveNotFound, database_url, managed_cluster
from dalserver.db.metrics import MULTIPROCESS_VARIABLE
from dalserver.db.sizing import max_connections, pool_size_per_worker
from dalserver.home import HOME_VARIABLE
from dalserver.settings import RESOLVED_URL_VARIABLE, Settings

if TYPE_CHECKING:
    from data_ingest.fits_images import ArchiveContext
    from data_ingest.release_policy import ReleaseOverride
    from data_ingest.retract import Retracted
    from hips_build.run import RunReport

# The ingest and the HiPS builder (astropy, Pillow, scipy, cdshealpix: some 70 MB) are imported by
# the commands that run them, not here: every command pays for its own libraries only. `serve` and
# `demo` replace this process with the workers' supervisor once the archive is ready
# (dalserver.http.supervisor), and the demo's ingest and HiPS build run in a child process.

log = logging.getLogger("dalserver")


def _context(settings: Settings) -> ArchiveContext:
    from data_ingest.fits_images import ArchiveContext

    return ArchiveContext(settings.archive_root, settings.ivoid_authority)


def _ingest(
    settings: Settings,
    url: str,
    paths: list[Path],
    progress: bool = True,
    allow_skips: bool = False,
    allow_empty: bool = False,
    release: ReleaseOverride | None = None,
) -> int:
    """Ingest the images under ``paths``: 0 when every FITS file found went in (or skips are
    allowed), 1 when one was skipped or none was found (unless ``allow_empty``), 2 when an
    instrument profile is wrong."""
    from data_ingest.images import FITS_SUFFIXES, ingest_images
    from data_ingest.instruments import ProfileError, load_profiles

    try:
        profiles = load_profiles(settings.instrument_profile_dirs)
    except ProfileError as exc:
        print(f"error: instrument profile {exc}; nothing was ingested", file=sys.stderr)
        return 2
    schemas = bootstrap(url, settings.schema_extension_dirs)
    obscore = next(t for s in schemas for t in s.tables if t.qualified_name == "ivoa.obscore")
    with psycopg.connect(url) as conn:
        report = ingest_images(
            conn,
            paths,
            _context(settings),
            obscore,
            progress=progress,
            warn=lambda msg: _say(f"skipped: {msg}"),
            profiles=profiles,
            release=release,
        )
    if report.ingested:
        _refresh_registry(settings, url)
    print("\n".join(report.summary()))
    for line in report.warning_lines():
        print(line, file=sys.stderr)
    if not report.files and not allow_empty:
        print(f"error: no FITS files ({', '.join(FITS_SUFFIXES)}) in {', '.join(map(str, paths))}", file=sys.stderr)
        return 1
    if report.skipped and not allow_skips:
        print(
            f"error: {len(report.skipped)} of {report.files} files skipped (listed above); "
            "the others are ingested (--allow-skips: exit status 0 all the same)",
            file=sys.stderr,
        )
        return 1
    return 0


def _say(line: str) -> None:
    """A line on stderr that leaves a progress bar whole."""
    from tqdm import tqdm

    tqdm.write(line, file=sys.stderr)


def _refresh_registry(settings: Settings, url: str) -> None:
    """The archive's records in its relational registry follow what was just ingested or dropped."""
    from dalserver.registry import commands

    try:
        commands.refresh(url, settings)
    except Exception as exc:  # the data are in; their records can be loaded again later
        message = getattr(exc, "message", None) or str(exc)
        print(
            f"warning: the registry records were not updated ({message}); run `dalserver registry refresh`",
            file=sys.stderr,
        )


def _records_at_start(settings: Settings) -> None:
    """The archive's registry records into its relational registry, once per start, by a process
    of its own: building them loads mocpy and astropy (some 40 MB), which no worker should carry
    for the one job. A wrong registry file must not keep the data from being served: it is
    reported, and /oai says what is wrong."""
    done = subprocess.run([sys.executable, "-m", "dalserver", "registry", "refresh"], capture_output=True, text=True)
    if done.returncode != 0:
        log.error("the registry records could not be loaded into the relational registry: %s", done.stderr.strip())


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    # The workers' metrics are summed through files in a directory of this server's own, named
    # before anything imports prometheus_client (dalserver.db.metrics); the supervisor removes it.
    metrics_dir = tempfile.mkdtemp(prefix="dalserver-metrics-")
    os.environ[MULTIPROCESS_VARIABLE] = metrics_dir
    try:
        return _serve(settings, args, metrics_dir)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)  # reached only when the server did not start


def _serve(settings: Settings, args: argparse.Namespace, metrics_dir: str) -> int:
    from dalserver.http import supervisor

    # The workers, and the registry refresh below, are new processes that read their settings
    # from the environment: every setting this command holds (the demo's too) goes there.
    settings.export(os.environ)
    url = database_url(settings, create=True)
    bootstrap(url, settings.schema_extension_dirs)
    _records_at_start(settings)
    workers = args.workers or settings.workers or os.cpu_count() or 1
    try:
        pool_size = pool_size_per_worker(settings.pool_max_size, workers, max_connections(url))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    os.environ[RESOLVED_URL_VARIABLE] = url
    os.environ["DALSERVER_POOL_MAX_SIZE"] = str(pool_size)
    base = settings.public_url
    replicas = settings.replica_url_list
    if replicas:
        print(
            f"users' queries go to {len(replicas)} standby server(s) (DALSERVER_REPLICA_URLS); see {base}/tap/availability and {base}/metrics",
            flush=True,
        )
    print(f"the portal: {base}/ (open it in a browser)", flush=True)
    print(
        f"serving {settings.title}: TAP {base}/tap, SIA {base}/sia, DataLink {base}/datalink, SODA {base}/soda, "
        f"cone search {base}/scs, HiPS {base}/hips/hipslist, OAI-PMH {base}/oai "
        f"({workers} worker{'s' if workers > 1 else ''}, {pool_size}+{pool_size} database connections each; "
        "Ctrl-C to stop)",
        flush=True,
    )
    # This process becomes the supervisor (same pid): what the set-up loaded is not kept for the
    # server's life. The managed cluster is ours to keep running; a configured server is not.
    cluster = None if settings.database_url else managed_cluster(settings).root
    argv = supervisor.command(settings.host, settings.port, workers, args.log_level, metrics_dir, cluster)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)  # returns only by raising OSError


def _build_hips(settings: Settings, url: str, args: argparse.Namespace | None = None) -> RunReport:
    from dalserver.web.assets import ALADIN_LITE
    from hips_build.builder import builder_name
    from hips_build.obscore_images import obscore_images
    from hips_build.run import build_surveys
    from hips_build.survey_steps import BuildOptions, Site

    colours: list[tuple[str, str, str]] | None = None
    if args is not None and args.no_color:
        colours = []
    elif args is not None and args.color:
        colours = [tuple(c.split(",")) for c in args.color]  # checked by the parser
    options = BuildOptions(
        order=args.order if args else None,
        tile_width=args.tile_width if args else 512,
        full=bool(args and args.full),
        cut=tuple(args.cut) if args and args.cut else None,  # nargs=2
        progress=not (args and args.quiet),
    )

    def warn(message: str) -> None:
        print(message, file=sys.stderr)

    with psycopg.connect(url) as conn:
        images = obscore_images(conn, settings.archive_root, warn)
    # The connection is closed before the worker processes are forked: none of them shares it.
    report = build_surveys(
        images,
        settings.hips_root,
        # A survey's page, /hips/<survey>/index.html, starts the portal's Aladin Lite.
        Site(settings.ivoid_authority, builder_name(), viewer=f"../../portal/{ALADIN_LITE}"),
        options,
        bands=args.band if args else (),
        collections=args.collection if args else (),
        colours=colours,
        workers=args.workers if args else None,
        warn=warn,
    )
    for note in report.notes:
        print(note, file=sys.stderr)
    for result in report.results:
        print(f"{result.name}: {result.status}{f' ({result.message})' if result.message else ''}")
    print(
        f"HiPS surveys under {settings.hips_root}: {report.tiles_written} tiles written in {report.seconds:.1f} s; "
        f"served at {settings.public_url}/hips (list: {settings.public_url}/hips/hipslist)"
    )
    return report


def cmd_hips_build(settings: Settings, args: argparse.Namespace) -> int:
    for triple in args.color or ():
        if len(triple.split(",")) != 3:
            print(f"error: --color takes three bands, red,green,blue: not {triple!r}", file=sys.stderr)
            return 2
    if args.tile_width < 2 or args.tile_width & (args.tile_width - 1):
        print(f"error: --tile-width must be a power of two, not {args.tile_width}", file=sys.stderr)
        return 2
    url = database_url(settings)
    bootstrap(url, settings.schema_extension_dirs)
    report = _build_hips(settings, url, args)
    usable = [r for r in report.results if r.status in ("built", "updated", "up to date")]
    if usable:
        _refresh_registry(settings, url)  # each survey is a record of its own (HiPS capability)
    return 0 if usable else 1


def cmd_hips_list(settings: Settings, args: argparse.Namespace) -> int:
    from archive_io.hips_store import published_surveys

    surveys = published_surveys(settings.hips_root)
    for survey in surveys:
        p = survey.properties
        print(
            f"{survey.name}\t{survey.title}\torder {p.get('hips_order')}\t{p.get('hips_tile_format')}\t{survey.service_url(settings.public_url)}"
        )
    if not surveys:
        print(f"no HiPS surveys under {settings.hips_root}: run dalserver hips build", file=sys.stderr)
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    if args.setup_only:
        return _demo_setup(settings)
    if "DALSERVER_UPLOAD_URL_FETCH" not in os.environ:
        # TAP requires upload by http(s) URL of services that take uploads; the library default
        # is off (a server fetching URLs for anyone needs the operator's consent), the demo shows
        # the conformant setting, still never fetching from private or loopback addresses.
        settings = settings.model_copy(update={"upload_url_fetch": True})
    # The set-up runs in a process of its own: the ingest and the HiPS build load astropy, Pillow,
    # scipy and cdshealpix (some 150 MB), which the server's own process must not keep.
    argv = [sys.executable, "-m", "dalserver", "--log-level", args.log_level, "demo", "--setup-only"]
    child = subprocess.Popen(argv, env={**os.environ, HOME_VARIABLE: str(settings.home.absolute())})
    try:
        code = child.wait()
    except KeyboardInterrupt:  # Ctrl-C reached the child too (one process group): it stops on its own
        child.wait()
        return 130
    if code != 0:
        print(f"error: the demo's set-up failed (exit status {code}); nothing is served", file=sys.stderr)
        return code if code > 0 else 1
    return cmd_serve(settings, args)


def _demo_setup(settings: Settings) -> int:
    """The demo archive: its database, the sample's images ingested and their HiPS surveys built."""
    from data_ingest.sample import write_sample

    url = database_url(settings, create=True)
    sample_dir = settings.archive_root / "suprimecam"
    if not any(sample_dir.glob("*.fits")):
        print(f"writing synthetic Suprime-Cam SXDS stacks into {sample_dir}")
        write_sample(sample_dir)
    _ingest(settings, url, [sample_dir])
    # The first start builds the sample's surveys; later starts find them up to date in a second.
    print(f"HiPS surveys of the archive's images (Aladin: {settings.public_url}/hips/hipslist)")
    try:
        _build_hips(settings, url)
    except Exception as exc:  # the archive is served all the same, with the surveys it had
        log.exception("the HiPS build failed")
        print(f"warning: the HiPS build failed ({exc}); serving the surveys built before", file=sys.stderr)
    return 0


def cmd_ingest_images(settings: Settings, args: argparse.Namespace) -> int:
    from archive_io.hips_store import published_surveys

    url = database_url(settings)
    paths = [Path(p) for p in args.paths]
    if args.prune:
        _prune(settings, url, paths, progress=not args.quiet)
        paths = [p for p in paths if p.exists()]  # a folder that is gone had only images to prune
    code = (
        _ingest(
            settings,
            url,
            paths,
            progress=not args.quiet,
            allow_skips=args.allow_skips,
            allow_empty=args.prune,  # pruning may leave a folder with nothing to ingest
            release=_release_override(args),
        )
        if paths
        else 0
    )
    if code == 2:  # nothing was ingested
        return code
    if published_surveys(settings.hips_root):
        # Surveys are rebuilt on request, not here: a build can take long, and only the operator
        # knows when the ingests of a night are done.
        print("the HiPS surveys do not show these images yet: run dalserver hips build (it redoes only their tiles)")
    return code


def _release_override(args: argparse.Namespace) -> ReleaseOverride | None:
    from data_ingest.release_policy import ReleaseOverride

    if args.release_date is None and args.proposal is None:
        return None
    return ReleaseOverride(args.release_date, args.proposal)


def _release_date(text: str) -> datetime:
    """--release-date: an ISO 8601 date or time (UTC unless it says), or now."""
    if text.strip().lower() == "now":
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date such as 2027-03-31 (or now)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_release(settings: Settings, args: argparse.Namespace) -> int:
    """What is built for everybody follows the release dates that passed: run it nightly."""
    from archive_io.hips_store import published_surveys
    from archive_io.registry_state import record_collections
    from archive_io.release import REFRESH_DATA_RIGHTS

    url = database_url(settings)
    bootstrap(url, settings.schema_extension_dirs)
    with psycopg.connect(url) as conn, conn.transaction():
        rights = conn.execute(REFRESH_DATA_RIGHTS).rowcount
        collections = [c for (c,) in conn.execute("SELECT DISTINCT obs_collection FROM ivoa.obscore").fetchall()]
        changed = record_collections(conn, collections)
    print(
        f"{rights} rows changed data_rights; coverage of {len(collections)} collections {'changed' if changed else 'unchanged'}"
    )
    _refresh_registry(settings, url)
    if published_surveys(settings.hips_root) and not args.no_hips:
        report = _build_hips(settings, url)
        if not any(r.status in ("built", "updated", "up to date") for r in report.results):
            return 1
    return 0


def _prune(settings: Settings, url: str, paths: list[Path], progress: bool) -> None:
    """Retract the published images under ``paths`` whose files are gone (``ingest --prune``)."""
    from data_ingest.retract import prune_images

    bootstrap(url, settings.schema_extension_dirs)
    with psycopg.connect(url) as conn:
        pruned = prune_images(conn, paths, settings.archive_root, progress=progress)
    if pruned:
        _after_retraction(settings, url, pruned, progress)
    print(f"pruned {len(pruned)} images whose files are gone")


def _after_retraction(settings: Settings, url: str, images: list[Retracted], progress: bool) -> None:
    """What follows a committed retraction: the cached previews of the images go, the relational
    registry follows, and the operator is told what was removed."""
    from tqdm import tqdm

    from dalserver.datalink.preview import remove_previews

    root = settings.archive_root.resolve()
    previews = 0
    for image in tqdm(images, desc="removing previews", unit="image", disable=not progress or len(images) < 100):
        if image.source_path is not None:
            previews += remove_previews(root / image.source_path, settings.cache_root)
    _refresh_registry(settings, url)
    for image in images:
        print(f"removed {image.did} ({image.source_path or 'not a file of the archive'})")
    collections = ", ".join(sorted({i.collection for i in images}))
    print(
        f"removed {len(images)} image{'s' if len(images) != 1 else ''} of {collections} from ivoa.obscore, "
        f"with their provenance and {previews} cached preview{'s' if previews != 1 else ''}"
    )


def cmd_drop_images(settings: Settings, args: argparse.Namespace) -> int:
    from archive_io.hips_store import published_surveys
    from data_ingest.retract import RetractError, retract_images

    url = database_url(settings)
    bootstrap(url, settings.schema_extension_dirs)
    with psycopg.connect(url) as conn:
        try:
            images = retract_images(conn, args.items, settings.archive_root, progress=not args.quiet)
        except RetractError as exc:
            for problem in exc.problems:
                print(f"error: {problem}", file=sys.stderr)
            print("nothing was dropped", file=sys.stderr)
            return 1
    _after_retraction(settings, url, images, progress=not args.quiet)
    print("their files stay in the archive directory; /data no longer serves them")
    if published_surveys(settings.hips_root):
        print("the HiPS surveys still show these images: run dalserver hips build (it redoes only their tiles)")
    return 0


def cmd_ingest_catalog(settings: Settings, args: argparse.Namespace) -> int:
    from archive_io.table_readers import CatalogError
    from dalserver.db.shards import shard_urls
    from data_ingest.catalogs.publish import Sidecar, publish_catalog
    from data_ingest.catalogs.sharded import publish_sharded_catalog

    url = database_url(settings)
    bootstrap(url, settings.schema_extension_dirs)
    meta = Path(args.meta) if args.meta else None

    def warn(message: str) -> None:
        print(f"warning: {message}", file=sys.stderr)

    with psycopg.connect(url) as conn:
        try:
            count = args.shards if args.shards is not None else Sidecar.load(meta).shards
            if count:
                servers = shard_urls(settings.shard_url_list, settings.home, settings.database_name)
                if count > len(servers):
                    raise CatalogError(
                        f"{count} shards asked for, {len(servers)} shard servers known: list them in DALSERVER_SHARDS "
                        "or make local ones with `dalserver shards create`"
                    )
                report = publish_sharded_catalog(
                    conn,
                    url,
                    Path(args.file),
                    args.table,
                    servers[:count],
                    meta,
                    not args.quiet,
                    warn,
                    args.position_index,
                )
            else:
                report = publish_catalog(
                    conn, Path(args.file), args.table, meta, not args.quiet, warn, position_index=args.position_index
                )
        except CatalogError as exc:
            print(f"error: {exc}; nothing was published", file=sys.stderr)
            return 1
    _refresh_registry(settings, url)
    print(
        f"published {report.table}: {report.rows} rows in {report.seconds:.1f} s ({report.rows_per_second:,.0f} rows/s; "
        f"loading {report.load_seconds:.1f} s, indexing and swapping {report.seconds - report.load_seconds:.1f} s)"
    )
    return 0


def cmd_drop_catalog(settings: Settings, args: argparse.Namespace) -> int:
    from archive_io.table_readers import CatalogError
    from data_ingest.catalogs.publish import drop_catalog

    url = database_url(settings)
    bootstrap(url, settings.schema_extension_dirs)  # the registry's state table, on archives made before it
    with psycopg.connect(url) as conn:
        try:
            drop_catalog(conn, args.table, warn=lambda msg: print(f"warning: {msg}", file=sys.stderr))
        except CatalogError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    _refresh_registry(settings, url)
    print(f"dropped {args.table}")
    return 0


def cmd_registry(settings: Settings, args: argparse.Namespace) -> int:
    from dalserver.registry import commands

    url = database_url(settings)
    bootstrap(url, settings.schema_extension_dirs)
    if args.action == "show":
        return commands.show(url, settings, full=args.xml)
    if args.action == "refresh":
        changed = commands.refresh(url, settings, own_url=True)
        print(
            f"relational registry: {changed} of this archive's records written or removed "
            f"(their URLs under {settings.public_url})"
        )
        return 0
    return commands.harvest(url, settings, args.url, full=args.full, progress=not args.quiet)


def cmd_sample(settings: Settings, args: argparse.Namespace) -> int:
    from data_ingest.sample import write_sample

    target = Path(args.directory) if args.directory else settings.archive_root / "suprimecam"
    paths = write_sample(target)
    print(f"wrote {len(paths)} FITS files into {target}")
    return 0


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "standby":
        return cmd_db_standby(settings, args)
    if args.action == "init":
        bootstrap(database_url(settings, create=True), settings.schema_extension_dirs)
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


def cmd_db_standby(settings: Settings, args: argparse.Namespace) -> int:
    """Hot standbys of the managed cluster on this machine, to try read scale-out (DALSERVER_REPLICA_URLS)."""
    from dalserver.db.cluster import ClusterError
    from dalserver.db.standby import local_standby, local_standbys

    if settings.database_url:
        print(
            "DALSERVER_DATABASE_URL is set: make standbys of that server with PostgreSQL's own tools "
            "(pg_basebackup -R, repmgr, Patroni; see the operator's guide, Read scale-out)",
            file=sys.stderr,
        )
        return 2
    primary = managed_cluster(settings)
    try:
        if args.standby_action == "status":
            for standby in local_standbys(settings.home):
                state = "running" if standby.is_running() else "stopped"
                print(f"{standby.name}\t{state}\t{standby.url(settings.database_name)}")
            return 0
        standby = local_standby(settings.home, args.name)
        if args.standby_action == "create":
            database_url(settings)  # the primary running, with the archive's database
            standby.create(primary, feedback=not args.no_feedback)
            print(f"standby {standby.name} of {primary.data_dir} running in {standby.data_dir}")
            print(f"DALSERVER_REPLICA_URLS={standby.url(settings.database_name)}")
        elif args.standby_action == "start":
            standby.start()
            print(standby.url(settings.database_name))
        elif args.standby_action == "stop":
            if args.immediate:
                standby.stop_now()
            else:
                standby.stop()
        elif args.standby_action == "url":
            print(standby.url(settings.database_name))
        elif args.standby_action == "remove":
            standby.remove(primary)
            print(f"standby {standby.name} removed, and its replication slot on the primary dropped")
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_shards(settings: Settings, args: argparse.Namespace) -> int:
    """Shard servers for sharded catalogues: the listed ones checked, or managed local ones."""
    from dalserver.db.cluster import ClusterError
    from dalserver.db.shards import check_shard, local_shard, local_shards, shard_urls

    if args.shards_action == "check":
        url = database_url(settings)
        servers = shard_urls(settings.shard_url_list, settings.home, settings.database_name)
        if not servers:
            print("no shard servers: list them in DALSERVER_SHARDS, or make local ones (dalserver shards create)")
            return 1
        failed = 0
        for server in servers:
            check = check_shard(url, server)
            print(f"{check.server}\t{check.address}\t{'ok' if not check.problems else '; '.join(check.problems)}")
            failed += bool(check.problems)
        return 1 if failed else 0
    try:
        if args.shards_action == "status":
            for shard in local_shards(settings.home):
                state = "running" if shard.is_running() else "stopped"
                print(f"{shard.name}\t{state}\t{shard.url(settings.database_name)}")
            return 0
        shard = local_shard(settings.home, args.name)
        if args.shards_action == "create":
            print(f"shard {shard.name} running in {shard.data_dir}: {shard.create(settings.database_name)}")
        elif args.shards_action == "start":
            shard.start()
            print(shard.url(settings.database_name))
        elif args.shards_action == "stop":
            shard.stop_now() if args.immediate else shard.stop()
        elif args.shards_action == "remove":
            shard.remove()
            print(f"shard {shard.name} removed; catalogues split over it need re-ingesting")
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _add_shards_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    shards = sub.add_parser("shards", help="shard servers for catalogues split by sky region")
    shards.set_defaults(func=cmd_shards)
    actions = shards.add_subparsers(dest="shards_action", required=True)
    actions.add_parser(
        "check",
        help="whether each shard server answers, has the coordinator's pgsphere and is reachable by postgres_fdw",
    )
    actions.add_parser("status", help="the managed local shards, running or stopped, with their URLs")
    for action, text in (
        ("create", "make a managed local shard cluster (its own socket, pgsphere) and start it"),
        ("start", "start a managed local shard; print its URL"),
        ("stop", "stop a managed local shard"),
        ("remove", "stop a managed local shard and delete it"),
    ):
        parser = actions.add_parser(action, help=text)
        parser.add_argument("name", nargs="?", default="shard1", help="its name (default shard1)")
        if action == "stop":
            parser.add_argument("--immediate", action="store_true", help="as a crash would (pg_ctl stop -m immediate)")


def _add_db_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="the archive database")
    actions = db.add_subparsers(dest="action", required=True)
    for action, text in (
        ("init", "create or upgrade the archive's database (and the managed cluster, if no URL is set)"),
        ("start", "start the managed cluster; print its URL"),
        ("stop", "stop the managed cluster"),
        ("status", "whether the managed cluster runs, and where"),
        ("url", "the managed cluster's URL (for psql, pg_dump)"),
    ):
        actions.add_parser(action, help=text).set_defaults(func=cmd_db)
    standby = actions.add_parser(
        "standby", help="hot standbys of the managed cluster on this machine, to try read scale-out"
    )
    standby.set_defaults(func=cmd_db)
    standby_actions = standby.add_subparsers(dest="standby_action", required=True)
    create = standby_actions.add_parser(
        "create", help="copy the managed cluster (pg_basebackup -R) into a standby with its own socket, and start it"
    )
    create.add_argument("name", nargs="?", default="standby1", help="its name (default standby1)")
    create.add_argument(
        "--no-feedback",
        action="store_true",
        help="hot_standby_feedback off: the primary's VACUUM may cancel long queries on it (recovery conflicts)",
    )
    for action, text in (
        ("start", "start a standby; print its URL"),
        ("stop", "stop a standby"),
        ("url", "a standby's URL, for DALSERVER_REPLICA_URLS"),
        ("remove", "stop a standby, drop its replication slot on the primary and delete it"),
    ):
        parser = standby_actions.add_parser(action, help=text)
        parser.add_argument("name", nargs="?", default="standby1", help="its name (default standby1)")
        if action == "stop":
            parser.add_argument("--immediate", action="store_true", help="as a crash would (pg_ctl stop -m immediate)")
    standby_actions.add_parser("status", help="the standbys, running or stopped, with their URLs")


def _shard_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = -1
    if count < 0:
        raise argparse.ArgumentTypeError(f"the number of shard servers, 0 or more: not {text!r}")
    return count


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dalserver", description=__doc__)
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="set up the demo archive (database, sample data) and serve it")
    demo.add_argument("--workers", type=int, help="server processes (default: one per core)")
    demo.add_argument(
        "--setup-only",
        action="store_true",
        help="write and ingest the sample data and build its HiPS surveys, then exit without serving",
    )
    demo.set_defaults(func=cmd_demo)
    serve = sub.add_parser("serve", help="serve the archive")
    serve.add_argument("--workers", type=int, help="server processes (default: DALSERVER_WORKERS, or one per core)")
    serve.set_defaults(func=cmd_serve)
    _add_db_parser(sub)
    _add_shards_parser(sub)
    ingest = sub.add_parser("ingest", help="add data to the archive")
    ingest_sub = ingest.add_subparsers(dest="kind", required=True)
    images = ingest_sub.add_parser("images", help="FITS images (files or directories) into ivoa.obscore")
    images.add_argument("paths", nargs="+")
    images.add_argument(
        "--prune", action="store_true", help="also retract the published images under these paths whose files are gone"
    )
    images.add_argument("--quiet", action="store_true", help="no progress bar")
    images.add_argument(
        "--release-date",
        type=_release_date,
        help="when these images become public (ISO 8601, UTC; or now), whatever their instrument profile says",
    )
    images.add_argument("--proposal", help="the proposal_id of these images, whatever their headers say")
    images.add_argument(
        "--allow-skips",
        action="store_true",
        help="exit status 0 even when files were skipped (each is still listed, saying why)",
    )
    images.set_defaults(func=cmd_ingest_images)
    catalog = ingest_sub.add_parser("catalog", help="a catalogue (CSV, FITS, VOTable, Parquet) as a published table")
    catalog.add_argument("file")
    catalog.add_argument("--table", required=True, help="schema.table to publish it as (replaced if it exists)")
    catalog.add_argument("--meta", help="YAML sidecar with descriptions, units, UCDs, position columns, indexes")
    catalog.add_argument(
        "--position-index",
        choices=("gist", "healpix", "both"),
        help="index the position with a pgsphere GiST, a HEALPix B-tree (builds ~7x faster), or both; "
        "overrides the sidecar's position_index (default gist)",
    )
    catalog.add_argument("--quiet", action="store_true", help="no progress bar")
    catalog.add_argument(
        "--shards",
        type=_shard_count,
        metavar="N",
        help="split it by sky region over the first N shard servers (DALSERVER_SHARDS); 0: an ordinary table; "
        "overrides the sidecar's shards:",
    )
    catalog.set_defaults(func=cmd_ingest_catalog)
    drop = sub.add_parser("drop", help="remove published data")
    drop_sub = drop.add_subparsers(dest="kind", required=True)
    drop_catalog_parser = drop_sub.add_parser("catalog", help="drop a published catalogue and its metadata")
    drop_catalog_parser.add_argument("table")
    drop_catalog_parser.set_defaults(func=cmd_drop_catalog)
    drop_images_parser = drop_sub.add_parser(
        "images",
        help="retract published images (by file, folder or publisher DID): all of them, or none if one is not found",
    )
    drop_images_parser.add_argument(
        "items", nargs="+", metavar="PATH|DID", help="a file or folder under the archive directory, or a publisher DID"
    )
    drop_images_parser.add_argument("--quiet", action="store_true", help="no progress bar")
    drop_images_parser.set_defaults(func=cmd_drop_images)
    registry = sub.add_parser("registry", help="the archive's registry records")
    registry_sub = registry.add_subparsers(dest="action", required=True)
    show = registry_sub.add_parser("show", help="list the resource records the archive publishes at /oai")
    show.add_argument("--xml", action="store_true", help="print the records themselves (VOResource XML)")
    show.set_defaults(func=cmd_registry)
    refresh = registry_sub.add_parser(
        "refresh",
        help="load this archive's records, with this command's public URL, into its relational registry (rr); "
        "a server runs it at its start",
    )
    refresh.set_defaults(func=cmd_registry)
    harvest = registry_sub.add_parser(
        "harvest", help="harvest another registry (OAI-PMH) into the relational registry, incrementally"
    )
    harvest.add_argument("url", help="the OAI-PMH base URL, e.g. https://dc.g-vo.org/rr/q/pmh/pubreg.xml")
    harvest.add_argument("--full", action="store_true", help="harvest everything again, not only what changed")
    harvest.add_argument("--quiet", action="store_true", help="no progress bar")
    harvest.set_defaults(func=cmd_registry)
    hips = sub.add_parser("hips", help="HiPS surveys of the archive's images")
    hips_sub = hips.add_subparsers(dest="action", required=True)
    build = hips_sub.add_parser(
        "build",
        help="build or bring up to date a HiPS survey per collection and band, and a colour one (only the tiles of new or changed images are redone)",
    )
    build.add_argument("--band", action="append", default=[], help="only this em_band_name (repeatable)")
    build.add_argument("--collection", action="append", default=[], help="only this obs_collection (repeatable)")
    build.add_argument(
        "--color",
        action="append",
        metavar="RED,GREEN,BLUE",
        help="a colour survey of these three bands (repeatable; default: three per collection)",
    )
    build.add_argument("--no-color", action="store_true", help="no colour survey")
    build.add_argument(
        "--order",
        type=int,
        help="deepest HiPS order (default: the one matching the finest images' pixels; a survey being updated keeps its order)",
    )
    build.add_argument("--tile-width", type=int, default=512, help="tile side in pixels, a power of two (default 512)")
    build.add_argument(
        "--cut",
        type=float,
        nargs=2,
        metavar=("LOW", "HIGH"),
        help="display cut of the PNG tiles (default: 1st and 99th percentiles of the pixels)",
    )
    build.add_argument(
        "--full",
        action="store_true",
        help="rebuild every tile, not only those of new or changed images, choosing the order and the cut again",
    )
    build.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    build.add_argument("--quiet", action="store_true", help="no progress bars")
    build.set_defaults(func=cmd_hips_build)
    hips_list = hips_sub.add_parser("list", help="the published surveys")
    hips_list.set_defaults(func=cmd_hips_list)
    crawl_commands.add_parser(sub)
    access_commands.add_parsers(sub)
    release = sub.add_parser(
        "release",
        help="make what is built for everybody follow the release dates that passed: data_rights, coverage maps, "
        "registry records, HiPS surveys (run it nightly)",
    )
    release.add_argument("--no-hips", action="store_true", help="leave the HiPS surveys as they are")
    release.set_defaults(func=cmd_release)
    sample = sub.add_parser("sample", help="write the synthetic Suprime-Cam sample")
    sample.add_argument("directory", nargs="?")
    sample.set_defaults(func=cmd_sample)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        code = int(args.func(command_settings(args), args))
    except ArchiveNotFound as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
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
