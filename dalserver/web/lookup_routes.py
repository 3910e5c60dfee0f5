"""The portal's look-ups: ``/portal/resolve`` (an object name's position: the archive's own targets,
then CDS Sesame through this server, dalserver/obscore/resolver.py), ``/portal/targets.json`` (the
names of the archive's targets, for the name fields' suggestions) and ``/portal/catalogues.json``
(the catalogues a cone search can search: those with a position the ingest indexed, and that the
caller may read). The archive's targets are read from public rows only (released, whoever asks),
so a name never tells of proprietary data."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from adql.catalog import TableMeta
from archive_io.registry_state import catalog_state_key
from dalserver.dali.faults import ErrorStyle, NotFoundFault, TransientFault, UsageFault
from dalserver.http.routing import protocol_router
from dalserver.obscore.resolver import SesameUnreachable, archive_answer, name_key
from dalserver.services import IdentityDep, ServicesDep

router = protocol_router(ErrorStyle.PLAIN_VOTABLE, tags=["Portal"])

CATALOG_PREFIX = catalog_state_key("")  # the registry state's rows of catalogues
MAX_TARGET_NAMES = 5000  # suggested to the name fields; every target resolves all the same


@router.get("/portal/resolve", summary="An object name's position: the archive's own targets, then CDS Sesame")
async def resolve(svc: ServicesDep, name: str = "") -> JSONResponse:
    """``{name, ra, dec, resolver, detail, radius}`` (degrees, ICRS); ``resolver`` is ``archive``
    or ``sesame``. 404 when no resolver knows the name, 503 when the archive does not and Sesame
    cannot be asked."""
    wanted = " ".join(name.split())
    if not wanted:
        raise UsageFault("give an object name, e.g. /portal/resolve?name=M31")
    if len(wanted) > 200:
        raise UsageFault("an object name is at most 200 characters long")
    target = (await svc.targets.get()).get(name_key(wanted))
    if target is not None:
        return JSONResponse(archive_answer(target).as_json(), headers={"Cache-Control": "no-cache"})
    sesame = svc.sesame
    if sesame is None:
        raise NotFoundFault(
            f"{wanted!r} is not a target of this archive, and this server does not ask online "
            "resolvers (DALSERVER_SESAME_URL is empty): give a position instead"
        )
    try:
        found = await sesame.resolve(wanted)
    except SesameUnreachable as exc:
        raise TransientFault(
            f"{wanted!r} is not a target of this archive, and the online resolver (CDS Sesame) is not "
            f"reachable: {exc}. Give a position instead",
            retry_after=60,
        ) from None
    if found is None:
        raise NotFoundFault(f"{wanted!r} is neither a target of this archive nor a name CDS Sesame knows")
    return JSONResponse(found.as_json(), headers={"Cache-Control": "no-cache"})


@router.get("/portal/targets.json", summary="The names of the archive's targets (for a name field's suggestions)")
async def targets(svc: ServicesDep) -> JSONResponse:
    found = await svc.targets.get()
    names = sorted((t.name for t in found.values()), key=str.casefold)[:MAX_TARGET_NAMES]
    return JSONResponse(names, headers={"Cache-Control": "no-cache"})


@router.get("/portal/catalogues.json", summary="The catalogues the portal's cone search form offers")
async def catalogues(svc: ServicesDep, who: IdentityDep) -> JSONResponse:
    """The published catalogues that have a position and that ``who`` may read, by name: public
    ones from their registry state (the columns the ingest indexed); a catalogue restricted to a
    group has no registry state, so for its members its position is the pair of columns whose
    UCDs say main RA and Dec."""
    state = await svc.records.state()
    recorded = {key.lower(): row for key, row in state.resources.items() if key.startswith(CATALOG_PREFIX)}
    found = []
    for table in sorted((await svc.access.catalog(who)).tables, key=lambda t: t.qualified_name):
        row = recorded.get(catalog_state_key(table.qualified_name).lower())
        if row is None:
            ra, dec = _main_position(table)
        elif not row.deleted and row.position is not None:
            ra, dec = row.position
        else:
            continue
        if ra is not None and dec is not None:
            found.append({"name": table.qualified_name, "ra": ra, "dec": dec})
    return JSONResponse(found, headers={"Cache-Control": "no-cache"})


def _main_position(table: TableMeta) -> tuple[str | None, str | None]:
    def column(ucd: str) -> str | None:
        for c in table.columns:
            words = (c.ucd or "").lower().split(";")
            if ucd in words and "meta.main" in words:
                return c.name
        return None

    return column("pos.eq.ra"), column("pos.eq.dec")
