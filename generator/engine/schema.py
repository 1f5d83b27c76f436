"""Read-only model facts the compiler needs, built once by the runtime.

The compiler is a pure function of (DAX AST, Schema, options): it never touches the
connection, the scan cache or the calculated-column state (engine-architecture.md).
Facts that need the data — which tables get a blank row (dax-semantics.md §4), which
relationship keys are unique, the as-of date — are measured by the runtime and handed in
here; everything else derives from the `Model`. Measures are parsed once; a syntax error
is kept and raised where the measure is used, as before.

Calculated columns are data in Power BI: the runtime computes them up front, in
dependency order, each with a Schema whose `calculated` lists the columns materialised
so far (`with_calculated`), so a table's visible columns always match its view.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping

from generator.dax import ast as A
from generator.dax.errors import DaxSyntaxError
from generator.dax.parser import parse_expression
from generator.engine.errors import DaxCompileError
from generator.spec.model import Measure, Model, Table


# Power BI Desktop, offline, evaluates USERNAME() and USERPRINCIPALNAME() as the Windows
# login "DOMAIN\\user" (learn.microsoft.com/dax/username-function-dax,
# userprincipalname-function-dax). The engine has no login to read and its output must not
# depend on the machine, so its default effective user is this fixed login; an engine
# option (`Engine(user=...)`, `--as-user`) sets another, as Desktop's "View as" does.
DEFAULT_USER = "PBI-FORGE\\user"


@dataclass(frozen=True)
class Schema:
    model: Model
    blank_rows: frozenset[str] = frozenset()  # lower-case tables with unmatched many-side keys
    # one-side key columns (lower-case (table, column)) whose values are unique in the data:
    # a join to them never duplicates a row, so grouped evaluation may aggregate first
    unique_keys: frozenset[tuple[str, str]] = frozenset()
    as_of: _dt.date = field(default_factory=_dt.date.today)
    # lower-case table -> names of its calculated columns materialised so far
    calculated: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    measures: Mapping[str, A.Expr | DaxCompileError] = field(default_factory=lambda: MappingProxyType({}))
    # (lower-case table, lower-case item) -> parsed calculation item expression
    items: Mapping[tuple[str, str], A.Expr | DaxCompileError] = field(default_factory=lambda: MappingProxyType({}))
    # the query's effective user (USERNAME, USERPRINCIPALNAME, USEROBJECTID): see DEFAULT_USER
    user: str = DEFAULT_USER

    @classmethod
    def create(cls, model: Model, blank_rows=frozenset(), unique_keys=frozenset(),
               as_of: _dt.date | None = None, user: str | None = None) -> "Schema":
        return cls(model, frozenset(blank_rows), frozenset(unique_keys), as_of or _dt.date.today(),
                   MappingProxyType({}), MappingProxyType(parse_measures(model)),
                   MappingProxyType(parse_items(model)), DEFAULT_USER if user is None else user)

    # ------------------------------------------------------------ tables

    def has_blank_row(self, table: str) -> bool:
        """Does a regular relationship into `table` have unmatched many-side keys (§4)?"""
        return table.lower() in self.blank_rows

    def visible_columns(self, table: Table) -> list:
        """Physical columns plus the calculated columns materialised so far."""
        done = self.calculated.get(table.name.lower(), ())
        return [*table.columns, *[c for c in table.calculated_columns if c.name in done]]

    def with_calculated(self, table: Table, column: str) -> "Schema":
        """This schema after `table[column]` has been materialised."""
        calc = dict(self.calculated)
        calc[table.name.lower()] = (*calc.get(table.name.lower(), ()), column)
        return replace(self, calculated=MappingProxyType(calc))

    @property
    def date_table(self) -> Table | None:
        m = self.model
        return m.table(m.date_table) if m.date_table else None

    @property
    def date_column(self) -> str | None:
        return date_column(self.model, self.date_table)

    # ------------------------------------------------------------ measures

    def parsed_measure(self, m: Measure) -> A.Expr:
        tree = self.measures.get(m.name)
        if tree is None:  # a measure added after the schema was built (never in a Model)
            tree = _parse_measure(m)
        if isinstance(tree, DaxCompileError):
            raise tree
        return tree

    def parsed_item(self, table: str, item: str) -> A.Expr:
        """The parsed expression of a calculation item."""
        tree = self.items.get((table.lower(), item.lower()))
        if tree is None:
            raise KeyError(f"no calculation item '{table}'[{item}]")
        if isinstance(tree, DaxCompileError):
            raise tree
        return tree

    def summed_columns(self, table: str) -> list[str]:
        """Columns of `table` that a model measure aggregates with SUM (cache defaults)."""
        return list(self._summed.get(table.lower(), ()))

    @property
    def _summed(self) -> dict[str, list[str]]:
        return summed_columns(self.model, self.measures)


def date_column(model: Model, t: Table | None) -> str | None:
    """The date column of the marked date table: the one-side key of a relationship into
    it, else a date key column, else its first date column."""
    if t is None:
        return None
    for r in model.relationships:
        if r.to_table.lower() == t.name.lower():
            return t.column(r.to_column).name
    for c in t.columns:
        if c.type in ("date", "datetime") and c.key:
            return c.name
    for c in t.columns:
        if c.type in ("date", "datetime"):
            return c.name
    return None


def parse_measures(model: Model) -> dict[str, A.Expr | DaxCompileError]:
    return {m.name: _parse_measure(m) for m in model.measures}


def parse_items(model: Model) -> dict[tuple[str, str], A.Expr | DaxCompileError]:
    out: dict[tuple[str, str], A.Expr | DaxCompileError] = {}
    for t in model.calculation_groups:
        for it in t.calculation_group.items:
            try:
                out[(t.name.lower(), it.name.lower())] = parse_expression(it.expression, it.origin)
            except DaxSyntaxError as exc:
                error = DaxCompileError(f"syntax error in calculation item '{t.name}'[{it.name}]: {exc}", it.pos)
                error.__cause__ = exc
                out[(t.name.lower(), it.name.lower())] = error
    return out


def _parse_measure(m: Measure) -> A.Expr | DaxCompileError:
    try:
        return parse_expression(m.expression, m.origin)
    except DaxSyntaxError as exc:
        error = DaxCompileError(f"syntax error in measure [{m.name}]: {exc}", m.pos)
        error.__cause__ = exc
        return error


def parse_calculated(table: Table, column) -> A.Expr:
    key = f"{table.name}[{column.name}]"
    try:
        return parse_expression(column.expression, column.origin)
    except DaxSyntaxError as exc:
        raise DaxCompileError(f"syntax error in calculated column {key}: {exc}", column.pos) from exc


def summed_columns(model: Model, measures: Mapping[str, A.Expr | DaxCompileError]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for tree in measures.values():
        if isinstance(tree, DaxCompileError):
            continue
        for node in tree.walk():
            if isinstance(node, A.FunctionCall) and node.name.upper() == "SUM" and len(node.args) == 1 \
                    and isinstance(node.args[0], A.ColumnRef) and node.args[0].table:
                t = model.table(node.args[0].table)
                c = t.column(node.args[0].column) if t is not None else None
                if c is not None and c.name not in out.setdefault(t.name.lower(), []):
                    out[t.name.lower()].append(c.name)
    return out
