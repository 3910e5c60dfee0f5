"""Parse + resolve + translate time per ADQL query, over the test corpus.

Usage: .venv/bin/python bench/adql_translate.py [--repeat N]
Prints the median and 99th percentile per query (milliseconds) and the slowest query. Then the
same corpus through the service's translation cache (adql.cache) as a survey would send it: each
query with other numbers every time (its digits shifted), after two such siblings: the median
per query through the cache next to ``to_postgres`` of the same texts, and how many were
answered from an SQL template (no parsing, resolving or rendering). No database is needed: the
catalogue is built from the same YAML metadata the service publishes.
"""

from __future__ import annotations

import argparse
import ast as pyast
import contextlib
import gc
import importlib.util
import statistics
import time
from pathlib import Path
from types import ModuleType

from adql import ADQLError, Catalog, to_postgres
from adql.cache import TranslationCache, numbers
from schemas.model import builtin_schemas, catalog_of

ROOT = Path(__file__).resolve().parent.parent
# The golden tables hold translated SQL beside the ADQL: only their ADQL is taken.
GOLDEN = ROOT / "tests" / "adql" / "golden.py"


def _golden() -> ModuleType:
    spec = importlib.util.spec_from_file_location("golden", GOLDEN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def catalog() -> Catalog:
    return catalog_of(builtin_schemas()).with_tables(_golden().CATALOG.tables)


def corpus() -> list[str]:
    """Every string literal in tests/ that looks like an ADQL query, and the golden tables'."""
    queries: list[str] = _golden().adql_queries()
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path == GOLDEN:
            continue
        for node in pyast.walk(pyast.parse(path.read_text())):
            if isinstance(node, pyast.Constant) and isinstance(node.value, str):
                text = node.value.strip()
                if text.upper().startswith("SELECT ") and " FROM " in text.upper():
                    queries.append(text)
    return sorted(set(queries))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    cat = catalog()
    queries = corpus()
    timings: list[tuple[float, str]] = []
    # Warm-up, as in a running server: LALR tables built, unit parser and caches filled.
    for query in queries:
        with contextlib.suppress(ADQLError):
            to_postgres(query, cat, row_limit=1001)
    # The server freezes its start-up objects too (dalserver.app): cyclic-GC passes over lark's
    # parse tables otherwise cost 20-30 ms now and then.
    gc.freeze()
    for query in queries:
        for _ in range(args.repeat):
            start = time.perf_counter()
            # Error paths are timed too: they are part of what the service does.
            with contextlib.suppress(ADQLError):
                to_postgres(query, cat, row_limit=1001)
            timings.append(((time.perf_counter() - start) * 1000, query))
    values = sorted(t for t, _ in timings)
    p99 = values[int(0.99 * (len(values) - 1))]
    worst = max(timings)
    print(f"queries: {len(queries)}, runs each: {args.repeat}")
    per_query = {}
    for ms, query in timings:
        per_query.setdefault(query, []).append(ms)
    slowest_median = max((statistics.median(v), q) for q, v in per_query.items())
    print(f"median: {statistics.median(values):.3f} ms   p99: {p99:.3f} ms   max single run: {worst[0]:.3f} ms")
    print(f"slowest single run: {worst[1][:100]}")
    print(f"slowest query (by its median, {slowest_median[0]:.3f} ms): {slowest_median[1][:100]}")
    through_the_cache(queries, cat, min(args.repeat, 10))


def sibling(text: str, shift: int) -> str:
    """``text`` with every digit of its numbers (outside strings and quoted names) shifted."""
    pieces, at = [], 0
    for number in numbers(text):
        pieces.append(text[at : number.start])
        pieces.append("".join(str((int(c) + shift) % 10) if c.isdigit() else c for c in number.text))
        at = number.start + len(number.text)
    return "".join(pieces) + text[at:]


def _timed(translate: object, text: str, cat: Catalog) -> float:
    start = time.perf_counter()
    with contextlib.suppress(ADQLError):
        translate(text, cat, 1001)  # type: ignore[operator]  # either translator
    return (time.perf_counter() - start) * 1000


def through_the_cache(queries: list[str], cat: Catalog, repeat: int) -> None:
    """Each query with numbers as a survey would send it: new ones every time, after two."""
    shaped = [q for q in queries if numbers(q)]
    cache = TranslationCache(size=4 * len(shaped))
    for query in shaped:
        for shift in (1, 2):
            with contextlib.suppress(ADQLError):
                cache.translate(sibling(query, shift), cat, 1001)
    cached, direct = [], []
    for k in range(repeat):
        for query in shaped:
            text = sibling(query, 3 + k)  # not asked before, unless the shift comes round
            direct.append(_timed(to_postgres, text, cat))
            cached.append(_timed(cache.translate, text, cat))
    templated = len(cache._sql)  # noqa: SLF001 - how many templates the cache holds, for the figure
    print(
        f"through the cache, new numbers each time ({len(shaped)} queries with numbers): median "
        f"{statistics.median(cached):.3f} ms against {statistics.median(direct):.3f} ms translated in full; "
        f"SQL templates kept: {templated}"
    )


if __name__ == "__main__":
    main()
