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

from generator.emit import theme
from generator.spec import field_parameters
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
PLATFORM_NAMESPACE = uuid.UUID("0b8f5d1e-2c4a-5f3e-8a71-9d2e6c4b1f07")

# Automatic layout: rows on a 12-column grid; (column span, height) per visual type, heights as
# Desktop saves them (dropdown slicers 68-78 px, a between date slicer ~113 px, cards ~110 px).
GRID = {"card": (2, 112), "gauge": (4, 280), "pivotTable": (8, 280), "tableEx": (12, 300),
        "lineChart": (6, 280), "scatterChart": (4, 280)}
SLICER_CELLS = {"between": (4, 112), "dropdown": (4, 72), "list": (3, 240), "basic": (3, 240)}
DEFAULT_CELL = (4, 280)
FIT_TO_PAGE_MAX_HEIGHT = 720  # taller pages open FitToWidth (scroll) instead of shrinking
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


# Visuals whose several grouping columns in one role form a drill path (Year > Quarter > Month):
# Desktop marks only the level shown `active: true`, the deeper ones `active: false`. Matrix
# rows/columns are different: every level is shown (expandable), so every level is active.
DRILL_TYPES = frozenset({"clusteredColumnChart", "clusteredBarChart", "lineChart", "pieChart", "donutChart"})
# Single-field visuals whose YAML `title` names their one field: Desktop shows the field's name
# (card category label, slicer header) and no container title, so the title becomes the name.
TITLED_BY_FIELD = frozenset({"card", "slicer"})


def display_name(visual: Visual, b: Binding) -> str:
    if b.label is None and visual.type in TITLED_BY_FIELD and visual.title:
        return visual.title
    return b.display_name


def projection(b: Binding, active: bool | None = None, shown: str | None = None) -> dict[str, Any]:
    """One field of a role; `displayName` only where it differs from the name, as Desktop writes it."""
    p: dict[str, Any] = {"field": field_expr(b), "queryRef": f"{b.table}.{b.name}", "nativeQueryRef": b.name}
    if shown is not None and shown != b.name:
        p["displayName"] = shown
    if b.kind == "column":
        p["active"] = True if active is None else active
    return p


def _parameter_projections(role: dict[str, Any], b: Binding) -> None:
    """A field parameter in a role, as Desktop saves it: the selected fields as projections
    (nativeQueryRef and displayName their shown names) and a `fieldParameters` entry giving
    the parameter column, the first projection's index and how many
    (pbip-samples SM_SalesSense RP_Report01 visual 3852e5607b224b8ebd1a)."""
    projections = role["projections"]
    start = len(projections)
    for f in b.fields:
        p: dict[str, Any] = {"field": field_expr(f), "queryRef": f"{f.table}.{f.name}", "nativeQueryRef": f.label or f.name}
        p["displayName"] = f.label or f.name
        projections.append(p)
    role.setdefault("fieldParameters", []).append({
        "parameterExpr": {"Column": {"Expression": {"SourceRef": {"Entity": b.table}}, "Property": b.name}},
        "index": start, "length": len(b.fields)})


def query_state(visual: Visual) -> dict[str, Any]:
    """Projections per PBIR role; the loader has already checked every role against ROLES."""
    state: dict[str, Any] = {}
    for b in visual.bindings:
        if b.kind == "field_parameter":
            _parameter_projections(state.setdefault(ROLES[visual.type][b.role], {"projections": []}), b)
            continue
        projections = state.setdefault(ROLES[visual.type][b.role], {"projections": []})["projections"]
        columns_before = sum(1 for p in projections if "active" in p)
        active = columns_before == 0 if visual.type in DRILL_TYPES and b.kind == "column" else None
        projections.append(projection(b, active, display_name(visual, b)))
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
    if "parameter" in visual.options and "selected" in visual.options:
        # Desktop saves a field parameter slicer's selection on the hidden fields column, by
        # the NAMEOF text of each field ('Table'[Field])
        ref["Column"]["Property"] = f"{b.table} Fields"
        names = visual.options["parameter_fields"]
        values = [[literal(names[str(v).lower()])["expr"]] for v in visual.options["selected"]]
        return {"filter": {"Version": 2, "From": [{"Name": "s", "Entity": b.table, "Type": 0}],
                           "Where": [{"Condition": {"In": {"Expressions": [ref], "Values": values}}}]}}
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
    if visual.title and visual.type not in TITLED_BY_FIELD:
        body["visualContainerObjects"] = {"title": [{"properties": {
            "show": literal(True), "text": literal(visual.title)}}]}
    body["drillFilterOtherVisuals"] = True
    return {
        "$schema": schema_url("visual"),
        "name": visual.name,
        "position": {"x": x, "y": y, "z": z, "height": height, "width": width, "tabOrder": z},
        "visual": body,
    }


