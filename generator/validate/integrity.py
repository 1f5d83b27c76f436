"""Data checks Power BI's refresh makes: unique, non-blank one sides and key columns.

A many-to-one relationship whose one side has a duplicate value silently double-counts
in the engine (each many-side row joins twice), while Power BI refuses the refresh:
"Column 'X' in Table 'T' contains a duplicate value '2' and this is not allowed for
columns on the one side of a many-to-one relationship or for columns that are used as
the primary key of a table". The same holds for blank values and for `key: true`
columns. This module runs the check on the tables the build is about to write
(generated, CSV or Parquet) — Arrow tables, or the Parquet files the build streamed them
into — with one DuckDB aggregate query per column, so it is fast on millions of rows. On
files, DuckDB runs under a memory limit and spills to a temporary folder, so a
100M-row key column is checked without holding it in memory.

Values compare as Power BI's storage engine compares them: text case-insensitively and
with trailing spaces trimmed ('abc', 'ABC' and 'abc ' are one value; see
docs/dax-semantics.md §1.2), so a CSV key that differs only by case is a duplicate too.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Union

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from generator.engine.sql import set_option
from generator.errors import Problem
from generator.spec.integrity import MODEL_TYPES
from generator.spec.model import Model, Pos, Relationship

SHOWN = 3  # duplicate values named in a message
MEMORY_LIMIT = "1GB"  # for checks over Parquet files; DuckDB spills beyond it
Data = Mapping[str, Union[pa.Table, Path]]


@dataclass(frozen=True)
class _Unique:
    """A column that must be unique and non-blank, and why."""

    table: str
    column: str
    column_type: str
    pos: Pos
    relationship: Relationship | None  # None: a `key: true` column


def integrity_problems(model: Model, data: Data) -> list[Problem]:
    """Duplicate or blank values where Power BI needs unique ones; empty when all is well.

    `data`: each table as an Arrow table or the path of its Parquet file."""
    problems: list[Problem] = []
    with tempfile.TemporaryDirectory(prefix="pbi-forge-integrity-") as spill:
        con = duckdb.connect()
        try:
            for name, value in (("temp_directory", spill), ("memory_limit", MEMORY_LIMIT),
                                ("preserve_insertion_order", False)):
                con.execute(set_option(name, value).sql(dialect="duckdb"))
            for check in _checks(model, data):
                source = data[check.table]
                if isinstance(source, Path):
                    con.read_parquet(str(source)).select(exp.column(check.column, quoted=True).sql("duckdb")) \
                        .create_view("t", replace=True)
                else:
                    con.register("t", source.select([check.column]))
                rows = con.execute(_query(check).sql(dialect="duckdb")).fetchall()
                if isinstance(source, Path):
                    con.execute(exp.Drop(kind="VIEW", tables=[exp.to_table("t")], exists=True).sql(dialect="duckdb"))
                else:
                    con.unregister("t")
                problems.extend(_problems(check, rows))
        finally:
            con.close()
    return problems


def _columns(source: pa.Table | Path) -> list[str]:
    return pq.read_schema(source).names if isinstance(source, Path) else source.column_names


def _checks(model: Model, data: Data) -> list[_Unique]:
    """One check per column: the first relationship whose one side it is, else its key flag."""
    checks: dict[tuple[str, str], _Unique] = {}
    for r in model.relationships:
        if r.many_to_many:  # both sides may repeat: nothing to be unique
            continue
        one, many = model.table(r.to_table), model.table(r.from_table)
        if one is None or many is None or one.name.lower() == many.name.lower():
            continue
        col, other = one.column(r.to_column), many.column(r.from_column)
        if col is None or other is None or MODEL_TYPES[col.type] != MODEL_TYPES[other.type]:
            continue
        key = (one.name.lower(), col.name.lower())
        if one.name in data and col.name in _columns(data[one.name]):
            checks.setdefault(key, _Unique(one.name, col.name, col.type, r.pos, r))
    for t in model.tables:
        for c in t.columns:
            if c.key and t.name in data and c.name in _columns(data[t.name]):
                checks.setdefault((t.name.lower(), c.name.lower()), _Unique(t.name, c.name, c.type, c.pos, None))
    return list(checks.values())


def _query(check: _Unique) -> exp.Expression:
    """Blank and duplicated values of one column, most repeated first.

    SELECT shown, n, v IS NULL AS blank, COUNT(*) OVER () AS groups
    FROM (SELECT norm(k) AS v, MIN(k) AS shown, COUNT(*) AS n FROM t GROUP BY norm(k))
    WHERE n > 1 OR v IS NULL ORDER BY blank DESC, n DESC, shown LIMIT SHOWN + 1
    """
    value = exp.column(check.column, quoted=True)
    norm: exp.Expression = value
    if check.column_type == "string":
        norm = exp.func("RTRIM", exp.Lower(this=value))
    grouped = (sqlglot.select(exp.alias_(norm, "v"), exp.alias_(exp.Min(this=value.copy()), "shown"),
                              exp.alias_(exp.Count(this=exp.Star()), "n"))
               .from_("t").group_by(norm.copy()))
    is_blank = exp.Is(this=exp.column("v"), expression=exp.Null())
    groups = exp.Window(this=exp.Count(this=exp.Star()))
    return (sqlglot.select("shown", "n", exp.alias_(is_blank, "blank"), exp.alias_(groups, "groups"))
            .from_(grouped.subquery("g"))
            .where(exp.or_(exp.GT(this=exp.column("n"), expression=exp.Literal.number(1)), is_blank.copy()))
            .order_by(exp.Ordered(this=exp.column("blank"), desc=True),
                      exp.Ordered(this=exp.column("n"), desc=True), "shown")
            .limit(SHOWN + 1))


def _problems(check: _Unique, rows: list[tuple]) -> list[Problem]:
    if not rows:
        return []
    where = f"column '{check.column}' in table '{check.table}'"
    if check.relationship is not None:
        prefix = f"relationship {check.relationship.name}: {where}"
        rule = "and this is not allowed for columns on the one side of a many-to-one relationship"
        hint = f"make {check.table}[{check.column}] unique, or relate the tables the other way round"
    else:
        prefix = where
        rule = "and this is not allowed for a column marked key: true"
        hint = f"make {check.table}[{check.column}] unique and non-blank, or drop key: true"
    problems = []
    blanks = [n for _, n, blank, _ in rows if blank]
    if blanks:
        problems.append(Problem(check.pos, f"{prefix} contains blank values ({_rows(blanks[0])}), {rule}", hint))
    dups = [(shown, n) for shown, n, blank, _ in rows if not blank][:SHOWN]
    if dups:
        total = rows[0][3] - len(blanks)
        listed = ", ".join(f"'{_text(v)}' ({_rows(n)})" for v, n in dups)
        more = f", and {total - len(dups)} more" if total > len(dups) else ""
        what = f"a duplicate value {listed}" if total == 1 else f"{total:,} duplicate values: {listed}{more}"
        problems.append(Problem(check.pos, f"{prefix} contains {what}, {rule}", hint))
    return problems


def _rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def _text(value: object) -> str:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
