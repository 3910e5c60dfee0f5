"""SIA 2.0's query parameters (sec. 2.1), each declared once: its name, how it constrains ObsCore
(which column(s), in which way), and how the self-description presents it (datatype, unit, text).

The WHERE-clause builder (sia/query.py), the self-description (sia/describe.py) and the examples
(sia/examples.py) all read this table, so a new parameter is one record here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Constraint(Enum):
    """How a parameter's value constrains an ObsCore row."""

    SHAPE = "shape"  # a DALI shape (CIRCLE, RANGE, POLYGON) that must overlap the footprint column
    OVERLAPS = "overlaps"  # an interval that must overlap [columns[0], columns[1]]
    CONTAINS = "contains"  # an interval that must contain the column's value
    EQUALS = "equals"  # a string equal to the column's value (case-sensitive)
    EQUALS_NOCASE = "equals-nocase"  # a string equal to the column's value, ignoring case (IVOIDs)
    EQUALS_OR_SPELLING = "equals-or-spelling"  # the column's value, or a spelling of it the ingest recorded
    VOCABULARY = "vocabulary"  # one of a fixed list of values, equal to the column's value
    CONTAINS_WORD = "contains-word"  # one of a fixed list, among the column's /-separated words
    INTEGER_VOCABULARY = "integer-vocabulary"  # one of a fixed list of integers
    DATE_RANGE = "date-range"  # an ISO 8601 date or two, compared with a timestamp column


# ObsCore 1.1 sec. 4.8 and 4.1: the only values these columns may hold.
POL_STATES = ("I", "Q", "U", "V", "RR", "LL", "RL", "LR", "XX", "YY", "XY", "YX", "POLI", "POLA")
PRODUCT_TYPES = ("image", "cube", "spectrum", "sed", "timeseries", "visibility", "event", "measurements")
CALIB_LEVELS = ("0", "1", "2", "3", "4")
# SIA finds images and cubes only (SIA 2.0 sec. 2.1.12), whatever else ObsCore holds.
SIA_PRODUCT_TYPES = ("image", "cube")


@dataclass(frozen=True)
class SIAParameter:
    name: str
    constraint: Constraint
    columns: tuple[str, ...]
    description: str
    datatype: str = "char"  # how the self-description declares it (DALI/VOTable)
    arraysize: str | None = "*"
    xtype: str | None = None
    unit: str | None = None
    vocabulary: tuple[str, ...] = ()  # the values allowed, for the vocabulary constraints
    vocabulary_name: str = ""  # what the values are, for error messages
    options_from_archive: bool = False  # the self-description lists the values present in ObsCore

    @property
    def column(self) -> str:
        return self.columns[0]


def _interval(name: str, constraint: Constraint, columns: tuple[str, ...], unit: str | None, text: str) -> SIAParameter:
    return SIAParameter(name, constraint, columns, text, "double", "2", "interval", unit)


PARAMETERS: tuple[SIAParameter, ...] = (
    SIAParameter(
        "POS",
        Constraint.SHAPE,
        ("s_region",),
        "CIRCLE ra dec r, RANGE ra1 ra2 dec1 dec2 or POLYGON ra1 dec1 ra2 dec2 ... (ICRS degrees)",
    ),
    _interval(
        "BAND",
        Constraint.OVERLAPS,
        ("em_min", "em_max"),
        "m",
        "Wavelength interval (low high, -Inf/+Inf for open ends) that must overlap the data's",
    ),
    _interval("TIME", Constraint.OVERLAPS, ("t_min", "t_max"), "d", "MJD interval that must overlap the observation's"),
    SIAParameter(
        "POL",
        Constraint.CONTAINS_WORD,
        ("pol_states",),
        "Polarization state (ObsCore), e.g. I",
        vocabulary=POL_STATES,
        vocabulary_name="ObsCore polarization state",
    ),
    _interval("FOV", Constraint.CONTAINS, ("s_fov",), "deg", "Interval that must contain the field of view"),
    _interval(
        "SPATRES", Constraint.CONTAINS, ("s_resolution",), "arcsec", "Interval that must contain the spatial resolution"
    ),
    _interval("EXPTIME", Constraint.CONTAINS, ("t_exptime",), "s", "Interval that must contain the exposure time"),
    _interval("TIMERES", Constraint.CONTAINS, ("t_resolution",), "s", "Interval that must contain the time resolution"),
    _interval(
        "SPECRP",
        Constraint.CONTAINS,
        ("em_res_power",),
        None,
        "Interval that must contain the spectral resolving power",
    ),
    SIAParameter(
        "ID",
        Constraint.EQUALS_NOCASE,
        ("obs_publisher_did",),
        "Publisher dataset identifier (compared case-insensitively)",
    ),
    SIAParameter(
        "COLLECTION", Constraint.EQUALS, ("obs_collection",), "Data collection, exact match", options_from_archive=True
    ),
    SIAParameter(
        "FACILITY",
        Constraint.EQUALS_OR_SPELLING,
        ("facility_name",),
        "Facility (telescope), exact match, or a spelling of it the instrument profiles list (e.g. SUBARU)",
        options_from_archive=True,
    ),
    SIAParameter(
        "INSTRUMENT",
        Constraint.EQUALS_OR_SPELLING,
        ("instrument_name",),
        "Instrument, exact match, or a spelling of it the headers or instrument profiles use (e.g. SuprimeCam)",
        options_from_archive=True,
    ),
    SIAParameter(
        "DPTYPE",
        Constraint.VOCABULARY,
        ("dataproduct_type",),
        "Data product type: image or cube",
        vocabulary=PRODUCT_TYPES,
        vocabulary_name="ObsCore data product type",
        options_from_archive=True,
    ),
    SIAParameter(
        "CALIB",
        Constraint.INTEGER_VOCABULARY,
        ("calib_level",),
        "Calibration level (0 to 4)",
        datatype="int",
        arraysize=None,
        vocabulary=CALIB_LEVELS,
        vocabulary_name="ObsCore calibration level",
        options_from_archive=True,
    ),
    SIAParameter("TARGET", Constraint.EQUALS, ("target_name",), "Target name, exact match"),
    SIAParameter(
        "FORMAT", Constraint.EQUALS, ("access_format",), "Format (MIME type), exact match", options_from_archive=True
    ),
    SIAParameter(
        "RELEASEDATE",
        Constraint.DATE_RANGE,
        ("obs_release_date",),
        "Release date interval (ISO 8601)",
    ),
)
BY_NAME = {p.name: p for p in PARAMETERS}
