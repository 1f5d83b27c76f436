"""Scalar functions the SQL backend does not have, registered on each connection.

Function handlers (compile time) may call `udf_call(name, *args)` to emit a call to a
function listed here; the runtime (`Engine`) installs every registered function on its
connection before the first query (`install`). Two kinds:

- `macro(name, params, body_sql)`: a DuckDB SQL macro (preferred: stays vectorised and
  can be re-expressed for another SQL dialect by the renderer);
- `python(name, fn, arg_types, return_type)`: a Python scalar function (numeric results
  that SQL cannot compute, e.g. inverse distributions or an iterative RATE). NULL in →
  NULL out unless `null_handling="special"`; an exception raised by `fn` surfaces as a
  query error (DaxEvalError), never a silent BLANK.

Names are prefixed `__dax_` so they never collide with the backend's own functions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlglot import exp

from generator.engine.sql import create_macro


@dataclass(frozen=True)
class Macro:
    name: str
    params: tuple[str, ...]
    body: str


@dataclass(frozen=True)
class PyFunc:
    name: str
    fn: Callable
    arg_types: tuple[str, ...]  # DuckDB type names: DOUBLE, BIGINT, VARCHAR, DATE, BOOLEAN, …
    return_type: str
    special_nulls: bool = False


_REGISTRY: dict[str, Macro | PyFunc] = {}


def _prefixed(name: str) -> str:
    return name if name.startswith("__dax_") else f"__dax_{name}"


def macro(name: str, params: tuple[str, ...] | list[str], body: str) -> str:
    """Register a SQL macro; returns its SQL name."""
    name = _prefixed(name)
    _add(Macro(name, tuple(params), body))
    return name


def python(name: str, fn: Callable, arg_types: tuple[str, ...] | list[str], return_type: str,
           special_nulls: bool = False) -> str:
    """Register a Python scalar function; returns its SQL name."""
    name = _prefixed(name)
    _add(PyFunc(name, fn, tuple(arg_types), return_type, special_nulls))
    return name


def _add(entry: Macro | PyFunc) -> None:
    old = _REGISTRY.get(entry.name)
    if old is not None and old != entry:
        raise ValueError(f"scalar function {entry.name} registered twice with different definitions")
    _REGISTRY[entry.name] = entry


def udf_call(name: str, *args: exp.Expression) -> exp.Expression:
    """A call to a registered function (loud if it was never registered)."""
    name = _prefixed(name)
    if name not in _REGISTRY:
        raise KeyError(f"scalar function {name} is not registered in generator.engine.udf")
    return exp.Anonymous(this=name, expressions=list(args))


def registered() -> dict[str, Macro | PyFunc]:
    return dict(_REGISTRY)


def install(con) -> None:
    """Create every registered function on a DuckDB connection."""
    import duckdb  # the runtime's backend; imported here so compile-time users need not load it

    for entry in sorted(_REGISTRY.values(), key=lambda e: e.name):
        if isinstance(entry, Macro):
            con.execute(create_macro(entry.name, entry.params, entry.body).sql("duckdb"))
        else:
            kwargs = {"null_handling": "special"} if entry.special_nulls else {}
            con.create_function(entry.name, entry.fn, [duckdb.sqltype(t) for t in entry.arg_types],
                                duckdb.sqltype(entry.return_type), exception_handling="default",
                                side_effects=False, **kwargs)
