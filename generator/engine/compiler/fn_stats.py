"""Statistical DAX functions: distributions, LINEST/LINESTX, RANK.EQ, and the statistical
names Power BI rejects (CEILING.MATH, FLOOR.MATH, APPROXIMATEDISTINCTCOUNT on import).

The distributions are Excel's (learn.microsoft.com/dax/statistical-functions-dax): the
values come from scipy.stats, the standard implementation, run as Python UDFs registered
in `generator.engine.udf`. Arguments Excel documents as integers (degrees of freedom,
sample size, POISSON's x) are truncated; an out-of-domain argument raises the error Power
BI raises ("An argument of function 'X' has the wrong data type or has an invalid value"),
which makes the query fail — never a BLANK. BLANK arguments read as 0 / FALSE, as DAX's
implicit conversion does for numeric parameters.
"""
from __future__ import annotations

import math
from typing import Callable

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.compile_types import Env, Rel, RelCol
from generator.engine.data import fn
from generator.engine.types import DaxType
from generator.engine.udf import python, udf_call
from generator.engine.values import Scalar, blank_as_zero, number

N = exp.Literal.number


class DistributionDomainError(ValueError):
    """An argument outside the function's domain (Excel's #NUM!)."""


def _bad(name: str) -> DistributionDomainError:
    return DistributionDomainError(
        f"An argument of function '{name}' has the wrong data type or has an invalid value.")


def _check(name: str, ok: bool) -> None:
    if not ok:
        raise _bad(name)


def _stats():
    from scipy import stats  # imported lazily: only queries using a distribution pay for it

    return stats


def _deg(name: str, k: float, hi: float = 1e10) -> int:
    k = math.trunc(k)
    _check(name, 1 <= k <= hi)
    return k


# Each function: (name, python implementation, argument kinds, required count, defaults).
# Kinds: "n" number, "b" Boolean (cumulative). Domains per learn.microsoft.com/dax/<name>-function-dax.

def _beta_dist(x, a, b, cum, lo, hi):
    _check("BETA.DIST", a > 0 and b > 0 and lo < hi and lo <= x <= hi)
    z = (x - lo) / (hi - lo)
    st = _stats()
    return float(st.beta.cdf(z, a, b)) if cum else float(st.beta.pdf(z, a, b)) / (hi - lo)


def _beta_inv(p, a, b, lo, hi):
    _check("BETA.INV", 0 < p <= 1 and a > 0 and b > 0 and lo < hi)
    return lo + float(_stats().beta.ppf(p, a, b)) * (hi - lo)


def _chisq_dist(x, k, cum):
    _check("CHISQ.DIST", x >= 0)
    k = _deg("CHISQ.DIST", k)
    st = _stats()
    return float(st.chi2.cdf(x, k)) if cum else float(st.chi2.pdf(x, k))


def _chisq_dist_rt(x, k):
    _check("CHISQ.DIST.RT", x >= 0)
    return float(_stats().chi2.sf(x, _deg("CHISQ.DIST.RT", k)))


def _chisq_inv(p, k):
    _check("CHISQ.INV", 0 <= p <= 1)
    return float(_stats().chi2.ppf(p, _deg("CHISQ.INV", k)))


def _chisq_inv_rt(p, k):
    _check("CHISQ.INV.RT", 0 <= p <= 1)
    return float(_stats().chi2.isf(p, _deg("CHISQ.INV.RT", k)))


def _confidence_norm(alpha, sd, n):
    n = math.trunc(n)
    _check("CONFIDENCE.NORM", 0 < alpha < 1 and sd > 0 and n >= 1)
    return float(_stats().norm.ppf(1 - alpha / 2)) * sd / math.sqrt(n)


def _confidence_t(alpha, sd, n):
    n = math.trunc(n)
    _check("CONFIDENCE.T", 0 < alpha < 1 and sd > 0 and n >= 2)  # n = 1: Excel's #DIV/0!
    return float(_stats().t.ppf(1 - alpha / 2, n - 1)) * sd / math.sqrt(n)


