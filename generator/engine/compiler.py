"""DAX AST → sqlglot SQL, with Power BI's filter-context semantics.

Every scalar DAX expression compiles, in an environment (`Env`: filter context, row
contexts, variables), to one SQL expression. Aggregations become scalar subqueries over
an expanded-table scan whose WHERE clause is the filter context; row contexts and cell
keys are outer references, so the SQL is correlated and DuckDB decorrelates it into
joins. A measure reference is its body compiled in a new context (context transition);
a VAR is compiled once in the context where it is defined, so later CALCULATEs cannot
change it (dax-engine-survey.md §3.1).

Table expressions compile to `Rel`: a SELECT whose columns carry their lineage
(`ColKey`), so VALUES/FILTER/TREATAS results can act as filters. A `Rel` over the rows
of one model table also keeps a `row_filter`, which lets it filter the whole expanded
table when used as a CALCULATE argument (dax-semantics.md §4, §8).

Function handlers are methods named `fn_<NAME>` (dots become underscores). A function
without a handler is a compile error naming it (`generator.dax.catalog` lists every DAX
function). The compiler reads model facts from a `Schema` and never the runtime.
"""
from __future__ import annotations

import datetime as _dt
import itertools
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable, Iterable

from sqlglot import exp

from generator.dax import ast as A
from generator.dax.catalog import is_builtin, lookup
from generator.engine.context import (
    CellFilter, ColKey, Ctx, EqFilter, Filter, PredFilter, RelState, RowsFilter, Scan, TableFilter, and_all,
    not_distinct,
)
from generator.engine.data import fn, ident, table_ref
from generator.engine.sql import join
from generator.engine.plan.build import LeafEntry, leaf_plan
from generator.engine.render.plan import LEAF_TABLE
from generator.engine.errors import DaxCompileError, DaxUnsupportedError
from generator.engine.types import MODEL_TYPES, DaxType, sql_type, unify
from generator.engine.values import (
    Scalar, arith, cast, compare, concat, lit, logic, negate, not_,
    truthy,
)
from generator.engine.schema import Schema
from generator.spec.model import ExprOrigin, Measure, Model, Table

if TYPE_CHECKING:
    from generator.engine.optimizer.scan_cache import ScanStage


# ---------------------------------------------------------------- compile-time values


@dataclass(frozen=True)
class RelCol:
    name: str  # "Customer[City]" for model columns, "S" for ADDCOLUMNS/SELECTCOLUMNS names
    sql: str  # output column alias in the relation's SELECT
    key: ColKey | None
    type: DaxType


@dataclass(frozen=True)
class Rel:
    """A table value. Either `select` (columns c0..cn) or a filtered model table (`base`
    + `row_filter`), materialised on demand by `Compiler.rel_select`."""

    cols: tuple[RelCol, ...]
    select: exp.Select | None = None
    base: Table | None = None
    row_filter: Callable[[Scan], exp.Expression | None] | None = None
    blank: bool = False
    rels: RelState | None = None
    # how the rows were made, for grouped evaluation: the filter context of a plain
    # table/VALUES scan, the VALUES columns, and FILTER predicates still to apply
    ctx: Ctx | None = None
    col_keys: tuple[ColKey, ...] | None = None
    preds: tuple = ()
    nonnull: bool = False  # no BLANK in any row (date sets of time intelligence)
    guard: tuple | None = None  # (cell-level condition, message): an error when TRUE (DATEADD)
    # (key, predicate): the rows are the values of column `key` for which predicate(value)
    # holds (a time-intelligence date set); as a filter, the predicate applies directly
    col_pred: tuple | None = None
    # the rows are rows of this model table, all their values unchanged (TOPN of a table):
    # as a filter, matching its key column is matching the whole row
    rows_of: str | None = None


@dataclass(frozen=True)
class Row:
    """One row context: the columns of the row being iterated."""

    cols: dict[ColKey, Scalar]
    names: dict[str, Scalar]
    base: Table | None = None
    scan: Scan | None = None
    scope: "CellScope | None" = None  # a row of a grouped iteration: transition gives CellFilters


@dataclass
class CellScope:
    """Cells evaluated together: a row source (alias) whose columns hold cell keys, and the
    grouped aggregates ("leaves") to LEFT JOIN to it on those keys.

    A leaf over model tables is a plan `Aggregate` (plan.build.leaf_plan); leaves reading
    the same rows by the same keys (equal plans) are one Aggregate, each distinct value a
    column of it. Which leaves share a scan across scopes is the optimizer's business."""

    alias: str
    keys: dict[ColKey, str]
    leaves: list = field(default_factory=list)  # [alias, select, key columns, body signature, {agg sql: column}]
    domain: bool = False  # leaves[0] is the row source itself (its alias is `alias`)

    def add(self, alias: str, select: exp.Select, keys: tuple[ColKey, ...]) -> exp.Expression:
        plan = leaf_plan(select)
        if plan is not None:
            return self._add_plan(alias, plan, keys)
        # outside the plan's simple form (e.g. a cross join or a subquery in the value):
        # kept as SQL, keyed by its text with canonical aliases, and never shared
        select = _canonical(select)
        value = select.expressions[-1]
        select.set("expressions", select.expressions[:-1])  # the body alone, for its signature
        body_sig = select.sql("duckdb")
        select.set("expressions", [*select.expressions, value])
        value_sig = value.this.sql("duckdb")
        for leaf in self.leaves:
            if leaf[3] == body_sig:
                columns = leaf[4]
                if value_sig not in columns:
                    name = f"v{len(columns)}"
                    leaf[1] = leaf[1].select(exp.alias_(value.this.copy(), name), copy=False)
                    columns[value_sig] = name
                return exp.column(columns[value_sig], leaf[0])
        select.expressions[-1].set("alias", exp.to_identifier("v0"))
        self.leaves.append([alias, select, keys, body_sig, {value_sig: "v0"}])
        return exp.column("v0", alias)

    def _add_plan(self, alias: str, plan, keys: tuple[ColKey, ...]) -> exp.Expression:
        """A plan leaf: fused with the leaf reading the same rows by the same keys (plan
        equality), each distinct value one column of it."""
        sig = (plan.input, plan.keys)
        (value,) = plan.values
        for leaf in self.leaves:
            if leaf[3] == sig:
                entry, columns = leaf[1], leaf[4]
                if value not in columns:
                    columns[value] = f"v{len(columns)}"
                    entry.plan = entry.plan.with_value(value)
                return exp.column(columns[value], leaf[0])
        self.leaves.append([alias, LeafEntry(plan), keys, sig, {value: "v0"}])
        return exp.column("v0", alias)

    def from_clause(self, source: exp.Expression | None = None) -> exp.Select:
        leaves = self.leaves
        if self.domain:
            source, leaves = _leaf_source(leaves[0][1], self.alias), leaves[1:]
        sel = exp.select().from_(source)
        for alias, select, keys, _, _ in leaves:
            sub = _leaf_source(select, alias)
            if keys:
                on = and_all(not_distinct(exp.column(self.keys[k], self.alias), exp.column(f"k{i}", alias))
                             for i, k in enumerate(keys))
                sel = join(sel, sub, on)
            else:
                sel = join(sel, sub, kind="CROSS")
        return sel


