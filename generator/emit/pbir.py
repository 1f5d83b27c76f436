"""The one canonical PBIR writer: report, pages and visuals as Desktop saves them.

Schema versions are pinned as one coherent set that Desktop itself wrote together
(Feb-Mar 2026 saves; ../shared/docs/pbip-format.md §3). Role names per visual type come
from Desktop-saved files and Microsoft's report CLI (§6.1); a wrong role renders blank
without any error, so the mapping lives in one table here.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from generator.spec.model import Binding, Model, Page, Visual
from generator.spec.visuals import ROLES

SCHEMA_ROOT = "https://developer.microsoft.com/json-schemas/fabric"
VERSIONS = {
    "pbip": ("pbip/pbipProperties", "1.0.0"),
    "platform": ("gitIntegration/platformProperties", "2.0.0"),
    "pbism": ("item/semanticModel/definitionProperties", "1.0.0"),
    "pbir": ("item/report/definitionProperties", "2.0.0"),
    "version": ("item/report/definition/versionMetadata", "1.0.0"),
    "report": ("item/report/definition/report", "3.1.0"),
    "pages": ("item/report/definition/pagesMetadata", "1.0.0"),
    "page": ("item/report/definition/page", "2.0.0"),
    "visual": ("item/report/definition/visualContainer", "2.6.0"),
}
THEME_NAME = "CY26SU02"
PLATFORM_NAMESPACE = uuid.UUID("0b8f5d1e-2c4a-5f3e-8a71-9d2e6c4b1f07")

# Automatic layout: a 12-column grid; (column span, height) per visual type.
GRID = {"card": (2, 96), "slicer": (4, 64), "gauge": (4, 250), "pivotTable": (8, 250), "tableEx": (12, 260),
        "lineChart": (6, 250), "scatterChart": (4, 250)}
DEFAULT_CELL = (4, 250)
MARGIN, GAP = 16, 12


def schema_url(kind: str) -> str:
    path, version = VERSIONS[kind]
    return f"{SCHEMA_ROOT}/{path}/{version}/schema.json"


def dumps(obj: Any) -> str:
    """Desktop's JSON: 2-space indent, UTF-8, no trailing newline."""
    return json.dumps(obj, indent=2, ensure_ascii=False)


