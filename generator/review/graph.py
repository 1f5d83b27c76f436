"""The model's dependency graph: which object uses which.

Nodes are tables, columns (physical and calculated), measures and visuals; an edge
points from a user to what it uses (a measure to the measures, columns and whole tables
its DAX references, a visual to its bound fields, a column to its table). Upstream of a node is
everything it needs; downstream is everything that changes when it changes. Built from
`generator.dax.analysis`, so references resolve exactly as the build checks them.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from generator.dax import ast as A
from generator.dax.analysis import analyze
from generator.spec.model import Model


@dataclass(frozen=True, order=True)
class Node:
    """One object of the model. `name` is unique within its kind:
    a table name, `Table[Column]`, a measure name, or `page/visual`."""

    kind: str  # "table" | "column" | "measure" | "visual"
    name: str

    @property
    def label(self) -> str:
        return {"table": self.name, "column": self.name, "measure": f"[{self.name}]",
                "visual": f"visual {self.name}"}[self.kind]


def table_node(name: str) -> Node:
    return Node("table", name)


def column_node(table: str, column: str) -> Node:
    return Node("column", f"{table}[{column}]")


def measure_node(name: str) -> Node:
    return Node("measure", name)


def visual_node(page: str, visual: str) -> Node:
    return Node("visual", f"{page}/{visual}")


@dataclass(frozen=True)
class Graph:
    """`uses[n]` are the nodes `n` references directly, sorted."""

    uses: dict[Node, tuple[Node, ...]]

    @cached_property
    def used_by(self) -> dict[Node, tuple[Node, ...]]:
        out: dict[Node, set[Node]] = {n: set() for n in self.uses}
        for node, targets in self.uses.items():
            for t in targets:
                out.setdefault(t, set()).add(node)
        return {n: tuple(sorted(s)) for n, s in out.items()}

    def upstream(self, node: Node) -> set[Node]:
        """Everything `node` needs, directly or through other objects."""
        return _closure(node, self.uses)

    def downstream(self, node: Node) -> set[Node]:
        """Everything whose value or content depends on `node`."""
        return _closure(node, self.used_by)

    def __contains__(self, node: Node) -> bool:
        return node in self.uses


def _closure(start: Node, edges: dict[Node, tuple[Node, ...]]) -> set[Node]:
    seen: set[Node] = set()
    todo = list(edges.get(start, ()))
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(edges.get(n, ()))
    seen.discard(start)
    return seen


def _tables(model: Model, tree: A.Expr | None) -> set[str]:
    """Canonical names of the model tables an expression names as a whole."""
    out = set()
    for node in tree.walk() if tree is not None else ():
        if isinstance(node, A.TableRef) and model.table(node.name) is not None:
            out.add(model.table(node.name).name)
    return out


def build_graph(model: Model) -> Graph:
    """The dependency graph of `model` (its DAX must have passed the build's checks)."""
    uses: dict[Node, set[Node]] = {}
    for t in model.tables:
        uses[table_node(t.name)] = set()
        for c in t.all_columns:
            uses[column_node(t.name, c.name)] = {table_node(t.name)}
    for obj in analyze(model).objects:
        node = measure_node(obj.name) if obj.kind == "measure" else column_node(obj.table, obj.name)
        refs = uses.setdefault(node, set())
        refs.update(measure_node(m) for m in obj.measures)
        refs.update(column_node(t, c) for t, c in obj.columns)
        refs.update(table_node(t) for t in _tables(model, obj.tree))  # COUNTROWS ( Fact_Orders )
    for page in model.pages:
        for v in page.visuals:
            uses[visual_node(page.name, v.name)] = {
                measure_node(b.name) if b.kind == "measure" else column_node(b.table, b.name) for b in v.bindings}
    return Graph({n: tuple(sorted(s)) for n, s in sorted(uses.items())})
