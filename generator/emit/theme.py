"""pbi-forge's own report theme, registered the way Desktop registers a custom theme.

Desktop keeps two themes per report (../shared/docs/pbip-format.md §2.6): a *base* theme,
one of Microsoft's monthly themes bundled with Power BI (`SharedResources`), and an optional
*custom* theme laid over it, stored in the report as a `RegisteredResources` item of type
`CustomTheme`. We reference Microsoft's base theme by name only (Desktop ships it) and never
write a file under Microsoft's name; everything we style lives in our own custom theme, which
is complete in structure so the report looks the same whatever the base theme holds.

Sizes are chosen for the visuals pbi-forge lays out: 112 px cards take a 24 pt callout and an
11 pt label, titles are 12 pt, slicer headers 11 pt.
"""
from __future__ import annotations

from typing import Any

BASE_THEME = "CY26SU02"  # Microsoft's base theme of the pinned Desktop release (referenced, not shipped)
NAME = "pbi-forge"
RESOURCE = f"{NAME}.json"  # registered resource name and path: no spaces (pbip-format.md §9.8)

FONT = "Segoe UI"
FONT_BOLD = "Segoe UI Semibold"
FOREGROUND = "#252423"
SECONDARY = "#605E5C"

# Ten colours that stay apart for colour-blind readers, first the ones our charts use most.
DATA_COLORS = ["#1F6FB4", "#E07B28", "#2E9E6B", "#C0392B", "#7E57C2", "#8C6D31", "#D45D9E", "#5F6B73",
               "#17A2B8", "#B8B21F"]


def _chart(legend: str = "Top") -> dict[str, Any]:
    return {"*": {"legend": [{"show": True, "position": legend, "fontSize": 10}],
                  "categoryAxis": [{"showAxisTitle": True, "fontSize": 10}],
                  "valueAxis": [{"showAxisTitle": True, "fontSize": 10, "gridlineStyle": "dotted"}],
                  "general": [{"responsive": True}]}}


def visual_styles() -> dict[str, Any]:
    """Formatting defaults per visual type pbi-forge emits (`*` = every visual)."""
    return {
        "*": {"*": {"title": [{"show": True, "fontSize": 12, "fontColor": {"solid": {"color": FOREGROUND}},
                               "titleWrap": True}],
                    "background": [{"show": True, "transparency": 0}],
                    "border": [{"show": False}],
                    "wordWrap": [{"show": True}]}},
        "page": {"*": {"background": [{"color": {"solid": {"color": "#FFFFFF"}}, "transparency": 0}],
                       "outspace": [{"color": {"solid": {"color": "#F3F2F1"}}}]}},
        "card": {"*": {"labels": [{"fontSize": 24, "color": {"solid": {"color": FOREGROUND}}}],
                       "categoryLabels": [{"show": True, "fontSize": 11,
                                           "color": {"solid": {"color": SECONDARY}}}],
                       "wordWrap": [{"show": True}]}},
        "slicer": {"*": {"header": [{"show": True, "fontSize": 11, "fontColor": {"solid": {"color": FOREGROUND}}}],
                         "items": [{"fontSize": 10}],
                         "general": [{"responsive": True}]}},
        "gauge": {"*": {"labels": [{"show": True}]}},
        "clusteredColumnChart": _chart(),
        "clusteredBarChart": _chart(),
        "lineChart": _chart(),
        "scatterChart": _chart(),
        "pieChart": {"*": {"legend": [{"show": True, "position": "Right", "fontSize": 10}]}},
        "donutChart": {"*": {"legend": [{"show": True, "position": "Right", "fontSize": 10}]}},
        "pivotTable": {"*": {"columnHeaders": [{"wordWrap": True, "fontSize": 10}],
                             "rowHeaders": [{"wordWrap": True, "fontSize": 10}],
                             "values": [{"fontSize": 10}]}},
        "tableEx": {"*": {"columnHeaders": [{"wordWrap": True, "fontSize": 10}],
                          "values": [{"fontSize": 10}]}},
    }


def theme() -> dict[str, Any]:
    """The custom theme file, in Power BI's documented report-theme format."""
    return {
        "name": NAME,
        "dataColors": DATA_COLORS,
        "foreground": FOREGROUND, "foregroundNeutralSecondary": SECONDARY, "foregroundNeutralTertiary": "#B3B0AD",
        "background": "#FFFFFF", "backgroundLight": "#F3F2F1", "backgroundNeutral": "#C8C6C4",
        "tableAccent": DATA_COLORS[0],
        "good": "#2E9E6B", "neutral": "#B8B21F", "bad": "#C0392B",
        "maximum": DATA_COLORS[0], "center": "#B8B21F", "minimum": "#DCE9F5", "null": "#B3B0AD",
        "hyperlink": "#0F6CBD", "visitedHyperlink": "#0F6CBD",
        "textClasses": {
            "callout": {"fontSize": 24, "fontFace": FONT_BOLD, "color": FOREGROUND},
            "title": {"fontSize": 12, "fontFace": FONT_BOLD, "color": FOREGROUND},
            "header": {"fontSize": 11, "fontFace": FONT_BOLD, "color": FOREGROUND},
            "label": {"fontSize": 10, "fontFace": FONT, "color": FOREGROUND},
        },
        "visualStyles": visual_styles(),
    }


def theme_collection(versions: dict[str, str]) -> dict[str, Any]:
    """report.json `themeCollection`: Microsoft's base theme by name, ours as the custom theme."""
    return {
        "baseTheme": {"name": BASE_THEME, "reportVersionAtImport": versions, "type": "SharedResources"},
        "customTheme": {"name": RESOURCE, "reportVersionAtImport": versions, "type": "RegisteredResources"},
    }


def resource_packages() -> list[dict[str, Any]]:
    """Only what the report ships: our theme file under StaticResources/RegisteredResources."""
    return [{"name": "RegisteredResources", "type": "RegisteredResources",
             "items": [{"name": RESOURCE, "path": RESOURCE, "type": "CustomTheme"}]}]


def theme_files() -> dict[str, dict[str, Any]]:
    """Path under <Name>.Report -> JSON of the theme file(s) the report ships."""
    return {f"StaticResources/RegisteredResources/{RESOURCE}": theme()}
