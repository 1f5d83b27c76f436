"""Calculation groups: measure references rewritten by the calculation items in context.

The rules (learn.microsoft.com/analysis-services/tabular-models/calculation-groups;
SQLBI, "Understanding the application of calculation items"; Tabular Editor's
calculation-group properties page):

- A calculation item applies to a *measure reference* evaluated while the filter context
  holds exactly one item of its group; the reference is replaced by the item's expression,
  where SELECTEDMEASURE() stands for the measure. Inline aggregations (SUM(...)) are not
  measure references and are never rewritten. No item or several items selected: the
  measure is evaluated unchanged.
- Several groups: the highest precedence applies first, so its item is outermost; its
  SELECTEDMEASURE() is the measure with the lower-precedence groups applied
  (precedence 200 `SELECTEDMEASURE()*2` over precedence 100 `SELECTEDMEASURE()+2` on a
  measure worth 10 gives (10 + 2) * 2 = 24).
- Once applied, a group is not applied again to the references inside the rewritten
  expression (or inside the measures it reaches) — unless a CALCULATE filters that
  group's column again, which is how an item refers to another item of its own group
  ("sideways recursion": YOY % = DIVIDE(CALCULATE(SELECTEDMEASURE(), TI[Item] = "YOY"), …)).
- SELECTEDMEASURE/SELECTEDMEASURENAME/ISSELECTEDMEASURE/SELECTEDMEASUREFORMATSTRING
  outside a calculation item are an error, as in Power BI.

Which item is selected is a property of each evaluation (a visual can group by the
group's column), so the rewrite compiles to a CASE over the items on the group column's
SELECTEDVALUE; it is only emitted when some filter in the context touches that column.
"""
from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.compile_types import Env, Source
from generator.engine.compiler.core import CompilerCore
from generator.engine.context import Ctx, Scan
from generator.engine.types import unify
from generator.engine.values import Scalar, cast, compare, lit


class _Unknown(Exception):
    """The condition needs more than literals: decided when the query runs."""


def _fold(node: exp.Expression):
    """The value of a condition over literals only (the filters CALCULATE builds for
    `'Group'[Column] = "Item"` / `IN {…}`), or _Unknown."""
    if isinstance(node, exp.Paren):
        return _fold(node.this)
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else float(node.this)
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Boolean):
        return node.this
    if isinstance(node, exp.Anonymous) and str(node.this).lower() in ("lower", "upper", "coalesce"):
        name = str(node.this).lower()
        args = node.expressions
        if name == "coalesce":
            for arg in args:
                v = _fold(arg)
                if v is not None:
                    return v
            return None
        v = _fold(args[0])
        return None if v is None else (str(v).lower() if name == "lower" else str(v).upper())
    if isinstance(node, (exp.Lower, exp.Upper)):
        v = _fold(node.this)
        return None if v is None else (str(v).lower() if isinstance(node, exp.Lower) else str(v).upper())
    if isinstance(node, exp.Coalesce):
        for arg in (node.this, *node.expressions):
            v = _fold(arg)
            if v is not None:
                return v
        return None
    if isinstance(node, (exp.EQ, exp.NEQ)):
        a, b = _fold(node.this), _fold(node.expression)
        if a is None or b is None:
            return None
        return (a == b) if isinstance(node, exp.EQ) else (a != b)
    if isinstance(node, exp.Or):
        return bool(_fold(node.this)) or bool(_fold(node.expression))
    if isinstance(node, exp.And):
        return bool(_fold(node.this)) and bool(_fold(node.expression))
    if isinstance(node, exp.Not):
        return not bool(_fold(node.this))
    if isinstance(node, exp.In):
        v = _fold(node.this)
        return any(v == _fold(x) for x in node.expressions)
    raise _Unknown(node.sql())


