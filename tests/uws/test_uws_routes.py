"""The UWS 1.1 REST binding as installed: module-level handlers (dalserver.uws.routes) mounted by
``install_job_routes``, TAP's at /tap/async with every resource UWS 1.1 sec. 2.2 names, and
the same table wherever a protocol installs it. Read from the app's OpenAPI document; no database."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from dalserver.app import create_app
from dalserver.services import identity
from dalserver.settings import Settings
from dalserver.tap.async_jobs import TapJobs, tap_runner
from dalserver.tap.parameters import TAP_PARAMETERS
from dalserver.uws.routes import create_job, install_job_routes, uws_router

# UWS 1.1 sec. 2.2, table 1 (and 2.2.3: POST ACTION=DELETE to a job for clients without DELETE).
UWS_RESOURCES = {
    "": {"get", "post"},
    "/{job_id}": {"get", "post", "delete"},
    "/{job_id}/phase": {"get", "post"},
    "/{job_id}/executionduration": {"get", "post"},
    "/{job_id}/destruction": {"get", "post"},
    "/{job_id}/error": {"get"},
    "/{job_id}/quote": {"get"},
    "/{job_id}/results": {"get"},
    "/{job_id}/results/{result_id}": {"get"},
    "/{job_id}/parameters": {"get", "post"},
    "/{job_id}/owner": {"get"},
}


def _jobs_table(app: FastAPI, prefix: str) -> dict[str, set[str]]:
    paths = app.openapi()["paths"]
    return {path[len(prefix) :]: set(item) for path, item in paths.items() if path.startswith(prefix)}


def test_tap_async_serves_every_uws_resource_with_its_methods(tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path), "postgresql://nobody@127.0.0.1:1/none")
    assert _jobs_table(app, "/tap/async") == UWS_RESOURCES
    creation = app.openapi()["paths"]["/tap/async"]["post"]
    form = creation["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    # TAP's parameters (uploads among them) and UWS's own controls describe job creation.
    assert {"QUERY", "LANG", "UPLOAD", "PHASE", "RUNID", "DESTRUCTION"} <= set(form)
    assert creation["tags"] == ["TAP async (UWS 1.1)"] and "303" in creation["responses"]


def test_another_protocol_installs_the_same_job_resources_at_its_own_prefix() -> None:
    app = FastAPI()
    install_job_routes(app.router, "/elsewhere/async", tap_runner, TapJobs(), identity, parameters=TAP_PARAMETERS)
    assert _jobs_table(app, "/elsewhere/async") == UWS_RESOURCES


def test_the_uws_handlers_are_written_once_at_module_level() -> None:
    handlers = [route.endpoint for route in uws_router.routes] + [create_job]  # type: ignore[attr-defined]  # APIRoutes, which have one
    assert len(handlers) == sum(len(methods) for methods in UWS_RESOURCES.values())
    assert all("<locals>" not in h.__qualname__ and h.__module__ == "dalserver.uws.routes" for h in handlers)
