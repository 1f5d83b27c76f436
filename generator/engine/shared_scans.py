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

import hashlib
from dataclasses import dataclass, field, replace
from typing import Callable

from sqlglot import exp

from generator.engine.context import and_all
from generator.engine.data import table_ref
from generator.engine.sql import create_table, join

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
    dim_filters: list = field(default_factory=list)  # WHERE conditions on dimension attributes, same form

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


def _leaf_shaped(sel: exp.Select) -> bool:
    """The cheap structural checks of `_leaf` (no copy, no printing)."""
    if any(v for k, v in sel.args.items() if k not in _ALLOWED_ARGS and v):
        return False
    if not isinstance(sel.args.get("from_"), exp.From):
        return False
    if any(n is not sel for n in sel.find_all(exp.Select)) or sel.find(exp.Window, exp.Subquery, exp.Filter):
        return False
    return all(j.args.get("on") and not j.args.get("using") for j in sel.args.get("joins") or [])


def _nothing_to_share(tree: exp.Expression) -> bool:
    """Without a cache, one join-free leaf gains nothing from a pre-aggregation (and has no
    COUNT(DISTINCT) for `_distinct_of_key` to rewrite): skip the signature work, which is
    most of the compile time of a small query such as ROW("r", [Total Revenue])."""
    shaped = [s for s in tree.find_all(exp.Select) if s is not tree and _leaf_shaped(s)]
    return len(shaped) == 0 or (len(shaped) == 1 and not shaped[0].args.get("joins") and not any(
        isinstance(c.this, exp.Distinct) for c in shaped[0].find_all(exp.Count)))


def _leaf(sel: exp.Select) -> _Leaf | None:
    if not _leaf_shaped(sel):
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
    if n == 0 and not any(v.find(exp.AggFunc) for v in values):
        # no GROUP BY and no aggregate: one output row per input row (e.g. the rows
        # `SELECT 1 AS v FROM fact` that COUNTROWS counts), not an aggregation; read from a
        # pre-aggregation it would yield one row per group instead
        return None
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
    fact_conds, dim_filters = [], []
    for cond in (list(where.this.flatten()) if isinstance(where.this, exp.And) else [where.this]) if where else []:
        refs = _aliases(cond)
        if refs <= {"s_a0"}:
            fact_conds.append(cond)
        elif "s_a0" in refs or not refs <= set(specs):
            return leaf
        else:  # a filter on dimension attributes: applied to the grouped rows
            dim_filters.append((cond, {a: specs[a] for a in refs}))
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
    body.set("where", None)
    if fact_conds:
        body = body.where(and_all(c.copy() for c in fact_conds), copy=False)
    return replace(leaf, sig=body.sql("duckdb"), body=body, fact_keys=fact_keys,
                   fact_key_sql=[k.sql("duckdb") for k in fact_keys], dim_keys=dim_keys, dim_filters=dim_filters)


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


def _distinct_of_key(sel: exp.Select) -> bool:
    """COUNT(DISTINCT k) where k is a group-by key of the same SELECT: every group holds
    one value of k, so the count is 1, or 0 for the group where k is NULL (COUNT(k) > 0)."""
    n = len(sel.args["group"].expressions) if sel.args.get("group") else 0
    keys = {p.this.sql("duckdb") for p in sel.expressions[:n]}
    changed = False
    for p in sel.expressions[n:]:
        for agg in list(p.find_all(exp.Count)):
            arg = agg.this
            if isinstance(arg, exp.Distinct) and len(arg.expressions) == 1 and arg.expressions[0].sql("duckdb") in keys:
                x = arg.expressions[0].copy()
                agg.replace(exp.cast(exp.Case(ifs=[exp.If(this=exp.GT(this=exp.Count(this=x), expression=exp.Literal.number(0)),
                                                          true=exp.Literal.number(1))],
                                              default=exp.Literal.number(0)), "BIGINT"))
                changed = True
    return changed


