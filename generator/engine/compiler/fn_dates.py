"""Date and time functions: DATE/TIME, the parts (YEAR…SECOND, QUARTER, WEEKDAY),
TODAY/NOW, EOMONTH/EDATE, DATEDIFF, DATEVALUE/TIMEVALUE and NETWORKDAYS.

Scalar date arithmetic only; time intelligence over the date table is in timeintel.py.
"""
from __future__ import annotations

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.data import fn
from generator.engine.compiler.core import CompilerCore
from generator.engine.compiler.dax_keywords import _enum
from generator.engine.types import DaxType
from generator.engine.values import Scalar, blank_as_zero, number, to_text

N = exp.Literal.number
S = exp.Literal.string


class DateFns(CompilerCore):
    """Mixin for `Compiler`: date and time functions."""

    # ------------------------------------------------------------ dates

    def fn_DATE(self, call, env):
        y, m, d = (number(self.scalar(x, env)) for x in self.args(call, env, 3))
        # DATE rolls months and days over (DATE(2024, 14, 1) = 2025-02-01)
        base = fn("make_date", exp.cast(y.sql, "INTEGER"), N(1), N(1))
        months = fn("to_months", exp.cast(exp.Sub(this=m.sql, expression=N(1)), "INTEGER"))
        days = fn("to_days", exp.cast(exp.Sub(this=d.sql, expression=N(1)), "INTEGER"))
        return Scalar(exp.cast(exp.Add(this=exp.Add(this=base, expression=months), expression=days), "TIMESTAMP"),
                      DaxType.DATETIME, False)

    def fn_TIME(self, call, env):
        h, m, s = (number(self.scalar(x, env)) for x in self.args(call, env, 3))
        secs = exp.Add(this=exp.Add(this=exp.Mul(this=h.sql, expression=N(3600)), expression=exp.Mul(this=m.sql, expression=N(60))),
                       expression=s.sql)
        secs = fn("mod", exp.cast(secs, "BIGINT"), N(86400))
        base = exp.cast(S("1899-12-30"), "TIMESTAMP")
        return Scalar(exp.Add(this=base, expression=fn("to_seconds", secs)), DaxType.DATETIME, False)

    def _part(self, call, env, part):
        (a,) = (self.scalar(x, env) for x in self.args(call, env, 1))
        v = a.sql if a.type is DaxType.DATETIME else exp.cast(a.sql, "TIMESTAMP")
        return Scalar(exp.cast(fn(part, v), "BIGINT"), DaxType.INT, a.nullable)

    def fn_YEAR(self, call, env):
        return self._part(call, env, "year")

    def fn_MONTH(self, call, env):
        return self._part(call, env, "month")

    def fn_DAY(self, call, env):
        return self._part(call, env, "day")

    def fn_HOUR(self, call, env):
        return self._part(call, env, "hour")

    def fn_MINUTE(self, call, env):
        return self._part(call, env, "minute")

    def fn_SECOND(self, call, env):
        return self._part(call, env, "second")

    def fn_QUARTER(self, call, env):
        return self._part(call, env, "quarter")

    def fn_WEEKDAY(self, call, env):
        args = self.args(call, env, 1, 2)
        a = self.scalar(args[0], env)
        kind = int(args[1].value) if len(args) > 1 and isinstance(args[1], A.Number) else 1
        dow = fn("dayofweek", exp.cast(a.sql, "TIMESTAMP"))  # 0 = Sunday
        if kind == 1:
            r = exp.Add(this=dow, expression=N(1))
        elif kind == 2:
            r = exp.Add(this=fn("mod", exp.Add(this=dow, expression=N(6)), N(7)), expression=N(1))
        elif kind == 3:
            r = fn("mod", exp.Add(this=dow, expression=N(6)), N(7))
        else:
            raise self.unsupported(env, call, f"WEEKDAY return type {kind}")
        return Scalar(exp.cast(r, "BIGINT"), DaxType.INT, a.nullable)

    def as_of(self) -> exp.Expression:
        return exp.cast(S(self.schema.as_of.isoformat()), "TIMESTAMP")

    def fn_TODAY(self, call, env):
        self.args(call, env, 0)
        return Scalar(self.as_of(), DaxType.DATETIME, False)

    fn_UTCTODAY = fn_TODAY

    def fn_NOW(self, call, env):
        self.args(call, env, 0)
        return Scalar(self.as_of(), DaxType.DATETIME, False)

    fn_UTCNOW = fn_NOW

    def _months(self, d: exp.Expression, n: exp.Expression) -> exp.Expression:
        return exp.Add(this=exp.cast(d, "DATE"), expression=fn("to_months", exp.cast(n, "INTEGER")))

    def fn_EOMONTH(self, call, env):
        d, n = (self.scalar(x, env) for x in self.args(call, env, 2))
        months = exp.cast(fn("trunc", blank_as_zero(number(n))), "INTEGER")
        return Scalar(exp.cast(fn("last_day", self._months(d.sql, months)), "TIMESTAMP"), DaxType.DATETIME, d.nullable)

    def fn_EDATE(self, call, env):
        d, n = (self.scalar(x, env) for x in self.args(call, env, 2))
        months = exp.cast(fn("trunc", blank_as_zero(number(n))), "INTEGER")
        return Scalar(exp.cast(self._months(d.sql, months), "TIMESTAMP"), DaxType.DATETIME, d.nullable)

    def fn_DATEDIFF(self, call, env):
        a, b, unit = self.args(call, env, 3)
        u = _enum(unit)
        parts = {"SECOND": "second", "MINUTE": "minute", "HOUR": "hour", "DAY": "day", "WEEK": "week",
                 "MONTH": "month", "QUARTER": "quarter", "YEAR": "year"}
        if u not in parts:
            raise self.err(env, unit, "DATEDIFF interval must be SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER or YEAR")
        x, y = self.scalar(a, env), self.scalar(b, env)
        if u == "WEEK":
            # weeks start on Sunday: count Sunday boundaries crossed
            f = lambda v: fn("date_trunc", S("week"), exp.Add(this=exp.cast(v, "DATE"), expression=fn("to_days", N(1))))
            r = exp.Div(this=fn("date_diff", S("day"), f(x.sql), f(y.sql)), expression=N(7))
        else:
            r = fn("date_diff", S(parts[u]), exp.cast(x.sql, "TIMESTAMP"), exp.cast(y.sql, "TIMESTAMP"))
        return Scalar(exp.cast(r, "BIGINT"), DaxType.INT)

    def fn_DATEVALUE(self, call, env):
        (a,) = self._text(call, env, 1)
        t = to_text(a)
        iso = fn("try_strptime", t, S("%Y-%m-%d"))
        us = fn("try_strptime", t.copy(), S("%m/%d/%Y"))
        return Scalar(fn("coalesce", iso, us, fn("error", S("DATEVALUE: cannot convert the text to a date"))),
                      DaxType.DATETIME, a.nullable)

    def fn_TIMEVALUE(self, call, env):
        (a,) = self._text(call, env, 1)
        t = fn("strptime", to_text(a), S("%H:%M:%S"))
        secs = fn("epoch", exp.cast(t, "TIME"))
        return Scalar(exp.Add(this=exp.cast(S("1899-12-30"), "TIMESTAMP"), expression=fn("to_seconds", secs)),
                      DaxType.DATETIME, a.nullable)

    def fn_NETWORKDAYS(self, call, env):
        args = self.args(call, env, 2, 3)
        if len(args) > 2:
            w = args[2]
            if not (isinstance(w, A.Number) and w.value == 1):
                raise self.unsupported(env, call, "NETWORKDAYS with a weekend code other than 1")
        a, b = self.scalar(args[0], env), self.scalar(args[1], env)
        days = exp.select(fn("count_if", fn("isodow", exp.column("d")).between(N(1), N(5)))).from_(
            exp.Table(this=exp.Anonymous(this="generate_series", expressions=[
                exp.cast(a.sql, "DATE"), exp.cast(b.sql, "DATE"), exp.Interval(this=S("1"), unit=exp.var("DAY"))]),
                alias=exp.TableAlias(this=ident_("g"), columns=[ident_("d")])))
        return Scalar(exp.cast(exp.Subquery(this=days), "BIGINT"), DaxType.INT)


def ident_(name: str) -> exp.Identifier:
    return exp.to_identifier(name)
