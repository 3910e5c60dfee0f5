"""Simple Cone Search 1.03 at ``/scs/<schema.table>`` for every published catalogue with a
position, and for ``ivoa.obscore`` by ``s_ra``/``s_dec``; each endpoint with its VOSI
capabilities and availability. The answer goes through the one pipeline (MAXREC, OVERFLOW,
timeouts, streaming as everywhere); errors are SCS's error VOTable with HTTP 200."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from dalserver.dali.faults import ErrorStyle, NotFoundFault
from dalserver.formats.registry import response_format
from dalserver.http.landing import landing_page
from dalserver.http.routing import answer_response, client_gone, protocol_router
from dalserver.http.stages import mark
from dalserver.pipeline import Limits, ResultWriter, answer
from dalserver.records.build import OBSCORE_TABLE
from dalserver.records.state import ArchiveState
from dalserver.scs.query import ConeTable, cone_table, parse_cone, prepare_cone
from dalserver.services import FormParams, IdentityDep, ServicesDep
from dalserver.vosi import documents
from dalserver.vosi.resources import availability_response
from ivoa.vocabulary import StandardID

router = protocol_router(ErrorStyle.SCS_VOTABLE, tags=["Simple Cone Search"])


class _LastTables:
    """``cone_tables`` of the last state asked about. The records cache reads the state again
    every DALSERVER_CATALOG_TTL_SECONDS at most, as a new object, and never changes one it gave
    out: until then a cone search looks its table up instead of describing every catalogue
    again (some 180 us a request)."""

    def __init__(self) -> None:
        self._last: tuple[ArchiveState, dict[str, ConeTable]] | None = None

    def of(self, state: ArchiveState) -> dict[str, ConeTable]:
        last = self._last
        if last is not None and last[0] is state:
            return last[1]
        tables = cone_tables(state)
        self._last = (state, tables)
        return tables


_served = _LastTables()


def cone_tables(state: ArchiveState) -> dict[str, ConeTable]:
    """The tables cone search serves, by lower-case name."""
    found: dict[str, ConeTable] = {}
    obscore = state.table(OBSCORE_TABLE)
    if obscore is not None:
        found[OBSCORE_TABLE] = cone_table(OBSCORE_TABLE, ("s_ra", "s_dec"), obscore)
    for key, row in state.resources.items():
        if not key.startswith("catalog:") or row.deleted or row.position is None:
            continue
        name = key.partition(":")[2]
        table = state.table(name)
        if table is not None:
            found[name.lower()] = cone_table(table.name, row.position, table)
    return found


async def served_table(svc: ServicesDep, name: str) -> ConeTable:
    """The table ``/scs/{name}`` searches (a dependency: the path names it)."""
    tables = _served.of(await svc.records.state())
    table = tables.get(name.lower())
    mark("cone table")
    if table is None:
        known = ", ".join(sorted(tables)) or "none yet"
        raise NotFoundFault(f"no cone search for {name!r}: this archive has one for {known}")
    return table


ServedTable = Annotated[ConeTable, Depends(served_table)]


# The table is found before the parameters are read: an unknown table is the first thing said.
@router.api_route("/scs/{name}", methods=["GET", "POST"], summary="Simple Cone Search 1.03")
async def cone_search(
    request: Request, svc: ServicesDep, table: ServedTable, params: FormParams, who: IdentityDep
) -> Response:
    fmt = response_format(params.get("RESPONSEFORMAT") or params.get("FORMAT"))
    cone = parse_cone(params, svc.settings)
    catalog = await svc.access.catalog(who)
    mark("catalogue")
    query = prepare_cone(table, cone, catalog, svc.translations)
    mark("query")
    limits = Limits(svc.settings.statement_timeout_seconds, svc.settings.fetch_batch_bytes)
    chunks = await answer(query, ResultWriter(fmt), svc.queries, limits, client_gone(request))
    return await answer_response(chunks, fmt.mime, svc.settings, chunks.rows_in_memory)


@router.get("/scs/{name}/capabilities", summary="Cone search VOSI capabilities")
async def capabilities(svc: ServicesDep, table: ServedTable) -> Response:
    base = f"{svc.settings.public_url}/scs/{table.name}"
    capability = documents.Capability(StandardID.SCS, f"{base}?", use="base")
    body = documents.service_capabilities(base, [capability])
    return Response(body, media_type=documents.XML_MEDIA_TYPE)


@router.get("/scs/{name}/availability", summary="Cone search VOSI availability")
async def availability(svc: ServicesDep, table: ServedTable) -> Response:
    return await availability_response(svc)


@router.get("/scs", response_class=HTMLResponse, summary="Cone search landing page")
async def landing(svc: ServicesDep) -> HTMLResponse:
    settings = svc.settings
    base = settings.public_url
    tables = sorted(cone_tables(await svc.records.state()).values(), key=lambda t: t.name)
    first = tables[0].name if tables else OBSCORE_TABLE
    return landing_page(
        settings.title,
        "Simple Cone Search",
        f"Simple Cone Search 1.03 (pyvo.dal.SCSService) over {len(tables)} table(s): RA, DEC, SR in degrees.",
        (f"{base}/scs/{first}?RA=34.5&DEC=-5.0&SR=0.05", f"sources within 3 arcmin of RA 34.5, Dec -5.0 in {first}"),
        tuple((f"{base}/scs/{t.name}?", t.name) for t in tables),
    )