@dataclass
class _Layout:
    """The columns of one pre-aggregation: g0.. keys, a0.. atoms, e0.. dimension values.
    With `base`, the layout is `base` plus more dimension values (joined to its rows)."""

    name: str
    sig: str
    body: exp.Select  # FROM / JOIN / WHERE
    fine: list[str]
    key_exprs: list[exp.Expression]
    atoms: dict[str, exp.Expression] = field(default_factory=dict)  # sql -> aggregate, in column order
    dims: dict[str, tuple[exp.Expression, tuple]] = field(default_factory=dict)  # sql -> (expr, join specs)
    base: "_Layout | None" = None
    serial: int = 0  # ScanCache entries: the number in `name`

    def covers(self, atoms, dims) -> bool:
        return all(a in self.atoms for a in atoms) and all(d in self.dims for d in dims)

    def select(self) -> exp.Select:
        keys = {s: i for i, s in enumerate(self.fine)}
        if self.base is not None:
            source: exp.Expression = exp.to_table(self.base.name).as_("s_g")
            first = len(self.base.dims)
        else:
            pre = self.body.copy()
            pre.set("expressions", [exp.alias_(k.copy(), f"g{i}") for i, k in enumerate(self.key_exprs)]
                    + [exp.alias_(a.copy(), f"a{i}") for i, a in enumerate(self.atoms.values())])
            if self.fine:
                pre = pre.group_by(*[exp.Literal.number(i + 1) for i in range(len(self.fine))], copy=False)
            if not self.dims:
                return pre
            source, first = pre.subquery("s_g"), 0
        dims = list(self.dims.values())[first:]
        sel = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("s_g"))).from_(source)
        for table, fk_sql, pk in dict.fromkeys(spec for _, specs in dims for spec in specs):
            alias = _dim_alias((table, fk_sql, pk))
            on = exp.EQ(this=exp.column(f"g{keys[fk_sql]}", "s_g"), expression=exp.column(pk, alias, quoted=True))
            sel = join(sel, table_ref(table, alias), on)
        return sel.select(*[exp.alias_(e.copy(), f"e{first + i}") for i, (e, _) in enumerate(dims)])


@dataclass
class ScanCache:
    """Pre-aggregations kept across the queries of one engine, like Power BI's
    storage-engine cache: the data of an open engine does not change, so the grouped scan
    computed for one visual (e.g. orders and revenue per customer) answers every later
    visual that reads the same rows grouped by the same or fewer keys, with any subset of
    its aggregates and dimension attributes.

    Each entry is a temporary table, created by the prelude of the query that first needs
    it. A miss for keys already cached builds the union of both aggregate sets, so later
    visuals find them all; when only dimension attributes are missing, the new table is
    the cached one joined to them, without a new scan of the fact table.

    Compiling never changes the cache: it plans against a `ScanStage` (`stage()`), and the
    runtime `commit`s the staged entries only after their query succeeded, so a failed
    query leaves the cache as it was (it drops the tables it may have created)."""

    limit: int = 32
    # table -> columns the model's measures SUM: computed with every new entry of that
    # table (a few more sums in a scan that runs anyway), so later visuals find them
    summed: Callable[[str], list[str]] | None = None
    entries: dict[tuple, _Layout] = field(default_factory=dict)
    serial: int = 0
    retired: list[str] = field(default_factory=list)  # tables superseded or evicted, to drop

    def stage(self) -> "ScanStage":
        return ScanStage(self)

    def commit(self, staged: "tuple[_Layout, ...]") -> None:
        """Make entries created by a successful query visible to later queries."""
        for new in staged:
            key = (new.sig, tuple(new.fine))
            old = self.entries.pop(key, None)
            if old is not None:
                self.retired.append(old.name)
            self.entries[key] = new
            self.serial = max(self.serial, new.serial)
        while len(self.entries) > self.limit:
            self.retired.append(self.entries.pop(next(iter(self.entries))).name)

    def clear(self) -> None:
        self.retired += [layout.name for layout in self.entries.values()]
        self.entries.clear()


@dataclass
class ScanStage:
    """The cache as one compile sees it: the committed entries plus the ones this compile
    creates (`staged`), which only `ScanCache.commit` makes permanent."""

    cache: ScanCache
    staged: list[_Layout] = field(default_factory=list)

    @property
    def summed(self) -> Callable[[str], list[str]] | None:
        return self.cache.summed

    def _current(self) -> dict[tuple, _Layout]:
        current = dict(self.cache.entries)
        for lay in self.staged:
            current.pop((lay.sig, tuple(lay.fine)), None)
            current[(lay.sig, tuple(lay.fine))] = lay
        return current

    def find(self, sig: str, keys: set[str]) -> list[_Layout]:
        """Cached layouts over the same rows grouped by at least `keys`, newest first."""
        return [lay for lay in reversed(self._current().values()) if lay.sig == sig and keys <= set(lay.fine)]

    def create(self, sig: str, body: exp.Select, fine: list[str], key_exprs: list[exp.Expression],
               atoms: dict[str, exp.Expression], dims: dict) -> _Layout:
        old = self._current().get((sig, tuple(fine)))
        serial = self.cache.serial + len(self.staged) + 1
        new = _Layout(f"__pbi_forge_se{serial}", sig, body, fine, key_exprs, serial=serial)
        if old is not None:
            new.atoms.update(old.atoms)
            new.dims.update(old.dims)
            if all(a in old.atoms for a in atoms):
                new.base = old  # only dimension attributes are missing: extend the old table
        new.atoms.update({k: v for k, v in atoms.items() if k not in new.atoms})
        new.dims.update({k: v for k, v in dims.items() if k not in new.dims})
        self.staged.append(new)
        return new


