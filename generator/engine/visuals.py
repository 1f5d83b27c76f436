"""Report visuals as the DAX queries Power BI sends for them (dax-semantics.md §3).

A visual's column bindings (axis, legend, rows, columns, details) are the group-by
columns, its measure bindings the expressions, and the page's slicer selections the
filter tables. A matrix gets a subtotal per level of its rows and of its columns
(ROLLUPADDISSUBTOTAL over each column); a table gets only a grand total, its columns
rolled up together (ROLLUPADDISSUBTOTAL(ROLLUPGROUP(...))), as Power BI queries it.

The rows then come back in the order Power BI shows them: the visual's sort (YAML `sort`,
else a chart's first category, as the emitted PBIR sortDefinition says), a column's
sort-by column applied, totals first as in Power BI's own query results. A scatter chart
keeps at most SCATTER_LIMIT points, sampled as Power BI documents it.

Queries are built as DAX ASTs (generator/dax/ast.py) and compiled as they are: no DAX
text to quote or parse back; the text (format_dax) is only for reading. This module is
shared by `build.py evaluate` and `build.py preview`.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import weakref
from typing import Any, Mapping

import numpy as np
import pandas as pd

from generator.dax import ast as A
from generator.dax.formatter import format_dax
from generator.engine.runtime.engine import Engine
from generator.spec import field_parameters
from generator.spec.model import Binding, Page, Visual

# Power BI draws at most 3,500 points in a scatter chart: the first and last rows, the rest
# evenly spaced between them (learn.microsoft.com/power-bi/create-reports/desktop-high-density-scatter-charts).
SCATTER_LIMIT = 3500
SORTED_CHARTS = ("clusteredColumnChart", "clusteredBarChart", "lineChart", "areaChart")

# a slicer's state: {"selected": [values]} or {"range": [iso from, iso to]}; {} = nothing selected
Selections = Mapping[str, Mapping[str, Any]]


def _ref(b: Binding) -> A.Expr:
    if b.kind == "column":
        return A.ColumnRef(table=b.table, column=b.name, quoted=True)
    return A.BracketRef(name=b.name)


def _call(name: str, *args: A.Expr) -> A.FunctionCall:
    return A.FunctionCall(name=name, args=tuple(args))


def _number(n: int | float) -> A.Number:
    return A.Number(value=n, text=repr(n))


def _date(d: _dt.date) -> A.FunctionCall:
    return _call("DATE", _number(d.year), _number(d.month), _number(d.day))


def _literal(value: Any) -> A.Expr:
    """A slicer value as a DAX literal node (the same literals as engine.dax_literal)."""
    if value is None:
        return _call("BLANK")
    if isinstance(value, bool):
        return _call("TRUE" if value else "FALSE")
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return _date(value)
    return A.String(value=str(value))


def slicer_state(visual: Visual, selections: Selections | None = None) -> dict[str, Any]:
    """The slicer's selection: the one posted by the preview when there is one, else the YAML's."""
    if selections is not None and visual.name in selections:
        return {k: v for k, v in selections[visual.name].items() if k in ("selected", "range") and v is not None}
    return {k: visual.options[k] for k in ("selected", "range") if k in visual.options}


def slicer_filter_nodes(page: Page, selections: Selections | None = None) -> list[A.Expr]:
    """Filters for slicers that carry a selection: TREATAS for `selected` values,
    DATESBETWEEN for a date `range`."""
    out: list[A.Expr] = []
    for v in page.visuals:
        if v.type != "slicer":
            continue
        state = slicer_state(v, selections)
        field = next(b for b in v.bindings if b.kind == "column")
        if "range" in state:  # a between date slicer: inclusive dates, as Desktop saves it
            lo, hi = (_dt.date.fromisoformat(str(d)[:10]) for d in state["range"])
            out.append(_call("DATESBETWEEN", _ref(field), _date(lo), _date(hi)))
            continue
        values = state.get("selected")
        values = [] if values is None else (values if isinstance(values, (list, tuple)) else [values])
        if values:
            table = A.TableConstructor(rows=tuple((_literal(x),) for x in values))
            out.append(_call("TREATAS", table, _ref(field)))
    return out


def slicer_filters(page: Page, selections: Selections | None = None) -> list[str]:
    """The slicer filters as DAX text."""
    return [format_dax(node) for node in slicer_filter_nodes(page, selections)]


def _unique(bindings: list[Binding]) -> list[Binding]:
    """Each field once, in binding order (DAX names are case-insensitive)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for b in bindings:
        key = (b.table.lower() if b.kind == "column" else "", b.name.lower())  # measure names are model-wide
        if key not in seen:
            seen.add(key)
            out.append(b)
    return out


