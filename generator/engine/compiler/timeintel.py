"""Time intelligence (dax-semantics.md §10).

Each function returns a set of dates of the date column: the dates visible in the filter
context (`VALUES(dates)`) transformed, then restricted to dates that exist in the column.
Used as a CALCULATE filter, a set on the marked date table's date column replaces every
filter on the date table (the mark-as-date-table rule, applied in `filter_arg`).
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import replace
from typing import Callable

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.compile_types import Env, Rel, RelCol
from generator.engine.compiler.core import CompilerCore
from generator.engine.compiler.dax_keywords import _enum
from generator.engine.data import fn
from generator.engine.context import ColKey, Scan
from generator.engine.types import DaxType
from generator.engine.values import Scalar, number

N = exp.Literal.number
S = exp.Literal.string
_UNITS = {"DAY": "day", "MONTH": "month", "QUARTER": "quarter", "YEAR": "year"}


def _date(e: exp.Expression) -> exp.Expression:
    return exp.cast(e, "DATE")


_MONTHS = {m: i + 1 for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}


def parse_year_end(text: str) -> tuple[int, int] | None:
    """(month, day) of a year_end_date string, or None if it is not one.

    learn.microsoft.com/dax/totalytd-function-dax: a date literal in the model's (en-US)
    locale whose year is ignored, e.g. "6/30", "6/30/2024", "Jun 30", "30 June"; ISO
    "2024-06-30" is accepted too. The day must exist in a leap year ("2/29" ends February)."""
    t = text.strip().lower().replace(",", " ")
    parts = t.replace("/", " ").replace("-", " ").split()
    month = day = None
    try:
        if "-" in t and len(parts) == 3 and len(parts[0]) == 4:
            month, day = int(parts[1]), int(parts[2])
        elif "/" in t and len(parts) in (2, 3):
            month, day = int(parts[0]), int(parts[1])
        elif len(parts) in (2, 3) and parts[0][:3] in _MONTHS and len(parts[0]) >= 3:
            month, day = _MONTHS[parts[0][:3]], int(parts[1])
        elif len(parts) in (2, 3) and parts[1][:3] in _MONTHS and len(parts[1]) >= 3:
            month, day = _MONTHS[parts[1][:3]], int(parts[0])
    except ValueError:
        return None
    if month is None or not 1 <= month <= 12:
        return None
    try:
        _dt.date(2000, month, day)
    except (TypeError, ValueError):
        return None
    return month, day


def _year_end_in(year: exp.Expression, ye: tuple[int, int]) -> exp.Expression:
    """The fiscal year end (month, day) in calendar `year`, as a DATE ("2/29" is Feb's last day)."""
    month, day = ye
    if (month, day) == (2, 29):
        return fn("last_day", fn("make_date", exp.cast(year, "BIGINT"), N(2), N(1)))
    return fn("make_date", exp.cast(year, "BIGINT"), N(month), N(day))


def _fiscal_end_before(d: exp.Expression, ye: tuple[int, int]) -> exp.Expression:
    """The last fiscal year end strictly before date `d`: the day before its fiscal year starts."""
    year = fn("year", _date(d.copy()))
    return exp.Case(ifs=[exp.If(this=exp.GT(this=_date(d.copy()), expression=_year_end_in(year.copy(), ye)),
                                true=_year_end_in(year.copy(), ye))],
                    default=_year_end_in(exp.Sub(this=year.copy(), expression=N(1)), ye))


def _fiscal_end_from(d: exp.Expression, ye: tuple[int, int]) -> exp.Expression:
    """The first fiscal year end on or after date `d`: the end of the fiscal year holding it."""
    year = fn("year", _date(d.copy()))
    return exp.Case(ifs=[exp.If(this=exp.GT(this=_date(d.copy()), expression=_year_end_in(year.copy(), ye)),
                                true=_year_end_in(exp.Add(this=year.copy(), expression=N(1)), ye))],
                    default=_year_end_in(year.copy(), ye))


def _shift(d: exp.Expression, n: exp.Expression, unit: str) -> exp.Expression:
    n = exp.cast(n, "INTEGER")
    if unit == "day":
        return _date(exp.Add(this=_date(d), expression=fn("to_days", n)))
    if unit == "quarter":
        n = exp.Mul(this=n, expression=N(3))
    if unit == "year":
        return _date(exp.Add(this=_date(d), expression=fn("to_years", n)))
    return _date(exp.Add(this=_date(d), expression=fn("to_months", n)))


class TimeFns(CompilerCore):

    def _dates_key(self, env: Env, node: A.Expr) -> ColKey:
        key = self.colref(env, node)
        return key

    def _dates_env(self, env: Env) -> Env:
        """The context the dates column is read in: a column reference stands for
        CALCULATETABLE(DISTINCT(<dates>)), so a row context transitions first (dax.guide
        marks the time-intelligence functions "Context Transition"): in SUMX over years,
        DATESYTD sees each year's dates, in a calculated column of Date the row's date."""
        if len(env.rows) > env.transitioned:
            return env.inside_calculate(self.transition(env))
        return env

    def _visible(self, key: ColKey, env: Env, agg: type) -> exp.Expression:
        """MIN/MAX of the dates visible in the current filter context.

        Through `agg_over`, so in a visual it is a grouped leaf: a column of each cell, which
        lets DuckDB join the shifted period (PREVIOUSMONTH, DATEADD…) to the fact table as a
        range join, where a correlated subquery made it a product of cells and rows."""
        env = self._dates_env(env)
        rel = self.base_rel(self.model.table(key[0]), env)
        return self.agg_over(rel, env, lambda inner: self.column_value(key, inner, None),
                             lambda v: agg(this=_date(v.sql)))

    def _visible_set(self, key: ColKey, env: Env) -> exp.Select:
        env = self._dates_env(env)
        table = self.model.table(key[0])
        scan = Scan(self, table, env.ctx.rels or self.base_rels())
        return scan.build(exp.select(exp.alias_(_date(scan.col(key)), "v")).distinct(), self.where_for(scan, env.ctx))

    def _date_set(self, key: ColKey, env: Env, cond: Callable[[exp.Expression], exp.Expression]) -> Rel:
        table = self.model.table(key[0])
        scan = Scan(self, table, env.ctx.rels or self.base_rels())
        col = scan.col(key)
        # the condition is built once, on a placeholder, and copied for each column it tests
        template = cond(_date(exp.column("__pbi_forge_date__")))

        def on(c: exp.Expression) -> exp.Expression:
            return template.transform(
                lambda n: c.copy() if isinstance(n, exp.Column) and n.name == "__pbi_forge_date__" else n)

        sel = scan.build(exp.select(exp.alias_(col, "c0")).distinct(), on(col))
        return Rel((RelCol(f"{key[0]}[{key[1]}]", "c0", key, self.col_type(key)),), sel, nonnull=True,
                   col_pred=(key, on))

    def year_end(self, env: Env, node: A.Expr) -> tuple[int, int] | None:
        """The (month, day) of a year_end_date argument; None for the default December 31."""
        if not isinstance(node, A.String):
            raise self.err(env, node, "the year-end date must be a string literal such as \"6/30\"")
        ye = parse_year_end(node.value)
        if ye is None:
            raise self.err(env, node, f"\"{node.value}\" is not a year-end date (month/day, e.g. \"6/30\")")
        return None if ye == (12, 31) else ye

    def _period_to_date(self, call, env, part: str) -> Rel:
        # only the year-to-date forms take a year-end date (dax.guide/DATESYTD, DATESQTD, DATESMTD)
        args = self.args(call, env, 1, 2 if part == "year" else 1)
        key = self._dates_key(env, args[0])
        last = self._visible(key, env, exp.Max)
        ye = self.year_end(env, args[1]) if len(args) > 1 else None
        if ye is None:
            first = fn("date_trunc", S(part), last)
        else:  # the day after the last fiscal year end before the last visible date
            first = exp.Add(this=_fiscal_end_before(last, ye), expression=fn("to_days", N(1)))
        return self._date_set(key, env, lambda d: exp.and_(exp.GTE(this=d, expression=_date(first.copy())),
                                                           exp.LTE(this=d.copy(), expression=last.copy())))

    def fn_DATESYTD(self, call, env):
        return self._period_to_date(call, env, "year")

    def fn_DATESQTD(self, call, env):
        return self._period_to_date(call, env, "quarter")

    def fn_DATESMTD(self, call, env):
        return self._period_to_date(call, env, "month")

    def _total_to_date(self, call, env, fn: str):
        """TOTALxTD(expr, dates [, filter]) = CALCULATE(expr, DATESxTD(dates) [, filter]).

        TOTALYTD also takes a year-end date after the filter; a string literal in third
        place is that date (learn.microsoft.com/dax/totalytd-function-dax)."""
        year = fn == "DATESYTD"
        args = self.args(call, env, 2, 4 if year else 3)
        rest = list(args[2:])
        if not year and any(isinstance(a, A.String) for a in rest):
            raise self.err(env, next(a for a in rest if isinstance(a, A.String)),
                           f"{call.name} has no year-end date argument (only the year functions do)")
        ye = ()
        if year and (len(rest) == 2 or (len(rest) == 1 and isinstance(rest[0], A.String))):
            ye = (rest.pop(),)
        extra = tuple(a for a in rest if not isinstance(a, A.EmptyArg))
        dates = A.FunctionCall(fn, (args[1], *ye), span=call.span)
        return self.compile(A.FunctionCall("CALCULATE", (args[0], dates, *extra), span=call.span), env)

    def fn_TOTALYTD(self, call, env):
        return self._total_to_date(call, env, "DATESYTD")

    def fn_TOTALQTD(self, call, env):
        return self._total_to_date(call, env, "DATESQTD")

    def fn_TOTALMTD(self, call, env):
        return self._total_to_date(call, env, "DATESMTD")

    def _unit(self, env, node) -> str:
        u = _enum(node)
        if u not in _UNITS:
            raise self.err(env, node, "the interval must be DAY, MONTH, QUARTER or YEAR")
        return _UNITS[u]

    def fn_DATEADD(self, call, env):
        d, n, u = self.args(call, env, 3)
        return self._dateadd(call, env, d, self.scalar(n, env), self._unit(env, u))

    def fn_SAMEPERIODLASTYEAR(self, call, env):
        (d,) = self.args(call, env, 1)
        return self._dateadd(call, env, d, Scalar(N(-1), DaxType.INT, False), "year")

    def _dateadd(self, call, env, d, n: Scalar, unit: str) -> Rel:
        key = self._dates_key(env, d)
        visible = self._visible_set(key, env)
        # each visible date v maps to shift(v); a month-end v also brings the rest of the
        # shifted month (DATEADD(month-end, -1, MONTH) keeps whole months). Candidates are
        # generated per v, then semi-joined on equality (no range join per cell).
        alias = self.new_alias()
        v = exp.column("v", alias)
        shifted = _shift(v, number(n).sql, unit)
        if unit == "day":
            last = shifted.copy()
        else:
            last = exp.Case(ifs=[exp.If(this=exp.EQ(this=v.copy(), expression=fn("last_day", v.copy())),
                                        true=fn("last_day", shifted.copy()))], default=shifted.copy())
        series = fn("generate_series", exp.cast(shifted, "TIMESTAMP"), exp.cast(last, "TIMESTAMP"),
                    exp.Interval(this=S("1"), unit=exp.var("DAY")))
        candidates = exp.select(exp.cast(fn("unnest", series), "DATE")).from_(visible.subquery(alias))
        rel = self._date_set(key, env, lambda c: c.isin(query=candidates))
        # DATEADD needs contiguous dates in the filter context (dax.guide/DATEADD). The check
        # is a cell-level scalar: CALCULATE raises it around its result (`Rel.guard`)
        a2 = self.new_alias()
        v2 = exp.column("v", a2)
        gap = exp.NEQ(this=exp.Add(this=fn("date_diff", S("day"), exp.Min(this=v2), exp.Max(this=v2.copy())),
                                   expression=N(1)),
                      expression=exp.Count(this=exp.Distinct(expressions=[v2.copy()])))
        guard = exp.Subquery(this=exp.select(fn("coalesce", gap, exp.false())).from_(
            self._visible_set(key, env).subquery(a2)))
        return replace(rel, guard=(guard, "DATEADD: the dates in the current context are not contiguous"))

    def fn_PARALLELPERIOD(self, call, env):
        d, n, u = self.args(call, env, 3)
        key = self._dates_key(env, d)
        unit = self._unit(env, u)
        if unit == "day":
            raise self.err(env, u, "PARALLELPERIOD needs MONTH, QUARTER or YEAR")
        k = number(self.scalar(n, env)).sql
        lo = _shift(fn("date_trunc", S(unit), self._visible(key, env, exp.Min)), k, unit)
        hi_start = _shift(fn("date_trunc", S(unit), self._visible(key, env, exp.Max)), k.copy(), unit)
        hi = _date(exp.Sub(this=_shift(hi_start, N(1), unit), expression=fn("to_days", N(1))))
        return self._date_set(key, env, lambda c: exp.and_(exp.GTE(this=c, expression=lo), exp.LTE(this=c.copy(), expression=hi)))

    def _previous(self, call, env, unit: str, use_last: bool = False):
        (d,) = self.args(call, env, 1)
        key = self._dates_key(env, d)
        anchor = self._visible(key, env, exp.Max if use_last else exp.Min)
        if unit == "day":
            prev = _shift(anchor, N(-1), "day")
            return self._date_set(key, env, lambda c: exp.EQ(this=c, expression=prev))
        start = _shift(fn("date_trunc", S(unit), anchor), N(-1), unit)
        end = _date(exp.Sub(this=_date(fn("date_trunc", S(unit), anchor.copy())), expression=fn("to_days", N(1))))
        return self._date_set(key, env, lambda c: exp.and_(exp.GTE(this=c, expression=start), exp.LTE(this=c.copy(), expression=end)))

    def fn_PREVIOUSDAY(self, call, env):
        return self._previous(call, env, "day")

    def fn_PREVIOUSMONTH(self, call, env):
        return self._previous(call, env, "month")

    def fn_PREVIOUSQUARTER(self, call, env):
        return self._previous(call, env, "quarter")

    def fn_PREVIOUSYEAR(self, call, env):
        args = self.args(call, env, 1, 2)
        ye = self.year_end(env, args[1]) if len(args) > 1 else None
        if ye is None:
            return self._previous(replace(call, args=args[:1]), env, "year", use_last=True)
        # the fiscal year before the one holding the last visible date:
        # (end of the year before it, end of the year before the current one]
        key = self._dates_key(env, args[0])
        end = _fiscal_end_before(self._visible(key, env, exp.Max), ye)
        start = exp.Add(this=_fiscal_end_before(end, ye), expression=fn("to_days", N(1)))
        return self._date_set(key, env, lambda c: exp.and_(exp.GTE(this=c, expression=_date(start)),
                                                           exp.LTE(this=c.copy(), expression=end.copy())))

    def fn_NEXTYEAR(self, call, env):
        """All dates of the (fiscal) year after the one holding the first visible date
        (learn.microsoft.com/dax/nextyear-function-dax)."""
        args = self.args(call, env, 1, 2)
        ye = (self.year_end(env, args[1]) if len(args) > 1 else None) or (12, 31)
        key = self._dates_key(env, args[0])
        first = self._visible(key, env, exp.Min)
        this_end = _fiscal_end_from(first, ye)
        start = exp.Add(this=this_end.copy(), expression=fn("to_days", N(1)))
        end = _year_end_in(exp.Add(this=fn("year", this_end.copy()), expression=N(1)), ye)
        return self._date_set(key, env, lambda c: exp.and_(exp.GTE(this=c, expression=_date(start)),
                                                           exp.LTE(this=c.copy(), expression=end.copy())))

    def fn_DATESINPERIOD(self, call, env):
        d, start, n, u = self.args(call, env, 4)
        key = self._dates_key(env, d)
        unit = self._unit(env, u)
        s = _date(self.scalar(start, env).sql)
        k = number(self.scalar(n, env)).sql
        end = _shift(s, k, unit)
        neg = exp.LT(this=k.copy(), expression=N(0))

        def cond(c: exp.Expression) -> exp.Expression:
            backward = exp.and_(exp.GT(this=c, expression=end), exp.LTE(this=c.copy(), expression=s.copy()))
            forward = exp.and_(exp.GTE(this=c.copy(), expression=s.copy()), exp.LT(this=c.copy(), expression=end.copy()))
            return exp.Case(ifs=[exp.If(this=neg, true=backward)], default=forward)

        return self._date_set(key, env, cond)

    def fn_DATESBETWEEN(self, call, env):
        d, a, b = self.args(call, env, 3)
        key = self._dates_key(env, d)
        lo, hi = self.scalar(a, env), self.scalar(b, env)

        def cond(c: exp.Expression) -> exp.Expression:
            ge = exp.or_(exp.paren(lo.sql).is_(exp.null()), exp.GTE(this=c, expression=_date(lo.sql.copy())))
            le = exp.or_(exp.paren(hi.sql).is_(exp.null()), exp.LTE(this=c.copy(), expression=_date(hi.sql.copy())))
            return exp.and_(exp.paren(ge), exp.paren(le))

        return self._date_set(key, env, cond)

    def _edge(self, call, env, agg):
        (d,) = self.args(call, env, 1)
        key = self._dates_key(env, d)
        edge = self._visible(key, env, agg)
        return self._date_set(key, env, lambda c: exp.EQ(this=c, expression=edge))

    def fn_FIRSTDATE(self, call, env):
        return self._edge(call, env, exp.Min)

    def fn_LASTDATE(self, call, env):
        return self._edge(call, env, exp.Max)
