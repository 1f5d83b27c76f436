"""What changed between two models: tables, columns, relationships, measures, pages, visuals.

Objects are matched by name (case-insensitive, as Power BI matches them); a rename is a
removal plus an addition. DAX is compared after `format_dax`, so a change of layout only
is no change, and a real change shows as a unified diff of the formatted text.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from generator.dax.errors import DaxSyntaxError
from generator.dax.formatter import format_dax
from generator.spec.model import Model, Source

KINDS = ("table", "column", "calculated column", "relationship", "measure", "page", "visual")


@dataclass(frozen=True)
class Change:
    kind: str  # one of KINDS
    name: str  # "Table", "Table[Column]", "Measure", "from -> to", "Page", "Page/visual"
    status: str  # "added" | "removed" | "changed"
    details: tuple[str, ...] = ()  # "format: '#,0' -> '#,0.00'", one per changed attribute
    dax: tuple[str, ...] = ()  # unified diff of the formatted DAX, without the ---/+++ header


@dataclass(frozen=True)
class ModelDiff:
    changes: tuple[Change, ...]

    def of(self, kind: str) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind == kind)

    @property
    def changed_measures(self) -> tuple[str, ...]:
        """Measures whose DAX changed (not only their format string or description)."""
        return tuple(c.name for c in self.of("measure") if c.status == "changed" and c.dax)


def formatted(expression: str) -> str:
    try:
        return format_dax(expression)
    except DaxSyntaxError:
        return expression.strip()


def dax_diff(old: str, new: str) -> tuple[str, ...]:
    a, b = formatted(old).splitlines(), formatted(new).splitlines()
    if a == b:
        return ()
    return tuple(line for line in difflib.unified_diff(a, b, lineterm="", n=2)
                 if not line.startswith(("---", "+++")))


def describe_source(src: Source, root: Path, params: bool = True) -> str:
    """`generator customers (k=v, ...)` or `csv data/x.csv` (the path relative to the project)."""
    if src.kind == "calculated":
        return "calculated table (DAX)"
    if src.kind == "generator":
        shown = ", ".join(f"{k}={v!r}" for k, v in sorted(src.params.items())) if params else ""
        return f"generator {src.generator}" + (f" ({shown})" if shown else "")
    path = Path(src.path) if src.path else None
    shown = path.relative_to(root).as_posix() if path and path.is_relative_to(root) else (path.name if path else "")
    return f"{src.kind} {shown}"


def _attrs(old: Any, new: Any, names: Iterable[str]) -> tuple[str, ...]:
    out = []
    for name in names:
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            out.append(f"{name}: {a!r} -> {b!r}")
    return tuple(out)


def _match(old: dict[str, Any], new: dict[str, Any], kind: str,
           compare: Callable[[Any, Any], tuple[tuple[str, ...], tuple[str, ...]]]) -> list[Change]:
    """Added, removed and changed objects of one kind, keyed case-insensitively."""
    lo, ln = {k.lower(): (k, v) for k, v in old.items()}, {k.lower(): (k, v) for k, v in new.items()}
    out = []
    for key in sorted(set(lo) | set(ln)):
        if key not in ln:
            out.append(Change(kind, lo[key][0], "removed"))
        elif key not in lo:
            out.append(Change(kind, ln[key][0], "added"))
        else:
            details, dax = compare(lo[key][1], ln[key][1])
            if details or dax:
                out.append(Change(kind, ln[key][0], "changed", details, dax))
    return out


_COLUMN = ("type", "key", "format", "description", "hidden", "sort_by", "folder", "summarize_by")
_CALC = ("type", "format", "description", "hidden", "sort_by", "folder", "summarize_by")
_MEASURE = ("table", "format", "description", "folder")


def diff_models(old: Model, new: Model) -> ModelDiff:
    changes: list[Change] = []

    def table(a, b):
        details = list(_attrs(a, b, ("description", "is_date_table", "expression")))
        if describe_source(a.source, old.root) != describe_source(b.source, new.root):
            details.append(f"source: {describe_source(a.source, old.root)!r} -> {describe_source(b.source, new.root)!r}")
        if _hierarchies(a) != _hierarchies(b):
            details.append("hierarchies changed")
        return tuple(details), ()

    changes += _match({t.name: t for t in old.tables}, {t.name: t for t in new.tables}, "table", table)
    changes += _match(_columns(old, "columns"), _columns(new, "columns"), "column",
                      lambda a, b: (_attrs(a, b, _COLUMN), ()))
    changes += _match(_columns(old, "calculated_columns"), _columns(new, "calculated_columns"), "calculated column",
                      lambda a, b: (_attrs(a, b, _CALC), dax_diff(a.expression, b.expression)))
    changes += _match({r.name: r for r in old.relationships}, {r.name: r for r in new.relationships},
                      "relationship", lambda a, b: (_attrs(a, b, ("cross_filter", "active")), ()))
    changes += _match({m.name: m for m in old.measures}, {m.name: m for m in new.measures}, "measure",
                      lambda a, b: (_attrs(a, b, _MEASURE), dax_diff(a.expression, b.expression)))
    changes += _match({p.name: p for p in old.pages}, {p.name: p for p in new.pages}, "page",
                      lambda a, b: (_attrs(a, b, ("order", "width", "height")), ()))
    changes += _match(_visuals(old), _visuals(new), "visual", lambda a, b: (_visual(a, b), ()))
    changes.sort(key=lambda c: KINDS.index(c.kind))  # stable: names stay sorted within a kind
    return ModelDiff(tuple(changes))


def _hierarchies(t) -> list:
    return [(h.name, [(lv.name, lv.column) for lv in h.levels]) for h in t.hierarchies]


def _fields(v) -> list[str]:
    return [f"{x.role}: {x.table}[{x.name}]" for x in v.bindings]


def _columns(model: Model, attr: str) -> dict[str, Any]:
    return {f"{t.name}[{c.name}]": c for t in model.tables for c in getattr(t, attr)}


def _visuals(model: Model) -> dict[str, Any]:
    return {f"{p.name}/{v.name}": v for p in model.pages for v in p.visuals}


def _visual(a, b) -> tuple[str, ...]:
    details = list(_attrs(a, b, ("type", "title", "position")))
    if _fields(a) != _fields(b):
        details.append(f"fields: {', '.join(_fields(a))} -> {', '.join(_fields(b))}")
    if a.options != b.options:
        keys = sorted(k for k in set(a.options) | set(b.options) if a.options.get(k) != b.options.get(k))
        details.append("options changed: " + ", ".join(keys))
    return tuple(details)
