"""What the crawler may ask of other archives, and how often: the numbers (from the dalserver
settings, ``DALSERVER_CRAWL_*``), the User-Agent, and the operator's allow and deny lists (the
file ``$DALSERVER_HOME/crawl.yaml``)."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class CrawlConfigError(ValueError):
    """The operator's crawl.yaml is not what it should be; the message names the problem."""


@dataclass(frozen=True)
class CrawlConfig:
    user_agent: str
    min_gap_seconds: float = 2.0  # between the end of one request to a host and the next
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 120.0  # longest silence while an answer arrives
    request_deadline_seconds: float = 900.0  # longest one answer may take in all
    retries: int = 3  # further attempts of a request after a timeout, a 429/502/503/504
    retry_seconds: float = 2.0  # wait before the first retry; doubles (Retry-After wins when longer)
    retry_after_max_seconds: float = 3600.0  # a longer Retry-After ends the run: the service backs off
    backoff_seconds: float = 900.0  # a failed run's back-off; doubles with each failed run
    backoff_max_seconds: float = 86400.0
    dead_after: int = 5  # failed runs in a row that make a service dead
    dead_retry_seconds: float = 7 * 86400.0  # a dead service is probed again after this long
    daily_requests: int = 2000  # requests to one service per UTC day
    rows_per_request: int = 10000  # MAXREC of one fetch; fuller cells are split
    max_body_bytes: int = 256 << 20  # a larger answer is an error for its cell
    interval_seconds: float = 86400.0  # a service's census is repeated this often
    refresh_days: float = 30.0  # every cell is fetched again this often, changed or not
    census_order: int = 6  # HEALPix order of the ivo_healpix_index census (49152 cells at most)
    max_census_order: int = 12  # deepest cell the count census splits to
    max_split_order: int = 16  # deepest cell an overflowing fetch splits to; then it pages
    hosts_in_parallel: int = 4
    capabilities_max_age_seconds: float = 7 * 86400.0
    include: tuple[str, ...] = ()  # if given, only services matching one of these
    exclude: tuple[str, ...] = ()  # services matching one of these are never crawled
    own_urls: tuple[str, ...] = ()  # this archive's public URL: its own services are skipped


def _patterns(data: dict[str, Any], key: str, path: Path) -> tuple[str, ...]:
    value = data.get(key, [])
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CrawlConfigError(f"{path}: '{key}' must be a list of IVOIDs, host names or URLs (wildcards * allowed)")
    return tuple(v.strip().lower() for v in value)


def load_lists(path: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(include, exclude) from the operator's file; both empty when there is none."""
    if not path.is_file():
        return (), ()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise CrawlConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise CrawlConfigError(f"{path}: expected a mapping with 'include' and 'exclude' lists")
    unknown = set(data) - {"include", "exclude"}
    if unknown:
        raise CrawlConfigError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; the keys are include and exclude")
    return _patterns(data, "include", path), _patterns(data, "exclude", path)


def matches(patterns: tuple[str, ...], ivoid: str, host: str, url: str) -> str | None:
    """The first pattern that names this service (by IVOID, host or URL prefix), if any."""
    for pattern in patterns:
        for value in (ivoid.lower(), host.lower(), url.lower()):
            if fnmatch.fnmatchcase(value, pattern) or (
                "*" not in pattern and pattern.startswith(("http://", "https://")) and value.startswith(pattern)
            ):
                return pattern
    return None
