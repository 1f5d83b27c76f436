"""One scan for several grouped aggregations of the same rows (a rewrite of the final SQL).

A visual's SQL often aggregates the same filtered fact rows several times with different
group-by keys: a matrix computes every subtotal level, and a measure such as Repeat
Customers groups per (cell, customer) while Total Customers counts distinct customers
per cell. Each such "leaf" (`SELECT keys, aggregates FROM fact [JOIN dims] WHERE …
GROUP BY keys`) is a full scan of the fact table.

Leaves with the same FROM / JOIN / WHERE whose key sets are all subsets of the key set of
one of them (the finest) are computed from one pre-aggregation of that finest grouping,
a MATERIALIZED common table expression:

    WITH s1 AS MATERIALIZED (SELECT g0, g1, g2, COUNT(*) AS a0, SUM(x) AS a1 FROM fact … GROUP BY g0, g1, g2)

and every leaf becomes a re-aggregation of it: COUNT(*) → SUM(a0), SUM(x) → SUM(a1),
MIN/MAX → MIN/MAX, COUNT(DISTINCT g) → COUNT(DISTINCT g) when g is a key of the finest
grouping. COUNT(DISTINCT k) of a leaf's own group-by key k needs no distinct at all. A leaf with any other aggregate (AVG, MEDIAN, …) is left alone, so the rewrite
never changes a value; `tests/engine/test_grouped.py` compares every report visual with
the per-cell evaluation, which does not use this rewrite.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

_ALLOWED_ARGS = {"expressions", "from_", "joins", "where", "group"}


@dataclass
class _Leaf:
    node: exp.Select
    sig: str  # FROM / JOIN / WHERE with canonical aliases
    body: exp.Select  # canonical copy: FROM / JOIN / WHERE only
    keys: list[exp.Expression]  # canonical key expressions, in projection order
    key_sql: list[str]
    aliases: list[str]  # output alias of every projection
    projs: list[exp.Alias] = field(default_factory=list)  # canonical projections

    @property
    def values(self) -> list[exp.Expression]:
        return [p.this for p in self.projs[len(self.keys):]]


def _canonical(sel: exp.Select) -> exp.Select | None:
    """Copy with table aliases renamed s_a0, s_a1, … in FROM/JOIN order."""
    sel = sel.copy()
    tables = [sel.args["from_"].this] + [j.this for j in sel.args.get("joins") or []]
    mapping = {}
    for i, t in enumerate(tables):
        if not isinstance(t, exp.Table) or t.args.get("db") or t.args.get("catalog"):
            return None
        mapping[t.alias_or_name] = f"s_a{i}"
    if len(mapping) != len(tables):
        return None
    for t in tables:
        t.set("alias", exp.TableAlias(this=exp.to_identifier(mapping[t.alias_or_name])))
    for c in sel.find_all(exp.Column):
        if not c.table or c.table not in mapping:
            return None  # unqualified or outer (correlated) reference
        c.set("table", exp.to_identifier(mapping[c.table]))
    return sel


def _leaf(sel: exp.Select) -> _Leaf | None:
    if any(v for k, v in sel.args.items() if k not in _ALLOWED_ARGS and v):
        return None
    if not isinstance(sel.args.get("from_"), exp.From):
        return None
    if any(n is not sel for n in sel.find_all(exp.Select)) or sel.find(exp.Window, exp.Subquery, exp.Filter):
        return None
    for j in sel.args.get("joins") or []:
        if j.args.get("using") or not j.args.get("on"):
            return None
    canon = _canonical(sel)
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
    if len(projs) <= n or not all(isinstance(p, exp.Alias) for p in projs):
        return None
    keys = [p.this for p in projs[:n]]
    if any(k.find(exp.AggFunc) for k in keys):
        return None
    values = [p.this for p in projs[n:]]
    for v in values:
        # every column outside an aggregate would be a grouping error; keep to the simple form
        for c in v.find_all(exp.Column):
            if not c.find_ancestor(exp.AggFunc):
                return None
        for agg in v.find_all(exp.AggFunc):
            if agg.find_ancestor(exp.AggFunc) is not None and agg.find_ancestor(exp.AggFunc) is not agg:
                return None
    body = canon.copy()
    body.set("expressions", [])
    body.set("group", None)
    return _Leaf(sel, body.sql("duckdb"), body, keys, [k.sql("duckdb") for k in keys],
                 [p.alias for p in projs], list(projs))


def _atom(agg: exp.AggFunc, keys: dict[str, int], atoms: dict[str, tuple[int, exp.Expression]]):
    """How `agg` is rolled up from the pre-aggregation: (kind, index) or None."""
    if isinstance(agg, exp.Count):
        arg = agg.this
        if isinstance(arg, exp.Distinct):
            if len(arg.expressions) != 1:
                return None
            k = keys.get(arg.expressions[0].sql("duckdb"))
            return ("distinct", k) if k is not None else None
        kind = "count"
    elif isinstance(agg, (exp.Sum, exp.Min, exp.Max)):
        if isinstance(agg.this, exp.Distinct) or len([a for a in agg.args.values() if a is not None]) != 1:
            return None
        kind = type(agg).__name__.lower()
    else:
        return None
    sql = agg.sql("duckdb")
    if sql not in atoms:
        atoms[sql] = (len(atoms), agg.copy())
    return kind, atoms[sql][0]


def _distinct_of_key(sel: exp.Select) -> None:
    """COUNT(DISTINCT k) where k is a group-by key of the same SELECT: every group holds
    one value of k, so the count is 1, or 0 for the group where k is NULL (COUNT(k) > 0)."""
    n = len(sel.args["group"].expressions) if sel.args.get("group") else 0
    keys = {p.this.sql("duckdb") for p in sel.expressions[:n]}
    for p in sel.expressions[n:]:
        for agg in list(p.find_all(exp.Count)):
            arg = agg.this
            if isinstance(arg, exp.Distinct) and len(arg.expressions) == 1 and arg.expressions[0].sql("duckdb") in keys:
                x = arg.expressions[0].copy()
                agg.replace(exp.cast(exp.Case(ifs=[exp.If(this=exp.GT(this=exp.Count(this=x), expression=exp.Literal.number(0)),
                                                          true=exp.Literal.number(1))],
                                              default=exp.Literal.number(0)), "BIGINT"))


def share_scans(tree: exp.Expression) -> exp.Expression:
    """Rewrite `tree` (the statement's SELECT) in place where leaves can share a scan."""
    for sel in list(tree.find_all(exp.Select)):
        if sel is not tree and _leaf(sel) is not None:
            _distinct_of_key(sel)
    by_sig: dict[str, list[_Leaf]] = {}
    for sel in list(tree.find_all(exp.Select)):
        if sel is tree:
            continue
        leaf = _leaf(sel)
        if leaf is not None:
            by_sig.setdefault(leaf.sig, []).append(leaf)
    ctes = []
    for leaves in by_sig.values():
        if len(leaves) < 2:
            continue
        finest = max(leaves, key=lambda lf: len(set(lf.key_sql)))
        fine = list(dict.fromkeys(finest.key_sql))
        if not all(set(lf.key_sql) <= set(fine) for lf in leaves):
            continue
        keys = {s: i for i, s in enumerate(fine)}
        atoms: dict[str, tuple[int, exp.Expression]] = {}
        plans = []
        for lf in leaves:
            plan = []
            for v in lf.values:
                for agg in v.find_all(exp.AggFunc):
                    how = _atom(agg, keys, atoms)
                    if how is None:
                        plan = None
                        break
                    plan.append((agg, how))
                if plan is None:
                    break
            plans.append(plan)
        usable = [(lf, plan) for lf, plan in zip(leaves, plans) if plan is not None]
        if len(usable) < 2:
            continue
        name = f"__scan{len(ctes) + 1}"
        key_exprs = {s: next(k for lf in leaves for k, ks in zip(lf.keys, lf.key_sql) if ks == s) for s in fine}
        pre = finest.body.copy()
        pre.set("expressions", [exp.alias_(key_exprs[s].copy(), f"g{i}") for i, s in enumerate(fine)]
                + [exp.alias_(a.copy(), f"a{i}") for _, (i, a) in sorted(atoms.items(), key=lambda x: x[1][0])])
        if fine:
            pre = pre.group_by(*[exp.Literal.number(i + 1) for i in range(len(fine))])
        ctes.append(exp.CTE(this=pre, alias=exp.TableAlias(this=exp.to_identifier(name)), materialized=True))
        for lf, plan in usable:
            src = "s_p"

            def col(c: str) -> exp.Column:
                return exp.column(c, src)

            for agg, (kind, i) in plan:
                if kind == "distinct":
                    new = exp.Count(this=exp.Distinct(expressions=[col(f"g{i}")]))
                elif kind == "count":
                    new = exp.cast(exp.Coalesce(this=exp.Sum(this=col(f"a{i}")), expressions=[exp.Literal.number(0)]),
                                   "BIGINT")
                elif kind == "sum":
                    new = exp.Sum(this=col(f"a{i}"))
                else:
                    new = (exp.Min if kind == "min" else exp.Max)(this=col(f"a{i}"))
                agg.replace(new)
            n = len(lf.keys)
            outs = [exp.alias_(col(f"g{keys[s]}"), lf.aliases[i]) for i, s in enumerate(lf.key_sql)]
            outs += [exp.alias_(v, lf.aliases[n + i]) for i, v in enumerate(lf.values)]
            new_sel = exp.select(*outs).from_(exp.to_table(name).as_(src))
            if n:
                new_sel = new_sel.group_by(*[exp.Literal.number(i + 1) for i in range(n)])
            lf.node.replace(new_sel)
    if ctes:
        tree.set("with_", exp.With(expressions=ctes))
    return tree
