"""VOSI availability and capabilities responses that every service of this server offers alike."""

from __future__ import annotations

from fastapi.responses import Response

from dalserver.services import Services
from dalserver.vosi import documents


async def availability_response(svc: Services) -> Response:
    """Available when the database answers; the note says why not otherwise."""
    try:
        async with svc.pool.connection(timeout=5) as conn:
            await conn.execute("SELECT 1")
            await conn.rollback()
        ok, note = True, "the service is accepting queries"
    except Exception as exc:  # any failure to reach the database means "not available"
        ok, note = False, f"the database cannot be reached: {type(exc).__name__}"
    return Response(documents.availability(ok, note, svc.started), media_type=documents.XML_MEDIA_TYPE)


def capabilities_response(base_url: str, service: str, capabilities: list[documents.Capability]) -> Response:
    """A capabilities document: the service's own ``capabilities`` and VOSI's for ``base_url/service``."""
    body = documents.service_capabilities(f"{base_url}/{service}", capabilities)
    return Response(body, media_type=documents.XML_MEDIA_TYPE)
