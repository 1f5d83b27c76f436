"""Iterators over VALUES(D[c]) in cells that D does not reach: one grouped fact leaf.

    Months Active = COUNTROWS ( FILTER ( VALUES ( Dim_Date[Year_Month] ),
                                         CALCULATE ( COUNTROWS ( Fact_Orders ) ) > 0 ) )

in a visual grouped by Dim_Customer[Customer_ID] and Dim_Date[Year]. `_scope_leaf` iterates
VALUES(col) for all cells at once over a domain of (cell keys, col) pairs read from col's
own table, so it needs that table to hold every cell key; Dim_Date does not hold
Customer_ID, so each cell fell back to a correlated FILTER over the year's months with a
correlated COUNTROWS per month (161 s at 1M orders, issue #9).

The rewrite reads the domain from the fact table F instead: `SELECT <cell keys>, D[c]
FROM F ⟕ dims WHERE <the cell's other filters> GROUP BY ALL`, and compiles the iterated
expression in the nested scope over it, where its aggregates fuse into the same GROUP BY.
That domain is the (cell, value) pairs that have F rows, a subset of the pairs the plain
compile iterates; it gives the same result exactly when every dropped pair contributes
nothing, which is what the shape check proves:

- the iterated expression is *strict in F after context transition*: a measure reference or
  `CALCULATE(<expr>)` without filter arguments (the row of VALUES becomes the filter
  D[c] = v, https://www.sqlbi.com/articles/understanding-context-transition/) whose value
  is BLANK when F has no rows in that context (`strict.Strictness`, the analysis
  SUMMARIZECOLUMNS already uses to take its cells from F). A pair without F rows therefore
  has a BLANK value;
- SUMX, COUNTX, AVERAGEX, MINX and MAXX skip BLANK values (dax.guide/sumx, /countx,
  /averagex, /minx, /maxx), and all-BLANK or no rows both give BLANK (the SQL aggregates
  ignore NULL the same way), so dropping BLANK-valued pairs changes nothing;
- `COUNTROWS(FILTER(VALUES(D[c]), <strict> <cmp> <number>))`: a BLANK value compares as 0
  (https://learn.microsoft.com/dax/dax-operator-reference: BLANK = 0 is TRUE, and BLANK is
  0 for < <= > >=; `==` is FALSE against a number), so the dropped pairs are rejected by
  the FILTER exactly when `0 <cmp> number` is FALSE, checked here on the literal; and
  COUNTROWS of an empty FILTER is BLANK (dax.guide/countrows) on both paths;
- every value F's groups hold is in VALUES(D[c]) of the cell: F's rows in the cell's context
  satisfy the filters on D, and a fact row whose key D lacks groups under BLANK, the blank
  row VALUES adds for it (dax.guide/values), while a filter on D that excludes the blank
  row excludes that fact row too.

Anything else (another iterator, a CALCULATE with filter arguments, a body not strict in a
table that reaches every cell key, `>= 0`, several FILTER predicates) keeps the plain
compile. `Compiler.values_iter = False` turns the rewrite off; tests/engine/test_values_iter.py
compares both on hand-worked models.

Why at compile time and not as an optimizer pass: the shape and its proof (strictness,
BLANK comparison) are facts of the DAX AST, and the per-cell form is a correlated subquery
that never becomes a plan leaf (see fn_decorrelate's docstring); the rewrite only changes
where `_scope_leaf` reads its domain, so everything after it is the existing grouped path.
"""
from __future__ import annotations

import operator

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.fn_aggregates import _nullif0
from generator.engine.compiler.compile_types import Env, Rel
from generator.engine.compiler.core import CompilerCore
from generator.engine.compiler.strict import Strictness
from generator.engine.context import ColKey, Scan
from generator.engine.types import DaxType
from generator.engine.values import Scalar, lit

# iterators that skip BLANK values (their SQL aggregate ignores NULL)
ITERATORS = frozenset({"SUMX", "COUNTX", "AVERAGEX", "MINX", "MAXX"})
# `BLANK <op> number` with BLANK as 0; `==` never equals BLANK to a number
_BLANK_CMP = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "=": operator.eq, "<>": operator.ne, "==": lambda a, b: False,
}
_MIRROR = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "=": "=", "<>": "<>", "==": "=="}


