"""The federated search's parameters: SIA 2.0's own (``dalserver.sia.parameters``, the one table
the query builder reads too), and LIVE, declared here once for the parser, the self-description
and the OpenAPI description."""

from __future__ import annotations

from dataclasses import dataclass

from dalserver.dali.faults import UsageFault


@dataclass(frozen=True)
class FlagParameter:
    name: str
    description: str
    default: bool = False

    def parse(self, value: str | None) -> bool:
        if value is None or not value.strip():
            return self.default
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise UsageFault(f"{self.name}: {value!r} is not a boolean; use true or false")


_TRUE = frozenset({"true", "t", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "off"})

LIVE = FlagParameter(
    "LIVE",
    "true: also ask, now, the services the crawler knows whose coverage touches the region (each "
    "within the server's timeout), and append what they hold that the cache does not; false "
    "(the default): the cache alone",
)
