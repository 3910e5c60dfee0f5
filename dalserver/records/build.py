"""VOResource 1.1 records of this archive (VODataService 1.2, TAPRegExt, SimpleDALRegExt,
VORegistry), made from what the archive knows (``ArchiveState``), the settings and the
operator's registry file. Pure functions: the same state gives the same records.

One record per resource:

* the naming authority (``vg:Authority``) and this publishing registry (``vg:Registry``, its
  OAI-PMH interface at ``/oai``, managing the authority);
* the TAP service and the SIA service (``vs:CatalogService``; SIA also carries the DataLink and
  SODA capabilities, which act on the datasets SIA finds);
* the ObsCore table, each ObsCore collection and each published catalogue
  (``vs:CatalogResource``, with auxiliary TAP and SIA capabilities, a cone search where the
  table has positions, a MOC coverage at order 6 with a footprint link to the full one, time
  and energy ranges, wavebands);
* once the VO crawler has stored rows, its cache (``vs:CatalogResource``, derived from its
  sources) and the federated image search over it (``vs:CatalogService``, SIA 2.0), neither with
  an ObsCore table utype;

linked by ``IsServiceFor``/``IsServedBy`` relationships (the DataCite terms VOResource 1.1's
vocabulary prefers to the older ``service-for``/``served-by``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
from lxml import etree

if TYPE_CHECKING:
    from mocpy import MOC

from archive_io import registry_state as keys
from archive_io.coverage import REGISTRY_ORDER, degraded, moc_from_ascii, moc_to_ascii
from archive_io.hips_store import PublishedSurvey, published_surveys
from archive_io.identifiers import collection_key
from dalserver.formats.registry import FORMATS
from dalserver.records.config import RegistryConfig, ResourceOverride
from dalserver.records.remote_cache import CACHE_TABLES, FEDERATED_SIA, REMOTE_CACHE, RemoteCache
from dalserver.records.state import ArchiveState, ResourceState
from dalserver.settings import Settings
from dalserver.vosi import documents
from dalserver.vosi.resources import tap_limits
from ivoa.vocabulary import XSI_TYPE, Namespace, StandardID

NS = Namespace
NSMAP = {"ri": NS.RI, "vr": NS.VR, "vs": NS.VS, "vg": NS.VG, "tr": NS.TR, "sia": NS.SIA, "cs": NS.CS, "xsi": NS.XSI}
OBSCORE_TABLE = "ivoa.obscore"
PLANCK_TIMES_C = 6.62607015e-34 * 299792458.0  # h c, J m: a wavelength's photon energy is hc / lambda

# Messengers (http://www.ivoa.net/rdf/messenger) by vacuum wavelength in metres.
_MESSENGERS = (
    ("Gamma-ray", 0.0, 1e-11),
    ("X-ray", 1e-11, 1e-8),
    ("EUV", 1e-8, 1e-7),
    ("UV", 1e-7, 3.1e-7),
    ("Optical", 3.1e-7, 1e-6),
    ("Infrared", 1e-6, 3e-4),
    ("Millimeter", 3e-4, 1e-2),
    ("Radio", 1e-2, float("inf")),
)


@dataclass(frozen=True)
class Record:
    """One registry record: what OAI-PMH serves and RegTAP is filled from."""

    key: str  # the registry.resource_state key
    ivoid: str
    datestamp: datetime  # when the record last changed (UTC, whole seconds)
    deleted: bool
    resource: etree._Element | None  # the ri:Resource; None for a deleted record

    @property
    def title(self) -> str:
        if self.resource is None:
            return self.ivoid
        return self.resource.findtext("title") or self.ivoid


@dataclass(frozen=True)
class Naming:
    """IVOIDs of this archive's resources, all under its authority."""

    authority: str

    @property
    def authority_id(self) -> str:
        return f"ivo://{self.authority}"

    def of(self, resource_key: str) -> str:
        base = self.authority_id
        if resource_key == keys.AUTHORITY:
            return base
        if resource_key == keys.REGISTRY:
            return f"{base}/registry"
        if resource_key == keys.TAP:
            return f"{base}/tap"
        if resource_key == keys.SIA:
            return f"{base}/sia"
        if resource_key == keys.OBSCORE:
            return f"{base}/obscore"
        kind, _, name = resource_key.partition(":")
        if kind == "collection":
            # the publisher DIDs of its datasets are this IVOID with ?obs_id appended
            return f"{base}/{collection_key(name)}"
        if kind == "catalog":
            return f"{base}/{name.replace('.', '/')}"
        if kind == "hips":
            return name  # a survey's key is its creator_did, an IVOID under this authority already
        if kind == "table":
            return f"{base}/{name.replace('.', '/')}"  # the crawler's cache: ivo://AUTHORITY/vo/remote_obscore
        if kind == "service":
            return f"{base}/{name}"  # the federated image search: ivo://AUTHORITY/federated/sia
        raise ValueError(f"unknown resource key {resource_key!r}")


