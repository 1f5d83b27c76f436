"""Dependency cycles in a graph, each found once: shared by the measure check
(`analysis`) and the calculated-column check (`column_cycles`)."""
from __future__ import annotations

from typing import Hashable, Iterable, Iterator, Mapping, TypeVar

N = TypeVar("N", bound=Hashable)


def find_cycles(graph: Mapping[N, Iterable[N]]) -> Iterator[list[N]]:
    """Every cycle a depth-first walk meets, closed (``[a, b, a]``), each set of nodes once.

    Nodes are visited in the graph's order and edges to nodes outside the graph are
    ignored, so the cycles (and the problems made of them) come out in a stable order.
    """
    reported: set[frozenset[N]] = set()
    state: dict[N, int] = {}  # 1 = on the DFS stack, 2 = done
    path: list[N] = []
    found: list[list[N]] = []

    def visit(node: N) -> None:
        state[node] = 1
        path.append(node)
        for dep in graph[node]:
            if dep not in graph:
                continue
            if state.get(dep) == 1:
                cycle = path[path.index(dep):] + [dep]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    found.append(cycle)
            elif dep not in state:
                visit(dep)
        path.pop()
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node)
    return iter(found)
