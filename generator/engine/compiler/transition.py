"""Measure references and context transition: `[M]` is its body compiled as
CALCULATE(<body>) — every row context not yet transitioned becomes filters (dax-semantics.md
§7) — with the calculation-group hooks around it; calculated columns are the same
transition, row by row.

Mixed into `CompilerCore`; the calculation-group hooks are overridden by
`generator.engine.compiler.fn_calc_groups`.
"""
from __future__ import annotations

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.compile_types import Env, Source
from generator.engine.context import CellFilter, Ctx, EqFilter
from generator.engine.data import ident
from generator.engine.types import MODEL_TYPES, DaxType, sql_type
from generator.engine.values import Scalar, cast
from generator.spec.model import Table


class MeasureRefs:
    """Mixin for `CompilerCore`: measure references, context transition (uses the core's helpers)."""


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
        (generator.engine.compiler.fn_calc_groups)."""
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
