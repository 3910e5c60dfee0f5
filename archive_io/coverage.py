"""Sky coverage as MOCs (IVOA MOC 2.0) made from footprints: the union of the polygons the ingest
stored in ``s_region``, never discs around them. The registry's records, the /moc resources,
RegTAP's coverage and the HiPS surveys' Moc.fits all come from this one function.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from mocpy import MOC

# HEALPix order 10 cells are 3.4 arcmin across: finer than a Suprime-Cam stack (34 x 27 arcmin),
# coarse enough that an archive's MOC stays a few kilobytes. Registries take order <= 10 well.
DEFAULT_ORDER = 10

Footprint = Sequence[tuple[float, float]]  # vertices (ra, dec) in degrees, ICRS


def footprints_moc(footprints: Iterable[Footprint], max_order: int = DEFAULT_ORDER) -> MOC:
    """The union of the footprints at HEALPix ``max_order`` (a cell counts when it overlaps one)."""
    from mocpy import MOC

    vertices = [np.asarray(f, dtype=float) for f in footprints if len(f) >= 3]
    if not vertices:
        return MOC.new_empty(max_order)
    flat = []
    for v in vertices:
        flat.extend((v[:, 0] % 360.0, v[:, 1]))
    mocs = MOC.from_polygons(flat, max_depth=max_order, n_threads=1)
    union = mocs[0]
    if len(mocs) > 1:
        union = union.union(*mocs[1:])
    return union
