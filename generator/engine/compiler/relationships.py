"""USERELATIONSHIP, CROSSFILTER and RELATED over limited (many-to-many) relationships.

Both modifiers change the relationship state (`RelState`) of the filter context of the
CALCULATE they are an argument of; filter propagation (engine.propagation) reads it.

- USERELATIONSHIP(a, b) activates the relationship between the two columns for the
  calculation and deactivates the other active relationship between the same two tables
  (learn.microsoft.com/dax/userelationship-function-dax).
- CROSSFILTER(a, b, direction) overrides the relationship's cross-filter direction
  (learn.microsoft.com/dax/crossfilter-function-dax; dax.guide/crossfilter): NONE (no
  filter crosses it), ONEWAY (the one side filters the many side; not for many-to-many,
  where no side is the one side), BOTH, ONEWAY_LEFTFILTERSRIGHT (the first column's side
  filters the second's) and ONEWAY_RIGHTFILTERSLEFT; the last two are for many-to-many
  (and one-to-one) relationships only. dax.guide also lists the numbers 0-4 for them.
  The columns may come in either order; nested CALCULATEs apply the innermost last.
- RELATED cannot follow a limited relationship: there is no guaranteed one side
  (learn.microsoft.com/power-bi/transform-model/desktop-relationships-understand,
  "Limited relationships").
"""
from __future__ import annotations

from dataclasses import replace

from generator.dax import ast as A
from generator.engine.compiler.core import CompilerCore
from generator.engine.compiler.dax_keywords import _enum
from generator.engine.context import Ctx, RelState
from generator.engine.errors import DaxCompileError
from generator.engine.types import MODEL_TYPES

_DIRECTIONS = {"0": "NONE", "1": "ONEWAY", "2": "BOTH", "3": "ONEWAY_RIGHTFILTERSLEFT",
               "4": "ONEWAY_LEFTFILTERSRIGHT", "NONE": "NONE", "ONEWAY": "ONEWAY", "BOTH": "BOTH",
               "ONEWAY_RIGHTFILTERSLEFT": "ONEWAY_RIGHTFILTERSLEFT",
               "ONEWAY_LEFTFILTERSRIGHT": "ONEWAY_LEFTFILTERSRIGHT"}


class RelationshipFns(CompilerCore):

    def modifier(self, call: A.FunctionCall, env):
        if call.name == "USERELATIONSHIP":
            return self._userelationship(call, env)
        if call.name == "CROSSFILTER":
            return self._crossfilter(call, env)
        return super().modifier(call, env)

    def _userelationship(self, call, env):
        a, b = self.args(call, env, 2)
        idx = self.find_rel(env, call, self.colref(env, a), self.colref(env, b))
        r = self.model.relationships[idx]
        self._refuse_mixed_types(env, call, r)
        pair = {r.from_table.lower(), r.to_table.lower()}
        between = frozenset(i for i, o in enumerate(self.model.relationships)
                            if {o.from_table.lower(), o.to_table.lower()} == pair)

        def userel(ctx: Ctx) -> Ctx:
            rs = ctx.rels or self.base_rels()
            return replace(ctx, rels=replace(rs, active=(rs.active - between) | {idx}))

        return userel

    def _refuse_mixed_types(self, env, call, r) -> None:
        """An inactive relationship may relate columns of different types (Desktop saves
        them); how Power BI compares such keys when one is activated is not modelled, so the
        engine refuses rather than guess a number."""
        many, one = self.model.table(r.from_table), self.model.table(r.to_table)
        a, b = many.column(r.from_column), one.column(r.to_column)
        if MODEL_TYPES[a.type] != MODEL_TYPES[b.type]:
            raise self.unsupported(env, call, f"USERELATIONSHIP over {many.name}[{a.name}] ({a.type}) and "
                                              f"{one.name}[{b.name}] ({b.type}), columns of different types")

    def _crossfilter(self, call, env):
        a, b, d = self.args(call, env, 3)
        left = self.colref(env, a)
        idx = self.find_rel(env, call, left, self.colref(env, b))
        r = self.model.relationships[idx]
        mode = _DIRECTIONS.get(_enum(d) or "")
        if mode is None:
            raise self.err(env, d, "CROSSFILTER direction must be NONE, ONEWAY, BOTH, ONEWAY_LEFTFILTERSRIGHT "
                                   "or ONEWAY_RIGHTFILTERSLEFT")
        if r.many_to_many and mode == "ONEWAY":
            raise self.err(env, d, f"CROSSFILTER ONEWAY on the many-to-many relationship {r.name}: "
                                   "neither side is the one side",
                           "use ONEWAY_LEFTFILTERSRIGHT or ONEWAY_RIGHTFILTERSLEFT")
        if not r.many_to_many and mode.startswith("ONEWAY_"):
            raise self.err(env, d, f"CROSSFILTER {mode} cannot be used on the many-to-one relationship {r.name}",
                           "use ONEWAY (the one side filters the many side) or BOTH")
        # a many-to-many relationship filters from -> to ("reverse") when the side that
        # filters is its `from` column
        left_is_from = (left[0].lower(), left[1].lower()) == (r.from_table.lower(), r.from_column.lower())
        reverse = mode == ("ONEWAY_LEFTFILTERSRIGHT" if left_is_from else "ONEWAY_RIGHTFILTERSLEFT")

        def crossfilter(ctx: Ctx) -> Ctx:
            rs = ctx.rels or self.base_rels()
            if mode == "NONE":
                return replace(ctx, rels=RelState(rs.active - {idx}, rs.both - {idx}, rs.reverse - {idx}))
            both = rs.both | {idx} if mode == "BOTH" else rs.both - {idx}
            rev = rs.reverse | {idx} if reverse else rs.reverse - {idx}
            return replace(ctx, rels=RelState(rs.active | {idx}, both, rev))

        return crossfilter

    def fn_RELATED(self, call, env):
        try:
            return super().fn_RELATED(call, env)
        except DaxCompileError:
            (arg,) = self.args(call, env, 1)
            key = self.colref(env, arg)
            bases = {row.base.name.lower() for row in env.rows if row.base is not None}
            for r in self.model.relationships:
                ends = {r.from_table.lower(), r.to_table.lower()}
                if r.many_to_many and key[0].lower() in ends and ends & bases:
                    raise self.err(env, call, f"RELATED cannot follow the many-to-many relationship {r.name}: "
                                              "a limited relationship has no one side",
                                   "use LOOKUPVALUE, or MAXX(RELATEDTABLE(...), ...) over the related rows")
            raise
