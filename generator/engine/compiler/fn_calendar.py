"""Table generators: CALENDAR, CALENDARAUTO, GENERATESERIES.

They make rows out of nothing but scalars (or, for CALENDARAUTO, the model's date
columns), which is what calculated tables are built from. Rules (learn.microsoft.com):
- CALENDAR(start, end): one column [Date], every day from start to end; an error when
  start is after end (dax/calendar-function-dax).
- CALENDARAUTO([fiscal_year_end_month]): the same, from the first day of the (fiscal)
  year holding the model's earliest date to the last day of the one holding its latest,
  looking only at date columns that are neither calculated columns nor in calculated
  tables; the month argument is 1..12, default 12 (dax/calendarauto-function-dax).
- GENERATESERIES(start, end[, increment]): one column [Value], start, start+increment,
  … while <= end; empty when end < start; increment must be positive; integer when all
  three are integers (dax/generateseries-function).
"""
from __future__ import annotations

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.compile_types import Rel, RelCol
from generator.engine.data import fn, table_ref
from generator.engine.types import DaxType
from generator.engine.values import Scalar, cast

N = exp.Literal.number
S = exp.Literal.string
_DAY = exp.Interval(this=S("1"), unit=exp.Var(this="DAY"))


def _days(start: exp.Expression, end: exp.Expression) -> exp.Select:
    """SELECT one TIMESTAMP column c0: every midnight from start to end (DATE values)."""
    series = fn("generate_series", exp.cast(start, "TIMESTAMP"), exp.cast(end, "TIMESTAMP"), _DAY.copy())
    return exp.select(exp.alias_(fn("unnest", series), "c0"))


def _error_if(condition: exp.Expression, message: str, value: exp.Expression) -> exp.Expression:
    return exp.Case(ifs=[exp.If(this=condition, true=fn("error", S(message)))], default=value)


class CalendarFns:
    """Mixin for `Compiler`: the table generators calculated tables start from."""

    def fn_CALENDAR(self, call, env):
        a, b = self.args(call, env, 2)
        start = exp.cast(cast(self.scalar(a, env), DaxType.DATETIME).sql, "DATE")
        end = exp.cast(cast(self.scalar(b, env), DaxType.DATETIME).sql, "DATE")
        bad = exp.or_(exp.Is(this=start.copy(), expression=exp.Null()), exp.Is(this=end.copy(), expression=exp.Null()),
                      exp.GT(this=start.copy(), expression=end.copy()))
        checked = _error_if(bad, "CALENDAR: the start date is blank or after the end date", start)
        return Rel((RelCol("Date", "c0", None, DaxType.DATETIME),), _days(checked, end))

    def fn_CALENDARAUTO(self, call, env):
        args = self.args(call, env, 0, 1)
        month = 12
        if args:
            node = args[0]
            value = -node.operand.value if isinstance(node, A.UnaryOp) and node.op == "-" and isinstance(
                node.operand, A.Number) else getattr(node, "value", None)
            if not isinstance(node, (A.Number, A.UnaryOp)) or not isinstance(value, int) or not 1 <= value <= 12:
                raise self.err(env, node, "CALENDARAUTO: fiscal_year_end_month must be an integer from 1 to 12")
            month = value
        dates = [exp.select(exp.alias_(exp.cast(exp.column(c.name, quoted=True), "DATE"), "d")).from_(table_ref(t.name))
                 for t in self.model.tables if not t.is_calculated
                 for c in t.columns if c.type in ("date", "datetime")]
        if not dates:
            raise self.err(env, call, "CALENDARAUTO: the model has no date column outside calculated tables and columns")
        union = dates[0]
        for d in dates[1:]:
            union = exp.union(union, d, distinct=False)
        first = month % 12 + 1  # the first month of a fiscal year
        lo, hi = exp.column("lo", "b"), exp.column("hi", "b")

        def year_start(d: exp.Expression, after: bool) -> exp.Expression:
            """1st of `first` in the fiscal year holding d (after: in the next one)."""
            shift = exp.If(this=exp.GTE(this=fn("month", d), expression=N(str(first))),
                           true=N("1" if after else "0"))
            year = exp.Add(this=fn("year", d.copy()), expression=exp.Case(
                ifs=[shift], default=N("0" if after else "-1")))
            return fn("make_date", year, N(str(first)), N("1"))

        start = _error_if(exp.Is(this=lo.copy(), expression=exp.Null()),
                          "CALENDARAUTO: the model's date columns hold no date", year_start(lo, False))
        end = exp.Sub(this=year_start(hi, True), expression=_DAY.copy())
        bounds = exp.select(exp.alias_(exp.Min(this=exp.column("d")), "lo"),
                            exp.alias_(exp.Max(this=exp.column("d")), "hi")).from_(union.subquery("u"))
        return Rel((RelCol("Date", "c0", None, DaxType.DATETIME),),
                   _days(start, end).from_(bounds.subquery("b")))

    def fn_GENERATESERIES(self, call, env):
        args = self.args(call, env, 2, 3)
        values = [self.scalar(a, env) for a in args]
        step = values[2] if len(values) == 3 else Scalar(N("1"), DaxType.INT, False)
        ints = all(v.type is DaxType.INT for v in (*values[:2], step))
        kind = DaxType.INT if ints else DaxType.DOUBLE
        start, end, inc = (cast(v, kind).sql for v in (*values[:2], step))
        inc = _error_if(exp.or_(exp.Is(this=inc.copy(), expression=exp.Null()),
                                exp.LTE(this=inc.copy(), expression=N("0"))),
                        "GENERATESERIES: the increment must be a positive number", inc)
        # the row count, rounded to 9 places first so that 0..1 by 0.1 has 11 rows, not 10
        span = exp.Div(this=exp.Sub(this=end, expression=start.copy()), expression=inc.copy())
        count = fn("floor", fn("round", exp.cast(span, "DOUBLE"), N("9")))
        i = exp.column("range", "r")
        value = exp.Add(this=start.copy(), expression=exp.Mul(this=exp.cast(i, "BIGINT"), expression=inc.copy()))
        sql_type = "BIGINT" if ints else "DOUBLE"
        rng = exp.Table(this=exp.Anonymous(this="range", expressions=[
            N("0"), exp.Add(this=exp.cast(fn("greatest", count, N("-1")), "BIGINT"), expression=N("1"))]),
            alias=exp.TableAlias(this=exp.to_identifier("r")))
        sel = exp.select(exp.alias_(exp.cast(value, sql_type), "c0")).from_(rng)
        return Rel((RelCol("Value", "c0", None, kind),), sel)
