"""Plan nodes → sqlglot: the leaves of a query, their shared pre-aggregations and reused
subplans.

`render_leaves` is the last step of compiling a grouped query: the compiler left a
placeholder table (`LEAF_TABLE`, its plan entry in `meta["leaf"]`) where each leaf's rows
are read; every placeholder becomes the SELECT of its optimized plan. A pre-aggregation
becomes a MATERIALIZED common table expression of the statement (or, when cached across
queries, a temporary table whose CREATE goes to the prelude); a leaf plan read in more
than one place becomes one as well, so it is computed once. The trees are DuckDB-flavoured
like the rest of the compiled statement; dialect renderers (duckdb.py, spark.py) spell them."""
from __future__ import annotations

from sqlglot import exp

from generator.engine.plan.nodes import (
    Aggregate, Filter, Join, LeafRef, Node, PreAggregate, Project, Scan, chain, item_alias, leaf_refs,
)
from generator.engine.plan.build import LEAF_TABLE  # noqa: F401  (the placeholder it fills)
from generator.engine.sql import create_table, join, table_ref



class _Renderer:
    """Renders the plans of one statement: `plans` gives each leaf entry's final node (a
    `LeafRef` reads it), `names` the common table expressions already made for nodes."""

    def __init__(self, plans: dict):
        self.plans = plans
        self.names: dict[Node, str] = {}

    def resolve(self, node: Node) -> Node:
        return self.plans[node.entry] if isinstance(node, LeafRef) else node

    def item(self, node: Node, alias: str) -> exp.Expression:
        node = self.resolve(node)
        if isinstance(node, Scan):
            return table_ref(node.table, alias)
        if isinstance(node, PreAggregate):
            return exp.to_table(node.name).as_(alias)
        if node in self.names:
            return exp.to_table(self.names[node]).as_(alias)
        return self.select(node).subquery(alias)

    def source(self, sel: exp.Select, node: Node) -> exp.Select:
        where = None
        if isinstance(node, Filter):
            node, where = node.input, node.condition.tree()
        for i, (item, j) in enumerate(chain(node)):
            source = self.item(item, item_alias(i))
            if j is None:
                sel = sel.from_(source, copy=False)
            elif j.kind == "CROSS":
                sel = join(sel, source, kind="CROSS")
            else:
                sel.append("joins", exp.Join(this=source, on=j.on.tree() if j.on else None, side=j.side or None,
                                             kind=j.kind or None))
        if where is not None:
            sel = sel.where(where, copy=False)
        return sel

    def select(self, node: Node) -> exp.Select:
        """The SELECT computing an Aggregate/Project (k0.., v0..) or a PreAggregate (g0.., a0.., e0..)."""
        node = self.resolve(node)
        if isinstance(node, PreAggregate):
            return _pre_select(node)
        if not isinstance(node, (Aggregate, Project)):
            raise TypeError(f"no SELECT for plan node {type(node).__name__}")
        sel = exp.select(*[exp.alias_(k.tree(), f"k{i}") for i, k in enumerate(node.keys)],
                         *[exp.alias_(v.tree(), f"v{i}") for i, v in enumerate(node.values)])
        sel = self.source(sel, node.input)
        if isinstance(node, Aggregate) and node.keys:
            sel = sel.group_by(*[exp.Literal.number(i + 1) for i in range(len(node.keys))], copy=False)
        return sel

    def reads(self, node: Node, uses: dict[Node, int], pres: dict[PreAggregate, None]) -> None:
        """Count the uses of `node` and, on its first, of the leaves it reads; collect the
        pre-aggregations read (bases first)."""
        node = self.resolve(node)
        uses[node] = uses.get(node, 0) + 1
        if uses[node] > 1:
            return
        _pre_aggregates(node, pres)
        for ref in leaf_refs(node.input if isinstance(node, (Aggregate, Project)) else node):
            self.reads(ref, uses, pres)


