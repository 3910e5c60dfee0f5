"""Where a survey opens (``hips_initial_ra``, ``hips_initial_dec``, ``hips_initial_fov``: Aladin
and the survey's ``index.html`` start there): on all of its data when they lie together, else on
its largest field.

Images are grouped into fields: two footprints belong to the same field when the gap between them
is less than the larger one's radius (the pointings of a mosaic, dithers, neighbouring tiles). A
view of fields far apart (SXDS at RA 34.5 and COSMOS at RA 150) centred between them would open on
empty sky at a scale where the data are specks, so then the largest field (the most sky covered)
is shown; the others are a zoom-out away, and in the MOC.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from mocpy import MOC
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from hips_build.geometry import Footprint, cell_size_deg
from hips_build.images import unit_vectors

# All the data are shown when their view is at most this many times wider than the largest
# field's: the field then still spans a third of the view.
COMPACT = 3.0
# The view is a little wider than the data (Aladin's fov is the width of the view).
MARGIN = 1.1
MIN_FOV = 0.01
WHOLE_SKY = (0.0, 0.0, 180.0)


def _vectors(footprint: Footprint) -> np.ndarray:
    vertices = np.asarray(footprint, dtype=float)
    return unit_vectors(vertices[:, 0], vertices[:, 1])


def _disc(vectors: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The centre (unit vector) and angular radius (radians) of points; None when they surround
    the sky's centre (their mean is nought): the whole sky."""
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    if norm < 1e-9:
        return None
    centre = mean / norm
    return centre, float(np.max(np.arccos(np.clip(vectors @ centre, -1.0, 1.0))))


def view_of(footprints: Sequence[Footprint]) -> tuple[float, float, float]:
    """(ra, dec, fov) in degrees: the centre of the footprints' vertices and a field showing them all."""
    disc = _disc(np.concatenate([_vectors(f) for f in footprints]))
    if disc is None:
        return WHOLE_SKY
    centre, radius = disc
    ra = math.degrees(math.atan2(centre[1], centre[0])) % 360.0
    dec = math.degrees(math.asin(max(-1.0, min(1.0, float(centre[2])))))
    return ra, dec, min(180.0, max(2 * MARGIN * math.degrees(radius), MIN_FOV))


def _discs(footprints: Sequence[Footprint]) -> tuple[np.ndarray, np.ndarray]:
    """Each footprint's centre (unit vectors) and radius (radians); a footprint around the whole
    sky gets a radius of pi."""
    discs = [_disc(_vectors(f)) or (np.array([1.0, 0.0, 0.0]), math.pi) for f in footprints]
    return np.array([c for c, _ in discs]), np.array([r for _, r in discs])


def sky_fields(footprints: Sequence[Footprint]) -> list[list[int]]:
    """The footprints (by index) grouped into fields, each in input order, fields in the order of
    their first footprint."""
    return _fields(*_discs(footprints))


def _fields(centres: np.ndarray, radii: np.ndarray) -> list[list[int]]:
    count = len(radii)
    if count <= 1:
        return [list(range(count))]
    # Candidates from a tree (no n-squared loop over an archive's images): any pair close enough
    # for the largest footprints, then each pair against its own rule.
    reach = min(math.pi, 3 * float(radii.max()))
    pairs = cKDTree(centres).query_pairs(2 * math.sin(reach / 2) + 1e-12, output_type="ndarray")
    if len(pairs):
        i, j = pairs[:, 0], pairs[:, 1]
        angles = np.arccos(np.clip(np.einsum("ij,ij->i", centres[i], centres[j]), -1.0, 1.0))
        linked = angles <= radii[i] + radii[j] + np.maximum(radii[i], radii[j])
        i, j = i[linked], j[linked]
    else:
        i = j = np.zeros(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(count, count))
    _, labels = connected_components(graph, directed=False)
    fields: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        fields.setdefault(int(label), []).append(index)
    return sorted(fields.values(), key=lambda members: members[0])


def _area_order(radii: np.ndarray) -> int:
    """A HEALPix order fine enough to compare fields' areas: cells a quarter of the smallest
    footprint's radius, between orders 3 and 16."""
    smallest = math.degrees(float(radii.min()))
    order = 3
    while order < 16 and cell_size_deg(order) > smallest / 4:
        order += 1
    return order


def largest_field(footprints: Sequence[Footprint], fields: Sequence[Sequence[int]], radii: np.ndarray) -> int:
    """The index in ``fields`` of the one covering most sky (the area of its footprints' MOC),
    then with most images, then listed first (``radii``: the footprints', in radians)."""
    order = _area_order(radii)
    vertices = [np.asarray(f, dtype=float) for f in footprints]
    flat = [axis for v in vertices for axis in (v[:, 0] % 360.0, v[:, 1])]
    mocs = MOC.from_polygons(flat, max_depth=order, n_threads=1)
    # A field's area is at most the sum of its footprints' (overlaps counted twice): the union,
    # which costs more, is made only for fields that could still be the largest.
    bounds = [sum(mocs[i].sky_fraction for i in f) for f in fields]
    best, best_key = 0, (-1.0, 0, 0)
    for k in sorted(range(len(fields)), key=lambda k: -bounds[k]):
        if bounds[k] < best_key[0]:
            break
        members = [mocs[i] for i in fields[k]]
        area = members[0].union(*members[1:]).sky_fraction if len(members) > 1 else members[0].sky_fraction
        key = (area, len(fields[k]), -k)
        if key > best_key:
            best, best_key = k, key
    return best


def initial_view(footprints: Sequence[Footprint]) -> tuple[float, float, float]:
    """(ra, dec, fov) in degrees where the survey of ``footprints`` opens."""
    whole = view_of(footprints)
    centres, radii = _discs(footprints)
    fields = _fields(centres, radii)
    if len(fields) <= 1:
        return whole
    largest = view_of([footprints[i] for i in fields[largest_field(footprints, fields, radii)]])
    return whole if whole[2] <= COMPACT * largest[2] else largest
