"""Describe a FITS image as an ObsCore row: footprint from the WCS, time and exposure from the
header, spectral coverage from the instrument profile.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

from archive_io.identifiers import collection_key
from archive_io.image_hdu import NoImageHDU, image_hdu
from archive_io.product_urls import stored_url
from data_ingest.instruments import FILTER_KEYWORDS, InstrumentProfiles, shipped_profiles
from data_ingest.observation_time import observation_time
from data_ingest.provenance import WCS_KEYWORDS, HeaderReads
from data_ingest.release_policy import ReleaseOverride, ReleasePolicy, release_columns
from pgsql_text.pgsphere import spoly_text


class IngestError(Exception):
    """A file that cannot be described; the message names the file and the reason."""


@dataclass(frozen=True)
class ArchiveContext:
    """Where products live and how the world addresses them."""

    archive_root: Path  # every product is below this directory
    authority: str  # IVOA authority for publisher DIDs, e.g. dalserver.demo

    def access_url(self, path: Path) -> str:
        """``data/<path>``: relative to the public URL of whichever server answers, so that rows
        follow DALSERVER_BASE_URL without re-ingesting (archive_io.product_urls)."""
        relative = path.resolve().relative_to(self.archive_root.resolve())
        return stored_url(relative.as_posix())


def _angular_separation(ra1: float, dec1: float, ra2: np.ndarray, dec2: np.ndarray) -> np.ndarray:
    """Great-circle distance in degrees (Vincenty form, stable for small and large angles)."""
    r1, d1, r2, d2 = np.radians(ra1), np.radians(dec1), np.radians(ra2), np.radians(dec2)
    dra = r2 - r1
    num = np.hypot(np.cos(d2) * np.sin(dra), np.cos(d1) * np.sin(d2) - np.sin(d1) * np.cos(d2) * np.cos(dra))
    den = np.sin(d1) * np.sin(d2) + np.cos(d1) * np.cos(d2) * np.cos(dra)
    degrees: np.ndarray = np.degrees(np.arctan2(num, den))
    return degrees


def obscore_row_from_fits(
    path: Path, context: ArchiveContext, profiles: InstrumentProfiles | None = None
) -> dict[str, Any]:
    """The ObsCore row for one FITS image; ``IngestError`` if it cannot be described."""
    return describe_fits(path, context, profiles)[0]


def describe_fits(
    path: Path,
    context: ArchiveContext,
    profiles: InstrumentProfiles | None = None,
    release: ReleaseOverride | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ObsCore row for one FITS image and the header values it was derived from, its
    instrument described by ``profiles`` (default: the shipped ones), its release date and
    proposal by the profile's policy unless ``release`` overrides them."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            with fits.open(path, memmap=False, lazy_load_hdus=True) as hdul:
                hdu = image_hdu(hdul, path)
                header = hdu.header.copy()
                wcs = WCS(header, naxis=2)
    except NoImageHDU as exc:
        raise IngestError(str(exc)) from None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise IngestError(f"{path}: not a readable FITS file ({exc})") from exc
    if not wcs.has_celestial or not wcs.wcs.ctype[0]:
        raise IngestError(f"{path}: no celestial WCS in the header (CTYPE1/CTYPE2 missing)")
    cards = HeaderReads(header)  # what the row is derived from, for its provenance
    for key in WCS_KEYWORDS:
        cards.get(key)
    n1, n2 = int(cards["NAXIS1"]), int(cards["NAXIS2"])
    corners = wcs.calc_footprint(undistort=False, center=False)
    centre = wcs.pixel_to_world_values((n1 - 1) / 2, (n2 - 1) / 2)
    s_ra, s_dec = float(centre[0]) % 360.0, float(centre[1])
    if not all(math.isfinite(v) for v in (s_ra, s_dec, *corners.ravel())):
        raise IngestError(f"{path}: the WCS does not give finite sky coordinates")
    radius = float(np.max(_angular_separation(s_ra, s_dec, corners[:, 0], corners[:, 1])))

    profile = (profiles or shipped_profiles()).profile_for(cards.get("INSTRUME"))
    # The profile's keywords first, then the usual ones: a header that names its filter elsewhere keeps it.
    band_name = _filter_name(cards, (*profile.filter_keywords, *FILTER_KEYWORDS) if profile else FILTER_KEYWORDS)
    band = profile.filter(band_name) if profile else None
    if profile and band_name and band is None:
        where = f" ({profile.source})" if profile.source else ""
        raise IngestError(f"{path}: filter {band_name!r} is not in the {profile.instrument_name} profile{where}")

    exptime = _float(cards.get("EXPTIME"))
    t_min, t_max = observation_time(cards, exptime)
    obs_id = str(cards.get("FRAMEID") or cards.get("DATA-ID") or path.stem)
    collection = profile.collection if profile else str(cards.get("INSTRUME") or "images")
    size = path.stat().st_size

    row = {
        "dataproduct_type": "image",
        "calib_level": 3 if cards.get("NCOMBINE", 2) != 1 else 2,
        "obs_collection": collection,
        "obs_id": obs_id,
        "obs_publisher_did": f"ivo://{context.authority}/{collection_key(collection)}?{obs_id}",
        "access_url": context.access_url(path),
        "access_format": "image/fits",
        "access_estsize": max(1, math.ceil(size / 1024)),
        "target_name": cards.get("OBJECT"),
        "s_ra": s_ra,
        "s_dec": s_dec,
        "s_fov": 2 * radius,
        "s_region": spoly_text(corners),
        "s_resolution": _float(cards.get("SEEING")),
        "s_xel1": n1,
        "s_xel2": n2,
        "t_min": t_min,
        "t_max": t_max,
        "t_exptime": exptime,
        "t_resolution": None,
        "t_xel": 1,
        "em_min": band.em_min if band else None,
        "em_max": band.em_max if band else None,
        "em_res_power": band.resolving_power if band else None,
        "em_xel": 1,
        "o_ucd": "phot.count",
        "pol_states": None,
        "pol_xel": None,
        "facility_name": profile.facility_name if profile else cards.get("TELESCOP"),
        "instrument_name": profile.instrument_name if profile else cards.get("INSTRUME"),
        "em_band_name": band.name if band else band_name,
    }
    policy = profile.release if profile else ReleasePolicy()
    row.update(release_columns(policy, release or ReleaseOverride(), t_min, cards, datetime.now(UTC)))
    return row, cards.read


def _filter_name(cards: HeaderReads, keywords: tuple[str, ...]) -> str | None:
    """The filter's name: from the first of ``keywords`` the header sets."""
    for key in dict.fromkeys(keywords):
        value = cards.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None