def _leaf_source(leaf: "LeafEntry | exp.Select", alias: str) -> exp.Expression:
    """Where a leaf's rows are read: a placeholder for a plan leaf (render.plan replaces it
    once the query's leaves are optimized), the subquery itself for a SQL leaf."""
    if isinstance(leaf, LeafEntry):
        table = exp.Table(this=exp.to_identifier(LEAF_TABLE), alias=exp.TableAlias(this=exp.to_identifier(alias)))
        table.meta["leaf"] = leaf
        return table
    return leaf.subquery(alias)


def _canonical(select: exp.Select) -> exp.Select:
    """Rename the select's internal aliases (t17, t18, …) to q1, q2, … in order of first
    appearance, FROM/WHERE/GROUP BY first, so equal plans print equal SQL."""
    select = select.copy()
    order: list[str] = []

    def collect(node: exp.Expression) -> None:
        for n in node.walk():
            name = None
            if isinstance(n, exp.TableAlias):
                name = n.name
            elif isinstance(n, exp.Column) and n.table:
                name = n.table
            if name and name not in order:
                order.append(name)

    for key, value in select.args.items():
        if key != "expressions" and isinstance(value, exp.Expression):
            collect(value)
        elif key != "expressions" and isinstance(value, list):
            for v in value:
                if isinstance(v, exp.Expression):
                    collect(v)
    for e in select.expressions:
        collect(e)
    mapping = {name: f"q{i + 1}" for i, name in enumerate(order)}
    for n in select.walk():
        if isinstance(n, exp.TableAlias) and n.name in mapping:
            n.set("this", exp.to_identifier(mapping[n.name]))
        elif isinstance(n, exp.Column) and n.table in mapping:
            n.set("table", exp.to_identifier(mapping[n.table]))
    return select


@dataclass(frozen=True)
class Source:
    """What is being compiled, for error positions."""

    label: str
    origin: ExprOrigin | None = None
    measure: Measure | None = None


@dataclass(frozen=True)
class Env:
    ctx: Ctx
    rows: tuple[Row, ...] = ()
    vars: dict[str, Scalar | Rel] = field(default_factory=dict)
    src: Source = Source("query")
    placeholders: dict[ColKey, exp.Expression] = field(default_factory=dict)
    stack: tuple[str, ...] = ()
    scope: CellScope | None = None
    # how many of `rows` (from the outermost) a CALCULATE has already turned into filters:
    # inside CALCULATE(<expr>, …) the transitioned filters may since have been overridden
    # by the filter arguments or removed by ALL, so a measure reference (an implicit
    # CALCULATE) or a nested CALCULATE must not transition those rows again (§5.1, §7)
    transitioned: int = 0
    # calculation groups already applied on the way here (not applied again to the measure
    # references inside the rewritten expression), until a CALCULATE filters the group's
    # column again (sideways recursion); the measure SELECTEDMEASURE() stands for
    cg_applied: frozenset[str] = frozenset()
    selected_measure: str | None = None

    def push(self, row: Row) -> "Env":
        return replace(self, rows=(*self.rows, row))

    def inside_calculate(self, ctx: Ctx) -> "Env":
        """The environment of CALCULATE's expression: the new filter context, with every
        current row context already transitioned into it."""
        return replace(self, ctx=ctx, transitioned=len(self.rows))


# Functions whose arguments are evaluated in a new row/filter context: a Boolean
# CALCULATE filter does not take its columns from inside them.
_CONTEXT_FUNCS = frozenset({
    "CALCULATE", "CALCULATETABLE", "FILTER", "SUMX", "AVERAGEX", "MINX", "MAXX", "COUNTX", "COUNTAX",
    "CONCATENATEX", "RANKX", "SUM", "AVERAGE", "MIN", "MAX", "COUNT", "COUNTA", "COUNTROWS",
    "COUNTBLANK", "DISTINCTCOUNT", "DISTINCTCOUNTNOBLANK", "MEDIAN", "MEDIANX", "VALUES", "DISTINCT",
    "ALL", "SELECTEDVALUE", "HASONEVALUE", "PRODUCTX", "PERCENTILE.INC", "PERCENTILE.EXC",
    "PERCENTILEX.INC", "PERCENTILEX.EXC", "LOOKUPVALUE", "RELATEDTABLE", "STDEV.P", "STDEV.S",
    "VAR.P", "VAR.S", "STDEVX.P", "STDEVX.S", "VARX.P", "VARX.S", "GEOMEAN", "GEOMEANX",
})

_ENUM_ORDER = {"ASC": False, "DESC": True, "0": True, "1": False, "FALSE": True, "TRUE": False}


def _outer_refs(select: exp.Expression) -> bool:
    """Does `select` refer to a table alias it does not define (a correlated reference)?"""
    defined = {a.name for a in select.find_all(exp.TableAlias)}
    defined |= {t.alias_or_name for t in select.find_all(exp.Table)}
    return any(c.table and c.table not in defined for c in select.find_all(exp.Column))


def order_pairs(args: list[A.Expr], default_desc: bool) -> list[tuple[A.Expr, bool]]:
    """(expression, descending) pairs from trailing `expr [, ASC|DESC|0|1]` arguments
    (TOPN, CONCATENATEX); an expression without a direction gets `default_desc`."""
    pairs, rest = [], list(args)
    while rest:
        expr, desc = rest.pop(0), default_desc
        if rest and _enum(rest[0]) in _ENUM_ORDER:
            desc = _ENUM_ORDER[_enum(rest.pop(0))]
        pairs.append((expr, desc))
    return pairs


def _enum(node: A.Expr) -> str | None:
    if isinstance(node, A.EnumArg):
        return node.name.upper()
    if isinstance(node, A.TableRef):
        return node.name.upper()
    if isinstance(node, A.Number):
        return str(node.value)
    if isinstance(node, A.Boolean):
        return "TRUE" if node.value else "FALSE"
    if isinstance(node, A.FunctionCall) and node.name in ("TRUE", "FALSE") and not node.args:
        return node.name
    return None


