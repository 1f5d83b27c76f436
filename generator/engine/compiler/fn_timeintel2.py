"""More time intelligence: STARTOF*/ENDOF*, NEXTDAY/NEXTMONTH/NEXTQUARTER, OPENINGBALANCE*/
CLOSINGBALANCE*, FIRSTNONBLANK/LASTNONBLANK, WEEKNUM, and the week functions Power BI
allows only on a calendar (calendar-based time intelligence).

Periods follow dax.guide: STARTOF<period> is the earliest date of the column (all its
dates, not only the visible ones) in the period of the earliest visible date; ENDOF<period>
the latest date of the column in the period of the latest visible date (dax.guide/startofyear,
/endofyear). NEXT<period> is every date of the period after the one holding the latest
visible date (dax.guide/nextquarter: "considering the last day in the dates argument").
OPENINGBALANCE<period>(e, dates) evaluates e on the day before the period of the earliest
visible date starts; CLOSINGBALANCE<period>(e, dates) on ENDOF<period>(dates)
(learn.microsoft.com/dax/openingbalancemonth-function-dax, closingbalancemonth-function-dax).
The *YEAR forms take a fiscal year-end date ("6/30").
"""
from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.compile_types import Env, Rel, RelCol
from generator.engine.context import Scan
from generator.engine.data import fn
from generator.engine.compiler.timeintel import _date, _fiscal_end_before, _fiscal_end_from, _shift
from generator.engine.types import DaxType
from generator.engine.values import Scalar

N = exp.Literal.number
S = exp.Literal.string

# Calendar-based time intelligence (learn.microsoft.com/power-bi/transform-model/desktop-time-intelligence#calendar-based-time-intelligence):
# the week functions need a calendar reference, which a column is not. Value: the
# argument Desktop names ("parameter N must be a calendar reference"), or None for the
# balance functions, which Desktop parses as the DAY/MONTH/QUARTER/YEAR keyword form.
WEEK_FUNCTIONS = {"DATESWTD": 1, "TOTALWTD": 2, "STARTOFWEEK": 1, "ENDOFWEEK": 1, "NEXTWEEK": 1,
                  "PREVIOUSWEEK": 1, "OPENINGBALANCEWEEK": None, "CLOSINGBALANCEWEEK": None}

# WEEKNUM return types (learn.microsoft.com/dax/weeknum-function-dax): the ISO weekday
# (Mon = 1 … Sun = 7) a week starts on; 21 is the ISO 8601 week number.
_WEEK_START = {1: 7, 2: 1, 11: 1, 12: 2, 13: 3, 14: 4, 15: 5, 16: 6, 17: 7}
_DAY = "day"


