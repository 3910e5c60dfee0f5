"""The OpenAPI description of the DAL endpoints (shown at /docs): their real parameters, which
FastAPI cannot see because DALI parameters are read case-insensitively from the query string or
a form (``dalserver.dali.params``), and the media types they really answer with, not JSON.

Each protocol declares its parameters as ``ApiParam``s (SIA derives them from its one table,
``dalserver/sia/parameters.py``) and passes ``dali_get``/``dali_post`` to its routes as
``openapi_extra``, with ``answers(...)`` as ``responses``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

VOTABLE = "application/x-votable+xml"
ERROR_VOTABLE = {VOTABLE: {"schema": {"type": "string"}}}


@dataclass(frozen=True)
class ApiParam:
    """One DALI parameter as OpenAPI shows it. Names are case-insensitive on the wire."""

    name: str
    description: str
    required: bool = False
    repeatable: bool = False  # may be given several times (values OR-ed, or several tables)
    kind: str = "string"  # OpenAPI type of one value
    example: str | None = None
    enum: Sequence[str] = ()
    file: bool = False  # a file part of a multipart POST (TAP UPLOAD's param:NAME)


def _value_schema(p: ApiParam) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": p.kind}
    if p.enum:
        schema["enum"] = list(p.enum)
    return schema


def _schema(p: ApiParam) -> dict[str, Any]:
    if p.repeatable:
        return {"type": "array", "items": _value_schema(p)}
    return _value_schema(p)


def _query_parameter(p: ApiParam) -> dict[str, Any]:
    parameter: dict[str, Any] = {
        "name": p.name,
        "in": "query",
        "required": p.required,
        "description": p.description,
        "schema": _schema(p),
    }
    if p.repeatable:
        parameter.update(style="form", explode=True)
    if p.example is not None:
        parameter["example"] = [p.example] if p.repeatable else p.example
    return parameter


def dali_get(params: Sequence[ApiParam]) -> dict[str, Any]:
    """``openapi_extra`` of a GET route taking ``params`` in the query string."""
    return {"parameters": [_query_parameter(p) for p in params if not p.file]}


def dali_post(params: Sequence[ApiParam], multipart: bool = False) -> dict[str, Any]:
    """``openapi_extra`` of a POST route taking ``params`` as a form (and, with ``multipart``,
    file parts: TAP's inline uploads)."""
    properties: dict[str, Any] = {}
    for p in params:
        if p.file:
            continue
        schema = _schema(p)
        schema["description"] = p.description
        if p.example is not None:
            schema["example"] = [p.example] if p.repeatable else p.example
        properties[p.name] = schema
    required = [p.name for p in params if p.required]
    form: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        form["required"] = required
    content: dict[str, Any] = {"application/x-www-form-urlencoded": {"schema": form}}
    if multipart:
        files = [p for p in params if p.file]
        described = "; ".join(p.description for p in files)
        content["multipart/form-data"] = {
            "schema": {
                **form,
                "additionalProperties": {"type": "string", "format": "binary", "description": described},
            }
        }
    return {"requestBody": {"required": bool(required), "content": content}}


def answers(
    ok: str, media_types: Sequence[str], errors: str = "the protocol's error document", error_types: Sequence[str] = ()
) -> dict[int | str, dict[str, Any]]:
    """``responses`` of a route answering ``media_types`` (``ok`` says what), or errors."""
    error_content = {m: {"schema": {"type": "string"}} for m in error_types} if error_types else ERROR_VOTABLE
    return {
        200: {"description": ok, "content": {m: {"schema": {"type": "string"}} for m in media_types}},
        400: {"description": f"a request the service cannot answer: {errors}", "content": error_content},
        503: {
            "description": "the database is not available (Retry-After says when to try again)",
            "content": error_content,
        },
    }


def xml_answer(what: str) -> dict[int | str, dict[str, Any]]:
    """``responses`` of a VOSI or UWS resource (an XML document)."""
    return {200: {"description": what, "content": {"text/xml": {"schema": {"type": "string"}}}}}


def html_answer(what: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": what, "content": {"text/html": {"schema": {"type": "string"}}}}}


def page_or_answer(searched: dict[int | str, dict[str, Any]], what: str) -> dict[int | str, dict[str, Any]]:
    """The answers of a service's base URL: its HTML page without parameters, ``searched``'s
    answer (``what``) with them."""
    return {
        **searched,
        200: {
            "description": f"without parameters, the service's HTML page; with them, {what}",
            "content": {**html_answer("")[200]["content"], **searched[200]["content"]},
        },
    }