def _plans(leaves: list[_Leaf], fine: list[str]):
    """Atoms ({sql: (index, aggregate)}) and, per leaf, how each of its aggregates rolls up
    from a pre-aggregation grouped by `fine` (None: it cannot)."""
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
    return atoms, plans


def _distinct_args(leaves: list[_Leaf]) -> dict[str, exp.Expression]:
    """Fact columns counted distinct by the leaves: grouping by them as well turns each
    distinct count into a count of pre-aggregated rows (as the storage engine does)."""
    out = {}
    for lf in leaves:
        for v in lf.values:
            for c in v.find_all(exp.Count):
                arg = c.this
                if isinstance(arg, exp.Distinct) and len(arg.expressions) == 1 and isinstance(arg.expressions[0], exp.Column) \
                        and arg.expressions[0].table == "s_a0":
                    out.setdefault(arg.expressions[0].sql("duckdb"), arg.expressions[0])
    return out


def share_scans(tree: exp.Expression, unique: frozenset[tuple[str, str]] = frozenset(),
                cache: ScanStage | None = None) -> list[exp.Create]:
    """Rewrite `tree` (the statement's SELECT) in place where leaves can share a scan.

    `unique`: (table, column) pairs, lower case, known to hold no duplicate value (the one
    side of relationships); joins to them can be lifted above the aggregation (`_lift`).
    With a `cache` (a stage of the ScanCache), pre-aggregations are temporary tables kept
    across queries; returns the statements to run before `tree` (creating the new ones, which
    the stage records), else MATERIALIZED CTEs are used."""
    ctes, prelude = [], []
    if cache is None and _nothing_to_share(tree):
        return prelude
    for sig, leaves in _leaves_by_signature(tree, unique).items():
        dims = _dimension_values(leaves)
        plan = _cached_plan(cache, sig, leaves, dims) if cache is not None else None
        if plan is None:
            plan = _new_plan(sig, leaves, dims, cache, ctes, prelude)
        if plan is not None:
            _rewrite(*plan)
    if ctes:
        tree.set("with_", exp.With(expressions=ctes))
    return prelude


def _leaves_by_signature(tree: exp.Expression, unique) -> dict[str, list[_Leaf]]:
    """The statement's leaves (lifted where possible), grouped by the rows they read."""
    by_sig: dict[str, list[_Leaf]] = {}
    for sel in list(tree.find_all(exp.Select)):
        if sel is tree:
            continue
        leaf = _leaf(sel)
        if leaf is not None and _distinct_of_key(sel):
            leaf = _leaf(sel)
        if leaf is not None:
            leaf = _lift(leaf, unique)
            by_sig.setdefault(leaf.sig, []).append(leaf)
    return by_sig


def _cached_plan(cache: ScanStage, sig: str, leaves: list[_Leaf], dims: tuple):
    """(leaves, plans, dimension values, layout, atoms) from a cached pre-aggregation that
    answers every leaf, or None. `dims`: the leaves' `_dimension_values`."""
    need_dims, leaf_dims = dims
    for cand in cache.find(sig, set().union(*(set(lf.fact_key_sql) for lf in leaves))):
        atoms, plans = _plans(leaves, cand.fine)
        if all(p is not None for p in plans) and cand.covers(atoms, need_dims):
            return leaves, plans, leaf_dims, cand, atoms
    return None


