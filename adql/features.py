"""What this ADQL implementation supports, as TAPRegExt language features (for the capabilities)."""

from __future__ import annotations

from adql.udf import UDF_FEATURE_TYPE, USER_FUNCTIONS
from ivoa.vocabulary import StandardID

GEOMETRY_FUNCTIONS = (
    "POINT", "CIRCLE", "BOX", "POLYGON", "REGION", "CENTROID", "AREA",
    "CONTAINS", "INTERSECTS", "DISTANCE", "COORD1", "COORD2", "COORDSYS",
)  # fmt: skip

# type -> [(form, description or None)]
LANGUAGE_FEATURES: dict[str, list[tuple[str, str | None]]] = {
    StandardID.TAPREGEXT + "features-adqlgeo": [(f, None) for f in GEOMETRY_FUNCTIONS],
    StandardID.TAPREGEXT + "features-adql-string": [("LOWER", None), ("UPPER", None), ("ILIKE", None)],
    StandardID.TAPREGEXT + "features-adql-common-table": [("WITH", None)],
    StandardID.TAPREGEXT + "features-adql-sets": [("UNION", None), ("EXCEPT", None), ("INTERSECT", None)],
    StandardID.TAPREGEXT + "features-adql-type": [("CAST", None)],
    StandardID.TAPREGEXT + "features-adql-conditional": [("COALESCE", None)],
    StandardID.TAPREGEXT + "features-adql-unit": [("IN_UNIT", None)],
    StandardID.TAPREGEXT + "features-adql-offset": [("OFFSET", None)],
    UDF_FEATURE_TYPE: [(f.form, f.description) for f in USER_FUNCTIONS.values()],
    # DaCHS's extension, which pyvo.registry.Spatial looks for before it writes MOC(...).
    "ivo://org.gavo.dc/std/exts#extra-adql-keywords": [
        (
            "MOC",
            "MOC(order, geometry) is the coverage map of a point, circle or polygon at a HEALPix order; "
            "MOC('ASCII MOC') reads one. CONTAINS and INTERSECTS compare MOCs with each other and with "
            "points, circles and polygons (rr.stc_spatial.coverage).",
        )
    ],
}