def cell(visual: Visual) -> tuple[int, int]:
    """(column span, height) of a visual in the automatic layout."""
    if visual.type == "slicer":
        return SLICER_CELLS[visual.options.get("mode", "list")]
    return GRID.get(visual.type, DEFAULT_CELL)


def _rows(visuals: list[Visual]) -> list[list[Visual]]:
    """Consecutive visuals of one height share a row while their spans fit in 12 columns;
    a visual of another height starts a new row, so no row leaves a hole under a short visual."""
    rows: list[list[Visual]] = []
    for v in visuals:
        span, height = cell(v)
        last = rows[-1] if rows else None
        if last and cell(last[0])[1] == height and sum(cell(x)[0] for x in last) + span <= 12:
            last.append(v)
        else:
            rows.append([v])
    return rows


def _widths(spans: list[int], usable: int) -> list[int]:
    """Pixel widths in proportion to the spans, filling the row exactly (no empty columns)."""
    free = usable - GAP * (len(spans) - 1)
    total, out, used = sum(spans), [], 0
    for i, span in enumerate(spans):
        edge = round(free * sum(spans[:i + 1]) / total)
        out.append(edge - used)
        used = edge
    return out


def _clear_of(fixed: list[tuple[int, int, int, int]], y: int, height: int) -> int:
    """The first y at or below `y` where a full-width row of `height` meets no explicit position."""
    moved = True
    while moved:
        moved = False
        for _, fy, _, fh in fixed:
            if fy < y + height and y < fy + fh:
                y, moved = fy + fh + GAP, True
    return y


def layout(page: Page) -> list[tuple[int, int, int, int]]:
    """Explicit positions where given (they reserve their band); the other visuals packed in
    full-width rows below and between them, in YAML order."""
    fixed = [v.position for v in page.visuals if v.position]
    placed: dict[str, tuple[int, int, int, int]] = {}
    y = MARGIN
    for row in _rows([v for v in page.visuals if not v.position]):
        height = cell(row[0])[1]
        y = _clear_of(fixed, y, height)
        x = MARGIN
        for v, width in zip(row, _widths([cell(v)[0] for v in row], page.width - 2 * MARGIN)):
            placed[v.name] = (x, y, width, height)
            x += width + GAP
        y += height + GAP
    return [v.position or placed[v.name] for v in page.visuals]


def page_height(page: Page, positions: list[tuple[int, int, int, int]]) -> int:
    bottom = max((y + h for _, y, _, h in positions), default=0)
    return max(page.height, bottom + MARGIN)


def display_option(height: int) -> str:
    """FitToPage shrinks a tall page until it fits the window (a 1088 px page opens at ~66 %)."""
    return "FitToPage" if height <= FIT_TO_PAGE_MAX_HEIGHT else "FitToWidth"


def report_json() -> dict[str, Any]:
    _, report_version = VERSIONS["report"]
    versions = {"visual": VERSIONS["visual"][1], "report": report_version, "page": VERSIONS["page"][1]}
    return {
        "$schema": schema_url("report"),
        "themeCollection": theme.theme_collection(versions),
        "resourcePackages": theme.resource_packages(),
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
        **{path: dumps(content) for path, content in theme.theme_files().items()},
        "definition/version.json": dumps({"$schema": schema_url("version"), "version": "2.0.0"}),
        "definition/report.json": dumps(report_json()),
    }
    order = [p.id for p in model.pages]
    files["definition/pages/pages.json"] = dumps({"$schema": schema_url("pages"), "pageOrder": order,
                                                  "activePageName": order[0] if order else ""})
    for page in model.pages:
        positions = layout(page)
        height = page_height(page, positions)
        files[f"definition/pages/{page.id}/page.json"] = dumps({
            "$schema": schema_url("page"), "name": page.id, "displayName": page.name,
            "displayOption": display_option(height), "height": height, "width": page.width})
        picked = field_parameters.picked(page)
        for z, (visual, pos) in enumerate(zip(page.visuals, positions)):
            column_type = _first_column_type(model, visual)
            visual = field_parameters.with_selection(visual, picked)
            files[f"definition/pages/{page.id}/visuals/{visual.name}/visual.json"] = dumps(
                visual_json(visual, pos, z, column_type))
    # an imported report's raw PBIR (semantic/pbir/): pages and visuals the YAML cannot express,
    # byte-for-byte, in place of (or beside) the generated ones
    files.update({f"definition/{rel}": text for rel, text in model.report_passthrough.items()})
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
