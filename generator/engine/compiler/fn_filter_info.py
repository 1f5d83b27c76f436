"""Filter-context information: HASONEVALUE, SELECTEDVALUE, ISFILTERED, ISCROSSFILTERED,
ISINSCOPE, CONTAINSROW, FILTERS, HASONEFILTER, NONVISUAL and FIRST/LASTNONBLANKVALUE.

They inspect the current filter context (which columns are filtered, how many values
remain) instead of computing over rows.
"""
from __future__ import annotations

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.compile_types import Env
from generator.engine.compiler.core import CompilerCore
from generator.engine.context import Ctx
from generator.engine.types import DaxType, unify
from generator.engine.values import Scalar, cast, lit

N = exp.Literal.number


class FilterInfoFns(CompilerCore):
    """Mixin for `Compiler`: questions about the filter context."""

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
