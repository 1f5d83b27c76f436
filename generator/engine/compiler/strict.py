"""Strictness: is a DAX expression BLANK whenever a given table has no visible rows?

SUMMARIZECOLUMNS drops the cells where every measure is BLANK (dax-semantics.md §3.2).
When every measure of a visual is strict in the same fact table, the cells without fact
rows are dropped anyway, so the engine can take the cells from the fact table's existing
key combinations instead of cross-joining the dimensions. The analysis is conservative:
anything it does not recognise is "not strict" (the cross join is then kept).
"""
from __future__ import annotations

from typing import Callable

from generator.dax import ast as A

_COLUMN_AGGS = frozenset({"SUM", "AVERAGE", "MIN", "MAX", "COUNT", "COUNTA", "DISTINCTCOUNT",
                          "DISTINCTCOUNTNOBLANK", "MEDIAN", "PRODUCT", "STDEV.P", "STDEV.S", "VAR.P", "VAR.S"})
_ITERATORS = frozenset({"SUMX", "AVERAGEX", "MINX", "MAXX", "COUNTX", "COUNTAX", "MEDIANX", "PRODUCTX",
                        "CONCATENATEX"})


class Strictness:
    def __init__(self, measure_body: Callable[[str], A.Expr | None], table_of: Callable[[str], str | None]):
        self.measure_body = measure_body
        self.table_of = table_of  # model table name (lower) for a table name, None if unknown
        self.stack: list[str] = []

    def scalar(self, node: A.Expr, vars_: dict[str, str | None] | None = None) -> str | None:
        vars_ = vars_ or {}
        if isinstance(node, A.BracketRef) or (isinstance(node, A.ColumnRef) and node.table is None):
            name = node.name if isinstance(node, A.BracketRef) else node.column
            return self._measure(name)
        if isinstance(node, A.ColumnRef) and self.table_of(node.table) is not None:
            body = self.measure_body(node.column)
            return self._measure(node.column) if body is not None else None
        if isinstance(node, A.VarRef):
            return vars_.get(node.name.lower())
        if isinstance(node, A.VarBlock):
            inner = dict(vars_)
            for name, expr in node.vars:
                inner[name.lower()] = self.scalar(expr, inner)
            return self.scalar(node.body, inner)
        if isinstance(node, A.BinaryOp):
            a, b = self.scalar(node.left, vars_), self.scalar(node.right, vars_)
            if node.op in ("*", "/"):
                return a or b if node.op == "*" else a
            if node.op in ("+", "-"):
                return a if a is not None and a == b else None
            return None
        if isinstance(node, A.FunctionCall):
            name, args = node.name, node.args
            if name in _COLUMN_AGGS and len(args) == 1 and isinstance(args[0], A.ColumnRef):
                return self.table_of(args[0].table) if args[0].table else None
            if name == "COUNTROWS" and len(args) == 1:
                return self.table(args[0], vars_)
            if name in _ITERATORS and args:
                return self.table(args[0], vars_)
            if name == "DIVIDE" and len(args) == 2:
                return self.scalar(args[0], vars_) or self.scalar(args[1], vars_)
            if name == "CALCULATE" and len(args) == 1:
                return self.scalar(args[0], vars_)
            if name == "IF" and len(args) == 2:
                # IF(NOT ISBLANK(x), …) is BLANK whenever x is
                cond = args[0]
                if isinstance(cond, A.UnaryOp) and cond.op == "NOT":
                    cond = cond.operand
                elif isinstance(cond, A.FunctionCall) and cond.name == "NOT" and len(cond.args) == 1:
                    cond = cond.args[0]
                else:
                    return None
                if isinstance(cond, A.FunctionCall) and cond.name == "ISBLANK" and len(cond.args) == 1:
                    return self.scalar(cond.args[0], vars_)
        return None

    def table(self, node: A.Expr, vars_: dict[str, str | None]) -> str | None:
        if isinstance(node, A.TableRef):
            return self.table_of(node.name)
        if isinstance(node, A.FunctionCall):
            if node.name in ("VALUES", "DISTINCT") and len(node.args) == 1:
                arg = node.args[0]
                if isinstance(arg, A.ColumnRef) and arg.table:
                    return self.table_of(arg.table)
                if isinstance(arg, A.TableRef):
                    return self.table_of(arg.name)
            if node.name == "FILTER" and len(node.args) == 2:
                return self.table(node.args[0], vars_)
        return None

    def _measure(self, name: str) -> str | None:
        key = name.lower()
        body = self.measure_body(name)
        if body is None or key in self.stack:
            return None
        self.stack.append(key)
        try:
            return self.scalar(body)
        finally:
            self.stack.pop()
