"""Stage: produce every table's data as Arrow tables, typed as the YAML declares.

Generator-sourced tables are synthesised (deterministic for a seed); CSV and Parquet
sources are read and cast to the declared column types, so every table reaches Power BI
and the engine as one Parquet file with the same schema the TMDL describes.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from generator.errors import ForgeError, Problem
from generator.spec.model import Model, Table
from generator.synth.customers import GENERATORS, Context, gen_rows

ARROW_TYPES = {
    "string": pa.string(), "int64": pa.int64(), "double": pa.float64(), "decimal": pa.float64(),
    "boolean": pa.bool_(), "date": pa.date32(), "datetime": pa.timestamp("us"),
}
DEFAULT_ROWS = 100_000
DEFAULT_SEED = 42


def _order(model: Model) -> list[str]:
    """Generator names in dependency order; an unknown generator is a load error."""
    problems, needed = [], []
    for t in model.tables:
        g = t.source.generator
        if t.source.kind == "generator" and g != "rows" and g not in GENERATORS:
            problems.append(Problem(t.source.pos, f"unknown generator '{g}' for table '{t.name}'",
                                    f"known generators: rows, {', '.join(sorted(GENERATORS))}"))
        elif t.source.kind == "generator" and g != "rows":
            needed.append(g)
    if problems:
        raise ForgeError(problems)
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name not in ordered:
            for dep in GENERATORS[name][1]:
                visit(dep)
            ordered.append(name)

    for g in needed:
        visit(g)
    return ordered


def _conform(table: Table, data: pa.Table) -> pa.Table:
    """Select the YAML's columns, in YAML order, cast to the declared types."""
    problems, arrays = [], []
    for col in table.columns:
        if col.name not in data.column_names:
            problems.append(Problem(col.pos, f"column '{col.name}' is not produced by the source of '{table.name}'",
                                    f"available: {', '.join(data.column_names)}"))
            continue
        arr = data[col.name]
        target = ARROW_TYPES[col.type]
        try:
            if arr.type != target:
                if pa.types.is_string(arr.type) and col.type in ("date", "datetime"):
                    arr = pc.strptime(arr, format="%Y-%m-%d", unit="us") if col.type == "datetime" else \
                        pc.strptime(arr, format="%Y-%m-%d", unit="s").cast(pa.date32())
                else:
                    arr = arr.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            problems.append(Problem(col.pos, f"column '{col.name}' cannot be read as {col.type}: {exc}"))
            continue
        arrays.append(arr)
    if problems:
        raise ForgeError(problems)
    return pa.table(arrays, names=[c.name for c in table.columns])


def _read_file(table: Table) -> pa.Table:
    path = table.source.path
    assert path is not None
    try:
        if table.source.kind == "csv":
            return pacsv.read_csv(path)
        return pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise ForgeError(Problem(table.source.pos, f"cannot read {table.source.kind} source {path}: {exc}")) from None


def _context(model: Model, rows: int | None, seed: int | None) -> Context:
    s = model.synth
    start = dt.date.fromisoformat(str(s.get("start", "2021-01-01")))
    end = dt.date.fromisoformat(str(s.get("end", "2024-12-31")))
    params = {t.source.generator: dict(t.source.params) for t in model.tables if t.source.kind == "generator"}
    return Context(seed=int(seed if seed is not None else s.get("seed", DEFAULT_SEED)),
                   orders=int(rows if rows is not None else s.get("orders", DEFAULT_ROWS)),
                   start=start, end=end, tables={}, params=params)


def generate(model: Model, rows: int | None = None, seed: int | None = None) -> dict[str, pa.Table]:
    """Every table of the model but the calculated ones, by table name, conformed to its YAML columns."""
    ctx = _context(model, rows, seed)
    for name in _order(model):
        ctx.tables[name] = GENERATORS[name][0](ctx)
    out: dict[str, pa.Table] = {}
    for t in model.tables:
        if t.source.kind == "calculation_group":
            continue  # no data file: the rows are the items, known from the model
        if t.is_calculated:
            continue  # computed from the model by Power BI / the engine: no data of its own
        if t.source.kind == "generator":
            raw = gen_rows(ctx, t.source.params) if t.source.generator == "rows" else ctx.tables[t.source.generator]
        else:
            raw = _read_file(t)
        out[t.name] = _conform(t, raw)
    return out


def write_parquet(table: pa.Table, path: Path) -> None:
    """Deterministic Parquet: fixed row groups, no pandas metadata.

    SNAPPY, not ZSTD: Snappy is the codec every Microsoft Parquet reader (Power Query's
    Parquet.Document, Fabric, ADF) is known to accept; ZSTD support is not documented for all.
    """
    pq.write_table(table.replace_schema_metadata(None), path, compression="snappy", row_group_size=1 << 20,
                   use_dictionary=True, write_statistics=True, version="2.6")
