"""Who a request is: anonymous, or a user with the groups they are in and what those groups are
granted (a collection, or one proposal of it)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Grant:
    """A group may see ``collection``'s proprietary rows: all of them (``proposal`` None) or only
    those of one proposal."""

    collection: str
    proposal: str | None = None

    def __str__(self) -> str:
        return self.collection if self.proposal is None else f"{self.collection} proposal {self.proposal}"


@dataclass(frozen=True)
class Identity:
    user: str | None  # None: anonymous
    groups: frozenset[str] = field(default_factory=frozenset)
    grants: frozenset[Grant] = field(default_factory=frozenset)

    @property
    def authenticated(self) -> bool:
        return self.user is not None


ANONYMOUS = Identity(None)
