"""DALI examples documents (DALI 1.1 sec. 2.3): XHTML with RDFa Lite properties that clients
(TOPCAT's examples menu, taplint) read: each example's name, the capability it is for, and either
a TAP query with its tables or the request's parameters as generic-parameter key/value pairs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from ivoa.vocabulary import Namespace, StandardID

XHTML = Namespace.XHTML
MEDIA_TYPE = "application/xhtml+xml"


@dataclass(frozen=True)
class Example:
    id: str  # the fragment identifier: unique within the document
    name: str
    description: str
    query: str | None = None  # TAP's "query" property
    tables: tuple[str, ...] = ()  # TAP's "table" property
    capability: str | None = None  # standardID of the capability the example is for
    params: tuple[tuple[str, str], ...] = ()  # DALI generic-parameter pairs, in request order


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{XHTML}}}{tag}", attrs)
    element.text = text
    return element


def examples_document(title: str, examples: Sequence[Example], empty_note: str = "") -> bytes:
    html = etree.Element(f"{{{XHTML}}}html", nsmap={None: XHTML})
    html.set(f"{{{Namespace.XML}}}lang", "en")
    head = _sub(html, "head")
    _sub(head, "meta", charset="utf-8")
    _sub(head, "title", f"{title}: examples")
    body = _sub(html, "body", vocab=StandardID.DALI_EXAMPLES)
    _sub(body, "h1", f"{title}: examples")
    for example in examples:
        div = _sub(body, "div", typeof="example", id=example.id, resource=f"#{example.id}")
        _sub(div, "h2", example.name, property="name")
        text = _sub(div, "p", example.description)
        if example.tables:
            text.text = f"{text.text or ''} Tables: "
            for i, table in enumerate(example.tables):
                _sub(text, "span", table, property="table").tail = ", " if i < len(example.tables) - 1 else "."
        if example.capability:
            _sub(_sub(div, "p", "For "), "code", example.capability, property="capability")
        if example.query is not None:
            _sub(div, "pre", example.query, property="query")
        if example.params:
            items = _sub(div, "ul")
            for key, value in example.params:
                pair = _sub(_sub(items, "li"), "span", property="generic-parameter", typeof="keyval")
                _sub(pair, "code", key, property="key").tail = " = "
                _sub(pair, "code", value, property="value")
    if not examples and empty_note:
        _sub(body, "p", empty_note)
    return etree.tostring(html, xml_declaration=True, encoding="UTF-8", doctype="<!DOCTYPE html>", pretty_print=True)
