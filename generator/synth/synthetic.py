"""Generic synthetic rows for a table whose source is Power Query M pbi-forge cannot run.

`pbi-forge import --synthesize` writes, next to an imported table's verbatim M, a
`synthetic:` spec derived from its column types, keys and relationships
(generator/importer/synthesize.py). The build runs that spec here so the reference engine
has rows to evaluate; Power BI never sees them (the TMDL partition keeps the original M,
which the refresh runs). The spec:

    synthetic:
      rows: 5000                 # row count (the importer picks it by the table's role)
      role: fact                 # informational: dimension | date | bridge | fact | standalone
      columns:                   # a column not listed gets its type's default
        Order Number: {unique: true}                 # 1..rows (text: "Order Number 1"...)
        Order Date: {references: "Calendar[Date]"}   # drawn from the values of that column
        Quantity: {range: [1, 100]}                  # uniform in [lo, hi] (dates: ISO strings)
        Color: {values: [Red, Green, Blue]}          # uniform over a small vocabulary
        Date: {unique: true, start: "2021-01-01"}    # consecutive days from `start`
        Month (Year): {of: Date, format: "%b %Y"}    # derived from a date column of the table

`references` names a column of another synthesized table, whose values are computed the
same way (so a foreign key only ever draws keys that exist: no orphans). `of` + `format`
derives a column from a date column of the same table with a strftime pattern (plus {Q}
for the quarter 1-4, {S} for the semester 1-2), read back as the column's type: a date
table's Year, Month and "Q1 2024" columns then agree with its dates. Every column
draws from its own keyed stream (generator/synth/random.py), so the rows are a function
of (seed, table, column) only: the same YAML and seed give byte-identical Parquet.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable

import numpy as np
import pyarrow as pa

from generator.errors import ForgeError, Problem
from generator.spec.model import Column, Model, Table
from generator.synth.random import uniform

DEFAULT_START = dt.date(2021, 1, 1)
DEFAULT_END = dt.date(2024, 12, 31)
SPEC_KEYS = {"unique", "start", "references", "range", "values", "of", "format"}
_REF = re.compile(r"^(?:'((?:[^']|'')+)'|([^\[\]']+))\[([^\]]+)\]$")
EPOCH = dt.date(1970, 1, 1)


def parse_ref(text: str) -> tuple[str, str] | None:
    """`Table[Column]` or `'Some Table'[Column]` → (table, column); None if malformed."""
    m = _REF.match(str(text).strip())
    if not m:
        return None
    return (m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2).strip()), m.group(3)


def _date(value: Any, where: str, table: Table) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ForgeError(Problem(table.source.pos, f"synthetic rows of '{table.name}': {where}: '{value}' "
                                                   "is not a date (YYYY-MM-DD)")) from None


class Synthesizer:
    """Computes the synthetic columns of a model's tables, each once (references reuse them)."""

    def __init__(self, model: Model, seed: int, types: dict[str, pa.DataType]) -> None:
        self.model, self.seed, self.types = model, seed, types  # types: YAML type -> Arrow type
        self.done: dict[tuple[str, str], pa.Array] = {}
        self.busy: set[tuple[str, str]] = set()

    def table(self, table: Table) -> pa.Table:
        spec = self._spec(table)
        unknown = sorted(set(spec.get("columns") or {}) - {c.name for c in table.columns})
        if unknown:
            raise ForgeError(Problem(table.source.pos, f"synthetic rows of '{table.name}': no column "
                                                       f"{', '.join(repr(u) for u in unknown)} in the table",
                                     f"columns: {', '.join(c.name for c in table.columns)}"))
        return pa.table([self.column(table, c) for c in table.columns], names=[c.name for c in table.columns])

    def _spec(self, table: Table) -> dict[str, Any]:
        spec = table.source.synthetic
        if not isinstance(spec, dict):
            raise ForgeError(Problem(table.source.pos, f"table '{table.name}' has no synthetic rows to reference",
                                     "only a table with `source: {m: ..., synthetic: ...}` can be referenced"))
        return spec

    def rows(self, table: Table) -> int:
        n = self._spec(table).get("rows", 0)
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ForgeError(Problem(table.source.pos, f"synthetic rows of '{table.name}': rows must be a "
                                                       f"whole number >= 0, not {n!r}"))
        return n

    def column(self, table: Table, col: Column) -> pa.Array:
        key = (table.name, col.name)
        if key in self.done:
            return self.done[key]
        if key in self.busy:
            raise ForgeError(Problem(table.source.pos, f"synthetic rows of '{table.name}': column '{col.name}' "
                                                       "references itself through other tables"))
        self.busy.add(key)
        spec = dict((self._spec(table).get("columns") or {}).get(col.name) or {})
        bad = sorted(set(spec) - SPEC_KEYS)
        if bad:
            raise ForgeError(Problem(table.source.pos, f"synthetic rows of '{table.name}'[{col.name}]: unknown "
                                                       f"key {', '.join(bad)}", f"known: {', '.join(sorted(SPEC_KEYS))}"))
        n = self.rows(table)
        u = uniform(self.seed, "synthetic:" + table.name, col.name, n)
        if spec.get("unique"):
            values = self._unique(table, col, spec, n)
        elif "of" in spec:
            values = self._derived(table, col, spec)
        elif "references" in spec:
            values = self._referenced(table, col, spec["references"], u)
        elif "values" in spec:
            vocab = list(spec["values"])
            if not vocab:
                raise ForgeError(Problem(table.source.pos, f"synthetic rows of '{table.name}'[{col.name}]: "
                                                           "`values` is empty"))
            values = self._cast(table, col, [vocab[i] for i in np.minimum((u * len(vocab)).astype(np.int64),
                                                                          len(vocab) - 1)])
        else:
            values = self._ranged(table, col, spec.get("range"), u)
        self.busy.discard(key)
        self.done[key] = values
        return values

    def _cast(self, table: Table, col: Column, items: list[Any]) -> pa.Array:
        if col.type == "date":
            items = [_date(v, col.name, table) for v in items]
        elif col.type == "datetime":
            items = [v if isinstance(v, dt.datetime) else dt.datetime.combine(_date(v, col.name, table), dt.time())
                     for v in items]
        try:
            return pa.array(items, type=self.types[col.type])
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
            raise ForgeError(Problem(table.source.pos, f"synthetic rows of '{table.name}'[{col.name}]: a value "
                                                       f"is not of type {col.type}: {exc}")) from None

    def _unique(self, table: Table, col: Column, spec: dict[str, Any], n: int) -> pa.Array:
        """1..n; text "<column> 1"...; dates consecutive days from `start`."""
        i = np.arange(1, n + 1, dtype=np.int64)
        if col.type in ("date", "datetime"):
            first = _date(spec.get("start", DEFAULT_START), "start", table)
            days = (first - EPOCH).days + i - 1
            arr = pa.array(days.astype(np.int32), type=pa.int32()).cast(pa.date32())
            return arr if col.type == "date" else arr.cast(pa.timestamp("us"))
        if col.type == "string":
            return pa.array([f"{col.name} {k}" for k in i], type=pa.string())
        if col.type == "boolean":
            raise ForgeError(Problem(table.source.pos, f"synthetic rows of '{table.name}'[{col.name}]: a "
                                                       "boolean column cannot be unique"))
        return self._cast(table, col, i.tolist())

    def _derived(self, table: Table, col: Column, spec: dict[str, Any]) -> pa.Array:
        """`format` (strftime, {Q}, {S}) of each date of the column `of`, as the column's type."""
        base = table.column(str(spec["of"]))
        if base is None or base.type not in ("date", "datetime") or "format" not in spec:
            raise ForgeError(Problem(table.source.pos, f"synthetic rows of '{table.name}'[{col.name}]: `of` must "
                                                       "name a date column of the table, with a `format`"))
        pattern = str(spec["format"])
        texts = []
        for d in self.column(table, base).to_pylist():
            if d is None:
                texts.append(None)
                continue
            text = pattern.replace("{Q}", str((d.month - 1) // 3 + 1)).replace("{S}", str((d.month - 1) // 6 + 1))
            texts.append(d.strftime(text))
        if col.type in ("int64", "double", "decimal"):
            try:
                return self._cast(table, col, [None if t is None else (int(t) if col.type == "int64" else float(t))
                                               for t in texts])
            except ValueError:
                raise ForgeError(Problem(table.source.pos, f"synthetic rows of '{table.name}'[{col.name}]: format "
                                                           f"'{pattern}' does not give numbers")) from None
        if col.type == "boolean":
            raise ForgeError(Problem(table.source.pos, f"synthetic rows of '{table.name}'[{col.name}]: a boolean "
                                                       "cannot be derived with a format"))
        return self._cast(table, col, texts)

    def _referenced(self, table: Table, col: Column, target: Any, u: np.ndarray) -> pa.Array:
        parsed = parse_ref(target)
        other = self.model.table(parsed[0]) if parsed else None
        other_col = other.column(parsed[1]) if other is not None and parsed else None
        if other_col is None or other is None or other.source.kind != "external":
            raise ForgeError(Problem(table.source.pos, f"synthetic rows of '{table.name}'[{col.name}]: references "
                                                       f"'{target}', which is not a column of a synthesized table"))
        pool = pa.array(sorted(set(self.column(other, other_col).to_pylist()) - {None}))
        if len(pool) == 0:
            if len(u):
                raise ForgeError(Problem(table.source.pos, f"synthetic rows of '{table.name}'[{col.name}]: "
                                                           f"'{target}' has no rows to draw from"))
            return self._cast(table, col, [])
        picks = np.minimum((u * len(pool)).astype(np.int64), len(pool) - 1)
        return self._cast(table, col, pool.take(pa.array(picks)).to_pylist())

    def _ranged(self, table: Table, col: Column, bounds: Any, u: np.ndarray) -> pa.Array:
        make = _DEFAULTS.get(col.type)
        if make is None:  # pragma: no cover - every YAML type has a default
            raise ForgeError(Problem(table.source.pos, f"synthetic rows: no generator for type {col.type}"))
        if bounds is not None and (not isinstance(bounds, list) or len(bounds) != 2):
            raise ForgeError(Problem(table.source.pos, f"synthetic rows of '{table.name}'[{col.name}]: range "
                                                       f"must be [low, high], not {bounds!r}"))
        return make(self, table, col, bounds, u)


def _numbers(self: Synthesizer, table: Table, col: Column, bounds: Any, u: np.ndarray) -> pa.Array:
    lo, hi = bounds if bounds is not None else ((1, 100) if col.type == "int64" else (1.0, 1000.0))
    if col.type == "int64":
        values = int(lo) + np.minimum((u * (int(hi) - int(lo) + 1)).astype(np.int64), int(hi) - int(lo))
        return pa.array(values, type=pa.int64())
    return pa.array(np.round(float(lo) + u * (float(hi) - float(lo)), 2), type=pa.float64())


def _dates(self: Synthesizer, table: Table, col: Column, bounds: Any, u: np.ndarray) -> pa.Array:
    lo, hi = (_date(b, "range", table) for b in (bounds or (DEFAULT_START, DEFAULT_END)))
    span = (hi - lo).days + 1
    days = (lo - EPOCH).days + np.minimum((u * span).astype(np.int64), span - 1)
    arr = pa.array(days.astype(np.int32), type=pa.int32()).cast(pa.date32())
    if col.type == "date":
        return arr
    seconds = uniform(self.seed, "synthetic:" + table.name, col.name + "#time", len(u))
    micros = days * 86_400_000_000 + (seconds * 86_400).astype(np.int64) * 1_000_000
    return pa.array(micros, type=pa.timestamp("us"))


def _text(self: Synthesizer, table: Table, col: Column, bounds: Any, u: np.ndarray) -> pa.Array:
    vocab = [f"{col.name} {k}" for k in range(1, 6)]
    return pa.array([vocab[i] for i in np.minimum((u * 5).astype(np.int64), 4)], type=pa.string())


def _booleans(self: Synthesizer, table: Table, col: Column, bounds: Any, u: np.ndarray) -> pa.Array:
    return pa.array(u < 0.5, type=pa.bool_())


# a column's default generator by YAML type (a type missing here is a loud error above)
_DEFAULTS: dict[str, Callable[[Synthesizer, Table, Column, Any, np.ndarray], pa.Array]] = {
    "int64": _numbers, "double": _numbers, "decimal": _numbers,
    "date": _dates, "datetime": _dates, "string": _text, "boolean": _booleans,
}


def synthetic_table(model: Model, table: Table, seed: int, types: dict[str, pa.DataType],
                    cache: dict[str, Any] | None = None) -> pa.Table:
    """The synthetic rows of `table` (its `source.synthetic` spec), typed as its YAML columns
    (`types`: the synth stage's YAML type -> Arrow type). `cache` (optional, shared across the
    tables of one build) keeps referenced columns computed once."""
    if cache is not None:
        synth = cache.setdefault("synthetic", Synthesizer(model, seed, types))
    else:
        synth = Synthesizer(model, seed, types)
    return synth.table(table)
