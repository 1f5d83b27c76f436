"""Text functions: LEN, UPPER/LOWER/TRIM, LEFT/RIGHT/MID, CONCATENATE, EXACT, REPT,
SUBSTITUTE/REPLACE, FIND/SEARCH, CONTAINSSTRING*, UNICHAR/UNICODE, FIXED and FORMAT.

DAX positions are 1-based and FIND/SEARCH errors (or return their fourth argument) when
the text is not found; the handlers translate to DuckDB's string functions accordingly.
"""
from __future__ import annotations

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.data import fn
from generator.engine.compiler.core import CompilerCore
from generator.engine.types import DaxType
from generator.engine.values import Scalar, blank_as_zero, number, round_half_away, to_text, truthy

N = exp.Literal.number
S = exp.Literal.string


class TextFns(CompilerCore):
    """Mixin for `Compiler`: text functions."""

    # ------------------------------------------------------------ text

    def _text(self, call, env, lo, hi=None):
        return [self.scalar(x, env) for x in self.args(call, env, lo, hi)]

    def fn_LEN(self, call, env):
        (a,) = self._text(call, env, 1)
        return Scalar(exp.cast(fn("length", blank_as_zero(Scalar(to_text(a), DaxType.TEXT, a.nullable))), "BIGINT"),
                      DaxType.INT, False)

    def _text1(self, call, env, f):
        (a,) = self._text(call, env, 1)
        return Scalar(f(to_text(a)), DaxType.TEXT, a.nullable)

    def fn_UPPER(self, call, env):
        return self._text1(call, env, lambda a: fn("upper", a))

    def fn_LOWER(self, call, env):
        return self._text1(call, env, lambda a: fn("lower", a))

    def fn_TRIM(self, call, env):
        return self._text1(call, env, lambda a: fn("regexp_replace", fn("trim", a), S(" +"), S(" "), S("g")))

    def fn_LEFT(self, call, env):
        args = self._text(call, env, 1, 2)
        n = blank_as_zero(number(args[1])) if len(args) > 1 else N(1)
        return Scalar(fn("left", to_text(args[0]), exp.cast(n, "BIGINT")), DaxType.TEXT, args[0].nullable)

    def fn_RIGHT(self, call, env):
        args = self._text(call, env, 1, 2)
        n = blank_as_zero(number(args[1])) if len(args) > 1 else N(1)
        return Scalar(fn("right", to_text(args[0]), exp.cast(n, "BIGINT")), DaxType.TEXT, args[0].nullable)

    def fn_MID(self, call, env):
        a, s, n = self._text(call, env, 3)
        return Scalar(fn("substr", to_text(a), exp.cast(number(s).sql, "BIGINT"), exp.cast(number(n).sql, "BIGINT")),
                      DaxType.TEXT, a.nullable)

    def fn_CONCATENATE(self, call, env):
        from generator.engine.values import concat
        a, b = self._text(call, env, 2)
        return concat(a, b)

    def fn_EXACT(self, call, env):
        a, b = self._text(call, env, 2)
        return Scalar(exp.EQ(this=fn("coalesce", to_text(a), S("")), expression=fn("coalesce", to_text(b), S(""))),
                      DaxType.BOOL, False)

    def fn_REPT(self, call, env):
        a, n = self._text(call, env, 2)
        return Scalar(fn("repeat", to_text(a), exp.cast(number(n).sql, "BIGINT")), DaxType.TEXT, a.nullable)

    def fn_SUBSTITUTE(self, call, env):
        args = self._text(call, env, 3, 4)
        if len(args) == 4:
            raise self.unsupported(env, call, "SUBSTITUTE with an instance number")
        a, old, new = args
        return Scalar(fn("replace", to_text(a), blank_as_zero(old, DaxType.TEXT), blank_as_zero(new, DaxType.TEXT)),
                      DaxType.TEXT, a.nullable)

    def fn_REPLACE(self, call, env):
        a, s, n, new = self._text(call, env, 4)
        t = to_text(a)
        start = exp.cast(number(s).sql, "BIGINT")
        head = fn("left", t, exp.Sub(this=start, expression=N(1)))
        tail = fn("substr", t.copy(), exp.Add(this=start.copy(), expression=exp.cast(number(n).sql, "BIGINT")))
        return Scalar(fn("concat", head, to_text(new), tail), DaxType.TEXT, a.nullable)

    def _find(self, call, env, ci: bool):
        args = self._text(call, env, 2, 4)
        needle, hay = to_text(args[0]), to_text(args[1])
        if ci:
            needle, hay = fn("lower", needle), fn("lower", hay)
        start = exp.cast(number(args[2]).sql, "BIGINT") if len(args) > 2 and args[2].type is not DaxType.BLANK else N(1)
        pos = fn("strpos", fn("substr", hay, start), needle)
        found = exp.Add(this=exp.Sub(this=pos, expression=N(1)), expression=start.copy())
        notfound = (fn("error", S(f"{call.name}: the search text was not found")) if len(args) < 4
                    else args[3].sql)
        return Scalar(exp.Case(ifs=[exp.If(this=exp.GT(this=pos.copy(), expression=N(0)), true=found)],
                               default=notfound), DaxType.INT)

    def fn_FIND(self, call, env):
        return self._find(call, env, False)

    def fn_SEARCH(self, call, env):
        return self._find(call, env, True)

    def fn_CONTAINSSTRING(self, call, env):
        a, b = self._text(call, env, 2)
        return Scalar(exp.GT(this=fn("strpos", fn("lower", blank_as_zero(Scalar(to_text(a), DaxType.TEXT), DaxType.TEXT)),
                                           fn("lower", blank_as_zero(Scalar(to_text(b), DaxType.TEXT), DaxType.TEXT))),
                             expression=N(0)), DaxType.BOOL, False)

    def fn_CONTAINSSTRINGEXACT(self, call, env):
        a, b = self._text(call, env, 2)
        return Scalar(exp.GT(this=fn("strpos", blank_as_zero(Scalar(to_text(a), DaxType.TEXT), DaxType.TEXT),
                                           blank_as_zero(Scalar(to_text(b), DaxType.TEXT), DaxType.TEXT)),
                             expression=N(0)), DaxType.BOOL, False)

    def fn_UNICHAR(self, call, env):
        return self._num1(call, env, lambda a: fn("chr", exp.cast(a, "INTEGER")), DaxType.TEXT)

    def fn_UNICODE(self, call, env):
        (a,) = self._text(call, env, 1)
        return Scalar(exp.cast(fn("unicode", to_text(a)), "BIGINT"), DaxType.INT)

    def fn_FIXED(self, call, env):
        args = self._text(call, env, 1, 3)
        x = number(args[0])
        d = exp.cast(blank_as_zero(number(args[1])), "INTEGER") if len(args) > 1 else N(2)
        nocommas = len(args) > 2 and isinstance(call.args[2], (A.Boolean, A.FunctionCall, A.Number))
        r = round_half_away(x, d)
        fmt_digits = fn("greatest", d, N(0))
        if nocommas:
            body = fn("printf", fn("concat", S("%."), exp.cast(fmt_digits, "VARCHAR"), S("f")), exp.cast(r, "DOUBLE"))
            return Scalar(exp.Case(ifs=[exp.If(this=truthy(args[2]), true=body)],
                                   default=fn("format", fn("concat", S("{:,."), exp.cast(fmt_digits.copy(), "VARCHAR"), S("f}")),
                                                    exp.cast(r.copy(), "DOUBLE"))), DaxType.TEXT)
        return Scalar(fn("format", fn("concat", S("{:,."), exp.cast(fmt_digits, "VARCHAR"), S("f}")),
                               exp.cast(r, "DOUBLE")), DaxType.TEXT)

    def _check_format_locale(self, env, node, value_type, fmt: str) -> None:
        """FORMAT's third argument picks the locale (dax.guide/FORMAT). The engine formats
        in English, so another locale is refused where it would change the text."""
        from generator.engine.formats import locale_dependent

        if not isinstance(node, A.String):
            raise self.unsupported(env, node, "FORMAT with a computed locale")
        if node.value.lower().startswith("en") or not locale_dependent(value_type, fmt):
            return
        raise self.unsupported(env, node, f"FORMAT with the locale \"{node.value}\" for \"{fmt}\"")

    def fn_FORMAT(self, call, env):
        from generator.engine.formats import format_sql

        args = self.args(call, env, 2, 3)
        if not isinstance(args[1], A.String):
            raise self.unsupported(env, args[1], "FORMAT with a computed format string")
        v = self.scalar(args[0], env)
        if len(args) == 3 and not isinstance(args[2], A.EmptyArg):
            self._check_format_locale(env, args[2], v.type, args[1].value)
        sql = format_sql(v, args[1].value)
        if sql is None:
            raise self.unsupported(env, args[1], f"FORMAT string \"{args[1].value}\"")
        return Scalar(sql, DaxType.TEXT)
