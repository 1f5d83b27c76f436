"""Common subplan reuse: structurally equal leaf plans become one node object, so the
renderer computes each once (a common table expression read by every use) — e.g. the
same measure evaluated in two places of a query."""
from __future__ import annotations

from generator.engine.optimizer.context import OptimizeContext
from generator.engine.plan.nodes import Node


def intern(leaves: tuple[Node, ...], context: OptimizeContext) -> tuple[Node, ...]:
    seen: dict[Node, Node] = {}
    return tuple(seen.setdefault(n, n) for n in leaves)
