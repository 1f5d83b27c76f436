"""Before and after values of the measures a change reaches, on the same data.

A change reaches the measures whose DAX changed (or that were added or removed), the
calculated columns whose DAX changed, the columns of both tables of a changed
relationship, and everything downstream of those in either version's dependency graph. Each reached measure is evaluated with the engine's public
query API in both versions: at the grand total (`ROW`) and, with `by`, per value of one
column (`SUMMARIZECOLUMNS`). A version the measure does not exist in, or cannot be
evaluated in, shows why instead of a number.
"""
from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from typing import Any

from generator.errors import ForgeError
from generator.review.graph import Graph, Node, column_node, measure_node, table_node
from generator.review.modeldiff import ModelDiff

TOLERANCE = 1e-9  # relative, as the measure tests compare numbers


@dataclass(frozen=True)
class Value:
    """One evaluation: a value (None = BLANK), or a note when there is none."""

    value: Any = None
    note: str | None = None  # "absent" (no such measure in this version) or the error

    def same(self, other: "Value") -> bool:
        if self.note or other.note:
            return self.note == other.note
        a, b = self.value, other.value
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) \
                and not isinstance(a, bool) and not isinstance(b, bool):
            return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
        return a == b


ABSENT = Value(note="absent")


@dataclass(frozen=True)
class Row:
    measure: str
    group: Any  # None: the grand total; else the `by` column's value
    before: Value
    after: Value

    @property
    def moved(self) -> bool:
        return not self.before.same(self.after)


@dataclass(frozen=True)
class Reached:
    """A measure or visual the change reaches, and through which changed objects."""

    node: Node
    because: tuple[str, ...]  # labels of the changed objects upstream (itself when it changed)
    measures: tuple[str, ...] = ()  # for a visual: the reached measures it shows


def seeds(diff: ModelDiff) -> tuple[Node, ...]:
    """The changed objects whose values can move: measures (DAX, added, removed) and
    calculated columns whose DAX changed."""
    out = [measure_node(c.name) for c in diff.of("measure") if c.status != "changed" or c.dax]
    for c in diff.of("calculated column"):
        if c.status != "changed" or c.dax:
            table, column = c.name.split("[", 1)
            out.append(column_node(table, column[:-1]))
    return tuple(out)


def _relationship_seeds(diff: ModelDiff) -> dict[Node, str]:
    """A changed relationship moves what filters flow between its two tables: both tables
    (so every column and measure over them) are seeds, labelled with the relationship."""
    out: dict[Node, str] = {}
    for c in diff.of("relationship"):
        for part in c.name.split(" -> "):
            out.setdefault(table_node(part.split("[", 1)[0]), f"relationship {c.name}")
    return out


def reached(diff: ModelDiff, old: Graph, new: Graph) -> tuple[Reached, ...]:
    """Every measure and visual downstream of a seed in either version, sorted by kind and name."""
    because: dict[Node, set[str]] = {}
    labelled = {seed: seed.label for seed in seeds(diff)}
    for node, label in _relationship_seeds(diff).items():
        labelled.setdefault(node, label)
    for seed, label in labelled.items():
        if seed.kind == "measure":
            because.setdefault(seed, set()).add(label)
        for node in old.downstream(seed) | new.downstream(seed):
            if node.kind in ("measure", "visual"):
                because.setdefault(node, set()).add(label)
    measures = {n.name for n in because if n.kind == "measure"}
    out = []
    for node in sorted(because, key=lambda n: (n.kind != "measure", n.name.lower())):
        shown: tuple[str, ...] = ()
        if node.kind == "visual":
            graph = new if node in new else old
            shown = tuple(sorted(u.name for u in graph.uses[node] if u.kind == "measure" and u.name in measures))
        out.append(Reached(node, tuple(sorted(because[node])), shown))
    return tuple(out)


def evaluate(engine: Any, measures: list[str], by: str | None) -> dict[str, dict[Any, Value]]:
    """measure -> {None: grand total, group value: value per `by` group} in one version.
    `engine` is an `Engine` over that version's model, or a ForgeError it failed with."""
    out: dict[str, dict[Any, Value]] = {}
    for name in measures:
        if isinstance(engine, ForgeError):
            out[name] = {None: Value(note=_first_line(engine))}
            continue
        if engine.model.measure(name) is None:
            out[name] = {None: ABSENT}
            continue
        ref = "[" + name.replace("]", "]]") + "]"
        values = {None: _scalar(engine, f'EVALUATE ROW("Value", {ref})')}
        if by:
            values.update(_grouped(engine, f'EVALUATE SUMMARIZECOLUMNS({by}, "Value", {ref})'))
        out[name] = values
    return out


def _scalar(engine: Any, dax: str) -> Value:
    try:
        frame = engine.query(dax)
    except ForgeError as exc:
        return Value(note=_first_line(exc))
    return Value(plain(frame.iloc[0, -1]) if len(frame) else None)


def _grouped(engine: Any, dax: str) -> dict[Any, Value]:
    try:
        frame = engine.query(dax)
    except ForgeError as exc:
        return {"(by)": Value(note=_first_line(exc))}
    return {plain(k): Value(plain(v)) for k, v in frame.itertuples(index=False, name=None)}


def compare(before: dict[str, dict[Any, Value]], after: dict[str, dict[Any, Value]]) -> tuple[Row, ...]:
    """One row per measure and group, the grand total first, then the groups in order."""
    rows = []
    for name in before:
        b, a = before[name], after[name]
        groups = sorted((set(b) | set(a)) - {None}, key=lambda v: (type(v).__name__, v))
        rows.extend(Row(name, g, _at(b, g), _at(a, g)) for g in (None, *groups))
    return tuple(rows)


def _at(values: dict[Any, Value], group: Any) -> Value:
    if group in values:
        return values[group]
    total = values[None]
    return total if total.note else Value()  # SUMMARIZECOLUMNS leaves out groups whose value is BLANK


def plain(value: Any) -> Any:
    """A query cell as a plain JSON-friendly value: numbers, text, ISO dates; None = BLANK."""
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time() else value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")  # not BLANK
    return value


def display(value: Any) -> str:
    """A plain value as a reviewer reads it: BLANK, TRUE/FALSE, 1,234, 0.1234567891, text."""
    if value is None:
        return "BLANK"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return format(value, ",.10g")  # ten significant digits: stable across summation orders
    return str(value)


def _first_line(exc: ForgeError) -> str:
    problem = exc.problems[0] if exc.problems else None
    return (problem.message if problem else str(exc)).splitlines()[0]
