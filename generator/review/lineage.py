"""Upstream and downstream of one measure, column or table, as a tree or JSON.

`NAME` is written as in DAX: `[Total Revenue]` (a measure), `Fact_Orders[Revenue]` (a
column, or a measure through its table), `Fact_Orders` or `'Fact Orders'` (a table).
Each tree follows direct edges of the dependency graph; a node met a second time in the
same tree is shown once more, marked, without its children again.
"""
from __future__ import annotations

import difflib
import json
from typing import Any

from rich.tree import Tree

from generator.errors import ForgeError
from generator.review.graph import Graph, Node, column_node, measure_node, table_node
from generator.spec import parse_field_ref
from generator.spec.model import Model


def resolve(model: Model, name: str) -> Node:
    """The node `name` refers to; a ForgeError with the closest names when none."""
    text = name.strip()
    ref = parse_field_ref(text)
    if ref is not None:
        table, item = ref
        if table is None:
            m = model.measure(item)
            if m is not None:
                return measure_node(m.name)
        else:
            t = model.table(table)
            if t is not None and t.column(item) is not None:
                return column_node(t.name, t.column(item).name)
            m = model.measure(item)
            if t is not None and m is not None:
                return measure_node(m.name)
    else:
        bare = text[1:-1].replace("''", "'") if text.startswith("'") and text.endswith("'") else text
        t = model.table(bare)
        if t is not None:
            return table_node(t.name)
    known = [f"[{m.name}]" for m in model.measures] + [t.name for t in model.tables] + [
        f"{t.name}[{c.name}]" for t in model.tables for c in t.all_columns]
    close = difflib.get_close_matches(text, known, n=1, cutoff=0.5)
    raise ForgeError(f"lineage {name}: no such measure, column or table"
                     + (f"; did you mean {close[0]}?" if close else ""))


def _tree(node: Node, edges: dict[Node, tuple[Node, ...]], seen: set[Node]) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": node.kind, "name": node.name}
    if node in seen:
        out["repeated"] = True
        return out
    seen.add(node)
    children = [_tree(n, edges, seen) for n in edges.get(node, ())]
    if children:
        out["children"] = children
    return out


def lineage(graph: Graph, node: Node) -> dict[str, Any]:
    """{"kind", "name", "upstream": [...], "downstream": [...]}: nested direct edges."""
    seen_up, seen_down = {node}, {node}  # one per side: a node repeats as a marked leaf
    up = [_tree(n, graph.uses, seen_up) for n in graph.uses.get(node, ())]
    down = [_tree(n, graph.used_by, seen_down) for n in graph.used_by.get(node, ())]
    return {"kind": node.kind, "name": node.name, "upstream": up, "downstream": down}


def as_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _label(item: dict[str, Any]) -> str:
    node = Node(item["kind"], item["name"])
    text = f"{node.kind} {node.label}" if node.kind != "visual" else node.label
    return text + (" (see above)" if item.get("repeated") else "")


def _add(branch: Tree, items: list[dict[str, Any]]) -> None:
    for item in items:
        _add(branch.add(_label(item), highlight=False), item.get("children", []))


def as_tree(doc: dict[str, Any]) -> Tree:
    root = Tree(_label(doc), highlight=False)
    for side in ("upstream", "downstream"):
        branch = root.add(f"{side} ({'uses' if side == 'upstream' else 'used by'})", highlight=False)
        _add(branch, doc[side])
        if not doc[side]:
            branch.add("(nothing)", highlight=False)
    return root
