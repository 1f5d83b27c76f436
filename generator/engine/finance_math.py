"""Excel-compatible financial mathematics (DAX's financial functions), in pure Python.

DAX's financial functions are Excel's (learn.microsoft.com/dax/financial-functions-dax):
the same day-count bases, coupon schedule and iterative solvers. This module holds the
numbers only; `fn_finance` turns DAX calls into calls of these functions (registered as
backend UDFs), so they can be tested without SQL.

Conventions:
- dates are serial numbers (days since 1899-12-30, DAX's and Excel's serial date); the
  time of day is dropped, as Excel truncates date arguments to whole days;
- `basis` (day count) and `frequency` are truncated to integers, as Excel does;
- an invalid argument raises `FinanceError` with the function's name and the rule
  broken: Power BI raises an error for these (Excel's #NUM!), never a BLANK.

Day-count bases (learn.microsoft.com/dax/yearfrac-function-dax):
0 US (NASD) 30/360 · 1 actual/actual · 2 actual/360 · 3 actual/365 · 4 European 30/360.
"""
from __future__ import annotations

import calendar
import datetime as dt
import math
from typing import Callable, Sequence

EPOCH = dt.date(1899, 12, 30)


class FinanceError(ValueError):
    """An argument Power BI rejects (Excel's #NUM! / #DIV/0!)."""


def fail(name: str, why: str) -> FinanceError:
    return FinanceError(f"{name}: {why}")


# ---------------------------------------------------------------- dates

def to_date(serial: float) -> dt.date:
    return EPOCH + dt.timedelta(days=math.floor(serial))


def to_serial(d: dt.date) -> float:
    return float((d - EPOCH).days)


def _eom(d: dt.date) -> bool:
    return d.day == calendar.monthrange(d.year, d.month)[1]


def add_months(d: dt.date, months: int, eom: bool) -> dt.date:
    """d shifted by whole months; the day is clamped to the month's length, or is the
    month's last day when `eom` (Excel's end-of-month rule for coupon dates)."""
    total = d.year * 12 + d.month - 1 + months
    y, m = divmod(total, 12)
    last = calendar.monthrange(y, m + 1)[1]
    return dt.date(y, m + 1, last if eom else min(d.day, last))


def _leap(y: int) -> bool:
    return calendar.isleap(y)


def days_360_us(a: dt.date, b: dt.date) -> int:
    """US (NASD) 30/360, with the end-of-February rules Excel's YEARFRAC basis 0 uses."""
    d1, d2 = a.day, b.day
    feb_end = lambda d: d.month == 2 and _eom(d)  # noqa: E731
    if feb_end(a) and feb_end(b):
        d2 = 30
    if feb_end(a):
        d1 = 30
    if d2 == 31 and d1 >= 30:
        d2 = 30
    if d1 == 31:
        d1 = 30
    return (b.year - a.year) * 360 + (b.month - a.month) * 30 + (d2 - d1)


def days_360_eu(a: dt.date, b: dt.date) -> int:
    """European 30/360: a 31st counts as the 30th."""
    d1, d2 = min(a.day, 30), min(b.day, 30)
    return (b.year - a.year) * 360 + (b.month - a.month) * 30 + (d2 - d1)


def day_count(a: dt.date, b: dt.date, basis: int) -> int:
    """Days from a to b under the basis' convention (30/360 for 0 and 4, actual else)."""
    if basis == 0:
        return days_360_us(a, b)
    if basis == 4:
        return days_360_eu(a, b)
    return (b - a).days


def check_basis(name: str, basis: float) -> int:
    b = math.trunc(basis)
    if b < 0 or b > 4:
        raise fail(name, f"basis must be 0, 1, 2, 3 or 4, got {basis:g}")
    return b


def check_freq(name: str, frequency: float) -> int:
    f = math.trunc(frequency)
    if f not in (1, 2, 4):
        raise fail(name, f"frequency must be 1, 2 or 4, got {frequency:g}")
    return f


def check_order(name: str, first: dt.date, second: dt.date, a: str, b: str) -> None:
    if first >= second:
        raise fail(name, f"{a} must be before {b}")


def year_frac(a: dt.date, b: dt.date, basis: int) -> float:
    """YEARFRAC (learn.microsoft.com/dax/yearfrac-function-dax; basis 1 is Excel's
    actual/actual: one year's length when the span is at most a year, else the average
    length of the years it touches)."""
    if a > b:
        a, b = b, a
    if basis == 0:
        return days_360_us(a, b) / 360.0
    if basis == 4:
        return days_360_eu(a, b) / 360.0
    days = (b - a).days
    if basis == 2:
        return days / 360.0
    if basis == 3:
        return days / 365.0
    return days / _actual_year_length(a, b)


def _actual_year_length(a: dt.date, b: dt.date) -> float:
    within_year = a.year == b.year or (
        b.year == a.year + 1 and (a.month > b.month or (a.month == b.month and a.day >= b.day)))
    if not within_year:
        years = b.year - a.year + 1
        return (dt.date(b.year + 1, 1, 1) - dt.date(a.year, 1, 1)).days / years
    if a.year == b.year:
        return 366.0 if _leap(a.year) else 365.0
    if (_leap(a.year) and a <= dt.date(a.year, 2, 29)) or (_leap(b.year) and b >= dt.date(b.year, 2, 29)):
        return 366.0
    return 365.0


