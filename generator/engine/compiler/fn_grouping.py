"""Grouping table functions: GROUPBY/CURRENTGROUP, SUMMARIZE with ROLLUP (ISSUBTOTAL,
ROLLUP, ROLLUPISSUBTOTAL) and ADDMISSINGITEMS.

Each handler follows the function's page on dax.guide / learn.microsoft.com (cited in the
docstrings); the tests in tests/engine/test_fn_tables2.py check them on hand-worked data.

Markers that only mean something inside another function travel in `Env.vars` under keys
no DAX variable can spell (they start with NUL): CURRENTGROUP() is the current group's rows
inside GROUPBY, ISSUBTOTAL reads which columns the current SUMMARIZE/ROLLUP level rolled up.
"""
from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.compile_types import Env, Rel, RelCol
from generator.engine.context import ColKey, EqFilter, and_all, not_distinct
from generator.engine.data import fn
from generator.engine.compiler.fn_table_builders import TableBuilderFns
from generator.engine.sql import union_all, wrap_select
from generator.engine.types import DaxType, sql_type
from generator.engine.values import Scalar, cast, lit

N = exp.Literal.number
CURRENT_GROUP = "\x00currentgroup"
SUBTOTAL = "\x00subtotal"


def _one_row() -> Rel:
    """A table of one row and no columns (the grand-total level of a ROLLUP)."""
    return Rel((), exp.select(exp.alias_(N(1), "one")))


