"""DataLink service descriptors (DataLink 1.1 sec. 4): VOTable RESOURCEs that tell a client how to
call a service with values from a table (DataLink {links}, SODA) or describe a service itself.

Built with lxml in no namespace and serialised as fragments: they sit inside a VOTable whose
default namespace they take on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from lxml import etree

from ivoa.vocabulary import StandardID

DATALINK_MIME = "application/x-votable+xml;content=datalink"


@dataclass(frozen=True)
class InputParam:
    name: str
    datatype: str = "char"
    arraysize: str | None = "*"
    value: str = ""
    ref: str | None = None  # XML ID of the FIELD whose values fill this parameter
    ucd: str | None = None
    unit: str | None = None
    xtype: str | None = None
    description: str | None = None
    minimum: str | None = None
    maximum: str | None = None
    options: Sequence[str] = ()


@dataclass(frozen=True)
class ServiceDescriptor:
    access_url: str
    inputs: Sequence[InputParam]
    standard_id: str | None = None
    xml_id: str | None = None
    name: str | None = None
    utype: str = "adhoc:service"
    description: str | None = None
    extra: dict[str, str] = field(default_factory=dict)  # contentType, exampleURL


def _param(parent: etree._Element, p: InputParam) -> None:
    attrs = {"name": p.name, "datatype": p.datatype, "value": p.value}
    for key, value in (
        ("arraysize", p.arraysize),
        ("ref", p.ref),
        ("ucd", p.ucd),
        ("unit", p.unit),
        ("xtype", p.xtype),
    ):
        if value:
            attrs[key] = value
    element = etree.SubElement(parent, "PARAM", attrs)
    if p.description:
        etree.SubElement(element, "DESCRIPTION").text = p.description
    if p.minimum is not None or p.maximum is not None or p.options:
        values = etree.SubElement(element, "VALUES")
        if p.minimum is not None:
            etree.SubElement(values, "MIN", value=p.minimum)
        if p.maximum is not None:
            etree.SubElement(values, "MAX", value=p.maximum)
        for option in p.options:
            etree.SubElement(values, "OPTION", value=option)


def _fixed(parent: etree._Element, name: str, value: str) -> None:
    etree.SubElement(parent, "PARAM", name=name, datatype="char", arraysize="*", value=value)


def resource_xml(descriptor: ServiceDescriptor) -> str:
    attrs = {"type": "meta", "utype": descriptor.utype}
    if descriptor.xml_id:
        attrs["ID"] = descriptor.xml_id
    if descriptor.name:
        attrs["name"] = descriptor.name
    resource = etree.Element("RESOURCE", attrs)
    if descriptor.description:
        etree.SubElement(resource, "DESCRIPTION").text = descriptor.description
    if descriptor.standard_id:
        _fixed(resource, "standardID", descriptor.standard_id)
    _fixed(resource, "accessURL", descriptor.access_url)
    for name, value in descriptor.extra.items():
        _fixed(resource, name, value)
    group = etree.SubElement(resource, "GROUP", name="inputParams")
    for p in descriptor.inputs:
        _param(group, p)
    return etree.tostring(resource, encoding="unicode", pretty_print=True)


def datalink_descriptor(base_url: str, id_field: str, example_id: str | None = None) -> ServiceDescriptor:
    """How to get the links of each row: ID from the FIELD with XML ID ``id_field``."""
    extra = {"contentType": DATALINK_MIME}
    if example_id:
        extra["exampleURL"] = f"{base_url}/datalink/links?{urlencode({'ID': example_id})}"
    return ServiceDescriptor(
        access_url=f"{base_url}/datalink/links",
        standard_id=StandardID.DATALINK,
        xml_id="datalink",
        name="links",
        description="Files, previews and cutouts of each dataset (DataLink)",
        inputs=[InputParam("ID", ref=id_field, ucd="meta.id;meta.main")],
        extra=extra,
    )


def soda_inputs(
    id_param: InputParam,
    *,
    circle: str | None = None,
    polygon: str | None = None,
    em_min: float | None = None,
    em_max: float | None = None,
) -> list[InputParam]:
    """SODA's cutout parameters (SODA 1.0 sec. 3.3): the spatial ones and BAND, with the dataset's
    extent where known."""
    return [
        id_param,
        InputParam(
            "CIRCLE",
            datatype="double",
            arraysize="3",
            xtype="circle",
            unit="deg",
            ucd="pos.outline;obs",
            description="A circle (ra dec radius, ICRS degrees) to cut out",
            maximum=circle,
        ),
        InputParam(
            "POLYGON",
            datatype="double",
            arraysize="*",
            xtype="polygon",
            unit="deg",
            ucd="pos.outline;obs",
            description="A polygon (ra1 dec1 ra2 dec2 ..., ICRS degrees) to cut out",
            maximum=polygon,
        ),
        InputParam(
            "POS",
            ucd="pos.outline;obs",
            description="A region to cut out: CIRCLE ra dec r, RANGE ra1 ra2 dec1 dec2 or POLYGON ra1 dec1 ...",
        ),
        InputParam(
            "BAND",
            datatype="double",
            arraysize="2",
            xtype="interval",
            unit="m",
            ucd="em.wl;stat.interval",
            description=(
                "Wavelength interval (low high, metres): a cube is cut to it; an image, which has one band, "
                "is kept whole when its band overlaps, otherwise the answer is empty (204)"
            ),
            minimum=None if em_min is None else repr(em_min),
            maximum=None if em_max is None else repr(em_max),
        ),
    ]


def soda_descriptor(base_url: str, inputs: list[InputParam], xml_id: str, name: str = "cutout") -> ServiceDescriptor:
    return ServiceDescriptor(
        access_url=f"{base_url}/soda/sync",
        standard_id=StandardID.SODA_SYNC,
        xml_id=xml_id,
        name=name,  # unique in its document (VOTable names should be)
        description="Cut a region out of the image (SODA); the answer is a FITS file with its WCS",
        inputs=inputs,
    )