def year_days(basis: int, year: int | None = None) -> float:
    """The basis' year length (basis 1: the given year's actual length)."""
    if basis == 1:
        return 366.0 if year is not None and _leap(year) else 365.0
    return 365.0 if basis == 3 else 360.0


# ---------------------------------------------------------------- coupon schedule

def coupon_dates(settle: dt.date, mat: dt.date, freq: int) -> tuple[dt.date, dt.date, int]:
    """(previous coupon date, next coupon date, coupons left): the schedule runs back
    from maturity in steps of 12/frequency months, keeping maturity's day of month (its
    last day when maturity is a month's end)."""
    step, eom = 12 // freq, _eom(mat)
    n = 0
    pcd = mat
    while pcd > settle:
        n += 1
        pcd = add_months(mat, -step * n, eom)
    ncd = add_months(mat, -step * (n - 1), eom)
    return pcd, ncd, n


def _coupon_args(name, settle, mat, freq, basis):
    s, m = to_date(settle), to_date(mat)
    f, b = check_freq(name, freq), check_basis(name, basis)
    check_order(name, s, m, "settlement", "maturity")
    return s, m, f, b


def _coupdays(pcd: dt.date, ncd: dt.date, freq: int, basis: int) -> float:
    if basis == 1:
        return float((ncd - pcd).days)
    return year_days(basis) / freq


def _coupdaybs(pcd, settle, basis) -> float:
    return float(day_count(pcd, settle, basis))


def _coupdaysnc(pcd, ncd, settle, freq, basis) -> float:
    if basis in (0, 4):
        return _coupdays(pcd, ncd, freq, basis) - _coupdaybs(pcd, settle, basis)
    return float((ncd - settle).days)


def coupdaybs(settle, mat, freq, basis=0):
    s, m, f, b = _coupon_args("COUPDAYBS", settle, mat, freq, basis)
    pcd, _, _ = coupon_dates(s, m, f)
    return _coupdaybs(pcd, s, b)


def coupdays(settle, mat, freq, basis=0):
    s, m, f, b = _coupon_args("COUPDAYS", settle, mat, freq, basis)
    pcd, ncd, _ = coupon_dates(s, m, f)
    return _coupdays(pcd, ncd, f, b)


def coupdaysnc(settle, mat, freq, basis=0):
    s, m, f, b = _coupon_args("COUPDAYSNC", settle, mat, freq, basis)
    pcd, ncd, _ = coupon_dates(s, m, f)
    return _coupdaysnc(pcd, ncd, s, f, b)


def coupncd(settle, mat, freq, basis=0):
    s, m, f, _ = _coupon_args("COUPNCD", settle, mat, freq, basis)
    return to_serial(coupon_dates(s, m, f)[1])


def couppcd(settle, mat, freq, basis=0):
    s, m, f, _ = _coupon_args("COUPPCD", settle, mat, freq, basis)
    return to_serial(coupon_dates(s, m, f)[0])


def coupnum(settle, mat, freq, basis=0):
    s, m, f, _ = _coupon_args("COUPNUM", settle, mat, freq, basis)
    return float(coupon_dates(s, m, f)[2])


# ---------------------------------------------------------------- time value of money

def _type(name: str, t: float) -> int:
    """Payment timing: 0 = end of period, anything else = beginning (Office: a nonzero
    type is 1, learn.microsoft.com/openspecs/office_standards/ms-oi29500 PMT note)."""
    return 0 if t == 0 else 1


def _check_rate(name: str, rate: float) -> None:
    if rate <= -1:
        raise fail(name, f"rate must be greater than -1, got {rate:g}")


def fv(rate, nper, pmt, pv=0.0, typ=0.0):
    """learn.microsoft.com/dax/fv-function-dax"""
    _check_rate("FV", rate)
    t = _type("FV", typ)
    if rate == 0:
        return -(pv + pmt * nper)
    term = (1 + rate) ** nper
    return -(pv * term + pmt * (1 + rate * t) * (term - 1) / rate)


def pv(rate, nper, pmt, fv_=0.0, typ=0.0):
    """learn.microsoft.com/dax/pv-function-dax"""
    _check_rate("PV", rate)
    t = _type("PV", typ)
    if rate == 0:
        return -(fv_ + pmt * nper)
    term = (1 + rate) ** nper
    return -(fv_ + pmt * (1 + rate * t) * (term - 1) / rate) / term


def pmt(rate, nper, pv_, fv_=0.0, typ=0.0):
    """learn.microsoft.com/dax/pmt-function-dax"""
    _check_rate("PMT", rate)
    if nper == 0:
        raise fail("PMT", "nper must not be 0")
    t = _type("PMT", typ)
    if rate == 0:
        return -(pv_ + fv_) / nper
    term = (1 + rate) ** nper
    return -(fv_ * rate / (term - 1) + pv_ * rate / (1 - 1 / term)) / (1 + rate * t)


