"""Table functions and filter-context functions: CALCULATE, FILTER, VALUES, ALL, …

`Rel` values carry lineage so that they can filter (§5, §6, §8 of dax-semantics.md).
VALUES and ALL include the blank row of a dimension whose relationship has unmatched
keys; DISTINCT, ALLNOBLANKROW and a bare table reference do not (§6).
"""
from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.data import fn, table_ref
from generator.engine.compile_types import Env, Rel, RelCol, Row
from generator.engine.compiler import CellScope, CompilerCore
from generator.engine.dax_keywords import _enum, order_pairs
from generator.engine.context import CellFilter, Ctx, EqFilter, Scan, and_all
from generator.engine.data import ident
from generator.engine.types import DaxType, sql_type, unify
from generator.engine.values import Scalar, cast, compare, lit, truthy

N = exp.Literal.number
S = exp.Literal.string


class TableFns(CompilerCore):

    # ------------------------------------------------------------ CALCULATE

    def fn_CALCULATE(self, call, env):
        args = self.args(call, env, 1, -1)
        fns = self.filter_args(args[1:], env)
        ctx = self.apply_filters(env, fns)
        inner = self.reset_calculation_groups(env.ctx, ctx, env.inside_calculate(ctx))
        return self.guarded(self.scalar(args[0], inner), fns)

    def fn_CALCULATETABLE(self, call, env):
        args = self.args(call, env, 1, -1)
        fns = self.filter_args(args[1:], env)
        if any(k == "filter" and p[2] is not None for k, p in fns):
            raise self.unsupported(env, call, "CALCULATETABLE with a DATEADD/SAMEPERIODLASTYEAR filter")
        ctx = self.apply_filters(env, fns)
        return self.table(args[0], self.reset_calculation_groups(env.ctx, ctx, env.inside_calculate(ctx)))

    def fn_KEEPFILTERS(self, call, env):
        (arg,) = self.args(call, env, 1)
        return self.compile(arg, env)

    # ------------------------------------------------------------ column sets

    def _col_rel(self, keys: list, env: Env, ctx: Ctx | None, blank: bool) -> Rel:
        table = self.model.table(keys[0][0])
        if any(k[0] != table.name for k in keys):
            raise self.err(env, None, "all columns must come from the same table")
        scan = Scan(self, table, (ctx or env.ctx).rels or self.base_rels(), blank)
        outs = [exp.alias_(scan.col(k), f"c{i}") for i, k in enumerate(keys)]
        where = self.where_for(scan, ctx) if ctx is not None else None
        sel = scan.build(exp.select(*outs).distinct(), where)
        cols = tuple(RelCol(f"{k[0]}[{k[1]}]", f"c{i}", k, self.col_type(k)) for i, k in enumerate(keys))
        return Rel(cols, sel, blank=blank, rels=(ctx or env.ctx).rels, ctx=ctx, col_keys=tuple(keys))

    def _values(self, call, env, blank: bool):
        (arg,) = self.args(call, env, 1)
        if isinstance(arg, A.TableRef) and arg.name.lower() not in env.vars:
            return self.base_rel(self.resolve_table(env, arg, arg.name), env, blank=blank)
        if isinstance(arg, (A.TableRef, A.VarRef)) or self.is_table_expr(arg, env):
            rel = self.table(arg, env)
            return self._distinct_rel(rel, env)
        return self._col_rel([self.colref(env, arg)], env, env.ctx, blank)

    def _distinct_rel(self, rel: Rel, env: Env) -> Rel:
        sel = self.over(rel, env, lambda inner: [exp.alias_(inner.rows[-1].names[c.name.lower()].sql, c.sql)
                                                 for c in rel.cols], distinct=True)
        return Rel(rel.cols, sel)

    def fn_VALUES(self, call, env):
        return self._values(call, env, True)

    def fn_DISTINCT(self, call, env):
        return self._values(call, env, False)

    def _all(self, call, env, blank: bool):
        args = [a for a in call.args if not isinstance(a, A.EmptyArg)]
        if not args:
            raise self.err(env, call, f"{call.name}() without arguments can only be a CALCULATE filter")
        if len(args) == 1 and isinstance(args[0], A.TableRef):
            return self.base_rel(self.resolve_table(env, args[0], args[0].name), env, blank=blank, ctx=Ctx())
        return self._col_rel([self.colref(env, a) for a in args], env, Ctx(rels=env.ctx.rels), blank)

    def fn_ALL(self, call, env):
        return self._all(call, env, True)

    def fn_ALLNOBLANKROW(self, call, env):
        return self._all(call, env, False)

    def fn_REMOVEFILTERS(self, call, env):
        raise self.err(env, call, "REMOVEFILTERS can only be used as a CALCULATE filter argument")

    def fn_USERELATIONSHIP(self, call, env):
        # a modifier (compiler.modifier); as a value it is Power BI's error
        raise self.err(env, call, "USERELATIONSHIP can only be used as a CALCULATE/CALCULATETABLE filter argument")

    def fn_CROSSFILTER(self, call, env):
        raise self.err(env, call, "CROSSFILTER can only be used as a CALCULATE/CALCULATETABLE filter argument")

    def fn_ALLSELECTED(self, call, env):
        args = [a for a in call.args if not isinstance(a, A.EmptyArg)]
        mod = self.modifier(call, env)
        ctx = mod(env.ctx)
        if len(args) == 1 and isinstance(args[0], A.TableRef):
            return self.base_rel(self.resolve_table(env, args[0], args[0].name), env, blank=True, ctx=ctx)
        if not args:
            raise self.err(env, call, "ALLSELECTED() without arguments can only be a CALCULATE filter")
        return self._col_rel([self.colref(env, a) for a in args], env, ctx, True)

    def fn_ALLEXCEPT(self, call, env):
        args = self.args(call, env, 2, -1)
        mod = self.modifier(call, env)
        table = self.resolve_table(env, args[0], self._table_name(env, args[0]))
        return self.base_rel(table, env, blank=True, ctx=mod(env.ctx))

    # ------------------------------------------------------------ FILTER & co

    def fn_FILTER(self, call, env):
        t, pred = self.args(call, env, 2)
        rel = self.table(t, env)
        if rel.col_keys is not None and rel.ctx is env.ctx and self.grouped:
            # kept lazy: a grouped iteration applies it per (cell, value) row
            self._filter_rel(replace(rel, preds=()), pred, env)  # compile once: errors surface here
            return replace(rel, preds=(*rel.preds, (pred, env)))
        return self._filter_rel(rel, pred, env)

    def _filter_rel(self, rel: Rel, pred: A.Expr, env: Env) -> Rel:
        if rel.preds:
            rel = self.apply_preds(rel)
        if rel.select is None:
            inner_filter = rel.row_filter

            def row_filter(scan: Scan, inner_filter=inner_filter) -> exp.Expression:
                row = Row({c.key: Scalar(scan.col(c.key), c.type) for c in rel.cols},
                          {c.name.lower(): Scalar(scan.col(c.key), c.type) for c in rel.cols}, rel.base, scan)
                cond = truthy(self.scalar(pred, env.push(row)))
                return and_all([inner_filter(scan) if inner_filter else None, cond])

            self.rel_select(replace(rel, row_filter=row_filter, ctx=None))  # compile once: errors surface here
            return replace(rel, row_filter=row_filter, ctx=None)
        rel, pred_env = self._hoist_row_vars(rel, pred, env)
        sel = self.over(rel, env, lambda inner: [exp.alias_(inner.rows[-1].names[c.name.lower()].sql, c.sql)
                                                 for c in rel.cols if not c.name.startswith("\0")],
                        where=lambda inner: truthy(self.scalar(*pred_env(inner))))
        return Rel(tuple(c for c in rel.cols if not c.name.startswith("\0")), sel)

    def _hoist_row_vars(self, rel: Rel, pred: A.Expr, env: Env):
        """`FILTER(T, VAR x = <expr of T's row only> RETURN <condition>)`: compute x as a
        column of T (`SELECT T.*, x FROM T`) before the condition reads it.

        x is then evaluated once per row of T, however often the condition uses it, and
        when the condition also reads an outer row (Customers in Band: `x >= lowest`, the
        band's column) x stays outside the correlation with that row, so it is not
        recomputed per outer row. Returns the relation to iterate and a function giving
        (body, env) for the condition in its row context."""
        plain = (lambda inner: (pred, inner))
        if not isinstance(pred, A.VarBlock) or not self.grouped:
            return rel, plain
        alias = self.new_alias()
        inner = env.push(self.row_of(rel, alias))
        vars_, hoisted = dict(env.vars), {}
        for name, expr in pred.vars:
            value = self.compile(expr, replace(inner, vars=vars_))
            vars_[name.lower()] = value
            if isinstance(value, Scalar) and isinstance(value.sql, exp.Subquery) and _reads_only(value.sql, alias):
                hoisted[name.lower()] = value
        if not hoisted:
            return rel, plain
        grouped = self._grouped_row_vars(rel, pred, env, hoisted)
        if grouped is not None:
            return grouped
        cols = list(rel.cols)
        outs = [exp.alias_(exp.column(c.sql, alias), c.sql) for c in rel.cols]
        names = {}
        for i, (name, value) in enumerate(hoisted.items()):
            names[name] = f"\0{name}"
            cols.append(RelCol(names[name], f"h{i}", None, value.type))
            outs.append(exp.alias_(value.sql, f"h{i}"))
        sel = exp.select(*outs).from_(self.rel_select(rel).subquery(alias, copy=True))
        rest = tuple(v for v in pred.vars if v.name.lower() not in hoisted)

        def pred_env(row_env: Env):
            row = row_env.rows[-1]
            bound = dict(row_env.vars)
            bound.update({n: row.names[names[n].lower()] for n in hoisted})
            body = A.VarBlock(vars=rest, body=pred.body, span=pred.span) if rest else pred.body
            return body, replace(row_env, vars=bound)

        return Rel(tuple(cols), sel), pred_env

    def _grouped_row_vars(self, rel: Rel, pred: A.VarBlock, env: Env, hoisted: dict):
        """The hoisted VARs of a FILTER over VALUES(col) for all values at once: one
        `GROUP BY col` over col's table holds the values and, fused into it, the VARs'
        aggregates (a nested cell scope whose cells are the values, see `_scope_leaf`).

        Only used when the VARs read nothing but the row (checked by the caller on their
        per-row form), so filters holding outer rows' values were inert for them and are
        left out here; the result must not refer to any outer row either, else None."""
        if rel.col_keys is None or rel.ctx is not env.ctx or rel.preds or rel.select is None:
            return None
        if not _reads_only(rel.select, ""):  # the values themselves depend on an outer row
            return None
        keys = list(rel.col_keys)
        table = self.model.table(keys[0][0])
        ctx = replace(env.ctx, filters=tuple(f for f in env.ctx.filters if not _correlated(f)))
        scan = Scan(self, table, ctx.rels or self.base_rels(), rel.blank)
        names = {k: f"k{i}" for i, k in enumerate(keys)}
        domain = scan.build(exp.select(*[exp.alias_(scan.col(k), names[k]) for k in keys],
                                       exp.alias_(exp.Count(this=exp.Star()), "v")), self.where_for(scan, ctx))
        domain = domain.group_by(*[exp.Literal.number(i + 1) for i in range(len(keys))], copy=False)
        alias = self.new_alias()
        scope = CellScope(alias, names, domain=True)
        scope.add(alias, domain, tuple(keys))
        ctx = ctx.remove(keys)
        for k in keys:
            ctx = ctx.add(CellFilter((k,), (exp.column(names[k], alias),), None, scope))
        cols = {k: Scalar(exp.column(names[k], alias), self.col_type(k)) for k in keys}
        row = Row(cols, {c.name.lower(): cols[c.key] for c in rel.cols}, None, None, scope)
        inner = Env(ctx=ctx, rows=(row,), vars=dict(env.vars), src=env.src, stack=env.stack, scope=scope)
        values = {}
        for name, expr in pred.vars:
            if name.lower() not in hoisted:
                continue
            value = self.compile(expr, inner)
            if not isinstance(value, Scalar):
                return None
            values[name.lower()] = value
            inner = replace(inner, vars={**inner.vars, name.lower(): value})
        by_key = {c.key: c for c in rel.cols}
        sel = scope.from_clause().select(*[exp.alias_(exp.column(names[k], alias), by_key[k].sql) for k in keys])
        out_cols = [by_key[k] for k in keys]
        for i, (name, value) in enumerate(values.items()):
            sel = sel.select(exp.alias_(value.sql, f"h{i}"))
            out_cols.append(RelCol(f"\0{name}", f"h{i}", None, value.type))
        if len(by_key) != len(keys) or not _reads_only(sel, ""):
            return None
        rest = tuple(v for v in pred.vars if v.name.lower() not in hoisted)

        def pred_env(row_env: Env):
            row = row_env.rows[-1]
            bound = {**row_env.vars, **{n: row.names[f"\0{n}"] for n in values}}
            body = A.VarBlock(vars=rest, body=pred.body, span=pred.span) if rest else pred.body
            return body, replace(row_env, vars=bound)

        return Rel(tuple(out_cols), sel), pred_env

    def _new_columns(self, call, env, pairs, rel: Rel, keep: bool, row_env=None) -> Rel:
        """ADDCOLUMNS/SELECTCOLUMNS: name/expression pairs evaluated per row of `rel`, in
        its row context, or in the environment `row_env` makes of it (SUMMARIZE)."""
        if len(pairs) % 2:
            raise self.err(env, call, f"{call.name} expects name/expression pairs")
        names = []
        for i in range(0, len(pairs), 2):
            if not isinstance(pairs[i], A.String):
                raise self.err(env, pairs[i], "a column name (a string literal) is expected here")
            names.append(pairs[i].value)
        out_cols: list[RelCol] = list(rel.cols) if keep else []
        types: list[DaxType] = []
        keys: list = []

        def project(inner: Env) -> list[exp.Expression]:
            outs = [exp.alias_(inner.rows[-1].names[c.name.lower()].sql, c.sql) for c in rel.cols] if keep else []
            where = row_env(inner) if row_env is not None else inner
            for j, i in enumerate(range(1, len(pairs), 2)):
                node = pairs[i]
                v = self.scalar(node, where)
                types.append(v.type)
                key = None
                if isinstance(node, A.ColumnRef) and node.table is not None and self.model.table(node.table):
                    key = self.resolve_col(env, node, node.table, node.column)
                keys.append(key)
                outs.append(exp.alias_(v.sql, f"n{j}"))
            return outs

        sel = self.over(rel, env, project)
        for j, name in enumerate(names):
            out_cols.append(RelCol(name, f"n{j}", keys[j], types[j]))
        return Rel(tuple(out_cols), sel)

    def fn_ADDCOLUMNS(self, call, env):
        args = self.args(call, env, 3, -1)
        return self._new_columns(call, env, args[1:], self.table(args[0], env), True)

    def fn_SELECTCOLUMNS(self, call, env):
        args = self.args(call, env, 1, -1)
        rel = self.table(args[0], env)
        pairs: list[A.Expr] = []
        for a in args[1:]:
            if isinstance(a, A.ColumnRef) and (not pairs or not isinstance(pairs[-1], A.String)):
                pairs.extend([A.String(a.column, span=a.span), a])
            else:
                pairs.append(a)
        return self._new_columns(call, env, tuple(pairs), rel, False)

    def fn_SUMMARIZE(self, call, env):
        """SUMMARIZE(T, group columns…, name, expression, …): the distinct group values of
        T's rows; each expression is evaluated, like CALCULATE, in a filter context holding
        the group's rows of T (T as a table filter, the group values as equality filters)
        (learn.microsoft.com/dax/summarize-function-dax; SQLBI, "All the secrets of
        SUMMARIZE": a filter on T's rows, not only on the group columns)."""
        args = self.args(call, env, 1, -1)
        groups, pairs = [], []
        for a in args[1:]:
            if pairs or isinstance(a, A.String):
                pairs.append(a)
                continue
            if isinstance(a, A.FunctionCall) and a.name in ("ROLLUP", "ROLLUPGROUP"):
                raise self.unsupported(env, a, f"SUMMARIZE with {a.name}")
            groups.append(self.colref(env, a))
        rel = self.table(args[0], env)
        if rel.select is None:
            scan = Scan(self, rel.base, rel.rels or self.base_rels(), rel.blank)
            for k in groups:
                if not scan.has(k):
                    raise self.err(env, call, f"SUMMARIZE: column '{k[0]}'[{k[1]}] is not reachable from '{rel.base.name}'")
            outs = [exp.alias_(scan.col(k), f"c{i}") for i, k in enumerate(groups)]
            sel = scan.build(exp.select(*outs).distinct(), rel.row_filter(scan) if rel.row_filter else None)
        else:
            sel = self.over(rel, env, lambda inner: [exp.alias_(self.column_value(k, inner, call).sql, f"c{i}")
                                                     for i, k in enumerate(groups)], distinct=True)
        cols = tuple(RelCol(f"{k[0]}[{k[1]}]", f"c{i}", k, self.col_type(k)) for i, k in enumerate(groups))
        out = Rel(cols, sel)
        if not pairs:
            return out
        if not groups:
            raise self.err(env, call, "SUMMARIZE needs a group-by column before its name/expression columns")
        rows_filter = self.rel_filter(rel, env, args[0])

        def group_env(inner: Env) -> Env:
            row = inner.rows[-1]
            ctx = self.transition(replace(inner, rows=inner.rows[:-1]))
            ctx = ctx.remove(rows_filter.keys() | frozenset(groups)).add(rows_filter)
            ctx = ctx.add(EqFilter(tuple(groups), tuple(row.cols[k].sql for k in groups)))
            return inner.inside_calculate(ctx)

        return self._new_columns(call, env, tuple(pairs), out, True, row_env=group_env)

    def fn_TOPN(self, call, env):
        args = self.args(call, env, 2, -1)
        n = self.scalar(args[0], env)
        rel = self.table(args[1], env)
        orders = order_pairs(list(args[2:]), default_desc=True)  # TOPN sorts descending

        def project(inner: Env) -> list[exp.Expression]:
            outs = [exp.alias_(inner.rows[-1].names[c.name.lower()].sql, c.sql) for c in rel.cols]
            for i, (e, _) in enumerate(orders):
                outs.append(exp.alias_(self.scalar(e, inner).sql, f"o{i}"))
            return outs

        sel = self.over(rel, env, project)
        alias = self.new_alias()
        if orders:
            window = exp.Window(this=fn("rank"), order=exp.Order(expressions=[
                exp.Ordered(this=exp.column(f"o{i}", alias), desc=d, nulls_first=not d) for i, (_, d) in enumerate(orders)]))
        else:
            window = exp.Window(this=fn("row_number"))
        ranked = exp.select(*[exp.column(c.sql, alias) for c in rel.cols], exp.alias_(window, "rk")).from_(
            sel.subquery(alias))
        alias2 = self.new_alias()
        top = exp.select(*[exp.column(c.sql, alias2) for c in rel.cols]).from_(ranked.subquery(alias2)).where(
            exp.LTE(this=exp.column("rk", alias2), expression=n.sql))
        return Rel(rel.cols, top, rows_of=rel.base.name if rel.base is not None else rel.rows_of)

    def fn_TREATAS(self, call, env):
        args = self.args(call, env, 2, -1)
        rel = self.table(args[0], env)
        keys = [self.colref(env, a) for a in args[1:]]
        if len(keys) != len(rel.cols):
            raise self.err(env, call, "TREATAS needs one target column per column of the table")
        alias = self.new_alias()
        # values take the target column's type (TREATAS({"2024-01-02"}, 'Date'[Date])), and
        # text values the column's own spelling: DAX matches "oslo" to "Oslo"
        outs = []
        for i, (k, c) in enumerate(zip(keys, rel.cols)):
            value = cast(Scalar(exp.column(c.sql, alias), c.type), self.col_type(k)).sql
            if self.col_type(k) is DaxType.TEXT:
                value = self._column_spelling(k, value)
            outs.append(exp.alias_(value, f"c{i}"))
        sel = exp.select(*outs).from_(self.rel_select(rel).subquery(alias, copy=True))
        cols = tuple(RelCol(f"{k[0]}[{k[1]}]", f"c{i}", k, self.col_type(k)) for i, k in enumerate(keys))
        return Rel(cols, sel)

    def _column_spelling(self, key, value: exp.Expression) -> exp.Expression:
        """The spelling `key`'s column uses for a text value that equals `value` ignoring
        case (the column holds one spelling per value, see data.py), else `value`."""
        a = self.new_alias()
        col = exp.column(key[1], a, quoted=True)
        found = exp.select(exp.Min(this=col)).from_(table_ref(key[0], a)).where(
            exp.EQ(this=exp.Lower(this=col.copy()), expression=exp.Lower(this=value.copy())))
        return fn("coalesce", exp.Subquery(this=found), value)

    def fn_ROW(self, call, env):
        args = self.args(call, env, 2, -1)
        if len(args) % 2:
            raise self.err(env, call, "ROW expects name/expression pairs")
        outs, cols = [], []
        scope = None
        if self.grouped and env.scope is None and not env.rows:
            # one cell without keys: aggregates become (fused) leaves joined to it
            scope = CellScope(self.new_alias(), {})
            env = replace(env, scope=scope)
        for j, i in enumerate(range(0, len(args), 2)):
            if not isinstance(args[i], A.String):
                raise self.err(env, args[i], "a column name (a string literal) is expected here")
            v = self.scalar(args[i + 1], env)
            outs.append(exp.alias_(v.sql, f"n{j}"))
            cols.append(RelCol(args[i].value, f"n{j}", None, v.type))
        if scope is not None:
            source = exp.select(exp.alias_(exp.Literal.number(1), "one")).subquery(scope.alias)
            return Rel(tuple(cols), scope.from_clause(source).select(*outs))
        return Rel(tuple(cols), exp.select(*outs))

    def fn_DATATABLE(self, call, env):
        args = self.args(call, env, 3, -1)
        *spec, data = args
        if len(spec) % 2 or not isinstance(data, A.TableConstructor):
            raise self.err(env, call, "DATATABLE expects name/type pairs and a table constructor")
        types = {"INTEGER": DaxType.INT, "DOUBLE": DaxType.DOUBLE, "STRING": DaxType.TEXT, "BOOLEAN": DaxType.BOOL,
                 "CURRENCY": DaxType.CURRENCY, "DATETIME": DaxType.DATETIME}
        names, ts = [], []
        for i in range(0, len(spec), 2):
            names.append(spec[i].value)
            ts.append(types[_enum(spec[i + 1])])
        selects = []
        for row in data.rows:
            if len(row) == 1 and isinstance(row[0], A.TableConstructor):
                # DATATABLE rows are written in braces, { {1, "a"}, {2, "b"} }: the parser
                # reads each as a one-column table constructor, whose values are the row
                row = tuple(v for r in row[0].rows for v in r)
            if len(row) != len(ts):
                raise self.err(env, data, f"DATATABLE declares {len(ts)} column(s) but a row has {len(row)} value(s)")
            vals = [cast(self.scalar(v, env), t) for v, t in zip(row, ts)]
            selects.append(exp.select(*[exp.alias_(exp.cast(v.sql, sql_type(t)), f"c{i}") for i, (v, t) in enumerate(zip(vals, ts))]))
        union = selects[0]
        for s in selects[1:]:
            union = exp.union(union, s, distinct=False)
        sel = exp.select(exp.Star()).from_(exp.Subquery(this=union, alias=exp.TableAlias(this=ident(self.new_alias()))))
        return Rel(tuple(RelCol(n, f"c{i}", None, t) for i, (n, t) in enumerate(zip(names, ts))), sel)

    def fn_GENERATE(self, call, env):
        a, b = self.args(call, env, 2)
        left = self.table(a, env)
        alias = self.new_alias()
        row = self.row_of(left, alias)
        right = self.table(b, env.push(row))
        alias2 = self.new_alias()
        cols = [RelCol(c.name, f"l{i}", c.key, c.type) for i, c in enumerate(left.cols)]
        cols += [RelCol(c.name, f"r{i}", c.key, c.type) for i, c in enumerate(right.cols)]
        sel = exp.select(*[exp.alias_(exp.column(c.sql, alias), f"l{i}") for i, c in enumerate(left.cols)],
                         *[exp.alias_(exp.column(c.sql, alias2), f"r{i}") for i, c in enumerate(right.cols)]).from_(
            self.rel_select(left).subquery(alias, copy=True)).join(
            exp.Lateral(this=self.rel_select(right).subquery(copy=True), alias=exp.TableAlias(this=ident(alias2))),
            join_type="CROSS")
        return Rel(tuple(cols), sel)

    def fn_CROSSJOIN(self, call, env):
        args = self.args(call, env, 2, -1)
        rels = [self.table(a, env) for a in args]
        outs, cols, sel = [], [], None
        for j, rel in enumerate(rels):
            alias = self.new_alias()
            for i, c in enumerate(rel.cols):
                outs.append(exp.alias_(exp.column(c.sql, alias), f"x{j}_{i}"))
                cols.append(RelCol(c.name, f"x{j}_{i}", c.key, c.type))
            sub = self.rel_select(rel).subquery(alias, copy=True)
            sel = exp.select().from_(sub) if sel is None else sel.join(sub, join_type="CROSS")
        return Rel(tuple(cols), sel.select(*outs))

    def fn_UNION(self, call, env):
        args = self.args(call, env, 2, -1)
        rels = [self.table(a, env) for a in args]
        width = len(rels[0].cols)
        if any(len(r.cols) != width for r in rels):
            raise self.err(env, call, "UNION: every table needs the same number of columns")
        types = [unify([r.cols[i].type for r in rels]) for i in range(width)]
        parts = []
        for r in rels:
            alias = self.new_alias()
            parts.append(exp.select(*[exp.alias_(cast(Scalar(exp.column(c.sql, alias), c.type), types[i]).sql, f"c{i}")
                                      for i, c in enumerate(r.cols)]).from_(self.rel_select(r).subquery(alias, copy=True)))
        union = parts[0]
        for p in parts[1:]:
            union = exp.union(union, p, distinct=False)
        sel = exp.select(exp.Star()).from_(exp.Subquery(this=union, alias=exp.TableAlias(this=ident(self.new_alias()))))
        keys = [rels[0].cols[i].key if all(r.cols[i].key == rels[0].cols[i].key for r in rels) else None for i in range(width)]
        return Rel(tuple(RelCol(rels[0].cols[i].name, f"c{i}", keys[i], types[i]) for i in range(width)), sel)

    # ------------------------------------------------------------ relationships in row context

    def fn_RELATED(self, call, env):
        (arg,) = self.args(call, env, 1)
        key = self.colref(env, arg)
        for row in reversed(env.rows):
            if row.base is None:
                continue
            if row.scan is not None and row.scan.has(key):
                return Scalar(row.scan.col(key), self.col_type(key))
            probe = Scan(self, row.base, env.ctx.rels or self.base_rels())
            if not probe.has(key):
                continue
            # walk from the row's table to the target through many-to-one relationships
            path = []
            t = key[0].lower()
            while t != row.base.name.lower():
                parent, idx = probe.parent[t]
                path.append(self.model.relationships[idx])
                t = parent
            path.reverse()
            first = path[0]
            fk = row.cols.get((row.base.name, row.base.column(first.from_column).name))
            if fk is None:
                continue
            one = self.model.table(first.to_table)
            scan = Scan(self, one, env.ctx.rels or self.base_rels())
            cond = exp.EQ(this=scan.col((one.name, one.column(first.to_column).name)), expression=fk.sql)
            sel = scan.build(exp.select(scan.col(key)), cond)
            return Scalar(exp.Subquery(this=sel), self.col_type(key))
        raise self.err(env, call, f"RELATED: no row context on a table related to '{key[0]}'",
                       "RELATED needs an iterator (SUMX, FILTER, ...) over the many side")

    def fn_RELATEDTABLE(self, call, env):
        (arg,) = self.args(call, env, 1)
        table = self.resolve_table(env, arg, self._table_name(env, arg))
        return self.base_rel(table, env, ctx=self.transition(env))

    def fn_EARLIER(self, call, env):
        args = self.args(call, env, 1, 2)
        key = self.colref(env, args[0])
        n = int(args[1].value) if len(args) > 1 else 1
        return self.column_value(key, env, call, skip=n)

    def fn_EARLIEST(self, call, env):
        (arg,) = self.args(call, env, 1)
        key = self.colref(env, arg)
        for row in env.rows:
            if key in row.cols:
                return row.cols[key]
        raise self.err(env, call, "EARLIEST: no row context for this column")

    _LOOKUP_MANY = "LOOKUPVALUE: a table of multiple values was supplied where a single value was expected."

    def fn_LOOKUPVALUE(self, call, env):
        """The result column's value on the rows matching every search pair.

        learn.microsoft.com/dax/lookupvalue-function-dax: no row → alternateResult (else
        BLANK); several rows with one value (BLANK counts as a value) → that value; several
        values → alternateResult if given, else an error. The matches are summarised in one
        scan as (state, value), state 0 none / 1 one value / 2 several; the choice is made
        outside it, so alternateResult is evaluated in the caller's context."""
        args = self.args(call, env, 3, -1)
        result = self.colref(env, args[0])
        pairs = args[1:]
        alt = None
        if len(pairs) % 2:
            alt = self.scalar(pairs[-1], env)
            pairs = pairs[:-1]
        table = self.model.table(result[0])
        scan = Scan(self, table, env.ctx.rels or self.base_rels())
        conds = []
        for i in range(0, len(pairs), 2):
            k = self.colref(env, pairs[i])
            v = self.scalar(pairs[i + 1], env)
            conds.append(compare("=", Scalar(scan.col(k), self.col_type(k)), v).sql)
        r = scan.col(result)
        has_blank = exp.Max(this=exp.Case(ifs=[exp.If(this=r.copy().is_(exp.null()), true=N(1))], default=N(0)))
        distinct = exp.Add(this=exp.Count(this=exp.Distinct(expressions=[r.copy()])), expression=has_blank)
        state = exp.Case(ifs=[exp.If(this=exp.EQ(this=exp.Count(this=exp.Star()), expression=N(0)), true=N(0)),
                              exp.If(this=exp.GT(this=distinct, expression=N(1)), true=N(2))], default=N(1))
        sel = scan.build(exp.select(exp.alias_(state, "s"), exp.alias_(exp.Max(this=r.copy()), "v")), and_all(conds))
        t = self.col_type(result) if alt is None else unify([self.col_type(result), alt.type])
        alias = self.new_alias()
        found = cast(Scalar(exp.column("v", alias), self.col_type(result)), t).sql
        none = cast(alt, t).sql if alt is not None else exp.cast(exp.null(), sql_type(t))
        many = cast(alt, t).sql if alt is not None else exp.cast(fn("error", S(self._LOOKUP_MANY)), sql_type(t))
        s = exp.column("s", alias)
        pick = exp.Case(ifs=[exp.If(this=exp.EQ(this=s, expression=N(1)), true=found),
                             exp.If(this=exp.EQ(this=s.copy(), expression=N(2)), true=many)], default=none)
        return Scalar(exp.Subquery(this=exp.select(pick).from_(sel.subquery(alias))), t)

    # ------------------------------------------------------------ filter-context information

    def _values_col(self, env: Env, node: A.Expr):
        key = self.colref(env, node)
        return key, self._col_rel([key], env, env.ctx, True)

    def fn_HASONEVALUE(self, call, env):
        (arg,) = self.args(call, env, 1)
        key, rel = self._values_col(env, arg)
        alias = self.new_alias()
        sel = exp.select(exp.EQ(this=exp.Count(this=exp.Star()), expression=N(1))).from_(
            self.rel_select(rel).subquery(alias))
        return Scalar(exp.Subquery(this=sel), DaxType.BOOL, False)

    def fn_SELECTEDVALUE(self, call, env):
        args = self.args(call, env, 1, 2)
        key, rel = self._values_col(env, args[0])
        alt = self.scalar(args[1], env) if len(args) > 1 else lit(None)
        t = unify([self.col_type(key), alt.type])
        alias = self.new_alias()
        v = Scalar(exp.Max(this=exp.column("c0", alias)), self.col_type(key))
        pick = exp.Case(ifs=[exp.If(this=exp.EQ(this=exp.Count(this=exp.Star()), expression=N(1)), true=cast(v, t).sql)],
                        default=cast(alt, t).sql)
        sel = exp.select(pick).from_(self.rel_select(rel).subquery(alias))
        return Scalar(exp.Subquery(this=sel), t)

    def _direct_keys(self, env: Env):
        from generator.engine.context import TableFilter

        keys = set()
        for f in env.ctx.filters:
            if isinstance(f, TableFilter):
                keys |= {k for k in f.keys() if k[0] == f.base.name}
            else:
                keys |= f.keys()
        return keys

    def fn_ISFILTERED(self, call, env):
        (arg,) = self.args(call, env, 1)
        keys = self._direct_keys(env)
        if isinstance(arg, A.TableRef):
            t = self.resolve_table(env, arg, arg.name)
            return lit(any(k[0] == t.name for k in keys))
        return lit(self.colref(env, arg) in keys)

    def fn_ISCROSSFILTERED(self, call, env):
        (arg,) = self.args(call, env, 1)
        if isinstance(arg, A.TableRef):
            t = self.resolve_table(env, arg, arg.name)
        else:
            t = self.model.table(self.colref(env, arg)[0])
        scan = self.scan(t, env)
        return lit(self.where_for(scan, env.ctx) is not None)

    def fn_ISINSCOPE(self, call, env):
        (arg,) = self.args(call, env, 1)
        return lit(self.colref(env, arg) in env.ctx.scope)

    def fn_CONTAINSROW(self, call, env):
        args = self.args(call, env, 2, -1)
        return self.c_In(A.In(A.TupleExpr(tuple(args[1:])) if len(args) > 2 else args[1], args[0], span=call.span), env)

    def fn_FILTERS(self, call, env):
        (arg,) = self.args(call, env, 1)
        key = self.colref(env, arg)
        if key not in self._direct_keys(env):
            return self._col_rel([key], env, Ctx(rels=env.ctx.rels), True)
        return self._col_rel([key], env, Ctx(filters=tuple(f for f in env.ctx.filters if key in f.keys()),
                                             rels=env.ctx.rels), True)

    def fn_HASONEFILTER(self, call, env):
        """TRUE when the column is filtered directly and that filter leaves one value:
        COUNTROWS(FILTERS(col)) = 1 (dax.guide/HASONEFILTER). Unlike HASONEVALUE, a column
        reduced to one value only by cross-filtering (another column, a related table) is
        FALSE, and so is a column whose only value is unfiltered."""
        (arg,) = self.args(call, env, 1)
        key = self.colref(env, arg)
        if key not in self._direct_keys(env):
            return lit(False)
        rel = self._col_rel([key], env, Ctx(filters=tuple(f for f in env.ctx.filters if key in f.keys()),
                                            rels=env.ctx.rels), True)
        alias = self.new_alias()
        sel = exp.select(exp.EQ(this=exp.Count(this=exp.Star()), expression=N(1))).from_(
            self.rel_select(rel).subquery(alias))
        return Scalar(exp.Subquery(this=sel), DaxType.BOOL, False)

    def fn_NONVISUAL(self, call, env):
        raise self.err(env, call, "NONVISUAL can only wrap a SUMMARIZECOLUMNS filter argument")

    def fn_FIRSTNONBLANKVALUE(self, call, env):
        return self._nonblank_value(call, env, False)

    def fn_LASTNONBLANKVALUE(self, call, env):
        return self._nonblank_value(call, env, True)

    def _nonblank_value(self, call, env, last: bool):
        a, e = self.args(call, env, 2)
        key, rel = self._values_col(env, a)
        holder = []

        def project(inner: Env):
            # the expression is evaluated per value with context transition (an implicit CALCULATE)
            v = self.scalar(A.FunctionCall("CALCULATE", (e,), span=e.span), inner)
            holder.append(v.type)
            return [exp.alias_(inner.rows[-1].cols[key].sql, "k"), exp.alias_(v.sql, "v")]

        sel = self.over(rel, env, project)
        alias = self.new_alias()
        pick = exp.select(exp.column("v", alias)).from_(sel.subquery(alias)).where(
            exp.column("v", alias).is_(exp.null()).not_()).order_by(
            exp.Ordered(this=exp.column("k", alias), desc=last)).limit(1)
        return Scalar(exp.Subquery(this=pick), holder[0])


def _correlated(f) -> bool:
    """A filter holding values of an outer row (a cell, or a transitioned row)."""
    return isinstance(f, CellFilter) or (isinstance(f, EqFilter) and any(
        v.find(exp.Column) is not None for v in f.values))


def _reads_only(sql: exp.Expression, alias: str) -> bool:
    """Does `sql` refer to no table alias it does not define, other than `alias`?"""
    defined = {a.name for a in sql.find_all(exp.TableAlias)} | {t.alias_or_name for t in sql.find_all(exp.Table)}
    return all(not c.table or c.table in defined or c.table == alias for c in sql.find_all(exp.Column))
