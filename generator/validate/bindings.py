"""Cross-file check: every field a visual.json names must exist in the semantic model.

Schemas check each file alone; a projection naming a missing table, column or measure
still opens in Desktop as a blank visual (../shared/docs/pbip-format.md §9.5). This
check reads the emitted (or hand-added) visual.json files, not the YAML, so it also
covers pages a user made in Desktop.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from generator.spec.model import Model


def _fields(node: Any) -> Iterator[tuple[str, str, str]]:
    """(kind, entity, property) of every Column/Measure reference with a SourceRef.Entity."""
    if isinstance(node, dict):
        for kind in ("Column", "Measure"):
            ref = node.get(kind)
            if isinstance(ref, dict) and "Property" in ref:
                entity = ref.get("Expression", {}).get("SourceRef", {}).get("Entity")
                if entity is not None:
                    yield kind, entity, ref["Property"]
        for value in node.values():
            yield from _fields(value)
    elif isinstance(node, list):
        for value in node:
            yield from _fields(value)


def kpi_measures(model: Model) -> set[tuple[str, str]]:
    """The fields a measure's KPI adds (`_<Measure> Goal`, `_<Measure> Status`, `_<Measure> Trend`,
    as client tools see them: learn.microsoft.com/analysis-services/tabular-models/kpis-ssas-tabular);
    only verbatim TMDL (an imported table, semantic/tmdl/) can hold a KPI."""
    from generator.importer.tmdl_reader import parse_text

    out = set()
    for rel, text in model.passthrough.items():
        if not rel.startswith("tables/"):
            continue
        for table in parse_text(Path(rel), text).nodes:
            for m in table.kids("measure"):
                if m.kid("kpi") is not None:
                    out |= {(table.name, f"_{m.name} {part}") for part in ("Goal", "Status", "Trend")}
    return out


def check_visuals(report_dir: Path, model: Model) -> list[str]:
    """Problems as 'path: message' strings; empty when every binding resolves."""
    measures = {(m.table, m.name) for m in model.measures} | kpi_measures(model)
    columns = {(t.name, c.name) for t in model.tables for c in t.all_columns}
    tables = {t.name for t in model.tables}
    problems = []
    for path in sorted(report_dir.rglob("visual.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        rel = path.relative_to(report_dir.parent)
        for kind, entity, prop in _fields(doc):
            if entity not in tables:
                problems.append(f"{rel}: {kind.lower()} '{prop}' refers to missing table '{entity}'")
            elif kind == "Measure" and (entity, prop) not in measures:
                problems.append(f"{rel}: missing measure '{entity}'[{prop}]")
            elif kind == "Column" and (entity, prop) not in columns:
                problems.append(f"{rel}: missing column '{entity}'[{prop}]")
    return problems
