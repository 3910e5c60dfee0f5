"""How a large batch is cut for encoding on every core (dalserver/formats/parallel.py): a 1 MiB
batch of a narrow table is split too, and the parts cover the rows in order."""

from __future__ import annotations

import asyncio

import pyarrow as pa
import pytest

from dalserver.formats import parallel
from dalserver.formats.parallel import encoded_parts, part_bounds


def _rows_text(arrays: list[pa.Array]) -> bytes:
    return "".join(f"{v}\n" for v in arrays[0].to_pylist()).encode()


def _parts(rows: int) -> list[bytes]:
    return asyncio.run(encoded_parts(_rows_text, [pa.array(range(rows), pa.int64())]))


def test_a_one_mebibyte_batch_of_seven_numbers_a_row_is_encoded_on_both_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "PARTS", 2)
    parts = _parts(14_563)  # what ADBC reads in 1 MiB of (bigint, 3 double, 2 real, smallint) rows
    assert len(parts) == 2
    assert b"".join(parts) == _rows_text([pa.array(range(14_563), pa.int64())])


def test_a_batch_below_the_threshold_is_encoded_in_one_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "PARTS", 2)
    assert len(_parts(parallel.PART_ROWS - 1)) == 1


@pytest.mark.parametrize("rows,parts", [(8192, 2), (14_563, 3), (100_003, 4), (5, 1)])
def test_part_bounds_cover_every_row_once_in_order(rows: int, parts: int) -> None:
    bounds = part_bounds(rows, parts)
    assert len(bounds) == parts
    assert [offset for offset, _ in bounds] == [sum(length for _, length in bounds[:k]) for k in range(parts)]
    assert sum(length for _, length in bounds) == rows
