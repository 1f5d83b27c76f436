"""Excel-compatible securities mathematics, in pure Python: discounted and at-maturity
securities (ACCRINT, DISC, INTRATE, PRICEDISC, YIELDMAT…), Treasury bills, fractional dollar
prices, coupon bonds (PRICE, YIELD, DURATION, MDURATION) and bonds with an odd first or
last period (ODDFPRICE … ODDLYIELD).

Conventions (serial dates, errors, day counts, the coupon schedule) are those of
`finance_common`.
"""
from __future__ import annotations

import datetime as dt
import math

from generator.engine.compiler.finance_common import (
    add_months, check_basis, check_freq, check_order, _coupdaybs, _coupdays, _coupdaysnc,
    _coupon_args, coupon_dates, day_count, _eom, fail, _newton, to_date, year_days, year_frac,
)


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


def _dollar_parts(name: str, price: float, fraction: float) -> tuple[int, float, int, int]:
    """DOLLARDE/DOLLARFR's shared reading of their arguments: (whole part, fractional part,
    the fraction truncated to an integer, 10 to the number of its digits): DOLLARDE reads
    the fractional part as 1/fraction units written in that many decimal digits, DOLLARFR
    writes it that way, so one helper keeps their checks and scale identical."""
    f = math.trunc(fraction)
    if f < 0:
        raise fail(name, "fraction must not be negative")
    if f == 0:
        raise fail(name, "fraction must be at least 1 (division by zero)")
    whole = math.trunc(price)
    return whole, price - whole, f, 10 ** math.ceil(math.log10(f))


def dollarde(fractional, fraction):
    """learn.microsoft.com/dax/dollarde-function-dax"""
    whole, part, f, scale = _dollar_parts("DOLLARDE", fractional, fraction)
    return whole + part * scale / f


def dollarfr(decimal, fraction):
    """learn.microsoft.com/dax/dollarfr-function-dax"""
    whole, part, f, scale = _dollar_parts("DOLLARFR", decimal, fraction)
    return whole + part * f / scale


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