def _expon_dist(x, lam, cum):
    _check("EXPON.DIST", x >= 0 and lam > 0)
    return -math.expm1(-lam * x) if cum else lam * math.exp(-lam * x)


def _norm_dist(x, mean, sd, cum):
    _check("NORM.DIST", sd > 0)
    st = _stats()
    return float(st.norm.cdf(x, mean, sd)) if cum else float(st.norm.pdf(x, mean, sd))


def _norm_inv(p, mean, sd):
    _check("NORM.INV", 0 < p < 1 and sd > 0)
    return float(_stats().norm.ppf(p, mean, sd))


def _norm_s_dist(z, cum):
    st = _stats()
    return float(st.norm.cdf(z)) if cum else float(st.norm.pdf(z))


def _norm_s_inv(p):
    _check("NORM.S.INV", 0 < p < 1)
    return float(_stats().norm.ppf(p))


def _poisson_dist(x, mean, cum):
    x = math.trunc(x)
    _check("POISSON.DIST", x >= 0 and mean >= 0)
    st = _stats()
    return float(st.poisson.cdf(x, mean)) if cum else float(st.poisson.pmf(x, mean))


def _t_dist(x, k, cum):
    k = _deg("T.DIST", k)
    st = _stats()
    return float(st.t.cdf(x, k)) if cum else float(st.t.pdf(x, k))


def _t_dist_2t(x, k):
    _check("T.DIST.2T", x >= 0)
    return 2 * float(_stats().t.sf(x, _deg("T.DIST.2T", k)))


def _t_dist_rt(x, k):
    return float(_stats().t.sf(x, _deg("T.DIST.RT", k)))


def _t_inv(p, k):
    _check("T.INV", 0 < p < 1)
    return float(_stats().t.ppf(p, _deg("T.INV", k)))


def _t_inv_2t(p, k):
    _check("T.INV.2T", 0 < p <= 1)
    return float(_stats().t.isf(p / 2, _deg("T.INV.2T", k)))


DISTRIBUTIONS: dict[str, tuple[Callable, str, int, tuple]] = {
    "BETA.DIST": (_beta_dist, "nnnbnn", 4, (0.0, 1.0)),
    "BETA.INV": (_beta_inv, "nnnnn", 3, (0.0, 1.0)),
    "CHISQ.DIST": (_chisq_dist, "nnb", 3, ()),
    "CHISQ.DIST.RT": (_chisq_dist_rt, "nn", 2, ()),
    "CHISQ.INV": (_chisq_inv, "nn", 2, ()),
    "CHISQ.INV.RT": (_chisq_inv_rt, "nn", 2, ()),
    "CONFIDENCE.NORM": (_confidence_norm, "nnn", 3, ()),
    "CONFIDENCE.T": (_confidence_t, "nnn", 3, ()),
    "EXPON.DIST": (_expon_dist, "nnb", 3, ()),
    "NORM.DIST": (_norm_dist, "nnnb", 4, ()),
    "NORM.INV": (_norm_inv, "nnn", 3, ()),
    "NORM.S.DIST": (_norm_s_dist, "nb", 2, ()),
    "NORM.S.INV": (_norm_s_inv, "n", 1, ()),
    "POISSON.DIST": (_poisson_dist, "nnb", 3, ()),
    "T.DIST": (_t_dist, "nnb", 3, ()),
    "T.DIST.2T": (_t_dist_2t, "nn", 2, ()),
    "T.DIST.RT": (_t_dist_rt, "nn", 2, ()),
    "T.INV": (_t_inv, "nn", 2, ()),
    "T.INV.2T": (_t_inv_2t, "nn", 2, ()),
}

_SQL_TYPE = {"n": "DOUBLE", "b": "BOOLEAN"}
_UDF = {name: python(f"dist_{name.replace('.', '_').lower()}", f, [_SQL_TYPE[k] for k in kinds], "DOUBLE")
        for name, (f, kinds, _, _) in DISTRIBUTIONS.items()}


# ---------------------------------------------------------------- LINEST

