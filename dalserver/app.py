"""The FastAPI application factory: one app per Settings, no module-level state."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import Response
from fastapi_offline import FastAPIOffline

from adql.parser import warm_up as warm_up_parser
from dalserver import products
from dalserver.access.gate import Access
from dalserver.access.headers import AuthenticationHeaders
from dalserver.bulk import routes as bulk_routes
from dalserver.datalink import routes as datalink_routes
from dalserver.db import metrics
from dalserver.db.arrow_pool import ArrowPool
from dalserver.db.health import DatabaseHealth
from dalserver.db.metadata import CatalogCache
from dalserver.db.pool import make_pool
from dalserver.db.replicas import CatalogueFloor, PrimaryHealth, PrimaryPositions, QueryRouter, standbys_from_urls
from dalserver.federated import routes as federated_routes
from dalserver.hips import routes as hips_routes
from dalserver.http.compression import Compress
from dalserver.http.heap_trim import CountRequests, HeapTrim
from dalserver.http.memory import use_frugal_allocators
from dalserver.http.paths import TidyPaths
from dalserver.http.routing import AnswerWhenTheDatabaseHangs, add_error_handlers
from dalserver.http.stages import StageLog, stage_log_path
from dalserver.login import routes as login_routes
from dalserver.moc import routes as moc_routes
from dalserver.obscore.resolver import ArchiveTargets, Sesame
from dalserver.obscore.values import ObsCoreValuesCache
from dalserver.quicklook import routes as quicklook_routes
from dalserver.records.store import RecordsCache
from dalserver.registry import routes as registry_routes
from dalserver.scs import routes as scs_routes
from dalserver.services import Services
from dalserver.settings import RESOLVED_URL_VARIABLE, Settings
from dalserver.sia import routes as sia_routes
from dalserver.sia.parameters import SIA_PRODUCT_TYPES
from dalserver.soda import routes as soda_routes
from dalserver.tap import async_jobs, examples, sync, vosi
from dalserver.uws.runner import JobRunner
from dalserver.uws.store import JobStore
from dalserver.web import routes as web_routes

log = logging.getLogger(__name__)


def build_services(settings: Settings, database_url: str) -> Services:
    """Everything the handlers share, complete; pools are opened by the app's lifespan. With
    standbys (DALSERVER_REPLICA_URLS), users' queries go to them (dalserver.db.replicas)."""
    replica_urls = settings.replica_url_list
    positions = PrimaryPositions(keep=max(3600.0, 2 * settings.replica_max_lag_seconds))
    health = PrimaryHealth(database_url, positions) if replica_urls else DatabaseHealth(database_url)
    pool = make_pool(database_url, settings.pool_max_size, health)
    primary = ArrowPool(database_url, settings.pool_max_size, health)
    standbys = standbys_from_urls(replica_urls, settings.pool_max_size)
    queries = QueryRouter(primary, standbys, positions, settings.replica_max_lag_seconds, primary_lookups=pool)

    async def replace_dead_connections() -> None:
        primary.flush()
        await pool.check()

    health.on_recovery(replace_dead_connections)
    floor = CatalogueFloor(queries, pool) if standbys else None
    catalog = CatalogCache(pool, settings.catalog_ttl_seconds, settings.public_url, on_read=floor)
    access = Access(pool, settings, catalog)
    worker = async_jobs.tap_worker(access, queries, primary, settings)
    runner = JobRunner(JobStore(pool), database_url, settings, worker)
    values = ObsCoreValuesCache(pool, SIA_PRODUCT_TYPES)
    records = RecordsCache(pool, settings)
    sesame = Sesame(settings.sesame_url, settings.sesame_timeout_seconds) if settings.sesame_url else None
    return Services(
        settings, health, pool, queries, catalog, runner, values, records, ArchiveTargets(pool), sesame, access
    )


def app_from_environment() -> FastAPI:
    """The app of one server worker: settings from the environment, the database ``dalserver
    serve`` resolved (and bootstrapped) before it started the workers."""
    return create_app(Settings(), os.environ[RESOLVED_URL_VARIABLE])


async def metrics_endpoint() -> Response:
    """Which database server ran the queries, the standbys' state and lag (dalserver.db.metrics)."""
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)


def create_app(settings: Settings, database_url: str) -> FastAPI:
    """An app serving the archive in ``database_url`` (already bootstrapped)."""
    heap = HeapTrim(settings.memory_trim_seconds) if settings.memory_trim_seconds > 0 else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        use_frugal_allocators()
        svc = build_services(settings, database_url)
        await svc.pool.open(wait=True, timeout=30)
        await svc.health.start()
        await svc.queries.start()
        # Build the ADQL parser now, then take start-up objects out of the cyclic GC's scans:
        # collecting over lark's tables otherwise adds 20-30 ms pauses to random requests.
        warm_up_parser()
        gc.freeze()
        app.state.services = svc
        # The federated search's client for live services: one per process, so that its searches
        # take turns at each host.
        app.state.live_client = federated_routes.make_live_client(settings)
        await svc.runner.start()
        trimming = asyncio.create_task(heap.run()) if heap is not None else None
        try:
            yield
        finally:
            if trimming is not None:
                trimming.cancel()
            await app.state.live_client.close()
            await svc.runner.stop()
            await svc.queries.stop()
            await svc.health.stop()
            await svc.queries.primary.close()
            await svc.pool.close()
            metrics.worker_stopped()

    # Swagger UI from the files fastapi-offline packages: /docs works with no internet access.
    app = FastAPIOffline(title=settings.title, lifespan=lifespan, docs_url="/docs", redoc_url=None)
    # A request is matched against the routers in this order, so the small queries' come first:
    # placed 12th and 13th, cone search and the HiPS list reached their handler some 250 µs later
    # than a TAP cone (bench/small_queries.py's stages). No later router serves a path under theirs.
    for router in (
        sync.router,
        sia_routes.router,
        scs_routes.router,
        hips_routes.router,
        async_jobs.router,
        vosi.router,
        examples.router,
        products.router,
        federated_routes.router,
        datalink_routes.router,
        soda_routes.router,
        registry_routes.router,
        moc_routes.router,
        bulk_routes.router,
        quicklook_routes.router,
        login_routes.router,
        web_routes.router,
    ):
        app.include_router(router)
    app.add_api_route(
        "/metrics",
        metrics_endpoint,
        methods=["GET"],
        summary="Metrics (Prometheus text format)",
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}, "description": "Prometheus' text exposition format"}},
    )
    add_error_handlers(app)
    app.add_middleware(AuthenticationHeaders, settings=settings)
    app.add_middleware(AnswerWhenTheDatabaseHangs)
    app.add_middleware(Compress, level=settings.gzip_level)
    if heap is not None:
        app.state.heap_trim = heap
        app.add_middleware(CountRequests, heap=heap)
    app.add_middleware(TidyPaths)  # outermost: every route sees the tidied path
    if (stage_log := stage_log_path()) is not None:
        app.add_middleware(StageLog, path=stage_log)  # bench/small_queries.py's stage breakdown

    return app
