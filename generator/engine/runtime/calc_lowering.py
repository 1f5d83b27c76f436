"""Calculated columns as set-based SQL: the compiled per-row SELECT, decorrelated.

`Compiler.calculated_column` gives `SELECT <row's columns>, <value> FROM T AS r`, where the
value evaluates the column's DAX in the row context of `r`: RELATEDTABLE aggregates and
RANKX lookups become scalar subqueries correlated with `r`. DuckDB decorrelates most of
them itself, but Spark's Catalyst plans each one for minutes (docs/spark.md), and even on
DuckDB an expert writes them as one GROUP BY or one window over the other table, joined
back. This module rewrites the compiled SELECT (a sqlglot AST; nothing DuckDB-specific,
so both renderers print it) for the shapes it can prove equal, and leaves everything else
exactly as compiled:

1. Aggregate of the rows related to the current row (RELATEDTABLE(fact), optionally
   FILTERed by conditions that do not read the row, e.g. `Order_Date <= as_of`):
   `(SELECT agg(d.v) FROM (SELECT v FROM … WHERE X IS NOT DISTINCT FROM r.k AND rest) d)`
   → `LEFT JOIN (SELECT X AS k, agg(v) FROM … WHERE rest GROUP BY X) g ON r.k <=> g.k`,
   the subquery → `g.a`. Only for aggregates that are NULL over no rows (MAX, MIN, SUM,
   AVG, the compiler's `NULLIF(COUNT(*), 0)`: DAX's COUNTROWS of an empty table is BLANK,
   https://dax.guide/countrows/), since a row without related rows gets NULL from the
   LEFT JOIN. Group key unique, so the join adds no rows.
2. RANKX's lookup of the current row's value among the ranked table's grouped values
   (`SELECT c.v FROM (SELECT e AS b) q ASOF LEFT JOIN c ON q.b <= c.a`, the compiler's
   one ASOF join; https://dax.guide/rankx/ ranks by the count of better values): the
   distinct values of `e` over the table and the values `a` of `c` in one window (which
   `a` is the nearest at or after each `e`), joined back on `e` and then `c` on that `a`.
   The same row the ASOF join takes; NULL where it finds none.

`combine` then puts columns of one table that do not read each other into one statement
(one pass, one Spark job instead of one each). `lower` returns None when nothing matched.
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence

from sqlglot import exp

_CLAUSES = ("joins", "where", "group", "having", "qualify", "order", "limit", "offset", "distinct",
            "laterals", "with")


def _free(node: exp.Expression) -> bool:
    """No clause beyond SELECT … FROM."""
    return not any(node.args.get(k) for k in _CLAUSES)


def _refs(node: exp.Expression, alias: str) -> bool:
    return any(c.table == alias for c in node.find_all(exp.Column))


def _closed(node: exp.Expression, allowed: frozenset[str] = frozenset()) -> bool:
    """Every qualified column of `node` names a table or derived table defined inside it, or
    one of `allowed`: nothing reads a query between the row and `node`, so `node` can move
    up to the row's level."""
    defined = {t.alias_or_name for t in node.find_all(exp.Table)}
    defined |= {s.alias for s in node.find_all(exp.Subquery) if s.alias}
    return all(not c.table or c.table in defined or c.table in allowed for c in node.find_all(exp.Column))


def _outer(select: exp.Select) -> tuple[exp.Table, str] | None:
    """`FROM T AS r` and nothing else: the shape `calculated_column` compiles to."""
    source = select.args.get("from_")
    if source is None or not _free(select) or not isinstance(source.this, exp.Table):
        return None
    alias = source.this.alias
    return (source.this, alias) if alias else None


class _Names:
    """Aliases for the hoisted derived tables: `__cc<n>`, never produced by the compiler."""

    def __init__(self, counter: itertools.count):
        self.counter = counter

    def __call__(self) -> str:
        return f"__cc{next(self.counter)}"


def lower(select: exp.Select, counter: itertools.count | None = None) -> exp.Select | None:
    """The calculated column's SELECT with its recognised correlated subqueries turned into
    joins, or None when none matched (the compiled SELECT is then used as it is)."""
    outer = _outer(select)
    if outer is None or not select.expressions:
        return None
    table, alias = outer
    new = select.copy()
    names = _Names(counter or itertools.count())
    joins: list[exp.Join] = []
    value = new.expressions[-1]
    _rewrite(value, table, alias, names, joins)
    if not joins:
        return None
    for join in joins:
        new.append("joins", join)
    return new


