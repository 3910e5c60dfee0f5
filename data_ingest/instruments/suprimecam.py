"""Subaru Prime Focus Camera (Suprime-Cam): filter names as written in FILTER01, and their
passbands as approximate half-maximum ranges (from the published filter curves, in metres).
"""

from __future__ import annotations

from data_ingest.instruments.base import Filter, InstrumentProfile

_NM = 1e-9
_FILTERS = [
    # broad bands: Johnson-Cousins and SDSS-like
    Filter("W-J-B", 395.5 * _NM, 496.5 * _NM),
    Filter("W-J-V", 499.5 * _NM, 596.5 * _NM),
    Filter("W-C-RC", 595.5 * _NM, 708.5 * _NM),
    Filter("W-C-IC", 726.5 * _NM, 867.5 * _NM),
    Filter("W-S-G+", 403.5 * _NM, 538.5 * _NM),
    Filter("W-S-R+", 560.0 * _NM, 698.0 * _NM),
    Filter("W-S-I+", 699.5 * _NM, 836.5 * _NM),
    Filter("W-S-Z+", 850.0 * _NM, 1005.0 * _NM),
    # narrow and intermediate bands
    Filter("N-B-L497", 493.9 * _NM, 501.6 * _NM),
    Filter("N-A-L503", 499.2 * _NM, 506.6 * _NM),
    Filter("I-A-L598", 585.9 * _NM, 615.6 * _NM),
    Filter("N-B-1010", 1004.9 * _NM, 1014.1 * _NM),
]

SUPRIMECAM = InstrumentProfile(
    instrume="Suprime-Cam",
    instrument_name="Suprime-Cam",
    facility_name="Subaru",
    collection="Subaru/Suprime-Cam",
    filter_keyword="FILTER01",
    filters={f.name: f for f in _FILTERS},
)
