"""``/quicklook/pixels``: a box of an archive image averaged over BIN x BIN blocks, as FITS. With
ID alone, the whole image at the smallest power-of-two BIN that brings it to 1024 pixels or
fewer: the viewer's first picture, refined with smaller BINs over what is in view."""

from __future__ import annotations

import io
import warnings
from urllib.parse import urlencode

from anyio import to_thread
from astropy.io import fits
from astropy.wcs import FITSFixedWarning
from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from archive_io.image_hdu import image_hdu
from dalserver.dali.faults import ErrorStyle, NotFoundFault, UsageFault
from dalserver.dali.params import DALIParams
from dalserver.http.landing import landing_page
from dalserver.http.openapi import ApiParam, answers, dali_get
from dalserver.http.routing import protocol_router
from dalserver.obscore.datasets import find_dataset
from dalserver.obscore.example_dataset import sample_dataset
from dalserver.quicklook.binning import Box, binned_header, block_means, overview_step
from dalserver.services import IdentityDep, ServicesDep

router = protocol_router(ErrorStyle.DAL_VOTABLE, tags=["Quick look"])
OVERVIEW_SIDE = 1024  # the first picture's longest side, in binned pixels
MAX_PIXELS = 2048 * 2048  # one answer's binned pixels at most (16 MB of float32)
PARAMETERS = (
    ApiParam("ID", "Publisher DID of the image", True),
    ApiParam("BIN", "Original pixels per binned pixel along each axis (default: the overview's)", kind="integer"),
    *(
        ApiParam(name, f"{what} of the box, 0-based original pixels (default: the image's edge)", kind="integer")
        for name, what in (("X0", "First column"), ("X1", "Last column"), ("Y0", "First row"), ("Y1", "Last row"))
    ),
)


def _integer(params: DALIParams, name: str, default: int) -> int:
    value = params.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        raise UsageFault(f"{name} must be a whole number of pixels, not {value!r}") from None


def _box(params: DALIParams, nx: int, ny: int) -> Box:
    step = _integer(params, "BIN", overview_step(nx, ny, OVERVIEW_SIDE))
    if step < 1:
        raise UsageFault(f"BIN must be 1 or more, not {step}")
    x0, x1 = _integer(params, "X0", 0), _integer(params, "X1", nx - 1)
    y0, y1 = _integer(params, "Y0", 0), _integer(params, "Y1", ny - 1)
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, nx - 1), min(y1, ny - 1)
    if x0 > x1 or y0 > y1:
        raise UsageFault(f"the box X0..X1, Y0..Y1 misses the image's {nx} x {ny} pixels")
    box = Box(x0, x1, y0, y1, step)
    rows, columns = box.shape
    if rows * columns > MAX_PIXELS:
        raise UsageFault(
            f"the box at BIN={step} is {columns} x {rows} pixels, more than one answer holds "
            f"({MAX_PIXELS:,} pixels): ask for a larger BIN or a smaller box"
        )
    return box


def _binned_fits(path: object, params: DALIParams) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        with fits.open(path, memmap=True) as hdul:  # type: ignore[arg-type]
            hdu = image_hdu(hdul, path)  # type: ignore[arg-type]
            if hdu.header.get("NAXIS") != 2:
                raise UsageFault(f"the image has {hdu.header.get('NAXIS')} axes; the quick look shows 2-d images")
            nx, ny = int(hdu.header["NAXIS1"]), int(hdu.header["NAXIS2"])
            box = _box(params, nx, ny)
            data = block_means(hdu.section, box)
            header = binned_header(hdu.header, box, nx, ny)
    buffer = io.BytesIO()
    fits.PrimaryHDU(data, header).writeto(buffer)
    return buffer.getvalue()


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
    body = await to_thread.run_sync(_binned_fits, dataset.path, params)
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
