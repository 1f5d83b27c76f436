"""Report visuals as the DAX queries Power BI sends for them (dax-semantics.md §3).

A visual's column bindings (axis, legend, rows, columns, details) are the group-by
columns, its measure bindings the expressions, and the page's slicer selections the
filter tables. A matrix gets a subtotal per level of its rows and of its columns
(ROLLUPADDISSUBTOTAL over each column); a table gets only a grand total, its columns
rolled up together (ROLLUPADDISSUBTOTAL(ROLLUPGROUP(...))), as Power BI queries it.
"""
from __future__ import annotations

import datetime as _dt
import math
from typing import Any

import pandas as pd

from generator.engine.engine import Engine, dax_literal
from generator.spec.model import Binding, Page, Visual

def _ref(b: Binding) -> str:
    table = "'" + b.table.replace("'", "''") + "'"
    name = b.name.replace("]", "]]")
    return f"{table}[{name}]" if b.kind == "column" else f"[{name}]"


def slicer_filters(page: Page) -> list[str]:
    """Filters for slicers that carry a selection: TREATAS for `selected` values,
    DATESBETWEEN for a date `range`."""
    out = []
    for v in page.visuals:
        if v.type != "slicer":
            continue
        if "range" in v.options:  # a between date slicer: inclusive dates, as Desktop saves it
            field = next(b for b in v.bindings if b.kind == "column")
            lo, hi = (_dt.date.fromisoformat(d) for d in v.options["range"])
            out.append(f"DATESBETWEEN({_ref(field)}, DATE({lo.year}, {lo.month}, {lo.day}), "
                       f"DATE({hi.year}, {hi.month}, {hi.day}))")
            continue
        if "selected" not in v.options:
            continue
        values = v.options["selected"]
        values = values if isinstance(values, (list, tuple)) else [values]
        field = next(b for b in v.bindings if b.kind == "column")
        out.append("TREATAS({" + ", ".join(dax_literal(x) for x in values) + "}, " + _ref(field) + ")")
    return out


def visual_query(visual: Visual, page: Page) -> str:
    groups = [b for b in visual.bindings if b.kind == "column"]
    measures = [b for b in visual.bindings if b.kind == "measure"]
    args: list[str] = []
    if visual.type == "pivotTable":
        rows = [b for b in groups if b.role == "rows"]
        cols = [b for b in groups if b.role == "columns"]
        for part, label in ((rows, "IsGrandTotalRowTotal"), (cols, "IsGrandTotalColumnTotal")):
            if part:
                inner = ", ".join(f'{_ref(b)}, "{label}{i}"' for i, b in enumerate(part))
                args.append(f"ROLLUPADDISSUBTOTAL({inner})")
    elif visual.type == "tableEx" and groups:
        # a table has one total row, not a subtotal per column: its columns roll up together
        cols = ", ".join(dict.fromkeys(_ref(b) for b in groups))
        args.append(f'ROLLUPADDISSUBTOTAL(ROLLUPGROUP({cols}), "IsGrandTotalRowTotal")')
    else:
        seen = []
        for b in groups:
            if _ref(b) not in seen:
                seen.append(_ref(b))
        args.extend(seen)
    if visual.type != "slicer":
        args.extend(slicer_filters(page))
    names = set()
    for b in measures:
        if b.name in names:
            continue
        names.add(b.name)
        label = b.name.replace('"', '""')
        args.append(f'"{label}", {_ref(b)}')
    query = "EVALUATE\nSUMMARIZECOLUMNS(\n    " + ",\n    ".join(args) + "\n)"
    order = list(dict.fromkeys(_ref(b) for b in groups))
    if order:
        query += "\nORDER BY " + ", ".join(order)
    return query


def jsonable(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    if isinstance(value, (pd.Timestamp, _dt.datetime)):
        value = value.to_pydatetime() if isinstance(value, pd.Timestamp) else value
        return value.date().isoformat() if value.time() == _dt.time(0) else value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def frame_json(frame: pd.DataFrame) -> dict[str, Any]:
    return {"columns": list(frame.columns),
            "rows": [[jsonable(v) for v in row] for row in frame.itertuples(index=False, name=None)]}


def evaluate_visual(engine: Engine, visual: Visual, page: Page) -> dict[str, Any]:
    dax = visual_query(visual, page)
    frame = engine.query(dax)
    return {"page": page.name, "visual": visual.name, "type": visual.type, "title": visual.title, "query": dax,
            **frame_json(frame)}
