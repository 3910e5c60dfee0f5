"""DALI request parameters (dalserver.dali.params.DALIParams): names case-insensitive, values kept as
sent and in order, GET and POST alike; read from real Starlette requests built from ASGI scopes
(query strings, urlencoded and multipart bodies), with no server."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from dalserver.dali.faults import DALIError
from dalserver.dali.params import DALIParams


def test_names_are_case_insensitive_and_the_last_value_wins_for_get() -> None:
    params = DALIParams([("lang", "ADQL"), ("Query", "SELECT 1"), ("MAXREC", "5"), ("maxrec", "7")])
    assert params.get("LANG") == "ADQL" and params.get("query") == "SELECT 1" and params.get("MaxRec") == "7"
    assert params.getall("MAXREC") == ["5", "7"] and params.getall("missing") == []
    assert params.get("missing") is None and params.get("missing", "x") == "x"


def test_repeated_values_keep_their_order_and_items_are_upper_cased() -> None:
    params = DALIParams([("POS", "CIRCLE 1 2 3"), ("band", "1 2"), ("pos", "RANGE 1 2 3 4"), ("Pos", "")])
    assert params.getall("pos") == ["CIRCLE 1 2 3", "RANGE 1 2 3 4", ""]
    assert params.items() == [("POS", "CIRCLE 1 2 3"), ("POS", "RANGE 1 2 3 4"), ("POS", ""), ("BAND", "1 2")]


def test_required_parameters_must_be_present_and_not_blank() -> None:
    params = DALIParams([("QUERY", "  "), ("LANG", "ADQL")])
    assert params.require("lang") == "ADQL"
    for name in ("QUERY", "REQUEST"):
        with pytest.raises(DALIError, match=f"missing required parameter {name}"):
            params.require(name)


@pytest.mark.parametrize(
    "raw, expected",
    [(None, 100), ("", 100), (" 7 ", 7), ("0", 0), ("123456789012", 123456789012)],
)
def test_integers_take_a_default_and_spaces(raw: str | None, expected: int) -> None:
    params = DALIParams([] if raw is None else [("MAXREC", raw)])
    assert params.integer("MAXREC", 100) == expected


@pytest.mark.parametrize("raw", ["-1", "ten", "1.5", "0x10"])
def test_integers_that_are_negative_or_not_integers_are_refused_naming_the_value(raw: str) -> None:
    with pytest.raises(DALIError, match=f"MAXREC must be a non-negative integer, not '{raw}'"):
        DALIParams([("MAXREC", raw)]).integer("MAXREC", 100)


def request(method: str, query: str = "", body: bytes = b"", content_type: str | None = None) -> Request:
    headers = [(b"content-length", str(len(body)).encode())]
    if content_type:
        headers.append((b"content-type", content_type.encode()))
    scope = {
        "type": "http",
        "method": method,
        "path": "/tap/sync",
        "query_string": query.encode(),
        "headers": headers,
    }
    sent = False

    async def receive() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


def read(req: Request, limit: int | None = None) -> DALIParams:
    return asyncio.run(DALIParams.from_request(req, limit))


def test_get_parameters_come_from_the_query_string_decoded() -> None:
    params = read(request("GET", "lang=ADQL&QUERY=SELECT+%2A+FROM+t+WHERE+x+%3C+1&pos=a&POS=b"))
    assert params.get("query") == "SELECT * FROM t WHERE x < 1" and params.getall("POS") == ["a", "b"]


def test_post_adds_form_values_after_the_query_string_ones() -> None:
    body = b"MAXREC=5&query=SELECT+1&maxrec=9"
    params = read(request("POST", "MAXREC=1&LANG=ADQL", body, "application/x-www-form-urlencoded"))
    assert (
        params.getall("MAXREC") == ["1", "5", "9"]
        and params.get("QUERY") == "SELECT 1"
        and params.get("lang") == "ADQL"
    )


def test_multipart_files_are_kept_apart_from_the_text_values() -> None:
    boundary = "XyZ"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="UPLOAD"\r\n\r\nt1,param:table1\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="table1"; filename="t.vot"\r\n'
        "Content-Type: application/x-votable+xml\r\n\r\n<VOTABLE/>\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    params = read(request("POST", "", body, f"multipart/form-data; boundary={boundary}"))
    assert params.getall("upload") == ["t1,param:table1"] and set(params.files) == {"table1"}
    assert params.get("table1") is None


def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read() -> None:
    with pytest.raises(DALIError) as refused:
        read(request("POST", "", b"x=" + b"1" * 100, "application/x-www-form-urlencoded"), limit=50)
    assert (
        refused.value.status_code == 413 and "102 bytes, more than this service accepts (50)" in refused.value.message
    )


def test_a_malformed_multipart_body_is_a_dali_error() -> None:
    with pytest.raises(DALIError, match="cannot read the POST body"):
        read(request("POST", "", b"--nope\r\nbroken", "multipart/form-data"))
