"""Relationships and outer rows in a row context: RELATED, RELATEDTABLE, EARLIER,
EARLIEST and LOOKUPVALUE.

They read the current row (or an outer one) rather than the filter context; LOOKUPVALUE
with several distinct matches returns its alternate result or errors, as in Power BI.
"""
from __future__ import annotations

from sqlglot import exp

from generator.engine.data import fn
from generator.engine.compiler.core import CompilerCore
from generator.engine.context import Scan, and_all
from generator.engine.types import sql_type, unify
from generator.engine.values import Scalar, cast, compare

N = exp.Literal.number
S = exp.Literal.string


class RelatedFns(CompilerCore):
    """Mixin for `Compiler`: RELATED, EARLIER, LOOKUPVALUE."""

    # ------------------------------------------------------------ relationships in row context

    def fn_RELATED(self, call, env):
        (arg,) = self.args(call, env, 1)
        key = self.colref(env, arg)
        for row in reversed(env.rows):
            if row.base is None:
                continue
            if row.scan is not None and row.scan.has(key):
                return Scalar(row.scan.col(key), self.col_type(key))
            probe = Scan(self, row.base, env.ctx.rels or self.base_rels())
            if not probe.has(key):
                continue
            # walk from the row's table to the target through many-to-one relationships
            path = []
            t = key[0].lower()
            while t != row.base.name.lower():
                parent, idx = probe.parent[t]
                path.append(self.model.relationships[idx])
                t = parent
            path.reverse()
            first = path[0]
            fk = row.cols.get((row.base.name, row.base.column(first.from_column).name))
            if fk is None:
                continue
            one = self.model.table(first.to_table)
            scan = Scan(self, one, env.ctx.rels or self.base_rels())
            cond = exp.EQ(this=scan.col((one.name, one.column(first.to_column).name)), expression=fk.sql)
            sel = scan.build(exp.select(scan.col(key)), cond)
            return Scalar(exp.Subquery(this=sel), self.col_type(key))
        raise self.err(env, call, f"RELATED: no row context on a table related to '{key[0]}'",
                       "RELATED needs an iterator (SUMX, FILTER, ...) over the many side")

    def fn_RELATEDTABLE(self, call, env):
        (arg,) = self.args(call, env, 1)
        table = self.resolve_table(env, arg, self._table_name(env, arg))
        return self.base_rel(table, env, ctx=self.transition(env))

    def fn_EARLIER(self, call, env):
        args = self.args(call, env, 1, 2)
        key = self.colref(env, args[0])
        n = int(args[1].value) if len(args) > 1 else 1
        return self.column_value(key, env, call, skip=n)

    def fn_EARLIEST(self, call, env):
        (arg,) = self.args(call, env, 1)
        key = self.colref(env, arg)
        for row in env.rows:
            if key in row.cols:
                return row.cols[key]
        raise self.err(env, call, "EARLIEST: no row context for this column")

    _LOOKUP_MANY = "LOOKUPVALUE: a table of multiple values was supplied where a single value was expected."

    def fn_LOOKUPVALUE(self, call, env):
        """The result column's value on the rows matching every search pair.

        learn.microsoft.com/dax/lookupvalue-function-dax: no row → alternateResult (else
        BLANK); several rows with one value (BLANK counts as a value) → that value; several
        values → alternateResult if given, else an error. The matches are summarised in one
        scan as (state, value), state 0 none / 1 one value / 2 several; the choice is made
        outside it, so alternateResult is evaluated in the caller's context."""
        args = self.args(call, env, 3, -1)
        result = self.colref(env, args[0])
        pairs = args[1:]
        alt = None
        if len(pairs) % 2:
            alt = self.scalar(pairs[-1], env)
            pairs = pairs[:-1]
        table = self.model.table(result[0])
        scan = Scan(self, table, env.ctx.rels or self.base_rels())
        conds = []
        for i in range(0, len(pairs), 2):
            k = self.colref(env, pairs[i])
            v = self.scalar(pairs[i + 1], env)
            conds.append(compare("=", Scalar(scan.col(k), self.col_type(k)), v).sql)
        r = scan.col(result)
        has_blank = exp.Max(this=exp.Case(ifs=[exp.If(this=r.copy().is_(exp.null()), true=N(1))], default=N(0)))
        distinct = exp.Add(this=exp.Count(this=exp.Distinct(expressions=[r.copy()])), expression=has_blank)
        state = exp.Case(ifs=[exp.If(this=exp.EQ(this=exp.Count(this=exp.Star()), expression=N(0)), true=N(0)),
                              exp.If(this=exp.GT(this=distinct, expression=N(1)), true=N(2))], default=N(1))
        sel = scan.build(exp.select(exp.alias_(state, "s"), exp.alias_(exp.Max(this=r.copy()), "v")), and_all(conds))
        t = self.col_type(result) if alt is None else unify([self.col_type(result), alt.type])
        alias = self.new_alias()
        found = cast(Scalar(exp.column("v", alias), self.col_type(result)), t).sql
        none = cast(alt, t).sql if alt is not None else exp.cast(exp.null(), sql_type(t))
        many = cast(alt, t).sql if alt is not None else exp.cast(fn("error", S(self._LOOKUP_MANY)), sql_type(t))
        s = exp.column("s", alias)
        pick = exp.Case(ifs=[exp.If(this=exp.EQ(this=s, expression=N(1)), true=found),
                             exp.If(this=exp.EQ(this=s.copy(), expression=N(2)), true=many)], default=none)
        return Scalar(exp.Subquery(this=exp.select(pick).from_(sel.subquery(alias))), t)
