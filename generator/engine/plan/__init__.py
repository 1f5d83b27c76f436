"""The logical plan of grouped evaluation's leaf level: frozen, typed nodes with structural
equality (usable as dict keys), between the compiler and the renderer.

The compiler emits a plan node for every grouped aggregate ("leaf", `build.leaf_plan`);
`generator.engine.optimizer` rewrites the query's leaves (scan sharing, aggregate before
join, reuse of equal subplans) and `generator.engine.render.plan` turns the result into
sqlglot. Scalar expressions inside nodes are held as `SqlExpr`: canonical text for
equality and hashing, the sqlglot tree alongside for rendering."""
from generator.engine.plan.expr import SqlExpr
from generator.engine.plan.nodes import (
    Aggregate, DimValue, EagerAggregate, Filter, Join, LeafRef, Node, PreAggregate, Project, Scan, chain, item_alias,
    leaf_refs,
)

__all__ = ["Aggregate", "DimValue", "EagerAggregate", "Filter", "Join", "LeafRef", "Node", "PreAggregate", "Project",
           "Scan", "SqlExpr", "chain", "item_alias", "leaf_refs"]
