"""Ordered row selection: TOPNSKIP and SAMPLE (rows numbered by the order arguments,
then a window of them or an evenly spaced sample).

Each handler follows the function's page on dax.guide / learn.microsoft.com (cited in the
docstrings); the tests in tests/engine/test_fn_tables2.py check them on hand-worked data.
"""
from __future__ import annotations

from sqlglot import exp

from generator.engine.compiler.compile_types import Env, Rel
from generator.engine.compiler.core import CompilerCore
from generator.engine.data import fn
from generator.engine.compiler.dax_keywords import order_pairs

N = exp.Literal.number


class RowSelectionFns(CompilerCore):
    """Mixin for `Compiler`: TOPNSKIP and SAMPLE."""

    # ------------------------------------------------------------ ordered row selection

    def _numbered(self, rel: Rel, env: Env, orders) -> tuple[exp.Select, str]:
        """SELECT rel's columns, rn (0-based position in `orders`, ties broken by the
        columns so the result is deterministic), n (row count) FROM rel."""
        def project(inner: Env) -> list[exp.Expression]:
            outs = [exp.alias_(inner.rows[-1].names[c.name.lower()].sql, c.sql) for c in rel.cols]
            return outs + [exp.alias_(self.scalar(e, inner).sql, f"o{i}") for i, (e, _) in enumerate(orders)]

        sel = self.over(rel, env, project)
        a = self.new_alias()
        order = [exp.Ordered(this=exp.column(f"o{i}", a), desc=d, nulls_first=not d) for i, (_, d) in enumerate(orders)]
        order += [exp.Ordered(this=exp.column(c.sql, a), nulls_first=True) for c in rel.cols]
        rn = exp.Sub(this=exp.Window(this=fn("row_number"), order=exp.Order(expressions=order)), expression=N(1))
        count = exp.Window(this=exp.Count(this=exp.Star()))
        numbered = exp.select(*[exp.column(c.sql, a) for c in rel.cols], exp.alias_(rn, "rn"),
                              exp.alias_(count, "n")).from_(sel.subquery(a))
        return numbered, self.new_alias()

    def fn_TOPNSKIP(self, call, env):
        """TOPNSKIP(rows, skip, T [, orderBy [, order]]…): `rows` rows after skipping `skip`
        in the order given (descending unless ASC), exactly that many even on ties
        (dax.guide/topnskip)."""
        args = self.args(call, env, 3, -1)
        rows, skip = self.scalar(args[0], env), self.scalar(args[1], env)
        rel = self.table(args[2], env)
        numbered, a = self._numbered(rel, env, order_pairs(list(args[3:]), default_desc=True))
        rn = exp.column("rn", a)
        cond = exp.and_(exp.GTE(this=rn, expression=exp.cast(skip.sql, "BIGINT")),
                        exp.LT(this=rn.copy(), expression=exp.Add(this=exp.cast(skip.sql.copy(), "BIGINT"),
                                                                  expression=exp.cast(rows.sql, "BIGINT"))))
        sel = exp.select(*[exp.column(c.sql, a) for c in rel.cols]).from_(numbered.subquery(a)).where(cond)
        return Rel(rel.cols, sel, rows_of=rel.base.name if rel.base is not None else rel.rows_of)

    def fn_SAMPLE(self, call, env):
        """SAMPLE(n, T, orderBy [, order]…): n rows of T in that order (descending unless
        ASC): the first, the last and evenly spaced rows between them; positions
        floor(i·(rows−1)/(n−1)) for i = 0…n−1; every row when n ≥ rows, none when n ≤ 0
        (dax.guide/sample; learn.microsoft.com/dax/sample-function-dax)."""
        args = self.args(call, env, 3, -1)
        size = self.scalar(args[0], env)
        rel = self.table(args[1], env)
        numbered, a = self._numbered(rel, env, order_pairs(list(args[2:]), default_desc=True))
        k = exp.cast(size.sql, "BIGINT")
        rn, n = exp.column("rn", a), exp.column("n", a)
        # row rn is chosen if some i has floor(i*(n-1)/(k-1)) = rn, i.e. if
        # ceil(rn*(k-1)/(n-1)) * (n-1) < (rn+1)*(k-1)
        i = fn("ceil", exp.Div(this=exp.Mul(this=rn.copy(), expression=exp.paren(exp.Sub(this=k.copy(), expression=N(1)))),
                               expression=exp.cast(exp.paren(exp.Sub(this=n.copy(), expression=N(1))), "DOUBLE")))
        spaced = exp.LT(this=exp.Mul(this=i, expression=exp.paren(exp.Sub(this=n.copy(), expression=N(1)))),
                        expression=exp.Mul(this=exp.paren(exp.Add(this=rn.copy(), expression=N(1))),
                                           expression=exp.paren(exp.Sub(this=k.copy(), expression=N(1)))))
        cond = exp.Case(ifs=[
            exp.If(this=exp.LTE(this=k.copy(), expression=N(0)), true=exp.false()),
            exp.If(this=exp.GTE(this=k.copy(), expression=n.copy()), true=exp.true()),
            exp.If(this=exp.EQ(this=k.copy(), expression=N(1)), true=exp.EQ(this=rn.copy(), expression=N(0))),
        ], default=spaced)
        sel = exp.select(*[exp.column(c.sql, a) for c in rel.cols]).from_(numbered.subquery(a)).where(cond)
        return Rel(rel.cols, sel, rows_of=rel.base.name if rel.base is not None else rel.rows_of)
