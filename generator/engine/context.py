"""Filter context IR and expanded-table scans.

A filter context (`Ctx`) is a set of filters, each constraining a set of lineage columns
(`ColKey` = (table, column)). Applying a context to a scan of table T means: build T's
*expanded table* (T LEFT JOIN every one-side table reachable through active
relationships; unmatched keys meet the blank row as NULLs) and turn every filter whose
columns live in that expanded table into a WHERE predicate. A filter on a table outside
the expanded table reaches T only through a bidirectional relationship
(dax-semantics.md §4; dax-engine-survey.md §3.2).

CALCULATE semantics are set operations on `Ctx`: a filter on column c first removes c
from every existing filter (`Ctx.remove`), KEEPFILTERS adds without removing, ALL(T)
removes T's columns. Filters that span several columns lose only the removed columns
(projection), which reproduces auto-exist (§15).

Filter values are sqlglot expressions; they may reference columns of outer queries
(cell keys of a visual, iterator rows). The SQL stays correlated and DuckDB decorrelates
it into joins, so a whole visual is one SQL statement.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Protocol

from sqlglot import exp

from generator.engine.data import table_ref
from generator.engine.sql import join
from generator.engine.schema import Schema
from generator.spec.model import Model, Table


class Compiler(Protocol):
    """What scans and filters need from the compiler that builds them (structural, so
    this module does not import the compiler)."""

    model: Model
    schema: Schema

    def new_alias(self) -> str: ...
    def has_blank_row(self, table: str) -> bool: ...
    def with_blank_row(self, table: Table, alias: str) -> exp.Expression: ...
    def key_column(self, table: Table) -> str | None: ...
    def base_rels(self) -> "RelState": ...

ColKey = tuple[str, str]


def not_distinct(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.NullSafeEQ(this=a, expression=b)


def and_all(conds: Iterable[exp.Expression | None]) -> exp.Expression | None:
    items = [c for c in conds if c is not None]
    if not items:
        return None
    return exp.and_(*items) if len(items) > 1 else items[0]


# ---------------------------------------------------------------- relationships


@dataclass(frozen=True)
class RelState:
    """Relationship activity and direction after USERELATIONSHIP / CROSSFILTER."""

    active: frozenset[int]
    both: frozenset[int]
    # many-to-many relationships whose single direction is from -> to (CROSSFILTER
    # ONEWAY_*FILTERS*); by default `to` filters `from` (see engine.propagation)
    reverse: frozenset[int] = frozenset()


class Scan:
    """FROM <base> [LEFT JOIN one-side tables...]: the expanded table of `base`.

    Joins are added lazily, only for the tables whose columns are asked for.
    """

    def __init__(self, comp: "Compiler", base: Table, rels: RelState, blank: bool = False):
        self.comp = comp
        self.base = base
        self.rels = rels
        self.blank = blank
        self.alias = comp.new_alias()
        self.aliases: dict[str, str] = {base.name.lower(): self.alias}
        # table -> (parent table, relationship index) for every reachable one side
        self.parent: dict[str, tuple[str, int]] = {}
        frontier = [base.name.lower()]
        seen = {base.name.lower()}
        while frontier:
            cur = frontier.pop(0)
            for i, r in enumerate(comp.model.relationships):
                # a many-to-many relationship is limited: table expansion does not cross it
                if i in rels.active and not r.many_to_many and r.from_table.lower() == cur \
                        and r.to_table.lower() not in seen:
                    seen.add(r.to_table.lower())
                    self.parent[r.to_table.lower()] = (cur, i)
                    frontier.append(r.to_table.lower())
        self.order: list[str] = []

    def tables(self) -> set[str]:
        return {self.base.name.lower(), *self.parent}

    def has(self, key: ColKey) -> bool:
        return key[0].lower() in self.tables()

    def _alias_of(self, table: str) -> str:
        table = table.lower()
        if table not in self.aliases:
            parent, _ = self.parent[table]
            self._alias_of(parent)
            self.aliases[table] = self.comp.new_alias()
            self.order.append(table)
        return self.aliases[table]

    def col(self, key: ColKey) -> exp.Column:
        return exp.column(key[1], self._alias_of(key[0]), quoted=True)

    def source(self) -> exp.Expression:
        if self.blank and self.comp.has_blank_row(self.base.name):
            return self.comp.with_blank_row(self.base, self.alias)
        return table_ref(self.base.name, self.alias)

    def build(self, select: exp.Select, where: exp.Expression | None) -> exp.Select:
        """Attach FROM/JOIN/WHERE. Call after every column has been requested."""
        select = select.from_(self.source(), copy=False)
        for table in self.order:
            parent, idx = self.parent[table]
            r = self.comp.model.relationships[idx]
            on = exp.EQ(this=exp.column(r.from_column, self.aliases[parent], quoted=True),
                        expression=exp.column(r.to_column, self.aliases[table], quoted=True))
            select = join(select, table_ref(self.comp.model.table(r.to_table).name, self.aliases[table]), on)
        if where is not None:
            select = select.where(where, copy=False)
        return select


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class Filter:
    """A constraint on some lineage columns."""

    def keys(self) -> frozenset[ColKey]:
        raise NotImplementedError

    def apply(self, scan: Scan) -> exp.Expression | None:
        raise NotImplementedError

    def without(self, keys: frozenset[ColKey]) -> "Filter | None":
        raise NotImplementedError


@dataclass(frozen=True)
class EqFilter(Filter):
    """col_i = value_i (BLANK matches BLANK): a cell of a visual or a transitioned row."""

    cols: tuple[ColKey, ...]
    values: tuple[exp.Expression, ...] = field(compare=False)
    key: ColKey | None = None  # a key column among `cols`: its equality implies the others

    def keys(self) -> frozenset[ColKey]:
        return frozenset(self.cols)

    def apply(self, scan: Scan) -> exp.Expression | None:
        pairs = list(zip(self.cols, self.values))
        if self.key is not None and scan.has(self.key):
            pairs = [(k, v) for k, v in pairs if k == self.key]
        return and_all(not_distinct(scan.col(k), v.copy()) for k, v in pairs if scan.has(k))

    def without(self, keys: frozenset[ColKey]) -> Filter | None:
        kept = [(k, v) for k, v in zip(self.cols, self.values) if k not in keys]
        if not kept:
            return None
        key = self.key if self.key is not None and self.key not in keys else None
        return EqFilter(tuple(k for k, _ in kept), tuple(v for _, v in kept), key)


@dataclass(frozen=True)
class CellFilter(EqFilter):
    """col = <a column of the current cell scope's row source> (a visual's cell, or a row
    of an iterator evaluated for all cells at once). Grouped evaluation turns these into
    GROUP BY keys instead of correlated predicates (see `CompilerCore.agg_over`)."""

    scope: object = field(default=None, compare=False, repr=False)

    def without(self, keys: frozenset[ColKey]) -> Filter | None:
        return None if self.cols[0] in keys else self


@dataclass(frozen=True)
class PredFilter(Filter):
    """A Boolean CALCULATE filter on columns of one table: FILTER(ALL(cols), pred)."""

    cols: tuple[ColKey, ...]
    pred: Callable[[Callable[[ColKey], exp.Expression]], exp.Expression] = field(compare=False)
    comp: "Compiler" = field(compare=False, repr=False)

    def keys(self) -> frozenset[ColKey]:
        return frozenset(self.cols)

    def apply(self, scan: Scan) -> exp.Expression | None:
        if not all(scan.has(k) for k in self.cols):
            return None
        return self.pred(scan.col)

    def without(self, keys: frozenset[ColKey]) -> Filter | None:
        kept = tuple(k for k in self.cols if k not in keys)
        if not kept:
            return None
        # FILTER(ALL(a, b), pred) projected on a: the a values of the rows where pred holds
        table = self.comp.model.table(self.cols[0][0])
        scan = Scan(self.comp, table, self.comp.base_rels())
        outs = [exp.alias_(scan.col(k), f"c{i}") for i, k in enumerate(kept)]
        sel = scan.build(exp.select(*outs).distinct(), self.pred(scan.col))
        return RowsFilter(kept, sel)


@dataclass(frozen=True)
class RowsFilter(Filter):
    """Tuples of a relation: VALUES/DISTINCT/TREATAS/time-intelligence date sets.

    `select` outputs columns c0..cn, in `cols` order (some may since have been removed).
    """

    cols: tuple[ColKey, ...]
    select: exp.Select = field(compare=False)
    removed: frozenset[ColKey] = frozenset()
    nonnull: bool = False  # the relation never holds BLANK (e.g. a set of dates)
    # (key, predicate) when the rows are exactly the values of `key` satisfying predicate:
    # `col IN (SELECT key FROM its table WHERE predicate)` is then `predicate(col)`, a range
    # on the scan's own column instead of a semi-join with a (correlated) date list
    col_pred: tuple | None = field(default=None, compare=False)
    # the key column of the table whose whole rows these are (TOPN of a table): while the
    # key is not removed, matching it is matching the row, so the other columns are skipped
    row_key: ColKey | None = None

    def keys(self) -> frozenset[ColKey]:
        return frozenset(self.cols) - self.removed

    def apply(self, scan: Scan) -> exp.Expression | None:
        pairs = [(i, k) for i, k in enumerate(self.cols) if k not in self.removed and scan.has(k)]
        if not pairs:
            return None
        if self.row_key is not None and self.row_key not in self.removed and scan.has(self.row_key):
            pairs = [(i, k) for i, k in pairs if k == self.row_key]
        if len(pairs) == 1:
            i, k = pairs[0]
            if self.col_pred is not None and self.col_pred[0] == k:
                return self.col_pred[1](scan.col(k))
            sub = exp.select(exp.column(f"c{i}", "f")).from_(self.select.subquery("f", copy=True))
            col = scan.col(k)
            if self.nonnull:
                return col.isin(query=sub)
            # IN ignores NULL; the blank member must still match, hence the OR
            has_null = exp.select(exp.Exists(this=exp.select("1").from_(
                self.select.subquery("fn", copy=True)).where(exp.column(f"c{i}", "fn").is_(exp.null()))))
            return exp.or_(col.isin(query=sub),
                           exp.and_(col.copy().is_(exp.null()), has_null.subquery()))
        alias = scan.comp.new_alias()
        cond = and_all(not_distinct(exp.column(f"c{i}", alias), scan.col(k)) for i, k in pairs)
        return exp.Exists(this=exp.select("1").from_(self.select.subquery(alias, copy=True)).where(cond))

    def without(self, keys: frozenset[ColKey]) -> Filter | None:
        removed = self.removed | (frozenset(self.cols) & keys)
        if removed >= frozenset(self.cols):
            return None
        return replace(self, removed=removed)


@dataclass(frozen=True)
class TableFilter(Filter):
    """A table-valued CALCULATE filter over the rows of a model table (FILTER(Sales, …),
    a bare `Sales`, CALCULATETABLE(Sales, …)): it filters the whole expanded table."""

    base: Table
    row_filter: Callable[[Scan], exp.Expression | None] = field(compare=False)
    comp: "Compiler" = field(compare=False, repr=False)
    expanded: frozenset[ColKey] = frozenset()
    removed: frozenset[ColKey] = frozenset()
    blank: bool = False

    def keys(self) -> frozenset[ColKey]:
        return self.expanded - self.removed

    def apply(self, scan: Scan) -> exp.Expression | None:
        if scan.base.name.lower() == self.base.name.lower() and not self.removed and not scan.blank:
            return self.row_filter(scan)
        tables = {k[0].lower() for k in self.keys() if scan.has(k)}
        if not tables:
            return None
        inner = Scan(self.comp, self.base, scan.rels, self.blank)
        conds = []
        for tname in sorted(tables):
            t = self.comp.model.table(tname)
            key = self.comp.key_column(t)
            cols = [key] if key else [c.name for c in self.comp.schema.visible_columns(t)]
            for c in cols:
                k = (t.name, c)
                if k in self.removed:
                    continue
                conds.append(not_distinct(inner.col(k), scan.col(k)))
        if not conds:
            return None
        rf = self.row_filter(inner)
        sel = inner.build(exp.select("1"), and_all([rf, *conds]))
        return exp.Exists(this=sel)

    def without(self, keys: frozenset[ColKey]) -> Filter | None:
        removed = self.removed | (self.expanded & keys)
        if removed >= self.expanded:
            return None
        return replace(self, removed=removed)


# ---------------------------------------------------------------- context


@dataclass(frozen=True)
class Ctx:
    filters: tuple[Filter, ...] = ()
    rels: RelState | None = None
    shadow: "Ctx | None" = None  # the query's outer filters, for ALLSELECTED
    scope: frozenset[ColKey] = frozenset()  # grouping columns, for ISINSCOPE

    def remove(self, keys: Iterable[ColKey]) -> "Ctx":
        keys = frozenset(keys)
        if not keys:
            return self
        out: list[Filter] = []
        for f in self.filters:
            if f.keys() & keys:
                g = f.without(keys)
                if g is not None:
                    out.append(g)
            else:
                out.append(f)
        return replace(self, filters=tuple(out), scope=self.scope - keys)

    def add(self, f: Filter) -> "Ctx":
        return replace(self, filters=(*self.filters, f))

    def clear(self) -> "Ctx":
        return replace(self, filters=(), scope=frozenset())

    def filtered_keys(self) -> frozenset[ColKey]:
        return frozenset(itertools.chain.from_iterable(f.keys() for f in self.filters))
