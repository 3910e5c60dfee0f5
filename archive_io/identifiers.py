"""How the archive's things are named in IVOIDs and URLs: one rule for the ingest (publisher
DIDs), the registry (record IVOIDs) and the coverage maps (/moc/collection/<key>)."""

from __future__ import annotations


def collection_key(collection: str) -> str:
    """The collection's name as it appears in IVOIDs and URLs, the resource key of its IVOID (IVOA
    Identifiers 2.0): its registry record is ``ivo://AUTHORITY/<key>``, its datasets' publisher
    DIDs ``ivo://AUTHORITY/<key>?obs_id``, its coverage ``/moc/collection/<key>``. (The row of its
    registry state is named otherwise: ``archive_io.registry_state.collection_state_key``.)"""
    return collection.lower().replace("/", "-").replace(" ", "-")
