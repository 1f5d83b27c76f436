"""Pre-aggregations kept across the queries of one engine, like Power BI's storage-engine
cache: the data of an open engine does not change, so the grouped scan computed for one
visual (e.g. orders and revenue per customer) answers every later visual that reads the
same rows grouped by the same or fewer keys, with any subset of its aggregates and
dimension attributes.

Entries are `PreAggregate` plan nodes (stored=True), keyed by the rows they read (a plan
node) and their keys; each is a temporary table, created by the prelude of the query that
first needs it. A miss for keys already cached builds the union of both aggregate sets, so
later visuals find them all; when only dimension attributes are missing, the new table is
the cached one joined to them, without a new scan of the fact table.

Compiling never changes the cache: it plans against a `ScanStage` (`stage()`), and the
runtime `commit`s the staged entries only after their query succeeded, so a failed query
leaves the cache as it was (it drops the tables it may have created)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from generator.engine.plan.expr import SqlExpr
from generator.engine.plan.nodes import DimValue, Node, PreAggregate


def _key(pre: PreAggregate) -> tuple:
    return pre.fact, tuple(k.sql for k in pre.keys)


@dataclass
class ScanCache:
    limit: int = 32
    # table -> columns the model's measures SUM: computed with every new entry of that
    # table (a few more sums in a scan that runs anyway), so later visuals find them
    summed: Callable[[str], list[str]] | None = None
    entries: dict[tuple, PreAggregate] = field(default_factory=dict)
    serial: int = 0
    retired: list[str] = field(default_factory=list)  # tables superseded or evicted, to drop

    def stage(self) -> "ScanStage":
        return ScanStage(self)

    def commit(self, staged: "tuple[PreAggregate, ...]") -> None:
        """Make entries created by a successful query visible to later queries."""
        for new in staged:
            old = self.entries.pop(_key(new), None)
            if old is not None:
                self.retired.append(old.name)
            self.entries[_key(new)] = new
            self.serial = max(self.serial, int(new.name.removeprefix("__pbi_forge_se")))
        while len(self.entries) > self.limit:
            self.retired.append(self.entries.pop(next(iter(self.entries))).name)

    def clear(self) -> None:
        self.retired += [pre.name for pre in self.entries.values()]
        self.entries.clear()


@dataclass
class ScanStage:
    """The cache as one compile sees it: the committed entries plus the ones this compile
    creates (`staged`), which only `ScanCache.commit` makes permanent."""

    cache: ScanCache
    staged: list[PreAggregate] = field(default_factory=list)

    @property
    def summed(self) -> Callable[[str], list[str]] | None:
        return self.cache.summed

    def _current(self) -> dict[tuple, PreAggregate]:
        current = dict(self.cache.entries)
        for pre in self.staged:
            current.pop(_key(pre), None)
            current[_key(pre)] = pre
        return current

    def find(self, fact: Node, keys: set[str]) -> list[PreAggregate]:
        """Cached pre-aggregations of the same rows grouped by at least `keys`, newest first."""
        return [pre for pre in reversed(self._current().values())
                if pre.fact == fact and keys <= {k.sql for k in pre.keys}]

    def create(self, fact: Node, keys: tuple[SqlExpr, ...], atoms: tuple[SqlExpr, ...],
               dims: tuple[DimValue, ...]) -> PreAggregate:
        old = self._current().get((fact, tuple(k.sql for k in keys)))
        serial = self.cache.serial + len(self.staged) + 1
        base = None
        if old is not None:
            have = {a.sql for a in old.atoms}
            if all(a.sql in have for a in atoms):
                base = old  # only dimension attributes are missing: extend the old table
            atoms = (*old.atoms, *atoms)
            dims = (*old.dims, *dims)
        new = PreAggregate(f"__pbi_forge_se{serial}", fact, keys, _unique(atoms, lambda a: a.sql),
                           _unique(dims, lambda d: d.expr.sql), base, stored=True)
        self.staged.append(new)
        return new


def _unique(items, key) -> tuple:
    return tuple({key(i): i for i in reversed(items)}[k] for k in dict.fromkeys(key(i) for i in items))
