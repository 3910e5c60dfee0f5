"""Parse + resolve + translate time per ADQL query, over the test corpus.

Usage: .venv/bin/python bench/adql_translate.py [--repeat N]
Prints the median and 99th percentile per query (milliseconds) and the slowest query. No
database is needed: the catalogue is built from the same YAML metadata the service publishes.
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


if __name__ == "__main__":
    main()
