"""The requests the crawler sends, as text: ADQL for ObsCore TAP services (census, counts, fetches
by circle, pages by publisher DID) and the parameters of SIA 2.0 and SIA 1.0 queries.

Plain ADQL 2.0 where it can be (``'ICRS'`` in POINT and CIRCLE, ``1=CONTAINS``), so that older
services answer too; ``ivo_healpix_index`` only where the capabilities declare it.
"""

from __future__ import annotations

from collections.abc import Sequence

from vo_crawl.healpix import Cell, bounding_circle


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _circle(cell: Cell) -> str:
    ra, dec, radius = bounding_circle(cell)
    return f"CIRCLE('ICRS', {ra!r}, {dec!r}, {radius!r})"


def _in_cell(cell: Cell) -> str:
    if not cell.has_position:
        return "(s_ra IS NULL OR s_dec IS NULL)"
    return f"1=CONTAINS(POINT('ICRS', s_ra, s_dec), {_circle(cell)})"


def columns_query(table: str) -> str:
    """The ObsCore table's columns on the service (TAP_SCHEMA is every TAP service's)."""
    return f"SELECT column_name FROM TAP_SCHEMA.columns WHERE LOWER(table_name) = {_string(table.lower())}"


def healpix_census(table: str, order: int) -> str:
    """Rows per cell of ``order`` in one query; the NULL cell is the rows without a position."""
    index = f"ivo_healpix_index({order}, s_ra, s_dec)"
    return f"SELECT {index} AS cell, COUNT(*) AS n FROM {table} GROUP BY {index}"


def count_query(table: str, cell: Cell) -> str:
    """Rows in a circle around ``cell`` (or without a position): a census where there is no
    ivo_healpix_index. It counts neighbours' rows too; it is compared only with itself."""
    return f"SELECT COUNT(*) AS n FROM {table} WHERE {_in_cell(cell)}"


def fetch_query(table: str, columns: Sequence[str], cell: Cell) -> str:
    return f"SELECT {', '.join(columns)} FROM {table} WHERE {_in_cell(cell)}"


def page_query(table: str, columns: Sequence[str], cell: Cell, after: str | None) -> str:
    """One page of a cell too full to split further, in publisher-DID order after ``after``."""
    where = _in_cell(cell)
    if after is not None:
        where += f" AND obs_publisher_did > {_string(after)}"
    return f"SELECT {', '.join(columns)} FROM {table} WHERE {where} ORDER BY obs_publisher_did"


def sia2_params(cell: Cell, maxrec: int) -> dict[str, str]:
    ra, dec, radius = bounding_circle(cell)
    return {"POS": f"CIRCLE {ra!r} {dec!r} {radius!r}", "MAXREC": str(maxrec)}


def sia1_params(cell: Cell, maxrec: int) -> dict[str, str]:
    # SIA 1.0's region is a box of SIZE degrees around POS: the box around the circle.
    ra, dec, radius = bounding_circle(cell)
    return {"POS": f"{ra!r},{dec!r}", "SIZE": repr(2 * radius), "FORMAT": "ALL", "MAXREC": str(maxrec)}