class CalcGroupFns(CompilerCore):

    # ------------------------------------------------------------ application

    def _group_key(self, table) -> tuple[str, str]:
        return (table.name, table.calculation_group.column)

    def _touches(self, ctx: Ctx, key: tuple[str, str]) -> bool:
        return any(key in f.keys() for f in ctx.filters)

    def apply_calculation_groups(self, name: str, env: Env, ctx: Ctx, node: A.Node) -> Scalar | None:
        for table in self.model.calculation_groups:
            if table.name in env.cg_applied:
                continue
            key = self._group_key(table)
            if not self._touches(ctx, key):
                continue
            return self._rewrite(name, table, key, env, ctx, node)
        return None

    def _candidates(self, table, key, ctx: Ctx) -> tuple[list, bool]:
        """The items the filters on the group column can leave visible, and whether that is
        known now (filters over literals) or only per evaluation (a grouped query's cells)."""
        items = list(table.calculation_group.items)
        scan = Scan(self, table, ctx.rels or self.base_rels())
        for f in ctx.filters:
            if key not in f.keys():
                continue
            if f.keys() != {key}:
                return items, False
            cond = f.apply(scan)
            kept = []
            for item in items:
                probe = cond.copy().transform(
                    lambda n, v=item.name: exp.Literal.string(v) if isinstance(n, exp.Column) and n.name == key[1] else n)
                try:
                    if _fold(probe):
                        kept.append(item)
                except _Unknown:
                    return list(table.calculation_group.items), False
            items = kept
        return items, True

    def _rewrite(self, name: str, table, key, env: Env, ctx: Ctx, node: A.Node) -> Scalar:
        inner = Env(ctx=ctx, src=env.src, stack=env.stack, scope=env.scope,
                    cg_applied=env.cg_applied | {table.name})
        candidates, static = self._candidates(table, key, ctx)
        if static:
            # one item: its expression; none or several: the measure unchanged
            if len(candidates) == 1:
                return self._item_value(name, table, candidates[0], inner, env, node)
            return self.measure_ref(name, inner, node)
        selected = self.scalar(A.FunctionCall("SELECTEDVALUE", (A.ColumnRef(key[0], key[1]),)), inner)
        plain = self.measure_ref(name, inner, node)
        conds, values = [], []
        for item in candidates:
            conds.append(compare("=", selected, lit(item.name)).sql)
            values.append(self._item_value(name, table, item, inner, env, node))
        t = unify([v.type for v in values] + [plain.type])
        ifs = [exp.If(this=c, true=cast(v, t).sql) for c, v in zip(conds, values)]
        return Scalar(exp.Case(ifs=ifs, default=cast(plain, t).sql), t)

    def _item_value(self, name: str, table, item, inner: Env, env: Env, node: A.Node) -> Scalar:
        body = self.schema.parsed_item(table.name, item.name)
        src = Source(f"calculation item '{table.name}'[{item.name}] on measure [{name}]", item.origin)
        marker = f"\0calculation item {table.name}[{item.name}] on {name}"
        if marker in env.stack:
            raise self.err(env, node, f"calculation item '{table.name}'[{item.name}] applies to measure "
                                      f"[{name}] recursively")
        item_env = replace(inner, src=src, selected_measure=name, stack=(*inner.stack, marker))
        return self.scalar(body, item_env)

    def reset_calculation_groups(self, before: Ctx, after: Ctx, env: Env) -> Env:
        """CALCULATE(…) that changes the filter on a group's column makes the group
        applicable again inside it (sideways recursion)."""
        if not env.cg_applied:
            return env
        again = set()
        for table in self.model.calculation_groups:
            if table.name not in env.cg_applied:
                continue
            key = self._group_key(table)
            old = [f for f in before.filters if key in f.keys()]
            new = [f for f in after.filters if key in f.keys()]
            if len(old) != len(new) or any(a is not b for a, b in zip(old, new)):
                again.add(table.name)
        return replace(env, cg_applied=env.cg_applied - again) if again else env

    # ------------------------------------------------------------ SELECTEDMEASURE & co.

    def _selected(self, call: A.FunctionCall, env: Env) -> str:
        if env.selected_measure is None:
            raise self.err(env, call, f"{call.name} can only be used in the expression of a calculation item "
                                      "(there is no measure reference in the current context)")
        return env.selected_measure

    def fn_SELECTEDMEASURE(self, call, env):
        self.args(call, env, 0, 0)
        name = self._selected(call, env)
        return self.measure_ref(name, replace(env, selected_measure=None), call)

    def fn_SELECTEDMEASURENAME(self, call, env):
        self.args(call, env, 0, 0)
        name = self._selected(call, env)
        m = self.measures.get(name.lower())
        return lit(m.name if m else name)

    def fn_ISSELECTEDMEASURE(self, call, env):
        args = self.args(call, env, 1, -1)
        name = self._selected(call, env).lower()
        wanted = []
        for a in args:
            if not isinstance(a, (A.BracketRef, A.ColumnRef)):
                raise self.err(env, a, "ISSELECTEDMEASURE takes measure references")
            measure = a.name if isinstance(a, A.BracketRef) else a.column
            if measure.lower() not in self.measures and measure.lower() not in self.extra_measures:
                raise self.err(env, a, f"measure [{measure}] does not exist")
            wanted.append(measure.lower())
        return lit(name in wanted)

    def fn_SELECTEDMEASUREFORMATSTRING(self, call, env):
        self.args(call, env, 0, 0)
        name = self._selected(call, env)
        m = self.measures.get(name.lower())
        return lit(m.format if m and m.format else "")