class GroupingFns(TableBuilderFns):
    """Mixin for `Compiler`: GROUPBY, SUMMARIZE with ROLLUP, ADDMISSINGITEMS; plain SUMMARIZE is
    TableBuilderFns'."""

    # ------------------------------------------------------------ GROUPBY / CURRENTGROUP

    def _split_groups(self, env: Env, args) -> tuple[list[A.Expr], list[A.Expr]]:
        groups, pairs = [], []
        for a in args:
            if pairs or isinstance(a, A.String):
                pairs.append(a)
            else:
                groups.append(a)
        return groups, pairs

    def _groups_of(self, call, env: Env, table_node: A.Expr, groups: list[A.Expr]) -> Rel:
        """The distinct values of `groups` over the rows of the table (SUMMARIZE without
        expressions), or one row when there are no group columns."""
        if not groups:
            return _one_row()
        return TableBuilderFns.fn_SUMMARIZE(self, A.FunctionCall("SUMMARIZE", (table_node, *groups), span=call.span), env)

    def fn_GROUPBY(self, call, env):
        """GROUPBY(T, col…, name, expr…): the distinct group values; each expression is an
        X-aggregation over CURRENTGROUP(), the group's rows of T. No context transition
        happens (dax.guide/groupby; learn.microsoft.com/dax/groupby-function-dax)."""
        args = self.args(call, env, 1, -1)
        groups, pairs = self._split_groups(env, args[1:])
        keys = [self.colref(env, g) for g in groups]
        rel = self.table(args[0], env)
        if rel.preds:
            rel = self.apply_preds(rel)
        out = self._groups_of(call, env, args[0], groups)
        if not pairs:
            return out

        def group_env(inner: Env) -> Env:
            values = [inner.rows[-1].cols[k] for k in keys]
            return replace(inner, vars={**inner.vars, CURRENT_GROUP: self._group_rows(call, inner, rel, keys, values)})

        return self._new_columns(call, env, tuple(pairs), out, True, row_env=group_env)

    def _group_rows(self, call, env: Env, rel: Rel, keys: list[ColKey], values: list[Scalar]) -> Rel:
        """The rows of `rel` whose group columns equal `values` (BLANK equals BLANK)."""
        if rel.select is None:
            base_filter = rel.row_filter

            def row_filter(scan):
                conds = [base_filter(scan) if base_filter else None]
                conds += [not_distinct(scan.col(k), v.sql) for k, v in zip(keys, values)]
                return and_all(conds)

            # ctx=None: grouped evaluation must not replace this row filter by the context's
            return replace(rel, row_filter=row_filter, ctx=None, col_keys=None)
        for k in keys:
            if k not in [c.key for c in rel.cols]:
                raise self.err(env, call, f"GROUPBY: column '{k[0]}'[{k[1]}] is not a column of the table")

        def where(inner: Env) -> exp.Expression:
            row = inner.rows[-1]
            return and_all(not_distinct(row.cols[k].sql, v.sql) for k, v in zip(keys, values))

        sel = self.over(rel, env, lambda inner: [exp.alias_(inner.rows[-1].names[c.name.lower()].sql, c.sql)
                                                 for c in rel.cols], where)
        return Rel(rel.cols, sel)

    def fn_CURRENTGROUP(self, call, env):
        self.args(call, env, 0)
        rel = env.vars.get(CURRENT_GROUP)
        if rel is None:
            raise self.err(env, call, "CURRENTGROUP can only be used in an expression of GROUPBY")
        return rel

    # ------------------------------------------------------------ SUMMARIZE with ROLLUP

    def fn_SUMMARIZE(self, call, env):
        """SUMMARIZE(T, col…, ROLLUP(col | ROLLUPGROUP(col…), …), name, expr…): one level per
        prefix of the ROLLUP columns, rolled-up columns BLANK; ISSUBTOTAL(col) is TRUE on
        the levels that rolled `col` up (learn.microsoft.com/dax/summarize-function-dax,
        dax.guide/rollup, dax.guide/rollupgroup, dax.guide/issubtotal)."""
        rollups = [a for a in call.args[1:] if isinstance(a, A.FunctionCall) and a.name in ("ROLLUP", "ROLLUPGROUP")]
        if not rollups:
            return super().fn_SUMMARIZE(call, env)
        args = self.args(call, env, 2, -1)
        plain: list[A.Expr] = []
        units: list[tuple[A.Expr, ...]] = []
        order: list[A.Expr] = []  # every group column in argument order
        pairs: list[A.Expr] = []
        for a in args[1:]:
            if pairs or isinstance(a, A.String):
                pairs.append(a)
            elif isinstance(a, A.FunctionCall) and a.name == "ROLLUPGROUP":
                raise self.err(env, a, "ROLLUPGROUP can only be used inside ROLLUP in SUMMARIZE")
            elif isinstance(a, A.FunctionCall) and a.name == "ROLLUP":
                if units:
                    raise self.err(env, a, "SUMMARIZE takes one ROLLUP")
                for sub in self.args(a, env, 1, -1):
                    if isinstance(sub, A.FunctionCall) and sub.name == "ROLLUPGROUP":
                        unit = self.args(sub, env, 1, -1)
                    else:
                        unit = (sub,)
                    units.append(tuple(unit))
                    order.extend(unit)
            else:
                if units:
                    raise self.err(env, a, "SUMMARIZE: group columns must come before ROLLUP")
                plain.append(a)
                order.append(a)
        keys = [self.colref(env, c) for c in order]
        rows_filter = self.rel_filter(self.table(args[0], env), env, args[0])
        parts, types = [], None
        for cut in range(len(units), -1, -1):
            level = plain + [c for unit in units[:cut] for c in unit]
            rolled = frozenset(self.colref(env, c) for unit in units[cut:] for c in unit)
            rel = self._summarize_level(call, env, args[0], level, pairs, rolled, rows_filter)
            alias = self.new_alias()
            by_key = {c.key: c for c in rel.cols[:len(level)]}
            outs = []
            for i, k in enumerate(keys):
                c = by_key.get(k)
                value = exp.column(c.sql, alias) if c is not None else exp.cast(exp.null(), sql_type(self.col_type(k)))
                outs.append(exp.alias_(value, f"c{i}"))
            ext = rel.cols[len(level):]
            if types is None:
                types = [c.type for c in ext]
            outs += [exp.alias_(cast(Scalar(exp.column(c.sql, alias), c.type), t).sql, f"n{j}")
                     for j, (c, t) in enumerate(zip(ext, types))]
            parts.append(exp.select(*outs).from_(self.rel_select(rel).subquery(alias, copy=True)))
        cols = [RelCol(f"{k[0]}[{k[1]}]", f"c{i}", k, self.col_type(k)) for i, k in enumerate(keys)]
        names = [p.value for p in pairs[::2]]
        cols += [RelCol(n, f"n{j}", None, t) for j, (n, t) in enumerate(zip(names, types or []))]
        return Rel(tuple(cols), wrap_select(union_all(parts), self.new_alias()))

    def _summarize_level(self, call, env: Env, table_node, level, pairs, rolled, rows_filter) -> Rel:
        """One ROLLUP level: the group rows, each expression in a filter context holding
        the group's rows of T (as SUMMARIZE does) with ISSUBTOTAL knowing `rolled`."""
        keys = [self.colref(env, c) for c in level]
        out = self._groups_of(call, env, table_node, level)
        env = replace(env, vars={**env.vars, SUBTOTAL: rolled})
        if not pairs:
            return out

        def group_env(inner: Env) -> Env:
            row = inner.rows[-1]
            ctx = self.transition(replace(inner, rows=inner.rows[:-1]))
            ctx = ctx.remove(rows_filter.keys() | frozenset(keys)).add(rows_filter)
            if keys:
                ctx = ctx.add(EqFilter(tuple(keys), tuple(row.cols[k].sql for k in keys)))
            return inner.inside_calculate(ctx)

        return self._new_columns(call, env, tuple(pairs), out, True, row_env=group_env)

    def fn_ISSUBTOTAL(self, call, env):
        (arg,) = self.args(call, env, 1)
        key = self.colref(env, arg)
        rolled = env.vars.get(SUBTOTAL)
        if rolled is None:
            raise self.err(env, call, "ISSUBTOTAL can only be used in an expression of SUMMARIZE with ROLLUP")
        return lit(key in rolled)

    def fn_ROLLUP(self, call, env):
        raise self.err(env, call, "ROLLUP can only be used as an argument of SUMMARIZE")

    def fn_ROLLUPISSUBTOTAL(self, call, env):
        raise self.err(env, call, "ROLLUPISSUBTOTAL can only be used as an argument of ADDMISSINGITEMS")

    # ------------------------------------------------------------ ADDMISSINGITEMS

    def fn_ADDMISSINGITEMS(self, call, env):
        """ADDMISSINGITEMS(showAll col…, T, group col… | ROLLUPISSUBTOTAL(col, [isSubtotal]…)):
        T plus one row, other columns BLANK, for every combination of the show-all columns'
        values (in the filter context) that no detail row of T has; subtotal rows are
        kept as they are (dax.guide/addmissingitems, dax.guide/rollupissubtotal)."""
        args = self.args(call, env, 2, -1)
        show: list[ColKey] = []
        i = 0
        while i < len(args) and self._is_model_col(args[i]):
            show.append(self.colref(env, args[i]))
            i += 1
        if i >= len(args) or not self.is_table_expr(args[i], env):
            raise self.err(env, call, "ADDMISSINGITEMS needs a table after its show-all columns")
        rel = self.table(args[i], env)
        flags: list[str] = []
        for a in args[i + 1:]:
            if self._is_model_col(a):
                continue  # a grouping column: its values come from T's own rows
            if isinstance(a, A.FunctionCall) and a.name == "ROLLUPISSUBTOTAL":
                flags.extend(self._subtotal_flags(a, env))
            elif self.is_table_expr(a, env):
                raise self.unsupported(env, a, "ADDMISSINGITEMS with filter tables")
            else:
                raise self.err(env, a, "ADDMISSINGITEMS: a column, ROLLUPISSUBTOTAL or a filter table is expected here")
        by_key = {c.key: c for c in rel.cols if c.key is not None}
        by_name = {c.name.lower(): c for c in rel.cols}
        for k in show:
            if k not in by_key:
                raise self.err(env, call, f"ADDMISSINGITEMS: '{k[0]}'[{k[1]}] is not a column of the table")
        flag_cols = []
        for f in flags:
            if f.lower() not in by_name:
                raise self.err(env, call, f"ADDMISSINGITEMS: the table has no column [{f}]")
            flag_cols.append(by_name[f.lower()])
        combos, names = self._show_values(show, env)
        t_alias, c_alias = self.new_alias(), self.new_alias()
        detail = and_all([not_distinct(exp.column(by_key[k].sql, t_alias), exp.column(names[k], c_alias)) for k in show]
                         + [exp.not_(fn("coalesce", exp.column(c.sql, t_alias), exp.false())) for c in flag_cols])
        exists = exp.Exists(this=exp.select(N(1)).from_(self.rel_select(rel).subquery(t_alias, copy=True)).where(detail))
        outs = []
        for c in rel.cols:
            if c.key in show:
                value = exp.column(names[c.key], c_alias)
            elif c in flag_cols:
                value = exp.false()
            else:
                value = exp.cast(exp.null(), sql_type(c.type)) if c.type is not DaxType.VARIANT else exp.null()
            outs.append(exp.alias_(value, c.sql))
        missing = exp.select(*outs).from_(combos.subquery(c_alias)).where(exp.not_(exists))
        ka = self.new_alias()
        kept = exp.select(*[exp.column(c.sql, ka) for c in rel.cols]).from_(self.rel_select(rel).subquery(ka, copy=True))
        return Rel(rel.cols, wrap_select(union_all([kept, missing]), self.new_alias()))

    def _is_model_col(self, node: A.Expr) -> bool:
        if not isinstance(node, A.ColumnRef) or node.table is None:
            return False
        t = self.model.table(node.table)
        return t is not None and t.column(node.column) is not None

    def _subtotal_flags(self, call: A.FunctionCall, env: Env) -> list[str]:
        """ROLLUPISSUBTOTAL([grandTotalFilter,] groupCol, isSubtotalCol [, [levelFilter,] …]):
        the names of the is-subtotal columns. Group-level filters are not supported."""
        args = list(call.args)
        names, filtered, i = [], False, 0
        while i < len(args):
            if not self._is_model_col(args[i]):
                filtered = True  # a grand-total / group-level filter
                i += 1
            if i >= len(args) or not self._is_model_col(args[i]):
                raise self.err(env, call, f"ROLLUPISSUBTOTAL expects a column name as argument {i + 1}")
            if i + 1 >= len(args) or not isinstance(args[i + 1], (A.BracketRef, A.ColumnRef)):
                raise self.err(env, call, f"ROLLUPISSUBTOTAL expects a column name as argument {i + 2}")
            flag = args[i + 1]
            names.append(flag.name if isinstance(flag, A.BracketRef) else flag.column)
            i += 2
        if filtered:
            raise self.unsupported(env, call, "ROLLUPISSUBTOTAL with a filter")
        return names

    def _show_values(self, show: list[ColKey], env: Env) -> tuple[exp.Select, dict[ColKey, str]]:
        """The existing combinations of the show-all columns of each table (in the filter
        context), cross-joined across tables."""
        tables: dict[str, list[ColKey]] = {}
        for k in show:
            tables.setdefault(k[0], []).append(k)
        names = {k: f"s{i}" for i, k in enumerate(show)}
        sel = None
        for tname, keys in tables.items():
            scan = self.scan(self.model.table(tname), env)
            sub = scan.build(exp.select(*[exp.alias_(scan.col(k), names[k]) for k in keys]).distinct(),
                             self.where_for(scan, env.ctx))
            a = self.new_alias()
            sel = exp.select().from_(sub.subquery(a)) if sel is None else sel.join(sub.subquery(a), join_type="CROSS")
        return sel.select(*[exp.column(names[k]) for k in show]), names