def _utc(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str | None) -> etree._Element:
    element = etree.SubElement(parent, tag, {k.replace("_", "-"): v for k, v in attrs.items() if v is not None})
    if text is not None:
        element.text = text
    return element


def _typed(element: etree._Element, xsi_type: str) -> etree._Element:
    element.set(XSI_TYPE, xsi_type)
    return element


class _Builder:
    def __init__(self, state: ArchiveState, settings: Settings, config: RegistryConfig):
        self.state = state
        self.settings = settings
        self.config = config
        self.base = settings.public_url
        self.names = Naming(settings.ivoid_authority)

    # --- the common parts ------------------------------------------------------------------------
    def resource(self, key: str, xsi_type: str, title: str, short_name: str | None = None) -> etree._Element:
        row = self.state.resource(key)
        root = etree.Element(f"{{{NS.RI}}}Resource", nsmap=NSMAP)
        _typed(root, xsi_type)
        root.set("created", _utc(row.created))
        root.set("updated", _utc(row.updated))
        root.set("status", "active")
        _sub(root, "title", title)
        if short_name:
            _sub(root, "shortName", short_name[:16])
        _sub(root, "identifier", self.names.of(key))
        self.curation(root, row)
        return root

    def curation(self, root: etree._Element, row: ResourceState, override: ResourceOverride | None = None) -> None:
        cfg = self.config
        curation = _sub(root, "curation")
        _sub(curation, "publisher", cfg.publisher, ivo_id=cfg.publisher_ivoid)
        for creator in override.creators if override and override.creators else cfg.creators:
            c = _sub(curation, "creator")
            _sub(c, "name", creator.name)
            if creator.logo:
                _sub(c, "logo", creator.logo)
        _sub(curation, "date", _utc(row.created), role="Created")
        _sub(curation, "date", _utc(row.updated), role="Updated")
        contact = _sub(curation, "contact")
        _sub(contact, "name", cfg.contact.name)
        for field in ("address", "email", "telephone"):
            value = getattr(cfg.contact, field)
            if value:
                _sub(contact, field, value)

    def content(
        self,
        root: etree._Element,
        description: str,
        content_type: str | None = None,
        subjects: Iterable[str] = (),
        relationships: Iterable[tuple[str, list[str]]] = (),
    ) -> None:
        content = _sub(root, "content")
        for subject in dict.fromkeys((*subjects, *self.config.subjects)):
            _sub(content, "subject", subject)
        _sub(content, "description", description)
        _sub(content, "referenceURL", self.config.reference_url or f"{self.base}/tap")
        if content_type:
            _sub(content, "type", content_type)
        for level in self.config.content_level:
            _sub(content, "contentLevel", level)
        for relationship, related in relationships:
            if not related:
                continue
            rel = _sub(content, "relationship")
            _sub(rel, "relationshipType", relationship)
            for key in related:
                _sub(rel, "relatedResource", self.title_of(key), ivo_id=self.names.of(key))

    def rights(self, root: etree._Element) -> None:
        if self.config.rights:
            _sub(root, "rights", self.config.rights)

    def param_capability(
        self,
        root: etree._Element,
        standard_id: str,
        url: str,
        xsi_type: str | None = None,
        version: str | None = None,
        use: str = "full",
        description: str | None = None,
    ) -> etree._Element:
        cap = _sub(root, "capability", standardID=standard_id)
        if xsi_type:
            _typed(cap, xsi_type)
        if description:
            _sub(cap, "description", description)
        iface = _typed(_sub(cap, "interface", role="std", version=version), "vs:ParamHTTP")
        _sub(iface, "accessURL", url, use=use)
        return cap

    def vosi(self, root: etree._Element, service_url: str, tables: bool = False) -> None:
        documents.vosi_capabilities(root, service_url, tables)

    def facilities(self, root: etree._Element, collections: Iterable[str]) -> None:
        found = [self.state.collections[c] for c in collections if c in self.state.collections]
        for facility in sorted({f for c in found for f in c.facilities}):
            _sub(root, "facility", facility)
        for instrument in sorted({i for c in found for i in c.instruments}):
            _sub(root, "instrument", instrument)

    def coverage(
        self,
        root: etree._Element,
        rows: list[ResourceState],
        footprint: str | None = None,
        waveband: Iterable[str] = (),
    ) -> None:
        mocs = [moc_from_ascii(r.moc) for r in rows if r.moc]
        times = [(r.t_min, r.t_max) for r in rows if r.t_min is not None and r.t_max is not None]
        spectra = [(r.em_min, r.em_max) for r in rows if r.em_min and r.em_max]
        bands = list(dict.fromkeys((*waveband, *(m for lo, hi in spectra for m in messengers(lo, hi)))))
        if not (mocs or times or spectra or bands):
            return
        coverage = _sub(root, "coverage")
        if mocs:
            union = mocs[0].union(*mocs[1:]) if len(mocs) > 1 else mocs[0]
            if not union.empty():
                _sub(coverage, "spatial", moc_to_ascii(union))
        for t_min, t_max in _merged(times):
            _sub(coverage, "temporal", f"{t_min!r} {t_max!r}")
        for em_min, em_max in _merged(spectra):
            # energies: the shortest wavelength has the highest energy
            _sub(coverage, "spectral", f"{PLANCK_TIMES_C / em_max!r} {PLANCK_TIMES_C / em_min!r}")
        if footprint and mocs:
            _sub(coverage, "footprint", footprint, ivo_id=StandardID.MOC)
        for band in bands:
            _sub(coverage, "waveband", band)

    def tableset(self, root: etree._Element, tables: Iterable[str] | None = None) -> None:
        """The published schemas (all of them, or those holding ``tables``), from TAP_SCHEMA."""
        wanted = {t.lower() for t in tables} if tables is not None else None
        tableset = _sub(root, "tableset")
        for schema in self.state.tap_schema.schemas:
            chosen = [t for t in schema.tables if wanted is None or t.name.lower() in wanted]
            if not chosen:
                continue
            s_el = documents.append_schema(tableset, schema)
            for table in chosen:
                documents.append_table(s_el, table, detail_min=False)

    # --- which resources there are ---------------------------------------------------------------
    def collections(self) -> list[str]:
        return sorted(self.state.collections)

    def deleted_collections(self) -> list[str]:
        """Collections whose last images were retracted (their records stay, deleted)."""
        names = []
        for key, row in self.state.resources.items():
            kind, _, name = key.partition(":")
            if kind == "collection" and row.deleted and name not in self.state.collections:
                names.append(name)
        return sorted(names)

    def catalogs(self, deleted: bool = False) -> list[str]:
        names = []
        for key, row in self.state.resources.items():
            if key.startswith("catalog:") and row.deleted == deleted:
                name = key.partition(":")[2]
                if deleted or self.state.table(name) is not None:
                    names.append(name)
        return sorted(names)

    def cone_searchable(self, table: str) -> bool:
        if table == OBSCORE_TABLE:
            return self.state.table(OBSCORE_TABLE) is not None
        row = self.state.resources.get(keys.catalog_state_key(table))
        return row is not None and row.position is not None

    def title_of(self, key: str) -> str:
        title = self.settings.title
        if key == keys.AUTHORITY:
            return f"{title}: naming authority {self.settings.ivoid_authority}"
        if key == keys.REGISTRY:
            return f"{title}: publishing registry"
        if key == keys.TAP:
            return f"{title} TAP service"
        if key == keys.SIA:
            return f"{title} SIA 2.0 image search"
        if key == keys.OBSCORE:
            return f"{title}: ObsCore table of all data products"
        if key == REMOTE_CACHE:
            return f"{title}: other archives' data, as its VO crawler found them"
        if key == FEDERATED_SIA:
            return f"{title}: federated image search of other archives (SIA 2.0)"
        kind, _, name = key.partition(":")
        override = (self.config.collections if kind == "collection" else self.config.catalogs).get(name)
        if override and override.title:
            return override.title
        return f"{name} images" if kind == "collection" else f"{title}: catalogue {name}"

    def holdings(self) -> str:
        """A sentence on what the archive serves, for the services' descriptions (and searches)."""
        parts = []
        for name in self.collections():
            c = self.state.collections[name]
            count = self.state.resource(keys.collection_state_key(name)).row_count
            made = " and ".join(c.instruments) if c.instruments else "various instruments"
            at = f" at {' and '.join(c.facilities)}" if c.facilities else ""
            kinds = "/".join(c.product_types) or "data product"
            parts.append(f"the collection {name} ({count or 'some'} {kinds}s taken with {made}{at})")
        for name in self.catalogs():
            table = self.state.table(name)
            rows = self.state.resource(keys.catalog_state_key(name)).row_count
            about = f": {table.description}" if table and table.description else ""
            parts.append(f"the catalogue {name} ({rows if rows is not None else 'some'} rows{about})")
        if not parts:
            return "It holds no data yet."
        return "It holds " + "; ".join(parts) + "."

    # --- the records ---------------------------------------------------------------------------
    def authority(self) -> etree._Element:
        root = self.resource(keys.AUTHORITY, "vg:Authority", self.title_of(keys.AUTHORITY))
        self.content(
            root,
            f"The naming authority {self.settings.ivoid_authority}: the IVOA identifiers of the resources "
            f"published by {self.config.publisher} begin with ivo://{self.settings.ivoid_authority}.",
            "Other",
        )
        _sub(root, "managingOrg", self.config.managing_org)
        return root

    def registry(self) -> etree._Element:
        root = self.resource(keys.REGISTRY, "vg:Registry", self.title_of(keys.REGISTRY), "registry")
        self.content(
            root,
            f"The publishing registry of {self.config.publisher}: its resource records by OAI-PMH "
            f"(IVOA Registry Interfaces 1.1) at {self.base}/oai. The archive's TAP service also "
            "offers a relational registry (RegTAP, schema rr) of these and harvested records.",
            "Archive",
        )
        self.rights(root)
        harvest = _typed(_sub(root, "capability", standardID=StandardID.OAI_PMH), "vg:Harvest")
        iface = _typed(_sub(harvest, "interface", role="std", version="1.0"), "vg:OAIHTTP")
        _sub(iface, "accessURL", f"{self.base}/oai", use="base")
        _sub(harvest, "maxRecords", str(self.settings.oai_page_size))
        self.param_capability(root, StandardID.TAP_AUX, f"{self.base}/tap", version="1.1", use="base")
        _sub(root, "full", "false")
        _sub(root, "managedAuthority", self.settings.ivoid_authority)
        return root

    def tap(self) -> etree._Element:
        root = self.resource(keys.TAP, "vs:CatalogService", self.title_of(keys.TAP), "TAP")
        served = [keys.OBSCORE] * (self.state.table(OBSCORE_TABLE) is not None)
        served += [keys.collection_state_key(c) for c in self.collections()]
        served += [keys.catalog_state_key(c) for c in self.catalogs()]
        served += [REMOTE_CACHE] * bool(self.state.remote and self.state.remote.active)
        self.content(
            root,
            f"{self.config.description} Table Access Protocol (TAP 1.1, ADQL 2.1) service of "
            f"{self.config.publisher}. {self.holdings()}",
            "Catalog",
            relationships=[("IsServiceFor", served)],
        )
        self.rights(root)
        capabilities = etree.fromstring(documents.tap_capabilities(self.base, FORMATS, tap_limits(self.settings)))
        for capability in capabilities.iterchildren("capability"):
            root.append(capability)
        self.facilities(root, self.collections())
        self.coverage(root, self._data_rows(), f"{self.base}/moc/all.fits")
        self.tableset(root)
        return root

    def sia(self) -> etree._Element:
        root = self.resource(keys.SIA, "vs:CatalogService", self.title_of(keys.SIA), "SIA")
        self.content(
            root,
            f"Simple Image Access 2.0 search of the images of {self.config.publisher}; the datasets found "
            f"are described by DataLink and cut out by SODA. {self.holdings()}",
            "Survey",
            relationships=[("IsServiceFor", [keys.collection_state_key(c) for c in self.collections()])],
        )
        self.rights(root)
        sia = self.param_capability(
            root, StandardID.SIA2, f"{self.base}/sia/query", "sia:SimpleImageAccess", version="2.0", use="base"
        )
        _sub(sia, "imageServiceType", "Pointed")
        _sub(sia, "maxRecords", str(self.settings.maxrec_hard))
        self.param_capability(
            root,
            StandardID.DATALINK,
            f"{self.base}/datalink/links",
            version="1.1",
            description="The links of a dataset found by SIA: its file, preview, provenance and cutouts (ID=publisher DID).",
        )
        self.param_capability(
            root,
            StandardID.SODA_SYNC,
            f"{self.base}/soda/sync",
            version="1.0",
            description="Cutouts (CIRCLE, POLYGON, POS) of the images found by SIA (ID=publisher DID).",
        )
        self.vosi(root, f"{self.base}/sia")
        self.facilities(root, self.collections())
        self.coverage(root, self._collection_rows())
        if self.state.table(OBSCORE_TABLE) is not None:
            self.tableset(root, [OBSCORE_TABLE])
        return root

    def obscore(self) -> etree._Element:
        root = self.resource(keys.OBSCORE, "vs:CatalogResource", self.title_of(keys.OBSCORE), "ObsCore")
        table = self.state.table(OBSCORE_TABLE)
        self.content(
            root,
            f"{(table and table.description) or 'The ObsCore table.'} {self.holdings()}",
            "Catalog",
            relationships=[("IsServedBy", [keys.TAP, keys.SIA])],
        )
        self.rights(root)
        self.param_capability(root, StandardID.TAP_AUX, f"{self.base}/tap", version="1.1", use="base")
        self.param_capability(root, StandardID.SIA2_AUX, f"{self.base}/sia/query", version="2.0", use="base")
        self.cone_capability(root, OBSCORE_TABLE)
        self.facilities(root, self.collections())
        self.coverage(root, self._collection_rows(), f"{self.base}/moc/table/{OBSCORE_TABLE}.fits")
        self.tableset(root, [OBSCORE_TABLE])
        return root

    def collection(self, name: str) -> etree._Element:
        key = keys.collection_state_key(name)
        override = self.config.collections.get(name)
        root = self.resource(key, "vs:CatalogResource", self.title_of(key))
        c = self.state.collections[name]
        count = self.state.resource(key).row_count
        made = " and ".join(c.instruments) or "various instruments"
        at = f" at {' and '.join(c.facilities)}" if c.facilities else ""
        kinds = "/".join(c.product_types) or "data product"
        description = (override.description if override and override.description else None) or (
            f"The {name} collection of {self.config.publisher}: {count or 'some'} {kinds}s taken with {made}{at}, "
            f"described in ObsCore (ivoa.obscore, obs_collection = '{name}'), found with SIA 2.0 and TAP, "
            f"with DataLink and SODA for each dataset. The publisher DIDs of its datasets are "
            f"{self.names.of(key)}?<obs_id>."
        )
        self.content(
            root,
            description,
            "Survey",
            override.subjects if override else (),
            relationships=[("IsServedBy", [keys.TAP, keys.SIA])],
        )
        self.rights(root)
        self.param_capability(root, StandardID.TAP_AUX, f"{self.base}/tap", version="1.1", use="base")
        self.param_capability(root, StandardID.SIA2_AUX, f"{self.base}/sia/query", version="2.0", use="base")
        self.facilities(root, [name])
        self.coverage(
            root,
            [self.state.resource(key)],
            f"{self.base}/moc/collection/{collection_key(name)}.fits",
            override.waveband if override else (),
        )
        self.tableset(root, [OBSCORE_TABLE])
        return root

    def catalog(self, name: str) -> etree._Element:
        key = keys.catalog_state_key(name)
        override = self.config.catalogs.get(name)
        table = self.state.table(name)
        root = self.resource(key, "vs:CatalogResource", self.title_of(key))
        rows = self.state.resource(key).row_count
        description = (override.description if override and override.description else None) or (
            f"{(table and table.description) or 'A catalogue'} ({rows if rows is not None else 'some'} rows), published "
            f"by {self.config.publisher} as the table {name} of its TAP service"
            + (", with a Simple Cone Search." if self.cone_searchable(name) else ".")
        )
        self.content(
            root,
            description,
            "Catalog",
            override.subjects if override else (),
            relationships=[("IsServedBy", [keys.TAP])],
        )
        self.rights(root)
        self.param_capability(root, StandardID.TAP_AUX, f"{self.base}/tap", version="1.1", use="base")
        if self.cone_searchable(name):
            self.cone_capability(root, name)
        self.coverage(
            root,
            [self.state.resource(key)],
            f"{self.base}/moc/table/{name}.fits",
            override.waveband if override else (),
        )
        self.tableset(root, [name])
        return root

    def hips(self, survey: PublishedSurvey) -> etree._Element:
        """A HiPS survey as its own resource (HiPS 1.0 sec. 4.5): the survey's base URL is the
        capability's access URL, its properties the source of title and coverage."""
        p = survey.properties
        key = hips_key(survey)
        when = _hips_date(survey, self.state.read_at.replace(microsecond=0))
        moc = None
        if survey.moc is not None:
            from mocpy import MOC  # noqa: N814  # imported when a record is built, not at start-up

            moc = degraded(moc_to_ascii(MOC.from_fits(survey.moc)), REGISTRY_ORDER)
        row = ResourceState(
            key,
            when,
            when,
            moc=moc,
            t_min=_float(p.get("t_min")),
            t_max=_float(p.get("t_max")),
            em_min=_float(p.get("em_min")),
            em_max=_float(p.get("em_max")),
        )
        root = etree.Element(f"{{{NS.RI}}}Resource", nsmap=NSMAP)
        _typed(root, "vs:CatalogService")
        root.set("created", _utc(when))
        root.set("updated", _utc(when))
        root.set("status", "active")
        _sub(root, "title", survey.title)
        _sub(root, "identifier", survey.creator_did)
        self.curation(root, row)
        description = p.get("obs_description") or (
            f"HiPS survey {survey.title} of {self.config.publisher}, built from the images of the "
            f"{p.get('obs_collection', 'archive')} collection; view it in Aladin at {survey.service_url(self.base)}."
        )
        collection = p.get("obs_collection")
        related = [keys.collection_state_key(collection)] if collection in self.state.collections else []
        self.content(root, description, "Survey", relationships=[("IsDerivedFrom", related)])
        self.rights(root)
        cap = _sub(root, "capability", standardID=StandardID.HIPS)
        iface = _typed(_sub(cap, "interface", role="std", version="1.0"), "vs:ParamHTTP")
        _sub(iface, "accessURL", survey.service_url(self.base), use="base")
        self.coverage(root, [row], f"{survey.service_url(self.base)}/Moc.fits", ())
        return root

    def remote_cache(self, cache: RemoteCache) -> etree._Element:
        """The crawler's cache: derived from its sources, served by TAP, and without the ObsCore
        table utype (pyvo.discover users must not get every remote row twice)."""
        root = etree.Element(f"{{{NS.RI}}}Resource", nsmap=NSMAP)
        _typed(root, "vs:CatalogResource")
        root.set("created", _utc(cache.created))
        root.set("updated", _utc(cache.updated))
        root.set("status", "active")
        _sub(root, "title", self.title_of(REMOTE_CACHE))
        _sub(root, "shortName", "VO cache")
        _sub(root, "identifier", self.names.of(REMOTE_CACHE))
        self.curation(root, ResourceState(REMOTE_CACHE, cache.created, cache.updated))
        names = ", ".join(s.title or s.ivoid for s in cache.sources)
        self.content(
            root,
            f"A cache of the ObsCore metadata of other archives' datasets ({cache.rows} rows from "
            f"{len(cache.sources)} services: {names}), fetched sky cell by sky cell and kept up to date "
            f"by the VO crawler of {self.config.publisher}: the table vo.remote_obscore (ObsCore 1.1 "
            "columns, each row with the IVOID and URL of the service it came from) and, per HEALPix cell, "
            "the datasets by facility and instrument (vo.remote_coverage). The datasets stay at their "
            "archives (access_url); query the services themselves for what is newer than the cache.",
            "Catalog",
            relationships=[("IsServedBy", [keys.TAP, FEDERATED_SIA])],
        )
        _derived_from(root, cache)
        self.rights(root)
        self.param_capability(root, StandardID.TAP_AUX, f"{self.base}/tap", version="1.1", use="base")
        self.coverage(root, _source_states(cache))
        self.tableset(root, CACHE_TABLES)
        return root

    def federated_sia(self, cache: RemoteCache) -> etree._Element:
        """The federated image search: SIA 2.0 over the cache (and, on request, the services it
        derives from). Its own service, with no ObsCore table utype anywhere (no tableset): it
        serves the cache, and says which archives the data come from."""
        root = etree.Element(f"{{{NS.RI}}}Resource", nsmap=NSMAP)
        _typed(root, "vs:CatalogService")
        root.set("created", _utc(cache.created))
        root.set("updated", _utc(cache.updated))
        root.set("status", "active")
        _sub(root, "title", self.title_of(FEDERATED_SIA))
        _sub(root, "shortName", "VO images")
        _sub(root, "identifier", self.names.of(FEDERATED_SIA))
        self.curation(root, ResourceState(FEDERATED_SIA, cache.created, cache.updated))
        self.content(
            root,
            f"Simple Image Access 2.0 search of other archives' images: answered from the cache that the VO "
            f"crawler of {self.config.publisher} keeps of {len(cache.sources)} service{'s' if len(cache.sources) != 1 else ''} ({cache.rows} datasets), "
            "and with LIVE=true from those services too, asked at the time of the search. The datasets stay at "
            "their archives (access_url); each row names the service it came from (source_ivoid).",
            "Survey",
            relationships=[("IsServiceFor", [REMOTE_CACHE])],
        )
        _derived_from(root, cache)
        self.rights(root)
        sia = self.param_capability(
            root,
            StandardID.SIA2,
            f"{self.base}/federated/sia/query",
            "sia:SimpleImageAccess",
            version="2.0",
            use="base",
        )
        _sub(sia, "imageServiceType", "Pointed")
        _sub(sia, "maxRecords", str(self.settings.maxrec_hard))
        self.vosi(root, f"{self.base}/federated/sia")
        self.coverage(root, _source_states(cache))
        return root

    def cone_capability(self, root: etree._Element, table: str) -> None:
        url = f"{self.base}/scs/{table}"
        cap = self.param_capability(
            root,
            StandardID.SCS,
            f"{url}?",
            "cs:ConeSearch",
            use="base",
            description=f"Simple Cone Search 1.03 over {table}.",
        )
        _sub(cap, "maxSR", repr(float(self.settings.scs_max_sr)))
        _sub(cap, "maxRecords", str(self.settings.maxrec_hard))
        _sub(cap, "verbosity", "true")
        test = self._test_position(table)
        if test is not None:
            query = _sub(cap, "testQuery")
            _sub(query, "ra", repr(test[0]))
            _sub(query, "dec", repr(test[1]))
            _sub(query, "sr", "0.01")
        self.vosi(root, url)

    def _test_position(self, table: str) -> tuple[float, float] | None:
        """A position with data: the centre of the first cell of the table's coverage."""
        key = keys.OBSCORE if table == OBSCORE_TABLE else keys.catalog_state_key(table)
        rows = self._collection_rows() if key == keys.OBSCORE else [self.state.resource(key)]
        for row in rows:
            if row.moc:
                moc = moc_from_ascii(row.moc)
                if not moc.empty():
                    return _first_cell_centre(moc)
        return None

    def _collection_rows(self) -> list[ResourceState]:
        return [self.state.resource(keys.collection_state_key(c)) for c in self.collections()]

    def _data_rows(self) -> list[ResourceState]:
        return self._collection_rows() + [self.state.resource(keys.catalog_state_key(c)) for c in self.catalogs()]


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def hips_key(survey: PublishedSurvey) -> str:
    return f"hips:{survey.creator_did}"


