"""DAX financial functions (learn.microsoft.com/dax/financial-functions-dax) and YEARFRAC.

The numbers are Excel's, computed by `finance_math` (pure Python) through backend UDFs:
bond schedules, day-count bases and the iterative solvers (RATE, YIELD) are not
expressible as SQL closed forms. Every scalar function is described once in `SPECS`
(its Python function, which arguments are dates, how many are required and the defaults
of the optional ones) and gets a generated `fn_<NAME>` handler.

Arguments: BLANK reads as 0 (a BLANK date as 1899-12-30), DAX's implicit conversion for
numeric arguments; an omitted optional argument takes its documented default. Invalid
arguments (rate <= -1, settlement >= maturity, a basis outside 0–4, …) raise the
function's error at evaluation, as Power BI does.

XNPV takes a table and two row expressions: the (value, date) pairs are collected with
an aggregate over the table's rows (like SUMX) and handed to the UDF. XIRR is not
exposed yet: `finance_math.xirr` finds the exact root, but Desktop's solver stops
earlier (the oracle's probe differs from the exact root by 2.4e-10 relative) and the
oracle compares at 1e-12.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

from sqlglot import exp

from generator.engine import finance_math as fm
from generator.engine import udf
from generator.engine.compiler import CompilerCore
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
    "ACCRINT": Spec(fm.accrint, "dddnnnnn", 6, (0.0, 1.0)),
    "ACCRINTM": Spec(fm.accrintm, "ddnnn", 4, _B),
    "AMORDEGRC": Spec(fm.amordegrc, "nddnnnn", 6, _B),
    "AMORLINC": Spec(fm.amorlinc, "nddnnnn", 6, _B),
    "COUPDAYBS": Spec(fm.coupdaybs, "ddnn", 3, _B),
    "COUPDAYS": Spec(fm.coupdays, "ddnn", 3, _B),
    "COUPDAYSNC": Spec(fm.coupdaysnc, "ddnn", 3, _B),
    "COUPNCD": Spec(fm.coupncd, "ddnn", 3, _B, returns_date=True),
    "COUPNUM": Spec(fm.coupnum, "ddnn", 3, _B),
    "COUPPCD": Spec(fm.couppcd, "ddnn", 3, _B, returns_date=True),
    "CUMIPMT": Spec(fm.cumipmt, "nnnnnn", 6),
    "CUMPRINC": Spec(fm.cumprinc, "nnnnnn", 6),
    "DB": Spec(fm.db, "nnnnn", 4, (12.0,)),
    "DDB": Spec(fm.ddb, "nnnnn", 4, (2.0,)),
    "DISC": Spec(fm.disc, "ddnnn", 4, _B),
    "DOLLARDE": Spec(fm.dollarde, "nn", 2),
    "DOLLARFR": Spec(fm.dollarfr, "nn", 2),
    "DURATION": Spec(fm.duration, "ddnnnn", 5, _B),
    "EFFECT": Spec(fm.effect, "nn", 2),
    "FV": Spec(fm.fv, "nnnnn", 3, (0.0, 0.0)),
    "INTRATE": Spec(fm.intrate, "ddnnn", 4, _B),
    "IPMT": Spec(fm.ipmt, "nnnnnn", 4, (0.0, 0.0)),
    "ISPMT": Spec(fm.ispmt, "nnnn", 4),
    "MDURATION": Spec(fm.mduration, "ddnnnn", 5, _B),
    "NOMINAL": Spec(fm.nominal, "nn", 2),
    "NPER": Spec(fm.nper, "nnnnn", 3, (0.0, 0.0)),
    "ODDFPRICE": Spec(fm.oddfprice, "ddddnnnnn", 8, _B),
    "ODDFYIELD": Spec(fm.oddfyield, "ddddnnnnn", 8, _B),
    "ODDLPRICE": Spec(fm.oddlprice, "dddnnnnn", 7, _B),
    "ODDLYIELD": Spec(fm.oddlyield, "dddnnnnn", 7, _B),
    "PDURATION": Spec(fm.pduration, "nnn", 3),
    "PMT": Spec(fm.pmt, "nnnnn", 3, (0.0, 0.0)),
    "PPMT": Spec(fm.ppmt, "nnnnnn", 4, (0.0, 0.0)),
    "PRICE": Spec(fm.price, "ddnnnnn", 6, _B),
    "PRICEDISC": Spec(fm.pricedisc, "ddnnn", 4, _B),
    "PRICEMAT": Spec(fm.pricemat, "dddnnn", 5, _B),
    "PV": Spec(fm.pv, "nnnnn", 3, (0.0, 0.0)),
    "RATE": Spec(fm.rate, "nnnnnn", 3, (0.0, 0.0, 0.1)),
    "RECEIVED": Spec(fm.received, "ddnnn", 4, _B),
    "RRI": Spec(fm.rri, "nnn", 3),
    "SLN": Spec(fm.sln, "nnn", 3),
    "SYD": Spec(fm.syd, "nnnn", 4),
    "TBILLEQ": Spec(fm.tbilleq, "ddn", 3),
    "TBILLPRICE": Spec(fm.tbillprice, "ddn", 3),
    "TBILLYIELD": Spec(fm.tbillyield, "ddn", 3),
    "VDB": Spec(fm.vdb, "nnnnnnn", 5, (2.0, 0.0)),
    "YIELD": Spec(fm.yield_, "ddnnnnn", 6, _B),
    "YIELDDISC": Spec(fm.yielddisc, "ddnnn", 4, _B),
    "YIELDMAT": Spec(fm.yieldmat, "dddnnn", 5, _B),
    "YEARFRAC": Spec(lambda a, b, basis=0.0: fm.year_frac(
        fm.to_date(a), fm.to_date(b), fm.check_basis("YEARFRAC", basis)), "ddn", 2, _B),
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
    return fm.xnpv([f[0] for f in flows], [f[1] for f in flows], rate)


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
