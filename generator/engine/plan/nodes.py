"""Plan nodes. Each is a frozen dataclass: equal structure means equal node (and equal
rows), so nodes key dictionaries — which leaves read the same rows, which subplans of a
query are the same.

Column references inside a node's expressions use positional aliases: the items of the
node's FROM chain (`chain`) are `s_a0`, `s_a1`, … in order (`item_alias`), so equal
plans built from differently aliased SQL are equal. Output columns are positional too:
an `Aggregate`/`Project` yields k0.. (keys) and v0.. (values); a `PreAggregate` yields
g0.. (keys), a0.. (atoms) and e0.. (dimension values)."""
from __future__ import annotations

from dataclasses import dataclass

from generator.engine.plan.expr import SqlExpr


def item_alias(i: int) -> str:
    return f"s_a{i}"


@dataclass(frozen=True)
class Scan:
    """All rows of one model table (no alias: its position in a chain names it)."""

    table: str


@dataclass(frozen=True)
class LeafRef:
    """The rows of another leaf of the same query (a nested cell scope's domain or one of
    its aggregates): `entry` is that leaf's `plan.build.LeafEntry`, compared by identity.
    The leaf is optimized with the query's others and rendered where it is read."""

    entry: object


@dataclass(frozen=True)
class Join:
    """`left` (a chain) joined to one more item `right` on `on`."""

    left: "Node"
    right: "Node"
    on: SqlExpr | None
    side: str = "LEFT"
    kind: str = ""


@dataclass(frozen=True)
class Filter:
    input: "Node"
    condition: SqlExpr


@dataclass(frozen=True)
class Aggregate:
    """SELECT keys AS k0.., values AS v0.. FROM input GROUP BY keys. Values are
    expressions of aggregate functions of the input's columns."""

    input: "Node"
    keys: tuple[SqlExpr, ...]
    values: tuple[SqlExpr, ...]

    def with_value(self, value: SqlExpr) -> "Aggregate":
        return Aggregate(self.input, self.keys, (*self.values, value))


@dataclass(frozen=True)
class Project:
    """SELECT keys AS k0.., values AS v0.. FROM input, row by row (no grouping): a leaf read
    from a pre-aggregation grouped exactly by its keys."""

    input: "Node"
    keys: tuple[SqlExpr, ...]
    values: tuple[SqlExpr, ...]


@dataclass(frozen=True)
class DimValue:
    """A dimension attribute (or a condition on one) of an eagerly aggregated leaf: `expr`
    over the aliases of `joins`, each (alias, (dimension table, fact key sql, its key column))."""

    expr: SqlExpr
    joins: tuple[tuple[str, tuple[str, str, str]], ...]


@dataclass(frozen=True)
class EagerAggregate:
    """`agg` known to equal: aggregate `fact` by `fact_keys` first, then join the dimensions
    of `dim_keys`/`dim_filters` to the grouped rows (one per key position: a DimValue, or
    None for a fact key). Made by optimizer.eager_aggregation; a leaf that cannot be lifted
    is one with `fact = agg.input` and no dimension values."""

    agg: Aggregate
    fact: "Node"
    fact_keys: tuple[SqlExpr, ...]
    dim_keys: tuple[DimValue | None, ...]
    dim_filters: tuple[DimValue, ...] = ()

    @property
    def fact_key_sql(self) -> tuple[str, ...]:
        return tuple(k.sql for k in self.fact_keys)


@dataclass(frozen=True)
class PreAggregate:
    """One grouped scan shared by several leaves: `fact` grouped by `keys` with `atoms`
    (g0.., a0..), then joined to dimension attributes `dims` (e0..). `name` is the common
    table expression or cached table holding it. With `base`, the rows are `base`'s table
    joined to the dimension values it lacks (no new scan of the fact)."""

    name: str
    fact: "Node"
    keys: tuple[SqlExpr, ...]
    atoms: tuple[SqlExpr, ...]
    dims: tuple[DimValue, ...] = ()
    base: "PreAggregate | None" = None
    stored: bool = False  # a temporary table of the cross-query cache, not a CTE


Node = Scan | LeafRef | Join | Filter | Aggregate | Project | EagerAggregate | PreAggregate


def chain(node: Node) -> list[tuple[Node, Join | None]]:
    """The items of a FROM chain in position order, each with the join that added it."""
    out: list[tuple[Node, Join | None]] = []
    while isinstance(node, Join):
        out.append((node.right, node))
        node = node.left
    out.append((node, None))
    return out[::-1]


def leaf_refs(node: Node) -> list[LeafRef]:
    """The other leaves `node` reads (not through them)."""
    if isinstance(node, LeafRef):
        return [node]
    if isinstance(node, (Filter, Aggregate, Project)):
        return leaf_refs(node.input)
    if isinstance(node, EagerAggregate):
        return leaf_refs(node.agg)
    if isinstance(node, Join):
        return leaf_refs(node.left) + leaf_refs(node.right)
    return []