def _linest(ys: list, xs: list, const: bool) -> list[float]:
    """Least squares of y on the x columns (BLANKs arrive as 0), Excel's LINEST
    statistics, in the column order of learn.microsoft.com/dax/linest-function-dax:
    Slope1..k, Intercept, StandardErrorSlope1..k, StandardErrorIntercept,
    CoefficientOfDetermination, StandardError, FStatistic, DegreesOfFreedom,
    RegressionSumOfSquares, ResidualSumOfSquares."""
    import numpy as np

    if not ys:
        raise DistributionDomainError("LINEST: there are no rows to fit")
    y = np.array(ys, dtype=float)
    x = np.array(xs, dtype=float)
    n, k = x.shape
    a = np.column_stack([x, np.ones(n)]) if const else x
    p = a.shape[1]
    df = n - p
    if df < 0 or np.linalg.matrix_rank(a) < p:
        raise DistributionDomainError("LINEST: the X columns do not determine a unique fit")
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    resid = y - a @ coef
    ss_resid = float(resid @ resid)
    centre = y.mean() if const else 0.0
    ss_total = float(((y - centre) ** 2).sum())
    ss_reg = ss_total - ss_resid
    r2 = ss_reg / ss_total if ss_total else 1.0
    if df > 0:
        s2 = ss_resid / df
        se = np.sqrt(np.diag(s2 * np.linalg.inv(a.T @ a)))
        std_err = math.sqrt(s2)
        f_stat = (ss_reg / k) / s2 if s2 else math.inf
    else:
        se, std_err, f_stat = np.zeros(p), 0.0, math.inf
    slopes, slope_se = list(coef[:k]), list(se[:k])
    intercept, int_se = (float(coef[k]), float(se[k])) if const else (0.0, 0.0)
    return [*map(float, slopes), intercept, *map(float, slope_se), int_se, r2, std_err, f_stat,
            float(df), ss_reg, ss_resid]


_LINEST = python("linest", _linest, ("DOUBLE[]", "DOUBLE[][]", "BOOLEAN"), "DOUBLE[]")


def linest_columns(k: int) -> list[tuple[str, DaxType]]:
    names = [f"Slope{i}" for i in range(1, k + 1)] + ["Intercept"]
    names += [f"StandardErrorSlope{i}" for i in range(1, k + 1)] + ["StandardErrorIntercept"]
    names += ["CoefficientOfDetermination", "StandardError", "FStatistic", "DegreesOfFreedom",
              "RegressionSumOfSquares", "ResidualSumOfSquares"]
    return [(n, DaxType.INT if n == "DegreesOfFreedom" else DaxType.DOUBLE) for n in names]


