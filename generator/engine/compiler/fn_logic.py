"""Logical and information functions: BLANK, TRUE/FALSE, IF, SWITCH, AND/OR/NOT, COALESCE,
ISBLANK and the IS* type tests (ISTEXT, ISNUMBER, ISEVEN, ISEMPTY…).

They decide on BLANK and type rather than compute numbers, so they sit apart from math.
"""
from __future__ import annotations

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.data import fn
from generator.engine.compiler.core import CompilerCore
from generator.engine.types import NUMERIC, DaxType, unify
from generator.engine.values import Scalar, blank_as_zero, cast, compare, lit, number, truthy

N = exp.Literal.number


class LogicFns(CompilerCore):
    """Mixin for `Compiler`: logical and information functions."""

    # ------------------------------------------------------------ logic

    def fn_BLANK(self, call, env):
        self.args(call, env, 0)
        return lit(None)

    def fn_TRUE(self, call, env):
        return lit(True)

    def fn_FALSE(self, call, env):
        return lit(False)

    def fn_IF(self, call, env):
        args = self.args(call, env, 2, 3)
        cond = truthy(self.scalar(args[0], env))
        a = self.scalar(args[1], env)
        b = self.scalar(args[2], env) if len(args) > 2 else lit(None)
        t = unify([a.type, b.type])
        return Scalar(exp.Case(ifs=[exp.If(this=cond, true=cast(a, t).sql)], default=cast(b, t).sql), t,
                      a.nullable or b.nullable)

    fn_IF_EAGER = fn_IF

    def fn_SWITCH(self, call, env):
        args = self.args(call, env, 3, -1)
        subject = self.scalar(args[0], env)
        pairs = args[1:]
        default = self.scalar(pairs[-1], env) if len(pairs) % 2 == 1 else lit(None)
        pairs = pairs[: len(pairs) - (len(pairs) % 2)]
        conds, results = [], []
        for i in range(0, len(pairs), 2):
            v = self.scalar(pairs[i], env)
            conds.append(compare("=", subject, v).sql if not (subject.type is DaxType.BOOL and isinstance(args[0], A.FunctionCall)
                                                           and args[0].name == "TRUE") else truthy(v))
            results.append(self.scalar(pairs[i + 1], env))
        t = unify([r.type for r in results] + [default.type])
        ifs = [exp.If(this=c, true=cast(r, t).sql) for c, r in zip(conds, results)]
        return Scalar(exp.Case(ifs=ifs, default=cast(default, t).sql), t)

    def fn_AND(self, call, env):
        a, b = (self.scalar(x, env) for x in self.args(call, env, 2))
        return Scalar(exp.and_(exp.paren(truthy(a)), exp.paren(truthy(b))), DaxType.BOOL, False)

    def fn_OR(self, call, env):
        a, b = (self.scalar(x, env) for x in self.args(call, env, 2))
        return Scalar(exp.paren(exp.or_(exp.paren(truthy(a)), exp.paren(truthy(b)))), DaxType.BOOL, False)

    def fn_NOT(self, call, env):
        (a,) = (self.scalar(x, env) for x in self.args(call, env, 1))
        return Scalar(exp.Not(this=exp.paren(truthy(a))), DaxType.BOOL, False)

    def fn_COALESCE(self, call, env):
        vals = [self.scalar(x, env) for x in self.args(call, env, 2, -1)]
        t = unify([v.type for v in vals])
        return Scalar(fn("coalesce", *[cast(v, t).sql for v in vals]), t, all(v.nullable for v in vals))

    def fn_ISBLANK(self, call, env):
        (a,) = (self.scalar(x, env) for x in self.args(call, env, 1))
        if a.type is DaxType.BLANK:
            return lit(True)
        return Scalar(exp.paren(a.sql).is_(exp.null()), DaxType.BOOL, False)


    # ------------------------------------------------------------ information

    def _is_type(self, call, env, pred):
        (a,) = (self.scalar(x, env) for x in self.args(call, env, 1))
        return lit(bool(pred(a.type)))

    def fn_ISTEXT(self, call, env):
        return self._is_type(call, env, lambda t: t is DaxType.TEXT)

    fn_ISSTRING = fn_ISTEXT

    def fn_ISNONTEXT(self, call, env):
        return self._is_type(call, env, lambda t: t is not DaxType.TEXT)

    def fn_ISNUMBER(self, call, env):
        return self._is_type(call, env, lambda t: t in NUMERIC)

    fn_ISNUMERIC = fn_ISNUMBER

    def fn_ISLOGICAL(self, call, env):
        return self._is_type(call, env, lambda t: t is DaxType.BOOL)

    fn_ISBOOLEAN = fn_ISLOGICAL

    def fn_ISINT64(self, call, env):
        return self._is_type(call, env, lambda t: t is DaxType.INT)

    fn_ISINTEGER = fn_ISINT64

    def fn_ISDOUBLE(self, call, env):
        return self._is_type(call, env, lambda t: t is DaxType.DOUBLE)

    def fn_ISDECIMAL(self, call, env):
        return self._is_type(call, env, lambda t: t is DaxType.CURRENCY)

    fn_ISCURRENCY = fn_ISDECIMAL

    def fn_ISDATETIME(self, call, env):
        return self._is_type(call, env, lambda t: t is DaxType.DATETIME)

    def fn_ISEVEN(self, call, env):
        (a,) = (number(self.scalar(x, env)) for x in self.args(call, env, 1))
        return Scalar(exp.EQ(this=fn("mod", exp.cast(fn("trunc", blank_as_zero(a)), "BIGINT"), N(2)),
                             expression=N(0)), DaxType.BOOL, False)

    def fn_ISODD(self, call, env):
        (a,) = (number(self.scalar(x, env)) for x in self.args(call, env, 1))
        return Scalar(exp.NEQ(this=fn("mod", exp.cast(fn("trunc", blank_as_zero(a)), "BIGINT"), N(2)),
                              expression=N(0)), DaxType.BOOL, False)

    def fn_ISEMPTY(self, call, env):
        (t,) = self.args(call, env, 1)
        rel = self.table(t, env)
        sel = self.over(rel, env, lambda inner: [N(1)])
        return Scalar(exp.Not(this=exp.Exists(this=sel)), DaxType.BOOL, False)
