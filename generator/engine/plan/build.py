"""A grouped aggregate's SELECT (as the compiler builds it) → a plan `Aggregate`.

The compiler builds a leaf as `SELECT keys AS k0.., value AS v FROM table [LEFT JOIN
dims ON …] WHERE … GROUP BY 1..n` over its own aliases (t17, t18, …). This is the one
place that reads such a SELECT: aliases become positional (`nodes.item_alias`) so equal
leaves give equal plans, and anything outside the simple form (a derived table, a window,
a nested query, a correlated reference, a row-level projection) gives None — the caller
then keeps the SELECT as it is, and nothing is shared for it. A leaf may read other leaves
(the placeholders `render.plan` fills, a nested cell scope's rows): they are `LeafRef`s."""
from __future__ import annotations

from sqlglot import exp

from generator.engine.plan.expr import SqlExpr
from generator.engine.plan.nodes import Aggregate, Filter, Join, LeafRef, Node, Scan, item_alias

LEAF_TABLE = "__pbi_forge_unplanned_leaf"  # the compiler's placeholder; never rendered: a query that keeps one fails loudly

_ALLOWED_ARGS = {"expressions", "from_", "joins", "where", "group"}


def _shaped(sel: exp.Select) -> bool:
    if any(v for k, v in sel.args.items() if k not in _ALLOWED_ARGS and v):
        return False
    if not isinstance(sel.args.get("from_"), exp.From):
        return False
    if any(n is not sel for n in sel.find_all(exp.Select)) or sel.find(exp.Window, exp.Subquery, exp.Filter):
        return False
    return all((j.args.get("on") or j.kind == "CROSS") and not j.args.get("using") for j in sel.args.get("joins") or [])


def _positional(sel: exp.Select) -> exp.Select | None:
    """A copy with table aliases renamed s_a0, s_a1, … in FROM/JOIN order, or None when a
    column is unqualified or refers outside (a correlated reference)."""
    sel = sel.copy()
    tables = [sel.args["from_"].this] + [j.this for j in sel.args.get("joins") or []]
    mapping = {}
    for i, t in enumerate(tables):
        if not isinstance(t, exp.Table) or t.args.get("db") or t.args.get("catalog"):
            return None
        mapping[t.alias_or_name] = item_alias(i)
    if len(mapping) != len(tables):
        return None
    for c in sel.find_all(exp.Column):
        if not c.table or c.table not in mapping:
            return None
        c.set("table", exp.to_identifier(mapping[c.table]))
    return sel


def _value_ok(v: exp.Expression) -> bool:
    """Every column inside an aggregate (else a grouping error), no nested aggregate."""
    for c in v.find_all(exp.Column):
        if not c.find_ancestor(exp.AggFunc):
            return False
    for agg in v.find_all(exp.AggFunc):
        outer = agg.find_ancestor(exp.AggFunc)
        if outer is not None and outer is not agg:
            return False
    return True


def _item(table: exp.Table) -> Node:
    entry = table.meta.get("leaf")
    return Scan(table.name) if entry is None else LeafRef(entry)


def leaf_plan(sel: exp.Select) -> Aggregate | None:
    """The plan of a leaf SELECT (keys k0.., one value last), or None (see the module doc)."""
    if not _shaped(sel):
        return None
    canon = _positional(sel)
    if canon is None:
        return None
    group = canon.args.get("group")
    n = 0
    if group is not None:
        if group.args.get("grouping_sets") or group.args.get("cube") or group.args.get("rollup"):
            return None
        ords = group.expressions
        if not all(isinstance(o, exp.Literal) and o.is_int and int(o.this) == i + 1 for i, o in enumerate(ords)):
            return None
        n = len(ords)
    projs = canon.expressions
    if len(projs) != n + 1 or not all(isinstance(p, exp.Alias) for p in projs):
        return None
    if [p.alias for p in projs[:n]] != [f"k{i}" for i in range(n)]:
        return None
    keys = [p.this for p in projs[:n]]
    value = projs[n].this
    if any(k.find(exp.AggFunc) for k in keys) or (n == 0 and not value.find(exp.AggFunc)) or not _value_ok(value):
        # no aggregate: one output row per input row (e.g. `SELECT 1 AS v FROM fact`, the
        # rows COUNTROWS counts), not an aggregation
        return None
    source: Node = _item(canon.args["from_"].this)
    for j in canon.args.get("joins") or []:
        on = j.args.get("on")
        source = Join(source, _item(j.this), SqlExpr.of(on) if on is not None else None, j.side or "", j.kind or "")
    where = canon.args.get("where")
    if where is not None:
        source = Filter(source, SqlExpr.of(where.this))
    return Aggregate(source, tuple(SqlExpr.of(k) for k in keys), (SqlExpr.of(value),))


class LeafEntry:
    """A leaf as the compiler registers it: its plan, which grows while values are fused
    into it. Placeholders in the compiled tree refer to the entry (in `meta["leaf"]`), and
    copying a tree must not copy it: every copy of a placeholder reads the same leaf."""

    __slots__ = ("plan",)

    def __init__(self, plan: Aggregate):
        self.plan = plan

    def __deepcopy__(self, memo) -> "LeafEntry":
        return self
