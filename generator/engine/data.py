"""Model loading: one DuckDB view per table, over its Parquet/CSV file or in-memory rows.

Nothing is copied: a 10M-row fact stays on disk and DuckDB streams it per query. Every
column is exposed under its model name with its model type. Text read from CSV or
in-memory rows gets its trailing spaces trimmed, as Power BI does at load
(dax-semantics.md §1.2).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import duckdb
import pandas as pd
import pyarrow as pa
from sqlglot import exp

from generator.errors import ForgeError, Problem
from generator.spec.model import Model, Relationship, Table
from generator.engine.sql import create_view, fn, ident, parenthesize, render, table_ref  # noqa: F401
from generator.engine.types import model_sql_type
from generator.spec.calc_groups import item_rows

TableData = "pd.DataFrame | list[dict[str, Any]] | list[list[Any]]"


def raw_name(table: str) -> str:
    return f"__raw__{table}"


def _frame(table: Table, rows: Any) -> pd.DataFrame:
    names = [c.name for c in table.columns]
    if isinstance(rows, (pd.DataFrame, pa.Table)):  # an Arrow table: the build's own data, registered as is
        return rows
    rows = list(rows)
    if rows and isinstance(rows[0], Mapping):
        lower = {n.lower(): n for n in names}
        fixed = [{lower.get(str(k).lower(), k): v for k, v in r.items()} for r in rows]
        frame = pd.DataFrame(fixed, columns=names)
    else:
        frame = pd.DataFrame(rows, columns=names)
    return frame.astype(object).where(frame.notna(), None)


def source_file(table: Table, out: Path | None) -> tuple[Path, str]:
    """The file a table reads and its format ("csv" or "parquet"), checked to exist."""
    src = table.source
    if src.kind in ("csv", "parquet"):
        path, kind = src.path, src.kind
    else:
        if out is None:
            raise ForgeError(Problem(table.pos, f"no data for table '{table.name}'"))
        path, kind = out / "data" / f"{table.name}.parquet", "parquet"
    if path is None or not Path(path).exists():
        raise ForgeError(Problem(table.pos, f"no data for table '{table.name}': {path} does not exist",
                                 "run `python build.py` first to write the data files"))
    return Path(path), kind


def _source_sql(table: Table, out: Path | None) -> tuple[exp.Expression, bool]:
    """FROM-clause expression reading the table's file, and whether to trim text."""
    path, kind = source_file(table, out)
    args: list[exp.Expression] = [exp.Literal.string(str(path))]
    if kind == "csv":
        args.append(exp.EQ(this=exp.column("header"), expression=exp.true()))
        args.append(exp.EQ(this=exp.column("all_varchar"), expression=exp.true()))
    return exp.Anonymous(this="read_csv" if kind == "csv" else "read_parquet", expressions=args), kind == "csv"


def load_tables(con: duckdb.DuckDBPyConnection, model: Model, data: Mapping[str, Any] | None,
                out: Path | None) -> None:
    """Create one view per model table named exactly like the table."""
    given = {k.lower(): v for k, v in (data or {}).items()}
    for table in model.tables:
        trim = True
        if table.is_calculated:  # computed later by the runtime (calculated_tables.py)
            con.execute(render(create_view(table.name, placeholder(table))))
            continue
        if table.calculation_group is not None:  # its rows are the items, whatever the data says
            frame = _frame(table, item_rows(table))
            con.register(raw_name(table.name), frame)
            source: exp.Expression = table_ref(raw_name(table.name))
        elif table.name.lower() in given:
            frame = _frame(table, given[table.name.lower()])
            con.register(raw_name(table.name), frame)
            source = table_ref(raw_name(table.name))
        elif data is not None and out is None:
            frame = _frame(table, [])
            con.register(raw_name(table.name), frame)
            source = table_ref(raw_name(table.name))
        else:
            func, trim = _source_sql(table, out)
            source = exp.Table(this=func)
        present = _columns_of(con, source)
        select = typed_select(table, present, source, trim)
        texts = [c.name for c in table.columns if c.type == "string"]
        select = merge_case_variants(lambda tree: con.execute(tree.sql("duckdb")).fetchall()[0], select,
                                     [c.name for c in table.columns], texts)
        con.execute(render(create_view(table.name, select)))


