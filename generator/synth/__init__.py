"""Stage: produce every table's data, typed as the YAML declares.

Generator-sourced tables are synthesised (deterministic for a seed); CSV and Parquet
sources are read and cast to the declared column types, so every table reaches Power BI
and the engine as one Parquet file with the same schema the TMDL describes.

`generate_files` streams: each table goes chunk by chunk (`Context.chunk_rows` rows) into
its Parquet file through `ParquetSink`, so the build's memory is bounded whatever
`--rows` is. The values come from row-indexed random streams and the file is cut into
fixed row groups, so the bytes are the same for any chunk size (tests/test_synth.py).
`generate` returns the same tables in memory, for tests and small data.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from generator.errors import ForgeError, Problem
from generator.spec.model import Model, Table
from generator.synth.customers import Context
from generator.synth.generators import GENERATORS, KEPT, gen_rows
from generator.synth.sink import ROW_GROUP, ParquetSink
from generator.synth.synthetic import synthetic_table

ARROW_TYPES = {
    "string": pa.string(), "int64": pa.int64(), "double": pa.float64(), "decimal": pa.float64(),
    "boolean": pa.bool_(), "date": pa.date32(), "datetime": pa.timestamp("us"),
}
DEFAULT_ROWS = 100_000
DEFAULT_SEED = 42
CHUNK_ROWS = 1 << 21  # rows generated at a time: ~0.5 GB of orders in flight, values unchanged by it


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


def _context(model: Model, rows: int | None, seed: int | None, chunk_rows: int) -> Context:
    s = model.synth
    start = dt.date.fromisoformat(str(s.get("start", "2021-01-01")))
    end = dt.date.fromisoformat(str(s.get("end", "2024-12-31")))
    params = {t.source.generator: dict(t.source.params) for t in model.tables if t.source.kind == "generator"}
    return Context(seed=int(seed if seed is not None else s.get("seed", DEFAULT_SEED)),
                   orders=int(rows if rows is not None else s.get("orders", DEFAULT_ROWS)),
                   start=start, end=end, tables={}, params=params, chunk_rows=chunk_rows)


def _chunks(model: Model, rows: int | None, seed: int | None,
            chunk_rows: int) -> Iterator[tuple[Table, Iterator[pa.Table]]]:
    """Every table of the model with its conformed chunks, lazily: a table's chunks are
    drawn while its file is written, then dropped."""
    ctx = _context(model, rows, seed, chunk_rows)
    for name in _order(model):  # the small tables later generators read, whole
        if name in KEPT:
            ctx.tables[name] = pa.concat_tables(GENERATORS[name][0](ctx))
    for t in model.tables:
        if t.source.kind == "calculation_group" or t.is_calculated:
            continue  # no data of its own: the items / computed from the model by the engine
        if t.source.kind == "external" and t.source.synthetic is not None:  # import --synthesize
            raw: Iterator[pa.Table] = iter([synthetic_table(model, t, ctx.seed, ARROW_TYPES, ctx.cache)])
        elif t.source.kind == "external":  # M pbi-forge cannot run: typed, but no rows
            raw = iter([_schema(t).empty_table()])
        elif t.source.kind != "generator":
            raw = iter([_read_file(t)])
        elif t.source.generator == "rows":
            raw = iter([gen_rows(ctx, t.source.params)])
        elif t.source.generator in ctx.tables:
            raw = iter([ctx.tables[t.source.generator]])
        else:
            raw = GENERATORS[t.source.generator][0](ctx)
        yield t, (_conform(t, chunk) for chunk in raw)


def generate(model: Model, rows: int | None = None, seed: int | None = None,
             chunk_rows: int = CHUNK_ROWS) -> dict[str, pa.Table]:
    """Every table of the model, by table name, conformed to its YAML columns (in memory)."""
    return {t.name: pa.concat_tables(list(chunks)) for t, chunks in _chunks(model, rows, seed, chunk_rows)}


def generate_files(model: Model, folder: Path, rows: int | None = None, seed: int | None = None,
                   chunk_rows: int = CHUNK_ROWS) -> dict[str, Path]:
    """Write every table to `folder/<table>.parquet`, streaming; the paths by table name.

    Bytes equal `write_parquet(generate(...)[table])` for every table and chunk size.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for t, chunks in _chunks(model, rows, seed, chunk_rows):
        path = folder / f"{t.name}.parquet"
        with ParquetSink(path, _schema(t)) as sink:
            for chunk in chunks:
                sink.write(chunk)
        paths[t.name] = path
    return paths


def _schema(table: Table) -> pa.Schema:
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type]) for c in table.columns])


def write_parquet(table: pa.Table, path: Path) -> None:
    """Deterministic Parquet: fixed row groups of ROW_GROUP rows, no pandas metadata (see sink)."""
    with ParquetSink(path, table.schema) as sink:
        sink.write(table)


__all__ = ["ARROW_TYPES", "CHUNK_ROWS", "ROW_GROUP", "generate", "generate_files", "write_parquet"]
