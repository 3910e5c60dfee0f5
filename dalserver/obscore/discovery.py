"""What a discovery response (SIA, or a TAP query over ObsCore) carries so that clients can go from
a row to its DataLink links and SODA cutouts: an XML ID on the publisher-DID FIELD and two
service descriptors that take their ID from it (DataLink 1.1 sec. 4.5, SIA 2.0 sec. 3.1.1).
"""

from __future__ import annotations

from functools import lru_cache

from adql.catalog import ColumnMeta
from dalserver.dali.descriptors import InputParam, datalink_descriptor, resource_xml, soda_descriptor, soda_inputs
from dalserver.formats.votable import VOTableExtras

ID_FIELD = "obs_publisher_did"  # XML ID given to the FIELD the descriptors read
PUBLISHER_DID_UTYPE = "obscore:curation.publisherdid"


@lru_cache(maxsize=32)
def discovery_extras(
    base_url: str, id_column: str, descriptors: tuple[str, ...] = (), infos: tuple[tuple[str, str], ...] = ()
) -> VOTableExtras:
    # Cached: the same few (URL, column) pairs come back with every TAP and SIA answer.
    links = resource_xml(datalink_descriptor(base_url, ID_FIELD))
    id_param = InputParam("ID", ref=ID_FIELD, ucd="meta.id;meta.main")
    cutout = resource_xml(soda_descriptor(base_url, soda_inputs(id_param), "soda"))
    return VOTableExtras({id_column: ID_FIELD}, infos, "".join([*descriptors, links, cutout]))


def result_extras(columns: list[ColumnMeta], base_url: str) -> VOTableExtras | None:
    """Descriptors for a query result that has an ObsCore publisher DID column, else None."""
    for column in columns:
        if (column.utype or "").lower() == PUBLISHER_DID_UTYPE:
            return discovery_extras(base_url, column.name)
    return None
