"""Filter propagation beyond the expanded table: bidirectional and many-to-many relationships.

A scan of table X sees, directly, the filters on its expanded table (X and the one sides
it reaches through active regular relationships, `context.Scan`). Filters on other tables
reach X only by *hops* against the expansion direction
(learn.microsoft.com/power-bi/transform-model/desktop-relationships-understand):

* a regular relationship with `cross_filter: both` (or CROSSFILTER BOTH) carries filters
  from its many side to its one side;
* a many-to-many relationship is *limited*: it never expands a table and has no blank
  row; it carries filters through the distinct key values, from `to` to `from` when
  single (CROSSFILTER ONEWAY_LEFTFILTERSRIGHT/RIGHTFILTERSLEFT can turn it round), both
  ways when `both`.

A hop applies only when some filter actually reaches its far side: an unfiltered many
side does not reduce the one side (dax-semantics.md §4), and orphan rows of a limited
relationship stay in the totals (sqlbi.com/articles/understanding-blank-row-and-limited-relationships).
Hops chain: the far side is scanned with its own expanded table and its own hops, so a
bridge table (Customer 1→* Bridge *←1 Account, Bridge→Account both) passes a Customer
filter on to Account's facts.

When several paths lead from one filtered table to X (a CROSSFILTER/USERELATIONSHIP can
create them at query time; the model itself is refused at load, spec.integrity), the path
is chosen by Power BI's precedence rules (same page, "Precedence rules"): many-to-one
relationships before many-to-many ones before bidirectional relationships against their
direction, then the shortest path. Paths that still tie are ambiguous: an error naming
the relationships.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlglot import exp

from generator.engine.context import Ctx, RelState, Scan, and_all, not_distinct
from generator.engine.errors import DaxCompileError

if TYPE_CHECKING:
    from generator.engine.context import Compiler
    from generator.spec.model import Model

# precedence of a relationship on a filter path (lower wins)
REGULAR, MANY_TO_MANY, REVERSE = 1, 2, 3
MAX_STATES = 512  # a bound on the paths explored (real models have a handful)


@dataclass(frozen=True)
class Hop:
    """Filters on `src` reach `dst` through relationship `idx` (not by table expansion)."""

    src: str  # lower-case table names
    dst: str
    idx: int
    rank: int


def hops(model: "Model", rels: RelState) -> list[Hop]:
    """The hops the active relationships allow under `rels`."""
    out = []
    for i, r in enumerate(model.relationships):
        if i not in rels.active:
            continue
        many, one = r.from_table.lower(), r.to_table.lower()
        if r.many_to_many:
            if i in rels.both or i not in rels.reverse:
                out.append(Hop(one, many, i, MANY_TO_MANY))
            if i in rels.both or i in rels.reverse:
                out.append(Hop(many, one, i, MANY_TO_MANY))
        elif i in rels.both:
            out.append(Hop(many, one, i, REVERSE))
    return out


def crosses(model: "Model", rels: RelState) -> bool:
    """Can filters reach a scan other than through its expanded table?"""
    return bool(hops(model, rels))


@dataclass
class _State:
    """A table scanned to carry filters to the target, reached by `path` (target outward)."""

    table: str
    path: tuple[Hop, ...]
    tables: frozenset[str]
    depth: dict[str, int]  # table -> number of expansion joins from `table`
    seen: frozenset[str] = frozenset()  # every table of this state and the states before it
    children: list["_State"] = field(default_factory=list)

    def cost(self, table: str) -> tuple[int, int]:
        """(worst relationship kind on the path, path length) for filters on `table`."""
        ranks = [h.rank for h in self.path] + ([REGULAR] if self.depth.get(table, 0) else [0])
        return max(ranks), len(self.path) + self.depth.get(table, 0)


def _depths(scan: Scan) -> dict[str, int]:
    out = {scan.base.name.lower(): 0}

    def depth(t: str) -> int:
        if t not in out:
            out[t] = depth(scan.parent[t][0]) + 1
        return out[t]

    for t in scan.parent:
        depth(t)
    return out


def _states(comp: "Compiler", root: Scan, rels: RelState, edges: list[Hop]) -> list[_State]:
    tables = frozenset(root.tables())
    top = _State(root.base.name.lower(), (), tables, _depths(root), tables)
    states, stack = [top], [top]
    while stack and len(states) < MAX_STATES:
        cur = stack.pop()
        used = {h.idx for h in cur.path}
        for h in edges:
            if h.dst in cur.tables and h.src not in cur.seen and h.idx not in used:
                probe = Scan(comp, comp.model.table(h.src), rels)
                tables = frozenset(probe.tables())
                child = _State(h.src, (*cur.path, h), tables, _depths(probe), cur.seen | tables)
                cur.children.append(child)
                states.append(child)
                stack.append(child)
    return states


def _claims(states: list[_State]) -> tuple[dict[str, _State], dict[str, tuple[_State, _State]]]:
    """Table -> the state its filters travel through (the best path), and the tables that
    two paths of equal precedence reach (an error only if a filter needs them)."""
    best: dict[str, tuple[tuple[int, int], _State]] = {}
    ties: dict[str, _State] = {}
    for s in states:
        for t in s.tables:
            c = s.cost(t)
            if t not in best or c < best[t][0]:
                best[t] = (c, s)
                ties.pop(t, None)
            elif c == best[t][0] and best[t][1] is not s:
                ties[t] = s
    claims = {t: s for t, (_, s) in best.items()}
    return claims, {t: (claims[t], other) for t, other in ties.items() if t not in states[0].tables}


def _ambiguous(comp: "Compiler", table: str, target: str, one: _State, other: _State) -> DaxCompileError:
    return DaxCompileError(
        f"ambiguous filter paths from '{comp.model.table(table).name}' to '{target}': "
        f"{_describe(comp, one)} and {_describe(comp, other)} have the same precedence",
        None, "Power BI allows one filter path between two tables; remove the CROSSFILTER/USERELATIONSHIP "
              "that opens the second one")


def _describe(comp: "Compiler", state: _State) -> str:
    return " + ".join(comp.model.relationships[h.idx].name for h in state.path) or "table expansion"


def propagate(comp: "Compiler", scan: Scan, ctx: Ctx) -> list[exp.Expression]:
    """WHERE conditions on `scan` for the filters of `ctx` that reach it through hops."""
    rels = scan.rels
    edges = hops(comp.model, rels)
    if not edges or not ctx.filters:
        return []
    states = _states(comp, scan, rels, edges)
    if len(states) == 1:
        return []
    claims, ties = _claims(states)
    assigned: dict[int, list] = {}
    for f in ctx.filters:
        tables = {k[0].lower() for k in f.keys()}
        if tables & states[0].tables or not tables & claims.keys():
            continue  # applied by the scan itself, or never reaches it
        for t in sorted(tables & ties.keys()):
            raise _ambiguous(comp, t, scan.base.name, *ties[t])
        owner = min((claims[t] for t in tables if t in claims), key=lambda s: (len(s.path), s.table))
        assigned.setdefault(id(owner), []).append(f)
    return _conditions(comp, states[0], scan, assigned, rels)


def _conditions(comp: "Compiler", state: _State, scan: Scan, assigned: dict[int, list],
                rels: RelState) -> list[exp.Expression]:
    out = []
    for child in state.children:
        inner = Scan(comp, comp.model.table(child.table), rels)
        conds = [f.apply(inner) for f in assigned.get(id(child), [])]
        conds = [c for c in conds if c is not None] + _conditions(comp, child, inner, assigned, rels)
        if not conds:
            continue  # nothing filters the far side: the hop does not reduce this table
        conds.append(_match(comp, child.path[-1], inner, scan))
        out.append(exp.Exists(this=inner.build(exp.select("1"), and_all(conds))))
    return out


def _match(comp: "Compiler", hop: Hop, inner: Scan, outer: Scan) -> exp.Expression:
    """The key equality that carries the hop: inner (its far side) to outer."""
    r = comp.model.relationships[hop.idx]
    many, one = comp.model.table(r.from_table), comp.model.table(r.to_table)
    many_key = (many.name, many.column(r.from_column).name)
    one_key = (one.name, one.column(r.to_column).name)
    if hop.rank == REVERSE:
        # the many side expands to the one side through this very relationship: matching
        # the joined one-side key keeps the blank row (orphans) matching too
        return not_distinct(inner.col(one_key), outer.col(one_key))
    src, dst = (many_key, one_key) if hop.src == many.name.lower() else (one_key, many_key)
    # a limited relationship matches the values themselves (BLANK = BLANK, as TREATAS)
    return not_distinct(inner.col(src), outer.col(dst))
