"""Aggregate before the correlated filter (issue #9, "aggregate before join"): an additive
aggregate whose filter context holds filters that depend on the enclosing cell or row
(correlated filters) sums a pre-aggregation of the fact table by the columns those filters
read, instead of scanning the fact table once per cell.

    CALCULATE ( [Total Revenue], REMOVEFILTERS ( Dim_Date ),
                OFFSET ( -1, ALL ( Dim_Date[Year_Month_Number] ), ORDERBY ( … ) ) )

per month of a visual compiles to SUM(Revenue) over the orders whose Year_Month_Number is
in that cell's OFFSET set: a correlated subquery over every order, for every cell. But the
correlated filters read only a few columns `G` of the fact table's expanded table (here
Year_Month_Number), so

    SUM(F[c]) over {rows r : P(cell, G(r))}  =  SUM over {groups g : P(cell, g)} of SUM(F[c] | G = g)

(the groups partition the rows; a row passes or fails with its group). The right side reads
the fact table once, uncorrelated (`L`: SUM / COUNT per G, under the context's other
filters), and the correlated part runs over L's few rows. The predicate on a group is the
very SQL the plain compile emits for a row: each correlated filter is applied to a scan
whose columns are L's group columns (`_GroupScan`), with the same reachability as the fact
scan, so every filter takes the same branch (IN with its BLANK member, range, EXISTS).

Additive here means SUM of an integer or fixed-decimal column, or COUNTROWS: exact under
regrouping, BLANK for no rows either way (a DOUBLE sum would round differently). Applies
only where no filter reaches the fact table through a bidirectional or many-to-many
relationship, and every correlated filter is a column filter (equality, values, predicate);
the grouped-leaf path (`CompilerCore.agg_over`) keeps the cases it handles: when the only
correlated filters are the cell's own keys. `Compiler.preaggregate = False` turns it off.
"""
from __future__ import annotations

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.compile_types import Env
from generator.engine.compiler.core import _outer_refs
from generator.engine.compiler.fn_aggregates import AggregateFns, _nullif0, _sum_sql, _sum_type
from generator.engine.context import CellFilter, ColKey, EqFilter, PredFilter, RowsFilter, Scan, and_all
from generator.engine.propagation import crosses
from generator.engine.types import DaxType
from generator.engine.values import Scalar
from generator.spec.model import Table

COLUMN_FILTERS = (EqFilter, PredFilter, RowsFilter)  # CellFilter is an EqFilter
EXACT_SUMS = (DaxType.INT, DaxType.CURRENCY, DaxType.BOOL)


class _GroupScan:
    """A stand-in for the fact table's scan whose columns are the group columns of its
    pre-aggregation: a filter applied to it tests a group as it would test each row."""

    def __init__(self, real: Scan, alias: str):
        self.real, self.alias = real, alias
        self.comp, self.base, self.rels, self.blank = real.comp, real.base, real.rels, real.blank
        self.groups: dict[ColKey, str] = {}

    def has(self, key: ColKey) -> bool:
        return self.real.has(key)

    def tables(self) -> set[str]:
        return self.real.tables()

    def col(self, key: ColKey) -> exp.Column:
        name = self.groups.setdefault(key, f"g{len(self.groups)}")
        return exp.column(name, self.alias)


class PreAggregateFns(AggregateFns):
    """Mixin for `Compiler` (listed before AggregateFns): SUM and COUNTROWS try the
    pre-aggregation first."""

    preaggregate = True  # class switch: False keeps the plain (correlated) compile

    def fn_SUM(self, call, env):
        out = self._preaggregated_sum(call, env) if self.preaggregate else None
        return out if out is not None else super().fn_SUM(call, env)

    def fn_COUNTROWS(self, call, env):
        out = self._preaggregated_count(call, env) if self.preaggregate else None
        return out if out is not None else super().fn_COUNTROWS(call, env)

    def _preaggregated_sum(self, call: A.FunctionCall, env: Env) -> Scalar | None:
        if len(call.args) != 1 or not isinstance(call.args[0], A.ColumnRef) or not call.args[0].table:
            return None
        table = self.model.table(call.args[0].table)
        column = table.column(call.args[0].column) if table is not None else None
        if column is None or table.calculation_group is not None:
            return None
        key = (table.name, column.name)
        t = self.col_type(key)
        if t not in EXACT_SUMS:
            return None
        return self._preaggregated(table, env, lambda scan: _sum_sql(scan.col(key), t),
                                   lambda v: _sum_sql(v, _sum_type(t)), _sum_type(t))

    def _preaggregated_count(self, call: A.FunctionCall, env: Env) -> Scalar | None:
        if len(call.args) != 1 or not isinstance(call.args[0], A.TableRef):
            return None
        if call.args[0].name.lower() in env.vars:
            return None
        table = self.model.table(call.args[0].name)
        if table is None or table.calculation_group is not None or self.has_blank_row(table.name):
            return None
        return self._preaggregated(table, env, lambda scan: exp.Count(this=exp.Star()),
                                   lambda v: _nullif0(_sum_sql(v, DaxType.INT)), DaxType.INT)

    def _preaggregated(self, table: Table, env: Env, inner, outer, rtype: DaxType) -> Scalar | None:
        rels = env.ctx.rels or self.base_rels()
        if crosses(self.model, rels):
            return None
        static, correlated = [], []
        for f in env.ctx.filters:
            probe = Scan(self, table, rels)
            cond = f.apply(probe)
            if cond is None:
                continue
            if _outer_refs(probe.build(exp.select(exp.Literal.number(1)), cond)):
                correlated.append(f)
            else:
                static.append(f)
        if not correlated or not all(isinstance(f, COLUMN_FILTERS) for f in correlated):
            return None
        if self.grouped and self._leafable(env) and all(
                isinstance(f, CellFilter) and f.scope is env.scope for f in correlated):
            return None  # the grouped leaf handles the cell's own keys
        scan = Scan(self, table, rels)
        alias = self.new_alias()
        groups = _GroupScan(scan, alias)
        where = and_all(f.apply(groups) for f in correlated)
        if not groups.groups:
            return None
        outs = [exp.alias_(scan.col(k), name) for k, name in groups.groups.items()]
        pre = scan.build(exp.select(*outs, exp.alias_(inner(scan), "a")), and_all(f.apply(scan) for f in static))
        pre = pre.group_by(*[exp.Literal.number(i + 1) for i in range(len(outs))], copy=False)
        if _outer_refs(pre):
            return None
        sel = exp.select(outer(exp.column("a", alias))).from_(pre.subquery(alias))
        if where is not None:
            sel = sel.where(where, copy=False)
        return Scalar(exp.Subquery(this=sel), rtype)
