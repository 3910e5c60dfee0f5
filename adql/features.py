"""What this ADQL implementation supports, as TAPRegExt language features (for the capabilities)."""

from __future__ import annotations

from adql.udf import UDF_FEATURE_TYPE, USER_FUNCTIONS

_TAPREGEXT = "ivo://ivoa.net/std/TAPRegExt#"
GEOMETRY_FUNCTIONS = (
    "POINT", "CIRCLE", "BOX", "POLYGON", "REGION", "CENTROID", "AREA",
    "CONTAINS", "INTERSECTS", "DISTANCE", "COORD1", "COORD2", "COORDSYS",
)  # fmt: skip

# type -> [(form, description or None)]
LANGUAGE_FEATURES: dict[str, list[tuple[str, str | None]]] = {
    _TAPREGEXT + "features-adqlgeo": [(f, None) for f in GEOMETRY_FUNCTIONS],
    _TAPREGEXT + "features-adql-string": [("LOWER", None), ("UPPER", None), ("ILIKE", None)],
    _TAPREGEXT + "features-adql-common-table": [("WITH", None)],
    _TAPREGEXT + "features-adql-sets": [("UNION", None), ("EXCEPT", None), ("INTERSECT", None)],
    _TAPREGEXT + "features-adql-type": [("CAST", None)],
    _TAPREGEXT + "features-adql-conditional": [("COALESCE", None)],
    _TAPREGEXT + "features-adql-unit": [("IN_UNIT", None)],
    _TAPREGEXT + "features-adql-offset": [("OFFSET", None)],
    UDF_FEATURE_TYPE: [(f.form, f.description) for f in USER_FUNCTIONS.values()],
}
