"""SODA 1.0 {sync} at /soda/sync: cutouts of archive images by CIRCLE, POLYGON or POS, and the
VOSI resources. Errors are text/plain documents starting with SODA's error code (sec. 5.2).
"""

from __future__ import annotations

import uuid

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from dalserver.dali_values import Shape, parse_circle, parse_interval, parse_polygon, parse_pos
from dalserver.datalink.datasets import Dataset, find_dataset
from dalserver.datalink.descriptors import SODA_STANDARD
from dalserver.errors import PlainTextError
from dalserver.params import FORM_MAX_BYTES, DALIParams
from dalserver.services import services
from dalserver.soda.cutout import UnsupportedData, cutouts, write_cutouts
from dalserver.vosi.resources import vosi_routes

router = APIRouter()
router.include_router(vosi_routes("soda", "SODA", SODA_STANDARD, "sync"))
_SPATIAL = {"CIRCLE": parse_circle, "POLYGON": parse_polygon, "POS": parse_pos}
_UNSUPPORTED = ("TIME", "POL", "MOC")  # SODA parameters these (2-d, unpolarised) images cannot filter by


def usage_error(message: str, status_code: int = 400) -> PlainTextError:
    return PlainTextError(f"UsageError: {message}", status_code)


def _regions(params: DALIParams) -> list[tuple[Shape, str]]:
    regions = []
    for name, parse in _SPATIAL.items():
        for value in params.getall(name):
            try:
                regions.append((parse(value, name), f"{name}={value.strip()}"))
            except ValueError as exc:
                raise usage_error(str(exc)) from None
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
            raise usage_error(str(exc)) from None
        if dataset.em_min is not None and dataset.em_max is not None:
            overlaps |= band.low <= dataset.em_max and band.high >= dataset.em_min
    return overlaps


@router.api_route("/soda/sync", methods=["GET", "POST"], summary="SODA synchronous cutout")
async def soda_sync(request: Request) -> Response:
    svc = services(request)
    params = await DALIParams.from_request(request, FORM_MAX_BYTES)
    ids = [i for i in params.getall("ID") if i.strip()]
    if not ids:
        raise usage_error("missing required parameter ID (the dataset's publisher DID)")
    if len(ids) > 1:
        raise PlainTextError("MultiValuedParamNotSupported: one ID per request; several regions of it are fine")
    for name in _UNSUPPORTED:
        if params.getall(name):
            raise usage_error(f"{name} is not supported by this service: its images have no {name} axis to cut")
    regions = _regions(params)
    dataset = await find_dataset(svc.pool, ids[0], svc.settings.archive_root)
    if dataset is None or dataset.path is None or not dataset.is_image:
        raise usage_error(f"{ids[0]} is not an image of this archive", status_code=404)
    if not _in_band(params, dataset):
        return Response(status_code=204)  # SODA sec. 5.1: no pixels selected
    if not regions:
        # No filtering parameter: the whole dataset is the answer.
        return FileResponse(dataset.path, media_type="application/fits", filename=dataset.path.name)
    try:
        found = await to_thread.run_sync(cutouts, dataset.path, regions)
    except UnsupportedData as exc:
        raise PlainTextError(f"Error: {exc}", status_code=501) from None
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
