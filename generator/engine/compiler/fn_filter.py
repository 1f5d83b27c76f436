"""FILTER: a table's rows for which a predicate holds, in each row's context.

For grouped evaluation the predicate is kept on the `Rel` (`Rel.preds`) rather than
applied at once, and VARs of the predicate that read only the row are hoisted so that
they are computed once per row, not once per (row, cell).
"""
from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.compile_types import Env, Rel, RelCol, Row
from generator.engine.compiler.core import CellScope, CompilerCore
from generator.engine.context import CellFilter, EqFilter, Scan, and_all
from generator.engine.values import Scalar, truthy


class FilterFns(CompilerCore):
    """Mixin for `Compiler`: FILTER."""

    # ------------------------------------------------------------ FILTER

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


def _correlated(f) -> bool:
    """A filter holding values of an outer row (a cell, or a transitioned row)."""
    return isinstance(f, CellFilter) or (isinstance(f, EqFilter) and any(
        v.find(exp.Column) is not None for v in f.values))


def _reads_only(sql: exp.Expression, alias: str) -> bool:
    """Does `sql` refer to no table alias it does not define, other than `alias`?"""
    defined = {a.name for a in sql.find_all(exp.TableAlias)} | {t.alias_or_name for t in sql.find_all(exp.Table)}
    return all(not c.table or c.table in defined or c.table == alias for c in sql.find_all(exp.Column))
