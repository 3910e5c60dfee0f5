"""Random ADQL over the published tables, for tests that run what the checker accepts on the real
database: every construct the audit of issue #22 found a database error in (NULLs, geometries
in GROUP BY, ORDER BY and DISTINCT, timestamps beside strings, FULL and USING joins, correlated
subqueries, set operations, aggregates), mixed at random. Not all of it is valid ADQL; the
checker is expected to refuse what is not."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# table -> columns by kind (a NULL-only column, tap_schema.columns."size", among them)
TABLES: dict[str, dict[str, list[str]]] = {
    "ivoa.obscore": {
        "num": ["s_ra", "s_dec", "s_fov", "t_min", "t_exptime", "em_min", "calib_level"],
        "str": ["obs_id", "obs_publisher_did", "dataproduct_type", "obs_collection"],
        "geo": ["s_region"],
        "time": [],
    },
    "rr.stc_spatial": {"num": [], "str": ["ivoid"], "geo": ["coverage"], "time": []},
    "rr.resource": {"num": ["region_of_regard"], "str": ["ivoid", "res_type"], "geo": [], "time": ["updated"]},
    "tap_schema.columns": {"num": ["column_index", '"size"'], "str": ["table_name", "datatype"], "geo": [], "time": []},
}
_NUMBER_FUNCTIONS = ["ABS", "CEILING", "FLOOR", "SQRT", "LOG", "EXP", "SIN", "ACOS", "DEGREES", "ROUND", "TRUNCATE"]
_AGGREGATES = ["COUNT", "MIN", "MAX", "SUM", "AVG"]
_LITERALS = ["0", "1", "-1", "2.5", "1e300", "NULL", "9223372036854775807"]


@dataclass
class QueryGenerator:
    rng: random.Random
    aliases: int = field(default=0)

    def pick(self, choices: list[str]) -> str:
        return self.rng.choice(choices)

    def alias(self) -> str:
        self.aliases += 1
        return f"a{self.aliases}"

    def column(self, alias: str, table: str, kind: str) -> str | None:
        columns = TABLES[table][kind]
        return f"{alias}.{self.pick(columns)}" if columns else None

    def number(self, alias: str, table: str, depth: int = 0) -> str:
        roll = self.rng.random()
        if depth > 2 or roll < 0.3:
            return self.column(alias, table, "num") or self.pick(_LITERALS)
        if roll < 0.4:
            return self.pick(_LITERALS)
        if roll < 0.55:
            return f"{self.pick(_NUMBER_FUNCTIONS)}({self.number(alias, table, depth + 1)})"
        if roll < 0.62:
            return f"MOD({self.number(alias, table, depth + 1)}, {self.pick(['2', '0', 'NULL', '1.5'])})"
        if roll < 0.77:
            op = self.pick(["+", "-", "*", "/"])
            return f"({self.number(alias, table, depth + 1)} {op} {self.number(alias, table, depth + 1)})"
        if roll < 0.82:
            target = self.pick(["INTEGER", "BIGINT", "SMALLINT", "REAL", "DOUBLE PRECISION"])
            return f"CAST({self.number(alias, table, depth + 1)} AS {target})"
        if roll < 0.88:
            shape = self.geometry(alias, table)
            return self.pick([f"AREA({shape})", f"COORD1(CENTROID({shape}))", f"CONTAINS(POINT(34.5, -5), {shape})"])
        if roll < 0.94:
            then = self.number(alias, table, depth + 1)
            return (
                f"CASE WHEN {self.condition(alias, table, depth + 1)} THEN {then} ELSE {self.pick(['NULL', '0'])} END"
            )
        return f"COALESCE({self.number(alias, table, depth + 1)}, {self.pick(_LITERALS)})"

    def string(self, alias: str, table: str, depth: int = 0) -> str:
        roll = self.rng.random()
        column = self.column(alias, table, "str")
        if roll < 0.5 and column:
            return column
        if roll < 0.6:
            return self.pick(["'x'", "''", "'2020-01-01'", "NULL"])
        if roll < 0.75 and depth < 2:
            return f"{self.pick(['LOWER', 'UPPER'])}({self.string(alias, table, depth + 1)})"
        if roll < 0.85:
            return f"CAST({self.number(alias, table, depth + 1)} AS VARCHAR)"
        return f"({column or repr('a')} || {self.pick([repr('-'), 'NULL'])})"

    def geometry(self, alias: str, table: str) -> str:
        column = self.column(alias, table, "geo")
        if column and self.rng.random() < 0.4:
            return column
        value = self.column(alias, table, "num") or "1"
        return self.pick(
            [
                f"POINT({value}, 0)",
                f"CIRCLE(34.5, -5, {self.pick(['1', value])})",
                "POLYGON(34, -5, 35, -5, 35, -4)",
                f"POLYGON(34, -5, 35, -5, 35, {value})",
                f"BOX(34.5, -5, 1, {self.pick(['1', value])})",
                "REGION('Circle ICRS 34.5 -5 1')",
                f"MOC({self.pick(['6', '12', '29'])}, CIRCLE(34.5, -5, {self.pick(['1', value])}))",
            ]
        )

    def time(self, alias: str, table: str) -> str:
        return self.column(alias, table, "time") or "CAST('2020-01-01' AS TIMESTAMP)"

    def value(self, alias: str, table: str) -> str:
        roll = self.rng.random()
        if roll < 0.5:
            return self.number(alias, table)
        if roll < 0.75:
            return self.string(alias, table)
        if roll < 0.85:
            return self.time(alias, table)
        return self.geometry(alias, table)

    def condition(self, alias: str, table: str, depth: int = 0) -> str:
        roll = self.rng.random()
        if depth < 2 and roll < 0.15:
            op = self.pick(["AND", "OR"])
            return f"({self.condition(alias, table, depth + 1)} {op} {self.condition(alias, table, depth + 1)})"
        if roll < 0.4:
            op = self.pick(["=", "<", ">", "<>"])
            return f"{self.number(alias, table, depth + 1)} {op} {self.number(alias, table, depth + 1)}"
        if roll < 0.48:
            return f"{self.time(alias, table)} {self.pick(['<', '=', '>'])} {self.string(alias, table)}"
        if roll < 0.56:
            pattern = self.pick(["'%a%'", "'x'", "'a\\' ESCAPE '\\'", self.string(alias, table)])
            return f"{self.string(alias, table)} {self.pick(['LIKE', 'ILIKE'])} {pattern}"
        if roll < 0.62:
            return f"{self.number(alias, table)} BETWEEN {self.pick(_LITERALS)} AND {self.pick(_LITERALS)}"
        if roll < 0.68:
            return f"{self.number(alias, table)} IN ({', '.join(self.pick(_LITERALS) for _ in range(3))})"
        if roll < 0.72:
            return f"{self.value(alias, table)} IS {self.pick(['', 'NOT '])}NULL"
        if roll < 0.82:
            op = self.pick(["CONTAINS", "INTERSECTS"])
            return f"{op}({self.geometry(alias, table)}, {self.geometry(alias, table)}) = {self.pick(['1', '0'])}"
        if roll < 0.92 and depth < 2:
            table2 = self.pick(list(TABLES))
            alias2 = self.alias()
            sub = (
                f"SELECT {self.number(alias2, table2)} FROM {table2} AS {alias2} "
                f"WHERE {self.condition(alias2, table2, depth + 1)}"
            )
            value = self.number(alias, table)
            return self.pick([f"EXISTS ({sub})", f"{value} IN ({sub})", f"{value} > ({sub})"])
        return f"NOT {self.number(alias, table)} = 0"

    def join(self, alias: str, table: str) -> tuple[str, str, str]:
        table2 = self.pick(list(TABLES))
        alias2 = self.alias()
        kind = self.pick(["JOIN", "LEFT JOIN", "FULL JOIN", "NATURAL JOIN", "NATURAL FULL JOIN", "CROSS JOIN"])
        if kind.startswith("NATURAL") or kind == "CROSS JOIN":
            return f" {kind} {table2} AS {alias2}", alias2, table2
        if table2 == table and self.rng.random() < 0.4:
            using = self.pick(TABLES[table]["str"] + TABLES[table]["geo"])
            return f" {kind} {table2} AS {alias2} USING ({using})", alias2, table2
        on = self.pick(
            [
                f"{self.number(alias, table)} = {self.number(alias2, table2)}",
                f"{self.string(alias, table)} = {self.string(alias2, table2)} AND {self.condition(alias2, table2)}",
                f"{self.number(alias, table)} < {self.number(alias2, table2)}",
                self.condition(alias2, table2),
            ]
        )
        return f" {kind} {table2} AS {alias2} ON {on}", alias2, table2

    def query(self, depth: int = 0) -> str:
        table = self.pick(list(TABLES))
        alias = self.alias()
        from_ = f"{table} AS {alias}"
        sources = [(alias, table)]
        if self.rng.random() < 0.3:
            text, alias2, table2 = self.join(alias, table)
            from_ += text
            sources.append((alias2, table2))
        if depth < 1 and self.rng.random() < 0.15:
            return f"SELECT * FROM ({self.query(depth + 1)}) AS {self.alias()}"
        alias, table = self.rng.choice(sources)
        items = []
        for _ in range(self.rng.randint(1, 3)):
            roll = self.rng.random()
            if roll < 0.2:
                argument = self.value(alias, table) if self.rng.random() < 0.5 else self.number(alias, table)
                items.append(f"{self.pick(_AGGREGATES)}({self.pick(['', 'DISTINCT '])}{argument})")
            elif roll < 0.25:
                items.append("COUNT(*)")
            else:
                items.append(self.value(alias, table))
        text = f"SELECT {self.pick(['', 'DISTINCT ', 'TOP 5 '])}{', '.join(items)} FROM {from_}"
        if self.rng.random() < 0.5:
            text += f" WHERE {self.condition(alias, table)}"
        if self.rng.random() < 0.3:
            text += f" GROUP BY {', '.join(self.value(alias, table) for _ in range(self.rng.randint(1, 2)))}"
            if self.rng.random() < 0.3:
                text += f" HAVING {self.pick(_AGGREGATES)}({self.number(alias, table)}) > 0"
        if depth == 0 and self.rng.random() < 0.1:
            op = self.pick(["UNION", "UNION ALL", "EXCEPT", "INTERSECT"])
            return f"({text}) {op} ({self.query(depth + 1)})"
        if self.rng.random() < 0.3:
            text += f" ORDER BY {self.pick([str(self.rng.randint(1, len(items))), self.value(alias, table)])}"
        return text
