"""Query results: an Arrow table from DuckDB → a pandas DataFrame, one column at a time.

Every column is converted with array operations (pyarrow compute, numpy), never value by
value: at 10M orders a per-value loop cost 13 s of a 126 s run. The values are the ones
the engine has always returned:

- BLANK (SQL NULL) and NaN stay distinct: a column holding BLANK is an object column with
  None there (and Python ints/floats/bools/strings elsewhere); a column without BLANK of a
  numeric or Boolean DAX type is a native int64/float64/bool column.
- Decimals become floats, correctly rounded (what float(Decimal) gives).
- Dates are `datetime.date`, timestamps `datetime.datetime`, text `str`, in object columns.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from generator.engine.types import DaxType

_NATIVE = {DaxType.INT: "int64", DaxType.DOUBLE: "float64", DaxType.CURRENCY: "float64", DaxType.BOOL: "bool"}
_NP = {t: np.dtype(name) for t, name in _NATIVE.items()}  # dtype objects: pandas parses strings per call
_OBJECT = np.dtype(object)


def to_frame(table: pa.Table, names: tuple[str, ...], types: tuple[DaxType, ...]) -> pd.DataFrame:
    """The DataFrame of a query result: columns named `names`, converted per DAX type.

    Built from the converted Series by position (names may repeat), without an index to
    align: pandas' alignment was most of the conversion cost of a one-row result."""
    series = [convert(table.column(i), t) for i, t in enumerate(types)]
    columns = pd.Index(list(names), dtype=_OBJECT)
    if all(s.dtype == _OBJECT for s in series):  # one block, no per-column work at all
        values = np.empty((table.num_rows, len(series)), dtype=_OBJECT)
        for i, s in enumerate(series):
            values[:, i] = s.to_numpy()
        return pd.DataFrame(values, columns=columns, dtype=_OBJECT)
    frame = pd.DataFrame(dict(enumerate(series)))
    frame.columns = columns
    return frame


def convert(column: pa.ChunkedArray, t: DaxType) -> pd.Series:
    """One result column as a Series (see the module docstring for the value rules)."""
    typ = column.type
    if pa.types.is_decimal(typ):
        values = _decimal_floats(column)
    elif pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ):
        return pd.Series(column.to_numpy(zero_copy_only=False), dtype=_OBJECT)
    elif pa.types.is_date(typ):
        return pd.Series(column.to_pandas(date_as_object=True).to_numpy(dtype=object), dtype=_OBJECT)
    elif pa.types.is_timestamp(typ):
        return _objects(column.to_pandas(timestamp_as_object=True).to_numpy(dtype=object), column)
    elif pa.types.is_null(typ):
        return pd.Series(np.full(len(column), None, dtype=object), dtype=_OBJECT)
    elif pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ):
        fill = False if pa.types.is_boolean(typ) else 0
        values = (column.fill_null(fill) if column.null_count else column).to_numpy()
    else:  # intervals, lists, …: Arrow's own conversion to Python objects
        return _objects(column.to_pandas(types_mapper=None).to_numpy(dtype=object), column)
    if column.null_count:
        return _objects(values.astype(object), column)
    native = _NP.get(t)
    if native is None:
        return pd.Series(values.astype(_OBJECT), dtype=_OBJECT)
    return pd.Series(values.astype(native, copy=False), dtype=native)


def _objects(values: np.ndarray, column: pa.ChunkedArray) -> pd.Series:
    """An object column with None wherever `column` is null (BLANK)."""
    if column.null_count:
        values = values.astype(object, copy=False)
        if not values.flags.writeable:  # pyarrow hands out read-only buffers (all-null timestamps)
            values = values.copy()
        values[np.asarray(pc.is_null(column))] = None
    return pd.Series(values, dtype=_OBJECT)


def _decimal_floats(column: pa.ChunkedArray) -> np.ndarray:
    """float64 values of a decimal column, each the correctly rounded value of the decimal.

    When every unscaled integer is below 2**53 it and 10**scale are exact doubles, so one
    division is correctly rounded; otherwise the decimal text is parsed by numpy (strtod,
    also correctly rounded). Nulls come out as 0.0, to be masked by the caller."""
    typ = column.type
    if pa.types.is_decimal128(typ) and 0 <= typ.scale <= 22:
        parts = []
        for chunk in column.chunks:
            words = np.frombuffer(chunk.buffers()[1], dtype="<i8")[2 * chunk.offset: 2 * (chunk.offset + len(chunk))]
            low, high = words[0::2], words[1::2]
            exact = (high == (low >> 63)) & (np.abs(low) < 2 ** 53)
            if chunk.null_count:
                valid = np.asarray(chunk.is_valid(), dtype=bool)
                exact |= ~valid
                low = np.where(valid, low, 0)
            if not np.all(exact):
                break
            parts.append(low.astype("float64") / float(10 ** typ.scale))
        else:
            return np.concatenate(parts) if parts else np.zeros(0)
    text = pc.cast(column.fill_null(pa.scalar(0, typ)) if column.null_count else column, pa.string())
    return text.to_numpy(zero_copy_only=False).astype("float64")


def plain_value(value):
    """A result value as plain JSON/CSV data: None for BLANK, Python numbers, ISO dates
    ("2024-02-29", or "2024-02-29T13:45:00" with a time), and NaN / Infinity / -Infinity as
    the strings DAX shows for them (JSON has no such numbers). Decimals become floats."""
    import datetime as _dt
    import decimal
    import math

    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        value = value.item()
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time(0) else value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)
