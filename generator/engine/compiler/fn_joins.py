"""Joins and set operations on tables: NATURALINNERJOIN, NATURALLEFTOUTERJOIN, INTERSECT,
EXCEPT and SUBSTITUTEWITHINDEX.

Each handler follows the function's page on dax.guide / learn.microsoft.com (cited in the
docstrings); the tests in tests/engine/test_fn_tables2.py check them on hand-worked data.
"""
from __future__ import annotations

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.compile_types import Env, Rel, RelCol
from generator.engine.compiler.core import CompilerCore
from generator.engine.context import and_all, not_distinct
from generator.engine.data import fn
from generator.engine.compiler.dax_keywords import order_pairs
from generator.engine.types import DaxType

N = exp.Literal.number
def _short(c: RelCol) -> str:
    """A column's name without its table: SUBSTITUTEWITHINDEX matches columns by name."""
    if c.key is not None and c.name == f"{c.key[0]}[{c.key[1]}]":
        return c.key[1].lower()
    return c.name.lower()


class JoinFns(CompilerCore):
    """Mixin for `Compiler`: natural joins, INTERSECT/EXCEPT, SUBSTITUTEWITHINDEX."""

    # ------------------------------------------------------------ joins and set operations

    def fn_NATURALINNERJOIN(self, call, env):
        """Rows of both tables joined on their common columns — same lineage — or, for two
        model tables, on the relationship between them; the columns of both, common ones
        once (dax.guide/naturalinnerjoin; learn.microsoft.com/dax/naturalinnerjoin-function-dax)."""
        return self._natural_join(call, env, "INNER")

    def fn_NATURALLEFTOUTERJOIN(self, call, env):
        """As NATURALINNERJOIN, keeping left rows without a match (right columns BLANK)
        (dax.guide/naturalleftouterjoin)."""
        return self._natural_join(call, env, "LEFT")

    def _natural_join(self, call, env, kind: str) -> Rel:
        a, b = self.args(call, env, 2)
        left, right = self.table(a, env), self.table(b, env)
        la, ra = self.new_alias(), self.new_alias()
        common = [(lc, rc) for lc in left.cols for rc in right.cols if lc.key is not None and lc.key == rc.key]
        if common:
            on = and_all(not_distinct(exp.column(lc.sql, la), exp.column(rc.sql, ra)) for lc, rc in common)
            dropped = {id(rc) for _, rc in common}
        else:
            pair = self._relationship_between(left, right)
            if pair is None:
                raise self.err(env, call, f"{call.name}: the tables have no common columns and no relationship")
            lc, rc = pair
            on = exp.EQ(this=exp.column(lc.sql, la), expression=exp.column(rc.sql, ra))
            dropped = set()
        cols, outs = [], []
        for side, alias, rel in (("l", la, left), ("r", ra, right)):
            for i, c in enumerate(rel.cols):
                if id(c) in dropped:
                    continue
                cols.append(RelCol(c.name, f"{side}{i}", c.key, c.type))
                outs.append(exp.alias_(exp.column(c.sql, alias), f"{side}{i}"))
        sel = exp.select(*outs).from_(self.rel_select(left).subquery(la, copy=True)).join(
            self.rel_select(right).subquery(ra, copy=True), on=on, join_type=kind)
        return Rel(tuple(cols), sel)

    def _relationship_between(self, left: Rel, right: Rel) -> tuple[RelCol, RelCol] | None:
        lk = {c.key: c for c in left.cols if c.key is not None}
        rk = {c.key: c for c in right.cols if c.key is not None}
        for r in self.model.relationships:
            ends = [(self.model.table(r.from_table).name, self.model.table(r.from_table).column(r.from_column).name),
                    (self.model.table(r.to_table).name, self.model.table(r.to_table).column(r.to_column).name)]
            if not r.active:
                continue
            if ends[0] in lk and ends[1] in rk:
                return lk[ends[0]], rk[ends[1]]
            if ends[1] in lk and ends[0] in rk:
                return lk[ends[1]], rk[ends[0]]
        return None

    def fn_INTERSECT(self, call, env):
        """The rows of the first table that appear in the second, duplicates of the first
        kept; columns compared by position, lineage from the first table
        (dax.guide/intersect; learn.microsoft.com/dax/intersect-function-dax)."""
        return self._set_op(call, env, keep=True)

    def fn_EXCEPT(self, call, env):
        """The rows of the first table that do not appear in the second, duplicates kept
        (dax.guide/except; learn.microsoft.com/dax/except-function-dax)."""
        return self._set_op(call, env, keep=False)

    def _set_op(self, call, env, keep: bool) -> Rel:
        a, b = self.args(call, env, 2)
        left, right = self.table(a, env), self.table(b, env)
        if len(left.cols) != len(right.cols):
            raise self.err(env, call, f"{call.name}: both tables need the same number of columns")
        la, ra = self.new_alias(), self.new_alias()
        conds = []
        for lc, rc in zip(left.cols, right.cols):
            l_val, r_val = exp.column(lc.sql, la), exp.column(rc.sql, ra)
            if lc.type is DaxType.TEXT and rc.type is DaxType.TEXT:  # DAX compares text ignoring case
                l_val, r_val = exp.Lower(this=l_val), exp.Lower(this=r_val)
            conds.append(not_distinct(l_val, r_val))
        found = exp.Exists(this=exp.select(N(1)).from_(self.rel_select(right).subquery(ra, copy=True)).where(
            and_all(conds)))
        sel = exp.select(*[exp.column(c.sql, la) for c in left.cols]).from_(
            self.rel_select(left).subquery(la, copy=True)).where(found if keep else exp.not_(found))
        return Rel(left.cols, sel, rows_of=left.base.name if left.base is not None else left.rows_of)

    def fn_SUBSTITUTEWITHINDEX(self, call, env):
        """SUBSTITUTEWITHINDEX(T, name, indexTable, orderBy [, order]…): the rows of T whose
        common columns (same name) appear in indexTable, those columns replaced by one
        integer column: the 0-based position of the matching row of indexTable sorted by
        orderBy (learn.microsoft.com/dax/substitutewithindex-function-dax)."""
        args = self.args(call, env, 3, -1)
        if not isinstance(args[1], A.String):
            raise self.err(env, args[1], "SUBSTITUTEWITHINDEX: the index column name must be a string")
        left, right = self.table(args[0], env), self.table(args[2], env)
        rnames = {_short(c): c for c in right.cols}
        common = [(lc, rnames[_short(lc)]) for lc in left.cols if _short(lc) in rnames]
        if not common:
            raise self.err(env, call, "SUBSTITUTEWITHINDEX: the tables have no common columns")
        orders = order_pairs(list(args[3:]), default_desc=False)

        def project(inner: Env) -> list[exp.Expression]:
            outs = [exp.alias_(inner.rows[-1].names[rc.name.lower()].sql, f"k{i}") for i, (_, rc) in enumerate(common)]
            return outs + [exp.alias_(self.scalar(e, inner).sql, f"o{i}") for i, (e, _) in enumerate(orders)]

        ranked_src = self.over(right, env, project)
        ia = self.new_alias()
        keys_sql = [exp.Ordered(this=exp.column(f"k{i}", ia), nulls_first=True) for i in range(len(common))]
        window = exp.Window(this=fn("row_number"), order=exp.Order(expressions=[
            *[exp.Ordered(this=exp.column(f"o{i}", ia), desc=d, nulls_first=not d) for i, (_, d) in enumerate(orders)],
            *keys_sql]))
        index = exp.select(*[exp.column(f"k{i}", ia) for i in range(len(common))],
                           exp.alias_(exp.Sub(this=window, expression=N(1)), "idx")).from_(ranked_src.subquery(ia))
        la, xa = self.new_alias(), self.new_alias()
        common_ids = {id(lc) for lc, _ in common}
        rest = [c for c in left.cols if id(c) not in common_ids]
        on = and_all(not_distinct(exp.column(lc.sql, la), exp.column(f"k{i}", xa)) for i, (lc, _) in enumerate(common))
        sel = exp.select(*[exp.alias_(exp.column(c.sql, la), f"c{i}") for i, c in enumerate(rest)],
                         exp.alias_(exp.column("idx", xa), "idx")).from_(
            self.rel_select(left).subquery(la, copy=True)).join(index.subquery(xa), on=on, join_type="INNER")
        cols = [RelCol(c.name, f"c{i}", c.key, c.type) for i, c in enumerate(rest)]
        return Rel((*cols, RelCol(args[1].value, "idx", None, DaxType.INT)), sel)
