"""DAX financial functions (learn.microsoft.com/dax/financial-functions-dax) and YEARFRAC.

The numbers are Excel's, computed by `finance_cashflows` / `finance_securities` (pure
Python) through backend UDFs: bond schedules, day-count bases and the iterative solvers (RATE, YIELD) are not
expressible as SQL closed forms. Every scalar function is described once in `SPECS`
(its Python function, which arguments are dates, how many are required and the defaults
of the optional ones) and gets a generated `fn_<NAME>` handler.

Arguments: BLANK reads as 0 (a BLANK date as 1899-12-30), DAX's implicit conversion for
numeric arguments; an omitted optional argument takes its documented default. Invalid
arguments (rate <= -1, settlement >= maturity, a basis outside 0–4, …) raise the
function's error at evaluation, as Power BI does.

XNPV takes a table and two row expressions: the (value, date) pairs are collected with
an aggregate over the table's rows (like SUMX) and handed to the UDF. XIRR is not
exposed yet: `finance_cashflows.xirr` finds the exact root, but Desktop's solver stops
earlier (the oracle's probe differs from the exact root by 2.4e-10 relative) and the
oracle compares at 1e-12.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

from sqlglot import exp

from generator.engine.compiler import finance_cashflows as cf
from generator.engine.compiler import finance_common as fc
from generator.engine.compiler import finance_securities as sec
from generator.engine import udf
from generator.engine.compiler.core import CompilerCore
from generator.engine.data import fn
from generator.engine.types import DaxType
from generator.engine.values import Scalar, _dt_num, _num_dt, blank_as_zero, lit, number


@dataclass(frozen=True)
class Spec:
    func: Callable[..., float]
    params: str            # one letter per argument: d = date, n = number
    required: int
    defaults: tuple[float, ...] = ()  # for the optional arguments, in order
    returns_date: bool = False

    @property
    def arity(self) -> int:
        return len(self.params)


_B = (0.0,)  # basis defaults to 0 (US 30/360)

SPECS: dict[str, Spec] = {
    "ACCRINT": Spec(sec.accrint, "dddnnnnn", 6, (0.0, 1.0)),
    "ACCRINTM": Spec(sec.accrintm, "ddnnn", 4, _B),
    "AMORDEGRC": Spec(cf.amordegrc, "nddnnnn", 6, _B),
    "AMORLINC": Spec(cf.amorlinc, "nddnnnn", 6, _B),
    "COUPDAYBS": Spec(fc.coupdaybs, "ddnn", 3, _B),
    "COUPDAYS": Spec(fc.coupdays, "ddnn", 3, _B),
    "COUPDAYSNC": Spec(fc.coupdaysnc, "ddnn", 3, _B),
    "COUPNCD": Spec(fc.coupncd, "ddnn", 3, _B, returns_date=True),
    "COUPNUM": Spec(fc.coupnum, "ddnn", 3, _B),
    "COUPPCD": Spec(fc.couppcd, "ddnn", 3, _B, returns_date=True),
    "CUMIPMT": Spec(cf.cumipmt, "nnnnnn", 6),
    "CUMPRINC": Spec(cf.cumprinc, "nnnnnn", 6),
    "DB": Spec(cf.db, "nnnnn", 4, (12.0,)),
    "DDB": Spec(cf.ddb, "nnnnn", 4, (2.0,)),
    "DISC": Spec(sec.disc, "ddnnn", 4, _B),
    "DOLLARDE": Spec(sec.dollarde, "nn", 2),
    "DOLLARFR": Spec(sec.dollarfr, "nn", 2),
    "DURATION": Spec(sec.duration, "ddnnnn", 5, _B),
    "EFFECT": Spec(cf.effect, "nn", 2),
    "FV": Spec(cf.fv, "nnnnn", 3, (0.0, 0.0)),
    "INTRATE": Spec(sec.intrate, "ddnnn", 4, _B),
    "IPMT": Spec(cf.ipmt, "nnnnnn", 4, (0.0, 0.0)),
    "ISPMT": Spec(cf.ispmt, "nnnn", 4),
    "MDURATION": Spec(sec.mduration, "ddnnnn", 5, _B),
    "NOMINAL": Spec(cf.nominal, "nn", 2),
    "NPER": Spec(cf.nper, "nnnnn", 3, (0.0, 0.0)),
    "ODDFPRICE": Spec(sec.oddfprice, "ddddnnnnn", 8, _B),
    "ODDFYIELD": Spec(sec.oddfyield, "ddddnnnnn", 8, _B),
    "ODDLPRICE": Spec(sec.oddlprice, "dddnnnnn", 7, _B),
    "ODDLYIELD": Spec(sec.oddlyield, "dddnnnnn", 7, _B),
    "PDURATION": Spec(cf.pduration, "nnn", 3),
    "PMT": Spec(cf.pmt, "nnnnn", 3, (0.0, 0.0)),
    "PPMT": Spec(cf.ppmt, "nnnnnn", 4, (0.0, 0.0)),
    "PRICE": Spec(sec.price, "ddnnnnn", 6, _B),
    "PRICEDISC": Spec(sec.pricedisc, "ddnnn", 4, _B),
    "PRICEMAT": Spec(sec.pricemat, "dddnnn", 5, _B),
    "PV": Spec(cf.pv, "nnnnn", 3, (0.0, 0.0)),
    "RATE": Spec(cf.rate, "nnnnnn", 3, (0.0, 0.0, 0.1)),
    "RECEIVED": Spec(sec.received, "ddnnn", 4, _B),
    "RRI": Spec(cf.rri, "nnn", 3),
    "SLN": Spec(cf.sln, "nnn", 3),
    "SYD": Spec(cf.syd, "nnnn", 4),
    "TBILLEQ": Spec(sec.tbilleq, "ddn", 3),
    "TBILLPRICE": Spec(sec.tbillprice, "ddn", 3),
    "TBILLYIELD": Spec(sec.tbillyield, "ddn", 3),
    "VDB": Spec(cf.vdb, "nnnnnnn", 5, (2.0, 0.0)),
    "YIELD": Spec(sec.yield_, "ddnnnnn", 6, _B),
    "YIELDDISC": Spec(sec.yielddisc, "ddnnn", 4, _B),
    "YIELDMAT": Spec(sec.yieldmat, "dddnnn", 5, _B),
    "YEARFRAC": Spec(lambda a, b, basis=0.0: fc.year_frac(
        fc.to_date(a), fc.to_date(b), fc.check_basis("YEARFRAC", basis)), "ddn", 2, _B),
}


def _udf_name(name: str) -> str:
    return f"fin_{name.lower()}"


def _unsigned_zero(func: Callable[..., float]) -> Callable[..., float]:
    """-0.0 → 0.0 (PMT(r, n, 0) is 0, not "-0")."""
    @functools.wraps(func)  # keeps the signature: DuckDB checks it against the argument types
    def call(*args: float) -> float:
        return func(*args) + 0.0
    return call


for _name, _spec in SPECS.items():
    udf.python(_udf_name(_name), _unsigned_zero(_spec.func), ("DOUBLE",) * _spec.arity, "DOUBLE")


def _xnpv(flows, rate):
    return cf.xnpv([f[0] for f in flows], [f[1] for f in flows], rate)


udf.python("fin_xnpv", _xnpv, ("DOUBLE[][]", "DOUBLE"), "DOUBLE")


def as_double(s: Scalar) -> exp.Expression:
    """A DAX argument as a DOUBLE for the UDFs: dates as serial numbers, BLANK as 0."""
    if s.type is DaxType.DATETIME:
        s = Scalar(_dt_num(s), DaxType.DOUBLE, s.nullable)
    return exp.cast(blank_as_zero(number(s)), "DOUBLE")


class FinanceFns(CompilerCore):

    def finance_call(self, name: str, call, env) -> Scalar:
        spec = SPECS[name]
        args = self.args(call, env, spec.required, spec.arity)
        values = [as_double(self.scalar(a, env)) for a in args]
        values += [as_double(lit(d)) for d in spec.defaults[len(args) - spec.required:]]
        result = udf.udf_call(_udf_name(name), *values)
        if spec.returns_date:
            return Scalar(_num_dt(result), DaxType.DATETIME)
        return Scalar(result, DaxType.DOUBLE)

    def _cash_flows(self, call, env, lo: int, hi: int):
        """The table's (value, date) pairs as one LIST of [value, date] and the extra args."""
        args = self.args(call, env, lo, hi)
        rel = self.table(args[0], env)

        def row(inner) -> Scalar:
            v, d = self.scalar(args[1], inner), self.scalar(args[2], inner)
            pair = exp.Array(expressions=[exp.cast(number(v).sql, "DOUBLE"), _serial(d)])
            return Scalar(pair, DaxType.VARIANT)

        flows = self.agg_over(rel, env, row, lambda s: fn("list", s.sql))
        return flows, args[3:]

    def fn_XNPV(self, call, env):
        flows, (rate,) = self._cash_flows(call, env, 4, 4)
        return Scalar(udf.udf_call("fin_xnpv", flows, as_double(self.scalar(rate, env))), DaxType.DOUBLE)


def _serial(d: Scalar) -> exp.Expression:
    if d.type is DaxType.DATETIME:
        return _dt_num(d)
    return exp.cast(number(d).sql, "DOUBLE")


def _handler(name: str):
    def handler(self, call, env):
        return self.finance_call(name, call, env)
    handler.__name__ = f"fn_{name}"
    handler.__doc__ = f"{name}: see learn.microsoft.com/dax/{name.lower()}-function-dax"
    return handler


for _name in SPECS:
    setattr(FinanceFns, f"fn_{_name}", _handler(_name))
