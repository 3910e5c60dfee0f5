"""TAP's query parameters (TAP 1.1 sec. 2.3, DALI) as the OpenAPI description shows them, for
/tap/sync and job creation at /tap/async; the request itself is read by ``tap/request.py``."""

from __future__ import annotations

from dalserver.formats.registry import FORMATS
from dalserver.http.openapi import ApiParam, answers

FORMAT_NAMES = [name for f in FORMATS for name in (f.aliases[0], f.mime)]
TAP_PARAMETERS = (
    ApiParam("LANG", "The query language: ADQL (ADQL-2.1 and ADQL-2.0 are accepted too)", True, example="ADQL"),
    ApiParam("QUERY", "The ADQL query", True, example="SELECT TOP 10 obs_id, s_ra, s_dec FROM ivoa.obscore"),
    ApiParam("MAXREC", "Most rows to return; beyond it the answer says OVERFLOW", kind="integer", example="1000"),
    ApiParam("RESPONSEFORMAT", "Output format, by name or MIME type (default: VOTable TABLEDATA)", enum=FORMAT_NAMES),
    ApiParam("FORMAT", "TAP 1.0's name for RESPONSEFORMAT", enum=FORMAT_NAMES),
    ApiParam(
        "UPLOAD",
        "A table for the query as TAP_UPLOAD.name: 'name,param:part' (a file part of this POST) or 'name,URL'",
        repeatable=True,
        example="mine,param:mine",
    ),
    ApiParam("mine", "UPLOAD's file parts: VOTable or CSV, named as in UPLOAD (param:NAME)", file=True),
    ApiParam("REQUEST", "TAP 1.0 clients send doQuery; TAP 1.1 needs nothing", enum=["doQuery"]),
    ApiParam("RUNID", "A label of the client's, kept in the answer's metadata"),
)
TAP_ANSWERS = answers(
    "the query's result in the requested format (VOTable by default), streamed",
    [f.mime for f in FORMATS],
    "a DALI error VOTable (QUERY_STATUS=ERROR) naming the problem; for ADQL, with line and column",
)
