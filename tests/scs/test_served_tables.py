"""The tables cone search serves are described once per archive state (dalserver.scs.routes):
the same state object answers from memory, any other state (the records cache's next read) is
described afresh. No database: states are made by hand."""

from __future__ import annotations

from dalserver.records.state import ArchiveState
from dalserver.scs.routes import _LastTables, cone_tables


def test_the_same_state_is_described_once_and_a_state_read_again_afresh() -> None:
    served = _LastTables()
    first = ArchiveState(resources={}, collections={})
    tables = served.of(first)
    assert served.of(first) is tables
    again = ArchiveState(resources={}, collections={})  # equal, but a new read: never trusted as the old
    assert served.of(again) is not tables
    assert served.of(again) == cone_tables(again)