def placeholder(table: Table) -> exp.Select:
    """SELECT typed NULLs named like the table's columns WHERE FALSE: no rows yet."""
    cols = [exp.alias_(exp.cast(exp.Null(), column_sql_type(c.type)), ident(c.name)) for c in table.columns]
    return exp.select(*cols).where(exp.false())


def column_sql_type(column_type: str) -> str:
    """The SQL type a model column is stored as (a date column as DATE, not TIMESTAMP)."""
    return "DATE" if column_type == "date" else model_sql_type(column_type)


def typed_select(table: Table, present: dict[str, str], source: exp.Expression, trim: bool) -> exp.Select:
    """SELECT every model column of `table` under its model name and type from `source`
    (whose columns, lower-case → actual, are `present`); text trimmed when `trim`."""
    projections = []
    for col in table.columns:
        actual = present.get(col.name.lower())
        if actual is None:
            raise ForgeError(Problem(col.pos, f"table '{table.name}' has no data for column '{col.name}'"))
        value: exp.Expression = exp.column(actual, quoted=True)
        if col.type == "string":
            value = exp.cast(value, "VARCHAR")
            if trim:
                value = exp.func("rtrim", value)
        elif col.type == "boolean" and trim:
            value = exp.cast(exp.cast(value, "VARCHAR"), "BOOLEAN")
        else:
            value = exp.cast(value, model_sql_type(col.type))
        projections.append(exp.alias_(value, ident(col.name)))
    return exp.select(*projections).from_(source)


def merge_case_variants(fetch_row, select: exp.Select, names: list[str], texts: list[str]) -> exp.Select:
    """Power BI stores text values that differ only in case as one value (the column's
    collation is case-insensitive): "Oslo" and "OSLO" are one group, one slicer item.
    Columns holding such variants get one spelling per value (the one that sorts first);
    other columns are left as they are. One scan of the table checks all its text columns
    (`fetch_row` runs a query tree on the backend and returns its one row)."""
    if not texts:
        return select
    counts = []
    for name in texts:
        col = exp.column(name, quoted=True)
        counts += [exp.Count(this=exp.Distinct(expressions=[col])),
                   exp.Count(this=exp.Distinct(expressions=[exp.Lower(this=col.copy())]))]
    row = fetch_row(exp.select(*counts).from_(select.subquery("t")))
    merge = [name for i, name in enumerate(texts) if row[2 * i] != row[2 * i + 1]]
    if not merge:
        return select
    base = select.subquery("b")
    index = {name: i for i, name in enumerate(merge)}
    out = exp.select(*[
        exp.alias_(exp.func("coalesce", exp.column("v", f"m{index[name]}"), exp.column(name, "b", quoted=True)),
                   ident(name)) if name in index else exp.column(name, "b", quoted=True)
        for name in names]).from_(base)
    for i, name in enumerate(merge):
        col = exp.column(name, quoted=True)
        spelling = exp.select(exp.alias_(exp.Lower(this=col), "k"), exp.alias_(exp.Min(this=col.copy()), "v")).from_(
            select.subquery("s")).group_by("1")
        out = out.join(spelling.subquery(f"m{i}"), on=exp.EQ(this=exp.Lower(this=exp.column(name, "b", quoted=True)),
                                                               expression=exp.column("k", f"m{i}")), join_type="LEFT")
    return out


def _columns_of(con: duckdb.DuckDBPyConnection, source: exp.Expression) -> dict[str, str]:
    probe = exp.select(exp.Star()).from_(source).limit(0).sql("duckdb")
    result = con.execute(probe)
    names = [d[0] for d in result.description]
    result.fetchall()  # finish the result: DuckDB refuses new work while one is pending
    return {n.lower(): n for n in names}


def orphan_check(rel: Relationship) -> exp.Select:
    """Query: does the many side hold a key (or BLANK key) with no match on the one side?"""
    many = exp.select("1").from_(table_ref(rel.from_table, "m")).where(
        exp.not_(exp.Exists(this=exp.select("1").from_(table_ref(rel.to_table, "o")).where(
            exp.EQ(this=exp.column(rel.to_column, "o", quoted=True),
                   expression=exp.column(rel.from_column, "m", quoted=True))))))
    return exp.select(exp.Exists(this=many))
