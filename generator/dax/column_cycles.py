"""Circular dependencies that go through calculated columns.

`generator.dax.analysis` reports cycles among measures. A calculated column can close a
cycle too: by referring to itself, to another calculated column that refers back, or
through a measure (`C = [M]`, `M = SUM(T[C])`); Power BI refuses all of them ("a circular
dependency was detected"). The graph here has a node per calculated column and per
measure; a cycle is reported once, on its first calculated column, as ``A -> B -> A``.
Cycles made of measures alone are left to the measure check, so nothing is reported twice.

References resolve as in `analysis`: ``T[X]`` is a column before it is a measure; a bare
``[X]`` is a measure before it is a column, and in a calculated column a column of its own
table before one of another table.
"""
from __future__ import annotations

from generator.dax import ast as A
from generator.dax.analysis import DaxObject, analyze
from generator.dax.cycles import find_cycles
from generator.errors import Problem
from generator.spec.model import Model

Node = tuple[str, str, str]  # ("column", table, name) | ("measure", "", name), canonical names


def column_cycle_problems(model: Model) -> list[Problem]:
    """One problem per dependency cycle that contains a calculated column."""
    objects = {_node(o): o for o in analyze(model).objects if o.tree is not None}
    graph = {node: _references(obj, model) for node, obj in objects.items()}
    return [_problem(objects, graph, _rotate(cycle)) for cycle in find_cycles(graph)
            if any(n[0] == "column" for n in cycle)]


def _node(obj: DaxObject) -> Node:
    return ("measure", "", obj.name) if obj.kind == "measure" else ("column", obj.table, obj.name)


def _references(obj: DaxObject, model: Model) -> dict[Node, A.Span]:
    """The calculated columns and measures `obj` refers to, each with its first use."""
    calc = {(t.name.lower(), c.name.lower()): (t.name, c.name) for t in model.tables for c in t.calculated_columns}
    plain = {(t.name.lower(), c.name.lower()) for t in model.tables for c in t.columns}
    measures = {m.name.lower(): m.name for m in model.measures}
    found: dict[Node, A.Span] = {}
    for node in obj.tree.walk():
        if isinstance(node, A.ColumnRef) and node.table:
            key = (node.table.lower(), node.column.lower())
            if key in calc:
                found.setdefault(("column", *calc[key]), node.span)
            elif key not in plain and node.column.lower() in measures:
                found.setdefault(("measure", "", measures[node.column.lower()]), node.span)
        elif isinstance(node, A.BracketRef):
            name = node.name.lower()
            if name in measures:
                found.setdefault(("measure", "", measures[name]), node.span)
                continue
            own = (obj.table.lower(), name)
            if obj.kind == "calculated column" and (own in calc or own in plain):
                if own in calc:
                    found.setdefault(("column", *calc[own]), node.span)
                continue
            for key, target in calc.items():
                if key[1] == name:
                    found.setdefault(("column", *target), node.span)
    return found


def _rotate(cycle: list[Node]) -> list[Node]:
    """Start the cycle at its first calculated column (``A -> B -> A`` keeps its closing node)."""
    body = cycle[:-1]
    start = next(i for i, n in enumerate(body) if n[0] == "column")
    body = body[start:] + body[:start]
    return body + [body[0]]


def _label(node: Node) -> str:
    return f"[{node[2]}]" if node[0] == "measure" else f"{node[1]}[{node[2]}]"


def _problem(objects: dict[Node, DaxObject], graph: dict[Node, dict[Node, A.Span]], cycle: list[Node]) -> Problem:
    first = objects[cycle[0]]
    span = graph[cycle[0]][cycle[1]]
    chain = " -> ".join(_label(n) for n in cycle)
    what = "refers to itself" if len(cycle) == 2 else "is part of a circular dependency"
    return Problem(first.pos(span), f"{first.label}, DAX {span.line}:{span.col}: {what}: {chain}",
                   "a calculated column cannot depend on itself, directly or through other columns or measures")
