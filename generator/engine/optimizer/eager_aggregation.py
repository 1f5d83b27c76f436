"""Aggregate before join (eager aggregation).

`FROM fact LEFT JOIN dim ON fact.fk = dim.pk` where `pk` is unique (the one side of a
relationship, checked on the data) keeps every fact row once and gives each row the
attributes of its key: grouping by a dimension attribute equals grouping by `fk`,
aggregating, then joining `dim` and grouping again. Applies when the WHERE and the
aggregates read the fact only (conditions on dimension attributes become filters of the
grouped rows) and every join goes from the fact to a unique key. The lifted leaf then
reads the same rows as the fact's other leaves (a matrix's grand total, a per-customer
grouping), so scan sharing can serve them all from one grouped scan, and the join runs
over the grouped rows. Every leaf comes out as an `EagerAggregate` (one that cannot be
lifted keeps its whole input as `fact`)."""
from __future__ import annotations

from sqlglot import exp

from generator.engine.optimizer.context import OptimizeContext
from generator.engine.plan.expr import SqlExpr, and_all, conjuncts
from generator.engine.plan.nodes import Aggregate, DimValue, EagerAggregate, Filter, Node, Scan, chain, item_alias

FACT = item_alias(0)


def unlifted(agg: Aggregate) -> EagerAggregate:
    return EagerAggregate(agg, agg.input, agg.keys, (None,) * len(agg.keys))


def lift_one(agg: Aggregate, unique: frozenset[tuple[str, str]]) -> EagerAggregate:
    source, where = (agg.input.input, agg.input.condition) if isinstance(agg.input, Filter) else (agg.input, None)
    items = chain(source)
    if len(items) < 2 or not isinstance(items[0][0], Scan):
        return unlifted(agg)
    specs: dict[str, tuple[str, str, str]] = {}  # dim alias -> (table, fact column sql, dim column)
    fks: dict[str, exp.Column] = {}
    for i, (item, j) in enumerate(items[1:], start=1):
        alias = item_alias(i)
        if j.side != "LEFT" or j.kind or j.on is None or not isinstance(item, Scan) or not isinstance(j.on.node, exp.EQ):
            return unlifted(agg)
        a, b = j.on.node.this, j.on.node.expression
        if not (isinstance(a, exp.Column) and isinstance(b, exp.Column)):
            return unlifted(agg)
        if a.table == alias:
            a, b = b, a
        if a.table != FACT or b.table != alias or (item.table.lower(), b.name.lower()) not in unique:
            return unlifted(agg)
        specs[alias] = (item.table, a.sql("duckdb"), b.name)
        fks[a.sql("duckdb")] = a
    fact_conds, dim_filters = [], []
    for cond in conjuncts(where.node if where is not None else None):
        refs = {c.table for c in cond.find_all(exp.Column)}
        if refs <= {FACT}:
            fact_conds.append(cond)
        elif FACT in refs or not refs <= set(specs):
            return unlifted(agg)
        else:  # a filter on dimension attributes: applied to the grouped rows
            dim_filters.append(_dim(cond, refs, specs))
    if any(v.tables() - {FACT} for v in agg.values):
        return unlifted(agg)
    fact_keys: list[SqlExpr] = []
    dim_keys: list[DimValue | None] = []
    for k in agg.keys:
        refs = k.tables()
        if refs <= {FACT}:
            fact_keys.append(k)
            dim_keys.append(None)
        elif FACT in refs:
            return unlifted(agg)
        else:
            dim_keys.append(_dim(k.node, refs, specs))
    for fk_sql, fk in fks.items():
        if fk_sql not in [k.sql for k in fact_keys]:
            fact_keys.append(SqlExpr.of(fk.copy()))
    fact: Node = items[0][0]
    if fact_conds:
        fact = Filter(fact, SqlExpr.of(and_all(c.copy() for c in fact_conds)))
    return EagerAggregate(agg, fact, tuple(fact_keys), tuple(dim_keys), tuple(dim_filters))


def _dim(expr: exp.Expression, refs: set[str], specs: dict) -> DimValue:
    return DimValue(SqlExpr.of(expr.copy()), tuple(sorted((a, specs[a]) for a in refs)))


def lift(leaves: tuple[Node, ...], context: OptimizeContext) -> tuple[Node, ...]:
    return tuple(lift_one(n, context.unique) if isinstance(n, Aggregate) else n for n in leaves)