def _rewrite(node: exp.Expression, table: exp.Table, alias: str, names: _Names, joins: list) -> None:
    """Outermost first: a matched subquery is replaced whole; an unmatched one that reads the
    row is searched inside (e.g. the compiler's one-row `let` wrapper around DIVIDE's operands)."""
    for sub in list(node.find_all(exp.Subquery, bfs=False)):
        if sub.find_ancestor(exp.Subquery) is not None and _inside_replaced(sub, node):
            continue
        if isinstance(sub.parent, (exp.From, exp.Join)) or not _refs(sub, alias):
            continue
        if not isinstance(sub.this, exp.Select):
            continue
        replacement = _related_aggregate(sub.this, alias, names, joins) \
            or _rank_lookup(sub.this, table, alias, names, joins)
        if replacement is not None:
            sub.replace(exp.alias_(replacement, sub.alias) if sub.alias else replacement)


def _inside_replaced(sub: exp.Expression, root: exp.Expression) -> bool:
    """A subquery no longer under `root` (its ancestor was replaced)."""
    node = sub
    while node is not None and node is not root:
        node = node.parent
    return node is None


# ------------------------------------------------------------ 1. related aggregates

def _null_on_empty(e: exp.Expression, d: str) -> bool:
    """An aggregate of `d`'s rows that is NULL over no rows (so a missing group is the same)."""
    if isinstance(e, (exp.Cast, exp.TryCast)):
        return _null_on_empty(e.this, d)
    if isinstance(e, (exp.Max, exp.Min, exp.Sum, exp.Avg)):
        return all(c.table == d for c in e.find_all(exp.Column)) and not e.find(exp.Subquery)
    if isinstance(e, exp.Nullif) or (isinstance(e, exp.Anonymous) and str(e.this).lower() == "nullif"):
        args = [e.this, e.expression] if isinstance(e, exp.Nullif) else list(e.expressions)
        if len(args) != 2:
            return False
        count, zero = args
        return (isinstance(count, exp.Count) and isinstance(count.this, exp.Star)
                and isinstance(zero, exp.Literal) and str(zero.this) == "0")
    return False


def _conjuncts(e: exp.Expression | None) -> list[exp.Expression]:
    if e is None:
        return []
    if isinstance(e, exp.Where):
        e = e.this
    while isinstance(e, exp.Paren):
        e = e.this
    if isinstance(e, exp.And):
        return _conjuncts(e.this) + _conjuncts(e.expression)
    return [e]


def _key_match(cond: exp.Expression, alias: str) -> tuple[exp.Expression, exp.Column, type] | None:
    """`X IS NOT DISTINCT FROM r.k` (or `=`), X not reading the row: (X, r.k, the operator)."""
    if not isinstance(cond, (exp.NullSafeEQ, exp.EQ)):
        return None
    for x, k in ((cond.this, cond.expression), (cond.expression, cond.this)):
        if isinstance(k, exp.Column) and k.table == alias and not _refs(x, alias):
            return x, k, type(cond)
    return None


def _related_aggregate(sub: exp.Select, alias: str, names: _Names, joins: list) -> exp.Expression | None:
    source = sub.args.get("from_")
    if source is None or not _free(sub) or len(sub.expressions) != 1:
        return None
    derived = source.this
    if not (isinstance(derived, exp.Subquery) and derived.alias and isinstance(derived.this, exp.Select)):
        return None
    agg, d, inner = sub.expressions[0], derived.alias, derived.this
    agg = agg.this if isinstance(agg, exp.Alias) else agg
    if not _null_on_empty(agg, d) or _refs(agg, alias):
        return None
    if any(inner.args.get(k) for k in _CLAUSES if k not in ("joins", "where")) or inner.args.get("from_") is None:
        return None
    if any(isinstance(n, (exp.Window, exp.AggFunc)) for p in inner.expressions for n in p.walk()
           if not n.find_ancestor(exp.Subquery) or n.find_ancestor(exp.Subquery) is derived):
        return None  # a window or aggregate over the inner rows would see every group at once
    conds = _conjuncts(inner.args.get("where"))
    keyed = [(c, m) for c in conds if _refs(c, alias) for m in [_key_match(c, alias)]]
    if len(keyed) != 1 or keyed[0][1] is None:
        return None
    cond, (x, k, op) = keyed[0]
    rest = [c for c in conds if c is not cond]
    body = inner.copy()
    body.set("where", None)
    if any(_refs(p, alias) for p in body.expressions) or _refs(body, alias):
        return None
    for c in rest:
        body = body.where(c.copy(), copy=False)
    body = body.select(exp.alias_(x.copy(), "__k"), append=True, copy=False)
    if not _closed(body) or not _closed(agg, frozenset({d})):
        return None  # reads a query between the row and this subquery: not hoisted
    g = names()
    grouped = (exp.select(exp.alias_(exp.column("__k", d), "k"), exp.alias_(agg.copy(), "a"))
               .from_(body.subquery(d)).group_by(exp.column("__k", d)))
    on = op(this=k.copy(), expression=exp.column("k", g))
    joins.append(exp.Join(this=grouped.subquery(g), side="LEFT", on=on))
    return exp.column("a", g)


