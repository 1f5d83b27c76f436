"""Scan sharing: one grouped scan for several leaves that read the same rows.

A visual often aggregates the same filtered fact rows several times with different keys:
a matrix computes every subtotal level, and a measure such as Repeat Customers groups per
(cell, customer) while Total Customers counts distinct customers per cell. Leaves whose
`EagerAggregate.fact` is the same plan node and whose keys are all subsets of the keys of
one of them (the finest) are computed from one `PreAggregate` of that finest grouping (a
MATERIALIZED common table expression, or an entry of the cross-query `ScanCache`), and
every leaf becomes a re-aggregation of it: COUNT(*) → SUM(a0), SUM(x) → SUM(a1), MIN/MAX →
MIN/MAX, COUNT(DISTINCT g) → COUNT(DISTINCT g) when g is a key of the finest grouping.
A leaf with any other aggregate (AVG, MEDIAN, …) is left alone, so no value changes."""
from __future__ import annotations

import hashlib

from sqlglot import exp

from generator.engine.optimizer.context import OptimizeContext
from generator.engine.optimizer.scan_cache import ScanStage
from generator.engine.plan.expr import SqlExpr, and_all
from generator.engine.plan.nodes import (
    Aggregate, DimValue, EagerAggregate, Filter, Node, PreAggregate, Project, Scan, chain, item_alias, leaf_refs,
)

FACT = item_alias(0)
SRC = item_alias(0)  # the pre-aggregation, as the re-aggregating leaf reads it


def share(leaves: tuple[Node, ...], context: OptimizeContext) -> tuple[Node, ...]:
    out = list(leaves)
    # a leaf over other leaves is left alone: its rows are the query's own (a pre-aggregation
    # of them could not be cached, nor created before the statement)
    eager = [(i, lf) for i, lf in enumerate(leaves) if isinstance(lf, EagerAggregate) and not leaf_refs(lf.fact)]
    cache = context.cache
    if cache is not None or not _nothing_to_share([lf for _, lf in eager]):
        by_fact: dict[Node, list[tuple[int, EagerAggregate]]] = {}
        for i, lf in eager:
            by_fact.setdefault(lf.fact, []).append((i, lf))
        ctes = [0]
        for fact, group in by_fact.items():
            dims = _dimension_values([lf for _, lf in group])
            plan = _cached_plan(cache, group, dims) if cache is not None else None
            if plan is None:
                plan = _new_plan(fact, group, dims, cache, ctes)
            if plan is not None:
                for i, node in _rewrite(*plan):
                    out[i] = node
    return tuple(lf.agg if isinstance(lf, EagerAggregate) else lf for lf in out)


def _nothing_to_share(leaves: list[EagerAggregate]) -> bool:
    """Without a cache, one join-free leaf gains nothing from a pre-aggregation."""
    if not leaves:
        return True
    if len(leaves) > 1:
        return False
    agg = leaves[0].agg
    source = agg.input.input if isinstance(agg.input, Filter) else agg.input
    return len(chain(source)) == 1 and not any(
        isinstance(c.this, exp.Distinct) for v in agg.values for c in v.node.find_all(exp.Count))


def _atom(agg: exp.AggFunc, keys: dict[str, int], atoms: dict[str, tuple[int, exp.Expression]]):
    """How `agg` is rolled up from the pre-aggregation: (kind, index) or None."""
    if isinstance(agg, exp.Count):
        arg = agg.this
        if isinstance(arg, exp.Distinct):
            if len(arg.expressions) != 1:
                return None
            k = keys.get(arg.expressions[0].sql("duckdb"))
            return ("distinct", k) if k is not None else None
        if isinstance(arg, exp.Column) and arg.sql("duckdb") in keys:
            # COUNT(key): the group's row count where the key is not BLANK
            star = exp.Count(this=exp.Star())
            atoms.setdefault(star.sql("duckdb"), (len(atoms), star))
            return "count_key", (atoms[star.sql("duckdb")][0], keys[arg.sql("duckdb")])
        kind = "count"
    elif isinstance(agg, (exp.Sum, exp.Min, exp.Max)):
        if isinstance(agg.this, exp.Distinct) or len([a for a in agg.args.values() if a is not None]) != 1:
            return None
        kind = type(agg).__name__.lower()
        cols = list(agg.this.find_all(exp.Column))
        if kind in ("min", "max") and cols and all(c.sql("duckdb") in keys for c in cols):
            return "of_keys", agg  # computed from the key columns, nothing to pre-aggregate
    else:
        return None
    sql = agg.sql("duckdb")
    if sql not in atoms:
        atoms[sql] = (len(atoms), agg.copy())
    return kind, atoms[sql][0]


