"""The compiler's compile-time values: table values (`Rel`, `RelCol`), row contexts (`Row`)
and the environment an expression compiles in (`Env`, `Source`).

They are plain frozen data, shared by the compiler core and every handler mixin, so they
live below all of them: a handler module imports these, never the whole compiler.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from sqlglot import exp

from generator.engine.context import ColKey, Ctx, RelState, Scan
from generator.engine.types import DaxType
from generator.engine.values import Scalar
from generator.spec.model import ExprOrigin, Measure, Table


@dataclass(frozen=True)
class RelCol:
    name: str  # "Customer[City]" for model columns, "S" for ADDCOLUMNS/SELECTCOLUMNS names
    sql: str  # output column alias in the relation's SELECT
    key: ColKey | None
    type: DaxType


@dataclass(frozen=True)
class Rel:
    """A table value. Either `select` (columns c0..cn) or a filtered model table (`base`
    + `row_filter`), materialised on demand by `Compiler.rel_select`."""

    cols: tuple[RelCol, ...]
    select: exp.Select | None = None
    base: Table | None = None
    row_filter: Callable[[Scan], exp.Expression | None] | None = None
    blank: bool = False
    rels: RelState | None = None
    # how the rows were made, for grouped evaluation: the filter context of a plain
    # table/VALUES scan, the VALUES columns, and FILTER predicates still to apply
    ctx: Ctx | None = None
    col_keys: tuple[ColKey, ...] | None = None
    preds: tuple = ()
    nonnull: bool = False  # no BLANK in any row (date sets of time intelligence)
    guard: tuple | None = None  # (cell-level condition, message): an error when TRUE (DATEADD)
    # (key, predicate): the rows are the values of column `key` for which predicate(value)
    # holds (a time-intelligence date set); as a filter, the predicate applies directly
    col_pred: tuple | None = None
    # the rows are rows of this model table, all their values unchanged (TOPN of a table):
    # as a filter, matching its key column is matching the whole row
    rows_of: str | None = None


@dataclass(frozen=True)
class Row:
    """One row context: the columns of the row being iterated."""

    cols: dict[ColKey, Scalar]
    names: dict[str, Scalar]
    base: Table | None = None
    scan: Scan | None = None
    # a row of a grouped iteration: transition gives CellFilters. A compiler.CellScope, typed
    # `object` because compiler.py imports this module (no cycle)
    scope: object | None = None


@dataclass(frozen=True)
class Source:
    """What is being compiled, for error positions."""

    label: str
    origin: ExprOrigin | None = None
    measure: Measure | None = None


@dataclass(frozen=True)
class Env:
    ctx: Ctx
    rows: tuple[Row, ...] = ()
    vars: dict[str, Scalar | Rel] = field(default_factory=dict)
    src: Source = Source("query")
    placeholders: dict[ColKey, exp.Expression] = field(default_factory=dict)
    stack: tuple[str, ...] = ()
    scope: object | None = None  # the compiler.CellScope cells are evaluated in (see Row.scope)
    # how many of `rows` (from the outermost) a CALCULATE has already turned into filters:
    # inside CALCULATE(<expr>, …) the transitioned filters may since have been overridden
    # by the filter arguments or removed by ALL, so a measure reference (an implicit
    # CALCULATE) or a nested CALCULATE must not transition those rows again (§5.1, §7)
    transitioned: int = 0
    # calculation groups already applied on the way here (not applied again to the measure
    # references inside the rewritten expression), until a CALCULATE filters the group's
    # column again (sideways recursion); the measure SELECTEDMEASURE() stands for
    cg_applied: frozenset[str] = frozenset()
    selected_measure: str | None = None

    def push(self, row: Row) -> "Env":
        return replace(self, rows=(*self.rows, row))

    def inside_calculate(self, ctx: Ctx) -> "Env":
        """The environment of CALCULATE's expression: the new filter context, with every
        current row context already transitioned into it."""
        return replace(self, ctx=ctx, transitioned=len(self.rows))
