"""DataLink endpoints: /datalink/links (the {links} table), /datalink/preview, VOSI resources."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import urlencode

import pyarrow as pa
from anyio import to_thread
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from dalserver.access.identity import Identity
from dalserver.dali.descriptors import DATALINK_MIME, InputParam, ServiceDescriptor, resource_xml
from dalserver.dali.faults import ErrorStyle, NotFoundFault, UsageFault
from dalserver.dali.params import DALIParams
from dalserver.datalink.examples import datalink_examples
from dalserver.datalink.links import LINK_COLUMNS, answer, links_batch, not_found
from dalserver.datalink.provenance import PROV_FORMATS, prov_format, provenance_document, serialize
from dalserver.formats.registry import response_format
from dalserver.formats.votable import VOTableExtras
from dalserver.http.landing import landing_page
from dalserver.http.openapi import ApiParam, answers, dali_get, dali_post
from dalserver.http.routing import protocol_router
from dalserver.obscore.datasets import find_dataset, find_datasets
from dalserver.obscore.example_dataset import examples_response, sample_dataset
from dalserver.services import DALIParamsReader, FormParams, IdentityDep, Services, ServicesDep, identity, services
from dalserver.vosi.resources import vosi_routes
from ivoa.vocabulary import StandardID

router = protocol_router(ErrorStyle.DAL_VOTABLE, tags=["DataLink 1.1"])
router.include_router(
    vosi_routes("datalink", "DataLink", StandardID.DATALINK, "links", ErrorStyle.DAL_VOTABLE, services, identity)
)
_MAX_BODY = 4 << 20  # a POST of many IDs
links_params = DALIParamsReader(lambda _settings: _MAX_BODY)
LinksParams = Annotated[DALIParams, Depends(links_params)]
LINKS_PARAMETERS = (
    ApiParam("ID", "Publisher DID of a dataset; repeat for several", True, repeatable=True),
    ApiParam("RESPONSEFORMAT", "Output format (default: the DataLink VOTable)"),
)
LINKS_ANSWERS = answers(
    "the {links} table: each dataset's file, preview, provenance and cutout service",
    [DATALINK_MIME, "application/x-votable+xml"],
    "a VOTable whose QUERY_STATUS message starts UsageFault:",
)
ID_ONLY = (ApiParam("ID", "Publisher DID of the dataset", True),)


def _self_description(base_url: str) -> str:
    return resource_xml(
        ServiceDescriptor(
            access_url=f"{base_url}/datalink/links",
            standard_id=StandardID.DATALINK,
            utype="adhoc:this",
            description="This DataLink service: the links of datasets published in ivoa.obscore",
            inputs=[InputParam("ID", ucd="meta.id;meta.main", description="Publisher DID (repeat for several)")],
        )
    )


async def _one_batch(batch: pa.RecordBatch) -> AsyncIterator[pa.RecordBatch]:
    yield batch


@router.post(
    "/datalink/links", summary="DataLink {links}", openapi_extra=dali_post(LINKS_PARAMETERS), responses=LINKS_ANSWERS
)
@router.get(
    "/datalink/links", summary="DataLink {links}", openapi_extra=dali_get(LINKS_PARAMETERS), responses=LINKS_ANSWERS
)
async def links(svc: ServicesDep, params: LinksParams, who: IdentityDep) -> StreamingResponse:
    return await _links(params, svc, who)


async def _links(params: DALIParams, svc: Services, who: Identity) -> StreamingResponse:
    requested = params.get("RESPONSEFORMAT")
    fmt = response_format(requested)
    given = [i for i in params.getall("ID") if i.strip()]
    limit = svc.settings.datalink_max_ids
    answered = given[:limit]
    base = svc.settings.public_url
    # On a standby when there are some (DALSERVER_REPLICA_URLS); an ID it does not know (or may not
    # see) is asked of the primary.
    wanted = {i.lower() for i in answered}
    datasets = await svc.queries.look_up(
        lambda pool: find_datasets(pool, answered, svc.settings.archive_root, base, who),
        lambda found: wanted <= set(found),
    )
    rows, cutouts = await to_thread.run_sync(answer, base, answered, datasets, svc.settings.preview_max_pixels)
    descriptors = [_self_description(base), *(resource_xml(d) for d in cutouts)]
    maxrec = len(rows)
    if len(given) > limit:
        # DataLink sec. 2.1.1: answer up to the limit and say the result is cut (an OVERFLOW).
        rows.append(not_found(given[limit]))
    extras = VOTableExtras(infos=(("standardID", StandardID.DATALINK),), resources="".join(descriptors))
    # The DataLink MIME type for the standard answer; DALI's rules when a format was asked for.
    media = DATALINK_MIME if requested is None and fmt.is_votable else fmt.mime
    body = fmt.stream(LINK_COLUMNS, _one_batch(links_batch(rows)), maxrec, extras)
    return StreamingResponse(body, media_type=media)


def _required_id(params: DALIParams) -> str:
    value = params.get("ID")
    if value is None or not value.strip():
        raise UsageFault("missing required parameter ID")
    return value


@router.get(
    "/datalink/preview",
    summary="PNG quick-look of an image",
    openapi_extra=dali_get(ID_ONLY),
    responses=answers("a PNG of the image, ZScale-stretched", ["image/png"]),
)
async def preview(svc: ServicesDep, params: FormParams, who: IdentityDep) -> Response:
    from dalserver.datalink.preview import cached_preview  # astropy.visualization and Pillow: ~25 MB, on demand

    did = _required_id(params)
    # Looked up on every request, cached or not: the cache is keyed by file, not by who may see it.
    dataset = await find_dataset(svc.pool, did, svc.settings.archive_root, svc.settings.public_url, who)
    if dataset is None:
        raise await svc.access.not_visible(who, f"{did} is not an image of this archive")
    if not dataset.is_image or dataset.path is None:
        raise NotFoundFault(f"{did} is not an image of this archive")
    png = await to_thread.run_sync(
        cached_preview,
        dataset.path,
        svc.settings.cache_root,
        svc.settings.preview_max_pixels,
        svc.settings.preview_cache_mb << 20,
    )
    # Public for anonymous callers; an authenticated caller's answer is made private
    # (dalserver.access.headers), as it may show a proprietary image.
    return Response(png, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})


@router.get(
    "/datalink/provenance",
    summary="Ingest provenance of a dataset (W3C PROV-JSON, PROV-N or PROV-XML)",
    openapi_extra=dali_get(
        (
            *ID_ONLY,
            ApiParam("RESPONSEFORMAT", "PROV-JSON (default), PROV-N or PROV-XML", enum=[f.name for f in PROV_FORMATS]),
        )
    ),
    responses=answers("the W3C PROV document", [f.media_type for f in PROV_FORMATS]),
)
async def provenance(svc: ServicesDep, params: FormParams, who: IdentityDep) -> Response:
    did = _required_id(params)
    requested = params.get("RESPONSEFORMAT") or "PROV-JSON"
    fmt = prov_format(requested)
    if fmt is None:
        known = ", ".join(f.name for f in PROV_FORMATS)
        raise UsageFault(f"RESPONSEFORMAT {requested!r} is not offered; use one of {known}")
    document = await provenance_document(svc.pool, did, svc.settings.public_url, who)
    if document is None:
        raise NotFoundFault(f"no ingest provenance is known for {did}")
    return Response(serialize(document, fmt), media_type=fmt.media_type)


@router.get("/datalink/examples", summary="DataLink DALI examples")
async def examples(svc: ServicesDep) -> Response:
    title = f"{svc.settings.title}: DataLink"
    return examples_response(title, await sample_dataset(svc.pool), StandardID.DATALINK, datalink_examples)


@router.get("/datalink", response_class=HTMLResponse, summary="DataLink service landing page")
async def landing(request: Request, svc: ServicesDep, params: LinksParams, who: IdentityDep) -> Response:
    """The page for a browser; with parameters, a {links} request as at /datalink/links."""
    if request.query_params:
        return await _links(params, svc, who)
    base = svc.settings.public_url
    dataset = await sample_dataset(svc.pool)
    example = (f"{base}/datalink/examples", "example requests")
    if dataset is not None:
        example = (f"{base}/datalink/links?{urlencode({'ID': dataset.did})}", f"the links of {dataset.did}")
    return landing_page(
        svc.settings.title,
        "DataLink",
        f"DataLink 1.1 at {base}/datalink/links: for each dataset (ID, its publisher DID) the file, a PNG "
        "preview, its ingest provenance and a SODA cutout service. pyvo reaches it from any SIA or TAP "
        "result row with getdatalink().",
        example,
        tuple((f"{base}/datalink/{p}", p) for p in ("capabilities", "availability", "examples")),
        clients=f"The {{links}} URL to give a client (datalinklint, TOPCAT) is {base}/datalink/links.",
    )
