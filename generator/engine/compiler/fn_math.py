"""Math and conversion functions: DIVIDE, rounding (ROUND, MROUND, CEILING…), powers and
logarithms, trigonometry, combinatorics, bit operations, CURRENCY/VALUE/CONVERT.

Rounding follows DAX, half away from zero (values.round_half_away), not SQL's banker's rule.
"""
from __future__ import annotations

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.data import fn
from generator.engine.compiler.core import CompilerCore
from generator.engine.compiler.dax_keywords import _enum
from generator.engine.types import DaxType, sql_type, unify
from generator.engine.values import Scalar, arith, blank_as_zero, cast, lit, number, round_half_away

N = exp.Literal.number
S = exp.Literal.string


class MathFns(CompilerCore):
    """Mixin for `Compiler`: math and conversion functions."""

    # ------------------------------------------------------------ math

    def fn_DIVIDE(self, call, env):
        args = self.args(call, env, 2, 3)
        (n, d), wrap = self.let([self.scalar(args[0], env), self.scalar(args[1], env)])
        alt = self.scalar(args[2], env) if len(args) > 2 else lit(None)
        q = arith("/", n, d)
        if isinstance(q.sql, exp.Div):
            # the CASE below has already taken d = 0 and BLANK: NULLIF says so in the tree, so
            # a backend whose `/` needs IEEE rewrites at zero (Spark) need not repeat n for them
            q = Scalar(exp.Div(this=q.sql.this, expression=exp.Nullif(this=q.sql.expression, expression=N(0))),
                       q.type, q.nullable)
        t = unify([q.type, alt.type]) if alt.type is not DaxType.BLANK else q.type
        zero = exp.or_(exp.paren(d.sql.copy()).is_(exp.null()), exp.EQ(this=number(d).sql.copy(), expression=N(0)))
        return Scalar(wrap(exp.Case(ifs=[exp.If(this=zero, true=cast(alt, t).sql)], default=cast(q, t).sql)), t)

    def _num1(self, call, env, fn, rtype=DaxType.DOUBLE, lo=1, hi=1):
        args = [number(self.scalar(x, env)) for x in self.args(call, env, lo, hi)]
        return Scalar(fn(*[a.sql for a in args]), rtype, any(a.nullable for a in args))

    def fn_ABS(self, call, env):
        (a,) = (number(self.scalar(x, env)) for x in self.args(call, env, 1))
        return Scalar(fn("abs", a.sql), a.type, a.nullable)

    def fn_SIGN(self, call, env):
        return self._num1(call, env, lambda a: exp.cast(fn("sign", a), "BIGINT"), DaxType.INT)

    def fn_ROUND(self, call, env):
        args = self.args(call, env, 1, 2)
        x = number(self.scalar(args[0], env))
        d = blank_as_zero(number(self.scalar(args[1], env))) if len(args) > 1 else N(0)
        d = exp.cast(d, "INTEGER")
        r = round_half_away(x, d)
        return Scalar(exp.cast(r, "DOUBLE") if x.type is not DaxType.CURRENCY else exp.cast(r, "DECIMAL(18,4)"),
                      DaxType.DOUBLE if x.type is not DaxType.CURRENCY else DaxType.CURRENCY, x.nullable)

    def _round_dir(self, call, env, up: bool):
        args = self.args(call, env, 2)
        x = number(self.scalar(args[0], env))
        d = exp.cast(blank_as_zero(number(self.scalar(args[1], env))), "INTEGER")
        scale = fn("power", N(10), d)
        dec = exp.cast(x.sql, "DECIMAL(38,12)")
        scaled = exp.Mul(this=dec, expression=exp.cast(scale, "DECIMAL(38,12)"))
        f = "ceil" if up else "floor"
        mag = fn(f, fn("abs", scaled))
        out = exp.Div(this=exp.Mul(this=fn("sign", dec.copy()), expression=mag), expression=exp.cast(scale.copy(), "DOUBLE"))
        return Scalar(exp.cast(out, "DOUBLE"), DaxType.DOUBLE, x.nullable)

    def fn_ROUNDUP(self, call, env):
        return self._round_dir(call, env, True)

    def fn_ROUNDDOWN(self, call, env):
        return self._round_dir(call, env, False)

    def fn_INT(self, call, env):
        return self._num1(call, env, lambda a: exp.cast(fn("floor", a), "BIGINT"), DaxType.INT)

    def fn_TRUNC(self, call, env):
        args = self.args(call, env, 1, 2)
        if len(args) == 1:
            return self._num1(A.FunctionCall("TRUNC", args, span=call.span), env,
                              lambda a: exp.cast(fn("trunc", a), "BIGINT"), DaxType.INT)
        return self._round_dir(call, env, False)

    def fn_MOD(self, call, env):
        a, b = (number(self.scalar(x, env)) for x in self.args(call, env, 2))
        # DAX MOD takes the divisor's sign: n - d*INT(n/d)
        av, bv = exp.cast(blank_as_zero(a), "DOUBLE"), exp.cast(blank_as_zero(b), "DOUBLE")
        r = exp.Sub(this=av, expression=exp.Mul(this=bv, expression=fn("floor", exp.Div(this=av.copy(), expression=bv.copy()))))
        t = DaxType.INT if a.type is DaxType.INT and b.type is DaxType.INT else DaxType.DOUBLE
        zero = exp.EQ(this=bv.copy(), expression=N(0))
        r = exp.Case(ifs=[exp.If(this=zero, true=fn("error", S("MOD: division by zero")))], default=r)
        return Scalar(exp.cast(r, sql_type(t)), t, a.nullable and b.nullable)

    def fn_QUOTIENT(self, call, env):
        a, b = (number(self.scalar(x, env)) for x in self.args(call, env, 2))
        return Scalar(exp.cast(fn("trunc", exp.Div(this=exp.cast(a.sql, "DOUBLE"), expression=b.sql)), "BIGINT"),
                      DaxType.INT)

    def fn_POWER(self, call, env):
        a, b = (self.scalar(x, env) for x in self.args(call, env, 2))
        return arith("^", a, b)

    def fn_SQRT(self, call, env):
        return self._num1(call, env, lambda a: fn("sqrt", a))

    def fn_EXP(self, call, env):
        return self._num1(call, env, lambda a: fn("exp", a))

    def fn_LN(self, call, env):
        return self._num1(call, env, lambda a: fn("ln", a))

    def fn_LOG10(self, call, env):
        return self._num1(call, env, lambda a: fn("log10", a))

    def fn_LOG(self, call, env):
        args = self.args(call, env, 1, 2)
        if len(args) == 1:
            return self._num1(call, env, lambda a: fn("log10", a))
        return self._num1(call, env, lambda a, b: exp.Div(this=fn("ln", a), expression=fn("ln", b)),
                          lo=2, hi=2)

    def fn_PI(self, call, env):
        self.args(call, env, 0)
        return Scalar(fn("pi"), DaxType.DOUBLE, False)

    def _trig(name, sql=None):
        def handler(self, call, env):
            f = sql or (lambda a: fn(name.lower(), a))
            return self._num1(call, env, f)
        return handler

    fn_SIN = _trig("SIN")
    fn_COS = _trig("COS")
    fn_TAN = _trig("TAN")
    fn_ASIN = _trig("ASIN")
    fn_ACOS = _trig("ACOS")
    fn_ATAN = _trig("ATAN")
    fn_COT = _trig("COT", lambda a: exp.Div(this=N(1), expression=fn("tan", a)))
    fn_SINH = _trig("SINH", lambda a: exp.Div(this=exp.Sub(this=fn("exp", a), expression=fn("exp", exp.Neg(this=a.copy()))), expression=N(2)))
    fn_COSH = _trig("COSH", lambda a: exp.Div(this=exp.Add(this=fn("exp", a), expression=fn("exp", exp.Neg(this=a.copy()))), expression=N(2)))
    fn_TANH = _trig("TANH", lambda a: fn("tanh", a))
    fn_COTH = _trig("COTH", lambda a: exp.Div(this=N(1), expression=fn("tanh", a)))
    fn_ASINH = _trig("ASINH", lambda a: fn("asinh", a))
    fn_ACOSH = _trig("ACOSH", lambda a: fn("acosh", a))
    fn_ATANH = _trig("ATANH", lambda a: fn("atanh", a))
    fn_ACOT = _trig("ACOT", lambda a: exp.Sub(this=exp.Div(this=fn("pi"), expression=N(2)), expression=fn("atan", a)))
    fn_ACOTH = _trig("ACOTH", lambda a: exp.Mul(this=N("0.5"), expression=fn("ln", exp.Div(
        this=exp.Add(this=a, expression=N(1)), expression=exp.Sub(this=a.copy(), expression=N(1))))))
    fn_DEGREES = _trig("DEGREES", lambda a: fn("degrees", a))
    fn_RADIANS = _trig("RADIANS", lambda a: fn("radians", a))
    fn_SQRTPI = _trig("SQRTPI", lambda a: fn("sqrt", exp.Mul(this=a, expression=fn("pi"))))

    def fn_CEILING(self, call, env):
        return self._multiple(call, env, "ceil")

    def fn_FLOOR(self, call, env):
        return self._multiple(call, env, "floor")

    def fn_ISO_CEILING(self, call, env):
        args = self.args(call, env, 1, 2)
        x = number(self.scalar(args[0], env))
        m = fn("abs", number(self.scalar(args[1], env)).sql) if len(args) > 1 else N(1)
        r = exp.Mul(this=fn("ceil", exp.Div(this=exp.cast(x.sql, "DOUBLE"), expression=m)), expression=m.copy())
        return Scalar(exp.cast(r, "DOUBLE"), DaxType.DOUBLE, x.nullable)

    def _multiple(self, call, env, f):
        args = self.args(call, env, 2)
        x, m = (number(self.scalar(a, env)) for a in args)
        r = exp.Mul(this=fn(f, exp.Div(this=exp.cast(x.sql, "DOUBLE"), expression=m.sql)), expression=m.sql.copy())
        return Scalar(exp.cast(r, "DOUBLE"), DaxType.DOUBLE, x.nullable)

    def fn_MROUND(self, call, env):
        args = self.args(call, env, 2)
        x, m = (number(self.scalar(a, env)) for a in args)
        q = exp.Div(this=exp.cast(x.sql, "DECIMAL(38,12)"), expression=exp.cast(m.sql, "DECIMAL(38,12)"))
        r = exp.Mul(this=fn("round", q), expression=exp.cast(m.sql.copy(), "DECIMAL(38,12)"))
        return Scalar(exp.cast(r, "DOUBLE"), DaxType.DOUBLE, x.nullable)

    def fn_EVEN(self, call, env):
        def f(a):
            mag = exp.Mul(this=fn("ceil", exp.Div(this=fn("abs", a), expression=N(2))), expression=N(2))
            return exp.cast(exp.Mul(this=fn("sign", a.copy()), expression=mag), "BIGINT")
        return self._num1(call, env, f, DaxType.INT)

    def fn_ODD(self, call, env):
        def f(a):
            mag = exp.Sub(this=exp.Mul(this=fn("ceil", exp.Div(this=exp.Add(this=fn("abs", a), expression=N(1)),
                                                                    expression=N(2))), expression=N(2)), expression=N(1))
            sign = exp.Case(ifs=[exp.If(this=exp.LT(this=a.copy(), expression=N(0)), true=N(-1))], default=N(1))
            return exp.cast(exp.Mul(this=sign, expression=mag), "BIGINT")
        return self._num1(call, env, f, DaxType.INT)

    def fn_GCD(self, call, env):
        return self._num1(call, env, lambda a, b: fn("gcd", exp.cast(a, "BIGINT"), exp.cast(b, "BIGINT")),
                          DaxType.INT, 2, 2)

    def fn_LCM(self, call, env):
        return self._num1(call, env, lambda a, b: fn("lcm", exp.cast(a, "BIGINT"), exp.cast(b, "BIGINT")),
                          DaxType.INT, 2, 2)

    def fn_FACT(self, call, env):
        return self._num1(call, env, lambda a: exp.cast(fn("factorial", exp.cast(a, "INTEGER")), "BIGINT"),
                          DaxType.INT)

    def fn_COMBIN(self, call, env):
        def f(n, k):
            n, k = exp.cast(n, "BIGINT"), exp.cast(k, "BIGINT")
            return exp.cast(fn("round", fn("exp", exp.Sub(
                this=fn("lgamma", exp.Add(this=n, expression=N(1))),
                expression=exp.Add(this=fn("lgamma", exp.Add(this=k, expression=N(1))),
                                   expression=fn("lgamma", exp.Add(this=exp.Sub(this=n.copy(), expression=k.copy()),
                                                                         expression=N(1))))))), "BIGINT")
        return self._num1(call, env, f, DaxType.INT, 2, 2)

    def fn_COMBINA(self, call, env):
        def f(n, k):
            return fn("__dax_combin", exp.Sub(this=exp.Add(this=n, expression=k), expression=N(1)), k.copy())
        return self._num1(call, env, f, DaxType.INT, 2, 2)

    def fn_PERMUT(self, call, env):
        def f(n, k):
            n, k = exp.cast(n, "BIGINT"), exp.cast(k, "BIGINT")
            return exp.cast(fn("round", fn("exp", exp.Sub(
                this=fn("lgamma", exp.Add(this=n, expression=N(1))),
                expression=fn("lgamma", exp.Add(this=exp.Sub(this=n.copy(), expression=k), expression=N(1)))))), "BIGINT")
        return self._num1(call, env, f, DaxType.INT, 2, 2)

    def _bit(op):
        def handler(self, call, env):
            def f(a, b):
                a, b = exp.cast(a, "BIGINT"), exp.cast(b, "BIGINT")
                if op == "&":
                    return exp.BitwiseAnd(this=a, expression=b)
                if op == "|":
                    return exp.BitwiseOr(this=a, expression=b)
                if op == "^":
                    return fn("xor", a, b)
                left = exp.BitwiseLeftShift(this=a, expression=b)
                right = exp.BitwiseRightShift(this=a.copy(), expression=b.copy())
                neg_l = exp.BitwiseRightShift(this=a.copy(), expression=exp.Neg(this=b.copy()))
                neg_r = exp.BitwiseLeftShift(this=a.copy(), expression=exp.Neg(this=b.copy()))
                if op == "<<":
                    return exp.Case(ifs=[exp.If(this=exp.GTE(this=b.copy(), expression=N(0)), true=left)], default=neg_l)
                return exp.Case(ifs=[exp.If(this=exp.GTE(this=b.copy(), expression=N(0)), true=right)], default=neg_r)
            return self._num1(call, env, f, DaxType.INT, 2, 2)
        return handler

    fn_BITAND = _bit("&")
    fn_BITOR = _bit("|")
    fn_BITXOR = _bit("^")
    fn_BITLSHIFT = _bit("<<")
    fn_BITRSHIFT = _bit(">>")

    def fn_CURRENCY(self, call, env):
        (a,) = (self.scalar(x, env) for x in self.args(call, env, 1))
        return cast(number(a) if a.type is not DaxType.TEXT else a, DaxType.CURRENCY)

    def fn_VALUE(self, call, env):
        (a,) = (self.scalar(x, env) for x in self.args(call, env, 1))
        if a.type is DaxType.TEXT:
            return Scalar(exp.cast(fn("trim", a.sql), "DOUBLE"), DaxType.DOUBLE, a.nullable)
        return number(a)

    def fn_CONVERT(self, call, env):
        a_node, t_node = self.args(call, env, 2)
        a = self.scalar(a_node, env)
        target = _enum(t_node)
        types = {"INTEGER": DaxType.INT, "DOUBLE": DaxType.DOUBLE, "STRING": DaxType.TEXT, "BOOLEAN": DaxType.BOOL,
                 "CURRENCY": DaxType.CURRENCY, "DATETIME": DaxType.DATETIME}
        if target not in types:
            raise self.err(env, t_node, "CONVERT: unknown data type")
        t = types[target]
        if t is DaxType.INT and a.type in (DaxType.DOUBLE, DaxType.CURRENCY, DaxType.TEXT):
            v = round_half_away(Scalar(exp.cast(a.sql, "DOUBLE"), DaxType.DOUBLE, a.nullable), N(0))
            return Scalar(exp.cast(v, "BIGINT"), t, a.nullable)
        if t is DaxType.DOUBLE and a.type is DaxType.TEXT:
            return Scalar(exp.cast(a.sql, "DOUBLE"), t, a.nullable)
        return cast(a, t)
