"""DataLink without a database: service descriptors (DataLink {links}, SODA, SIA's
self-description) as VOTable RESOURCEs valid against the VOTable 1.4 schema, the {links} document
of datasets built by hand, checked by the schema and by STILTS datalinklint, and the pure helpers
that map a dataset to its file."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from dalserver.dali.descriptors import (
    DATALINK_MIME,
    InputParam,
    ServiceDescriptor,
    datalink_descriptor,
    resource_xml,
    soda_descriptor,
    soda_inputs,
)
from dalserver.dali.faults import DALIError
from dalserver.datalink.links import LINK_COLUMNS, answer, cutout_descriptor, links_batch, not_found
from dalserver.formats.votable import VOTableExtras
from dalserver.obscore.datasets import Dataset, archive_file, local_file
from dalserver.obscore.discovery import ID_FIELD, discovery_extras, result_extras
from dalserver.sia.describe import self_descriptor
from ivoa.vocabulary import StandardID
from pgsql_text.pgsphere import spoly_vertices
from schemas.model import builtin_schemas
from tests.support.readers import read_votable
from tests.support.results import format_named, write
from tests.support.schemas import schema_errors
from tests.support.votable import NS

BASE = "http://example.org:8000"
V = "{http://www.ivoa.net/xml/VOTable/v1.3}"


def in_votable(*resources: str) -> bytes:
    """Service descriptors in a VOTable of their own (they take on its default namespace)."""
    return (
        '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">'
        '<RESOURCE type="results"><INFO name="QUERY_STATUS" value="OK"/></RESOURCE>' + "".join(resources) + "</VOTABLE>"
    ).encode()


def params_of(resource: etree._Element) -> dict[str, etree._Element]:
    return {p.get("name"): p for p in resource.iter(f"{V}PARAM")}


def test_the_datalink_descriptor_is_valid_and_takes_the_id_from_the_field(votable_xsd: etree.XMLSchema) -> None:
    xml = resource_xml(datalink_descriptor(BASE, "pubdid", "ivo://example.org/x?a&b=1"))
    assert schema_errors(votable_xsd, in_votable(xml)) == ""
    resource = etree.fromstring(in_votable(xml)).findall("v:RESOURCE", NS)[1]
    assert (resource.get("type"), resource.get("utype"), resource.get("ID")) == ("meta", "adhoc:service", "datalink")
    fixed = {name: p.get("value") for name, p in params_of(resource).items() if name != "ID"}
    assert fixed == {
        "standardID": StandardID.DATALINK,
        "accessURL": f"{BASE}/datalink/links",
        "contentType": DATALINK_MIME,
        "exampleURL": f"{BASE}/datalink/links?ID=ivo%3A%2F%2Fexample.org%2Fx%3Fa%26b%3D1",
    }
    (group,) = resource.iter(f"{V}GROUP")
    assert group.get("name") == "inputParams" and params_of(group)["ID"].get("ref") == "pubdid"


def test_soda_descriptors_are_valid_with_the_cutout_parameters_and_the_dataset_extent(
    votable_xsd: etree.XMLSchema,
) -> None:
    id_param = InputParam("ID", value="ivo://x/y?<1>&2", description="The dataset to cut from")
    inputs = soda_inputs(id_param, circle="34.5 -5.0 0.25", polygon="34 -5 35 -5 34.5 -4")
    xml = resource_xml(soda_descriptor(BASE, inputs, "soda-1", name="soda-1: cutout of <x>"))
    assert schema_errors(votable_xsd, in_votable(xml)) == ""
    resource = etree.fromstring(in_votable(xml)).findall("v:RESOURCE", NS)[1]
    params = params_of(resource)
    assert params["standardID"].get("value") == StandardID.SODA_SYNC and params["ID"].get("value") == "ivo://x/y?<1>&2"
    circle, polygon = params["CIRCLE"], params["POLYGON"]
    assert (circle.get("datatype"), circle.get("arraysize"), circle.get("xtype"), circle.get("unit")) == (
        "double",
        "3",
        "circle",
        "deg",
    )
    assert circle.find("v:VALUES/v:MAX", NS).get("value") == "34.5 -5.0 0.25"
    assert polygon.find("v:VALUES/v:MAX", NS).get("value") == "34 -5 35 -5 34.5 -4" and "POS" in params


def test_the_sia_self_descriptor_is_valid_and_lists_the_values_present(votable_xsd: etree.XMLSchema) -> None:
    # The values present, by ObsCore column (dalserver.obscore.values).
    options = (
        ("instrument_name", ("Suprime-Cam", "a<b&c")),
        ("calib_level", ("2", "3")),
        ("dataproduct_type", ("image",)),
    )
    xml = resource_xml(self_descriptor(f"{BASE}/sia/query", options))
    assert schema_errors(votable_xsd, in_votable(xml)) == ""
    resource = etree.fromstring(in_votable(xml)).findall("v:RESOURCE", NS)[1]
    params = params_of(resource)
    assert params["standardID"].get("value") == StandardID.SIA2 and resource.get("name") == "this"
    assert [o.get("value") for o in params["INSTRUMENT"].iter(f"{V}OPTION")] == ["Suprime-Cam", "a<b&c"]
    assert params["CALIB"].get("datatype") == "int" and not list(params["FACILITY"].iter(f"{V}OPTION"))
    band = params["BAND"]
    assert (band.get("arraysize"), band.get("xtype"), band.get("unit")) == ("2", "interval", "m")


def test_discovery_answers_over_obscore_carry_the_datalink_and_soda_descriptors(votable_xsd: etree.XMLSchema) -> None:
    (obscore,) = [t for s in builtin_schemas() for t in s.tables if t.name == "obscore"]
    columns = [obscore.column(n).meta() for n in ("obs_publisher_did", "s_ra")]
    extras = result_extras(columns, BASE)
    assert extras == discovery_extras(BASE, "obs_publisher_did") and extras.field_ids == {"obs_publisher_did": ID_FIELD}
    assert result_extras([obscore.column("s_ra").meta()], BASE) is None  # no DID, no links
    assert schema_errors(votable_xsd, in_votable(extras.resources)) == ""
    ids = [r.get("ID") for r in etree.fromstring(in_votable(extras.resources)).findall("v:RESOURCE", NS)[1:]]
    assert ids == ["datalink", "soda"]


@pytest.fixture
def image(tmp_path: Path) -> Dataset:
    archive = tmp_path / "archive"
    (archive / "suprimecam").mkdir(parents=True)
    path = archive / "suprimecam" / "stack 1.fits"
    path.write_bytes(b"\0" * 5760)
    return Dataset(
        did="ivo://example.org/suprimecam?stack-1",
        obs_id="stack-1",
        dataproduct_type="image",
        access_url=f"{BASE}/data/suprimecam/stack%201.fits",
        access_format="application/fits",
        s_ra=34.5,
        s_dec=-5.0,
        s_fov=0.5,
        footprint=spoly_vertices("{(34.2d , -5.3d),(34.8d , -5.3d),(34.8d , -4.7d),(34.2d , -4.7d)}"),
        em_min=4.5e-7,
        em_max=5.5e-7,
        path=local_file("data/suprimecam/stack%201.fits", archive),
        has_provenance=True,
    )


def links_document(image: Dataset, *ids: str) -> bytes:
    rows, cutouts = answer(BASE, list(ids), {image.did.lower(): image}, 512)
    extras = VOTableExtras(
        infos=(("standardID", StandardID.DATALINK),),
        resources="".join(resource_xml(d) for d in cutouts),
    )
    return write(format_named("votable"), LINK_COLUMNS, [links_batch(rows)], maxrec=len(rows), extras=extras)


def test_a_links_document_lists_this_provenance_preview_and_cutout_and_an_error_row(
    votable_xsd: etree.XMLSchema, image: Dataset
) -> None:
    data = links_document(image, image.did.upper(), "ivo://example.org/unknown")
    assert schema_errors(votable_xsd, data) == ""
    rows = read_votable(data, LINK_COLUMNS).rows
    assert [(r["ID"], r["semantics"]) for r in rows] == [
        (image.did.upper(), "#this"),
        (image.did.upper(), "#auxiliary"),
        (image.did.upper(), "#preview"),
        (image.did.upper(), "#cutout"),
        ("ivo://example.org/unknown", "#this"),
    ]
    this, _, preview, cutout, unknown = rows
    assert this["access_url"] == image.access_url and this["content_length"] == 5760
    assert preview["access_url"] == f"{BASE}/datalink/preview?ID=ivo%3A%2F%2Fexample.org%2Fsuprimecam%3Fstack-1"
    assert cutout["service_def"] == "soda-1" and cutout["access_url"] == ""
    assert unknown["error_message"].startswith("NotFoundFault: ") and unknown["content_length"] is None
    (soda,) = etree.fromstring(data).findall("v:RESOURCE[@ID='soda-1']", NS)
    assert params_of(soda)["ID"].get("value") == image.did
    assert params_of(soda)["CIRCLE"].find("v:VALUES/v:MAX", NS).get("value") == "34.5 -5.0 0.25"


def test_stilts_datalinklint_finds_no_error_or_warning_in_a_links_document(image: Dataset, tmp_path: Path) -> None:
    stilts = shutil.which("stilts")
    assert stilts, "stilts is not installed: ./dev test installs Debian's stilts package"
    path = tmp_path / "links.vot"
    path.write_bytes(links_document(image, image.did, "ivo://example.org/unknown"))
    result = subprocess.run([stilts, "datalinklint", f"votable={path}"], capture_output=True, text=True, timeout=120)
    report = result.stdout + result.stderr
    assert "Totals: Errors: 0; Warnings: 0;" in report, report


@pytest.mark.parametrize("product", ["image", "cube"])
def test_every_cutout_descriptor_advertises_band_with_the_dataset_wavelength_extent(
    image: Dataset, product: str
) -> None:
    # /soda/sync takes BAND for images too (kept whole or dropped): the descriptor must say so.
    descriptor = cutout_descriptor(BASE, replace(image, dataproduct_type=product), "soda-1")
    (band,) = [p for p in descriptor.inputs if p.name == "BAND"]
    assert (band.minimum, band.maximum, band.xtype, band.unit) == ("4.5e-07", "5.5e-07", "interval", "m")


def test_a_dataset_without_a_local_file_gets_only_its_own_link(image: Dataset) -> None:
    remote = replace(image, access_url="https://elsewhere.org/x.fits", path=None, has_provenance=False)
    rows, cutouts = answer(BASE, [image.did], {image.did.lower(): remote}, 512)
    assert [r.semantics for r in rows] == ["#this"] and cutouts == [] and rows[0].content_length is None
    assert not_found("x").error_message == "NotFoundFault: x is not a dataset of this archive"


def test_descriptor_text_is_escaped_and_empty_values_are_written() -> None:
    descriptor = ServiceDescriptor(
        access_url=f"{BASE}/x?a=1&b=2",
        inputs=[InputParam("P", description="<&>", options=("a&b", "<c>"))],
        description="desc <&>",
    )
    resource = etree.fromstring(resource_xml(descriptor))
    assert resource.findtext("DESCRIPTION") == "desc <&>"
    assert [p.get("value") for p in resource.iter("PARAM")] == [f"{BASE}/x?a=1&b=2", ""]
    assert [o.get("value") for o in resource.iter("OPTION")] == ["a&b", "<c>"]


@pytest.mark.parametrize(
    "relative",
    ["../outside.fits", "suprimecam/../../outside.fits", "/etc/passwd", "a\x00b", "suprimecam", "missing.fits"],
)
def test_archive_files_never_resolve_outside_the_archive_or_to_a_directory(tmp_path: Path, relative: str) -> None:
    (tmp_path / "archive" / "suprimecam").mkdir(parents=True)
    (tmp_path / "outside.fits").write_bytes(b"x")
    with pytest.raises(DALIError) as refused:
        archive_file(tmp_path / "archive", relative)
    assert refused.value.status_code == 404


def test_a_stored_data_path_maps_to_its_archive_file_and_no_other_url_does(tmp_path: Path) -> None:
    (tmp_path / "a b").mkdir()
    (tmp_path / "a b" / "c.fits").write_bytes(b"x")
    assert local_file("data/a%20b/c.fits", tmp_path) == (tmp_path / "a b" / "c.fits").resolve()
    # An absolute URL is someone's else product, whatever its path: never a file of this archive.
    assert local_file("http://old-host:1234/data/a%20b/c.fits", tmp_path) is None
    assert local_file("data/a%20b/gone.fits", tmp_path) is None and local_file(None, tmp_path) is None
    assert local_file("data/../outside.fits", tmp_path) is None
