"""Parse + resolve + translate time per ADQL query, over the test corpus.

Usage: .venv/bin/python bench/adql_translate.py [--repeat N]
Prints the median and 99th percentile per query (milliseconds) and the slowest query. No
database is needed: the catalogue is built from the same YAML metadata the service publishes.
"""

from __future__ import annotations

import argparse
import ast as pyast
import contextlib
import statistics
import time
from pathlib import Path

from adql import ADQLError, Catalog, ColumnMeta, TableMeta, to_postgres
from schemas.model import builtin_schemas

ROOT = Path(__file__).resolve().parent.parent


def catalog() -> Catalog:
    tables = []
    for schema in builtin_schemas():
        for t in schema.tables:
            cols = tuple(
                ColumnMeta(c.name, c.datatype, c.arraysize, c.xtype, c.unit, c.ucd, c.utype, c.description)
                for c in t.columns
            )
            tables.append(TableMeta(t.schema, t.name, cols, t.description))
    return Catalog.of(tables)


def corpus() -> list[str]:
    """Every string literal in tests/ that looks like an ADQL query."""
    queries: list[str] = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
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
    with contextlib.suppress(ADQLError):  # build the LALR tables once, as the server does at its first query
        to_postgres(queries[0], cat)
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
    print(f"median: {statistics.median(values):.3f} ms   p99: {p99:.3f} ms   max: {worst[0]:.3f} ms")
    print(f"slowest: {worst[1][:100]}")


if __name__ == "__main__":
    main()
