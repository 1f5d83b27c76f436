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

This module holds `CompilerCore`: dispatch (node → `c_<Node>`, call → `fn_<NAME>`),
argument checks, filter context → SQL (scans, bidirectional filters), iteration and grouped
evaluation (`CellScope` leaves). Its parts live below it, one idea each: the compile-time
values (compile_types), the expression-node handlers (expr_nodes), measure references and
context transition (transition), CALCULATE's filter arguments (filter_args); the function
handlers are mixins over `CompilerCore`, combined in query.Compiler.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Callable

from sqlglot import exp

from generator.dax import ast as A
from generator.dax.catalog import is_builtin
from generator.engine.compiler.compile_types import Env, Rel, RelCol, Row
from generator.engine.context import CellFilter, ColKey, Ctx, RelState, Scan, and_all, not_distinct
from generator.engine.data import fn, ident, table_ref
from generator.engine.compiler.expr_nodes import ExprNodes
from generator.engine.compiler.filter_args import FilterArgs
from generator.engine.propagation import crosses, propagate
from generator.engine.sql import join
from generator.engine.plan.build import LEAF_TABLE, LeafEntry, leaf_plan
from generator.engine.errors import DaxCompileError, DaxUnsupportedError
from generator.engine.compiler.transition import MeasureRefs
from generator.engine.types import MODEL_TYPES, DaxType, sql_type
from generator.engine.values import Scalar, truthy
from generator.engine.schema import Schema
from generator.spec.model import Measure, Model, Table


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


def _outer_refs(select: exp.Expression) -> bool:
    """Does `select` refer to a table alias it does not define (a correlated reference)?"""
    defined = {a.name for a in select.find_all(exp.TableAlias)}
    defined |= {t.alias_or_name for t in select.find_all(exp.Table)}
    return any(c.table and c.table not in defined for c in select.find_all(exp.Column))


class CompilerCore(ExprNodes, MeasureRefs, FilterArgs):
    """Compiles DAX against one model. One instance per query (alias counter)."""

    def __init__(self, schema: Schema, grouped: bool = True):
        self.schema = schema
        # grouped evaluation (one GROUP BY per aggregate) or per-cell correlated subqueries
        self.grouped = grouped
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
            if r.to_table.lower() == table.name.lower() and not r.many_to_many:
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
        """Filters reaching the scan through bidirectional and many-to-many relationships."""
        return propagate(self, scan, ctx)

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
        if scope is None or crosses(self.model, env.ctx.rels or self.base_rels()):
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
        keys = self._cell_keys(env)
        scan = self._values_domain_scan(rel, keys)
        if scan is None:
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

    def _values_domain_scan(self, rel: Rel, keys: list[ColKey]) -> Scan | None:
        """Where `_scope_leaf` reads its (cell keys, col) pairs: col's own table, when that
        table reaches every cell key (fn_values_iter widens this to a fact table)."""
        table = self.model.table(rel.col_keys[0][0])
        scan = Scan(self, table, rel.rels or self.base_rels(), rel.blank)
        return scan if all(scan.has(k) for k in keys) else None

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
