"""Aggregations and iterators: SUM/SUMX, AVERAGE, MIN/MAX, COUNT*, DISTINCTCOUNT, MEDIAN,
PERCENTILE*, STDEV/VAR, PRODUCT, GEOMEAN, CONCATENATEX and RANKX.

Each handler is `fn_<NAME>(call, env) -> Scalar`. Aggregations return BLANK over no rows
(dax-semantics.md §2): SQL's SUM/MIN/MAX/AVG already give NULL, COUNT-style ones are
wrapped in NULLIF(…, 0). They all go through `agg_col`/`agg_x`, which hand the row
expression to the core's grouped evaluation (`CompilerCore.agg_over`).
"""
from __future__ import annotations

from typing import Callable

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.data import fn
from generator.engine.sql import data_type
from generator.engine.compiler.compile_types import Env
from generator.engine.compiler.core import CompilerCore, _outer_refs
from generator.engine.compiler.dax_keywords import _enum, _ENUM_ORDER, order_pairs
from generator.engine.types import DaxType, unify
from generator.engine.values import Scalar, blank_as_zero, cast, lit, number, to_text

N = exp.Literal.number
S = exp.Literal.string


def _nullif0(e: exp.Expression) -> exp.Expression:
    return fn("nullif", e, N(0))


def _sum_type(t: DaxType) -> DaxType:
    return DaxType.INT if t in (DaxType.BOOL, DaxType.BLANK) else t


def _sum_sql(v: exp.Expression, t: DaxType) -> exp.Expression:
    if t in (DaxType.INT, DaxType.BOOL):
        return exp.cast(exp.Sum(this=exp.cast(v, data_type("BIGINT"))), data_type("BIGINT"))
    if t is DaxType.CURRENCY:
        return exp.cast(exp.Sum(this=v), data_type("DECIMAL(38,4)"))
    return exp.Sum(this=exp.cast(v, data_type("DOUBLE")))


