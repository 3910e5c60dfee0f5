"""What a federated answer says of where its rows came from: one INFO for the cache and one per
live service asked (ok, timeout or error, with its counts), written after the table, once the
rows have been counted by origin as they left the database."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from dalserver.federated.live import OK, TIMEOUT, LiveOutcome

CACHE_INFO = "cache"


@dataclass
class SearchReport:
    maxrec: int
    timeout: float = 0.0
    live_asked: bool = False
    outcomes: list[LiveOutcome] = field(default_factory=list)
    cached: int = 0  # cache rows in the answer
    live: Counter[str] = field(default_factory=Counter)  # live rows in the answer, by source IVOID
    refused_regions: Counter[str] = field(default_factory=Counter)  # live rows left out, by source IVOID
    _room: int | None = None

    def watch(self, batch: pa.RecordBatch) -> None:
        """Counts the rows of one batch that the answer keeps (MAXREC cuts the rest). Live rows
        are those without crawled_at."""
        room = self.maxrec if self._room is None else self._room
        batch = batch.slice(0, max(0, room))
        self._room = room - batch.num_rows
        if not batch.num_rows:
            return
        fresh = pc.is_null(batch.column("crawled_at"))
        n_fresh = int(pc.sum(pc.cast(fresh, pa.int64())).as_py() or 0)
        self.cached += batch.num_rows - n_fresh
        if n_fresh:
            self.live.update(pc.filter(batch.column("source_ivoid"), fresh).to_pylist())

    def infos(self) -> list[tuple[str, str, str]]:
        """(name, value, text) of the closing INFOs."""
        text = f"{self.cached} rows from the cache of other archives' data (vo.remote_obscore, as the crawler last fetched them)"
        if self.live_asked:
            text += (
                f"; {len(self.outcomes)} services asked live, whose rows missing from the cache follow "
                "(their crawled_at is empty)"
            )
        infos = [(CACHE_INFO, OK, text)]
        infos += [(o.service.ivoid, o.status, self._live_text(o)) for o in self.outcomes]
        return infos

    def _live_text(self, o: LiveOutcome) -> str:
        url = o.service.access_url
        if o.status == TIMEOUT:
            return f"{url}: no answer within {self.timeout:g} s"
        if o.status != OK:
            return o.message
        text = (
            f"{url}: {o.answered} rows in {o.seconds:.2f} s, {self.live[o.service.ivoid]} of them in this answer "
            "(the others are in the cache, repeated, or outside the request)"
        )
        if o.overflow:
            text += "; its answer was cut by its row limit (it holds more)"
        left_out = Counter(o.skipped)
        if self.refused_regions[o.service.ivoid]:
            left_out["footprint refused by pgsphere"] += self.refused_regions[o.service.ivoid]
        if left_out:
            reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(left_out.items()))
            text += f"; {sum(left_out.values())} rows could not be read ({reasons})"
        return text
