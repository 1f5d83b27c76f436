"""CALCULATE, CALCULATETABLE and KEEPFILTERS: the expression (or table) evaluated in the
filter context its filter arguments make (dax-semantics.md §5).

The arguments themselves — Boolean and table filters, ALL/REMOVEFILTERS/USERELATIONSHIP…
as modifiers, and the order they apply in — are compiled by `filter_args.FilterArgs`.
"""
from __future__ import annotations

from generator.engine.compiler.core import CompilerCore


class CalculateFns(CompilerCore):
    """Mixin for `Compiler`: CALCULATE, CALCULATETABLE, KEEPFILTERS."""

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
