"""Which services to crawl, from the local RegTAP (rr): the records harvested from other
registries and those added with ``dalserver crawl add``.

* ObsCore through TAP, new style (a resource whose tableset has a table with the ObsCore table
  utype, ``ivo://ivoa.net/std/obscore#table-1.x``, reached by a TAP capability) and old style (a
  TAP capability declaring the ObsCore data model, ``ivo://ivoa.net/std/obscore...``). The records
  of one endpoint and table (a TAP service, its ObsCore table, its collections) are one service,
  named by the TAP service's own record where there is one.
* SIA 2.0 services, and SIA 1.0 ones, unless what they serve is crawled already: a service is
  left out when it is served by (``IsServedBy``) or serves (``IsServiceFor``) a resource of a
  crawled ObsCore service, or of a crawled SIA 2.0 one for SIA 1.0 (pyvo.discover drops
  ``isservedby`` duplicates the same way; a dalserver's SIA service serves its collections, which
  its TAP service serves too).
* This archive's own records are skipped; the operator's include and exclude lists apply.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import psycopg

from vo_crawl.config import CrawlConfig, matches

OBSCORE_TAP = "obscore-tap"
SIA2 = "sia2"
SIA1 = "sia1"

_OBSCORE_NEW = """
SELECT DISTINCT r.ivoid, r.res_title, lower(t.table_name), i.access_url, c.standard_id, o.origin
FROM rr.res_table t
JOIN rr.resource r ON r.ivoid = t.ivoid
JOIN rr.capability c ON c.ivoid = t.ivoid
JOIN rr.interface i ON i.ivoid = c.ivoid AND i.cap_index = c.cap_index
LEFT JOIN registry.rr_origin o ON o.ivoid = r.ivoid
WHERE t.table_utype LIKE 'ivo://ivoa.net/std/obscore#table-1.%'
  AND c.standard_id LIKE 'ivo://ivoa.net/std/tap%' AND i.access_url IS NOT NULL AND t.table_name IS NOT NULL
"""
_OBSCORE_OLD = """
SELECT DISTINCT r.ivoid, r.res_title, 'ivoa.obscore', i.access_url, c.standard_id, o.origin
FROM rr.res_detail d
JOIN rr.capability c ON c.ivoid = d.ivoid AND c.cap_index = d.cap_index
JOIN rr.interface i ON i.ivoid = c.ivoid AND i.cap_index = c.cap_index
JOIN rr.resource r ON r.ivoid = d.ivoid
LEFT JOIN registry.rr_origin o ON o.ivoid = r.ivoid
WHERE d.detail_xpath = '/capability/dataModel/@ivo-id' AND lower(d.detail_value) LIKE 'ivo://ivoa.net/std/obscore%'
  AND c.standard_id LIKE 'ivo://ivoa.net/std/tap%' AND i.access_url IS NOT NULL
"""
_SIA = """
SELECT DISTINCT r.ivoid, r.res_title, c.standard_id, i.access_url, o.origin
FROM rr.capability c
JOIN rr.interface i ON i.ivoid = c.ivoid AND i.cap_index = c.cap_index
JOIN rr.resource r ON r.ivoid = c.ivoid
LEFT JOIN registry.rr_origin o ON o.ivoid = r.ivoid
WHERE i.access_url IS NOT NULL AND (c.standard_id = 'ivo://ivoa.net/std/sia'
  OR (c.standard_id LIKE 'ivo://ivoa.net/std/sia#query-2.%' AND c.standard_id NOT LIKE '%aux%'))
