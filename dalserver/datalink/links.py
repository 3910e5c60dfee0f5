"""The {links} table of DataLink 1.1 (sec. 3.2): for each ID, its file (#this), a PNG quick-look
(#preview) and a SODA cutout service (#cutout); an error row for an ID that is not known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

import pyarrow as pa

from adql.catalog import ColumnMeta
from dalserver.dali.descriptors import InputParam, ServiceDescriptor, soda_descriptor, soda_inputs
from dalserver.dali.faults import Fault
from dalserver.obscore.datasets import Dataset

LINK_COLUMNS = [
    ColumnMeta("ID", "char", "*", ucd="meta.id;meta.main", description="Input identifier"),
    ColumnMeta("access_url", "char", "*", ucd="meta.ref.url", description="Link to data or service"),
    ColumnMeta("service_def", "char", "*", ucd="meta.ref", description="Reference to a service descriptor resource"),
    ColumnMeta("error_message", "char", "*", ucd="meta.code.error", description="Why no link could be made"),
    ColumnMeta("description", "char", "*", ucd="meta.note", description="What the link leads to"),
    ColumnMeta("semantics", "char", "*", ucd="meta.code", description="Meaning of the link (DataLink vocabulary)"),
    ColumnMeta("content_type", "char", "*", ucd="meta.code.mime", description="MIME type of what the link returns"),
    ColumnMeta("content_length", "long", unit="byte", ucd="phys.size;meta.file", description="Size of the download"),
    ColumnMeta("content_qualifier", "char", "*", description="Product type of what the link returns"),
    ColumnMeta("link_auth", "char", "*", ucd="meta.code", description="Whether the link needs authentication"),
    ColumnMeta("link_authorized", "boolean", ucd="meta.code", description="Whether the caller may use the link"),
]


@dataclass(frozen=True)
class Link:
    id: str
    semantics: str
    access_url: str | None = None
    service_def: str | None = None
    error_message: str | None = None
    description: str | None = None
    content_type: str | None = None
    content_length: int | None = None
    content_qualifier: str | None = None


def _footprint_text(dataset: Dataset) -> str | None:
    return " ".join(f"{ra!r} {dec!r}" for ra, dec in dataset.footprint) or None


def cutout_descriptor(base_url: str, dataset: Dataset, xml_id: str) -> ServiceDescriptor:
    """A SODA descriptor for one dataset: its ID fixed, its extent in the VALUES (SODA sec. 4.2)."""
    circle = None
    if dataset.s_ra is not None and dataset.s_dec is not None and dataset.s_fov is not None:
        circle = f"{dataset.s_ra!r} {dataset.s_dec!r} {dataset.s_fov / 2!r}"
    id_param = InputParam("ID", value=dataset.did, ucd="meta.id;meta.main", description="The dataset to cut from")
    inputs = soda_inputs(
        id_param, circle=circle, polygon=_footprint_text(dataset), em_min=dataset.em_min, em_max=dataset.em_max
    )
    return soda_descriptor(base_url, inputs, xml_id, name=f"{xml_id}: cutout of {dataset.obs_id}")


def dataset_links(base_url: str, given_id: str, dataset: Dataset, cutout_ref: str, preview_pixels: int) -> list[Link]:
    """The links of one dataset, all under the ID as the client gave it (DataLink sec. 3.2.1)."""
    links = [
        Link(
            given_id,
            "#this",
            access_url=dataset.access_url,
            description=f"The {dataset.dataproduct_type or 'data'} {dataset.obs_id} as archived",
            content_type=dataset.access_format,
            content_length=dataset.path.stat().st_size if dataset.path else None,
            content_qualifier=f"#{dataset.dataproduct_type}" if dataset.dataproduct_type else None,
        )
    ]
    if dataset.has_provenance:
        # DataLink's core vocabulary has no provenance term (STILTS datalinklint: E-SMCO for
        # #provenance); #auxiliary is the core term for further material about the dataset.
        links.append(
            Link(
                given_id,
                "#auxiliary",
                access_url=f"{base_url}/datalink/provenance?{urlencode({'ID': dataset.did})}",
                description=f"Provenance of {dataset.obs_id}: source file, checksum, ingest (W3C PROV-JSON)",
                content_type="application/json",
            )
        )
    if dataset.is_image:
        links.append(
            Link(
                given_id,
                "#preview",
                access_url=f"{base_url}/datalink/preview?{urlencode({'ID': dataset.did})}",
                description=f"Quick-look PNG of {dataset.obs_id} (zscale, at most {preview_pixels} pixels a side)",
                content_type="image/png",
            )
        )
        links.append(
            Link(
                given_id,
                "#cutout",
                service_def=cutout_ref,
                description=f"Cut a sky region out of {dataset.obs_id} (SODA); answers a FITS file",
                content_type="application/fits",
                content_qualifier=f"#{dataset.dataproduct_type}",
            )
        )
    return links


def not_found(given_id: str) -> Link:
    return Link(
        given_id, "#this", error_message=f"{Fault.NOT_FOUND.dal_name}: {given_id} is not a dataset of this archive"
    )


def answer(
    base_url: str, ids: Sequence[str], datasets: Mapping[str, Dataset], preview_pixels: int
) -> tuple[list[Link], list[ServiceDescriptor]]:
    """The links of ``ids`` in the order given (``datasets`` keyed by lower-cased ID) and the SODA
    descriptors their #cutout rows refer to. Reads file sizes: run it off the event loop."""
    rows: list[Link] = []
    cutouts: list[ServiceDescriptor] = []
    for given_id in ids:
        dataset = datasets.get(given_id.lower())
        if dataset is None:
            rows.append(not_found(given_id))
            continue
        ref = f"soda-{len(cutouts) + 1}"
        found = dataset_links(base_url, given_id, dataset, ref, preview_pixels)
        if any(link.service_def == ref for link in found):
            cutouts.append(cutout_descriptor(base_url, dataset, ref))
        rows.extend(found)
    return rows, cutouts


def links_batch(links: Sequence[Link]) -> pa.RecordBatch:
    def column(name: str) -> list[object]:
        return [getattr(link, name) for link in links]

    return pa.record_batch(
        [
            pa.array([link.id for link in links], pa.string()),
            pa.array(column("access_url"), pa.string()),
            pa.array(column("service_def"), pa.string()),
            pa.array(column("error_message"), pa.string()),
            pa.array(column("description"), pa.string()),
            pa.array(column("semantics"), pa.string()),
            pa.array(column("content_type"), pa.string()),
            pa.array(column("content_length"), pa.int64()),
            pa.array(column("content_qualifier"), pa.string()),
            # No authentication in this server: every link is open to everyone.
            pa.array(["false"] * len(links), pa.string()),
            pa.array([True] * len(links), pa.bool_()),
        ],
        names=[c.name for c in LINK_COLUMNS],
    )