def literal(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = f"{value}L"
    elif isinstance(value, float):
        text = f"{value!r}D"
    else:
        text = "'" + str(value).replace("'", "''") + "'"
    return {"expr": {"Literal": {"Value": text}}}


def field_expr(b: Binding) -> dict[str, Any]:
    kind = "Measure" if b.kind == "measure" else "Column"
    return {kind: {"Expression": {"SourceRef": {"Entity": b.table}}, "Property": b.name}}


def projection(b: Binding) -> dict[str, Any]:
    p: dict[str, Any] = {"field": field_expr(b), "queryRef": f"{b.table}.{b.name}", "nativeQueryRef": b.name}
    if b.kind == "column":
        p["active"] = True
    return p


def query_state(visual: Visual) -> dict[str, Any]:
    """Projections per PBIR role; the loader has already checked every role against ROLES."""
    state: dict[str, Any] = {}
    for b in visual.bindings:
        state.setdefault(ROLES[visual.type][b.role], {"projections": []})["projections"].append(projection(b))
    return state


def _sort_definition(visual: Visual) -> dict[str, Any] | None:
    """The YAML's `sort`, else charts sort by their first category (its sort-by column applies)."""
    if visual.options.get("sort"):
        binding, direction = visual.options["sort"]
        return {"sort": [{"field": field_expr(binding), "direction": direction.capitalize()}]}
    groups = [b for b in visual.bindings if b.kind == "column" and b.role in ("category",)]
    if not groups or visual.type not in ("clusteredColumnChart", "clusteredBarChart", "lineChart"):
        return None
    return {"sort": [{"field": field_expr(groups[0]), "direction": "Ascending"}], "isDefaultSort": True}


def _date_literal(iso: str) -> dict[str, Any]:
    return {"Literal": {"Value": f"datetime'{iso}T00:00:00'"}}


def _value_literal(value: Any, column_type: str) -> dict[str, Any]:
    if column_type in ("date", "datetime"):
        return _date_literal(str(value))
    return literal(float(value) if column_type in ("double", "decimal") else value)["expr"]


def _selection_filter(visual: Visual, column_type: str) -> dict[str, Any] | None:
    """Desktop's saved slicer selection: an In list, or a date range as >= from and < to + 1 day."""
    b = next(x for x in visual.bindings if x.kind == "column")
    ref = {"Column": {"Expression": {"SourceRef": {"Source": "s"}}, "Property": b.name}}
    if "range" in visual.options:
        lo, hi = visual.options["range"]
        after = (dt.date.fromisoformat(hi) + dt.timedelta(days=1)).isoformat()
        condition = {"And": {
            "Left": {"Comparison": {"ComparisonKind": 2, "Left": ref, "Right": _date_literal(lo)}},
            "Right": {"Comparison": {"ComparisonKind": 3, "Left": ref, "Right": _date_literal(after)}}}}
    elif "selected" in visual.options:
        values = [[_value_literal(v, column_type)] for v in visual.options["selected"]]
        condition = {"In": {"Expressions": [ref], "Values": values}}
    else:
        return None
    return {"filter": {"Version": 2, "From": [{"Name": "s", "Entity": b.table, "Type": 0}],
                       "Where": [{"Condition": condition}]}}


def _objects(visual: Visual, column_type: str | None = None) -> dict[str, Any]:
    if visual.type == "slicer":
        mode = {"between": "Between", "dropdown": "Dropdown", "list": "Basic", "basic": "Basic"}
        data: dict[str, Any] = {"mode": literal(mode[visual.options.get("mode", "list")])}
        objects: dict[str, Any] = {"data": [{"properties": data}]}
        if "range" in visual.options:
            data["startDate"] = {"expr": _date_literal(visual.options["range"][0])}
            data["endDate"] = {"expr": _date_literal(visual.options["range"][1])}
        selection = _selection_filter(visual, column_type or "string")
        if selection:
            objects["general"] = [{"properties": {"filter": {"filter": selection["filter"]}}}]
        return objects
    scale = visual.options.get("color_scale")
    if scale and visual.type in ("pivotTable", "tableEx"):
        return {"values": [_color_scale(b, scale["low"], scale["high"]) for b in visual.bindings
                           if b.kind == "measure"]}
    return {}


def _color_scale(b: Binding, low: str, high: str) -> dict[str, Any]:
    """Conditional formatting: a two-colour background gradient over a measure's values."""
    def color(hex_color: str) -> dict[str, Any]:
        return {"color": {"Literal": {"Value": f"'{hex_color}'"}}}

    rule = {"Input": field_expr(b), "FillRule": {"linearGradient2": {
        "min": color(low), "max": color(high),
        "nullColoringStrategy": {"strategy": {"Literal": {"Value": "'asZero'"}}}}}}
    return {"properties": {"backColor": {"solid": {"color": {"expr": {"FillRule": rule}}}}},
            "selector": {"data": [{"dataViewWildcard": {"matchingOption": 1}}], "metadata": f"{b.table}.{b.name}"}}


def visual_json(visual: Visual, position: tuple[int, int, int, int], z: int,
                column_type: str | None = None) -> dict[str, Any]:
    """`column_type`: the YAML type of a slicer's column (literal encoding of its selection)."""
    x, y, width, height = position
    body: dict[str, Any] = {"visualType": visual.type, "query": {"queryState": query_state(visual)}}
    sort = _sort_definition(visual)
    if sort:
        body["query"]["sortDefinition"] = sort
    objects = _objects(visual, column_type)
    if objects:
        body["objects"] = objects
    if visual.title:
        body["visualContainerObjects"] = {"title": [{"properties": {
            "show": literal(True), "text": literal(visual.title)}}]}
    body["drillFilterOtherVisuals"] = True
    return {
        "$schema": schema_url("visual"),
        "name": visual.name,
        "position": {"x": x, "y": y, "z": z, "height": height, "width": width, "tabOrder": z},
        "visual": body,
    }


def layout(page: Page) -> list[tuple[int, int, int, int]]:
    """Explicit positions where given; otherwise rows on a 12-column grid, left to right."""
    usable = page.width - 2 * MARGIN
    unit = (usable - 11 * GAP) / 12
    out, col, y, row_height = [], 0, MARGIN, 0
    for v in page.visuals:
        if v.position:
            out.append(v.position)
            continue
        span, height = GRID.get(v.type, DEFAULT_CELL)
        if col + span > 12:
            col, y, row_height = 0, y + row_height + GAP, 0
        x = MARGIN + round(col * (unit + GAP))
        width = round(span * unit + (span - 1) * GAP)
        out.append((x, y, width, height))
        col, row_height = col + span, max(row_height, height)
    return out


def page_height(page: Page, positions: list[tuple[int, int, int, int]]) -> int:
    bottom = max((y + h for _, y, _, h in positions), default=0)
    return max(page.height, bottom + MARGIN)


def theme() -> dict[str, Any]:
    """Our base theme in Power BI's documented report-theme format."""
    return {
        "name": THEME_NAME,
        "dataColors": ["#118DFF", "#12239E", "#E66C37", "#6B007B", "#E044A7", "#744EC2", "#D9B300", "#D64550",
                       "#197278", "#1AAB40", "#15C6F4", "#4092FF", "#FFA058", "#BE5DC9", "#F472D0", "#B5A1FF"],
        "foreground": "#252423", "foregroundNeutralSecondary": "#605E5C", "foregroundNeutralTertiary": "#B3B0AD",
        "background": "#FFFFFF", "backgroundLight": "#F3F2F1", "backgroundNeutral": "#C8C6C4",
        "tableAccent": "#118DFF", "good": "#1AAB40", "neutral": "#D9B300", "bad": "#D64554",
        "maximum": "#118DFF", "center": "#D9B300", "minimum": "#DEEFFF", "null": "#FF7F48",
        "hyperlink": "#0078d4", "visitedHyperlink": "#0078d4",
        "textClasses": {
            "callout": {"fontSize": 45, "fontFace": "DIN", "color": "#252423"},
            "title": {"fontSize": 12, "fontFace": "DIN", "color": "#252423"},
            "header": {"fontSize": 12, "fontFace": "Segoe UI Semibold", "color": "#252423"},
            "label": {"fontSize": 10, "fontFace": "Segoe UI", "color": "#252423"},
        },
    }


def report_json() -> dict[str, Any]:
    _, report_version = VERSIONS["report"]
    return {
        "$schema": schema_url("report"),
        "themeCollection": {"baseTheme": {
            "name": THEME_NAME,
            "reportVersionAtImport": {"visual": VERSIONS["visual"][1], "report": report_version,
                                      "page": VERSIONS["page"][1]},
            "type": "SharedResources"}},
        "resourcePackages": [{"name": "SharedResources", "type": "SharedResources", "items": [
            {"name": THEME_NAME, "path": f"BaseThemes/{THEME_NAME}.json", "type": "BaseTheme"}]}],
        "settings": {"useStylableVisualContainerHeader": True, "exportDataMode": "AllowSummarized",
                     "defaultDrillFilterOtherVisuals": True, "allowChangeFilterTypes": True,
                     "useEnhancedTooltips": True, "useDefaultAggregateDisplayName": True},
    }


def platform(model: Model, item_type: str) -> dict[str, Any]:
    return {
        "$schema": schema_url("platform"),
        "metadata": {"type": item_type, "displayName": model.name},
        "config": {"version": "2.0", "logicalId": str(uuid.uuid5(PLATFORM_NAMESPACE, f"{model.name}/{item_type}"))},
    }


def _first_column_type(model: Model, visual: Visual) -> str | None:
    b = next((x for x in visual.bindings if x.kind == "column"), None)
    if b is None:
        return None
    column = model.table(b.table).column(b.name)  # type: ignore[union-attr]
    return column.type if column else None


def report_files(model: Model) -> dict[str, str]:
    """Relative path under <Name>.Report -> file text."""
    name = model.name
    files = {
        ".platform": dumps(platform(model, "Report")),
        "definition.pbir": dumps({"$schema": schema_url("pbir"), "version": "4.0",
                                  "datasetReference": {"byPath": {"path": f"../{name}.SemanticModel"}}}),
        f"StaticResources/SharedResources/BaseThemes/{THEME_NAME}.json": dumps(theme()),
        "definition/version.json": dumps({"$schema": schema_url("version"), "version": "2.0.0"}),
        "definition/report.json": dumps(report_json()),
    }
    order = [p.id for p in model.pages]
    files["definition/pages/pages.json"] = dumps({"$schema": schema_url("pages"), "pageOrder": order,
                                                  "activePageName": order[0] if order else ""})
    for page in model.pages:
        positions = layout(page)
        files[f"definition/pages/{page.id}/page.json"] = dumps({
            "$schema": schema_url("page"), "name": page.id, "displayName": page.name,
            "displayOption": "FitToPage", "height": page_height(page, positions), "width": page.width})
        for z, (visual, pos) in enumerate(zip(page.visuals, positions)):
            column_type = _first_column_type(model, visual)
            files[f"definition/pages/{page.id}/visuals/{visual.name}/visual.json"] = dumps(
                visual_json(visual, pos, z, column_type))
    return files


def project_files(model: Model) -> dict[str, str]:
    """The .pbip, and the semantic model's item files other than TMDL."""
    return {
        f"{model.name}.pbip": dumps({"$schema": schema_url("pbip"), "version": "1.0",
                                     "artifacts": [{"report": {"path": f"{model.name}.Report"}}],
                                     "settings": {"enableAutoRecovery": True}}),
        f"{model.name}.SemanticModel/.platform": dumps(platform(model, "SemanticModel")),
        f"{model.name}.SemanticModel/definition.pbism": dumps({"$schema": schema_url("pbism"), "version": "4.2",
                                                               "settings": {}}),
    }
