"""What every Excel-compatible financial function builds on, in pure Python: the error
type, serial dates, the day-count bases, the coupon schedule and the iterative solver.

DAX's financial functions are Excel's (learn.microsoft.com/dax/financial-functions-dax):
the same day-count bases, coupon schedule and iterative solvers. The finance_* modules hold
the numbers only; `fn_finance` turns DAX calls into calls of their functions (registered
as backend UDFs), so they can be tested without SQL.

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
from typing import Callable


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


# ---------------------------------------------------------------- solver

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