def _new_plan(sig: str, leaves: list[_Leaf], dims: tuple, cache: ScanStage | None, ctes: list, prelude: list):
    """A new pre-aggregation for the leaves that can share it (a CTE, or a cache entry whose
    CREATE goes to `prelude`): (leaves, plans, dimension values, layout, atoms), or None
    when sharing gains nothing."""
    shared = len(leaves) >= 2 or any(d is not None for d in leaves[0].dim_keys) or bool(leaves[0].dim_filters)
    finest = max(leaves, key=lambda lf: len(set(lf.fact_key_sql)))
    fine = list(dict.fromkeys(finest.fact_key_sql))
    if not all(set(lf.fact_key_sql) <= set(fine) for lf in leaves):
        return None
    key_exprs = [next(k for lf in leaves for k, ks in zip(lf.fact_keys, lf.fact_key_sql) if ks == s) for s in fine]
    if cache is not None:  # group by distinct-counted columns too: the entry serves more visuals
        for s_, k in _distinct_args(leaves).items():
            if s_ not in fine:
                fine.append(s_)
                key_exprs.append(k.copy())
    if not shared and not (cache is not None and fine):
        return None
    need_dims, leaf_dims = dims
    atoms, plans = _plans(leaves, fine)
    usable = [(lf, plan, d) for lf, plan, d in zip(leaves, plans, leaf_dims) if plan is not None]
    if not usable or (len(usable) < 2 and not any(d is not None for d in usable[0][2])
                      and not (cache is not None and fine)):
        return None
    leaves, plans, leaf_dims = [u[0] for u in usable], [u[1] for u in usable], [u[2] for u in usable]
    need_dims = {d: need_dims[d] for ds in leaf_dims for d in ds if d is not None}
    need_atoms = {s_: a for s_, (_, a) in sorted(atoms.items(), key=lambda x: x[1][0])}
    if cache is None:
        layout = _Layout(f"__scan{len(ctes) + 1}", sig, finest.body, fine, key_exprs, need_atoms, need_dims)
        ctes.append(exp.CTE(this=layout.select(), alias=exp.TableAlias(this=exp.to_identifier(layout.name)),
                            materialized=True))
    else:
        base = finest.body.args["from_"].this
        summed = cache.summed(base.name) if cache.summed and isinstance(base, exp.Table) else []
        extra = [exp.Count(this=exp.Star())]  # cheap, and what most later visuals need
        extra += [exp.Sum(this=exp.Column(this=exp.to_identifier(c, quoted=True), table=exp.to_identifier("s_a0")))
                  for c in summed]
        layout = cache.create(sig, finest.body, fine, key_exprs, {**need_atoms, **{a.sql("duckdb"): a for a in extra}},
                              need_dims)
        prelude.append(create_table(exp.to_table(layout.name), layout.select()))
    return leaves, plans, leaf_dims, layout, atoms


def _rewrite(leaves: list[_Leaf], plans: list, leaf_dims: list, layout: _Layout, atoms: dict) -> None:
    """Replace every leaf by a re-aggregation of the pre-aggregation `layout`."""
    fine = layout.fine
    keys = {s: i for i, s in enumerate(fine)}
    atom_col = {i: f"a{list(layout.atoms).index(s)}" for s, (i, _) in atoms.items()}
    dim_col = {d: f"e{i}" for i, d in enumerate(layout.dims)}
    src = "s_p"

    def col(c: str) -> exp.Column:
        return exp.column(c, src)

    for lf, plan, dims in zip(leaves, plans, leaf_dims):
        # a leaf grouped by every key of the pre-aggregation reads one of its rows per
        # group: no re-aggregation at all
        own = {k for k, d in zip(lf.key_sql, lf.dim_keys) if d is None}
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
        n = len(lf.keys)
        outs = []
        for i, (k_sql, dim) in enumerate(zip(lf.key_sql, dims)):
            source = col(dim_col[dim]) if dim is not None else col(f"g{keys[k_sql]}")
            outs.append(exp.alias_(source, lf.aliases[i]))
        outs += [exp.alias_(v, lf.aliases[n + i]) for i, v in enumerate(lf.values)]
        new_sel = exp.select(*outs).from_(exp.to_table(layout.name).as_(src))
        filters = dims[len(lf.key_sql):]
        if filters:
            new_sel = new_sel.where(and_all(col(dim_col[f]) for f in filters))
        if n and not identity:
            new_sel = new_sel.group_by(*[exp.Literal.number(i + 1) for i in range(n)], copy=False)
        lf.node.replace(new_sel)


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


def _dim_alias(spec: tuple[str, str, str]) -> str:
    """A join's alias from what it joins (table, fact column, key): the same in every query."""
    return "s_d" + hashlib.sha1("|".join(spec).encode()).hexdigest()[:10]


def _dimension_values(leaves: list[_Leaf]) -> tuple[dict, list[list]]:
    """The lifted leaves' dimension key expressions, rewritten onto the dimension joins of
    the pre-aggregation: {sql: (expr, join specs)}, and per leaf per key that sql or None,
    followed by the sql of each of its dimension filters."""
    out: dict[str, tuple[exp.Expression, tuple]] = {}
    per_leaf = []
    for lf in leaves:
        mine = []
        for dim in [*lf.dim_keys, *lf.dim_filters]:
            if dim is None:
                mine.append(None)
                continue
            expr, specs = dim
            expr = expr.copy()
            used = []
            for c in expr.find_all(exp.Column):
                spec = specs[c.table]
                used.append(spec)
                c.set("table", exp.to_identifier(_dim_alias(spec)))
            sql = expr.sql("duckdb")
            out.setdefault(sql, (expr, tuple(dict.fromkeys(used))))
            mine.append(sql)
        per_leaf.append(mine)
    return out, per_leaf