class CompilerCore:
    """Compiles DAX against one model. One instance per query (alias counter)."""

    def __init__(self, schema: Schema, grouped: bool = True, scans: "ScanStage | None" = None):
        self.schema = schema
        # grouped evaluation (one GROUP BY per aggregate) or per-cell correlated subqueries
        self.grouped = grouped
        self.scans = scans  # where cross-query pre-aggregations are planned (None: CTEs)
        self.model: Model = schema.model
        self.measures: dict[str, Measure] = {m.name.lower(): m for m in self.model.measures}
        self.extra_measures: dict[str, tuple[A.Expr, str]] = {}
        self._alias = itertools.count(1)

    # ------------------------------------------------------------ helpers

    def new_alias(self) -> str:
        return f"t{next(self._alias)}"

    def base_rels(self) -> RelState:
        rs = self.model.relationships
        return RelState(frozenset(i for i, r in enumerate(rs) if r.active),
                        frozenset(i for i, r in enumerate(rs) if r.cross_filter == "both"))

    def has_blank_row(self, table: str) -> bool:
        return self.schema.has_blank_row(table)

    def with_blank_row(self, table: Table, alias: str) -> exp.Expression:
        blank = exp.select(*[exp.alias_(exp.cast(exp.null(), self.col_sql_type(table, c.name)), ident(c.name))
                             for c in self.schema.visible_columns(table)])
        union = exp.union(exp.select(exp.Star()).from_(table_ref(table.name)), blank, distinct=False)
        return exp.Subquery(this=union, alias=exp.TableAlias(this=ident(alias)))

    def col_sql_type(self, table: Table, col: str) -> exp.DataType:
        return sql_type(self.col_type((table.name, col)))

    def key_column(self, table: Table) -> str | None:
        for r in self.model.relationships:
            if r.to_table.lower() == table.name.lower():
                return table.column(r.to_column).name
        for c in table.columns:
            if c.key:
                return c.name
        return None

    def col_type(self, key: ColKey) -> DaxType:
        t = self.model.table(key[0])
        c = t.column(key[1]) if t else None
        if c is None:
            return DaxType.VARIANT
        return MODEL_TYPES.get(c.type, DaxType.VARIANT)

    def err(self, env: Env, node: A.Node | None, message: str, hint: str | None = None) -> DaxCompileError:
        return DaxCompileError(f"{message} (in {env.src.label})", self._pos(env, node), hint)

    def unsupported(self, env: Env, node: A.Node | None, what: str) -> DaxUnsupportedError:
        return DaxUnsupportedError(what, self._pos(env, node), env.src.label)

    def _pos(self, env: Env, node: A.Node | None):
        if env.src.origin is None or node is None or node.span.line == 0:
            return None
        return env.src.origin.to_yaml(node.span.line, node.span.col)

    def resolve_col(self, env: Env, node: A.Node, table: str, column: str) -> ColKey:
        t = self.model.table(table)
        if t is None:
            raise self.err(env, node, f"table '{table}' does not exist")
        c = t.column(column)
        if c is None:
            raise self.err(env, node, f"column '{table}'[{column}] does not exist")
        return (t.name, c.name)

    def resolve_table(self, env: Env, node: A.Node, name: str) -> Table:
        t = self.model.table(name)
        if t is None:
            raise self.err(env, node, f"table '{name}' does not exist")
        return t

    # ------------------------------------------------------------ filter context → SQL

    def where_for(self, scan: Scan, ctx: Ctx, bidir: bool = True) -> exp.Expression | None:
        conds = [f.apply(scan) for f in ctx.filters]
        if bidir:
            conds.extend(self._bidir(scan, ctx))
        return and_all(conds)

    def _bidir(self, scan: Scan, ctx: Ctx) -> list[exp.Expression]:
        """Filters reaching the scan from the many side of a bidirectional relationship."""
        out = []
        rels = scan.rels
        for i, r in enumerate(self.model.relationships):
            if i not in rels.both or i not in rels.active:
                continue
            if r.to_table.lower() not in scan.tables() or r.from_table.lower() in scan.tables():
                continue
            many = self.model.table(r.from_table)
            inner = Scan(self, many, rels)
            outside = [f for f in ctx.filters
                       if any(inner.has(k) for k in f.keys()) and not any(scan.has(k) for k in f.keys())]
            if not outside:
                continue
            key = (self.model.table(r.to_table).name, self.model.table(r.to_table).column(r.to_column).name)
            conds = [f.apply(inner) for f in outside]
            conds.append(not_distinct(inner.col(key), scan.col(key)))
            out.append(exp.Exists(this=inner.build(exp.select("1"), and_all(conds))))
        return out

    def scan(self, table: Table, env: Env, blank: bool = False) -> Scan:
        return Scan(self, table, env.ctx.rels or self.base_rels(), blank)

    def rel_select(self, rel: Rel) -> exp.Select:
        if rel.guard is not None:
            cond, message = rel.guard
            sel = self.rel_select(replace(rel, guard=None))
            check = exp.Case(ifs=[exp.If(this=cond.copy(), true=fn("error", exp.Literal.string(message)))],
                             default=exp.true())
            return sel.where(check)
        if rel.preds:
            rel = self.apply_preds(rel)
        if rel.select is not None:
            return rel.select
        scan = Scan(self, rel.base, rel.rels or self.base_rels(), rel.blank)
        outs = [exp.alias_(scan.col(c.key), c.sql) for c in rel.cols]
        return scan.build(exp.select(*outs), rel.row_filter(scan) if rel.row_filter else None)

    def base_rel(self, table: Table, env: Env, blank: bool = False, ctx: Ctx | None = None) -> Rel:
        """The rows of `table` visible in `ctx` (a bare table reference, VALUES(T), ALL(T))."""
        ctx = env.ctx if ctx is None else ctx
        cols = tuple(RelCol(f"{table.name}[{c.name}]", f"c{i}", (table.name, c.name),
                            MODEL_TYPES.get(c.type, DaxType.VARIANT))
                     for i, c in enumerate(self.schema.visible_columns(table)))
        return Rel(cols, base=table, row_filter=lambda scan, ctx=ctx: self.where_for(scan, ctx), blank=blank,
                   rels=ctx.rels or self.base_rels(), ctx=ctx)

    def over(self, rel: Rel, env: Env, project: Callable[[Env], list[exp.Expression]],
             where: Callable[[Env], exp.Expression | None] | None = None,
             distinct: bool = False) -> exp.Select:
        """SELECT <project(row env)> FROM <rel> [WHERE where(row env)]: an iteration."""
        if rel.preds:
            rel = self.apply_preds(rel)
        if rel.select is None:
            scan = Scan(self, rel.base, rel.rels or self.base_rels(), rel.blank)
            row = Row({c.key: Scalar(scan.col(c.key), c.type) for c in rel.cols},
                      {c.name.lower(): Scalar(scan.col(c.key), c.type) for c in rel.cols}, rel.base, scan)
            inner = env.push(row)
            sel = exp.select(*project(inner))
            if distinct:
                sel = sel.distinct(copy=False)
            conds = [rel.row_filter(scan) if rel.row_filter else None, where(inner) if where else None]
            return scan.build(sel, and_all(conds))
        alias = self.new_alias()
        row = self.row_of(rel, alias)
        inner = env.push(row)
        sel = exp.select(*project(inner)).from_(rel.select.subquery(alias, copy=True))
        if distinct:
            sel = sel.distinct(copy=False)
        if where:
            cond = where(inner)
            if cond is not None:
                sel = sel.where(cond)
        return sel

    # ------------------------------------------------------------ grouped evaluation

    def agg_over(self, rel: Rel, env: Env, row: Callable[[Env], Scalar],
                 agg: Callable[[Scalar], exp.Expression]) -> exp.Expression:
        """agg(row expression) over the rows of `rel`: a grouped leaf when the context
        allows (see `_leafable`), else a scalar subquery, correlated with the cell.

        The subquery is two-level, `SELECT agg(x.v) FROM (SELECT <row> AS v FROM rel) x`, so
        an aggregate never holds a reference to an outer query (SQL would make it an
        aggregate of the outer query)."""
        def project(inner: Env) -> list[exp.Expression]:
            return [agg(row(inner))]

        if self.grouped and self._leafable(env):
            leaf = None
            if rel.select is None and rel.ctx is env.ctx and not rel.preds:
                leaf = self._table_leaf(rel, env, project)
            elif rel.col_keys is not None and rel.ctx is env.ctx and all(
                    pe.ctx is env.ctx and len(pe.rows) == len(env.rows)
                    and all(a is b for a, b in zip(pe.rows, env.rows)) for _, pe in rel.preds):
                leaf = self._scope_leaf(rel, env, project)
            if leaf is not None:
                return leaf
        holder: list[Scalar] = []

        def inner_row(inner: Env) -> list[exp.Expression]:
            value = row(inner)
            holder.append(value)
            return [exp.alias_(value.sql, "v")]

        sel = self.over(rel, env, inner_row)
        alias = self.new_alias()
        outer = agg(Scalar(exp.column("v", alias), holder[0].type, holder[0].nullable))
        return exp.Subquery(this=exp.select(outer).from_(sel.subquery(alias)))

    def apply_preds(self, rel: Rel) -> Rel:
        """Materialise FILTER predicates kept for grouped evaluation."""
        out = replace(rel, preds=())
        for pred, penv in rel.preds:
            out = self._filter_rel(out, pred, penv)
        return out

    def _leafable(self, env: Env) -> bool:
        scope = env.scope
        if scope is None or (env.ctx.rels or self.base_rels()).both:
            return False
        if any(r.scope is not scope for r in env.rows):
            return False
        return not any(isinstance(f, CellFilter) and f.scope is not scope for f in env.ctx.filters)

    def _cell_keys(self, env: Env) -> list[ColKey]:
        return [f.cols[0] for f in env.ctx.filters if isinstance(f, CellFilter) and f.scope is env.scope]

    def _static_where(self, scan: Scan, env: Env) -> exp.Expression | None:
        return and_all(f.apply(scan) for f in env.ctx.filters if not isinstance(f, CellFilter))

    def _register(self, env: Env, select: exp.Select, keys: list[ColKey]) -> exp.Expression | None:
        if _outer_refs(select):
            return None
        return env.scope.add(self.new_alias(), select, tuple(keys))

    def _table_leaf(self, rel: Rel, env: Env, project) -> exp.Expression | None:
        scan = Scan(self, rel.base, rel.rels or self.base_rels(), rel.blank)
        keys = [k for k in self._cell_keys(env) if scan.has(k)]
        row = Row({c.key: Scalar(scan.col(c.key), c.type) for c in rel.cols},
                  {c.name.lower(): Scalar(scan.col(c.key), c.type) for c in rel.cols}, rel.base, scan)
        (value,) = project(env.push(row))
        outs = [exp.alias_(scan.col(k), f"k{i}") for i, k in enumerate(keys)] + [exp.alias_(value, "v")]
        sel = scan.build(exp.select(*outs), self._static_where(scan, env))
        if keys:
            sel = sel.group_by(*[exp.Literal.number(i + 1) for i in range(len(keys))], copy=False)
        return self._register(env, sel, keys)

    def _scope_leaf(self, rel: Rel, env: Env, project) -> exp.Expression | None:
        """Iterate VALUES(col) for every cell at once: the domain holds (cell keys, col)
        pairs, the row expression is compiled in a nested scope over that domain."""
        table = self.model.table(rel.col_keys[0][0])
        scan = Scan(self, table, rel.rels or self.base_rels(), rel.blank)
        keys = self._cell_keys(env)
        if not all(scan.has(k) for k in keys):
            return None
        inner_keys = list(keys) + [k for k in rel.col_keys if k not in keys]
        names = {k: f"k{i}" for i, k in enumerate(inner_keys)}
        # the domain (cell keys, col) is a leaf too: GROUP BY the same keys over the same
        # scan as the row expression's aggregates, which then fuse into its SELECT
        domain = scan.build(exp.select(*[exp.alias_(scan.col(k), names[k]) for k in inner_keys],
                                       exp.alias_(exp.Count(this=exp.Star()), "v")),
                            self._static_where(scan, env))
        domain = domain.group_by(*[exp.Literal.number(i + 1) for i in range(len(inner_keys))], copy=False)
        if _outer_refs(domain):
            return None
        alias = self.new_alias()
        scope = CellScope(alias, names, domain=True)
        scope.add(alias, domain, tuple(inner_keys))
        ctx = env.ctx
        for f in env.ctx.filters:
            if isinstance(f, CellFilter) and f.scope is env.scope:
                ctx = ctx.remove([f.cols[0]]).add(CellFilter(f.cols, (exp.column(names[f.cols[0]], alias),), None, scope))
        cols = {k: Scalar(exp.column(names[k], alias), self.col_type(k)) for k in rel.col_keys}
        row = Row(cols, {c.name.lower(): cols[c.key] for c in rel.cols}, None, None, scope)
        rows = tuple(replace(r, scope=scope, cols={k: Scalar(exp.column(names[k], alias), v.type)
                                                   for k, v in r.cols.items() if k in names},
                             names={}) for r in env.rows)
        if any(len(r.cols) == 0 for r in rows):
            return None
        inner = replace(env, ctx=ctx, rows=(*rows, row), scope=scope)
        conds = [truthy(self.scalar(p, replace(inner, vars=penv.vars))) for p, penv in rel.preds]
        (value,) = project(inner)
        sel = scope.from_clause()
        sel = sel.select(*[exp.alias_(exp.column(names[k], alias), f"k{i}") for i, k in enumerate(keys)],
                         exp.alias_(value, "v"))
        where = and_all(conds)
        if where is not None:
            sel = sel.where(where)
        if keys:
            sel = sel.group_by(*[exp.Literal.number(i + 1) for i in range(len(keys))], copy=False)
        return self._register(env, sel, keys)

    def row_of(self, rel: Rel, alias: str) -> Row:
        cols: dict[ColKey, Scalar] = {}
        names: dict[str, Scalar] = {}
        for c in rel.cols:
            s = Scalar(exp.column(c.sql, alias), c.type)
            if c.key is not None:
                cols.setdefault(c.key, s)
            names.setdefault(c.name.lower(), s)
        return Row(cols, names, rel.base)

    def let(self, values: list[Scalar]) -> tuple[list[Scalar], Callable[[exp.Expression], exp.Expression]]:
        """Evaluate non-trivial values once when a formula uses them more than once.

        Returns stand-ins for `values` and a wrapper turning the formula into
        `(SELECT formula FROM (SELECT v0, v1, …) AS t)`; a duplicated subquery would
        otherwise be computed twice (e.g. DIVIDE's denominator)."""
        simple = (exp.Column, exp.Literal, exp.Null, exp.Boolean)
        if all(isinstance(v.sql, simple) or (isinstance(v.sql, exp.Cast) and isinstance(v.sql.this, simple))
               for v in values):
            return values, lambda body: body
        alias = self.new_alias()
        stand = [Scalar(exp.column(f"v{i}", alias), v.type, v.nullable) for i, v in enumerate(values)]
        inner = exp.select(*[exp.alias_(v.sql, f"v{i}") for i, v in enumerate(values)])

        def wrap(body: exp.Expression) -> exp.Expression:
            return exp.Subquery(this=exp.select(body).from_(inner.subquery(alias)))

        return stand, wrap

    # ------------------------------------------------------------ entry points

    def scalar(self, node: A.Expr, env: Env) -> Scalar:
        out = self.compile(node, env)
        if isinstance(out, Rel):
            return self.rel_to_scalar(out, env, node)
        return out

    def table(self, node: A.Expr, env: Env) -> Rel:
        out = self.compile(node, env)
        if isinstance(out, Scalar):
            raise self.err(env, node, "a table expression is expected here, not a scalar value")
        return out

    def rel_to_scalar(self, rel: Rel, env: Env, node: A.Node) -> Scalar:
        """A one-column table used as a scalar: its single value, BLANK if empty, error if more."""
        if len(rel.cols) != 1:
            raise self.err(env, node, "a table of multiple columns was supplied where a single value was expected")
        c = rel.cols[0]
        alias = self.new_alias()
        sub = exp.select(exp.column(c.sql, alias)).from_(self.rel_select(rel).subquery(alias, copy=True)).distinct()
        alias2 = self.new_alias()
        v = exp.column(c.sql, alias2)
        agg = exp.Case(ifs=[exp.If(this=exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)),
                                   true=fn("error", exp.Literal.string(
                                       "A table of multiple values was supplied where a single value was expected.")))],
                       default=exp.Max(this=v))
        return Scalar(exp.Subquery(this=exp.select(exp.cast(agg, sql_type(c.type)) if c.type is not DaxType.VARIANT else agg)
                                   .from_(sub.subquery(alias2))), c.type)

    def compile(self, node: A.Expr, env: Env) -> Scalar | Rel:
        method = getattr(self, "c_" + type(node).__name__, None)
        if method is None:
            raise self.unsupported(env, node, f"the construct {type(node).__name__}")
        return method(node, env)

    # ------------------------------------------------------------ literals

    def c_Number(self, node: A.Number, env: Env) -> Scalar:
        return lit(node.value)

    def c_String(self, node: A.String, env: Env) -> Scalar:
        return lit(node.value)

    def c_Boolean(self, node: A.Boolean, env: Env) -> Scalar:
        return lit(node.value)

    def c_DateTimeLiteral(self, node: A.DateTimeLiteral, env: Env) -> Scalar:
        try:
            value = _dt.datetime.fromisoformat(node.text)
        except ValueError:
            raise self.err(env, node, f"invalid date literal dt\"{node.text}\"")
        return Scalar(exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP"), DaxType.DATETIME, False)

    def c_EmptyArg(self, node: A.EmptyArg, env: Env) -> Scalar:
        return lit(None)

    def c_Parameter(self, node: A.Parameter, env: Env) -> Scalar:
        raise self.unsupported(env, node, f"query parameter @{node.name}")

    def c_EnumArg(self, node: A.EnumArg, env: Env) -> Scalar:
        raise self.err(env, node, f"the keyword {node.name} is not valid here")

    # ------------------------------------------------------------ references

    def c_VarRef(self, node: A.VarRef, env: Env) -> Scalar | Rel:
        value = env.vars.get(node.name.lower())
        if value is None:
            raise self.err(env, node, f"variable '{node.name}' is not defined")
        return value

    def c_VarBlock(self, node: A.VarBlock, env: Env) -> Scalar | Rel:
        vars_ = dict(env.vars)
        for name, expr in node.vars:
            vars_[name.lower()] = self.compile(expr, replace(env, vars=vars_))
        return self.compile(node.body, replace(env, vars=vars_))

    def c_TableRef(self, node: A.TableRef, env: Env) -> Rel:
        value = env.vars.get(node.name.lower())
        if isinstance(value, Rel):
            return value
        return self.base_rel(self.resolve_table(env, node, node.name), env)

    def c_ColumnRef(self, node: A.ColumnRef, env: Env) -> Scalar:
        if node.table is None:
            return self.c_BracketRef(A.BracketRef(node.column, span=node.span), env)
        t = self.model.table(node.table)
        if t is not None and t.column(node.column) is None:
            m = self.measures.get(node.column.lower()) or self.extra_measures.get(node.column.lower())
            if m is not None:
                return self.measure_ref(node.column, env, node)
        if t is None and node.table.lower() in env.vars:
            value = env.vars[node.table.lower()]
            if isinstance(value, Rel):
                for c in value.cols:
                    if c.name.lower() in (node.column.lower(), f"{node.table}[{node.column}]".lower()):
                        return self._row_name(env, node, c.name)
        key = self.resolve_col(env, node, node.table, node.column)
        return self.column_value(key, env, node)

    def column_value(self, key: ColKey, env: Env, node: A.Node, skip: int = 0) -> Scalar:
        if key in env.placeholders:
            return Scalar(env.placeholders[key], self.col_type(key))
        for row in reversed(env.rows):
            if key in row.cols:
                if skip == 0:
                    return row.cols[key]
                skip -= 1
        raise self.err(env, node, f"a single value for column '{key[0]}'[{key[1]}] cannot be determined",
                       "use an aggregation such as SUM or MAX, or iterate the table (SUMX, FILTER)")

    def _row_name(self, env: Env, node: A.Node, name: str) -> Scalar:
        for row in reversed(env.rows):
            if name.lower() in row.names:
                return row.names[name.lower()]
        raise self.err(env, node, f"column [{name}] cannot be found in the current row context")

    def c_BracketRef(self, node: A.BracketRef, env: Env) -> Scalar:
        for row in reversed(env.rows):
            if node.name.lower() in row.names:
                return row.names[node.name.lower()]
        if node.name.lower() in self.measures or node.name.lower() in self.extra_measures:
            return self.measure_ref(node.name, env, node)
        for row in reversed(env.rows):  # a bare [Column] of the table being iterated
            c = row.base.column(node.name) if row.base is not None else None
            if c is not None and (row.base.name, c.name) in row.cols:
                return row.cols[(row.base.name, c.name)]
        raise self.err(env, node, f"measure or column [{node.name}] does not exist")

    def measure_ref(self, name: str, env: Env, node: A.Node) -> Scalar:
        """[M]: the measure body in a new context, i.e. CALCULATE(<body>) (§7)."""
        lname = name.lower()
        if lname in env.stack:
            raise self.err(env, node, f"measure [{name}] refers to itself (circular dependency)")
        ctx = self.transition(env)
        rewritten = self.apply_calculation_groups(name, env, ctx, node)
        if rewritten is not None:
            return rewritten
        if lname in self.extra_measures:
            body, label = self.extra_measures[lname]
            src = Source(label)
        else:
            m = self.measures[lname]
            body = self.schema.parsed_measure(m)
            src = Source(f"measure [{m.name}]", m.origin, m)
        return self.scalar(body, Env(ctx=ctx, src=src, stack=(*env.stack, lname), scope=env.scope,
                                     cg_applied=env.cg_applied))

    def apply_calculation_groups(self, name: str, env: Env, ctx: Ctx, node: A.Node) -> Scalar | None:
        """Hook: the measure reference rewritten by the calculation items in `ctx`, or None
        (generator.engine.fn_calc_groups)."""
        return None

    def reset_calculation_groups(self, before: Ctx, after: Ctx, env: Env) -> Env:
        """Hook: `env` with the groups whose filter CALCULATE changed applicable again."""
        return env

    def transition(self, env: Env) -> Ctx:
        """Context transition: every row context not yet transitioned by an enclosing
        CALCULATE (`Env.transitioned`) becomes equality filters."""
        ctx = env.ctx
        for row in env.rows[env.transitioned:]:
            keys = [k for k in row.cols if row.base is None or k[0] == row.base.name]
            if not keys:
                continue
            if row.scope is not None:
                ctx = ctx.remove(keys)
                for k in keys:
                    ctx = ctx.add(CellFilter((k,), (row.cols[k].sql,), None, row.scope))
                continue
            key = None
            if row.base is not None:
                kc = next((c.name for c in row.base.columns if c.key), None)
                key = (row.base.name, kc) if kc and (row.base.name, kc) in keys else None
            ctx = ctx.remove(keys).add(EqFilter(tuple(keys), tuple(row.cols[k].sql for k in keys), key))
        return ctx

    def calculated_column(self, table: Table, column, body: A.Expr) -> exp.Select:
        """SELECT <visible columns>, <body in the row context of each row> FROM table."""
        env = Env(ctx=Ctx(rels=self.base_rels()),
                  src=Source(f"calculated column {table.name}[{column.name}]", column.origin))
        rel = self.base_rel(table, env, ctx=Ctx())
        target = MODEL_TYPES.get(column.type, DaxType.VARIANT)

        def project(inner: Env) -> list[exp.Expression]:
            row = inner.rows[-1]
            outs = [exp.alias_(row.cols[c.key].sql, ident(c.key[1])) for c in rel.cols]
            value = cast(self.scalar(body, inner), target).sql
            sqltype = "DATE" if column.type == "date" else sql_type(target)
            return outs + [exp.alias_(exp.cast(value, sqltype), ident(column.name))]

        return self.over(rel, env, project)

    # ------------------------------------------------------------ operators

    def c_UnaryOp(self, node: A.UnaryOp, env: Env) -> Scalar:
        value = self.scalar(node.operand, env)
        if node.op == "-":
            return negate(value)
        if node.op == "+":
            return value
        return not_(value)

    def c_BinaryOp(self, node: A.BinaryOp, env: Env) -> Scalar:
        a = self.scalar(node.left, env)
        b = self.scalar(node.right, env)
        op = node.op
        if op in ("+", "-", "*", "/", "^"):
            return arith(op, a, b)
        if op == "&":
            return concat(a, b)
        if op in ("&&", "||"):
            return logic(op, a, b)
        return compare(op, a, b)

    def c_In(self, node: A.In, env: Env) -> Scalar:
        items = node.expr.items if isinstance(node.expr, A.TupleExpr) else (node.expr,)
        left = [self.scalar(i, env) for i in items]
        if isinstance(node.table, A.TableConstructor):
            ors = []
            for row in node.table.rows:
                if len(row) != len(left):
                    raise self.err(env, node, "IN: the number of values does not match the table's columns")
                ors.append(and_all(compare("=", a, self.scalar(v, env)).sql for a, v in zip(left, row)))
            return Scalar(exp.paren(exp.or_(*ors)) if len(ors) > 1 else ors[0], DaxType.BOOL, False)
        rel = self.table(node.table, env)
        if len(rel.cols) != len(left):
            raise self.err(env, node, "IN: the number of values does not match the table's columns")

        def where(inner: Env) -> exp.Expression:
            row = inner.rows[-1]
            return and_all(compare("=", a, row.names[c.name.lower()]).sql for a, c in zip(left, rel.cols))

        sel = self.over(rel, env, lambda inner: [exp.Literal.number(1)], where)
        return Scalar(exp.Exists(this=sel), DaxType.BOOL, False)

    def c_TupleExpr(self, node: A.TupleExpr, env: Env) -> Scalar:
        raise self.err(env, node, "a row value (a, b) is only allowed on the left of IN")

    def c_TableConstructor(self, node: A.TableConstructor, env: Env) -> Rel:
        width = len(node.rows[0]) if node.rows else 1
        rows = [[self.scalar(v, env) for v in r] for r in node.rows]
        if any(len(r) != width for r in rows):
            raise self.err(env, node, "every row of a table constructor needs the same number of values")
        types = [unify([r[i].type for r in rows]) for i in range(width)]
        names = ["Value"] if width == 1 else [f"Value{i + 1}" for i in range(width)]
        selects = [exp.select(*[exp.alias_(cast(r[i], types[i]).sql, f"c{i}") for i in range(width)])
                   for r in rows]
        union: exp.Expression = selects[0]
        for s in selects[1:]:
            union = exp.union(union, s, distinct=False)
        sel = exp.select(exp.Star()).from_(exp.Subquery(this=union, alias=exp.TableAlias(this=ident(self.new_alias()))))
        cols = tuple(RelCol(n, f"c{i}", None, t if t is not DaxType.BLANK else DaxType.VARIANT)
                     for i, (n, t) in enumerate(zip(names, types)))
        return Rel(cols, sel)

    # ------------------------------------------------------------ function calls

    def c_FunctionCall(self, node: A.FunctionCall, env: Env) -> Scalar | Rel:
        handler = getattr(self, "fn_" + node.name.replace(".", "_"), None)
        if handler is None:
            if is_builtin(node.name):
                raise self.unsupported(env, node, f"the function {node.name}")
            raise self.err(env, node, f"unknown function {node.name}")
        return handler(node, env)

    def args(self, node: A.FunctionCall, env: Env, lo: int, hi: int | None = None) -> tuple[A.Expr, ...]:
        n = len(node.args)
        while n > lo and isinstance(node.args[n - 1], A.EmptyArg):
            n -= 1
        hi = lo if hi is None else hi
        if n < lo or (hi >= 0 and n > hi):
            want = f"{lo}" if lo == hi else f"{lo} to {hi}" if hi >= 0 else f"at least {lo}"
            raise self.err(env, node, f"{node.name} takes {want} arguments, got {n}")
        return node.args[:n]

    def colref(self, env: Env, node: A.Expr) -> ColKey:
        if isinstance(node, A.ColumnRef) and node.table is not None:
            return self.resolve_col(env, node, node.table, node.column)
        raise self.err(env, node, "a column reference such as Table[Column] is expected here")

    # ------------------------------------------------------------ filter arguments

    def filter_args(self, args: Iterable[A.Expr], env: Env) -> list[tuple[str, object]]:
        """Compile CALCULATE filter arguments in the *outer* context (§5.1): modifiers
        ("mod", ctx -> ctx) and filters ("filter", (keys it replaces, Filter))."""
        return [self.filter_arg(arg, env) for arg in args if not isinstance(arg, A.EmptyArg)]

    def filter_arg(self, arg: A.Expr, env: Env) -> tuple[str, object]:
        keep = False
        if isinstance(arg, A.FunctionCall) and arg.name == "KEEPFILTERS":
            keep = True
            (arg,) = self.args(arg, env, 1)
        if isinstance(arg, A.FunctionCall):
            mod = self.modifier(arg, env)
            if mod is not None:
                if keep:
                    raise self.err(env, arg, f"KEEPFILTERS cannot wrap {arg.name}")
                return "mod", mod
        guard = None
        if self.is_table_expr(arg, env):
            rel = self.table(arg, env)
            guard, rel = rel.guard, replace(rel, guard=None)
            f = self.rel_filter(rel, env, arg)
        else:
            f = self.bool_filter(arg, env)
        date_keys = self.date_table_keys(f.keys())
        return "filter", (frozenset() if keep else f.keys() | date_keys, f, guard)

    def date_table_keys(self, keys: frozenset[ColKey]) -> frozenset[ColKey]:
        """Mark-as-date-table rule (§10): a filter on the date column removes every
        filter on the date table."""
        dt = self.schema.date_table
        if dt is None:
            return frozenset()
        date_col = self.schema.date_column
        if (dt.name, date_col) in keys:
            return frozenset((dt.name, c.name) for c in dt.all_columns)
        return frozenset()

    def rel_filter(self, rel: Rel, env: Env, node: A.Node) -> Filter:
        if rel.base is not None and rel.row_filter is not None and all(c.key for c in rel.cols):
            probe = Scan(self, rel.base, rel.rels or self.base_rels())
            expanded = frozenset((self.model.table(t).name, c.name) for t in probe.tables()
                                 for c in self.model.table(t).all_columns)
            return TableFilter(rel.base, rel.row_filter, self, expanded, blank=rel.blank)
        keyed = [(i, c) for i, c in enumerate(rel.cols) if c.key is not None]
        if not keyed:
            raise self.err(env, node, "this table cannot be used as a filter: none of its columns comes from the model",
                           "use TREATAS to apply its values to model columns")
        alias = self.new_alias()
        sel = exp.select(*[exp.alias_(exp.column(c.sql, alias), f"c{j}") for j, (_, c) in enumerate(keyed)]).from_(
            self.rel_select(rel).subquery(alias, copy=True))
        pred = rel.col_pred if rel.col_pred is not None and [c.key for _, c in keyed] == [rel.col_pred[0]] else None
        row_key = None
        if rel.rows_of is not None:
            table = self.model.table(rel.rows_of)
            kc = self.key_column(table) if table is not None else None
            if kc and (table.name.lower(), kc.lower()) in self.schema.unique_keys \
                    and (table.name, kc) in [c.key for _, c in keyed]:
                row_key = (table.name, kc)
        return RowsFilter(tuple(c.key for _, c in keyed), sel, nonnull=rel.nonnull, col_pred=pred, row_key=row_key)

    def bool_filter(self, arg: A.Expr, env: Env) -> Filter:
        keys: list[ColKey] = []
        self._collect_cols(arg, env, keys)
        if not keys:
            raise self.err(env, arg, "a filter expression must refer to at least one column",
                           "write e.g. Table[Column] = \"value\"; measures cannot be used in Boolean filters")
        tables = {k[0] for k in keys}
        if len(tables) > 1:
            raise self.err(env, arg, "a Boolean filter may only refer to columns of one table",
                           "use FILTER over the table, or one filter argument per table")
        keys = list(dict.fromkeys(keys))

        def pred(colfn: Callable[[ColKey], exp.Expression]) -> exp.Expression:
            inner = replace(env, placeholders={**env.placeholders, **{k: colfn(k) for k in keys}})
            return truthy(self.scalar(arg, inner))

        pred(lambda k: exp.column(k[1], "__check__", quoted=True))  # compile now: errors surface here
        return PredFilter(tuple(keys), pred, self)

    def _collect_cols(self, node: A.Node, env: Env, out: list[ColKey]) -> None:
        if isinstance(node, A.FunctionCall) and node.name in _CONTEXT_FUNCS:
            return
        if isinstance(node, A.ColumnRef) and node.table is not None:
            t = self.model.table(node.table)
            if t is not None and t.column(node.column) is not None:
                out.append((t.name, t.column(node.column).name))
            return
        for child in node.children():
            self._collect_cols(child, env, out)

    _TABLE_FUNCS = frozenset({
        "FILTER", "VALUES", "DISTINCT", "ALL", "ALLNOBLANKROW", "ALLSELECTED", "ALLEXCEPT", "CALCULATETABLE",
        "SUMMARIZE", "SUMMARIZECOLUMNS", "ADDCOLUMNS", "SELECTCOLUMNS", "TOPN", "TREATAS", "DATATABLE",
        "GENERATE", "CROSSJOIN", "UNION", "INTERSECT", "EXCEPT", "ROW", "RELATEDTABLE", "DATESYTD",
        "DATESQTD", "DATESMTD", "SAMEPERIODLASTYEAR", "DATEADD", "DATESINPERIOD", "DATESBETWEEN",
        "PARALLELPERIOD", "PREVIOUSMONTH", "PREVIOUSQUARTER", "PREVIOUSYEAR", "NEXTMONTH", "NEXTQUARTER",
        "NEXTYEAR", "PREVIOUSDAY", "NEXTDAY", "FIRSTDATE", "LASTDATE", "STARTOFMONTH", "ENDOFMONTH",
        "STARTOFYEAR", "ENDOFYEAR", "STARTOFQUARTER", "ENDOFQUARTER", "KEEPFILTERS", "GENERATESERIES",
        "CALENDAR", "FILTERS", "TOPNSKIP", "NATURALINNERJOIN", "NATURALLEFTOUTERJOIN", "GROUPBY",
        "CURRENTGROUP", "ADDMISSINGITEMS", "SUBSTITUTEWITHINDEX", "SAMPLE", "COLUMNSTATISTICS", "DETAILROWS",
        "TABLEOF",
    })

    def is_table_expr(self, node: A.Expr, env: Env) -> bool:
        if isinstance(node, (A.TableRef, A.TableConstructor)):
            return True
        if isinstance(node, A.VarRef):
            return isinstance(env.vars.get(node.name.lower()), Rel)
        if isinstance(node, A.FunctionCall):
            # the catalog knows every table function (FIRSTNONBLANK, LINEST, …) besides these
            info = lookup(node.name)
            return node.name in self._TABLE_FUNCS or (info is not None and info.returns == "table")
        if isinstance(node, A.VarBlock):
            return self.is_table_expr(node.body, env)
        return False

    def modifier(self, call: A.FunctionCall, env: Env) -> Callable[[Ctx], Ctx] | None:
        name = call.name
        if name in ("ALL", "REMOVEFILTERS", "ALLNOBLANKROW"):
            if not call.args or all(isinstance(a, A.EmptyArg) for a in call.args):
                return lambda ctx: ctx.clear()
            keys = self.keys_of_args(call.args, env)
            return lambda ctx: ctx.remove(keys)
        if name == "ALLEXCEPT":
            args = self.args(call, env, 2, -1)
            table = self.resolve_table(env, args[0], self._table_name(env, args[0]))
            keep = set(self.keys_of_args(args[1:], env))
            keys = frozenset((table.name, c.name) for c in table.all_columns) - keep
            # ALLEXCEPT(T, ...) also removes filters on the tables T expands to
            probe = self.scan(table, env)
            for t in probe.tables():
                if t != table.name.lower():
                    tt = self.model.table(t)
                    keys |= frozenset((tt.name, c.name) for c in tt.all_columns) - keep
            return lambda ctx: ctx.remove(keys)
        if name == "ALLSELECTED":
            if not call.args:
                return lambda ctx: replace(ctx.clear(), filters=(ctx.shadow or Ctx()).filters)
            keys = self.keys_of_args(call.args, env)

            def allselected(ctx: Ctx) -> Ctx:
                out = ctx.remove(keys)
                for f in (ctx.shadow or Ctx()).filters:
                    if f.keys() & keys:
                        g = f.without(f.keys() - keys)
                        if g is not None:
                            out = out.add(g)
                return out

            return allselected
        if name == "USERELATIONSHIP":
            a, b = self.args(call, env, 2)
            idx = self.find_rel(env, call, self.colref(env, a), self.colref(env, b))
            r = self.model.relationships[idx]
            pair = {r.from_table.lower(), r.to_table.lower()}

            def userel(ctx: Ctx) -> Ctx:
                rs = ctx.rels or self.base_rels()
                others = {i for i in rs.active
                          if {self.model.relationships[i].from_table.lower(),
                              self.model.relationships[i].to_table.lower()} == pair}
                return replace(ctx, rels=RelState((rs.active - others) | {idx}, rs.both))

            return userel
        if name == "CROSSFILTER":
            a, b, d = self.args(call, env, 3)
            idx = self.find_rel(env, call, self.colref(env, a), self.colref(env, b))
            mode = _enum(d)
            if mode not in ("BOTH", "NONE", "ONEWAY", "ONEWAY_RIGHTFILTERS", "ONEWAY_LEFTFILTERS"):
                raise self.err(env, d, "CROSSFILTER direction must be BOTH, NONE or ONEWAY")

            def crossfilter(ctx: Ctx) -> Ctx:
                rs = ctx.rels or self.base_rels()
                if mode == "NONE":
                    return replace(ctx, rels=RelState(rs.active - {idx}, rs.both - {idx}))
                if mode == "BOTH":
                    return replace(ctx, rels=RelState(rs.active | {idx}, rs.both | {idx}))
                return replace(ctx, rels=RelState(rs.active | {idx}, rs.both - {idx}))

            return crossfilter
        return None

    def _table_name(self, env: Env, node: A.Expr) -> str:
        if isinstance(node, A.TableRef):
            return node.name
        raise self.err(env, node, "a table name is expected here")

    def keys_of_args(self, args: Iterable[A.Expr], env: Env) -> frozenset[ColKey]:
        keys: set[ColKey] = set()
        for a in args:
            if isinstance(a, A.TableRef):
                t = self.resolve_table(env, a, a.name)
                keys |= {(t.name, c.name) for c in t.all_columns}
                probe = self.scan(t, env)
                for other in probe.tables():
                    tt = self.model.table(other)
                    keys |= {(tt.name, c.name) for c in tt.all_columns}
            elif isinstance(a, A.EmptyArg):
                continue
            else:
                keys.add(self.colref(env, a))
        return frozenset(keys)

    def find_rel(self, env: Env, node: A.Node, a: ColKey, b: ColKey) -> int:
        for i, r in enumerate(self.model.relationships):
            ends = {(r.from_table.lower(), r.from_column.lower()), (r.to_table.lower(), r.to_column.lower())}
            if ends == {(a[0].lower(), a[1].lower()), (b[0].lower(), b[1].lower())}:
                return i
        raise self.err(env, node, f"no relationship between '{a[0]}'[{a[1]}] and '{b[0]}'[{b[1]}]")

    def guarded(self, value: Scalar, args: list) -> Scalar:
        """Raise the filter arguments' cell-level errors (DATEADD contiguity) around a value."""
        for kind, payload in args:
            if kind == "filter" and payload[2] is not None:
                cond, message = payload[2]
                value = Scalar(exp.Case(ifs=[exp.If(this=cond, true=fn("error", exp.Literal.string(message)))],
                                        default=value.sql), value.type, value.nullable)
        return value

    def apply_filters(self, env: Env, args: list) -> Ctx:
        """Transition, then modifiers in order, then every filter: each removes the existing
        filters on its columns (unless KEEPFILTERS) and all of them are ANDed (§5.1)."""
        ctx = self.transition(env)
        for kind, payload in args:
            if kind == "mod":
                ctx = payload(ctx)
        removed = frozenset().union(*[p[0] for k, p in args if k == "filter"])
        ctx = ctx.remove(removed)
        for kind, payload in args:
            if kind == "filter":
                ctx = ctx.add(payload[1])
        return ctx
