"""``/moc/...``: the archive's coverage maps (IVOA MOC 2.0), made from footprints and source
positions at ingest (archive_io/coverage.py), at the archive's full HEALPix order:

* ``/moc/collection/<collection>.{fits,txt,json}`` (the collection's key as in its IVOID, e.g.
  ``subaru-suprime-cam``, or its obs_collection);
* ``/moc/table/<schema.table>.{fits,txt,json}``, ``ivoa.obscore`` being the union of the
  collections;
* ``/moc/all.{fits,txt,json}``: everything the archive holds.

FITS is written so that MOC 1.1 readers read it too (NUNIQ ordering, MOCORDER beside MOCORD_S);
the records' ``footprint`` elements point here.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

from fastapi.responses import Response

if TYPE_CHECKING:
    from mocpy import MOC  # loaded by archive_io.coverage when a MOC is first made

from archive_io import registry_state as keys
from archive_io.coverage import moc_from_ascii, moc_to_ascii
from archive_io.identifiers import collection_key
from dalserver.dali.faults import ErrorStyle, NotFoundFault
from dalserver.http.routing import protocol_router
from dalserver.records.build import OBSCORE_TABLE
from dalserver.records.state import ArchiveState, read_full_mocs
from dalserver.services import Services, ServicesDep

router = protocol_router(ErrorStyle.PLAIN_VOTABLE, tags=["MOC"])

MEDIA_TYPES = {"fits": "application/fits", "txt": "text/plain; charset=utf-8", "json": "application/json"}


def _split(name: str) -> tuple[str, str]:
    stem, dot, suffix = name.rpartition(".")
    if not dot or suffix not in MEDIA_TYPES:
        raise NotFoundFault(f"{name!r}: a MOC is served as .fits, .txt or .json")
    return stem, suffix


def _union(texts: list[str]) -> MOC | None:
    mocs = [moc_from_ascii(t) for t in texts]
    if not mocs:
        return None
    return mocs[0].union(*mocs[1:]) if len(mocs) > 1 else mocs[0]


def _answer(moc: MOC, suffix: str, name: str) -> Response:
    if suffix == "txt":
        body = (moc_to_ascii(moc) + "\n").encode()
    elif suffix == "json":
        body = json.dumps(json.loads(moc.to_string(format="json")), separators=(",", ":")).encode()
    else:
        out = io.BytesIO()
        moc.serialize(format="fits", v1_compatible=True).writeto(out)
        body = out.getvalue()
    headers = {"Content-Disposition": f'inline; filename="{name}"'}
    return Response(body, media_type=MEDIA_TYPES[suffix], headers=headers)


async def _mocs(svc: Services, keys_wanted: list[str]) -> MOC | None:
    return _union(await read_full_mocs(svc.pool, keys_wanted))


def _collection_state_key(state: ArchiveState, wanted: str) -> str:
    for name in state.collections:
        if wanted in (name, collection_key(name)):
            return keys.collection_state_key(name)
    raise NotFoundFault(f"this archive has no collection {wanted!r}")


def _table_keys(state: ArchiveState, wanted: str) -> list[str]:
    if wanted.lower() == OBSCORE_TABLE:
        return [keys.collection_state_key(c) for c in state.collections]
    row = state.resources.get(keys.catalog_state_key(wanted.lower()))
    if row is None or row.deleted or state.table(wanted) is None:
        raise NotFoundFault(f"this archive publishes no catalogue {wanted!r}")
    if row.position is None:
        raise NotFoundFault(f"the catalogue {wanted} has no positions, so no coverage")
    return [keys.catalog_state_key(wanted.lower())]


@router.get("/moc/collection/{name:path}", summary="Coverage (MOC 2.0) of an ObsCore collection")
async def collection_moc(svc: ServicesDep, name: str) -> Response:
    stem, suffix = _split(name)
    moc = await _mocs(svc, [_collection_state_key(await svc.records.state(), stem)])
    if moc is None:
        raise NotFoundFault(f"the collection {stem!r} has no footprints yet")
    return _answer(moc, suffix, name.replace("/", "-"))


@router.get("/moc/table/{name}", summary="Coverage (MOC 2.0) of a published table")
async def table_moc(svc: ServicesDep, name: str) -> Response:
    stem, suffix = _split(name)
    moc = await _mocs(svc, _table_keys(await svc.records.state(), stem))
    if moc is None:
        raise NotFoundFault(f"the table {stem!r} has no coverage yet")
    return _answer(moc, suffix, name)


@router.get("/moc/{name}", summary="Coverage (MOC 2.0) of everything the archive holds")
async def archive_moc(svc: ServicesDep, name: str) -> Response:
    stem, suffix = _split(name)
    if stem != "all":
        raise NotFoundFault(f"no MOC {name!r}: see /moc/all, /moc/collection/<name>, /moc/table/<schema.table>")
    state = await svc.records.state()
    data = [k for k in state.resources if k.startswith(("collection:", "catalog:"))]
    moc = await _mocs(svc, data)
    if moc is None:
        raise NotFoundFault("the archive holds no data with positions yet")
    return _answer(moc, suffix, name)