def _ipmt(rate, per, nper, pv_, fv_, t):
    p = pmt(rate, nper, pv_, fv_, t)
    if per == 1:
        interest = 0.0 if t else -pv_
    elif t:
        interest = fv(rate, per - 2, p, pv_, 1) - p
    else:
        interest = fv(rate, per - 1, p, pv_, 0)
    return interest * rate, p


def _check_per(name, per, nper):
    if per < 1 or per > nper:
        raise fail(name, f"per must be between 1 and nper ({nper:g}), got {per:g}")


def ipmt(rate, per, nper, pv_, fv_=0.0, typ=0.0):
    """learn.microsoft.com/dax/ipmt-function-dax"""
    _check_rate("IPMT", rate)
    _check_per("IPMT", per, nper)
    return _ipmt(rate, per, nper, pv_, fv_, _type("IPMT", typ))[0]


def ppmt(rate, per, nper, pv_, fv_=0.0, typ=0.0):
    """learn.microsoft.com/dax/ppmt-function-dax: PMT − IPMT"""
    _check_rate("PPMT", rate)
    _check_per("PPMT", per, nper)
    interest, p = _ipmt(rate, per, nper, pv_, fv_, _type("PPMT", typ))
    return p - interest


def ispmt(rate, per, nper, pv_):
    """learn.microsoft.com/dax/ispmt-function-dax: interest of an even-principal loan"""
    if nper == 0:
        raise fail("ISPMT", "nper must not be 0")
    return pv_ * rate * (per / nper - 1)


def nper(rate, pmt_, pv_, fv_=0.0, typ=0.0):
    """learn.microsoft.com/dax/nper-function-dax"""
    _check_rate("NPER", rate)
    t = _type("NPER", typ)
    if rate == 0:
        if pmt_ == 0:
            raise fail("NPER", "pmt must not be 0 when rate is 0")
        return -(pv_ + fv_) / pmt_
    num = pmt_ * (1 + rate * t) - fv_ * rate
    den = pv_ * rate + pmt_ * (1 + rate * t)
    if den == 0 or num / den <= 0:
        raise fail("NPER", "no number of periods reaches fv with these arguments")
    return math.log(num / den) / math.log1p(rate)


def _cum_args(name, rate, n, pv_, start, end, typ):
    if rate <= 0 or n <= 0 or pv_ <= 0:
        raise fail(name, "rate, nper and pv must be greater than 0")
    s, e = math.trunc(start), math.trunc(end)
    if s < 1 or e < 1 or s > e or e > n:
        raise fail(name, "start_period and end_period must satisfy 1 <= start <= end <= nper")
    if typ not in (0, 1):
        raise fail(name, f"type must be 0 or 1, got {typ:g}")
    return s, e, int(typ)


def cumipmt(rate, n, pv_, start, end, typ):
    """learn.microsoft.com/dax/cumipmt-function-dax: sum of IPMT over start..end"""
    s, e, t = _cum_args("CUMIPMT", rate, n, pv_, start, end, typ)
    return math.fsum(_ipmt(rate, k, n, pv_, 0.0, t)[0] for k in range(s, e + 1))


def cumprinc(rate, n, pv_, start, end, typ):
    """learn.microsoft.com/dax/cumprinc-function-dax: sum of PPMT over start..end"""
    s, e, t = _cum_args("CUMPRINC", rate, n, pv_, start, end, typ)
    parts = []
    for k in range(s, e + 1):
        interest, p = _ipmt(rate, k, n, pv_, 0.0, t)
        parts.append(p - interest)
    return math.fsum(parts)


def _newton(f: Callable[[float], float], guess: float, name: str, lo: float = -1.0,
            tol: float = 1e-12, max_iter: int = 200) -> float:
    """A root of f near `guess` (Newton with a numeric derivative, as Excel iterates for
    RATE/YIELD/XIRR); an error when it does not converge."""
    x = guess
    for _ in range(max_iter):
        y = f(x)
        h = max(abs(x), 1.0) * 1e-7
        d = (f(x + h) - f(x - h)) / (2 * h)
        if d == 0 or not math.isfinite(d) or not math.isfinite(y):
            break
        nxt = x - y / d
        if nxt <= lo:  # out of the domain: halve the way to its bound, not a convergence
            x = (x + lo) / 2
            continue
        if abs(nxt - x) <= tol * max(abs(nxt), 1e-10):
            return _polish(f, nxt)
        x = nxt
    raise fail(name, "the iteration did not converge to a result")


def _polish(f: Callable[[float], float], x: float) -> float:
    """Last secant steps to the float nearest the root (the Newton stop is relative)."""
    for _ in range(3):
        y = f(x)
        if y == 0:
            return x
        h = max(abs(x), 1e-3) * 1e-9
        d = (f(x + h) - y) / h
        if d == 0 or not math.isfinite(d):
            return x
        nxt = x - y / d
        if nxt == x:
            return x
        x = nxt
    return x


