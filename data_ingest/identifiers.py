"""How the archive's things are named in IVOIDs and URLs: one rule for the ingest (publisher
DIDs), the registry (record IVOIDs) and the coverage maps (/moc/collection/<key>)."""

from __future__ import annotations


def collection_key(collection: str) -> str:
    """The collection's name as it appears in IVOIDs and URLs: its registry record is
    ``ivo://AUTHORITY/<key>`` and its datasets' publisher DIDs ``ivo://AUTHORITY/<key>?obs_id``."""
    return collection.lower().replace("/", "-").replace(" ", "-")