def _plans(leaves: list[EagerAggregate], fine: list[str]):
    """Atoms ({sql: (index, aggregate)}) and, per leaf, its value trees (copies, each the
    `this` of a holder) with how each of their aggregates rolls up from a pre-aggregation
    grouped by `fine` (None: it cannot)."""
    keys = {s: i for i, s in enumerate(fine)}
    atoms: dict[str, tuple[int, exp.Expression]] = {}
    plans = []
    for lf in leaves:
        holders = [exp.Paren(this=v.tree()) for v in lf.agg.values]
        plan: list | None = []
        for h in holders:
            for agg in h.this.find_all(exp.AggFunc):
                how = _atom(agg, keys, atoms)
                if how is None:
                    plan = None
                    break
                plan.append((agg, how))
            if plan is None:
                break
        plans.append(None if plan is None else (holders, plan))
    return atoms, plans


def _distinct_args(leaves: list[EagerAggregate]) -> dict[str, exp.Expression]:
    """Fact columns counted distinct by the leaves: grouping by them as well turns each
    distinct count into a count of pre-aggregated rows (as the storage engine does)."""
    out = {}
    for lf in leaves:
        for v in lf.agg.values:
            for c in v.node.find_all(exp.Count):
                arg = c.this
                if isinstance(arg, exp.Distinct) and len(arg.expressions) == 1 and isinstance(arg.expressions[0], exp.Column) \
                        and arg.expressions[0].table == FACT:
                    out.setdefault(arg.expressions[0].sql("duckdb"), arg.expressions[0])
    return out


def _cached_plan(cache: ScanStage, group: list, dims: tuple):
    need_dims, leaf_dims = dims
    leaves = [lf for _, lf in group]
    for cand in cache.find(leaves[0].fact, set().union(*(set(lf.fact_key_sql) for lf in leaves))):
        atoms, plans = _plans(leaves, [k.sql for k in cand.keys])
        have_atoms = {a.sql for a in cand.atoms}
        have_dims = {d.expr.sql for d in cand.dims}
        if all(p is not None for p in plans) and all(a in have_atoms for a in atoms) \
                and all(d in have_dims for d in need_dims):
            return group, plans, leaf_dims, cand, atoms
    return None


def _base_table(fact: Node) -> str | None:
    source = fact.input if isinstance(fact, Filter) else fact
    first = chain(source)[0][0]
    return first.table if isinstance(first, Scan) else None


def _new_plan(fact: Node, group: list, dims: tuple, cache: ScanStage | None, ctes: list):
    """A new pre-aggregation for the leaves that can share it: ((index, leaf) pairs, plans,
    dimension values, pre-aggregation, atoms), or None when sharing gains nothing."""
    leaves = [lf for _, lf in group]
    shared = len(leaves) >= 2 or any(d is not None for d in leaves[0].dim_keys) or bool(leaves[0].dim_filters)
    finest = max(leaves, key=lambda lf: len(set(lf.fact_key_sql)))
    fine = list(dict.fromkeys(finest.fact_key_sql))
    if not all(set(lf.fact_key_sql) <= set(fine) for lf in leaves):
        return None
    key_exprs = [next(k.node for lf in leaves for k in lf.fact_keys if k.sql == s) for s in fine]
    if cache is not None:  # group by distinct-counted columns too: the entry serves more visuals
        for s_, k in _distinct_args(leaves).items():
            if s_ not in fine:
                fine.append(s_)
                key_exprs.append(k)
    if not shared and not (cache is not None and fine):
        return None
    need_dims, leaf_dims = dims
    atoms, plans = _plans(leaves, fine)
    usable = [(g, plan, d) for g, plan, d in zip(group, plans, leaf_dims) if plan is not None]
    if not usable or (len(usable) < 2 and not any(d is not None for d in usable[0][2])
                      and not (cache is not None and fine)):
        return None
    group, plans, leaf_dims = [u[0] for u in usable], [u[1] for u in usable], [u[2] for u in usable]
    dims_used = tuple(need_dims[d] for d in dict.fromkeys(d for ds in leaf_dims for d in ds if d is not None))
    need_atoms = [a for _, (_, a) in sorted(atoms.items(), key=lambda x: x[1][0])]
    keys = tuple(SqlExpr.of(k.copy()) for k in key_exprs)
    if cache is None:
        ctes[0] += 1
        pre = PreAggregate(f"__scan{ctes[0]}", fact, keys, tuple(SqlExpr.of(a.copy()) for a in need_atoms), dims_used)
    else:
        table = _base_table(fact)
        summed = cache.summed(table) if cache.summed and table else []
        extra = [exp.Count(this=exp.Star())]  # cheap, and what most later visuals need
        extra += [exp.Sum(this=exp.Column(this=exp.to_identifier(c, quoted=True), table=exp.to_identifier(FACT)))
                  for c in summed]
        pre = cache.create(fact, keys, tuple(SqlExpr.of(a.copy()) for a in [*need_atoms, *extra]), dims_used)
    return group, plans, leaf_dims, pre, atoms