"""
_RELATIONS = (
    "SELECT ivoid, relationship_type, related_id FROM rr.relationship "
    "WHERE relationship_type IN ('isservedby', 'isservicefor') AND related_id IS NOT NULL"
)


@dataclass
class Found:
    """One endpoint to crawl, and the records that describe it."""

    kind: str
    access_url: str
    table_name: str | None
    ivoid: str = ""
    title: str | None = None
    origin: str | None = None
    members: set[str] = field(default_factory=set)
    duplicate_of: str | None = None  # a crawled service that serves the same data

    @property
    def host(self) -> str:
        return (urlsplit(self.access_url).hostname or "").lower()


def _url(text: str) -> str:
    """Access URLs compared without a trailing slash or query mark."""
    return text.strip().rstrip("?").rstrip("/")


def _own(origin: str | None, url: str, config: CrawlConfig) -> bool:
    return origin == "local" or any(url.startswith(own.rstrip("/")) for own in config.own_urls if own)


def find_services(conn: psycopg.Connection, config: CrawlConfig) -> list[Found]:
    """Every crawlable endpoint in rr, with duplicates marked (not removed)."""
    groups: dict[tuple[str, str, str | None], Found] = {}
    preferred: dict[tuple[str, str, str | None], list[tuple[int, str, str | None, str | None]]] = defaultdict(list)
    for query in (_OBSCORE_NEW, _OBSCORE_OLD):
        for ivoid, title, table, url, standard, origin in conn.execute(query).fetchall():
            url = _url(url)
            if _own(origin, url, config):
                continue
            key = (OBSCORE_TAP, url, table)
            found = groups.setdefault(key, Found(OBSCORE_TAP, url, table))
            found.members.add(ivoid)
            # The TAP service's own record names the service, a harvested one before one added by
            # hand (adding a service never renames one already crawled); else any record of it.
            rank = (0 if standard == "ivo://ivoa.net/std/tap" else 2) + _added(origin)
            preferred[key].append((rank, ivoid, title, origin))
    for ivoid, title, standard, url, origin in conn.execute(_SIA).fetchall():
        url = _url(url)
        if _own(origin, url, config):
            continue
        kind = SIA1 if standard == "ivo://ivoa.net/std/sia" else SIA2
        key = (kind, url, None)
        found = groups.setdefault(key, Found(kind, url, None))
        found.members.add(ivoid)
        preferred[key].append((_added(origin), ivoid, title, origin))
    for key, found in groups.items():
        _, found.ivoid, found.title, found.origin = min(preferred[key])
    relations = conn.execute(_RELATIONS).fetchall()
    conn.commit()
    services = sorted(groups.values(), key=lambda f: (f.kind, f.ivoid, f.access_url))
    # What the operator excludes serves nothing here: an SIA service of the same data is crawled instead.
    _mark_duplicates(services, relations, lambda f: _denied(f, config) is None)
    # One service per IVOID: a record with two endpoints of one kind is crawled at the first.
    seen: set[str] = set()
    unique = []
    for found in services:
        if found.ivoid not in seen:
            seen.add(found.ivoid)
            unique.append(found)
    return unique


def _added(origin: str | None) -> int:
    return 1 if (origin or "").startswith("added:") else 0


def _mark_duplicates(
    services: list[Found], relations: Iterable[tuple[str, str, str]], crawled: Callable[[Found], bool]
) -> None:
    served_by: dict[str, set[str]] = defaultdict(set)  # x -> what serves x
    serves: dict[str, set[str]] = defaultdict(set)  # x -> what x serves
    for ivoid, kind, related in relations:
        if kind == "isservedby":
            served_by[ivoid].add(related)
            serves[related].add(ivoid)
        else:
            serves[ivoid].add(related)
            served_by[related].add(ivoid)

    def covered_by(candidates: list[Found]) -> dict[str, str]:
        """Resource -> the crawled service whose data it is part of."""
        covered: dict[str, str] = {}
        for found in candidates:
            if not crawled(found):
                continue
            for member in found.members:
                covered.setdefault(member, found.ivoid)
                for other in served_by[member] | serves[member]:
                    covered.setdefault(other, found.ivoid)
        return covered

    def mark(candidates: list[Found], covered: dict[str, str]) -> None:
        for found in candidates:
            for member in found.members:
                for related in {member} | served_by[member] | serves[member]:
                    if related in covered and covered[related] != found.ivoid:
                        found.duplicate_of = covered[related]
                        break
                if found.duplicate_of:
                    break

    obscore = [f for f in services if f.kind == OBSCORE_TAP]
    sia2 = [f for f in services if f.kind == SIA2]
    sia1 = [f for f in services if f.kind == SIA1]
    mark(sia2, covered_by(obscore))
    mark(sia1, covered_by(obscore + [f for f in sia2 if not f.duplicate_of]))


def _denied(found: Found, config: CrawlConfig) -> str | None:
    denied = matches(config.exclude, found.ivoid, found.host, found.access_url)
    if denied:
        return f"excluded by the operator (crawl.yaml: {denied})"
    if config.include and not matches(config.include, found.ivoid, found.host, found.access_url):
        return "not in the operator's include list (crawl.yaml)"
    return None


def exclusion(found: Found, config: CrawlConfig) -> str | None:
    """Why ``found`` is not crawled, or None."""
    denied = _denied(found, config)
    if denied:
        return denied
    if found.duplicate_of:
        return f"serves the same data as {found.duplicate_of}, which is crawled"
    return None


def sync_services(conn: psycopg.Connection, found: list[Found], config: CrawlConfig) -> list[str]:
    """crawl.service made to match what rr holds: new services added (due at once), moved ones
    updated, excluded and vanished ones marked excluded. The IVOIDs whose rows must go."""
    to_purge: list[str] = []
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('dalserver.crawl.discovery'))")
        known = {
            ivoid: (state, reason)
            for ivoid, state, reason in cur.execute("SELECT ivoid, state, state_reason FROM crawl.service").fetchall()
        }
        for f in found:
            reason = exclusion(f, config)
            if f.ivoid not in known:
                cur.execute(
                    "INSERT INTO crawl.service (ivoid, kind, access_url, table_name, title, host, origin, state, "
                    "state_reason, fail_count, row_count, requests_today, discovered, seen) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 0, 0, 0, now(), now())",
                    (
                        f.ivoid,
                        f.kind,
                        f.access_url,
                        f.table_name,
                        f.title,
                        f.host,
                        f.origin,
                        "excluded" if reason else "active",
                        reason,
                    ),
                )
                continue
            state, _ = known[f.ivoid]
            cur.execute(
                "UPDATE crawl.service SET kind = %s, access_url = %s, table_name = %s, title = %s, host = %s, "
                "origin = %s, seen = now() WHERE ivoid = %s",
                (f.kind, f.access_url, f.table_name, f.title, f.host, f.origin, f.ivoid),
            )
            if reason:
                cur.execute(
                    "UPDATE crawl.service SET state = 'excluded', state_reason = %s WHERE ivoid = %s", (reason, f.ivoid)
                )
                to_purge.append(f.ivoid)
            elif state == "excluded":  # admitted again
                cur.execute(
                    "UPDATE crawl.service SET state = 'active', state_reason = NULL, fail_count = 0, next_due = NULL "
                    "WHERE ivoid = %s",
                    (f.ivoid,),
                )
        present = {f.ivoid for f in found}
        for ivoid in known.keys() - present:
            cur.execute(
                "UPDATE crawl.service SET state = 'excluded', state_reason = 'no longer in the registry' "
                "WHERE ivoid = %s",
                (ivoid,),
            )
            to_purge.append(ivoid)
    return to_purge
