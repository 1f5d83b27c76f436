"""Visual types: YAML names, PBIR visualType, and which YAML binding keys map to which role.

Role names come from Desktop-saved files and Microsoft's report CLI
(../shared/docs/pbip-format.md §6.1). A wrong role renders a blank visual without any
error in Desktop, so the loader rejects any binding key not listed for the type.
"""
from __future__ import annotations

# YAML shorthand -> PBIR visualType (PBIR names are accepted as they are).
VISUAL_TYPES = {"column": "clusteredColumnChart", "bar": "clusteredBarChart", "line": "lineChart",
                "scatter": "scatterChart", "matrix": "pivotTable", "table": "tableEx", "pie": "pieChart",
                "donut": "donutChart"}

_CHART = {"category": "Category", "values": "Y", "y": "Y", "legend": "Series", "tooltips": "Tooltips"}
# visualType -> {YAML binding key: PBIR role}
ROLES: dict[str, dict[str, str]] = {
    "card": {"field": "Values", "values": "Values"},
    "slicer": {"field": "Values", "values": "Values"},
    "gauge": {"values": "Y", "y": "Y", "field": "Y", "target": "TargetValue", "min": "MinValue", "max": "MaxValue"},
    "clusteredColumnChart": _CHART,
    "clusteredBarChart": _CHART,
    "lineChart": _CHART,
    "pieChart": _CHART,
    "donutChart": _CHART,
    "scatterChart": {"x": "X", "y": "Y", "details": "Category", "legend": "Series", "size": "Size",
                     "tooltips": "Tooltips"},
    "pivotTable": {"rows": "Rows", "columns": "Columns", "values": "Values"},
    "tableEx": {"values": "Values", "columns": "Values"},
}
# PBIR roles that must be bound for the visual to render.
REQUIRED: dict[str, tuple[str, ...]] = {
    "card": ("Values",), "slicer": ("Values",), "gauge": ("Y",), "clusteredColumnChart": ("Category", "Y"),
    "clusteredBarChart": ("Category", "Y"), "lineChart": ("Category", "Y"), "pieChart": ("Category", "Y"),
    "donutChart": ("Category", "Y"), "scatterChart": ("X", "Y"), "pivotTable": ("Values",), "tableEx": ("Values",),
}
# Roles that take one field at most.
SINGLE = {("card", "Values"), ("slicer", "Values"), ("gauge", "Y"), ("gauge", "TargetValue"),
          ("scatterChart", "X"), ("scatterChart", "Y"), ("scatterChart", "Category"), ("scatterChart", "Series"),
          ("pieChart", "Series"), ("donutChart", "Series")}
# Roles that take only columns (groupings) or only measures (values).
COLUMN_ROLES = {"Category", "Series", "Rows", "Columns"}
MEASURE_ROLES = {"Y", "X", "Size", "TargetValue", "MinValue", "MaxValue"}
