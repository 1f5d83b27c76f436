"""The data dictionary's content: every table, column, measure, relationship, page and visual.

Facts come from the model (types, formats, descriptions), the dependency graph (what a
measure uses and what uses it, the visuals showing it), the measure tests, and the built
data through the engine's query API (row counts, distinct counts, the three smallest
distinct values). Everything is sorted or kept in model order, so the same model and
data always give the same dictionary and a change shows as a clean diff.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.engine import Engine
from generator.errors import ForgeError
from generator.review.coverage import tests_by_measure
from generator.review.graph import Graph, build_graph, measure_node
from generator.review.modeldiff import describe_source, formatted
from generator.review.values import display, plain
from generator.spec.model import Model

SAMPLES = 3


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    type: str
    format: str | None
    description: str | None
    calculated: bool
    expression: str | None  # formatted DAX of a calculated column
    hidden: bool
    distinct: str  # the count, as shown
    samples: tuple[str, ...]


@dataclass(frozen=True)
class TableDoc:
    name: str
    description: str | None
    source: str
    rows: str
    columns: tuple[ColumnDoc, ...]
    measures: tuple[str, ...]  # measures whose home table this is


@dataclass(frozen=True)
class MeasureDoc:
    name: str
    table: str
    expression: str  # formatted DAX
    description: str | None
    format: str | None
    folder: str | None
    uses: tuple[str, ...]  # direct references: [Measure], Table[Column]
    used_by: tuple[str, ...]  # measures and calculated columns referencing it directly
    visuals: tuple[str, ...]  # page/visual showing it
    tests: tuple[str, ...]
    generated: bool


@dataclass(frozen=True)
class RelationshipDoc:
    many: str  # Table[Column]
    one: str
    cross_filter: str
    active: bool


@dataclass(frozen=True)
class VisualDoc:
    name: str
    type: str
    title: str | None
    fields: tuple[str, ...]  # "role: [Measure]" / "role: Table[Column]"


@dataclass(frozen=True)
class PageDoc:
    name: str
    order: int
    visuals: tuple[VisualDoc, ...]


@dataclass(frozen=True)
class Dictionary:
    model: str
    culture: str
    date_table: str | None
    tables: tuple[TableDoc, ...]
    measures: tuple[MeasureDoc, ...]
    relationships: tuple[RelationshipDoc, ...]
    pages: tuple[PageDoc, ...]


def _label(node) -> str:
    return node.label if node.kind != "visual" else node.name


def _stats(engine: Engine, table) -> tuple[str, dict[str, tuple[str, tuple[str, ...]]]]:
    """Row count and, per column, (distinct count, smallest distinct values) from the data."""
    ref = "'" + table.name.replace("'", "''") + "'"
    cols = table.all_columns
    args = [f'"rows", COUNTROWS({ref})'] + [
        f'"c{i}", DISTINCTCOUNT({ref}[{c.name.replace("]", "]]")}])' for i, c in enumerate(cols)]
    counts = engine.query(f"EVALUATE ROW({', '.join(args)})").iloc[0].tolist()
    out = {}
    for i, c in enumerate(cols):
        col = f"{ref}[{c.name.replace(']', ']]')}]"
        frame = engine.query(f"EVALUATE TOPN({SAMPLES}, FILTER(DISTINCT({col}), NOT ISBLANK({col})), {col}, ASC) "
                             f"ORDER BY {col}")
        samples = tuple(_sample(plain(v)) for v in frame.iloc[:, 0].tolist())
        out[c.name] = (display(plain(counts[i + 1]) or 0), samples)
    return display(plain(counts[0]) or 0), out


def _sample(value) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else display(value)  # 2021, not 2,021


def collect(model: Model, project: Path, engine: Engine) -> Dictionary:
    """The dictionary of `model`, its data described through `engine`."""
    graph = build_graph(model)
    tests = tests_by_measure(project, model)
    tables = []
    for t in model.tables:
        try:
            rows, stats = _stats(engine, t)
        except ForgeError as exc:
            raise ForgeError(f"cannot read the data of table '{t.name}': {exc}") from exc
        columns = tuple(ColumnDoc(
            c.name, c.type, c.format, c.description, hasattr(c, "expression"),
            formatted(c.expression) if hasattr(c, "expression") else None, c.hidden,
            *stats[c.name]) for c in t.all_columns)
        home = tuple(sorted(m.name for m in model.measures if m.table.lower() == t.name.lower()))
        tables.append(TableDoc(t.name, t.description, describe_source(t.source, model.root, params=False), rows, columns, home))
    measures = tuple(_measure(m, graph, tests) for m in sorted(model.measures, key=lambda m: m.name.lower()))
    rels = tuple(RelationshipDoc(f"{r.from_table}[{r.from_column}]", f"{r.to_table}[{r.to_column}]",
                                 r.cross_filter, r.active) for r in model.relationships)
    pages = tuple(PageDoc(p.name, p.order, tuple(VisualDoc(
        v.name, v.type, v.title, tuple(f"{b.role}: " + (f"[{b.name}]" if b.kind == "measure" else f"{b.table}[{b.name}]")
                                       for b in v.bindings)) for v in p.visuals)) for p in model.pages)
    return Dictionary(model.name, model.culture, model.date_table, tuple(tables), measures, rels, pages)


def _measure(m, graph: Graph, tests: dict[str, tuple[str, ...]]) -> MeasureDoc:
    node = measure_node(m.name)
    users = graph.used_by.get(node, ())
    return MeasureDoc(
        m.name, m.table, formatted(m.expression), m.description, m.format, m.folder,
        tuple(_label(n) for n in graph.uses.get(node, ())),
        tuple(_label(n) for n in users if n.kind != "visual"),
        tuple(n.name for n in users if n.kind == "visual"),
        tests.get(m.name.lower(), ()), m.generated)


def open_engine(model: Model, out: Path) -> Engine:
    """An engine over the built data in `out` (the dictionary describes the real rows)."""
    if not (out / "data").is_dir():
        raise ForgeError(f"{out / 'data'} does not exist; run `python build.py` first")
    return Engine(model, out=out)

