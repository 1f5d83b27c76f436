"""Optimizer passes over the plans of one query's grouped aggregates ("leaves").

Each pass is a pure function `(leaves, context) → leaves` in its own module, run in the
order of `RULES` (sqlglot's optimizer and MetricFlow's source-scan optimizer are the
models): a leaf's plan goes in as a `plan.Aggregate` and comes out as the node the renderer
turns into SQL — the Aggregate itself, or a re-aggregation of a shared `PreAggregate`.
None of them changes a value: `tests/engine/test_grouped.py` compares every report visual
with the per-cell evaluation, which has no leaves."""
from __future__ import annotations

from generator.engine.optimizer import distinct_keys, eager_aggregation, reuse, scan_sharing
from generator.engine.optimizer.context import OptimizeContext
from generator.engine.plan.nodes import Node

RULES = (
    distinct_keys.simplify,  # COUNT(DISTINCT k) of a group-by key k: no distinct at all
    eager_aggregation.lift,  # aggregate the fact before joining unique-key dimensions
    scan_sharing.share,  # leaves over the same rows: one pre-aggregation, re-aggregated
    reuse.intern,  # structurally equal leaf plans: one node, computed once
)


def optimize(leaves: tuple[Node, ...], context: OptimizeContext, rules=RULES) -> tuple[Node, ...]:
    for rule in rules:
        leaves = rule(leaves, context)
    return leaves


__all__ = ["OptimizeContext", "RULES", "optimize"]
