"""SODA 1.0 {sync} at /soda/sync: cutouts of archive images by CIRCLE, POLYGON or POS, and the
VOSI resources. Errors are text/plain documents starting with SODA's error code (sec. 5.2).
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.background import BackgroundTask

from dalserver.access.identity import Identity
from dalserver.dali.faults import DALIError, ErrorStyle, Fault, NotFoundFault, UsageFault
from dalserver.dali.params import DALIParams
from dalserver.dali.values import Shape, ShapeParser, parse_circle, parse_interval, parse_polygon, parse_pos
from dalserver.http.landing import landing_page
from dalserver.http.openapi import ApiParam, answers, dali_get, dali_post
from dalserver.http.routing import protocol_router
from dalserver.obscore.datasets import Dataset, find_dataset
from dalserver.obscore.example_dataset import circle_text, examples_response, sample_dataset
from dalserver.services import FormParams, IdentityDep, Services, ServicesDep, identity, services
from dalserver.soda.examples import soda_examples
from dalserver.vosi.resources import vosi_routes
from ivoa.vocabulary import StandardID

router = protocol_router(ErrorStyle.SODA_TEXT, tags=["SODA 1.0"])
router.include_router(
    vosi_routes("soda", "SODA", StandardID.SODA_SYNC, "sync", ErrorStyle.SODA_TEXT, services, identity)
)
_SPATIAL: dict[str, ShapeParser] = {"CIRCLE": parse_circle, "POLYGON": parse_polygon, "POS": parse_pos}
_UNSUPPORTED = ("TIME", "POL", "MOC")
SODA_PARAMETERS = (
    ApiParam(
        "ID",
        "The dataset's publisher DID (one per request)",
        True,
        example="ivo://dalserver.demo/subaru-suprime-cam?SXDS-...",
    ),
    ApiParam(
        "CIRCLE", "ra dec radius (ICRS degrees); repeat for several cutouts", repeatable=True, example="34.5 -5.0 0.01"
    ),
    ApiParam("POLYGON", "ra1 dec1 ra2 dec2 ... (ICRS degrees)", repeatable=True),
    ApiParam("POS", "CIRCLE ra dec r, RANGE ra1 ra2 dec1 dec2 or POLYGON ra1 dec1 ...", repeatable=True),
    ApiParam(
        "BAND", "Wavelength interval (low high, metres): an image is kept whole if its band overlaps", repeatable=True
    ),
)
SODA_ANSWERS = {
    **answers(
        "the cutout: a FITS file, one image extension per region",
        ["application/fits"],
        "text/plain starting with SODA's code (UsageError:, MultiValuedParamNotSupported:, ...)",
        ["text/plain"],
    ),
    204: {"description": "no pixel of the image is in the region(s) or band (X-SODA-Reason says which)"},
}  # SODA parameters these (2-d, unpolarised) images cannot filter by


def _regions(params: DALIParams) -> list[tuple[Shape, str]]:
    regions = []
    for name, parse in _SPATIAL.items():
        for value in params.getall(name):
            try:
                regions.append((parse(value, name), f"{name}={value.strip()}"))
            except ValueError as exc:
                raise UsageFault(str(exc)) from None
    return regions


def _in_band(params: DALIParams, dataset: Dataset) -> bool:
    """Whether any BAND overlaps the image's [em_min, em_max]: an image has one band, all or nothing."""
    bands = params.getall("BAND")
    if not bands:
        return True
    overlaps = False
    for value in bands:
        try:
            band = parse_interval(value, "BAND")
        except ValueError as exc:
            raise UsageFault(str(exc)) from None
        if dataset.em_min is not None and dataset.em_max is not None:
            overlaps |= band.low <= dataset.em_max and band.high >= dataset.em_min
    return overlaps