class StatFns:
    """Mixin for `Compiler` (uses CompilerCore's helpers)."""

    def _distribution(self, name: str, call, env: Env) -> Scalar:
        f, kinds, required, defaults = DISTRIBUTIONS[name]
        args = self.args(call, env, required, len(kinds))
        values = []
        for i, kind in enumerate(kinds):
            if i < len(args):
                v = self.scalar(args[i], env)
                if kind == "b":
                    values.append(exp.cast(blank_as_zero(Scalar(self.bool_of(v), DaxType.BOOL, v.nullable)), "BOOLEAN"))
                else:
                    values.append(exp.cast(blank_as_zero(number(v), DaxType.DOUBLE), "DOUBLE"))
            else:
                values.append(exp.cast(N(repr(defaults[i - required])), "DOUBLE"))
        return Scalar(udf_call(_UDF[name], *values), DaxType.DOUBLE, False)

    def bool_of(self, v: Scalar) -> exp.Expression:
        from generator.engine.values import truthy

        return truthy(v) if v.type is not DaxType.BOOL else v.sql

    # ------------------------------------------------------------ LINEST / LINESTX

    def fn_LINEST(self, call, env):
        """LINEST(Y column, X column, … [, const]): LINESTX over the Y column's table."""
        args, const = self._linest_const(call, env, 2)
        ykey = self.colref(env, args[0])
        for a in args[1:]:
            key = self.colref(env, a)
            if key[0].lower() != ykey[0].lower():
                raise self.err(env, a, "LINEST needs every column from the same table as the Y column",
                               "use LINESTX(table, y, x, …) for expressions over one table")
        table = self.model.table(ykey[0])
        return self._linest_rel(self.base_rel(table, env), args[0], args[1:], const, env)

    def fn_LINESTX(self, call, env):
        args, const = self._linest_const(call, env, 3)
        return self._linest_rel(self.table(args[0], env), args[1], args[2:], const, env)

    def _linest_const(self, call, env, lo: int):
        args = self.args(call, env, lo, -1)
        const = exp.true()
        last = args[-1]
        # a trailing TRUE/FALSE (a Boolean literal) is the const argument
        is_bool = isinstance(last, A.Boolean) or (
            isinstance(last, A.FunctionCall) and last.name in ("TRUE", "FALSE") and not last.args)
        if is_bool and len(args) > lo:
            const = self.bool_of(self.scalar(last, env))
            args = args[:-1]
        return args, const

    def _linest_rel(self, rel: Rel, y, xs, const, env) -> Rel:
        def project(inner):
            yv = number(self.scalar(y, inner))
            xv = [number(self.scalar(x, inner)) for x in xs]
            # BLANK reads as 0, as in DAX arithmetic (Desktop fits the blank row at y = 0)
            return [exp.alias_(exp.cast(blank_as_zero(yv, DaxType.DOUBLE), "DOUBLE"), "y"),
                    exp.alias_(exp.Array(expressions=[exp.cast(blank_as_zero(v, DaxType.DOUBLE), "DOUBLE")
                                                      for v in xv]), "x")]

        rows = self.over(rel, env, project)
        alias = self.new_alias()
        fit = exp.select(exp.alias_(udf_call(_LINEST, fn("list", exp.column("y", alias)),
                                             fn("list", exp.column("x", alias)), const), "r")
                         ).from_(rows.subquery(alias))
        a2 = self.new_alias()
        cols, outs = [], []
        for i, (name, t) in enumerate(linest_columns(len(xs))):
            v = fn("list_extract", exp.column("r", a2), N(i + 1))  # 1-based
            outs.append(exp.alias_(exp.cast(v, "BIGINT" if t is DaxType.INT else "DOUBLE"), f"c{i}"))
            cols.append(RelCol(name, f"c{i}", None, t))
        return Rel(tuple(cols), exp.select(*outs).from_(fit.subquery(a2)), nonnull=True)

    # ------------------------------------------------------------ RANK.EQ

    def fn_RANK_EQ(self, call, env):
        """RANK.EQ(value, column [, order]): 1 + the number of the column's rows (in the
        filter context, duplicates counted) ranking before `value`; order 0/DESC (the
        default) ranks the largest first (learn.microsoft.com/dax/rank-eq-function-dax).
        BLANK when the column holds no row equal to `value`."""
        args = self.args(call, env, 2, 3)
        value = number(self.scalar(args[0], env))
        key = self.colref(env, args[1])
        desc = True
        if len(args) > 2:
            from generator.engine.compiler.dax_keywords import _enum, _ENUM_ORDER

            e = _enum(args[2])
            if e not in _ENUM_ORDER:
                raise self.err(env, args[2], "RANK.EQ's order must be 0/DESC or 1/ASC")
            desc = _ENUM_ORDER[e]
        rel = self.base_rel(self.model.table(key[0]), env)
        v = exp.paren(value.sql)

        def project(inner):
            c = exp.cast(self.column_value(key, inner, args[1]).sql, "DOUBLE")
            before = exp.GT(this=c, expression=v.copy()) if desc else exp.LT(this=c, expression=v.copy())
            return [exp.alias_(exp.cast(before, "INT"), "b"), exp.alias_(exp.cast(exp.EQ(this=c.copy(), expression=v.copy()), "INT"), "e")]

        rows = self.over(rel, env, project)
        alias = self.new_alias()
        b, e = exp.column("b", alias), exp.column("e", alias)
        rank = exp.Case(ifs=[exp.If(this=exp.GT(this=fn("coalesce", exp.Sum(this=e), N(0)), expression=N(0)),
                                    true=exp.Add(this=fn("coalesce", exp.Sum(this=b), N(0)), expression=N(1)))])
        return Scalar(exp.cast(exp.Subquery(this=exp.select(rank).from_(rows.subquery(alias))), "BIGINT"), DaxType.INT)

    # ------------------------------------------------------------ names Power BI rejects

    def fn_CEILING_MATH(self, call, env):
        """Excel's name; Desktop cannot resolve it (dax.guide lists it, the engine rejects it)."""
        return self.not_a_function(call, env)

    def fn_FLOOR_MATH(self, call, env):
        return self.not_a_function(call, env)

    def fn_APPROXIMATEDISTINCTCOUNT(self, call, env):
        """Only DirectQuery models support it (learn.microsoft.com/dax/approximatedistinctcount-function-dax);
        Desktop raises on an import model, which is what pbi-forge builds."""
        self.args(call, env, 1)
        raise self.err(env, call, "The function APPROXIMATEDISTINCTCOUNT is not supported for this storage "
                                  "mode (import); it needs a DirectQuery source",
                       "use DISTINCTCOUNT")