def rate(nper_, pmt_, pv_, fv_=0.0, typ=0.0, guess=0.1):
    """learn.microsoft.com/dax/rate-function-dax: the rate r with
    pv·(1+r)^n + pmt·(1+r·t)·((1+r)^n − 1)/r + fv = 0, found by iteration."""
    if nper_ <= 0:
        raise fail("RATE", "nper must be greater than 0")
    t = _type("RATE", typ)

    def f(r):
        if abs(r) < 1e-12:
            return pv_ + pmt_ * nper_ + fv_
        term = (1 + r) ** nper_
        return pv_ * term + pmt_ * (1 + r * t) * (term - 1) / r + fv_

    return _newton(f, guess, "RATE")


def effect(nominal, npery):
    """learn.microsoft.com/dax/effect-function-dax"""
    p = math.trunc(npery)
    if nominal <= 0 or p < 1:
        raise fail("EFFECT", "nominal_rate must be > 0 and npery >= 1")
    return (1 + nominal / p) ** p - 1


def nominal(effect_, npery):
    """learn.microsoft.com/dax/nominal-function-dax"""
    p = math.trunc(npery)
    if effect_ <= 0 or p < 1:
        raise fail("NOMINAL", "effect_rate must be > 0 and npery >= 1")
    return p * ((1 + effect_) ** (1 / p) - 1)


def pduration(rate_, pv_, fv_):
    """learn.microsoft.com/dax/pduration-function-dax"""
    if rate_ <= 0 or pv_ <= 0 or fv_ <= 0:
        raise fail("PDURATION", "rate, pv and fv must be greater than 0")
    return (math.log(fv_) - math.log(pv_)) / math.log1p(rate_)


def rri(nper_, pv_, fv_):
    """learn.microsoft.com/dax/rri-function-dax"""
    if nper_ <= 0:
        raise fail("RRI", "nper must be greater than 0")
    if pv_ == 0:
        raise fail("RRI", "pv must not be 0")
    r = fv_ / pv_
    if r < 0:
        raise fail("RRI", "pv and fv must have the same sign")
    return r ** (1 / nper_) - 1


# ---------------------------------------------------------------- depreciation

def sln(cost, salvage, life):
    """learn.microsoft.com/dax/sln-function-dax"""
    if life == 0:
        raise fail("SLN", "life must not be 0")
    return (cost - salvage) / life


def syd(cost, salvage, life, per):
    """learn.microsoft.com/dax/syd-function-dax"""
    if life <= 0 or per <= 0 or per > life:
        raise fail("SYD", "life must be > 0 and per between 1 and life")
    return (cost - salvage) * (life - per + 1) * 2 / (life * (life + 1))


def db(cost, salvage, life, period, month=12.0):
    """learn.microsoft.com/dax/db-function-dax: fixed-declining balance, the rate rounded
    to three decimals; the first and the (life+1)th period are partial (month/12)."""
    if cost < 0 or salvage < 0 or life <= 0 or period <= 0 or month < 1 or month > 12:
        raise fail("DB", "cost and salvage must be >= 0, life and period > 0, month between 1 and 12")
    if period > life + 1 or (period > life and month == 12):
        raise fail("DB", "period must not exceed life (life + 1 when month < 12)")
    if cost == 0:
        return 0.0
    r = math.floor((1 - (salvage / cost) ** (1 / life)) * 1000 + 0.5) / 1000
    per = math.trunc(period)
    total = cost * r * month / 12
    if per == 1:
        return total
    dep = 0.0
    for _ in range(2, min(per, math.trunc(life)) + 1):
        dep = (cost - total) * r
        total += dep
    if per > life:
        dep = (cost - total) * r * (12 - month) / 12
    return dep


def _ddb(cost, salvage, life, period, factor):
    r = factor / life
    if r >= 1:
        r = 1.0
        old = cost if period == 1 else 0.0
    else:
        old = cost * (1 - r) ** (period - 1)
    new = cost * (1 - r) ** period
    dep = old - salvage if new < salvage else old - new
    return max(dep, 0.0)


def ddb(cost, salvage, life, period, factor=2.0):
    """learn.microsoft.com/dax/ddb-function-dax: min((cost − prior) · factor/life,
    cost − salvage − prior)"""
    if cost < 0 or salvage < 0 or life <= 0 or period <= 0 or factor <= 0 or period > life:
        raise fail("DDB", "cost and salvage must be >= 0, life, period and factor > 0, period <= life")
    return _ddb(cost, salvage, life, period, factor)


def _inter_vdb(cost, salvage, life, life1, period, factor):
    """Depreciation over [0, period] switching to straight line once it is larger."""
    total, sln_, remaining, straight = 0.0, 0.0, cost - salvage, False
    end = math.ceil(period)
    for i in range(1, end + 1):
        if not straight:
            d = _ddb(cost, salvage, life, i, factor)
            sln_ = remaining / (life1 - (i - 1))
            if sln_ > d:
                term, straight = sln_, True
            else:
                term = d
                remaining -= d
        else:
            term = sln_
        if i == end:
            term *= period + 1 - end
        total += term
    return total


