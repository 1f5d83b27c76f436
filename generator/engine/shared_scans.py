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

from dataclasses import dataclass, field, replace

from sqlglot import exp

from generator.engine.data import table_ref

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
    # eager aggregation (see `_lift`): keys computed on the fact alone (incl. join keys),
    # and per key position the dimension expression, or None for a fact key
    fact_keys: list[exp.Expression] = field(default_factory=list)
    fact_key_sql: list[str] = field(default_factory=list)
    dim_keys: list = field(default_factory=list)  # [(expr over dimension aliases, {alias: join})] or None

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
    key_sql = [k.sql("duckdb") for k in keys]
    return _Leaf(sel, body.sql("duckdb"), body, keys, key_sql, [p.alias for p in projs], list(projs),
                 list(keys), list(key_sql), [None] * len(keys))


def _aliases(node: exp.Expression) -> set[str]:
    return {c.table for c in node.find_all(exp.Column)}


def _lift(leaf: _Leaf, unique: frozenset[tuple[str, str]]) -> _Leaf:
    """Eager aggregation: aggregate the fact rows first, join the dimensions after.

    `FROM fact LEFT JOIN dim ON fact.fk = dim.pk` where `pk` is unique (the one side of a
    relationship, checked on the data) keeps every fact row once, and gives each row the
    attributes of its key: grouping by a dimension attribute equals grouping by `fk`,
    aggregating, then joining `dim` and grouping again. Applies when the WHERE and the
    aggregates read the fact only and every join goes from the fact to a unique key; the
    lifted leaf then shares its scan with the fact's other leaves (e.g. a matrix's grand
    total, or a per-customer grouping), and the join runs over the grouped rows."""
    joins = leaf.body.args.get("joins") or []
    if not joins:
        return leaf
    specs: dict[str, tuple[str, str, str]] = {}  # dim alias -> (table, fact column sql, dim column)
    fk_nodes: dict[str, exp.Column] = {}
    for j in joins:
        on, table = j.args.get("on"), j.this
        if j.side != "LEFT" or j.kind or not isinstance(on, exp.EQ) or not isinstance(table, exp.Table):
            return leaf
        alias = table.alias_or_name
        a, b = on.this, on.expression
        if not (isinstance(a, exp.Column) and isinstance(b, exp.Column)):
            return leaf
        if a.table == alias:
            a, b = b, a
        if a.table != "s_a0" or b.table != alias or (table.name.lower(), b.name.lower()) not in unique:
            return leaf
        specs[alias] = (table.name, a.sql("duckdb"), b.name)
        fk_nodes[a.sql("duckdb")] = a
    where = leaf.body.args.get("where")
    if where is not None and _aliases(where) - {"s_a0"}:
        return leaf
    if any(_aliases(v) - {"s_a0"} for v in leaf.values):
        return leaf
    fact_keys, dim_keys = [], []
    for k in leaf.keys:
        refs = _aliases(k)
        if refs <= {"s_a0"}:
            fact_keys.append(k)
            dim_keys.append(None)
        elif "s_a0" in refs:
            return leaf
        else:
            dim_keys.append((k, {a: specs[a] for a in refs}))
    for fk_sql, fk in fk_nodes.items():
        if fk_sql not in [k.sql("duckdb") for k in fact_keys]:
            fact_keys.append(fk.copy())
    body = leaf.body.copy()
    body.set("joins", None)
    return replace(leaf, sig=body.sql("duckdb"), body=body, fact_keys=fact_keys,
                   fact_key_sql=[k.sql("duckdb") for k in fact_keys], dim_keys=dim_keys)


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


