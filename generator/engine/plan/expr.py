"""Scalar expressions inside plan nodes, in a hashable canonical form.

Plan nodes compare and hash by structure; a sqlglot tree does neither cheaply nor
reliably across copies. `SqlExpr` compares by its canonical text (DuckDB spelling of a
tree whose table aliases are positional, see `nodes.item_alias`) and carries the tree for
the renderer, which only ever reads copies of it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from sqlglot import exp

from generator.engine.sql import parenthesize


@dataclass(frozen=True)
class SqlExpr:
    sql: str
    node: exp.Expression = field(compare=False, hash=False, repr=False)

    @classmethod
    def of(cls, node: exp.Expression) -> "SqlExpr":
        """Wrap a tree the caller no longer changes (it is kept, not copied). The text is
        that of the parenthesized tree: sqlglot prints operators as built, so `(a + b) / c`
        and `a + (b / c)` would otherwise print alike."""
        # the copy is this method's own: parenthesize and print it without a second copy
        return cls(parenthesize(node.copy()).sql("duckdb", copy=False), node)

    def tree(self) -> exp.Expression:
        """A fresh copy of the expression, for building a larger tree."""
        return self.node.copy()

    def columns(self) -> list[exp.Column]:
        """The column references (read only: the nodes of the kept tree)."""
        return list(self.node.find_all(exp.Column))

    def tables(self) -> set[str]:
        """The table aliases the expression reads."""
        return {c.table for c in self.node.find_all(exp.Column)}


def and_all(conds: Iterable[exp.Expression | None]) -> exp.Expression | None:
    items = [c for c in conds if c is not None]
    if not items:
        return None
    return exp.and_(*items) if len(items) > 1 else items[0]


def conjuncts(cond: exp.Expression | None) -> list[exp.Expression]:
    if cond is None:
        return []
    return list(cond.flatten()) if isinstance(cond, exp.And) else [cond]