class TimeFns2:
    """Mixin for `Compiler` (uses TimeFns' date-set helpers)."""

    # ------------------------------------------------------------ period bounds

    def _period_start(self, d: exp.Expression, unit: str, ye) -> exp.Expression:
        """First day of the period (calendar or fiscal year) holding date `d`."""
        if unit == "year" and ye is not None:
            return _date(exp.Add(this=_fiscal_end_before(d, ye), expression=fn("to_days", N(1))))
        return _date(fn("date_trunc", S(unit), _date(d)))

    def _period_end(self, d: exp.Expression, unit: str, ye) -> exp.Expression:
        if unit == "year" and ye is not None:
            return _date(_fiscal_end_from(d, ye))
        start = self._period_start(d, unit, None)
        return _date(exp.Sub(this=_shift(start, N(1), unit), expression=fn("to_days", N(1))))

    def _column_edge(self, key, env: Env, lo: exp.Expression, hi: exp.Expression, agg) -> exp.Expression:
        """MIN/MAX of the column's dates (no filter) in [lo, hi]."""
        scan = Scan(self, self.model.table(key[0]), env.ctx.rels or self.base_rels())
        c = _date(scan.col(key))
        cond = exp.and_(exp.GTE(this=c, expression=lo), exp.LTE(this=c.copy(), expression=hi))
        return exp.Subquery(this=scan.build(exp.select(agg(this=c.copy())), cond))

    def _year_end_arg(self, env, args, i: int, unit: str):
        if len(args) > i:
            if unit != "year":
                raise self.err(env, args[i], "only the YEAR functions take a year-end date")
            return self.year_end(env, args[i])
        return None

    def _start_or_end(self, call, env, unit: str, end: bool) -> Rel:
        args = self.args(call, env, 1, 2 if unit == "year" else 1)
        key = self._dates_key(env, args[0])
        ye = self._year_end_arg(env, args, 1, unit)
        anchor = self._visible(key, env, exp.Max if end else exp.Min)
        lo, hi = self._period_start(anchor, unit, ye), self._period_end(anchor.copy(), unit, ye)
        edge = self._column_edge(key, env, lo, hi, exp.Max if end else exp.Min)
        return self._date_set(key, env, lambda c: exp.EQ(this=c, expression=edge))

    def fn_STARTOFMONTH(self, call, env):
        return self._start_or_end(call, env, "month", end=False)

    def fn_STARTOFQUARTER(self, call, env):
        return self._start_or_end(call, env, "quarter", end=False)

    def fn_STARTOFYEAR(self, call, env):
        return self._start_or_end(call, env, "year", end=False)

    def fn_ENDOFMONTH(self, call, env):
        return self._start_or_end(call, env, "month", end=True)

    def fn_ENDOFQUARTER(self, call, env):
        return self._start_or_end(call, env, "quarter", end=True)

    def fn_ENDOFYEAR(self, call, env):
        return self._start_or_end(call, env, "year", end=True)

    # ------------------------------------------------------------ NEXTDAY / NEXTMONTH / NEXTQUARTER

    def _next(self, call, env, unit: str) -> Rel:
        (d,) = self.args(call, env, 1)
        key = self._dates_key(env, d)
        last = self._visible(key, env, exp.Max)
        if unit == _DAY:
            nxt = _shift(last, N(1), _DAY)
            return self._date_set(key, env, lambda c: exp.EQ(this=c, expression=nxt))
        start = _shift(self._period_start(last, unit, None), N(1), unit)
        end = _date(exp.Sub(this=_shift(start.copy(), N(1), unit), expression=fn("to_days", N(1))))
        return self._date_set(key, env, lambda c: exp.and_(exp.GTE(this=c, expression=start),
                                                           exp.LTE(this=c.copy(), expression=end)))

    def fn_NEXTDAY(self, call, env):
        return self._next(call, env, _DAY)

    def fn_NEXTMONTH(self, call, env):
        return self._next(call, env, "month")

    def fn_NEXTQUARTER(self, call, env):
        return self._next(call, env, "quarter")

    # ------------------------------------------------------------ OPENINGBALANCE / CLOSINGBALANCE

    def _balance(self, call, env, unit: str, closing: bool):
        """<fn>(expression, dates [, filter] [, year end]) = CALCULATE(expression, <the day>, filter)."""
        year = unit == "year"
        args = self.args(call, env, 2, 4 if year else 3)
        rest = list(args[2:])
        ye = None
        if year and rest and isinstance(rest[-1], A.String):
            ye = self.year_end(env, rest.pop())
        elif any(isinstance(a, A.String) for a in rest):
            raise self.err(env, next(a for a in rest if isinstance(a, A.String)),
                           f"{call.name} has no year-end date argument (only the YEAR functions do)")
        key = self._dates_key(env, args[1])
        if closing:
            anchor = self._visible(key, env, exp.Max)
            lo, hi = self._period_start(anchor, unit, ye), self._period_end(anchor.copy(), unit, ye)
            day = self._column_edge(key, env, lo, hi, exp.Max)
        else:
            first = self._visible(key, env, exp.Min)
            day = _date(exp.Sub(this=self._period_start(first, unit, ye), expression=fn("to_days", N(1))))
        dates = self._date_set(key, env, lambda c: exp.EQ(this=c, expression=day))
        name = f"__pbi_forge_balance_{id(call)}"
        inner = replace(env, vars={**env.vars, name: dates})
        filters = tuple(a for a in rest if not isinstance(a, A.EmptyArg))
        return self.compile(A.FunctionCall("CALCULATE", (args[0], A.VarRef(name, span=call.span), *filters),
                                           span=call.span), inner)

    def fn_OPENINGBALANCEMONTH(self, call, env):
        return self._balance(call, env, "month", closing=False)

    def fn_OPENINGBALANCEQUARTER(self, call, env):
        return self._balance(call, env, "quarter", closing=False)

    def fn_OPENINGBALANCEYEAR(self, call, env):
        return self._balance(call, env, "year", closing=False)

    def fn_CLOSINGBALANCEMONTH(self, call, env):
        return self._balance(call, env, "month", closing=True)

    def fn_CLOSINGBALANCEQUARTER(self, call, env):
        return self._balance(call, env, "quarter", closing=True)

    def fn_CLOSINGBALANCEYEAR(self, call, env):
        return self._balance(call, env, "year", closing=True)

    # ------------------------------------------------------------ FIRSTNONBLANK / LASTNONBLANK

    def _nonblank(self, call, env, last: bool) -> Rel:
        """A one-row table of the column: its first (last) value, in ascending order with
        BLANK first, for which the expression — evaluated per value with context
        transition — is not BLANK (learn.microsoft.com/dax/firstnonblank-function-dax)."""
        a, e = self.args(call, env, 2)
        key, rel = self._values_col(env, a)

        def project(inner: Env):
            v = self.scalar(A.FunctionCall("CALCULATE", (e,), span=e.span), inner)
            return [exp.alias_(inner.rows[-1].cols[key].sql, "k"), exp.alias_(v.sql, "v")]

        sel = self.over(rel, env, project)
        alias = self.new_alias()
        k = exp.column("k", alias)
        pick = exp.select(exp.alias_(k, "c0")).from_(sel.subquery(alias)).where(
            exp.column("v", alias).is_(exp.null()).not_()).order_by(
            exp.Ordered(this=k.copy(), desc=last, nulls_first=not last)).limit(1)
        return Rel((RelCol(f"{key[0]}[{key[1]}]", "c0", key, self.col_type(key)),), pick)

    def fn_FIRSTNONBLANK(self, call, env):
        return self._nonblank(call, env, last=False)

    def fn_LASTNONBLANK(self, call, env):
        return self._nonblank(call, env, last=True)

    # ------------------------------------------------------------ WEEKNUM

    def fn_WEEKNUM(self, call, env):
        """WEEKNUM(date [, return type]): week 1 holds January 1 and weeks start on the
        return type's weekday (1: Sunday, 2: Monday, 11–17: Monday…Sunday); 21 is the ISO
        8601 week (learn.microsoft.com/dax/weeknum-function-dax). BLANK date: BLANK."""
        args = self.args(call, env, 1, 2)
        d = self.scalar(args[0], env)
        kind = 1
        if len(args) > 1:
            if not isinstance(args[1], A.Number) or args[1].value not in (*_WEEK_START, 21):
                raise self.err(env, args[1], "WEEKNUM's return type must be 1, 2, 11–17 or 21")
            kind = int(args[1].value)
        day = _date(d.sql)
        if kind == 21:
            return Scalar(exp.cast(fn("weekofyear", day), "BIGINT"), DaxType.INT, d.nullable)
        jan1 = fn("date_trunc", S("year"), day.copy())
        offset = fn("mod", exp.Add(this=exp.Sub(this=fn("isodow", jan1), expression=N(_WEEK_START[kind])),
                                   expression=N(7)), N(7))
        doy = exp.Sub(this=fn("dayofyear", day.copy()), expression=N(1))
        week = exp.Add(this=exp.IntDiv(this=exp.paren(exp.Add(this=doy, expression=offset)), expression=N(7)),
                       expression=N(1))
        return Scalar(exp.cast(week, "BIGINT"), DaxType.INT, d.nullable)

    # ------------------------------------------------------------ week functions (calendar only)

    def week_function(self, call, env):
        param = WEEK_FUNCTIONS[call.name.upper()]
        if param is None:
            raise self.err(env, call, "The last argument must be one of these keywords: DAY, MONTH, QUARTER or YEAR",
                           f"{call.name} needs a calendar (calendar-based time intelligence), which pbi-forge "
                           f"models do not define")
        raise self.err(env, call, f"{call.name}'s parameter {param} must be a calendar reference",
                       "the week functions need calendar-based time intelligence; a date column is not a calendar")


for _name in WEEK_FUNCTIONS:
    setattr(TimeFns2, "fn_" + _name, TimeFns2.week_function)