class AggregateFns(CompilerCore):
    """Mixin for `Compiler`: the aggregation and iterator functions."""

    # ------------------------------------------------------------ aggregation plumbing

    def agg_col(self, call: A.FunctionCall, env: Env, agg: Callable[[Scalar], exp.Expression],
                rtype: Callable[[DaxType], DaxType]) -> Scalar:
        arg = self.args(call, env, 1)[0]
        key = self.colref(env, arg)
        table = self.model.table(key[0])
        rel = self.base_rel(table, env)
        value = self.agg_over(rel, env, lambda inner: inner.rows[-1].cols[key], agg)
        return Scalar(value, rtype(self.col_type(key)))

    def agg_x(self, call: A.FunctionCall, env: Env, agg: Callable[[Scalar], exp.Expression],
              rtype: Callable[[DaxType], DaxType], nargs: int = 2) -> Scalar:
        args = self.args(call, env, nargs)
        rel = self.table(args[0], env)
        holder: list[DaxType] = []

        def row(inner: Env) -> Scalar:
            v = self.scalar(args[1], inner)
            holder.append(v.type)
            return v

        value = self._iterate(call, env, rel, lambda: self.agg_over(rel, env, row, agg))
        return Scalar(value, rtype(holder[0]))

    def _iterate(self, call: A.FunctionCall, env: Env, rel, run: Callable[[], exp.Expression]) -> exp.Expression:
        """Runs an iterator's aggregation over `rel`: the hook a rewrite may wrap
        (fn_values_iter tags `rel` with its fact table while `run` compiles)."""
        return run()

    # ------------------------------------------------------------ aggregations

    def fn_SUM(self, call, env):
        return self.agg_col(call, env, lambda v: _sum_sql(v.sql, v.type), _sum_type)

    def fn_SUMX(self, call, env):
        return self.agg_x(call, env, lambda v: _sum_sql(number(v).sql, number(v).type),
                          lambda t: _sum_type(number(Scalar(exp.null(), t)).type))

    def fn_AVERAGE(self, call, env):
        return self.agg_col(call, env, lambda v: exp.Avg(this=exp.cast(v.sql, "DOUBLE")), lambda t: DaxType.DOUBLE)

    def fn_AVERAGEX(self, call, env):
        return self.agg_x(call, env, lambda v: exp.Avg(this=exp.cast(number(v).sql, "DOUBLE")),
                          lambda t: DaxType.DOUBLE)

    def fn_AVERAGEA(self, call, env):
        return self.agg_col(call, env, lambda v: exp.Avg(this=exp.cast(number(v).sql, "DOUBLE")),
                            lambda t: DaxType.DOUBLE)

    def _minmax(self, call, env, cls):
        if len(call.args) == 2:
            a, b = (self.scalar(x, env) for x in call.args)
            t = unify([a.type, b.type])
            pick = exp.LT if cls is exp.Min else exp.GT
            # two-argument MIN/MAX: BLANK compares as 0 / "" (dax.guide/MIN)
            x, y = cast(a, t), cast(b, t)
            cond = pick(this=blank_as_zero(x, t), expression=blank_as_zero(y, t))
            return Scalar(exp.Case(ifs=[exp.If(this=cond, true=x.sql)], default=y.sql), t)
        return self.agg_col(call, env, lambda v: cls(this=v.sql), lambda t: t)

    def fn_MIN(self, call, env):
        return self._minmax(call, env, exp.Min)

    def fn_MAX(self, call, env):
        return self._minmax(call, env, exp.Max)

    def fn_MINA(self, call, env):
        return self.agg_col(call, env, lambda v: exp.Min(this=number(v).sql), lambda t: number(Scalar(exp.null(), t)).type)

    def fn_MAXA(self, call, env):
        return self.agg_col(call, env, lambda v: exp.Max(this=number(v).sql), lambda t: number(Scalar(exp.null(), t)).type)

    def fn_MINX(self, call, env):
        return self.agg_x(call, env, lambda v: exp.Min(this=v.sql), lambda t: t)

    def fn_MAXX(self, call, env):
        return self.agg_x(call, env, lambda v: exp.Max(this=v.sql), lambda t: t)

    def fn_COUNT(self, call, env):
        return self.agg_col(call, env, lambda v: _nullif0(exp.Count(this=v.sql)), lambda t: DaxType.INT)

    fn_COUNTA = fn_COUNT

    def fn_COUNTX(self, call, env):
        return self.agg_x(call, env, lambda v: _nullif0(exp.Count(this=v.sql)), lambda t: DaxType.INT)

    fn_COUNTAX = fn_COUNTX

    def fn_COUNTBLANK(self, call, env):
        def agg(v: Scalar) -> exp.Expression:
            blank = exp.paren(v.sql).is_(exp.null())
            if v.type is DaxType.TEXT:
                blank = exp.or_(blank, exp.EQ(this=v.sql.copy(), expression=S("")))
            return _nullif0(fn("count_if", blank))
        return self.agg_col(call, env, agg, lambda t: DaxType.INT)

    def fn_COUNTROWS(self, call, env):
        args = self.args(call, env, 0, 1)
        if not args:
            raise self.err(env, call, "COUNTROWS needs a table argument")
        rel = self.table(args[0], env)
        value = self.agg_over(rel, env, lambda inner: lit(1), lambda v: _nullif0(exp.Count(this=exp.Star())))
        return Scalar(value, DaxType.INT)

    def fn_DISTINCTCOUNT(self, call, env):
        def agg(v: Scalar) -> exp.Expression:
            has_blank = fn("coalesce", exp.Max(this=exp.cast(exp.paren(v.sql).is_(exp.null()), "BIGINT")), N(0))
            return _nullif0(exp.Add(this=exp.Count(this=exp.Distinct(expressions=[v.sql.copy()])), expression=has_blank))
        return self.agg_col(call, env, agg, lambda t: DaxType.INT)

    def fn_DISTINCTCOUNTNOBLANK(self, call, env):
        return self.agg_col(call, env, lambda v: _nullif0(exp.Count(this=exp.Distinct(expressions=[v.sql]))),
                            lambda t: DaxType.INT)

    def fn_MEDIAN(self, call, env):
        return self.agg_col(call, env, lambda v: fn("quantile_cont", exp.cast(number(v).sql, "DOUBLE"), N("0.5")),
                            lambda t: DaxType.DOUBLE)

    def fn_MEDIANX(self, call, env):
        return self.agg_x(call, env, lambda v: fn("quantile_cont", exp.cast(number(v).sql, "DOUBLE"), N("0.5")),
                          lambda t: DaxType.DOUBLE)

    def _percentile(self, call, env, exc: bool, x: bool):
        args = self.args(call, env, 3 if x else 2)
        k = self.scalar(args[-1], env)
        kk = exp.cast(blank_as_zero(k), "DOUBLE")

        def agg(v: Scalar) -> exp.Expression:
            values = fn("list_sort", fn("list", exp.cast(number(v).sql, "DOUBLE")))
            return fn("__dax_percentile", values, kk.copy(), exp.true() if exc else exp.false())

        if x:
            sub = self.agg_x(A.FunctionCall(call.name, args[:2], span=call.span), env, agg, lambda t: DaxType.DOUBLE)
        else:
            sub = self.agg_col(A.FunctionCall(call.name, args[:1], span=call.span), env, agg, lambda t: DaxType.DOUBLE)
        return sub

    def fn_PERCENTILE_INC(self, call, env):
        return self._percentile(call, env, False, False)

    def fn_PERCENTILE_EXC(self, call, env):
        return self._percentile(call, env, True, False)

    def fn_PERCENTILEX_INC(self, call, env):
        return self._percentile(call, env, False, True)

    def fn_PERCENTILEX_EXC(self, call, env):
        return self._percentile(call, env, True, True)

    def _stat(self, name, x):
        def handler(call, env):
            agg = (lambda v: fn(name, exp.cast(number(v).sql, "DOUBLE")))
            return (self.agg_x if x else self.agg_col)(call, env, agg, lambda t: DaxType.DOUBLE)
        return handler

    def fn_STDEV_P(self, call, env):
        return self._stat("stddev_pop", False)(call, env)

    def fn_STDEV_S(self, call, env):
        return self._stat("stddev_samp", False)(call, env)

    def fn_VAR_P(self, call, env):
        return self._stat("var_pop", False)(call, env)

    def fn_VAR_S(self, call, env):
        return self._stat("var_samp", False)(call, env)

    def fn_STDEVX_P(self, call, env):
        return self._stat("stddev_pop", True)(call, env)

    def fn_STDEVX_S(self, call, env):
        return self._stat("stddev_samp", True)(call, env)

    def fn_VARX_P(self, call, env):
        return self._stat("var_pop", True)(call, env)

    def fn_VARX_S(self, call, env):
        return self._stat("var_samp", True)(call, env)

    def fn_PRODUCT(self, call, env):
        return self.agg_col(call, env, lambda v: fn("product", exp.cast(number(v).sql, "DOUBLE")),
                            lambda t: DaxType.DOUBLE)

    def fn_PRODUCTX(self, call, env):
        return self.agg_x(call, env, lambda v: fn("product", exp.cast(number(v).sql, "DOUBLE")),
                          lambda t: DaxType.DOUBLE)

    def fn_GEOMEAN(self, call, env):
        return self.agg_col(call, env, lambda v: fn("exp", exp.Avg(this=fn("ln", exp.cast(number(v).sql, "DOUBLE")))),
                            lambda t: DaxType.DOUBLE)

    def fn_GEOMEANX(self, call, env):
        return self.agg_x(call, env, lambda v: fn("exp", exp.Avg(this=fn("ln", exp.cast(number(v).sql, "DOUBLE")))),
                          lambda t: DaxType.DOUBLE)

    def fn_CONCATENATEX(self, call, env):
        args = self.args(call, env, 2, -1)
        rel = self.table(args[0], env)
        delim = self.scalar(args[2], env) if len(args) > 2 else lit("")
        pairs = order_pairs(list(args[3:]), default_desc=False)  # CONCATENATEX sorts ascending

        def project(inner: Env) -> list[exp.Expression]:
            outs = [exp.alias_(to_text(self.scalar(args[1], inner)), "v")]
            for i, (e, _) in enumerate(pairs):
                outs.append(exp.alias_(self.scalar(e, inner).sql, f"o{i}"))
            return outs

        sel = self.over(rel, env, project)
        alias = self.new_alias()
        agg: exp.Expression = fn("coalesce", exp.column("v", alias), S(""))
        order = [exp.Ordered(this=exp.column(f"o{i}", alias), desc=desc, nulls_first=not desc)
                 for i, (_, desc) in enumerate(pairs)]
        if order:
            agg = exp.Order(this=agg, expressions=order)
        if not isinstance(delim.sql, (exp.Literal, exp.Null)):
            raise self.unsupported(env, args[2], "CONCATENATEX with a computed delimiter")
        text = exp.GroupConcat(this=agg, separator=blank_as_zero(delim, DaxType.TEXT))
        return Scalar(exp.Subquery(this=exp.select(text).from_(sel.subquery(alias))), DaxType.TEXT)

    def fn_RANKX(self, call, env):
        args = self.args(call, env, 2, 5)
        rel = self.table(args[0], env)
        order = _enum(args[3]) if len(args) > 3 and not isinstance(args[3], A.EmptyArg) else "DESC"
        desc = _ENUM_ORDER.get(order or "DESC", True)
        ties = _enum(args[4]) if len(args) > 4 else "SKIP"
        if ties not in ("SKIP", "DENSE"):
            raise self.err(env, call, "RANKX ties must be SKIP or DENSE")
        if len(args) > 2 and not isinstance(args[2], A.EmptyArg):
            value = self.scalar(args[2], env)
        else:
            value = self.scalar(args[1], env)
        fast = self._rank_by_lookup(rel, args[1], value, env, desc, ties == "DENSE")
        if fast is not None:
            return fast

        def project(inner: Env) -> list[exp.Expression]:
            v = self.scalar(args[1], inner)
            t = unify([v.type, value.type])
            return [exp.alias_(blank_as_zero(cast(v, t), t), "a"), exp.alias_(blank_as_zero(cast(value, t), t), "b")]

        sel = self.over(rel, env, project)
        alias = self.new_alias()
        a, b = exp.column("a", alias), exp.column("b", alias)
        better = exp.GT(this=a, expression=b) if desc else exp.LT(this=a, expression=b)
        if ties == "SKIP":
            cnt = fn("count_if", better)
        else:
            cnt = exp.Count(this=exp.Distinct(expressions=[
                exp.Case(ifs=[exp.If(this=better.copy(), true=a.copy())], default=exp.null())]))
        rank = exp.Add(this=N(1), expression=fn("coalesce", cnt, N(0)))
        # a table with no rows still ranks the value first
        return Scalar(exp.cast(fn("coalesce", exp.Subquery(this=exp.select(rank).from_(sel.subquery(alias))), N(1)),
                               "BIGINT"), DaxType.INT, False)

    def _rank_by_lookup(self, rel, expr: A.Expr, value: Scalar, env, desc: bool, dense: bool) -> Scalar | None:
        """RANKX when the ranked values do not depend on the current row (only the value
        being ranked does), e.g. a calculated column ranking each customer among all:
        the values are counted once, in order, and each row looks its value up.

        With C(a) = how many values rank before a (strictly better), a value b not
        among them ranks like the nearest value on its worse side: for DESC, the largest
        a <= b (an ASOF join); none means every value is better. DENSE counts distinct
        values. Without this, every row would compare its value with every other
        (quadratic: 2 s for 12,500 customers, minutes for 100,000)."""
        ranked: list[Scalar] = []

        def project(inner):
            ranked.append(self.scalar(expr, inner))
            return [exp.alias_(ranked[-1].sql, "a")]

        probe = self.over(rel, env, project)  # a compile error here is the general form's too
        if _outer_refs(probe) or not ranked:
            return None
        t = unify([ranked[0].type, value.type])
        if t not in (DaxType.INT, DaxType.DOUBLE, DaxType.CURRENCY, DaxType.DATETIME):
            return None
        inner_alias = self.new_alias()
        a_value = Scalar(exp.column("a", inner_alias), ranked[0].type, ranked[0].nullable)
        values = exp.select(exp.alias_(blank_as_zero(cast(a_value, t), t), "a")).from_(probe.subquery(inner_alias))
        src, grouped, cum, q = self.new_alias(), self.new_alias(), self.new_alias(), self.new_alias()
        a = exp.column("a", src)
        counted = exp.select(exp.alias_(a, "a"), exp.alias_(
            N(1) if dense else exp.Count(this=exp.Star()), "n")).from_(values.subquery(src)).group_by(N(1))
        window = exp.Window(this=exp.Sum(this=exp.column("n", grouped)),
                            order=exp.Order(expressions=[exp.Ordered(this=exp.column("a", grouped), desc=desc)]),
                            spec=exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING",
                                                end=N(1), end_side="PRECEDING"))
        before = exp.select(exp.column("a", grouped), exp.alias_(fn("coalesce", window, N(0)), "before")).from_(
            counted.subquery(grouped))
        b = exp.select(exp.alias_(blank_as_zero(cast(value, t), t), "b")).subquery(q)
        cond = (exp.GTE if desc else exp.LTE)(this=exp.column("b", q), expression=exp.column("a", cum))
        lookup = exp.select(exp.column("before", cum)).from_(b).join(
            before.subquery(cum), on=cond, join_type="ASOF LEFT")
        total = exp.select(fn("coalesce", exp.Sum(this=exp.column("n", grouped)), N(0))).from_(
            counted.copy().subquery(grouped))
        rank = exp.Add(this=fn("coalesce", exp.Subquery(this=lookup), exp.Subquery(this=total)), expression=N(1))
        return Scalar(exp.cast(rank, "BIGINT"), DaxType.INT, False)