def _hips_date(survey: PublishedSurvey, fallback: datetime) -> datetime:
    """The survey's release date (HiPS properties write ISO 8601 to the minute, UTC)."""
    text = survey.properties.get("hips_release_date", "").replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return fallback
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)


def _first_cell_centre(moc: MOC) -> tuple[float, float]:
    """The centre of the MOC's first cell: a position that certainly has data (the barycentre of
    a whole MOC need not lie in it)."""
    from mocpy import MOC  # noqa: N814  # imported when a record is built, not at start-up

    first = moc.flatten()[:1]
    cell = MOC.from_healpix_cells(first, np.full(1, moc.max_order, dtype=np.uint8), moc.max_order)
    centre = cell.barycenter()
    return round(float(centre.ra.deg), 6), round(float(centre.dec.deg), 6)


def _merged(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping intervals joined: a resource's coverage is their union."""
    merged: list[list[float]] = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return [(a, b) for a, b in merged]


def messengers(em_min: float, em_max: float) -> list[str]:
    """The messenger vocabulary terms a wavelength range overlaps."""
    return [name for name, low, high in _MESSENGERS if em_min < high and low < em_max]


def build_records(state: ArchiveState, settings: Settings, config: RegistryConfig) -> list[Record]:
    """Every record of this archive, deleted ones included, in a stable order."""
    builder = _Builder(state, settings, config)
    made: list[tuple[str, etree._Element | None]] = [
        (keys.AUTHORITY, builder.authority()),
        (keys.REGISTRY, builder.registry()),
        (keys.TAP, builder.tap()),
        (keys.SIA, builder.sia()),
    ]
    if state.table(OBSCORE_TABLE) is not None:
        made.append((keys.OBSCORE, builder.obscore()))
    made += [(keys.collection_state_key(c), builder.collection(c)) for c in builder.collections()]
    made += [(keys.collection_state_key(c), None) for c in builder.deleted_collections()]
    made += [(keys.catalog_state_key(c), builder.catalog(c)) for c in builder.catalogs()]
    made += [(keys.catalog_state_key(c), None) for c in builder.catalogs(deleted=True)]
    records = []
    for key, element in made:
        if element is not None:
            etree.indent(element)
        row = state.resource(key)
        records.append(Record(key, builder.names.of(key), row.updated, element is None, element))
    if state.remote is not None:
        cache = state.remote
        element = builder.remote_cache(cache) if cache.active else None
        if element is not None:
            etree.indent(element)
        records.append(Record(REMOTE_CACHE, builder.names.of(REMOTE_CACHE), cache.updated, element is None, element))
        service = builder.federated_sia(cache) if cache.active else None
        if service is not None:
            etree.indent(service)
        records.append(Record(FEDERATED_SIA, builder.names.of(FEDERATED_SIA), cache.updated, service is None, service))
    for survey in published_surveys(settings.hips_root):
        if not survey.creator_did:
            continue
        element = builder.hips(survey)
        etree.indent(element)
        when = _hips_date(survey, state.read_at.replace(microsecond=0))
        records.append(Record(hips_key(survey), survey.creator_did, when, False, element))
    return records


def record_xml(record: Record) -> bytes:
    assert record.resource is not None
    return etree.tostring(record.resource, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _derived_from(root: etree._Element, cache: RemoteCache) -> None:
    """The cache's record and the federated search's: the services their data come from."""
    content = root.find("content")
    assert content is not None
    relationship = _sub(content, "relationship")
    _sub(relationship, "relationshipType", "IsDerivedFrom")
    for source in cache.sources:
        _sub(relationship, "relatedResource", source.title or source.ivoid, ivo_id=source.ivoid)


def _source_states(cache: RemoteCache) -> list[ResourceState]:
    """The crawled services' coverage, as the resource states the coverage element is built from."""
    return [
        ResourceState(s.ivoid, cache.created, cache.updated, False, s.moc, s.t_min, s.t_max, s.em_min, s.em_max)
        for s in cache.sources
    ]
