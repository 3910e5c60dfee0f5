"""No route serves the archive's data without asking who the caller is: every route of the app
depends on the identity dependency (dalserver.services.identity), or is on the short list of
those that serve only what is public by construction. A new route fails here until it is one or
the other. Read from the app itself; no database."""

from __future__ import annotations

from dalserver.app import create_app
from dalserver.services import identity
from dalserver.settings import Settings
from tests.support.routes import served_routes

# Each with why it needs no identity.
PUBLIC = {
    "/openapi.json": "the interface's description",
    "/docs": "Swagger UI",
    "/docs/oauth2-redirect": "Swagger UI",
    "/static-offline-docs": "Swagger UI's files",
    "/": "the portal's page",
    "/portal/config.json": "the portal's settings",
    "/portal/resolve": "names of public rows' targets, or CDS Sesame's answer",
    "/portal/targets.json": "names of public rows' targets",
    "/portal/{name:path}": "the portal's scripts and styles",
    "/tap": "a landing page",
    "/sia": None,  # guarded: it answers queries too
    "/scs": "a landing page, listing the public cone searches",
    "/bulk": "a landing page around a public sample",
    "/quicklook": "a landing page around a public sample",
    "/tap/availability": "VOSI availability is anybody's (TAP 1.1 sec. 2)",
    "/sia/availability": "VOSI availability",
    "/datalink/availability": "VOSI availability",
    "/soda/availability": "VOSI availability",
    "/federated/sia/availability": "VOSI availability",
    "/federated/sia/examples": "DALI examples, written around a row of the public cache of other archives",
    "/scs/{name}/availability": "VOSI availability",
    "/scs/{name}/capabilities": "capabilities of a public cone search",
    "/tap/examples": "DALI examples, written around a public dataset",
    "/sia/examples": "DALI examples, written around a public dataset",
    "/datalink/examples": "DALI examples, written around a public dataset",
    "/soda/examples": "DALI examples, written around a public dataset",
    "/tap/esatapplus.xsd": "an XML schema",
    "/oai": "registry records, built from public rows and tables only",
    "/moc/collection/{name:path}": "coverage of public rows",
    "/moc/table/{name}": "coverage of public tables",
    "/moc/{name}": "coverage of public rows",
    "/hips/hipslist": "HiPS surveys are built from public images only",
    "/hips": "HiPS surveys are built from public images only",
    "/hips/{survey}": "HiPS surveys are built from public images only",
    "/hips/{survey}/{relative:path}": "HiPS surveys are built from public images only",
    "/metrics": "counters of queries and servers, no data (the guide keeps it from the public at the proxy)",
    "/login": "where one logs in",
    "/tap/login": "where TapPlus logs in",
    "/logout": "ends the session the cookie names",
    "/tap/logout": "ends the session the cookie names",
}


def test_every_route_asks_who_the_caller_is_or_serves_only_public_data() -> None:
    app = create_app(Settings(), "postgresql://nowhere/none")
    unguarded = sorted({r.path for r in served_routes(app) if identity not in r.calls and PUBLIC.get(r.path) is None})
    assert unguarded == [], f"these routes neither ask who the caller is nor serve only public data: {unguarded}"


def test_the_public_list_names_only_routes_the_app_has() -> None:
    app = create_app(Settings(), "postgresql://nowhere/none")
    paths = {r.path for r in served_routes(app)}
    assert sorted(set(PUBLIC) - paths) == []


def test_the_data_routes_are_guarded() -> None:
    app = create_app(Settings(), "postgresql://nowhere/none")
    guarded = {r.path for r in served_routes(app) if identity in r.calls}
    assert {
        "/tap/sync",
        "/tap/async",
        "/tap/async/{job_id}/results/{result_id}",
        "/tap/tables",
        "/tap/capabilities",
        "/sia/query",
        "/datalink/links",
        "/datalink/preview",
        "/datalink/provenance",
        "/soda/sync",
        "/data/{relative:path}",
        "/scs/{name}",
        "/bulk/zip",
        "/quicklook/pixels",
        "/whoami",
    } <= guarded
