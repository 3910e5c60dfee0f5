"""``/quicklook/pixels``: a box of an archive image averaged over BIN x BIN blocks, as FITS. With
ID alone, the whole image at the smallest power-of-two BIN that brings it to 1024 pixels or
fewer: the viewer's first picture, refined with smaller BINs over what is in view."""

from __future__ import annotations

from urllib.parse import urlencode

from anyio import to_thread
from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from dalserver.dali.faults import ErrorStyle, NotFoundFault, UsageFault
from dalserver.dali.params import DALIParams
from dalserver.http.landing import landing_page
from dalserver.http.openapi import ApiParam, answers, dali_get
from dalserver.http.routing import protocol_router
from dalserver.obscore.datasets import find_dataset
from dalserver.obscore.example_dataset import sample_dataset
from dalserver.quicklook.limits import OVERVIEW_SIDE
from dalserver.services import IdentityDep, ServicesDep

router = protocol_router(ErrorStyle.DAL_VOTABLE, tags=["Quick look"])
PARAMETERS = (
    ApiParam("ID", "Publisher DID of the image", True),
    ApiParam("BIN", "Original pixels per binned pixel along each axis (default: the overview's)", kind="integer"),
    *(
        ApiParam(name, f"{what} of the box, 0-based original pixels (default: the image's edge)", kind="integer")
        for name, what in (("X0", "First column"), ("X1", "Last column"), ("Y0", "First row"), ("Y1", "Last row"))
    ),
)


@router.get(
    "/quicklook/pixels",
    summary="A box of an image, block-averaged, as FITS",
    openapi_extra=dali_get(PARAMETERS),
    responses=answers("a float32 FITS image with the WCS of its grid and QL* placement cards", ["application/fits"]),
)
async def pixels(request: Request, svc: ServicesDep, who: IdentityDep) -> Response:
    params = await DALIParams.from_request(request)
    did = params.get("ID")
    if did is None or not did.strip():
        raise UsageFault("missing required parameter ID (the image's publisher DID)")
    dataset = await find_dataset(svc.pool, did, svc.settings.archive_root, svc.settings.public_url, who)
    if dataset is None:
        raise await svc.access.not_visible(who, f"{did} is not an image of this archive")
    if not dataset.is_image or dataset.path is None:
        raise NotFoundFault(f"{did} is not an image of this archive")
    from dalserver.quicklook.pixels import binned_fits  # astropy and numpy, on demand: workers stay small

    body = await to_thread.run_sync(binned_fits, dataset.path, params)
    return Response(body, media_type="application/fits", headers={"Cache-Control": "private, max-age=300"})


@router.get("/quicklook", response_class=HTMLResponse, summary="Quick-look landing page")
async def landing(request: Request, svc: ServicesDep) -> Response:
    base = svc.settings.public_url
    dataset = await sample_dataset(svc.pool)
    example = (f"{base}/docs#/Quick%20look", "the interface")
    if dataset is not None:
        example = (f"{base}/quicklook/pixels?{urlencode({'ID': dataset.did})}", f"the overview of {dataset.did}")
    return landing_page(
        svc.settings.title,
        "Quick look",
        f"{base}/quicklook/pixels: ID (an image's publisher DID), BIN and the box X0, X1, Y0, Y1 (0-based original "
        "pixels) give the box's block means as FITS, with the WCS of the binned grid; ID alone gives the whole "
        f"image binned to {OVERVIEW_SIDE} pixels or fewer. The portal's viewer draws them.",
        example,
        ((f"{base}/", "the portal"),),
    )