def share_scans(tree: exp.Expression, unique: frozenset[tuple[str, str]] = frozenset()) -> exp.Expression:
    """Rewrite `tree` (the statement's SELECT) in place where leaves can share a scan.

    `unique`: (table, column) pairs, lower case, known to hold no duplicate value (the one
    side of relationships); joins to them can be lifted above the aggregation (`_lift`)."""
    for sel in list(tree.find_all(exp.Select)):
        if sel is not tree and _leaf(sel) is not None:
            _distinct_of_key(sel)
    by_sig: dict[str, list[_Leaf]] = {}
    for sel in list(tree.find_all(exp.Select)):
        if sel is tree:
            continue
        leaf = _leaf(sel)
        if leaf is not None:
            leaf = _lift(leaf, unique)
            by_sig.setdefault(leaf.sig, []).append(leaf)
    ctes = []
    for leaves in by_sig.values():
        if len(leaves) < 2 and not any(d is not None for d in leaves[0].dim_keys):
            continue
        finest = max(leaves, key=lambda lf: len(set(lf.fact_key_sql)))
        fine = list(dict.fromkeys(finest.fact_key_sql))
        if not all(set(lf.fact_key_sql) <= set(fine) for lf in leaves):
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
        if not usable or (len(usable) < 2 and not any(d is not None for d in usable[0][0].dim_keys)):
            continue
        name = f"__scan{len(ctes) + 1}"
        key_exprs = {s: next(k for lf in leaves for k, ks in zip(lf.fact_keys, lf.fact_key_sql) if ks == s)
                     for s in fine}
        pre = finest.body.copy()
        pre.set("expressions", [exp.alias_(key_exprs[s].copy(), f"g{i}") for i, s in enumerate(fine)]
                + [exp.alias_(_of_keys(a, keys), f"a{i}") for _, (i, a) in sorted(atoms.items(), key=lambda x: x[1][0])])
        if fine:
            pre = pre.group_by(*[exp.Literal.number(i + 1) for i in range(len(fine))])
        pre, dim_cols = _join_dimensions(pre, [lf for lf, _ in usable], keys)
        ctes.append(exp.CTE(this=pre, alias=exp.TableAlias(this=exp.to_identifier(name)), materialized=True))
        for lf, plan in usable:
            src = "s_p"

            def col(c: str) -> exp.Column:
                return exp.column(c, src)

            # a leaf grouped by every key of the pre-aggregation reads one of its rows per
            # group: no re-aggregation at all
            own = {k for k, d in zip(lf.key_sql, lf.dim_keys) if d is None}
            identity = bool(fine) and own == set(fine)
            for agg, (kind, i) in plan:
                agg.replace(_rollup(kind, i, col, identity, unique_key=len(fine) == 1))
            n = len(lf.keys)
            outs = []
            for i, (k_sql, dim) in enumerate(zip(lf.key_sql, lf.dim_keys)):
                source = col(dim_cols[k_sql]) if dim is not None else col(f"g{keys[k_sql]}")
                outs.append(exp.alias_(source, lf.aliases[i]))
            outs += [exp.alias_(v, lf.aliases[n + i]) for i, v in enumerate(lf.values)]
            new_sel = exp.select(*outs).from_(exp.to_table(name).as_(src))
            if n and not identity:
                new_sel = new_sel.group_by(*[exp.Literal.number(i + 1) for i in range(n)])
            lf.node.replace(new_sel)
    if ctes:
        tree.set("with_", exp.With(expressions=ctes))
    return tree


def _of_keys(agg: exp.AggFunc, keys: dict[str, int]) -> exp.Expression:
    """MIN/MAX of an expression of the group keys alone is that expression (one value per
    group), e.g. the "is the key BLANK" flag of DISTINCTCOUNT: no aggregate to compute."""
    if isinstance(agg, (exp.Min, exp.Max)):
        cols = list(agg.this.find_all(exp.Column))
        if cols and all(c.sql("duckdb") in keys for c in cols):
            return agg.this.copy()
    return agg.copy()


def _rollup(kind: str, i: int, col, identity: bool, unique_key: bool) -> exp.Expression:
    """The aggregate of kind `kind` over atom/key `i`, rolled up from the pre-aggregation.

    `identity`: each group is one pre-aggregated row, so the atom is the value itself.
    `unique_key`: the pre-aggregation has a single key, so no two rows share its value and a
    distinct count of it is a plain count."""
    if kind == "distinct":
        g = col(f"g{i}")
        if identity:
            return exp.cast(exp.Case(ifs=[exp.If(this=exp.Is(this=g, expression=exp.Null()), true=exp.Literal.number(0))],
                                     default=exp.Literal.number(1)), "BIGINT")
        return exp.Count(this=g) if unique_key else exp.Count(this=exp.Distinct(expressions=[g]))
    a = col(f"a{i}")
    if kind == "count":
        return exp.cast(exp.Coalesce(this=a if identity else exp.Sum(this=a), expressions=[exp.Literal.number(0)]),
                        "BIGINT")
    if identity:
        return a
    if kind == "sum":
        return exp.Sum(this=a)
    return (exp.Min if kind == "min" else exp.Max)(this=a)


def _join_dimensions(pre: exp.Select, leaves: list[_Leaf], keys: dict[str, int]) -> tuple[exp.Select, dict[str, str]]:
    """`SELECT p.*, <dimension key expressions> FROM (pre) p LEFT JOIN dim ON p.fk = dim.pk …`
    for the lifted leaves' dimension keys; returns the select and key sql → column name.
    Each (table, fact column, key) join is made once, whichever leaf asked for it."""
    joins: dict[tuple[str, str, str], str] = {}
    exprs: dict[str, tuple[str, exp.Expression]] = {}
    for lf in leaves:
        for k_sql, dim in zip(lf.key_sql, lf.dim_keys):
            if dim is None or k_sql in exprs:
                continue
            expr, specs = dim
            expr = expr.copy()
            for c in expr.find_all(exp.Column):
                spec = specs[c.table]
                if spec not in joins:
                    joins[spec] = f"s_d{len(joins)}"
                c.set("table", exp.to_identifier(joins[spec]))
            exprs[k_sql] = (f"e{len(exprs)}", expr)
    if not exprs:
        return pre, {}
    sel = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("s_g"))).from_(pre.subquery("s_g"))
    for (table, fk_sql, pk), alias in joins.items():
        on = exp.EQ(this=exp.column(f"g{keys[fk_sql]}", "s_g"), expression=exp.column(pk, alias, quoted=True))
        sel = sel.join(table_ref(table, alias), on=on, join_type="LEFT")
    sel = sel.select(*[exp.alias_(e, name) for name, e in exprs.values()])
    return sel, {k: name for k, (name, _) in exprs.items()}
