"""Excel-compatible cash-flow mathematics, in pure Python: time value of money (FV, PV,
PMT, IPMT/PPMT, NPER, RATE, CUMIPMT…, EFFECT/NOMINAL), depreciation (SLN, SYD, DB, DDB, VDB,
AMORDEGRC/AMORLINC) and irregular cash flows (XNPV, XIRR).

Conventions (serial dates, errors, day counts) are those of `finance_common`.
"""
from __future__ import annotations

import math
from typing import Sequence

from generator.engine.compiler.finance_common import check_basis, fail, _newton, to_date, year_frac


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
