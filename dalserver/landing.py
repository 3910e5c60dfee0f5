"""The HTML page a browser gets at a service's base URL (/tap, /sia): what the service is, one
example request and its VOSI and DALI resources. Every value is escaped (the title is the
operator's)."""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse


def landing_page(
    title: str, service: str, intro: str, example: tuple[str, str], resources: tuple[tuple[str, str], ...]
) -> HTMLResponse:
    """``example``: (URL, link text); ``resources``: (URL, name) pairs."""
    url, text = example
    items = "".join(f'<li><a href="{escape(u)}">{escape(name)}</a></li>' for u, name in resources)
    return HTMLResponse(
        f"<!DOCTYPE html><html><head><title>{escape(title)}: {escape(service)}</title></head><body>"
        f"<h1>{escape(title)}</h1><p>{escape(intro)}</p>"
        f'<p>Example: <a href="{escape(url)}">{escape(text)}</a></p>'
        f"<ul>{items}</ul></body></html>"
    )
