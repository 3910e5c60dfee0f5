"""Sky coverage as MOCs (IVOA MOC 2.0) made from footprints: the union of the polygons the ingest
stored in ``s_region``, never discs around them. The registry's records, the /moc resources,
RegTAP's coverage and the HiPS surveys' Moc.fits all come from this one function.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from mocpy import MOC

# HEALPix order 10 cells are 3.4 arcmin across: finer than a Suprime-Cam stack (34 x 27 arcmin),
# coarse enough that an archive's MOC stays a few kilobytes. Registries take order <= 10 well.
DEFAULT_ORDER = 10
# Registry records carry coverage at about a degree (VODataService 1.2 suggests order 6, and
# pyvo's Spatial compares at order 6): kilobytes even for an all-sky catalogue.
REGISTRY_ORDER = 6

Footprint = Sequence[tuple[float, float]]  # vertices (ra, dec) in degrees, ICRS


def _moc_class() -> type[MOC]:
    """mocpy's MOC, imported on first use: 29 MB a server worker only pays when it makes a MOC."""
    from mocpy import MOC

    moc_class: type[MOC] = MOC  # mocpy has no types: MOC is Any to the checker
    return moc_class


def import_in_background() -> None:
    """Start importing mocpy (about a second, much of it astropy) in a thread, for a command that
    will make a MOC once its long database work is done: the import then overlaps that work."""
    threading.Thread(target=_moc_class, name="import-mocpy", daemon=True).start()


def footprints_moc(footprints: Iterable[Footprint], max_order: int = DEFAULT_ORDER) -> MOC:
    """The union of the footprints at HEALPix ``max_order`` (a cell counts when it overlaps one)."""
    MOC = _moc_class()  # noqa: N806
    vertices = [np.asarray(f, dtype=float) for f in footprints if len(f) >= 3]
    if not vertices:
        return MOC.new_empty(max_order)
    flat: list[np.ndarray] = []
    for v in vertices:
        flat.extend((v[:, 0] % 360.0, v[:, 1]))
    mocs = MOC.from_polygons(flat, max_depth=max_order, n_threads=1)
    union = mocs[0]
    if len(mocs) > 1:
        union = union.union(*mocs[1:])
    return union


def cells_moc(cells: Iterable[int], order: int = DEFAULT_ORDER) -> MOC:
    """The MOC of nested HEALPix cells at ``order``: a catalogue's coverage is the cells that hold
    its sources (the database counts them, ``healpix_nest(order, position)``)."""
    MOC = _moc_class()  # noqa: N806
    ipix = np.fromiter((int(c) for c in cells), dtype=np.uint64)
    if not ipix.size:
        return MOC.new_empty(order)
    return MOC.from_healpix_cells(ipix, np.full(ipix.size, order, dtype=np.uint8), order)


def moc_to_ascii(moc: MOC) -> str:
    """The MOC 2.0 ASCII serialisation (``10/4525557-4525559``); an empty MOC is ``<order>/``."""
    return str(moc.to_string(format="ascii")).strip()


def moc_from_ascii(text: str) -> MOC:
    return _moc_class().from_string(text, format="ascii")


def degraded(text: str, order: int) -> str:
    """An ASCII MOC at no finer than ``order`` (each coarser cell that any finer one touches):
    registry records carry about a degree's resolution (VODataService 1.2 suggests order 6)."""
    moc = moc_from_ascii(text)
    if moc.max_order <= order:
        return moc_to_ascii(moc)
    return moc_to_ascii(moc.degrade_to_order(order))