def select_of(node: Node, plans: dict | None = None) -> exp.Select:
    """The SELECT of one plan node (`plans`: the final node of each leaf a LeafRef reads)."""
    return _Renderer(plans or {}).select(node)


def _from(sel: exp.Select, node: Node) -> exp.Select:
    return _Renderer({}).source(sel, node)


def _pre_select(pre: PreAggregate) -> exp.Select:
    """g0.. keys, a0.. atoms over `fact`, then e0.. dimension values joined to the grouped
    rows (with `base`: `base`'s table plus the dimension values it lacks)."""
    keys = {k.sql: i for i, k in enumerate(pre.keys)}
    if pre.base is not None:
        source: exp.Expression = exp.to_table(pre.base.name).as_("s_g")
        first = len(pre.base.dims)
    else:
        grouped = exp.select(*[exp.alias_(k.tree(), f"g{i}") for i, k in enumerate(pre.keys)],
                             *[exp.alias_(a.tree(), f"a{i}") for i, a in enumerate(pre.atoms)])
        grouped = _from(grouped, pre.fact)
        if pre.keys:
            grouped = grouped.group_by(*[exp.Literal.number(i + 1) for i in range(len(pre.keys))], copy=False)
        if not pre.dims:
            return grouped
        source, first = grouped.subquery("s_g"), 0
    dims = pre.dims[first:]
    sel = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("s_g"))).from_(source)
    for alias, (table, fk_sql, pk) in dict.fromkeys(j for d in dims for j in d.joins):
        on = exp.EQ(this=exp.column(f"g{keys[fk_sql]}", "s_g"), expression=exp.column(pk, alias, quoted=True))
        sel = join(sel, table_ref(table, alias), on)
    return sel.select(*[exp.alias_(d.expr.tree(), f"e{first + i}") for i, d in enumerate(dims)])


def _pre_aggregates(node: Node, out: dict[PreAggregate, None]) -> None:
    """The pre-aggregations `node` reads, bases first."""
    if isinstance(node, PreAggregate):
        if node.base is not None:
            _pre_aggregates(node.base, out)
        out.setdefault(node)
    elif isinstance(node, (Aggregate, Project, Filter)):
        _pre_aggregates(node.input, out)
    elif isinstance(node, Join):
        _pre_aggregates(node.left, out)
        _pre_aggregates(node.right, out)


def placeholders(tree: exp.Expression) -> list[exp.Table]:
    return [t for t in tree.find_all(exp.Table) if t.meta.get("leaf") is not None]


def render_leaves(tree: exp.Expression, tables: list[exp.Table], plans: dict, staged: tuple = ()) -> list[exp.Expression]:
    """Replace each placeholder of `tables` by its plan (`plans`: leaf entry → final node,
    for every leaf the placeholders read, directly or through others) in `tree`, in place;
    returns the statements to run first (CREATEs of the `staged` cache entries read)."""
    r = _Renderer(plans)
    uses: dict[Node, int] = {}
    pres: dict[PreAggregate, None] = {}
    for t in tables:
        r.reads(plans[t.meta["leaf"]], uses, pres)
    prelude, ctes = [], []
    staged_names = {p.name for p in staged}
    for pre in pres:
        if pre.stored:
            if pre.name in staged_names:
                prelude.append(create_table(exp.to_table(pre.name), _pre_select(pre)))
        else:
            ctes.append(exp.CTE(this=_pre_select(pre), alias=exp.TableAlias(this=exp.to_identifier(pre.name)),
                                materialized=True))
    # the same plan read in several places: computed once (leaves read by others first)
    for n in reversed([n for n, count in uses.items() if count > 1]):
        name = f"__leaf{len(r.names) + 1}"
        ctes.append(exp.CTE(this=r.select(n), alias=exp.TableAlias(this=exp.to_identifier(name)), materialized=True))
        r.names[n] = name
    for t in tables:
        t.replace(r.item(plans[t.meta["leaf"]], t.alias))
    if ctes:
        tree.set("with_", exp.With(expressions=ctes))
    return prelude
