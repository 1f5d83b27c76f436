"""Shared by the tests of the compile-time rewrites (fn_decorrelate, fn_rolling, fn_preagg):
a query's rows with the rewrite on, checked equal to the plain compile's (the rewrite's class
switch off, grouped and per cell)."""
from __future__ import annotations

from typing import Callable

from generator.engine.compiler.query import Compiler


def rows_on_every_path(e, dax: str, monkeypatch, switch: str,
                       rows_of: Callable[[object, str], list[tuple]]) -> tuple[list[tuple], str, str]:
    """(rows, SQL with the rewrite, SQL of the plain per-cell compile), after asserting that
    the plain compile, grouped and per cell, gives the same rows."""
    rows = rows_of(e, dax)
    sql = e.last_sql
    monkeypatch.setattr(Compiler, switch, False)
    try:
        for grouped in (True, False):
            e.grouped = grouped
            e.clear_cache()
            assert rows_of(e, dax) == rows, f"plain compile (grouped={grouped}) differs"
            plain = e.last_sql
    finally:
        e.grouped = True
        monkeypatch.setattr(Compiler, switch, True)
        e.clear_cache()
    return rows, sql, plain
