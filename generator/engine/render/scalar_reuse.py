"""Scalar subqueries repeated in one SELECT: computed once, in a LATERAL join (DuckDB).

A DAX VAR is evaluated once (https://learn.microsoft.com/en-us/dax/var-dax), but the
compiler inlines a variable's value at each use. A measure like Key Findings (`VAR
top_group = [Top Age Group]`, used in the text, in `group_share`'s CALCULATE filter and
inside `group_share` again where it is formatted) therefore prints the same correlated
scalar subquery (a TOPN over a fact scan) many times, and DuckDB plans and runs every
copy: 12 fact scans where 5 do.

This rewrite gives every scalar subquery that occurs more than once among a SELECT's
projections one column of a `CROSS JOIN LATERAL (SELECT (<subquery>) AS x0, ...) AS
__cseN` of that SELECT, and replaces each copy with the column. Innermost repeats go
first, so a repeated subquery that contains another repeated one reads the earlier
lateral's column; the SELECT is rewritten until no repeat is left.

The values are the same: the lateral has one row per row of the FROM it follows, so the
SELECT keeps its rows, and the subquery sees the outer row it saw in place (only
subqueries whose outer references all name this SELECT's FROM items, each alias defined
once in the statement, are moved). DuckDB plans a correlated scalar subquery as a join
over all outer rows even inside a CASE branch, so computing it outside the CASE does not
evaluate anything it did not evaluate already. A SELECT that groups or aggregates is
left as it is (the lateral's column would have to be grouped).
"""
from __future__ import annotations

from collections import Counter

from sqlglot import exp

_TABLE_ITEMS = (exp.From, exp.Join, exp.Lateral)


def reuse_scalar_subqueries(tree: exp.Expression) -> exp.Expression:
    """`tree` with repeated scalar subqueries hoisted (in place; returns `tree`)."""
    scalars = [s for s in tree.find_all(exp.Subquery) if _is_scalar(s)]
    if len(scalars) < 2 or len({_key(s) for s in scalars}) == len(scalars):
        return tree
    defined = Counter(a.name for a in tree.find_all(exp.TableAlias))
    defined.update(t.name for t in tree.find_all(exp.Table) if not t.alias)
    counter = [0]
    for sel in list(tree.find_all(exp.Select)):
        if _attached(sel, tree) and _hoistable_select(sel):
            while _hoist_once(sel, defined, counter):
                pass
    return tree


def _is_scalar(sub: exp.Subquery) -> bool:
    """A subquery used as a value: not a FROM/JOIN item, not the right side of IN."""
    return not isinstance(sub.parent, _TABLE_ITEMS) and sub.arg_key != "query" and isinstance(sub.this, exp.Select)


def _key(sub: exp.Subquery) -> str:
    """The subquery's text without the alias it may carry as a projection (`(…) AS v0`)."""
    return sub.this.sql("duckdb")  # a copy: printing may rewrite the tree it prints (LISTAGG ORDER BY)


def _attached(node: exp.Expression, root: exp.Expression) -> bool:
    while node is not None and node is not root:
        node = node.parent
    return node is root


def _own_scope(node: exp.Expression, sel: exp.Select) -> bool:
    """`node` belongs to `sel` itself, not to a query nested in it."""
    parent = node.parent
    while parent is not None and parent is not sel:
        if isinstance(parent, (exp.Select, exp.Subquery)):
            return False
        parent = parent.parent
    return parent is sel


def _hoistable_select(sel: exp.Select) -> bool:
    if not isinstance(sel.args.get("from_"), exp.From):
        return False
    if any(sel.args.get(k) for k in ("group", "having", "qualify", "distinct")):
        return False
    return not any(_own_scope(a, sel) for p in sel.expressions for a in p.find_all(exp.AggFunc))


def _from_aliases(sel: exp.Select) -> set[str]:
    items = [sel.args["from_"].this] + [j.this for j in sel.args.get("joins") or []]
    return {i.alias_or_name for i in items}


def _free_tables(sub: exp.Subquery) -> set[str] | None:
    """The table aliases `sub` reads from outside itself; None when a column is unqualified
    (it could resolve to a scope the subquery would leave)."""
    inner = {a.name for a in sub.this.find_all(exp.TableAlias)} | {
        t.name for t in sub.this.find_all(exp.Table) if not t.alias}
    tables = set()
    for c in sub.this.find_all(exp.Column):
        if not c.table:
            return None
        tables.add(c.table)
    return tables - inner


def _hoist_once(sel: exp.Select, defined: Counter, counter: list[int]) -> bool:
    outer = _from_aliases(sel)
    groups: dict[str, list[exp.Subquery]] = {}
    for p in sel.expressions:
        for s in p.find_all(exp.Subquery):
            if _is_scalar(s):
                groups.setdefault(_key(s), []).append(s)
    repeated = {}
    for key, occurrences in groups.items():
        if len(occurrences) < 2:
            continue
        free = _free_tables(occurrences[0])
        if free is None or not free <= outer or any(defined[t] != 1 for t in free):
            continue
        repeated[key] = occurrences
    # innermost first: a repeat containing another repeat waits for the next round
    nodes = {id(o) for occ in repeated.values() for o in occ}
    innermost = {k: occ for k, occ in repeated.items()
                 if not any(id(d) in nodes for d in occ[0].this.find_all(exp.Subquery))}
    if not innermost:
        return False
    alias = f"__cse{counter[0]}"
    counter[0] += 1
    defined[alias] += 1
    columns = []
    for i, occurrences in enumerate(innermost.values()):
        first = occurrences[0].copy()
        first.set("alias", None)
        columns.append(exp.alias_(first, f"x{i}", copy=False))
        for o in occurrences:
            column = exp.column(f"x{i}", alias)
            o.replace(exp.alias_(column, o.alias, copy=False) if o.alias else column)
    lateral = exp.Lateral(this=exp.select(*columns).subquery(copy=False),
                          alias=exp.TableAlias(this=exp.to_identifier(alias)))
    sel.append("joins", exp.Join(this=lateral, kind="CROSS"))
    return True