def shown_fields(visual: Visual, page: Page, selections: Selections | None = None) -> Visual:
    """The visual with each field-parameter binding replaced by the fields the page's slicer
    on that parameter selects, all of them when it selects none: Power BI rewrites the
    visual's query to the chosen fields (learn.microsoft.com/power-bi/create-reports/power-bi-field-parameters)."""
    if not any(b.kind == "field_parameter" for b in visual.bindings):
        return visual
    selected = {v.options["parameter"].lower(): slicer_state(v, selections).get("selected") or ()
                for v in page.visuals if v.type == "slicer" and "parameter" in v.options}
    return field_parameters.expanded(field_parameters.with_selection(visual, selected))


def visual_ast(visual: Visual, page: Page, selections: Selections | None = None) -> A.Query:
    """The visual's query as a DAX AST (generator/dax/ast.py): built, never parsed from text."""
    visual = shown_fields(visual, page, selections)
    groups = [b for b in visual.bindings if b.kind == "column"]
    measures = [b for b in visual.bindings if b.kind == "measure"]
    args: list[A.Expr] = []
    unique_groups = _unique(groups)
    if visual.type == "pivotTable":
        rows = [b for b in groups if b.role == "rows"]
        cols = [b for b in groups if b.role == "columns"]
        for part, label in ((rows, "IsGrandTotalRowTotal"), (cols, "IsGrandTotalColumnTotal")):
            if part:
                pairs = [x for i, b in enumerate(part) for x in (_ref(b), A.String(value=f"{label}{i}"))]
                args.append(_call("ROLLUPADDISSUBTOTAL", *pairs))
    elif visual.type == "tableEx" and groups:
        # a table has one total row, not a subtotal per column: its columns roll up together
        rollup = _call("ROLLUPGROUP", *(_ref(b) for b in unique_groups))
        args.append(_call("ROLLUPADDISSUBTOTAL", rollup, A.String(value="IsGrandTotalRowTotal")))
    else:
        args.extend(_ref(b) for b in unique_groups)
    if visual.type != "slicer":
        args.extend(slicer_filter_nodes(page, selections))
    for b in _unique(measures):
        args.extend((A.String(value=b.name), _ref(b)))
    order = tuple(A.OrderItem(expr=_ref(b)) for b in unique_groups)
    return A.Query(defines=(), evaluates=(A.Evaluate(expr=_call("SUMMARIZECOLUMNS", *args), order_by=order),))


def visual_query(visual: Visual, page: Page, selections: Selections | None = None) -> str:
    """The visual's query as DAX text (shown in `evaluate`'s JSON, used by benchmarks)."""
    return format_dax(visual_ast(visual, page, selections))


def run_query(engine: Engine, query: A.Query) -> pd.DataFrame:
    """Run a query AST on the engine (no DAX text round trip): the last EVALUATE's rows."""
    return engine.query(query)


# ------------------------------------------------------------------ sort order

def visual_sort(visual: Visual) -> list[tuple[Binding, bool]]:
    """(field, descending) pairs: the YAML `sort`, else a chart's first category ascending —
    the same rule the PBIR writer uses for the visual's sortDefinition."""
    if visual.options.get("sort"):
        binding, direction = visual.options["sort"]
        return [(binding, str(direction).lower().startswith("desc"))]
    category = [b for b in visual.bindings if b.kind == "column" and b.role == "category"]
    if category and visual.type in SORTED_CHARTS:
        return [(category[0], False)]
    return []


_SORT_KEYS: "weakref.WeakKeyDictionary[Engine, dict[tuple[str, str], dict]]" = weakref.WeakKeyDictionary()


def _sort_key_map(engine: Engine, b: Binding) -> dict | None:
    """Display value -> value of the column's sort-by column (Month_Name -> Month_Number),
    queried once per engine; None when the column sorts by itself."""
    table = engine.model.table(b.table)
    column = table.column(b.name) if table else None
    if column is None or not getattr(column, "sort_by", None):
        return None
    cache = _SORT_KEYS.setdefault(engine, {})
    key = (b.table.lower(), b.name.lower())
    if key not in cache:
        sort_ref = _ref(Binding(b.role, b.table, column.sort_by, "column", b.pos))
        query = A.Query(defines=(), evaluates=(A.Evaluate(expr=_call("SUMMARIZECOLUMNS", _ref(b), sort_ref)),))
        frame = run_query(engine, query)
        cache[key] = dict(zip(frame.iloc[:, 0].tolist(), frame.iloc[:, 1].tolist()))
    return cache[key]


def _key_series(engine: Engine, frame: pd.DataFrame, column: str, b: Binding | None) -> pd.Series:
    values = frame[column]
    mapping = _sort_key_map(engine, b) if b is not None and b.kind == "column" else None
    if mapping is not None:
        values = values.map(lambda v: mapping.get(v, v) if v is not None and v == v else None)
    if values.dtype == object and values.map(lambda v: isinstance(v, str)).any():
        values = values.map(lambda v: v.lower() if isinstance(v, str) else v)  # DAX compares text case-blind
    return values


