"""Display text for values: the measure's or column's format string through the engine's
own FORMAT (generator/engine/formats.py), run on DuckDB a whole column at a time.

So a card shows exactly what `FORMAT([Measure], "<its format>")` returns in the engine.
Values without a format string show as Power BI's General format does.
"""
from __future__ import annotations

import datetime as _dt
import itertools
import math
import re
from typing import Any, Sequence

import pandas as pd
from sqlglot import exp

from generator.engine.runtime.engine import Engine
from generator.engine.formats import format_sql
from generator.engine.types import DaxType
from generator.engine.values import Scalar
from generator.spec.model import Model

_VIEW = itertools.count()
# Spellings Power BI accepts that the engine's FORMAT knows under another: "\\$" (a literal
# character escaped) is "$", and "#,0" (a thousands separator before the first digit
# placeholder) is "#,##0".
_ESCAPED = re.compile(r"\\([$€£])")
_SHORT_GROUPING = re.compile(r"^([$€£]?)#,0(?=[.%]|$)")


def field_format(model: Model, column: str) -> str | None:
    """The format string of a result column: `[Measure]` or `Table[Column]`."""
    if column.startswith("["):
        measure = model.measure(column[1:-1])
        return measure.format if measure else None
    table_name, _, name = column.partition("[")
    table = model.table(table_name.strip("'"))
    col = table.column(name.rstrip("]")) if table else None
    return getattr(col, "format", None) if col else None


def engine_format(fmt: str) -> str:
    return _SHORT_GROUPING.sub(r"\1#,##0", _ESCAPED.sub(r"\1", fmt))


def general(value: Any) -> str:
    """Power BI's General format: BLANK empty, whole numbers without decimals, up to 15 digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.15g}"
    if isinstance(value, (pd.Timestamp, _dt.datetime)):
        value = pd.Timestamp(value)
        return f"{value.month}/{value.day}/{value.year}" + (
            "" if value.time() == _dt.time(0) else value.strftime(" %-I:%M:%S %p"))
    if isinstance(value, _dt.date):
        return f"{value.month}/{value.day}/{value.year}"
    return str(value)


def _dax_type(values: pd.Series) -> DaxType | None:
    if values.dtype.kind == "M":
        return DaxType.DATETIME
    if values.dtype.kind in "iuf":
        return DaxType.DOUBLE
    sample = values.dropna()
    if len(sample) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in sample):
        return DaxType.DOUBLE
    if len(sample) and all(isinstance(v, (pd.Timestamp, _dt.date)) for v in sample):
        return DaxType.DATETIME
    return None


def format_values(engine: Engine, values: Sequence[Any] | pd.Series, fmt: str | None) -> list[str]:
    """Each value as FORMAT(value, fmt) gives it in the engine; General when there is no
    format, or the values are not numbers or dates."""
    series = pd.Series(values) if not isinstance(values, pd.Series) else values.reset_index(drop=True)
    kind = _dax_type(series) if fmt else None
    if kind is None or not len(series):
        return [general(v) for v in series.tolist()]
    if kind is DaxType.DATETIME:
        series = pd.to_datetime(series)
    else:
        series = pd.to_numeric(series, errors="coerce").astype("float64")
    expr = format_sql(Scalar(exp.column("v"), kind), engine_format(fmt))
    if expr is None:
        return [general(v) for v in series.tolist()]
    name = f"pbi_forge_fmt_{next(_VIEW)}"
    engine.con.register(name, pd.DataFrame({"i": range(len(series)), "v": series}))
    try:
        rows = engine.con.execute(f"SELECT {expr.sql('duckdb')} FROM {name} ORDER BY i").fetchall()
    finally:
        engine.con.unregister(name)
    return ["" if r[0] is None else r[0] for r in rows]
