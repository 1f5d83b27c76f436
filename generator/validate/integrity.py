"""Data checks Power BI's refresh makes: unique, non-blank one sides and key columns.

A many-to-one relationship whose one side has a duplicate value silently double-counts
in the engine (each many-side row joins twice), while Power BI refuses the refresh:
"Column 'X' in Table 'T' contains a duplicate value '2' and this is not allowed for
columns on the one side of a many-to-one relationship or for columns that are used as
the primary key of a table". The same holds for blank values and for `key: true`
columns. This module runs the check on the Arrow tables the build is about to write
(generated, CSV or Parquet), with one DuckDB aggregate query per column, so it is fast
on millions of rows.

Values compare as Power BI's storage engine compares them: text case-insensitively and
with trailing spaces trimmed ('abc', 'ABC' and 'abc ' are one value; see
docs/dax-semantics.md §1.2), so a CSV key that differs only by case is a duplicate too.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from generator.errors import Problem
from generator.spec.integrity import MODEL_TYPES
from generator.spec.model import Model, Pos, Relationship

SHOWN = 3  # duplicate values named in a message


@dataclass(frozen=True)
class _Unique:
    """A column that must be unique and non-blank, and why."""

    table: str
    column: str
    column_type: str
    pos: Pos
    relationship: Relationship | None  # None: a `key: true` column


def integrity_problems(model: Model, data: dict[str, pa.Table]) -> list[Problem]:
    """Duplicate or blank values where Power BI needs unique ones; empty when all is well."""
    problems: list[Problem] = []
    con = duckdb.connect()
    try:
        for check in _checks(model, data):
            con.register("t", data[check.table].select([check.column]))
            rows = con.execute(_query(check).sql(dialect="duckdb")).fetchall()
            con.unregister("t")
            problems.extend(_problems(check, rows))
    finally:
        con.close()
    return problems


def _checks(model: Model, data: dict[str, pa.Table]) -> list[_Unique]:
    """One check per column: the first relationship whose one side it is, else its key flag."""
    checks: dict[tuple[str, str], _Unique] = {}
    for r in model.relationships:
        one, many = model.table(r.to_table), model.table(r.from_table)
        if one is None or many is None or one.name.lower() == many.name.lower():
            continue
        col, other = one.column(r.to_column), many.column(r.from_column)
        if col is None or other is None or MODEL_TYPES[col.type] != MODEL_TYPES[other.type]:
            continue
        key = (one.name.lower(), col.name.lower())
        if one.name in data and col.name in data[one.name].column_names:
            checks.setdefault(key, _Unique(one.name, col.name, col.type, r.pos, r))
    for t in model.tables:
        for c in t.columns:
            if c.key and t.name in data and c.name in data[t.name].column_names:
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