def vdb(cost, salvage, life, start, end, factor=2.0, no_switch=0.0):
    """learn.microsoft.com/dax/vdb-function-dax: declining balance between two periods,
    switching to straight line unless no_switch."""
    if (cost < 0 or salvage < 0 or life <= 0 or start < 0 or end < start or end > life
            or factor <= 0 or salvage > cost):
        raise fail("VDB", "needs 0 <= start <= end <= life, cost >= salvage >= 0, factor > 0")
    i_start, i_end = math.floor(start), math.ceil(end)
    if no_switch:
        total = 0.0
        for i in range(i_start + 1, i_end + 1):
            term = _ddb(cost, salvage, life, i, factor)
            if i == i_start + 1:
                term *= min(end, i_start + 1) - start
            elif i == i_end:
                term *= end + 1 - i_end
            total += term
        return total
    part = 0.0
    if start != i_start:
        value = cost - _inter_vdb(cost, salvage, life, life, i_start, factor)
        part += (start - i_start) * _inter_vdb(value, salvage, life, life - i_start, 1, factor)
    if end != i_end:
        value = cost - _inter_vdb(cost, salvage, life, life, i_end - 1, factor)
        part += (i_end - end) * _inter_vdb(value, salvage, life, life - (i_end - 1), 1, factor)
    base = cost - _inter_vdb(cost, salvage, life, life, i_start, factor)
    return _inter_vdb(base, salvage, life, life - i_start, i_end - i_start, factor) - part


def _amor_args(name, cost, purchased, first, salvage, period, rate_, basis):
    b = check_basis(name, basis)
    if b == 2:
        raise fail(name, "basis 2 is not allowed")
    p, f = to_date(purchased), to_date(first)
    if cost < 0 or salvage < 0 or salvage > cost or period < 0 or rate_ <= 0 or p > f:
        raise fail(name, "needs cost >= salvage >= 0, period >= 0, rate > 0, date_purchased <= first_period")
    return year_frac(p, f, b), b


