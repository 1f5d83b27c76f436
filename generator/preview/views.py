"""One visual → what its box on the page shows: an HTML fragment and, for charts, a figure.

Dispatch on the PBIR visualType; a type with no view is drawn as a box that says so
(never silently blank). Used for the static pages and for every slicer change in --serve.
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from typing import Any, Callable

from jinja2 import Environment, PackageLoader, StrictUndefined

from generator.engine.runtime.engine import Engine
from generator.engine import visuals as engine_visuals
from generator.engine.visuals import Selections, slicer_state
from generator.preview.charts import FIGURES
from generator.preview.grids import matrix_grid, table_grid
from generator.preview.report import PageDef, VisualDef
from generator.preview.rows import Rows, label
from generator.spec.model import Page, Visual

TITLE_HEIGHT = 24

ENV = Environment(loader=PackageLoader("generator.preview", "templates"), autoescape=True,
                  undefined=StrictUndefined, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class View:
    name: str
    html: str
    figure: dict[str, Any] | None = None
    note: str | None = None

    def payload(self) -> dict[str, Any]:
        return {"html": self.html, "figure": self.figure, "note": self.note}


def _macro(name: str) -> Callable[..., str]:
    return getattr(ENV.get_template("visuals.html.j2").module, name)


def _body_size(d: VisualDef) -> tuple[float, float]:
    return d.width - 8, d.height - (TITLE_HEIGHT if d.title else 0) - 8


def card_view(engine: Engine, v: Visual, d: VisualDef, page: Page, sel: Selections | None, theme) -> View:
    rows = Rows.evaluate(engine, v, page, sel)
    field = rows.role("Values")[0]
    text = rows.text(field)
    value = text[0] if text else ""
    callout = theme.get("textClasses", {}).get("callout", {})
    size = min(callout.get("fontSize", 45) * 0.6, max(d.height - 40, 12) * 0.6)
    if len(value) > 24:  # a text measure (key findings): body text, not a callout number
        size = 13
    return View(v.name, str(_macro("card")(value=value, label=label(field), size=round(size))))


def slicer_view(engine: Engine, v: Visual, d: VisualDef, page: Page, sel: Selections | None, theme) -> View:
    rows = Rows.evaluate(engine, v, page, None)
    field = rows.role("Values")[0]
    raw = rows.values(field)
    text = rows.text(field)
    mode = _pbir_mode(d) or {"between": "Between", "dropdown": "Dropdown"}.get(v.options.get("mode", ""), "Basic")
    state = slicer_state(v, sel)
    selected = state.get("selected")
    selected = [] if selected is None else (selected if isinstance(selected, (list, tuple)) else [selected])
    chosen = {json.dumps(_plain(x)) for x in selected}
    items = [(json.dumps(_plain(r)), t, json.dumps(_plain(r)) in chosen) for r, t in zip(raw, text) if r is not None]
    dates = [str(r)[:10] for r in raw if r is not None]
    low, high = (dates[0], dates[-1]) if dates else ("", "")
    picked = [str(x)[:10] for x in state.get("range", (low, high))]
    return View(v.name, str(_macro("slicer")(name=v.name, mode=mode, items=items, low=low, high=high,
                                             start=picked[0], end=picked[1])))


def _plain(value: Any) -> Any:
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _pbir_mode(d: VisualDef) -> str | None:
    for item in d.objects.get("data", []):
        mode = item.get("properties", {}).get("mode", {}).get("expr", {}).get("Literal", {}).get("Value")
        if isinstance(mode, str):
            return mode.strip("'")
    return None


def chart_view(engine: Engine, v: Visual, d: VisualDef, page: Page, sel: Selections | None, theme) -> View:
    rows = Rows.evaluate(engine, v, page, sel)
    width, height = _body_size(d)
    note = None
    if rows.sampled:
        note = (f"Sampled: {len(rows.result['rows']):,} of {rows.total_rows:,} points, "
                f"as Power BI samples scatter charts (at most {engine_visuals.SCATTER_LIMIT:,})")
        height -= 16
    figure = FIGURES[v.type](rows, theme, width, height)
    extra = ""
    if v.type == "gauge":
        value = rows.text(rows.role("Y")[0])[0] if rows.result["rows"] else ""
        target = rows.role("TargetValue")
        target_text = rows.text(target[0])[0] if target and rows.result["rows"] else None
        extra = str(_macro("gauge_values")(value=value, target=target_text, target_label=label(target[0]) if target else ""))
    return View(v.name, str(_macro("chart")(name=v.name, note=note, extra=extra)), figure, note)


def grid_view(engine: Engine, v: Visual, d: VisualDef, page: Page, sel: Selections | None, theme) -> View:
    rows = Rows.evaluate(engine, v, page, sel)
    grid = matrix_grid(rows, d.objects) if v.type == "pivotTable" else table_grid(rows, d.objects)
    return View(v.name, str(_macro("grid")(grid=grid)), note=grid.note)


VIEWS: dict[str, Callable[..., View]] = {
    "card": card_view, "slicer": slicer_view, "gauge": chart_view, "clusteredColumnChart": chart_view,
    "clusteredBarChart": chart_view, "lineChart": chart_view, "areaChart": chart_view, "pieChart": chart_view,
    "donutChart": chart_view, "scatterChart": chart_view, "pivotTable": grid_view, "tableEx": grid_view,
}


def textbox_view(d: VisualDef) -> View:
    """A PBIR text box: its paragraphs' text runs."""
    paragraphs = []
    for item in d.objects.get("general", []):
        for p in item.get("properties", {}).get("paragraphs", []):
            paragraphs.append("".join(str(r.get("value", "")) for r in p.get("textRuns", [])))
    return View(d.name, str(_macro("textbox")(paragraphs=paragraphs)))


def visual_view(engine: Engine, d: VisualDef, page: Page | None, sel: Selections | None,
                theme: dict[str, Any]) -> View:
    visual = next((v for v in page.visuals if v.name == d.name), None) if page else None
    if d.type == "textbox":
        return textbox_view(d)
    view = VIEWS.get(d.type) if visual is not None else None
    if view is None:
        return View(d.name, str(_macro("unsupported")(type=d.type)), note=f"{d.type} is not previewed")
    return view(engine, visual, d, page, sel, theme)


def page_views(engine: Engine, pdef: PageDef, page: Page | None, theme: dict[str, Any],
               sel: Selections | None = None, slicers: bool = True) -> dict[str, View]:
    """Every visual of the page; `slicers=False` skips slicers (a slicer change re-draws the rest)."""
    return {d.name: visual_view(engine, d, page, sel, theme) for d in pdef.visuals
            if slicers or d.type != "slicer"}