@router.post(
    "/soda/sync", summary="SODA synchronous cutout", openapi_extra=dali_post(SODA_PARAMETERS), responses=SODA_ANSWERS
)
@router.get(
    "/soda/sync", summary="SODA synchronous cutout", openapi_extra=dali_get(SODA_PARAMETERS), responses=SODA_ANSWERS
)
async def soda_sync(svc: ServicesDep, params: FormParams, who: IdentityDep) -> Response:
    return await _cutout(params, svc, who)


async def _cutout(params: DALIParams, svc: Services, who: Identity) -> Response:
    from dalserver.soda.cutout import UnsupportedData, cutouts, write_cutouts  # astropy WCS and nddata, on demand

    ids = [i for i in params.getall("ID") if i.strip()]
    if not ids:
        raise UsageFault("missing required parameter ID (the dataset's publisher DID)")
    if len(ids) > 1:
        raise DALIError(Fault.MULTI_VALUED, "one ID per request; several regions of it are fine")
    for name in _UNSUPPORTED:
        if params.getall(name):
            raise UsageFault(f"{name} is not supported by this service: its images have no {name} axis to cut")
    regions = _regions(params)
    dataset = await find_dataset(svc.pool, ids[0], svc.settings.archive_root, svc.settings.public_url, who)
    if dataset is None:
        raise await svc.access.not_visible(who, f"{ids[0]} is not an image of this archive")
    if dataset.path is None or not dataset.is_image:
        raise NotFoundFault(f"{ids[0]} is not an image of this archive")
    if not _in_band(params, dataset):
        return Response(status_code=204)  # SODA sec. 5.1: no pixels selected
    if not regions:
        # No filtering parameter: the whole dataset is the answer.
        return FileResponse(dataset.path, media_type="application/fits", filename=dataset.path.name)
    try:
        found = await to_thread.run_sync(cutouts, dataset.path, regions)
    except UnsupportedData as exc:
        raise DALIError(Fault.NOT_IMPLEMENTED, str(exc)) from None
    if not found:
        # SODA sec. 5.1 (and DALI): a valid request that selects no pixels is 204 No Content.
        return Response(status_code=204, headers={"X-SODA-Reason": "the region(s) do not overlap the image"})
    work = svc.settings.cache_root / "cutouts"
    work.mkdir(parents=True, exist_ok=True)
    target = work / f"{uuid.uuid4().hex}.fits"  # removed once sent
    try:
        await to_thread.run_sync(write_cutouts, found, dataset.did, target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return FileResponse(
        target,
        media_type="application/fits",
        filename=f"{dataset.obs_id}-cutout.fits",
        background=BackgroundTask(target.unlink, missing_ok=True),
    )


@router.get("/soda/examples", summary="SODA DALI examples")
async def examples(svc: ServicesDep) -> Response:
    return examples_response(
        f"{svc.settings.title}: SODA", await sample_dataset(svc.pool), StandardID.SODA_SYNC, soda_examples
    )


@router.get("/soda", response_class=HTMLResponse, summary="SODA service landing page")
async def landing(request: Request, svc: ServicesDep, params: FormParams, who: IdentityDep) -> Response:
    """The page for a browser; with parameters, a cutout request as at /soda/sync."""
    if request.query_params:
        return await _cutout(params, svc, who)
    base = svc.settings.public_url
    dataset = await sample_dataset(svc.pool)
    example = (f"{base}/soda/examples", "example cutouts")
    if dataset is not None:
        query = urlencode({"ID": dataset.did, "CIRCLE": circle_text(dataset, 0.01)})
        example = (f"{base}/soda/sync?{query}", f"a 0.01-degree cutout of {dataset.did}")
    return landing_page(
        svc.settings.title,
        "SODA",
        f"Server-side Operations for Data Access 1.0 at {base}/soda/sync: cutouts of the archive's images "
        "by CIRCLE, POLYGON or POS (ICRS degrees), and BAND (metres). Usually reached through DataLink "
        "(pyvo: getdatalink().get_first_proc().process(circle=...)).",
        example,
        tuple((f"{base}/soda/{p}", p) for p in ("capabilities", "availability", "examples")),
        clients=f"The cutout URL to give a client is {base}/soda/sync.",
    )