def _round0(x: float) -> float:
    return float(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def amordegrc(cost, purchased, first, salvage, period, rate_, basis=0.0):
    """learn.microsoft.com/dax/amordegrc-function-dax: French declining depreciation, the
    rate times a coefficient of the life 1/rate (1.5 for 3–4 years, 2 for 5–6, 2.5
    beyond), each period rounded to a whole amount."""
    yf, _ = _amor_args("AMORDEGRC", cost, purchased, first, salvage, period, rate_, basis)
    life = 1 / rate_
    if life < 3:  # under 3 years: no coefficient
        coef = 1.0
    elif life < 5:
        coef = 1.5
    elif life <= 6:
        coef = 2.0
    else:
        coef = 2.5
    r = rate_ * coef
    dep = _round0(yf * r * cost)
    cost -= dep
    rest = cost - salvage
    n_per = math.trunc(period)
    for n in range(n_per):
        dep = _round0(r * cost)
        rest -= dep
        if rest < 0:
            return _round0(cost * 0.5) if n_per - n <= 1 else 0.0
        cost -= dep
    return dep


def amorlinc(cost, purchased, first, salvage, period, rate_, basis=0.0):
    """learn.microsoft.com/dax/amorlinc-function-dax: straight-line, prorated first period."""
    yf, _ = _amor_args("AMORLINC", cost, purchased, first, salvage, period, rate_, basis)
    one = cost * rate_
    first_dep = yf * rate_ * cost
    full = math.trunc((cost - salvage - first_dep) / one)
    per = math.trunc(period)
    if per == 0:
        out = first_dep
    elif per <= full:
        out = one
    elif per == full + 1:
        out = cost - salvage - one * full - first_dep
    else:
        out = 0.0
    return max(out, 0.0)


# ---------------------------------------------------------------- securities: discount, maturity

def _sec_args(name, settle, mat, basis):
    s, m, b = to_date(settle), to_date(mat), check_basis(name, basis)
    check_order(name, s, m, "settlement", "maturity")
    return s, m, b


def _positive(name, **values):
    for k, v in values.items():
        if v <= 0:
            raise fail(name, f"{k} must be greater than 0, got {v:g}")


def accrint(issue, first, settle, rate_, par, freq, basis=0.0, calc_method=1.0):
    """learn.microsoft.com/dax/accrint-function-dax: par · rate · YEARFRAC(start,
    settlement); start is issue (calc_method TRUE, the default) or first_interest."""
    i, s, b = to_date(issue), to_date(settle), check_basis("ACCRINT", basis)
    check_freq("ACCRINT", freq)
    _positive("ACCRINT", rate=rate_, par=par)
    check_order("ACCRINT", i, s, "issue", "settlement")
    start = i
    if not calc_method and s > to_date(first):
        start = to_date(first)  # calc_method FALSE: accrued from first_interest
    return par * rate_ * year_frac(start, s, b)


def accrintm(issue, settle, rate_, par, basis=0.0):
    """learn.microsoft.com/dax/accrintm-function-dax: par · rate · YEARFRAC(issue, settlement)"""
    i, s, b = to_date(issue), to_date(settle), check_basis("ACCRINTM", basis)
    _positive("ACCRINTM", rate=rate_, par=par)
    check_order("ACCRINTM", i, s, "issue", "settlement")
    return par * rate_ * year_frac(i, s, b)


def disc(settle, mat, pr, redemption, basis=0.0):
    """learn.microsoft.com/dax/disc-function-dax"""
    s, m, b = _sec_args("DISC", settle, mat, basis)
    _positive("DISC", pr=pr, redemption=redemption)
    return (redemption - pr) / redemption / year_frac(s, m, b)


def intrate(settle, mat, investment, redemption, basis=0.0):
    """learn.microsoft.com/dax/intrate-function-dax"""
    s, m, b = _sec_args("INTRATE", settle, mat, basis)
    _positive("INTRATE", investment=investment, redemption=redemption)
    return (redemption - investment) / investment / year_frac(s, m, b)


def received(settle, mat, investment, discount, basis=0.0):
    """learn.microsoft.com/dax/received-function-dax"""
    s, m, b = _sec_args("RECEIVED", settle, mat, basis)
    _positive("RECEIVED", investment=investment, discount=discount)
    den = 1 - discount * year_frac(s, m, b)
    if den <= 0:
        raise fail("RECEIVED", "discount · term must be less than 1")
    return investment / den


def pricedisc(settle, mat, discount, redemption, basis=0.0):
    """learn.microsoft.com/dax/pricedisc-function-dax"""
    s, m, b = _sec_args("PRICEDISC", settle, mat, basis)
    _positive("PRICEDISC", discount=discount, redemption=redemption)
    return redemption - discount * redemption * year_frac(s, m, b)


def yielddisc(settle, mat, pr, redemption, basis=0.0):
    """learn.microsoft.com/dax/yielddisc-function-dax"""
    s, m, b = _sec_args("YIELDDISC", settle, mat, basis)
    _positive("YIELDDISC", pr=pr, redemption=redemption)
    return (redemption - pr) / pr / year_frac(s, m, b)


def _mat_fracs(name, settle, mat, issue, basis):
    s, m, b = _sec_args(name, settle, mat, basis)
    i = to_date(issue)
    if i >= s:
        raise fail(name, "issue must be before settlement")
    return year_frac(i, m, b), year_frac(i, s, b), year_frac(s, m, b)


def pricemat(settle, mat, issue, rate_, yld, basis=0.0):
    """learn.microsoft.com/dax/pricemat-function-dax"""
    if rate_ < 0 or yld < 0:
        raise fail("PRICEMAT", "rate and yld must be >= 0")
    im, is_, sm = _mat_fracs("PRICEMAT", settle, mat, issue, basis)
    return (100 + im * rate_ * 100) / (1 + sm * yld) - is_ * rate_ * 100


def yieldmat(settle, mat, issue, rate_, pr, basis=0.0):
    """learn.microsoft.com/dax/yieldmat-function-dax"""
    if rate_ < 0 or pr <= 0:
        raise fail("YIELDMAT", "rate must be >= 0 and pr > 0")
    im, is_, sm = _mat_fracs("YIELDMAT", settle, mat, issue, basis)
    return ((1 + im * rate_) - (pr / 100 + is_ * rate_)) / (pr / 100 + is_ * rate_) / sm


def _tbill_days(name, settle, mat):
    s, m = to_date(settle), to_date(mat)
    check_order(name, s, m, "settlement", "maturity")
    if m > add_months(s, 12, False):
        raise fail(name, "maturity must be at most one year after settlement")
    return (m - s).days


def tbillprice(settle, mat, discount):
    """learn.microsoft.com/dax/tbillprice-function-dax"""
    dsm = _tbill_days("TBILLPRICE", settle, mat)
    _positive("TBILLPRICE", discount=discount)
    price = 100 * (1 - discount * dsm / 360)
    if price <= 0:
        raise fail("TBILLPRICE", "the discount gives a price of 0 or less")
    return price


def tbillyield(settle, mat, pr):
    """learn.microsoft.com/dax/tbillyield-function-dax"""
    dsm = _tbill_days("TBILLYIELD", settle, mat)
    _positive("TBILLYIELD", pr=pr)
    return (100 - pr) / pr * 360 / dsm


def tbilleq(settle, mat, discount):
    """learn.microsoft.com/dax/tbilleq-function-dax: 365·rate/(360 − rate·DSM) up to half a
    year; beyond, the bond-equivalent yield of the price (semi-annual compounding)."""
    dsm = _tbill_days("TBILLEQ", settle, mat)
    _positive("TBILLEQ", discount=discount)
    if dsm <= 182:
        return 365 * discount / (360 - discount * dsm)
    price = 100 * (1 - discount * dsm / 360)
    if price <= 0:
        raise fail("TBILLEQ", "the discount gives a price of 0 or less")
    t = dsm / 365
    return (-2 * t + 2 * math.sqrt(t * t - (2 * t - 1) * (1 - 100 / price))) / (2 * t - 1)


def dollarde(fractional, fraction):
    """learn.microsoft.com/dax/dollarde-function-dax"""
    f = math.trunc(fraction)
    if f < 0:
        raise fail("DOLLARDE", "fraction must not be negative")
    if f == 0:
        raise fail("DOLLARDE", "fraction must be at least 1 (division by zero)")
    whole = math.trunc(fractional)
    return whole + (fractional - whole) * 10 ** math.ceil(math.log10(f)) / f


def dollarfr(decimal, fraction):
    """learn.microsoft.com/dax/dollarfr-function-dax"""
    f = math.trunc(fraction)
    if f < 0:
        raise fail("DOLLARFR", "fraction must not be negative")
    if f == 0:
        raise fail("DOLLARFR", "fraction must be at least 1 (division by zero)")
    whole = math.trunc(decimal)
    return whole + (decimal - whole) * f / 10 ** math.ceil(math.log10(f))


# ---------------------------------------------------------------- coupon bonds

def _bond(name, settle, mat, freq, basis):
    s, m, f, b = _coupon_args(name, settle, mat, freq, basis)
    pcd, ncd, n = coupon_dates(s, m, f)
    e = _coupdays(pcd, ncd, f, b)
    return f, n, _coupdaybs(pcd, s, b), e, _coupdaysnc(pcd, ncd, s, f, b)


def _price(f, n, a, e, dsc, rate_, yld, redemption):
    coupon = 100 * rate_ / f
    v = 1 + yld / f
    x = dsc / e
    total = redemption / v ** (n - 1 + x)
    total += math.fsum(coupon / v ** (k + x) for k in range(n))
    return total - coupon * a / e


def price(settle, mat, rate_, yld, redemption, freq, basis=0.0):
    """learn.microsoft.com/dax/price-function-dax"""
    f, n, a, e, dsc = _bond("PRICE", settle, mat, freq, basis)
    if rate_ < 0 or yld < 0 or redemption <= 0:
        raise fail("PRICE", "rate and yld must be >= 0 and redemption > 0")
    return _price(f, n, a, e, dsc, rate_, yld, redemption)


def yield_(settle, mat, rate_, pr, redemption, freq, basis=0.0):
    """learn.microsoft.com/dax/yield-function-dax: closed form with one coupon left,
    else the yield whose PRICE is pr (Newton)."""
    f, n, a, e, dsc = _bond("YIELD", settle, mat, freq, basis)
    if rate_ < 0 or pr <= 0 or redemption <= 0:
        raise fail("YIELD", "rate must be >= 0, pr and redemption > 0")
    if n <= 1:
        coupon = rate_ / f
        paid = pr / 100 + a / e * coupon
        return (redemption / 100 + coupon - paid) / paid * f * e / dsc
    return _newton(lambda y: _price(f, n, a, e, dsc, rate_, y, redemption) - pr, 0.1, "YIELD",
                   lo=-f)


def _macaulay(f, n, dsc, e, coupon_rate, yld):
    cf = 100 * coupon_rate / f
    v = 1 + yld / f
    x = dsc / e
    times = [k + x for k in range(n)]
    flows = [cf] * (n - 1) + [cf + 100]
    pv_ = math.fsum(c / v ** t for c, t in zip(flows, times))
    weighted = math.fsum(t * c / v ** t for c, t in zip(flows, times))
    return weighted / pv_ / f


def duration(settle, mat, coupon, yld, freq, basis=0.0):
    """learn.microsoft.com/dax/duration-function-dax: Macaulay duration in years"""
    f, n, _, e, dsc = _bond("DURATION", settle, mat, freq, basis)
    if coupon < 0 or yld < 0:
        raise fail("DURATION", "coupon and yld must be >= 0")
    return _macaulay(f, n, dsc, e, coupon, yld)


def mduration(settle, mat, coupon, yld, freq, basis=0.0):
    """learn.microsoft.com/dax/mduration-function-dax: DURATION / (1 + yld/frequency)"""
    f, n, _, e, dsc = _bond("MDURATION", settle, mat, freq, basis)
    if coupon < 0 or yld < 0:
        raise fail("MDURATION", "coupon and yld must be >= 0")
    return _macaulay(f, n, dsc, e, coupon, yld) / (1 + yld / f)


# ---------------------------------------------------------------- odd first / last period

def _period_len(start: dt.date, end: dt.date, freq: int, basis: int) -> float:
    """NL: the normal length of a (quasi-)coupon period."""
    if basis == 1:
        return float((end - start).days)
    return year_days(basis) / freq


def _odd_args(name, settle, mat, issue, first, rate_, yld_or_pr, redemption, freq, basis):
    s, m, i, fc = to_date(settle), to_date(mat), to_date(issue), to_date(first)
    f, b = check_freq(name, freq), check_basis(name, basis)
    if not i < s < fc < m:  # learn.microsoft.com/dax/oddfprice-function-dax remarks
        raise fail(name, "needs issue < settlement < first_coupon < maturity")
    if rate_ < 0 or yld_or_pr < 0 or redemption <= 0:
        raise fail(name, "rate and yld/pr must be >= 0 and redemption > 0")
    return s, m, i, fc, f, b


def _oddf_price(s, m, i, fc, f, b, rate_, yld, redemption):
    step, eom = 12 // f, _eom(fc)
    coupon = 100 * rate_ / f
    v = 1 + yld / f
    # regular coupons after the first one
    n = 0
    while add_months(fc, step * (n + 1), eom) <= m and add_months(fc, step * n, eom) < m:
        n += 1
    # quasi-coupon periods of the odd first period, earliest last: [q_{k+1}, q_k]
    dc_sum = a_sum = 0.0
    k = 0
    next_q = None
    nq = 0
    while True:
        end = add_months(fc, -step * k, eom)
        start = add_months(fc, -step * (k + 1), eom)
        nl = _period_len(start, end, f, b)
        lo = max(start, i)
        dc_sum += day_count(lo, end, b) / nl
        if s > lo:
            a_sum += day_count(lo, min(s, end), b) / nl
        if start <= s < end:
            next_q = (end, start, nl)
            nq = k
        if start <= i:
            break
        k += 1
    end, start, e = next_q
    dsc = (e - day_count(start, s, b)) if b in (0, 4) else float(day_count(s, end, b))
    x = dsc / e
    total = redemption / v ** (n + nq + x)
    total += coupon * dc_sum / v ** (nq + x)
    total += math.fsum(coupon / v ** (j + nq + x) for j in range(1, n + 1))
    return total - coupon * a_sum


def oddfprice(settle, mat, issue, first, rate_, yld, redemption, freq, basis=0.0):
    """learn.microsoft.com/dax/oddfprice-function-dax (Excel's ODDFPRICE formula with
    quasi-coupon periods, short or long first period)."""
    args = _odd_args("ODDFPRICE", settle, mat, issue, first, rate_, yld, redemption, freq, basis)
    return _oddf_price(*args, rate_, yld, redemption)


def oddfyield(settle, mat, issue, first, rate_, pr, redemption, freq, basis=0.0):
    """learn.microsoft.com/dax/oddfyield-function-dax: the yield whose ODDFPRICE is pr."""
    args = _odd_args("ODDFYIELD", settle, mat, issue, first, rate_, pr, redemption, freq, basis)
    if pr <= 0:
        raise fail("ODDFYIELD", "pr must be greater than 0")
    return _newton(lambda y: _oddf_price(*args, rate_, y, redemption) - pr, 0.1, "ODDFYIELD",
                   lo=-args[4])


def _oddl_sums(name, settle, mat, last, rate_, value, redemption, freq, basis):
    s, m, lc = to_date(settle), to_date(mat), to_date(last)
    f, b = check_freq(name, freq), check_basis(name, basis)
    if not (lc < s < m):
        raise fail(name, "needs last_interest < settlement < maturity")
    if rate_ < 0 or value < 0 or redemption <= 0:
        raise fail(name, "rate and yld/pr must be >= 0 and redemption > 0")
    step, eom = 12 // f, _eom(lc)
    dc = a = dsc = 0.0
    k = 0
    while True:
        start = add_months(lc, step * k, eom)
        end = add_months(lc, step * (k + 1), eom)
        nl = _period_len(start, end, f, b)
        stop = min(end, m)
        dc += day_count(start, stop, b) / nl
        if s > start:
            a += day_count(start, min(s, stop), b) / nl
        if stop > s:
            dsc += day_count(max(s, start), stop, b) / nl
        if end >= m:
            break
        k += 1
    return f, dc, a, dsc


def oddlprice(settle, mat, last, rate_, yld, redemption, freq, basis=0.0):
    """learn.microsoft.com/dax/oddlprice-function-dax"""
    f, dc, a, dsc = _oddl_sums("ODDLPRICE", settle, mat, last, rate_, yld, redemption, freq, basis)
    coupon = 100 * rate_ / f
    return (redemption + dc * coupon) / (1 + dsc * yld / f) - a * coupon


def oddlyield(settle, mat, last, rate_, pr, redemption, freq, basis=0.0):
    """learn.microsoft.com/dax/oddlyield-function-dax"""
    f, dc, a, dsc = _oddl_sums("ODDLYIELD", settle, mat, last, rate_, pr, redemption, freq, basis)
    if pr <= 0:
        raise fail("ODDLYIELD", "pr must be greater than 0")
    coupon = 100 * rate_ / f
    paid = pr + a * coupon
    return (redemption + dc * coupon - paid) / paid * f / dsc


# ---------------------------------------------------------------- irregular cash flows

def _flows(name, values: Sequence[float], dates: Sequence[float]):
    pairs = [(v, math.floor(d)) for v, d in zip(values, dates) if v is not None and d is not None]
    if not pairs:
        raise fail(name, "the table has no cash flows")
    d0 = min(d for _, d in pairs)
    return [(v, (d - d0) / 365.0) for v, d in pairs]


def _xnpv(rate_: float, flows) -> float:
    return math.fsum(v / (1 + rate_) ** t for v, t in flows)


def xnpv(values, dates, rate_):
    """learn.microsoft.com/dax/xnpv-function-dax: Σ Pᵢ / (1 + rate)^((dᵢ − d₁)/365), d₁
    the earliest date."""
    if rate_ <= -1:
        raise fail("XNPV", f"rate must be greater than -1, got {rate_:g}")
    return _xnpv(rate_, _flows("XNPV", values, dates))


def xirr(values, dates, guess=0.1):
    """learn.microsoft.com/dax/xirr-function-dax: the rate at which XNPV is 0."""
    flows = _flows("XIRR", values, dates)
    if not (any(v > 0 for v, _ in flows) and any(v < 0 for v, _ in flows)):
        raise fail("XIRR", "needs at least one positive and one negative cash flow")
    if guess <= -1:
        raise fail("XIRR", "guess must be greater than -1")
    return _newton(lambda r: _xnpv(r, flows), guess, "XIRR")
