"""The cart's downloads at /bulk: ``summary`` (what a cart holds, JSON), ``zip`` (the files, one
archive), ``script`` (a shell script with checksums), ``urls`` and ``sha256`` (lists), and
``cutouts`` (one region from every image, zipped). Each takes ID (repeated) by GET or POST, names
only published products, and answers a refusal with a DataLink-style error document
("UsageFault: ...", "NotFoundFault: ...")."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.concurrency import iterate_in_threadpool

from dalserver.access.identity import Identity
from dalserver.bulk.archive import in_chunks, products_zip, readme
from dalserver.bulk.lists import checksum_list, download_script, url_list
from dalserver.bulk.selection import Selection, requested_ids, select_products
from dalserver.dali.faults import ErrorStyle, UsageFault
from dalserver.dali.params import DALIParams
from dalserver.dali.values import Shape, ShapeParser, parse_circle, parse_polygon, parse_pos
from dalserver.http.landing import landing_page
from dalserver.http.openapi import ApiParam, answers, dali_get, dali_post
from dalserver.http.routing import AnswerResponse, protocol_router
from dalserver.obscore.example_dataset import sample_dataset
from dalserver.services import IdentityDep, Services, ServicesDep

if TYPE_CHECKING:
    from zipstream import ZipStream

    # The cutouts read FITS headers and WCS with astropy: loaded by the requests that cut, so
    # that a worker that never cuts stays small.
    from dalserver.bulk.cutouts import PlannedCutout

router = protocol_router(ErrorStyle.DAL_VOTABLE, tags=["Bulk download"])
_MAX_BODY = 4 << 20  # a POST of many IDs
_REGIONS: dict[str, ShapeParser] = {"CIRCLE": parse_circle, "POLYGON": parse_polygon, "POS": parse_pos}
ID_PARAM = ApiParam("ID", "Publisher DID of a dataset; repeat for each", True, repeatable=True)
REGION_PARAMS = (
    ApiParam("CIRCLE", "ra dec radius (ICRS degrees)", example="34.5 -5.0 0.02"),
    ApiParam("POLYGON", "ra1 dec1 ra2 dec2 ... (ICRS degrees)"),
    ApiParam("POS", "CIRCLE ra dec r, RANGE ra1 ra2 dec1 dec2 or POLYGON ra1 dec1 ... (one region)"),
)


def _human(size: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


async def _selection(request: Request, svc: Services, who: Identity) -> tuple[DALIParams, Selection]:
    params = await DALIParams.from_request(request, _MAX_BODY, svc.settings.request_body_timeout_seconds)
    ids = requested_ids(params.getall("ID"), svc.settings.bulk_max_ids)
    selection = await select_products(svc.pool, ids, svc.settings.archive_root, svc.settings.public_url, who)
    return params, selection


def _region(params: DALIParams) -> tuple[Shape, str] | None:
    given = [(name, value) for name in _REGIONS for value in params.getall(name) if value.strip()]
    if not given:
        return None
    if len(given) > 1:
        raise UsageFault("one region per request: give one CIRCLE, POLYGON or POS")
    name, value = given[0]
    try:
        return _REGIONS[name](value, name), f"{name}={value.strip()}"
    except ValueError as exc:
        raise UsageFault(str(exc)) from None


async def _streamed(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    async for chunk in iterate_in_threadpool(in_chunks(chunks)):
        yield chunk


def _download(chunks: Iterator[bytes], media_type: str, filename: str, svc: Services, size: int | None) -> Response:
    response = AnswerResponse(_streamed(chunks), media_type, svc.settings.send_timeout_seconds)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if size is not None:
        response.headers["Content-Length"] = str(size)
    return response


def _text(body: str, media_type: str, filename: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return PlainTextResponse(body, media_type=media_type, headers=headers)


def _zip(selection: Selection, svc: Services) -> ZipStream:
    what = f"{len(selection.products)} products"
    return products_zip(selection, readme(selection, svc.settings.title, svc.settings.public_url, what))


def _refuse_large_zip(selection: Selection, limit: int) -> None:
    if selection.total_bytes > limit:
        raise UsageFault(
            f"the {len(selection.products)} files are {_human(selection.total_bytes)} together, more than this "
            f"server puts in one zip ({_human(limit)}): download them with the script (bulk/script), which "
            "fetches them one by one, or in smaller parts",
            413,
        )


def _refuse_large_cutouts(plans: list[PlannedCutout], limit: int) -> None:
    total = sum(p.bytes for p in plans)
    if total > limit:
        raise UsageFault(
            f"the cutouts would be about {_human(total)} together, more than this server makes in one request "
            f"({_human(limit)}): choose a smaller region or fewer images",
            413,
        )


async def _cutout_plans(params: DALIParams, selection: Selection) -> tuple[list[PlannedCutout], Shape, str] | None:
    region = _region(params)
    if region is None:
        return None
    shape, text = region
    from dalserver.bulk.cutouts import plan_cutouts

    plans = await to_thread.run_sync(plan_cutouts, selection.products, shape)
    return plans, shape, text


def _summary(
    selection: Selection, svc: Services, cutouts: tuple[list[PlannedCutout], Shape, str] | None
) -> dict[str, Any]:
    settings = svc.settings
    answer: dict[str, Any] = {
        "files": [
            {"id": p.did, "obs_id": p.obs_id, "name": p.name, "url": p.url, "bytes": p.size, "sha256": p.sha256}
            for p in selection.products
        ],
        "bytes": selection.total_bytes,
        "zip_bytes": len(_zip(selection, svc)),
        "max_zip_bytes": settings.bulk_max_bytes,
        "unknown": list(selection.unknown),
        "elsewhere": [{"id": d.did, "url": d.access_url} for d in selection.elsewhere],
    }
    if cutouts is not None:
        plans, _, text = cutouts
        answer["cutouts"] = {
            "region": text,
            "made": [
                {"id": p.product.did, "name": p.name, "pixels": p.pixels, "bytes": p.bytes} for p in plans if p.box
            ],
            "missed": [{"id": p.product.did, "reason": p.reason} for p in plans if p.box is None],
            "bytes": sum(p.bytes for p in plans),
            "max_bytes": settings.bulk_cutout_max_bytes,
        }
    return answer


SUMMARY_PARAMS = (ID_PARAM, *REGION_PARAMS)


@router.post("/bulk/summary", summary="What a cart holds", openapi_extra=dali_post(SUMMARY_PARAMS))
@router.get(
    "/bulk/summary",
    summary="What a cart holds",
    openapi_extra=dali_get(SUMMARY_PARAMS),
    responses=answers("files, sizes, checksums, unknown IDs; with a region, the cutouts", ["application/json"]),
)
async def summary(request: Request, svc: ServicesDep, who: IdentityDep) -> JSONResponse:
    """Unknown IDs are listed here, not refused: the page shows them and offers to drop them."""
    params, selection = await _selection(request, svc, who)
    cutouts = await _cutout_plans(params, selection)
    return JSONResponse(_summary(selection, svc, cutouts), headers={"Cache-Control": "no-store"})


ZIP_ANSWER = answers("a zip of the files (stored), README.txt and SHA256SUMS", ["application/zip"])


@router.post("/bulk/zip", summary="The products as one zip", openapi_extra=dali_post((ID_PARAM,)), responses=ZIP_ANSWER)
@router.get("/bulk/zip", summary="The products as one zip", openapi_extra=dali_get((ID_PARAM,)), responses=ZIP_ANSWER)
async def zip_archive(request: Request, svc: ServicesDep, who: IdentityDep) -> Response:
    _, selection = await _selection(request, svc, who)
    selection.refuse_unknown()
    _refuse_large_zip(selection, svc.settings.bulk_max_bytes)
    stream = _zip(selection, svc)
    return _download(iter(stream), "application/zip", f"products-{len(selection.products)}.zip", svc, len(stream))


SCRIPT_ANSWER = answers("a POSIX shell script: curl or wget, then a SHA-256 check per file", ["text/x-shellscript"])


@router.post("/bulk/script", summary="A download script", openapi_extra=dali_post((ID_PARAM,)), responses=SCRIPT_ANSWER)
@router.get("/bulk/script", summary="A download script", openapi_extra=dali_get((ID_PARAM,)), responses=SCRIPT_ANSWER)
async def script(request: Request, svc: ServicesDep, who: IdentityDep) -> Response:
    _, selection = await _selection(request, svc, who)
    selection.refuse_unknown()
    body = download_script(selection, svc.settings.title, svc.settings.public_url)
    return _text(body, "text/x-shellscript; charset=utf-8", "download.sh")


URLS_ANSWER = answers("one URL a line (wget -i urls.txt)", ["text/plain"])


@router.post("/bulk/urls", summary="The products' URLs", openapi_extra=dali_post((ID_PARAM,)), responses=URLS_ANSWER)
@router.get("/bulk/urls", summary="The products' URLs", openapi_extra=dali_get((ID_PARAM,)), responses=URLS_ANSWER)
async def urls(request: Request, svc: ServicesDep, who: IdentityDep) -> Response:
    _, selection = await _selection(request, svc, who)
    selection.refuse_unknown()
    return _text(url_list(selection), "text/plain; charset=utf-8", "urls.txt")


SUMS_ANSWER = answers("sha256sum -c input: checksum, two spaces, path", ["text/plain"])


@router.post(
    "/bulk/sha256", summary="The products' SHA-256", openapi_extra=dali_post((ID_PARAM,)), responses=SUMS_ANSWER
)
@router.get("/bulk/sha256", summary="The products' SHA-256", openapi_extra=dali_get((ID_PARAM,)), responses=SUMS_ANSWER)
async def checksums(request: Request, svc: ServicesDep, who: IdentityDep) -> Response:
    _, selection = await _selection(request, svc, who)
    selection.refuse_unknown()
    return _text(checksum_list(selection), "text/plain; charset=utf-8", "SHA256SUMS")


CUTOUT_PARAMS = (ID_PARAM, *REGION_PARAMS)
CUTOUT_ANSWERS = {
    **answers("a zip of one FITS cutout per image the region touches, and cutouts.txt", ["application/zip"]),
    204: {"description": "the region misses every image (X-Bulk-Reason lists them)"},
}


@router.post(
    "/bulk/cutouts",
    summary="One region cut from every image",
    openapi_extra=dali_post(CUTOUT_PARAMS),
    responses=CUTOUT_ANSWERS,
)
@router.get(
    "/bulk/cutouts",
    summary="One region cut from every image",
    openapi_extra=dali_get(CUTOUT_PARAMS),
    responses=CUTOUT_ANSWERS,
)
async def cutouts(request: Request, svc: ServicesDep, who: IdentityDep) -> Response:
    params, selection = await _selection(request, svc, who)
    selection.refuse_unknown()
    planned = await _cutout_plans(params, selection)
    if planned is None:
        raise UsageFault("missing the region to cut: give CIRCLE, POLYGON or POS (ICRS degrees)")
    plans, shape, text = planned
    if not any(p.box for p in plans):
        # As SODA (sec. 5.1): a valid request that selects no pixels has no content.
        return Response(status_code=204, headers={"X-Bulk-Reason": f"the region misses all {len(plans)} images"})
    _refuse_large_cutouts(plans, svc.settings.bulk_cutout_max_bytes)
    from dalserver.bulk.cutouts import cutouts_zip

    stream = cutouts_zip(plans, shape, text)
    return _download(iter(stream), "application/zip", f"cutouts-{sum(1 for p in plans if p.box)}.zip", svc, None)


@router.get("/bulk", response_class=HTMLResponse, summary="Bulk download landing page")
async def landing(request: Request, svc: ServicesDep) -> Response:
    base = svc.settings.public_url
    dataset = await sample_dataset(svc.pool)
    example = (f"{base}/docs#/Bulk%20download", "the interface")
    if dataset is not None:
        example = (f"{base}/bulk/script?{urlencode({'ID': dataset.did})}", f"a download script for {dataset.did}")
    return landing_page(
        svc.settings.title,
        "Bulk download",
        f"The portal's cart at {base}/bulk: give ID (a publisher DID, repeated) to zip (one archive of the files), "
        "script (a shell script that fetches each file with curl or wget and checks its SHA-256), urls, sha256, "
        "summary (JSON), or cutouts (with CIRCLE, POLYGON or POS: one region cut from every image, zipped).",
        example,
        tuple((f"{base}/bulk/{p}", p) for p in ("summary", "zip", "script", "urls", "sha256", "cutouts")),
    )