def _stable_sort(frame: pd.DataFrame, keys: list[tuple[pd.Series, bool]]) -> pd.DataFrame:
    """Sort by `keys` (most significant first); BLANK first ascending, last descending, as in DAX."""
    order = np.arange(len(frame))
    for series, descending in reversed(keys):
        ordered = series.iloc[order].reset_index(drop=True)
        idx = ordered.sort_values(ascending=not descending, kind="stable",
                                  na_position="last" if descending else "first").index.to_numpy()
        order = order[idx]
    return frame.iloc[order].reset_index(drop=True)


def _named(frame: pd.DataFrame, *names: str) -> str | None:
    """The result column called one of `names` (SUMMARIZECOLUMNS names its columns
    `Table[Column]` and `[Name]`)."""
    wanted = {n.lower() for n in names}
    return next((c for c in frame.columns if c.lower() in wanted), None)


def _column_of(frame: pd.DataFrame, b: Binding) -> str | None:
    if b.kind == "measure":
        return _named(frame, f"[{b.name}]", b.name)
    return _named(frame, f"{b.table}[{b.name}]")


def sort_rows(engine: Engine, visual: Visual, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows in the visual's display order (see the module docstring)."""
    if frame.empty:
        return frame
    groups = [b for b in visual.bindings if b.kind == "column"]
    keys: list[tuple[pd.Series, bool]] = []
    if visual.type == "pivotTable":
        for role, label in (("rows", "IsGrandTotalRowTotal"), ("columns", "IsGrandTotalColumnTotal")):
            for i, b in enumerate(x for x in groups if x.role == role):
                flag = _named(frame, f"[{label}{i}]", f"{label}{i}")
                if flag:
                    keys.append((frame[flag].astype(bool), True))
                name = _column_of(frame, b)
                if name:
                    keys.append((_key_series(engine, frame, name, b), False))
        return _stable_sort(frame, keys)
    flag = _named(frame, "[IsGrandTotalRowTotal]", "IsGrandTotalRowTotal")
    if flag:
        keys.append((frame[flag].astype(bool), True))
    for b, descending in visual_sort(visual):
        name = _column_of(frame, b)
        if name:
            keys.append((_key_series(engine, frame, name, b), descending))
    for b in groups:
        name = _column_of(frame, b)
        if name:
            keys.append((_key_series(engine, frame, name, b), False))
    return _stable_sort(frame, keys) if keys else frame


def sample_points(frame: pd.DataFrame, limit: int = SCATTER_LIMIT) -> pd.DataFrame:
    """At most `limit` rows: the first and the last, the others evenly spaced between them."""
    if len(frame) <= limit:
        return frame
    picks = np.unique(np.round(np.linspace(0, len(frame) - 1, limit)).astype(np.int64))
    return frame.iloc[picks].reset_index(drop=True)


# ------------------------------------------------------------------ JSON

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


def column_json(series: pd.Series) -> list[Any]:
    """One result column as JSON values, converted as a whole column where its dtype allows."""
    kind = series.dtype.kind
    if kind in "iub":
        return series.tolist()
    if kind == "f":
        values = series.to_numpy()
        out = values.tolist()
        if not np.isfinite(values).all():
            out = [v if math.isfinite(v) else str(v) for v in out]
        return out
    if kind == "M":
        midnight = (series.dt.normalize() == series) | series.isna()
        text = series.dt.strftime("%Y-%m-%d") if bool(midnight.all()) else series.map(jsonable)
        return [None if pd.isna(t) else t for t in text.tolist()]
    return [jsonable(v) for v in series.tolist()]


def frame_json(frame: pd.DataFrame) -> dict[str, Any]:
    columns = [column_json(frame[c]) for c in frame.columns]
    return {"columns": list(frame.columns), "rows": [list(r) for r in zip(*columns)] if columns else []}


def result_json(result: dict[str, Any]) -> str:
    """Indented JSON with one line per row: readable, without a line per value."""
    head = json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=2, ensure_ascii=False)
    body = ",\n".join("    " + json.dumps(r, ensure_ascii=False) for r in result["rows"])
    rows = f"[\n{body}\n  ]" if body else "[]"
    return head[:-2] + f',\n  "rows": {rows}\n}}\n'


def evaluate_visual(engine: Engine, visual: Visual, page: Page, selections: Selections | None = None,
                    sample: bool = True) -> dict[str, Any]:
    """The visual's rows as Power BI would show them: its query, sorted, scatter sampled.
    `total_rows` is the row count before sampling; `sampled` says whether rows were dropped."""
    visual = shown_fields(visual, page, selections)
    query = visual_ast(visual, page, selections)
    frame = sort_rows(engine, visual, run_query(engine, query))
    total = len(frame)
    if sample and visual.type == "scatterChart":
        frame = sample_points(frame, SCATTER_LIMIT)  # read at call time: tests lower it
    return {"page": page.name, "visual": visual.name, "type": visual.type, "title": visual.title, "query": format_dax(query),
            "total_rows": total, "sampled": len(frame) < total, **frame_json(frame)}
