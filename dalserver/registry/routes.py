"""``/oai``: the OAI-PMH 2.0 interface of this publishing registry (GET and POST), which the
IVOA Registry of Registries and every full registry harvest."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from archive_io.registry_state import REGISTRY
from dalserver.dali.faults import ErrorStyle, UsageFault
from dalserver.dali.params import FORM_MAX_BYTES
from dalserver.http.routing import protocol_router
from dalserver.registry.oai import MEDIA_TYPE, Repository, Responder
from dalserver.services import ServicesDep

router = protocol_router(ErrorStyle.PLAIN_VOTABLE, tags=["Registry"])


async def _arguments(request: Request) -> dict[str, list[str]]:
    pairs = list(request.query_params.multi_items())
    if request.method == "POST":
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > FORM_MAX_BYTES:
            raise UsageFault(f"an OAI-PMH request body of {length} bytes is too large", status_code=413)
        form = await request.form()
        pairs += [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    args: dict[str, list[str]] = {}
    for name, value in pairs:
        args.setdefault(name, []).append(value)  # OAI-PMH argument names are case-sensitive
    return args


@router.api_route("/oai", methods=["GET", "POST"], summary="OAI-PMH 2.0 (IVOA Registry Interfaces 1.1)")
async def oai(request: Request, svc: ServicesDep) -> Response:
    settings = svc.settings
    args = await _arguments(request)
    records = await svc.records.get()
    repository = Repository(
        name=f"{settings.title}: publishing registry",
        base_url=f"{settings.public_url}/oai",
        admin_email=records.config.contact.email or "vo-support@example.org",
        registry_record=records.record(REGISTRY),
    )
    body = Responder(repository, records.records, settings.oai_page_size).respond(args)
    return Response(body, media_type=MEDIA_TYPE)
