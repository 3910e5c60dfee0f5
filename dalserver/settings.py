"""Service settings, from DALSERVER_* environment variables (pydantic-settings)."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dalserver.home import absolute_home, locate_home

# Set by `dalserver serve` for its workers: the database it resolved (and bootstrapped) before it
# started them. Here, not in dalserver.app, so the command need not import the app to name it.
RESOLVED_URL_VARIABLE = "DALSERVER_SERVING_DATABASE_URL"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DALSERVER_", env_file=None)

    # With no URL, dalserver runs its own PostgreSQL cluster under `home`.
    database_url: str | None = None
    # DALSERVER_HOME, else the nearest .dalserver in the working directory or above (dalserver/home.py)
    home: Path = Field(default_factory=lambda: locate_home().path)
    archive_dir: Path | None = None  # products; default: <home>/archive
    database_name: str = "dalserver"

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int | None = None  # server processes; default: one per core (dalserver serve --workers)
    base_url: str | None = None  # public URL; default http://<host>:<port>
    ivoid_authority: str = "dalserver.demo"
    title: str = "dalserver demo archive"

    maxrec_default: int = 10_000
    maxrec_hard: int = 10_000_000
    statement_timeout_seconds: float = 60.0
    fetch_batch_bytes: int = 1 << 20  # results leave the database in batches of about this size
    # An answer goes to its reader through a spool (memory, then a temporary file), so a slow
    # reader never holds the query's database connection; one that reads nothing is dropped.
    spool_memory_bytes: int = 2 << 20
    spool_max_bytes: int = 2 << 30
    send_timeout_seconds: float = 300.0
    request_body_timeout_seconds: float = 60.0  # a request body that trickles in longer is refused
    # gzip level (1-9) for text answers to clients that accept gzip; 0 turns compression off.
    gzip_level: int = 1
    # A worker gives the heap it freed back to the system when idle or after a large answer, at
    # most this often (dalserver/http/heap_trim.py); 0: never, glibc keeps it.
    memory_trim_seconds: float = 5.0
    catalog_ttl_seconds: float = 5.0
    pool_max_size: int = 10
    # Hot standbys of the database (PostgreSQL streaming replicas) that users' queries go to,
    # spread over them; the primary (database_url) keeps the jobs, ingest and everything that
    # writes. libpq URLs separated by spaces or new lines, or a JSON list (dalserver/db/replicas.py).
    replica_urls: str = ""
    # A standby further behind the primary than this is not used (its queries go elsewhere).
    replica_max_lag_seconds: float = 30.0
    # Shard servers for catalogues split by sky region (PostgreSQL with pgsphere, reached by the
    # database through postgres_fdw): libpq URLs as for replica_urls. Unset: the managed local
    # shards under <home>/shards (dalserver/db/shards.py).
    shards: str = ""

    # TAP async (UWS): jobs are rows in the database, results files under jobs_dir.
    jobs_dir: Path | None = None  # default: <home>/jobs
    async_workers: int = 2  # jobs one server process runs at once
    async_execution_default_seconds: int = 3600
    async_execution_max_seconds: int = 4 * 3600
    job_retention_default_seconds: int = 7 * 86400  # destruction time of a new job
    job_retention_max_seconds: int = 30 * 86400
    job_wait_max_seconds: int = 60  # longest a blocking WAIT holds a request
    job_max_attempts: int = 2  # a job whose server died while running it is re-run this often in all
    job_sweep_seconds: float = 30.0  # how often expired jobs and orphaned runs are looked for
    job_poll_seconds: float = 2.0  # queue check when no notification arrives

    # TAP UPLOAD
    upload_max_bytes: int = 50 << 20
    upload_max_rows: int = 1_000_000
    upload_max_tables: int = 10
    upload_url_fetch: bool = False  # UPLOAD=name,https://... (never to private or loopback addresses)

    # DataLink and SODA
    cache_dir: Path | None = None  # rendered previews; default: <home>/cache
    preview_max_pixels: int = 1024  # longest side of a preview PNG
    preview_cache_mb: int = 1024  # previews beyond this are removed, least recently used first
    datalink_max_ids: int = 1000  # IDs one {links} request answers; more are cut with an overflow

    # The portal's cart: bulk downloads (/bulk)
    bulk_max_ids: int = 10_000  # datasets one download names
    bulk_max_bytes: int = 20 << 30  # the files one zip holds (the script has no limit: it fetches them one by one)
    bulk_cutout_max_bytes: int = 2 << 30  # the cutouts one request makes, together
    # the portal runs an ADQL query synchronously; one that has not begun to answer after this many
    # seconds goes on as an async job (listed under Jobs, not lost on a reload)
    portal_async_after_seconds: float = 5.0

    # Proprietary data (docs/operators-guide/access.md): users, tokens, login sessions
    session_hours: float = 12.0  # a login session (POST /login, the portal's form) lasts this long
    auth_cache_seconds: float = 5.0  # what a credential proved is reused this long: a revocation takes effect within it

    # The registry: resource records, OAI-PMH, RegTAP, Simple Cone Search
    registry_file: Path | None = None  # the operator's publisher/contact/subjects; default: <home>/registry.yaml
    oai_page_size: int = 100  # records per OAI-PMH ListRecords/ListIdentifiers answer (then a resumption token)
    scs_max_sr: float = 10.0  # largest cone search radius (degrees)
    registry_schema_dir: Path | None = None  # IVOA XSDs for checking harvested records; default: python3-gavo's copies
    # HiPS surveys: written by `dalserver hips build`, served under /hips
    hips_dir: Path | None = None  # default: <home>/hips
    # The portal's name resolver: the archive's own targets, then CDS Sesame through this server
    # (plain-text output); empty: never online (an air-gapped site)
    sesame_url: str = "https://cds.unistra.fr/cgi-bin/nph-sesame/-oI/SNV"
    sesame_timeout_seconds: float = 5.0

    # The VO crawler (dalserver crawl): how it treats other archives (vo_crawl/config.py says more)
    crawl_file: Path | None = None  # the operator's include/exclude lists; default: <home>/crawl.yaml
    crawl_contact_url: str | None = None  # in the crawler's User-Agent; default: the public URL
    crawl_min_gap_seconds: float = 2.0  # between two requests to one host
    crawl_connect_timeout_seconds: float = 10.0
    crawl_read_timeout_seconds: float = 120.0
    crawl_retries: int = 3  # of one request after a timeout or a 429/502/503/504
    crawl_retry_seconds: float = 2.0  # first wait before a retry; doubles; Retry-After wins when longer
    crawl_backoff_seconds: float = 900.0  # a service's wait after a failed run; doubles with each one
    crawl_backoff_max_seconds: float = 86400.0
    crawl_dead_after: int = 5  # failed runs in a row that make a service dead (probed weekly)
    crawl_daily_requests: int = 2000  # requests to one service per UTC day
    crawl_rows_per_request: int = 10000  # MAXREC of one fetch; fuller cells are split
    crawl_max_body_mb: int = 256  # a larger answer is an error for its cell
    crawl_interval_seconds: float = 86400.0  # how often a service's census is taken
    crawl_refresh_days: float = 30.0  # every cell is fetched again this often, changed or not
    crawl_census_order: int = 6  # HEALPix order of the ivo_healpix_index census
    crawl_hosts_in_parallel: int = 4

    # The federated image search (/federated/sia): the crawler's cache, and with LIVE=true also the
    # services themselves (dalserver/federated/), asked politely, under the crawler's User-Agent
    federated_timeout_seconds: float = 10.0  # for each live service, counted from the start of the search
    federated_live_maxrec: int = 1000  # rows asked of each live service
    federated_live_services: int = 20  # live services one search asks at most
    federated_max_body_mb: int = 16  # a larger live answer is that service's error
    federated_private_addresses: bool = False  # may ask services at loopback or private addresses

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        # Absolute once, here: a worker or a subprocess started elsewhere gets the same home.
        return absolute_home(value)

    def export(self, environ: MutableMapping[str, str]) -> None:
        """Write these settings into ``environ`` as DALSERVER_* variables (unset ones removed), so
        that a process started with it, such as a server's worker, reads exactly these settings."""
        prefix = str(self.model_config.get("env_prefix", ""))
        for name, value in self.model_dump().items():
            variable = f"{prefix}{name}".upper()
            if value is None:
                environ.pop(variable, None)
            else:
                environ[variable] = str(value)

    @field_validator("replica_urls", "shards")
    @classmethod
    def _replica_urls_readable(cls, value: str) -> str:
        _url_list(value)  # refused at start, with the reason, rather than at the first query
        return value

    @property
    def replica_url_list(self) -> list[str]:
        return _url_list(self.replica_urls)

    @property
    def shard_url_list(self) -> list[str]:
        return _url_list(self.shards)

    @property
    def public_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def archive_root(self) -> Path:
        return (self.archive_dir or self.home / "archive").absolute()

    @property
    def jobs_root(self) -> Path:
        return (self.jobs_dir or self.home / "jobs").absolute()

    @property
    def cache_root(self) -> Path:
        return (self.cache_dir or self.home / "cache").absolute()

    @property
    def registry_path(self) -> Path:
        return (self.registry_file or self.home / "registry.yaml").absolute()

    @property
    def hips_root(self) -> Path:
        return (self.hips_dir or self.home / "hips").absolute()

    @property
    def crawl_path(self) -> Path:
        return (self.crawl_file or self.home / "crawl.yaml").absolute()

    @property
    def schema_extension_dirs(self) -> tuple[Path, ...]:
        extra = self.home / "schemas"
        return (extra,) if extra.is_dir() else ()

    @property
    def instrument_profile_dirs(self) -> tuple[Path, ...]:
        """The site's instrument profiles (<home>/instruments/*.yaml), beside the shipped ones."""
        extra = self.home / "instruments"
        return (extra,) if extra.is_dir() else ()


def _url_list(text: str) -> list[str]:
    """DALSERVER_REPLICA_URLS as a list: a JSON list, or URLs separated by white space (not by
    commas: libpq's multi-host URLs contain them)."""
    text = text.strip()
    if not text.startswith("["):
        return text.split()
    try:
        urls = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not a JSON list of URLs: {exc}") from None
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise ValueError("a JSON list of URLs must hold strings only")
    return [u.strip() for u in urls if u.strip()]