# ------------------------------------------------------------ 2. RANKX's lookup

def _rank_lookup(sub: exp.Select, table: exp.Table, alias: str, names: _Names, joins: list) -> exp.Expression | None:
    joined = sub.args.get("joins") or []
    source = sub.args.get("from_")
    if len(joined) != 1 or source is None or len(sub.expressions) != 1 \
            or any(sub.args.get(k) for k in _CLAUSES if k != "joins"):
        return None
    join, q, out = joined[0], source.this, sub.expressions[0]
    on, values = join.args.get("on"), join.this
    if not ((join.args.get("method") or "").upper() == "ASOF" and (join.args.get("side") or "").upper() == "LEFT"
            and isinstance(on, (exp.LTE, exp.GTE)) and isinstance(out, exp.Column)
            and isinstance(values, exp.Subquery) and values.alias and out.table == values.alias
            and isinstance(q, exp.Subquery) and isinstance(q.this, exp.Select) and q.this.args.get("from_") is None
            and len(q.this.expressions) == 1 and isinstance(q.this.expressions[0], exp.Alias)
            and isinstance(on.this, exp.Column) and on.this.table == q.alias
            and on.this.name == q.this.expressions[0].alias
            and isinstance(on.expression, exp.Column) and on.expression.table == values.alias):
        return None
    probe, a = q.this.expressions[0].this, on.expression.name
    if _refs(values, alias) or probe.find(exp.Subquery) or not _unique(values.this, a) \
            or not _closed(values) or not _closed(probe, frozenset({alias})):
        return None
    ties_first = isinstance(on, exp.LTE)  # least a >= probe: probes sort before equal values
    x, p = exp.column("x", "u"), exp.column("p", "u")
    candidates = (exp.select(exp.alias_(exp.column(a, "c"), "x"), exp.alias_(exp.Literal.number(0), "p"))
                  .from_(values.this.subquery("c", copy=True)))
    probes = (exp.select(exp.alias_(probe.copy(), "x"), exp.alias_(exp.Literal.number(1), "p"))
              .distinct().from_(table.copy())
              .where(exp.Not(this=exp.paren(exp.Is(this=probe.copy(), expression=exp.Null())))))
    pick = exp.Min if ties_first else exp.Max
    frame = exp.WindowSpec(kind="ROWS", start="CURRENT ROW", end="UNBOUNDED", end_side="FOLLOWING") if ties_first \
        else exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW")
    order = exp.Order(expressions=[exp.Ordered(this=x.copy(), desc=False),
                                   exp.Ordered(this=p.copy(), desc=ties_first)])
    nearest = exp.Window(this=pick(this=exp.Case(ifs=[exp.If(this=exp.EQ(this=p.copy(), expression=exp.Literal.number(0)),
                                                              true=x.copy())])),
                         order=order, spec=frame)
    marked = (exp.select(exp.alias_(x.copy(), "b"), exp.alias_(p.copy(), "p"), exp.alias_(nearest, "nx"))
              .from_(exp.union(candidates, probes, distinct=False).subquery("u")))
    lookup = (exp.select(exp.column("b", "m"), exp.column("nx", "m")).from_(marked.subquery("m"))
              .where(exp.EQ(this=exp.column("p", "m"), expression=exp.Literal.number(1))))
    rq, rw = names(), names()
    joins.append(exp.Join(this=lookup.subquery(rq), side="LEFT",
                          on=exp.EQ(this=exp.paren(probe.copy()), expression=exp.column("b", rq))))
    joins.append(exp.Join(this=values.this.subquery(rw, copy=True), side="LEFT",
                          on=exp.EQ(this=exp.column("nx", rq), expression=exp.column(a, rw))))
    return exp.column(out.name, rw)


def _unique(values: exp.Expression, a: str) -> bool:
    """`values` has one row per `a`: SELECT s.a, … FROM (SELECT …, … GROUP BY <a's column>) s
    (the compiler's counted values), so the join back on `a` adds no rows."""
    if not isinstance(values, exp.Select) or not _free(values):
        return False
    source = values.args.get("from_")
    grouped = source.this if source is not None else None
    if not (isinstance(grouped, exp.Subquery) and isinstance(grouped.this, exp.Select)):
        return False
    cols = [p for p in values.expressions if p.alias_or_name == a]
    if len(cols) != 1 or not isinstance(cols[0], exp.Column) or cols[0].table != grouped.alias:
        return False
    inner = grouped.this
    group = inner.args.get("group")
    if group is None or len(group.expressions) != 1 or any(inner.args.get(k) for k in ("joins", "having", "qualify")):
        return False
    (key,) = group.expressions
    names = [p.alias_or_name for p in inner.expressions]
    if a not in names:
        return False
    position = names.index(a)
    target = inner.expressions[position]
    if isinstance(key, exp.Literal) and key.is_int:
        return int(key.this) == position + 1
    return target == key or (isinstance(target, exp.Alias) and target.this == key)


