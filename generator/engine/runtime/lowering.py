"""Lowering: a compiled statement's grouped leaves are optimized together and rendered into it.

The compiler leaves a placeholder table in the statement for every grouped leaf, holding
the leaf's logical plan (`plan.build.LEAF_TABLE`, `meta["leaf"]`). Here, above compiler,
optimizer and renderer, the plans of one statement and of the leaves they read go through
the optimizer's passes together (so equal scans are shared and cross-query pre-aggregations
are planned against `scans`), and `render.plan` puts the resulting SELECTs in place. Keeping
this step out of the compiler is what keeps the compiler a pure DAX → (SQL skeleton, plans)
function that imports neither the optimizer nor a renderer.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

from generator.engine.optimizer import OptimizeContext, optimize
from generator.engine.plan.nodes import leaf_refs
from generator.engine.render.plan import placeholders, render_leaves

if TYPE_CHECKING:
    from generator.engine.optimizer.scan_cache import ScanStage
    from generator.engine.schema import Schema


def lower(compiled, schema: "Schema", scans: "ScanStage | None" = None):
    """`compiled` (a CompiledQuery) with its leaves' plans optimized and rendered in place,
    and the statements to run first (new cross-query pre-aggregations) as its prelude."""
    prelude = plan_leaves(compiled.sql, schema, scans)
    return replace(compiled, prelude=tuple(prelude)) if prelude else compiled


def plan_leaves(sel: exp.Select, schema: "Schema", scans: "ScanStage | None") -> list[exp.Expression]:
    tables = placeholders(sel)
    if not tables:
        return []
    entries = list(dict.fromkeys(t.meta["leaf"] for t in tables))
    for entry in entries:  # and the leaves they read (appended while iterating)
        for ref in leaf_refs(entry.plan):
            if ref.entry not in entries:
                entries.append(ref.entry)
    before = len(scans.staged) if scans is not None else 0
    final = optimize(tuple(e.plan for e in entries), OptimizeContext(schema.unique_keys, scans))
    staged = tuple(scans.staged[before:]) if scans is not None else ()
    return render_leaves(sel, tables, dict(zip(entries, final)), staged)
