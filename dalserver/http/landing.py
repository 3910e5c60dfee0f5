"""The HTML pages a browser gets: each service's base URL (/tap, /sia, /datalink, /soda) says what
the service is, which URL to give a client, one example request and its VOSI and DALI resources;
a path that names nothing says so and links the services. Every value is escaped (the title is
the operator's)."""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

SERVICES = (
    ("tap", "TAP 1.1: ADQL queries, sync and async, with UPLOAD"),
    ("sia", "SIA 2.0: images by position, band and time"),
    ("datalink", "DataLink 1.1: each dataset's files, previews, cutouts and provenance"),
    ("soda", "SODA 1.0: cutouts"),
    ("docs", "the HTTP interface (OpenAPI)"),
)


def landing_page(
    title: str,
    service: str,
    intro: str,
    example: tuple[str, str],
    resources: tuple[tuple[str, str], ...],
    clients: str | None = None,
) -> HTMLResponse:
    """``example``: (URL, link text); ``resources``: (URL, name) pairs; ``clients``: which URL
    to give which client, when that is not the page's own."""
    url, text = example
    items = "".join(f'<li><a href="{escape(u)}">{escape(name)}</a></li>' for u, name in resources)
    note = f"<p>{escape(clients)}</p>" if clients else ""
    return HTMLResponse(
        f"<!DOCTYPE html><html><head><title>{escape(title)}: {escape(service)}</title></head><body>"
        f"<h1>{escape(title)}</h1><p>{escape(intro)}</p>{note}"
        f'<p>Example: <a href="{escape(url)}">{escape(text)}</a></p>'
        f"<ul>{items}</ul></body></html>"
    )


def wants_html(accept: str | None) -> bool:
    """Whether an Accept header is a browser's: it prefers text/html to any VOTable or XML type
    (browsers list application/xml at q=0.9; clients that want the error document name it, or
    send */*)."""
    if not accept:
        return False
    html = document = 0.0
    for item in accept.lower().split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if media in ("text/html", "application/xhtml+xml"):
            html = max(html, _quality(params))
        elif "votable" in media or media in ("text/xml", "application/xml"):
            document = max(document, _quality(params))
    return html > 0 and html > document


def _quality(params: list[str]) -> float:
    for param in params:
        key, _, value = param.partition("=")
        if key.strip() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def not_found_page(title: str, base_url: str, path: str) -> HTMLResponse:
    """The 404 page a browser gets for a path no service answers."""
    items = "".join(f'<li><a href="{escape(base_url)}/{s}">/{s}</a>: {escape(text)}</li>' for s, text in SERVICES)
    return HTMLResponse(
        f"<!DOCTYPE html><html><head><title>{escape(title)}: not found</title></head><body>"
        f"<h1>Not found</h1><p>There is nothing at {escape(path)} on {escape(title)}. "
        f"The services of this archive are:</p><ul>{items}</ul></body></html>",
        status_code=404,
    )
