"""The FastAPI application factory: one app per Settings, no module-level state."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from adql.parser import warm_up as warm_up_parser
from dalserver import dataset_examples, products
from dalserver.datalink import routes as datalink_routes
from dalserver.db.arrow_pool import ArrowPool
from dalserver.db.metadata import CatalogCache
from dalserver.db.pool import make_pool
from dalserver.errors import DALIError, PlainTextError
from dalserver.formats import votable
from dalserver.services import Services
from dalserver.settings import Settings
from dalserver.sia import routes as sia_routes
from dalserver.sia.describe import VocabularyCache
from dalserver.soda import routes as soda_routes
from dalserver.tap import examples, sync, vosi
from dalserver.uws import routes as uws_routes
from dalserver.uws.runner import JobRunner
from dalserver.uws.store import JobStore

log = logging.getLogger(__name__)


def create_app(settings: Settings, database_url: str) -> FastAPI:
    """An app serving the archive in ``database_url`` (already bootstrapped)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = make_pool(database_url, settings.pool_max_size)
        await pool.open(wait=True, timeout=30)
        # Build the ADQL parser now, then take start-up objects out of the cyclic GC's scans:
        # collecting over lark's tables otherwise adds 20-30 ms pauses to random requests.
        warm_up_parser()
        gc.freeze()
        queries = ArrowPool(database_url, settings.pool_max_size)
        svc = Services(settings, pool, queries, CatalogCache(pool, settings.catalog_ttl_seconds), JobStore(pool))
        svc.runner = JobRunner(svc, svc.jobs, database_url)
        svc.vocabulary = VocabularyCache(pool)
        app.state.services = svc
        await svc.runner.start()
        try:
            yield
        finally:
            await svc.runner.stop()
            await queries.close()
            await pool.close()

    app = FastAPI(title=settings.title, lifespan=lifespan, docs_url="/docs", redoc_url=None)
    app.include_router(sync.router)
    app.include_router(uws_routes.router)
    app.include_router(vosi.router)
    app.include_router(examples.router)
    app.include_router(products.router)
    app.include_router(sia_routes.router)
    app.include_router(datalink_routes.router)
    app.include_router(soda_routes.router)
    app.include_router(dataset_examples.router)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/tap")

    @app.exception_handler(DALIError)
    async def dali_error(request: Request, exc: DALIError) -> Response:
        if isinstance(exc, PlainTextError):
            return PlainTextResponse(exc.message, status_code=exc.status_code)
        return Response(votable.error_document(exc.message), status_code=exc.status_code, media_type=votable.MEDIA_TYPE)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "no such resource" if exc.status_code == 404 else str(exc.detail)
        return Response(votable.error_document(message), status_code=exc.status_code, media_type=votable.MEDIA_TYPE)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return Response(
            votable.error_document(f"invalid request: {exc.errors()}"), status_code=400, media_type=votable.MEDIA_TYPE
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return Response(
            votable.error_document("internal error in the service; the operator's log has the details"),
            status_code=500,
            media_type=votable.MEDIA_TYPE,
        )

    return app
