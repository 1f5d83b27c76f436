"""DAX queries: DEFINE / EVALUATE / ORDER BY, and SUMMARIZECOLUMNS.

SUMMARIZECOLUMNS is how Power BI asks for a visual (dax-semantics.md §3): the group-by
columns give the cells, the filter tables are the slicers, and each measure is evaluated
per cell with the cell's values as equality filters. Rows whose (non-IGNOREd) measures are
all BLANK are dropped. Subtotal levels (ROLLUPADDISSUBTOTAL) are evaluated, never summed.
Same-table filter tables are merged into one tuple filter (auto-exist, §15).

The whole query is one SQL statement: cells are a DISTINCT over the dimensions and every
measure is a correlated subquery on the cell keys, which DuckDB decorrelates into joins.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.data import fn
from generator.engine.compiler.fn_calc_groups import CalcGroupFns
from generator.engine.compiler.fn_paths import PathItemFns
from generator.engine.compiler.compile_types import Env, Rel, RelCol, Source
from generator.engine.compiler.core import CellScope
from generator.engine.context import CellFilter, ColKey, Ctx, EqFilter, RowsFilter, Scan, and_all
from generator.engine.data import ident
from generator.engine.propagation import crosses
from generator.engine.compiler.relationships import RelationshipFns
from generator.engine.compiler.fn_window import WindowFns
from generator.engine.compiler.fn_calendar import CalendarFns
from generator.engine.compiler.fn_calculate import CalculateFns
from generator.engine.compiler.fn_rolling import RollingFns
from generator.engine.compiler.fn_column_sets import ColumnSetFns
from generator.engine.compiler.fn_filter import FilterFns
from generator.engine.compiler.fn_filter_info import FilterInfoFns
from generator.engine.compiler.fn_grouping import GroupingFns
from generator.engine.compiler.fn_joins import JoinFns
from generator.engine.compiler.fn_related import RelatedFns
from generator.engine.compiler.fn_row_selection import RowSelectionFns
from generator.engine.compiler.fn_table_builders import TableBuilderFns
from generator.engine.compiler.strict import Strictness
from generator.engine.compiler.fn_model_info import ModelInfoFns
from generator.engine.compiler.fn_model_tables import ModelTableFns
from generator.engine.compiler.fn_finance import FinanceFns
from generator.engine.compiler.fn_aggregates import AggregateFns
from generator.engine.compiler.fn_decorrelate import DecorrelateFns
from generator.engine.compiler.fn_preagg import PreAggregateFns
from generator.engine.compiler.fn_values_iter import ValuesIterFns
from generator.engine.compiler.fn_dates import DateFns
from generator.engine.compiler.fn_errors import ErrorFns
from generator.engine.compiler.fn_info import InfoFns
from generator.engine.compiler.fn_logic import LogicFns
from generator.engine.compiler.fn_math import MathFns
from generator.engine.compiler.fn_stats import PathFns, StatFns
from generator.engine.compiler.fn_table_text import TableTextFns
from generator.engine.compiler.fn_text import TextFns
from generator.engine.compiler.fn_timeintel2 import TimeFns2
from generator.engine.compiler.timeintel import TimeFns
from generator.engine.compiler.udfs_dax import UserFunctionFns
from generator.engine.types import DaxType

N = exp.Literal.number


@dataclass(frozen=True)
class CompiledQuery:
    sql: exp.Select
    columns: tuple[str, ...]
    types: tuple[DaxType, ...]
    prelude: tuple[exp.Expression, ...] = ()  # statements to run first (lowering.lower fills it)


def display_name(c: RelCol) -> str:
    if c.key is not None and c.name == f"{c.key[0]}[{c.key[1]}]":
        return c.name
    return f"[{c.name}]"


class Compiler(
    RelationshipFns,
    # calculation groups and user-defined functions override core hooks; window functions
    CalcGroupFns, UserFunctionFns, PathItemFns, WindowFns,
    # grouping, joins, row selection, tables as text, model objects as tables
    GroupingFns, JoinFns, RowSelectionFns, TableTextFns, ModelTableFns, ModelInfoFns,
    # financial, statistical, path, error and information functions
    FinanceFns, StatFns, PathFns, ErrorFns, InfoFns,
    # time intelligence
    TimeFns2, CalendarFns, TimeFns,
    # CALCULATE and the table functions (RollingFns first: it tries its rewrite before CALCULATE)
    RollingFns, CalculateFns, ColumnSetFns, FilterFns, TableBuilderFns, RelatedFns, FilterInfoFns,
    # scalar functions (ValuesIterFns, DecorrelateFns and PreAggregateFns first: they try their
    # rewrites before AggregateFns' agg_x / SUM / COUNTROWS)
    ValuesIterFns, DecorrelateFns, PreAggregateFns, AggregateFns, LogicFns, MathFns, TextFns, DateFns,
):
    """The full compiler: core + the handler mixins (one module each); user-defined
    functions are expanded inline (udfs_dax)."""

    # ------------------------------------------------------------ queries

    def root_env(self, label: str = "query") -> Env:
        return Env(ctx=Ctx(rels=self.base_rels()), src=Source(label))

    def compile_query(self, query: A.Query, label: str = "query") -> list[CompiledQuery]:
        env = self.root_env(label)
        vars_ = dict(env.vars)
        for d in query.defines:  # any definition may call a function defined after it
            if isinstance(d, A.DefineFunction):
                self.define_function(d)
        for d in query.defines:
            if isinstance(d, A.DefineFunction):
                continue
            if isinstance(d, A.DefineMeasure):
                self.extra_measures[d.name.lower()] = (d.expr, f"query measure [{d.name}]")
            elif isinstance(d, A.DefineVar):
                vars_[d.name.lower()] = self.compile(d.expr, replace(env, vars=vars_))
            else:
                raise self.unsupported(env, d, f"DEFINE {type(d).__name__.removeprefix('Define').upper()}")
        env = replace(env, vars=vars_)
        return [self.compile_evaluate(ev, env) for ev in query.evaluates]

    def compile_evaluate(self, ev: A.Evaluate, env: Env) -> CompiledQuery:
        if ev.start_at:
            raise self.unsupported(env, ev, "START AT")
        out = self.compile(ev.expr, env)
        if not isinstance(out, Rel):
            raise self.err(env, ev.expr, "EVALUATE needs a table expression", "wrap a scalar in ROW(\"Value\", ...) or { ... }")
        rel = out
        alias = self.new_alias()
        row = self.row_of(rel, alias)
        inner = env.push(row)
        names = [display_name(c) for c in rel.cols]
        sel = exp.select(*[exp.alias_(exp.column(c.sql, alias), f"c{i}") for i, c in enumerate(rel.cols)]).from_(
            self.rel_select(rel).subquery(alias, copy=True))
        orders = []
        for item in ev.order_by:
            v = self.scalar(item.expr, inner)
            key = fn("lower", v.sql) if v.type is DaxType.TEXT else v.sql
            orders.append(exp.Ordered(this=key, desc=item.descending, nulls_first=not item.descending))
        if orders:
            sel = sel.order_by(*orders)
        return CompiledQuery(sel, tuple(names), tuple(c.type for c in rel.cols))

    # ------------------------------------------------------------ SUMMARIZECOLUMNS

    def fn_SUMMARIZECOLUMNS(self, call, env):
        groups: list[ColKey] = []
        # ROLLUPADDISSUBTOTAL: per argument, its levels in order; a level is one column or a
        # ROLLUPGROUP of columns rolled up together. `rollup`: (level, "IsTotal" name).
        rollup: list[tuple[tuple[ColKey, ...], str]] = []
        rollup_args: list[list[tuple[ColKey, ...]]] = []
        filters: list[A.Expr] = []
        measures: list[tuple[str, A.Expr, bool]] = []
        args = list(call.args)
        i = 0
        while i < len(args):
            a = args[i]
            if isinstance(a, A.ColumnRef) and a.table is not None and self.model.table(a.table) \
                    and self.model.table(a.table).column(a.column):
                groups.append(self.colref(env, a))
            elif isinstance(a, A.FunctionCall) and a.name == "ROLLUPADDISSUBTOTAL":
                sub = list(a.args)
                rollup_args.append([])
                j = 0
                while j < len(sub):
                    if isinstance(sub[j], A.FunctionCall) and sub[j].name == "ROLLUPGROUP":
                        unit = tuple(self.colref(env, c) for c in self.args(sub[j], env, 1, -1))
                    else:
                        unit = (self.colref(env, sub[j]),)
                    if j + 1 >= len(sub) or not isinstance(sub[j + 1], A.String):
                        raise self.err(env, a, "ROLLUPADDISSUBTOTAL expects column / \"name\" pairs")
                    groups.extend(unit)
                    rollup.append((unit, sub[j + 1].value))
                    rollup_args[-1].append(unit)
                    j += 2
                    if j < len(sub) and not isinstance(sub[j], A.ColumnRef) and not (
                            isinstance(sub[j], A.FunctionCall) and sub[j].name == "ROLLUPGROUP"):
                        raise self.unsupported(env, sub[j], "ROLLUPADDISSUBTOTAL with a group-level filter")
            elif isinstance(a, A.String):
                if i + 1 >= len(args):
                    raise self.err(env, a, "SUMMARIZECOLUMNS: a name needs an expression")
                e = args[i + 1]
                ignore = isinstance(e, A.FunctionCall) and e.name == "IGNORE"
                if ignore:
                    (e,) = self.args(e, env, 1)
                measures.append((a.value, e, ignore))
                i += 1
            elif isinstance(a, A.FunctionCall) and a.name in ("NONVISUAL",):
                (inner_f,) = self.args(a, env, 1)
                filters.append(inner_f)
            elif isinstance(a, A.EmptyArg):
                pass
            else:
                if not self.is_table_expr(a, env):
                    raise self.unsupported(env, a, "this SUMMARIZECOLUMNS argument")
                filters.append(a)
            i += 1

        # slicers / filter tables: evaluated in the outer context, merged per table (auto-exist)
        ctx = env.ctx
        compiled = [self.rel_filter(self.table(f, env), env, f) for f in filters]
        by_table: dict[str, list] = {}
        for f in compiled:
            tables = {k[0] for k in f.keys()}
            by_table.setdefault(next(iter(tables)) if len(tables) == 1 else id(f), []).append(f)
        merged = []
        for tname, fs in by_table.items():
            if len(fs) == 1 or not isinstance(tname, str):
                merged.extend(fs)
                continue
            table = self.model.table(tname)
            keys = sorted(set().union(*(f.keys() for f in fs)))
            scan = Scan(self, table, ctx.rels or self.base_rels())
            outs = [exp.alias_(scan.col(k), f"c{n}") for n, k in enumerate(keys)]
            sel = scan.build(exp.select(*outs).distinct(), and_all(f.apply(scan) for f in fs))
            merged.append(RowsFilter(tuple(keys), sel))
        for f in merged:
            ctx = ctx.remove(f.keys()).add(f)
            ctx = ctx.remove(self.date_table_keys(f.keys()) - f.keys())
        ctx = replace(ctx, shadow=ctx)

        # cells: distinct existing combinations per table, cross-joined across tables
        tables: dict[str, list[ColKey]] = {}
        for k in groups:
            tables.setdefault(k[0], []).append(k)
        gname = {k: f"g{n}" for n, k in enumerate(groups)}
        domain = None
        dom_alias = self.new_alias()
        outs = []
        for tname, keys in tables.items():
            table = self.model.table(tname)
            scan = Scan(self, table, ctx.rels or self.base_rels(), blank=True)
            sub = scan.build(exp.select(*[exp.alias_(scan.col(k), gname[k]) for k in keys]).distinct(),
                             self.where_for(scan, ctx))
            a = self.new_alias()
            outs.extend(exp.alias_(exp.column(gname[k], a), gname[k]) for k in keys)
            domain = exp.select().from_(sub.subquery(a)) if domain is None else domain.join(sub.subquery(a), join_type="CROSS")
        # grouping levels: every combination of one prefix per ROLLUPADDISSUBTOTAL
        levels = [list(groups)]
        for units in rollup_args:
            nxt = []
            for level in levels:
                for cut in range(len(units), -1, -1):
                    dropped = {k for unit in units[cut:] for k in unit}
                    nxt.append([k for k in level if k not in dropped])
            levels = nxt

        parts = []
        mtypes: list[DaxType] = []
        fact = self._strict_fact([e for _, e, ignore in measures if not ignore], env)
        for level in levels:
            g = self.new_alias()
            names = {k: gname[k] for k in level}
            dom_scope = self._fact_cells(fact, level, ctx, g) if level and not env.rows else None
            if dom_scope is not None:
                source, names = None, dict(dom_scope.keys)
            elif domain is not None and level:
                cells = exp.select(*[exp.column(gname[k], dom_alias) for k in level]).distinct().from_(
                    domain.select(*outs, copy=True).subquery(dom_alias))
                source = cells.subquery(g)
            elif self.grouped and not env.rows:
                source = exp.select(exp.alias_(exp.Literal.number(1), "one")).subquery(g)
            else:
                source = None
            scope = dom_scope or (CellScope(g, names) if self.grouped else None)
            cell_ctx = ctx
            for tname, keys in tables.items():
                lk = [k for k in keys if k in level]
                if not lk:
                    continue
                cell_ctx = cell_ctx.remove(lk)
                if scope is not None:
                    for k in lk:
                        cell_ctx = cell_ctx.add(CellFilter((k,), (exp.column(names[k], g),), None, scope))
                else:
                    cell_ctx = cell_ctx.add(EqFilter(tuple(lk), tuple(exp.column(gname[k], g) for k in lk)))
            cell_ctx = replace(cell_ctx, scope=frozenset(level))
            cell_env = Env(ctx=cell_ctx, vars=env.vars, src=env.src, stack=env.stack,
                           scope=scope if source is not None or dom_scope is not None else None)
            projections = []
            for k in groups:
                value = exp.column(names[k], g) if k in level else exp.cast(exp.null(), self.col_sql_type(self.model.table(k[0]), k[1]))
                projections.append(exp.alias_(value, gname[k]))
            for unit, name in rollup:
                projections.append(exp.alias_(exp.false() if unit[0] in level else exp.true(), f"r_{gname[unit[0]]}"))
            visible = []
            for n, (name, e, ignore) in enumerate(measures):
                v = self.scalar(e, cell_env)
                if len(mtypes) < len(measures):
                    mtypes.append(v.type)
                projections.append(exp.alias_(v.sql, f"m{n}"))
                if not ignore:
                    visible.append(n)
            if dom_scope is not None or (source is not None and scope is not None):
                part = scope.from_clause(source).select(*projections)
            else:
                part = exp.select(*projections)
                if source is not None:
                    part = part.from_(source)
            if visible:
                a = self.new_alias()
                part = exp.select(exp.Star()).from_(part.subquery(a, copy=False), copy=False).where(
                    exp.or_(*[exp.column(f"m{n}", a).is_(exp.null()).not_() for n in visible], copy=False), copy=False)
            parts.append(part)
        union = parts[0]
        for p in parts[1:]:
            union = exp.union(union, p, distinct=False, copy=False)
        sel = exp.select(exp.Star()).from_(exp.Subquery(this=union, alias=exp.TableAlias(this=ident(self.new_alias()))))
        cols = [RelCol(f"{k[0]}[{k[1]}]", gname[k], k, self.col_type(k)) for k in groups]
        cols += [RelCol(name, f"r_{gname[unit[0]]}", None, DaxType.BOOL) for unit, name in rollup]
        cols += [RelCol(name, f"m{n}", None, mtypes[n] if n < len(mtypes) else DaxType.VARIANT)
                 for n, (name, _, _) in enumerate(measures)]
        return Rel(tuple(cols), sel)

    def _strict_fact(self, exprs: list[A.Expr], env: Env):
        """The fact table every measure is strict in (BLANK without its rows), if any."""
        if not exprs or not self.grouped:
            return None

        def body(name: str):
            key = name.lower()
            if key in self.extra_measures:
                return self.extra_measures[key][0]
            m = self.measures.get(key)
            return self.schema.parsed_measure(m) if m is not None else None

        def table_of(name: str | None):
            t = self.model.table(name) if name else None
            return t.name if t is not None else None

        checker = Strictness(body, table_of)
        found = {checker.scalar(e) for e in exprs}
        if len(found) != 1 or None in found:
            return None
        return self.model.table(found.pop())

    def _fact_cells(self, fact, level: list[ColKey], ctx: Ctx, alias: str) -> CellScope | None:
        """Cells = the key combinations that exist in the fact table (every measure is
        BLANK elsewhere), as a GROUP BY that the fact aggregates of the visual fuse into."""
        if fact is None:
            return None
        rels = ctx.rels or self.base_rels()
        if crosses(self.model, rels):
            return None
        # a table with a blank row (a one side with unmatched keys) has that row in VALUES
        # even when no real row is visible: an iterator over it is not BLANK there, so the
        # blank combination is a cell too (as in the cross join of the dimensions)
        scan = Scan(self, fact, rels, blank=self.has_blank_row(fact.name))
        if not all(scan.has(k) for k in level):
            return None
        names = {k: f"k{i}" for i, k in enumerate(level)}
        sel = scan.build(exp.select(*[exp.alias_(scan.col(k), names[k]) for k in level],
                                    exp.alias_(exp.Count(this=exp.Star()), "v")), self.where_for(scan, ctx))
        sel = sel.group_by(*[exp.Literal.number(i + 1) for i in range(len(level))], copy=False)
        scope = CellScope(alias, names, domain=True)
        scope.add(alias, sel, tuple(level))
        return scope

    def fn_IGNORE(self, call, env):
        raise self.err(env, call, "IGNORE can only wrap a SUMMARIZECOLUMNS expression")

    def fn_ROLLUPADDISSUBTOTAL(self, call, env):
        raise self.err(env, call, "ROLLUPADDISSUBTOTAL can only be a SUMMARIZECOLUMNS argument")

    def fn_ROLLUPGROUP(self, call, env):
        raise self.unsupported(env, call, "ROLLUPGROUP outside ROLLUPADDISSUBTOTAL in SUMMARIZECOLUMNS")
