"""Column-set table functions: VALUES, DISTINCT, ALL, ALLNOBLANKROW, ALLSELECTED,
ALLEXCEPT, and REMOVEFILTERS/USERELATIONSHIP/CROSSFILTER outside CALCULATE.

`Rel` values carry lineage so that they can filter (§5, §6, §8 of dax-semantics.md).
VALUES and ALL include the blank row of a dimension whose relationship has unmatched
keys; DISTINCT, ALLNOBLANKROW and a bare table reference do not (§6).
"""
from __future__ import annotations

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.compile_types import Env, Rel, RelCol
from generator.engine.compiler.core import CompilerCore
from generator.engine.context import Ctx, Scan
from generator.engine.propagation import hops


class ColumnSetFns(CompilerCore):
    """Mixin for `Compiler`: VALUES, DISTINCT and the ALL family as tables."""

    # ------------------------------------------------------------ column sets

    def _col_rel(self, keys: list, env: Env, ctx: Ctx | None, blank: bool) -> Rel:
        table = self.model.table(keys[0][0])
        if any(k[0] != table.name for k in keys):
            raise self.err(env, None, "all columns must come from the same table")
        scan = Scan(self, table, (ctx or env.ctx).rels or self.base_rels(), blank)
        outs = [exp.alias_(scan.col(k), f"c{i}") for i, k in enumerate(keys)]
        where = self.where_for(scan, ctx) if ctx is not None else None
        sel = scan.build(exp.select(*outs).distinct(), where)
        cols = tuple(RelCol(f"{k[0]}[{k[1]}]", f"c{i}", k, self.col_type(k)) for i, k in enumerate(keys))
        return Rel(cols, sel, blank=blank, rels=(ctx or env.ctx).rels, ctx=ctx, col_keys=tuple(keys))

    def _values(self, call, env, blank: bool):
        (arg,) = self.args(call, env, 1)
        if isinstance(arg, A.TableRef) and arg.name.lower() not in env.vars:
            return self.base_rel(self.resolve_table(env, arg, arg.name), env, blank=blank)
        if isinstance(arg, (A.TableRef, A.VarRef)) or self.is_table_expr(arg, env):
            rel = self.table(arg, env)
            return self._distinct_rel(rel, env)
        return self._col_rel([self.colref(env, arg)], env, env.ctx, blank)

    def _distinct_rel(self, rel: Rel, env: Env) -> Rel:
        sel = self.over(rel, env, lambda inner: [exp.alias_(inner.rows[-1].names[c.name.lower()].sql, c.sql)
                                                 for c in rel.cols], distinct=True)
        return Rel(rel.cols, sel)

    def fn_VALUES(self, call, env):
        return self._values(call, env, True)

    def fn_DISTINCT(self, call, env):
        return self._values(call, env, False)

    def _all(self, call, env, blank: bool):
        args = [a for a in call.args if not isinstance(a, A.EmptyArg)]
        if not args:
            raise self.err(env, call, f"{call.name}() without arguments can only be a CALCULATE filter")
        if len(args) == 1 and isinstance(args[0], A.TableRef):
            return self.base_rel(self.resolve_table(env, args[0], args[0].name), env, blank=blank, ctx=Ctx())
        return self._col_rel([self.colref(env, a) for a in args], env, Ctx(rels=env.ctx.rels), blank)

    def fn_ALL(self, call, env):
        return self._all(call, env, True)

    def fn_ALLNOBLANKROW(self, call, env):
        return self._all(call, env, False)

    def fn_REMOVEFILTERS(self, call, env):
        raise self.err(env, call, "REMOVEFILTERS can only be used as a CALCULATE filter argument")

    def fn_USERELATIONSHIP(self, call, env):
        # a modifier (compiler.modifier); as a value it is Power BI's error
        raise self.err(env, call, "USERELATIONSHIP can only be used as a CALCULATE/CALCULATETABLE filter argument")

    def fn_CROSSFILTER(self, call, env):
        raise self.err(env, call, "CROSSFILTER can only be used as a CALCULATE/CALCULATETABLE filter argument")

    def fn_ALLSELECTED(self, call, env):
        args = [a for a in call.args if not isinstance(a, A.EmptyArg)]
        mod = self.modifier(call, env)
        ctx = mod(env.ctx)
        if len(args) == 1 and isinstance(args[0], A.TableRef):
            return self.base_rel(self.resolve_table(env, args[0], args[0].name), env, blank=True, ctx=ctx)
        if not args:
            raise self.err(env, call, "ALLSELECTED() without arguments can only be a CALCULATE filter")
        return self._col_rel([self.colref(env, a) for a in args], env, ctx, True)

    def fn_ALLEXCEPT(self, call, env):
        args = self.args(call, env, 2, -1)
        mod = self.modifier(call, env)
        table = self.resolve_table(env, args[0], self._table_name(env, args[0]))
        return self.base_rel(table, env, blank=True, ctx=mod(env.ctx))

    # ------------------------------------------------------------ ALLCROSSFILTERED

    def fn_ALLCROSSFILTERED(self, call, env):
        raise self.err(env, call, "ALLCROSSFILTERED can only be used as a filter argument of CALCULATE")

    def modifier(self, call, env):
        """ALLCROSSFILTERED(T) removes every filter on T and on the tables that filter it,
        directly or through relationships (learn.microsoft.com/dax/allcrossfiltered-function-dax)."""
        if call.name != "ALLCROSSFILTERED":
            return super().modifier(call, env)
        (arg,) = self.args(call, env, 1)
        table = self.resolve_table(env, arg, self._table_name(env, arg))
        keys = set(self.keys_of_args([arg], env))
        rels = env.ctx.rels or self.base_rels()
        reach = {table.name.lower()} | {t for t in self.scan(table, env).tables()}
        changed = True
        while changed:  # bidirectional and many-to-many relationships cross-filter it too
            changed = False
            for h in hops(self.model, rels):
                if h.dst in reach and h.src not in reach:
                    reach |= Scan(self, self.model.table(h.src), rels).tables()
                    changed = True
        for name in reach:
            t = self.model.table(name)
            keys |= {(t.name, c.name) for c in t.all_columns}
        frozen = frozenset(keys)
        return lambda ctx: ctx.remove(frozen)