def _distribution_handler(name: str):
    def handler(self, call, env):
        return self._distribution(name, call, env)

    handler.__name__ = "fn_" + name.replace(".", "_")
    handler.__doc__ = f"{name}: see learn.microsoft.com/dax/{name.lower().replace('.', '-')}-function-dax"
    return handler


for _name in DISTRIBUTIONS:
    setattr(StatFns, "fn_" + _name.replace(".", "_"), _distribution_handler(_name))


# ---------------------------------------------------------------- PATH (parent-child)
# Listed with the statistics work (issue #13); kept apart from the distributions above.

def _path(ids: list, parents: list, row_id) -> str | None:
    """The "|"-joined ids from the root down to `row_id` (a blank parent is a root)."""
    if row_id is None:
        return None
    parent_of = dict(zip(ids, parents))
    chain, cur = [], row_id
    while cur is not None:
        if cur not in parent_of:
            raise DistributionDomainError(f"PATH: the parent chain of {row_id} does not end at a blank parent "
                                          f"(the value {cur} is not an ID)")
        if len(chain) > len(parent_of):
            raise DistributionDomainError(f"PATH: the parent chain of {row_id} does not end at a blank parent "
                                          f"(a loop)")
        chain.append(cur)
        cur = parent_of[cur]
    return "|".join(str(c) for c in reversed(chain))


_PATH = python("path", _path, ("VARCHAR[]", "VARCHAR[]", "VARCHAR"), "VARCHAR", special_nulls=True)


class PathFns:
    """Mixin for `Compiler`: PATH and PATHITEMREVERSE (learn.microsoft.com/dax/path-function-dax,
    pathitemreverse-function-dax)."""

    def fn_PATH(self, call, env):
        """PATH(id, parent) of the current row: the ids from the root down to the row's id,
        joined by "|". The hierarchy is the whole table (PATH ignores filters); a parent
        chain that does not end at a BLANK parent (a missing parent, a loop) is an error.
        Ids are compared as text, which is how the path spells them."""
        a, b = self.args(call, env, 2)
        idk, pk = self.colref(env, a), self.colref(env, b)
        if idk[0].lower() != pk[0].lower():
            raise self.err(env, b, "PATH needs the ID and parent columns of the same table")
        row_id = self.column_value(idk, env, a)
        alias = self.new_alias()
        table = self.model.table(idk[0])
        ids = fn("list", exp.cast(exp.column(idk[1], alias, quoted=True), "VARCHAR"))
        parents = fn("list", exp.cast(exp.column(pk[1], alias, quoted=True), "VARCHAR"))
        sel = exp.select(udf_call(_PATH, ids, parents, exp.cast(row_id.sql, "VARCHAR"))).from_(
            exp.Table(this=exp.to_identifier(table.name, quoted=True), alias=exp.TableAlias(this=exp.to_identifier(alias))))
        return Scalar(exp.Subquery(this=sel), DaxType.TEXT)
