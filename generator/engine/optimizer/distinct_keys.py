"""COUNT(DISTINCT k) where k is a group-by key of the same Aggregate: every group holds
one value of k, so the count is 1, or 0 for the group where k is NULL (COUNT(k) > 0)."""
from __future__ import annotations

from sqlglot import exp

from generator.engine.optimizer.context import OptimizeContext
from generator.engine.plan.expr import SqlExpr
from generator.engine.plan.nodes import Aggregate, Node


def _value(value: SqlExpr, keys: set[str]) -> SqlExpr:
    tree = None
    for agg in value.node.find_all(exp.Count):
        arg = agg.this
        if isinstance(arg, exp.Distinct) and len(arg.expressions) == 1 and arg.expressions[0].sql("duckdb") in keys:
            tree = value.tree()
            break
    if tree is None:
        return value
    for agg in list(tree.find_all(exp.Count)):
        arg = agg.this
        if isinstance(arg, exp.Distinct) and len(arg.expressions) == 1 and arg.expressions[0].sql("duckdb") in keys:
            x = arg.expressions[0].copy()
            one = exp.Case(ifs=[exp.If(this=exp.GT(this=exp.Count(this=x), expression=exp.Literal.number(0)),
                                       true=exp.Literal.number(1))], default=exp.Literal.number(0))
            replaced = exp.cast(one, "BIGINT")
            if agg is tree:
                tree = replaced
            else:
                agg.replace(replaced)
    return SqlExpr.of(tree)


def simplify_one(node: Node) -> Node:
    if not isinstance(node, Aggregate) or not node.keys:
        return node
    keys = {k.sql for k in node.keys}
    values = tuple(_value(v, keys) for v in node.values)
    return node if values == node.values else Aggregate(node.input, node.keys, values)


def simplify(leaves: tuple[Node, ...], context: OptimizeContext) -> tuple[Node, ...]:
    return tuple(simplify_one(n) for n in leaves)
