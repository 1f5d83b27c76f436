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


def to_frame(table: pa.Table, names: tuple[str, ...], types: tuple[DaxType, ...]) -> pd.DataFrame:
    """The DataFrame of a query result: columns named `names`, converted per DAX type."""
    data = {f"c{i}": convert(table.column(i), t) for i, t in enumerate(types)}
    frame = pd.DataFrame(data, index=range(table.num_rows))
    frame.columns = list(names)
    return frame


def convert(column: pa.ChunkedArray, t: DaxType) -> pd.Series:
    """One result column as a Series (see the module docstring for the value rules)."""
    typ = column.type
    if pa.types.is_decimal(typ):
        values = _decimal_floats(column)
    elif pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ):
        return pd.Series(column.to_numpy(zero_copy_only=False), dtype="object")
    elif pa.types.is_date(typ):
        return pd.Series(column.to_pandas(date_as_object=True).to_numpy(dtype=object), dtype="object")
    elif pa.types.is_timestamp(typ):
        return _objects(column.to_pandas(timestamp_as_object=True).to_numpy(dtype=object), column)
    elif pa.types.is_null(typ):
        return pd.Series(np.full(len(column), None, dtype=object), dtype="object")
    elif pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ):
        fill = False if pa.types.is_boolean(typ) else 0
        values = (column.fill_null(fill) if column.null_count else column).to_numpy()
    else:  # intervals, lists, …: Arrow's own conversion to Python objects
        return _objects(column.to_pandas(types_mapper=None).to_numpy(dtype=object), column)
    if column.null_count:
        return _objects(values.astype(object), column)
    native = _NATIVE.get(t)
    return pd.Series(values if native is None else values.astype(native, copy=False),
                     dtype="object" if native is None else native)


def _objects(values: np.ndarray, column: pa.ChunkedArray) -> pd.Series:
    """An object column with None wherever `column` is null (BLANK)."""
    if column.null_count:
        values = values.astype(object, copy=False)
        values[np.asarray(pc.is_null(column))] = None
    return pd.Series(values, dtype="object")


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
            valid = np.asarray(chunk.is_valid()) if chunk.null_count else True
            exact = (high == (low >> 63)) & (np.abs(low) < 2 ** 53)
            if not np.all(exact | ~valid):
                break
            parts.append(np.where(valid, low, 0).astype("float64") / float(10 ** typ.scale))
        else:
            return np.concatenate(parts) if parts else np.zeros(0)
    text = pc.cast(column.fill_null(pa.scalar(0, typ)) if column.null_count else column, pa.string())
    return text.to_numpy(zero_copy_only=False).astype("float64")
