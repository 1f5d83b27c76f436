"""Static relationship checks: the rules Power BI enforces on the relationship graph.

The loader already checks that every relationship names existing columns; this module
checks what Power BI itself would refuse when the model is opened or refreshed, so the
build fails first, with the YAML position of the relationship:

* both columns of an active relationship have the same data type (as the TMDL types
  them: `date` and `datetime` are both `dateTime`, so they may be related). Desktop saves
  inactive relationships between differently typed columns (a sample in the import
  round-trip set relates text dates to a date column), so those load; the engine refuses
  to activate one with USERELATIONSHIP (engine.relationships);
* no relationship relates a table to itself, and no two relate the same pair of columns;
* the active relationships have no cycle (`A -> B -> A`, many side to one side);
* between two tables there is at most one active filter path (Power BI's "ambiguous
  path" rule). Filters flow from the one side to the many side, and also the other way
  on `cross_filter: both`; inactive relationships do not count. A many-to-many
  relationship carries filters from `to` to `from` (both ways on `both`), so it counts
  the same way. The message names every relationship of both paths with its position.
  (Paths that only a CROSSFILTER/USERELATIONSHIP opens are resolved at query time by
  Power BI's precedence rules: engine.propagation.)

The data checks (one side unique and without blanks) need the data and live in
`generator.validate.integrity`.
"""
from __future__ import annotations

from generator.errors import Problem
from generator.spec.model import Model, Relationship

# The model data type of each YAML column type (the TMDL `dataType`).
MODEL_TYPES = {"string": "string", "int64": "int64", "double": "double", "decimal": "decimal",
               "boolean": "boolean", "date": "dateTime", "datetime": "dateTime"}


def relationship_problems(model: Model) -> list[Problem]:
    """Every static relationship problem of `model`; empty when the graph is valid."""
    problems = _type_problems(model)
    usable: list[Relationship] = []
    seen: dict[frozenset[tuple[str, str]], Relationship] = {}
    for r in model.relationships:
        if r.from_table.lower() == r.to_table.lower():
            problems.append(Problem(r.pos, f"relationship {r.name} relates table '{r.to_table}' to itself",
                                    "Power BI has no self relationships; use a separate (copied) table"))
            continue
        key = frozenset({(r.from_table.lower(), r.from_column.lower()), (r.to_table.lower(), r.to_column.lower())})
        if key in seen:
            problems.append(Problem(r.pos, f"duplicate relationship {r.name} (first defined at {seen[key].pos})",
                                    "remove one of them"))
            continue
        seen[key] = r
        usable.append(r)
    active = [r for r in usable if r.active]
    cycles = _cycle_problems(active)
    return problems + (cycles or _ambiguity_problems(active))


def _type_problems(model: Model) -> list[Problem]:
    problems = []
    for r in model.relationships:
        many, one = model.table(r.from_table), model.table(r.to_table)
        if many is None or one is None or not r.active:
            continue
        a, b = many.column(r.from_column), one.column(r.to_column)
        if a is None or b is None or MODEL_TYPES[a.type] == MODEL_TYPES[b.type]:
            continue
        problems.append(Problem(
            r.pos, f"relationship {r.name} relates columns of different types: "
                   f"{many.name}[{a.name}] is {a.type}, {one.name}[{b.name}] is {b.type}",
            "both columns of a relationship must have the same type; change one column's type"))
    return problems


def _cycle_problems(active: list[Relationship]) -> list[Problem]:
    """A cycle of active relationships, followed from the many side to the one side."""
    out: dict[str, list[Relationship]] = {}
    for r in active:
        out.setdefault(r.from_table.lower(), []).append(r)
    problems: list[Problem] = []
    reported: set[frozenset[Relationship]] = set()
    state: dict[str, int] = {}  # 1 = on the DFS stack, 2 = done
    path: list[Relationship] = []

    def visit(table: str) -> None:
        state[table] = 1
        for r in out.get(table, []):
            nxt = r.to_table.lower()
            path.append(r)
            if state.get(nxt) == 1:
                start = next(i for i, p in enumerate(path) if p.from_table.lower() == nxt)
                cycle = path[start:]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    chain = " -> ".join([c.from_table for c in cycle] + [cycle[0].from_table])
                    last = max(cycle, key=lambda c: (c.pos.file, c.pos.line, c.pos.col))
                    problems.append(Problem(last.pos, f"relationship cycle: {chain}",
                                            "make one of these relationships inactive (active: false)"))
            elif nxt not in state:
                visit(nxt)
            path.pop()
        state[table] = 2

    for r in active:
        if r.from_table.lower() not in state:
            visit(r.from_table.lower())
    return problems


def _filter_edges(active: list[Relationship]) -> dict[str, list[tuple[str, Relationship]]]:
    """Table -> the tables its filters reach directly, with the relationship carrying them."""
    edges: dict[str, list[tuple[str, Relationship]]] = {}
    for r in active:
        edges.setdefault(r.to_table, []).append((r.from_table, r))
        if r.cross_filter == "both":
            edges.setdefault(r.from_table, []).append((r.to_table, r))
    return edges


def _ambiguity_problems(active: list[Relationship]) -> list[Problem]:
    """Two distinct active filter paths between the same two tables (Power BI refuses it)."""
    edges = _filter_edges(active)
    problems: list[Problem] = []
    reported: set[frozenset[Relationship]] = set()
    for source in sorted(edges):
        first_path: dict[str, list[tuple[str, Relationship]]] = {}
        found: list[tuple[str, list, list]] = []

        def walk(table: str, path: list[tuple[str, Relationship]], on_path: set[str]) -> None:
            for nxt, r in edges.get(table, []):
                if nxt in on_path or any(r is p[1] for p in path):
                    continue
                step = [*path, (nxt, r)]
                if nxt in first_path:
                    found.append((nxt, first_path[nxt], step))
                    continue  # what lies beyond is ambiguous for the same reason
                first_path[nxt] = step
                walk(nxt, step, on_path | {nxt})

        walk(source, [], {source})
        for target, one, other in found:
            rels = frozenset(r for _, r in one + other)
            if rels in reported:
                continue
            reported.add(rels)
            last = max(rels, key=lambda c: (c.pos.file, c.pos.line, c.pos.col))
            problems.append(Problem(
                last.pos, f"ambiguous relationships: filters on '{source}' reach '{target}' along two active "
                          f"paths: {_chain(source, one)} and {_chain(source, other)} (relationships "
                          + ", ".join(f"{r.name} at {r.pos}" for r in _in_order(one + other)) + ")",
                "Power BI allows one active path between two tables; make one relationship inactive "
                "(active: false) and use USERELATIONSHIP where it is needed"))
    return problems


def _in_order(path: list[tuple[str, Relationship]]) -> list[Relationship]:
    """The relationships of both paths, each once, in the order of the YAML."""
    rels = {id(r): r for _, r in path}.values()
    return sorted(rels, key=lambda r: (r.pos.file, r.pos.line, r.pos.col))


def _chain(source: str, path: list[tuple[str, Relationship]]) -> str:
    return " -> ".join([source, *(t for t, _ in path)])
