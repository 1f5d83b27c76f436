"""CALCULATE's filter arguments: Boolean filters, table filters and the modifiers (ALL,
REMOVEFILTERS, ALLEXCEPT, ALLSELECTED, USERELATIONSHIP, CROSSFILTER), and the order in which
they make the new filter context (dax-semantics.md §5.1).

Mixed into `CompilerCore`; CALCULATE/CALCULATETABLE themselves are handlers elsewhere
(generator.engine.compiler.fn_calculate) and call `filter_args` / `apply_filters`.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterable

from sqlglot import exp

from generator.dax import ast as A
from generator.dax.catalog import lookup
from generator.engine.compiler.compile_types import Env, Rel
from generator.engine.context import ColKey, Ctx, Filter, PredFilter, RowsFilter, Scan, TableFilter
from generator.engine.data import fn
from generator.engine.values import Scalar, truthy


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


class FilterArgs:
    """Mixin for `CompilerCore`: CALCULATE filter arguments and modifiers (uses the core's helpers)."""


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
        # USERELATIONSHIP and CROSSFILTER: engine.relationships
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