# ------------------------------------------------------------ one statement per batch

def combine(selects: Sequence[exp.Select]) -> exp.Select | None:
    """Columns of one table compiled against the same stored table, none reading another:
    one SELECT with the row's columns once, each new value, and every hoisted join. None
    when they do not share the row's columns and FROM (each is then stored on its own)."""
    if len(selects) == 1:
        return selects[0]
    first = selects[0]
    bare = first.copy()
    bare.set("joins", None)
    if _outer(bare) is None:
        return None
    base = [p.sql() for p in first.expressions[:-1]]
    source = first.args["from_"].sql()
    out = first.copy()
    for s in selects[1:]:
        if s.args["from_"].sql() != source or [p.sql() for p in s.expressions[:-1]] != base \
                or any(s.args.get(k) for k in _CLAUSES if k != "joins"):
            return None
        out.select(s.expressions[-1].copy(), append=True, copy=False)
        for join in s.args.get("joins") or ():
            out.append("joins", join.copy())
    return _share_scans(out)


def _grouped(join: exp.Join) -> tuple[str, exp.Select, exp.Select, str] | None:
    """A join `_related_aggregate` made: (its alias, its GROUP BY select, the inner select,
    the inner's alias), else None."""
    sub = join.this
    if not (isinstance(sub, exp.Subquery) and sub.alias.startswith("__cc") and isinstance(sub.this, exp.Select)):
        return None
    grouped = sub.this
    source = grouped.args.get("from_")
    if [p.alias for p in grouped.expressions][:2] != ["k", "a"] or source is None \
            or not isinstance(source.this, exp.Subquery) or grouped.args.get("group") is None:
        return None
    return sub.alias, grouped, source.this.this, source.this.alias


def _signature(join: exp.Join) -> str | None:
    """Everything but the aggregated values: joins with the same signature group the same
    rows by the same key and join back the same way."""
    found = _grouped(join)
    if found is None:
        return None
    alias, grouped, inner, d = found
    rows = inner.copy()
    rows.set("expressions", [p for p in rows.expressions if p.alias == "__k"])
    on = join.args["on"].copy()
    for c in on.find_all(exp.Column):
        if c.table == alias:
            c.set("table", exp.to_identifier("__g"))
    return f"{d}|{rows.sql()}|{on.sql()}|{join.args.get('side')}"


def _share_scans(select: exp.Select) -> exp.Select:
    """Related aggregates of the same rows (e.g. MAX of Order_Date, COUNTROWS and SUM of
    Revenue over one FILTER of RELATEDTABLE) become one GROUP BY with several aggregates:
    one scan of the related table instead of one each."""
    kept: list[exp.Join] = []
    first: dict[str, exp.Join] = {}
    moved: dict[str, str] = {}  # alias.a of a merged join -> its column in the kept one
    for n, join in enumerate(select.args.get("joins") or ()):
        sig = _signature(join)
        if sig is None or sig not in first:
            if sig is not None:
                first[sig] = join
            kept.append(join)
            continue
        alias, grouped, inner, d = _grouped(join)
        _, target, target_inner, _ = _grouped(first[sig])
        renamed = {}
        for p in inner.expressions:
            if p.alias != "__k":
                renamed[p.alias] = f"{p.alias}_{n}"
                target_inner.select(exp.alias_(p.this.copy(), renamed[p.alias]), append=True, copy=False)
        agg = grouped.expressions[1].this.copy()
        for c in agg.find_all(exp.Column):
            if c.table == d and c.name in renamed:
                c.set("this", exp.to_identifier(renamed[c.name]))
        target.select(exp.alias_(agg, f"a_{n}"), append=True, copy=False)
        moved[alias] = (first[sig].this.alias, f"a_{n}")
    if not moved:
        return select
    select.set("joins", kept)
    for c in list(select.find_all(exp.Column)):
        if c.table in moved and c.name == "a":
            table, name = moved[c.table]
            c.replace(exp.column(name, table))
    return select


def batches(steps: Sequence) -> list[list]:
    """Consecutive calculated columns of one table, none reading another of the same run
    (`Step.deps`), as one batch; a calculated table is a batch of its own. The order of
    the steps, and so of the stored columns, is unchanged."""
    out: list[list] = []
    for step in steps:
        last = out[-1] if out else None
        if last is not None and step.column is not None and last[0].column is not None \
                and last[0].table is step.table \
                and not any((s.table.name.lower(), s.column.name.lower()) in step.deps for s in last):
            last.append(step)
        else:
            out.append([step])
    return out