class ValuesIterFns(CompilerCore):
    """Mixin for `Compiler` (listed before AggregateFns): tags a matching iterator's VALUES
    table with its fact table; `_values_domain_scan` then reads the domain from that fact."""

    values_iter = True  # class switch: False keeps the plain (correlated per cell) compile

    def _iterate(self, call, env, rel, run):
        fact = self._iter_fact(call, env) if call.name in ITERATORS else None
        if fact is None:
            return super()._iterate(call, env, rel, run)
        return self._tagged(rel, fact, run)

    def fn_COUNTROWS(self, call, env):
        fact = self._filter_fact(call, env)
        if fact is None:
            return super().fn_COUNTROWS(call, env)
        rel = self.table(call.args[0], env)
        value = self._tagged(rel, fact, lambda: self.agg_over(
            rel, env, lambda inner: lit(1), lambda v: _nullif0(exp.Count(this=exp.Star()))))
        return Scalar(value, DaxType.INT)

    # ------------------------------------------------------------ the domain

    def _vi_tags(self) -> dict:
        """id(VALUES rel) → (rel, fact) for the iterations being compiled (per compiler)."""
        return self.__dict__.setdefault("_values_facts", {})

    def _tagged(self, rel: Rel, fact, run):
        """Run `run` with `rel` (by identity) known to iterate values whose pairs without
        rows of `fact` contribute nothing."""
        tags = self._vi_tags()
        tags[id(rel)] = (rel, fact)
        try:
            return run()
        finally:
            tags.pop(id(rel), None)

    def _values_domain_scan(self, rel: Rel, keys: list[ColKey]) -> Scan | None:
        scan = super()._values_domain_scan(rel, keys)
        tag = self._vi_tags().get(id(rel))
        if scan is not None or not self.values_iter or tag is None or tag[0] is not rel:
            return scan
        fact = tag[1]
        scan = Scan(self, fact, rel.rels or self.base_rels())
        if not all(scan.has(k) for k in [*keys, *rel.col_keys]):
            return None
        return scan

    # ------------------------------------------------------------ the shape

    def _iter_fact(self, call: A.FunctionCall, env: Env):
        """ITER(VALUES(D[c]), <strict after transition>): the fact table, else None."""
        if not self._enabled(env) or len(call.args) != 2 or not self._is_values(call.args[0]):
            return None
        return self._transitioned_fact(call.args[1])

    def _filter_fact(self, call: A.FunctionCall, env: Env):
        """COUNTROWS(FILTER(VALUES(D[c]), <strict> <cmp> <number>)) whose comparison is FALSE
        for BLANK: the fact table, else None."""
        if not self._enabled(env) or len(call.args) != 1:
            return None
        f = call.args[0]
        if not (isinstance(f, A.FunctionCall) and f.name == "FILTER" and len(f.args) == 2
                and self._is_values(f.args[0]) and isinstance(f.args[1], A.BinaryOp)):
            return None
        cond = f.args[1]
        if cond.op not in _BLANK_CMP:
            return None
        body, op, number = cond.left, cond.op, _number(cond.right)
        if number is None:
            body, op, number = cond.right, _MIRROR[cond.op], _number(cond.left)
        if number is None or _BLANK_CMP[op](0, number):
            return None
        return self._transitioned_fact(body)

    def _enabled(self, env: Env) -> bool:
        """On, and no calculation item can apply: an item rewrites a measure reference into
        anything, so the strictness of the measure's own body would prove nothing. Items
        apply only while a filter touches their group's column (fn_calc_groups), and the
        strict bodies reach no CALCULATE with filter arguments that could add one."""
        if not (self.values_iter and self.grouped):
            return False
        cg_cols = {(t.name, t.calculation_group.column) for t in self.model.calculation_groups}
        return not any(k in cg_cols for f in env.ctx.filters for k in f.keys())

    def _is_values(self, node: A.Expr) -> bool:
        if not (isinstance(node, A.FunctionCall) and node.name == "VALUES" and len(node.args) == 1):
            return False
        arg = node.args[0]
        if not (isinstance(arg, A.ColumnRef) and arg.table is not None):
            return False
        t = self.model.table(arg.table)
        return t is not None and t.column(arg.column) is not None

    def _transitioned_fact(self, body: A.Expr):
        """The table `body` is strict in, when `body` transitions the row to a filter first
        (a measure reference, or CALCULATE without filter arguments)."""
        if isinstance(body, A.BracketRef):
            if self._vi_measure_body(body.name) is None:
                return None
        elif not (isinstance(body, A.FunctionCall) and body.name == "CALCULATE" and len(body.args) == 1):
            return None
        found = Strictness(self._vi_measure_body, self._vi_table_name).scalar(body)
        # a table with a blank row (the one side of orphan keys) can hold visible rows the
        # domain's scan does not read: only a table without one is a domain
        if not found or self.has_blank_row(found):
            return None
        return self.model.table(found)

    def _vi_measure_body(self, name: str):
        key = name.lower()
        if key in self.extra_measures:
            return self.extra_measures[key][0]
        m = self.measures.get(key)
        return self.schema.parsed_measure(m) if m is not None else None

    def _vi_table_name(self, name: str | None):
        t = self.model.table(name) if name else None
        return t.name if t is not None else None


def _number(node: A.Expr) -> float | None:
    if isinstance(node, A.Number):
        return node.value
    if isinstance(node, A.UnaryOp) and node.op == "-" and isinstance(node.operand, A.Number):
        return -node.operand.value
    return None