def _rewrite(group: list, plans: list, leaf_dims: list, pre: PreAggregate, atoms: dict):
    """Every leaf of `group` as a re-aggregation of `pre`: (index, node) pairs."""
    fine = [k.sql for k in pre.keys]
    keys = {s: i for i, s in enumerate(fine)}
    atom_index = {a.sql: n for n, a in enumerate(pre.atoms)}
    atom_col = {i: f"a{atom_index[s]}" for s, (i, _) in atoms.items()}
    dim_col = {d.expr.sql: f"e{i}" for i, d in enumerate(pre.dims)}

    def col(c: str) -> exp.Column:
        return exp.column(c, SRC)

    out = []
    for (index, lf), (holders, plan), dims in zip(group, plans, leaf_dims):
        # a leaf grouped by every key of the pre-aggregation reads one of its rows per
        # group: no re-aggregation at all
        own = {k.sql for k, d in zip(lf.agg.keys, lf.dim_keys) if d is None}
        identity = bool(fine) and own == set(fine)
        for agg, (kind, i) in plan:
            if kind == "of_keys":  # MIN/MAX of an expression of the keys: of the key columns
                arg = i.this.transform(lambda n: col(f"g{keys[n.sql('duckdb')]}") if isinstance(n, exp.Column) else n)
                agg.replace(arg if identity else type(i)(this=arg))
                continue
            if kind == "count_key":
                counted = exp.Case(ifs=[exp.If(this=exp.Is(this=col(f"g{i[1]}"), expression=exp.Null()),
                                               true=exp.Literal.number(0))], default=col(atom_col[i[0]]))
                agg.replace(_rollup("count", counted, identity, unique_key=False))
                continue
            column = col(f"g{i}") if kind == "distinct" else col(atom_col[i])
            agg.replace(_rollup(kind, column, identity, unique_key=len(fine) == 1))
        n = len(lf.agg.keys)
        out_keys = tuple(SqlExpr.of(col(dim_col[dim]) if dim is not None else col(f"g{keys[k.sql]}"))
                         for k, dim in zip(lf.agg.keys, dims))
        values = tuple(SqlExpr.of(h.this) for h in holders)
        source: Node = pre
        filters = dims[n:]
        if filters:
            source = Filter(pre, SqlExpr.of(and_all(col(dim_col[f]) for f in filters)))
        node = Project(source, out_keys, values) if n and identity else Aggregate(source, out_keys, values)
        out.append((index, node))
    return out


def _rollup(kind: str, column: exp.Column, identity: bool, unique_key: bool) -> exp.Expression:
    """The aggregate of kind `kind` rolled up from `column` of the pre-aggregation (a key
    for "distinct", else an atom).

    `identity`: each group is one pre-aggregated row, so the atom is the value itself.
    `unique_key`: the pre-aggregation has a single key, so no two rows share its value and a
    distinct count of it is a plain count."""
    if kind == "distinct":
        if identity:
            return exp.cast(exp.Case(ifs=[exp.If(this=exp.Is(this=column, expression=exp.Null()),
                                                 true=exp.Literal.number(0))], default=exp.Literal.number(1)), "BIGINT")
        return exp.Count(this=column) if unique_key else exp.Count(this=exp.Distinct(expressions=[column]))
    if kind == "count":
        return exp.cast(exp.Coalesce(this=column if identity else exp.Sum(this=column),
                                     expressions=[exp.Literal.number(0)]), "BIGINT")
    if identity:
        return column
    if kind == "sum":
        return exp.Sum(this=column)
    return (exp.Min if kind == "min" else exp.Max)(this=column)


def dim_alias(spec: tuple[str, str, str]) -> str:
    """A join's alias from what it joins (table, fact column, key): the same in every query."""
    return "s_d" + hashlib.sha1("|".join(spec).encode()).hexdigest()[:10]


def _dimension_values(leaves: list[EagerAggregate]) -> tuple[dict, list[list]]:
    """The lifted leaves' dimension values, rewritten onto the dimension joins of the
    pre-aggregation: {sql: DimValue}, and per leaf per key that sql or None, followed by
    the sql of each of its dimension filters."""
    out: dict[str, DimValue] = {}
    per_leaf = []
    for lf in leaves:
        mine = []
        for dim in [*lf.dim_keys, *lf.dim_filters]:
            if dim is None:
                mine.append(None)
                continue
            specs = dict(dim.joins)
            expr = dim.expr.tree()
            used = []
            for c in expr.find_all(exp.Column):
                spec = specs[c.table]
                used.append(spec)
                c.set("table", exp.to_identifier(dim_alias(spec)))
            value = DimValue(SqlExpr.of(expr), tuple((dim_alias(s), s) for s in dict.fromkeys(used)))
            out.setdefault(value.expr.sql, value)
            mine.append(value.expr.sql)
        per_leaf.append(mine)
    return out, per_leaf
