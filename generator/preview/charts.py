"""Plotly figures (plain JSON, no plotly Python objects) for the chart visuals.

Plotly because its JS draws axes, legends, hover tooltips and pie/gauge shapes that a
hand-written SVG would need hundreds of lines for, and it ships inside its PyPI wheel, so
the pages stay offline. Figures are built as dicts and dumped with sorted keys: same rows,
same bytes. Hover text uses the engine's formatted values, never plotly's number formats.
"""
from __future__ import annotations

from typing import Any, Callable

from generator.preview.rows import Rows, label

Figure = dict[str, Any]


def _colors(theme: dict[str, Any]) -> list[str]:
    return list(theme.get("dataColors") or ["#118DFF", "#12239E", "#E66C37", "#6B007B"])


def _layout(theme: dict[str, Any], width: float, height: float, **extra: Any) -> dict[str, Any]:
    label_class = theme.get("textClasses", {}).get("label", {})
    font = {"family": "Segoe UI, Helvetica, Arial, sans-serif", "size": label_class.get("fontSize", 10) + 1,
            "color": theme.get("foreground", "#252423")}
    layout = {"width": max(int(width), 40), "height": max(int(height), 40), "font": font,
              "margin": {"l": 48, "r": 12, "t": 8, "b": 36}, "paper_bgcolor": "rgba(0,0,0,0)",
              "plot_bgcolor": "rgba(0,0,0,0)", "showlegend": False, "colorway": _colors(theme),
              "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "font": {"size": 10}},
              "hoverlabel": {"font": {"size": 11}}}
    layout.update(extra)
    return layout


def _date_axis(rows: Rows) -> bool:
    """One date Category field: a continuous date axis, as Power BI draws it."""
    cats = rows.role("Category")
    return len(cats) == 1 and rows.is_date(cats[0])


def _category_labels(rows: Rows) -> list[str]:
    """One label per row: the Category fields' formatted values (a hierarchy expanded, as
    Desktop's "expand all down" shows it); ISO dates on a date axis."""
    cats = rows.role("Category")
    if not cats:
        return [""] * len(rows.result["rows"])
    if _date_axis(rows):
        return ["" if v is None else str(v)[:10] for v in rows.values(cats[0])]
    parts = [rows.text(b) for b in cats]
    return [" ".join(p for p in ps if p) for ps in zip(*parts)]


def _hover(head: str, names: list[str]) -> str:
    """A tooltip: `head` (plotly placeholders), then one line per field with its formatted value."""
    lines = [f"{name}: %{{customdata[{i}]}}" for i, name in enumerate(names)]
    return "<br>".join([head, *lines]) + "<extra></extra>"


def _series_groups(rows: Rows) -> list[tuple[str | None, list[int]]]:
    """(legend value, row indexes) in first-appearance order; one group when there is no legend."""
    series = rows.role("Series")
    if not series:
        return [(None, list(range(len(rows.result["rows"]))))]
    names = rows.text(series[0])
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        groups.setdefault(name, []).append(i)
    return list(groups.items())


def category_chart(rows: Rows, theme: dict[str, Any], width: float, height: float) -> Figure:
    """Clustered column/bar, line and area: a trace per legend value, else per Y measure."""
    vtype = rows.visual.type
    labels = _category_labels(rows)
    categories = list(dict.fromkeys(labels))
    ys = rows.role("Y")
    tips = rows.role("Tooltips")
    tip_text = [rows.text(t) for t in tips]
    traces = []
    for series_name, idx in _series_groups(rows):
        for y in ys:
            numbers, text = rows.numbers(y), rows.text(y)
            by_cat = {labels[i]: i for i in idx}
            picked = [by_cat.get(c) for c in categories]
            values = [None if i is None else numbers[i] for i in picked]
            custom = [["" if i is None else text[i], *["" if i is None else t[i] for t in tip_text]] for i in picked]
            name = series_name if series_name is not None else label(y)
            axis = "%{y}" if vtype == "clusteredBarChart" else "%{x}"
            trace: dict[str, Any] = {"name": name, "customdata": custom, "meta": name,
                                     "hovertemplate": _hover(f"%{{meta}}<br>{axis}", [label(y), *map(label, tips)])}
            if vtype == "clusteredBarChart":
                trace.update(type="bar", orientation="h", x=values, y=categories)
            elif vtype == "clusteredColumnChart":
                trace.update(type="bar", x=categories, y=values)
            else:
                trace.update(type="scatter", mode="lines+markers" if len(categories) <= 60 else "lines",
                             x=categories, y=values, connectgaps=False)
                if vtype == "areaChart":
                    trace["fill"] = "tozeroy" if not traces else "tonexty"
            traces.append(trace)
    many = len(traces) > 1
    axis: dict[str, Any] = {"type": "date" if _date_axis(rows) else "category", "automargin": True,
                            "tickfont": {"size": 10}}
    if len(categories) > 24:
        axis["nticks"] = 12
    value_axis = {"gridcolor": theme.get("backgroundNeutral", "#C8C6C4"), "zeroline": False, "automargin": True,
                  "tickfont": {"size": 10}}
    if vtype == "clusteredBarChart":
        layout = _layout(theme, width, height, xaxis=value_axis, yaxis={**axis, "autorange": "reversed"},
                         barmode="group", showlegend=many)
    else:
        layout = _layout(theme, width, height, xaxis=axis, yaxis=value_axis, barmode="group", showlegend=many)
    return {"data": traces, "layout": layout}


def pie_chart(rows: Rows, theme: dict[str, Any], width: float, height: float) -> Figure:
    labels = _category_labels(rows)
    y = rows.role("Y")[0]
    tips = rows.role("Tooltips")
    custom = [list(c) for c in zip(rows.text(y), *[rows.text(t) for t in tips])]
    trace = {"type": "pie", "labels": labels, "values": rows.numbers(y), "sort": False, "direction": "clockwise",
             "customdata": custom, "meta": label(y), "textinfo": "percent", "textposition": "inside",
             "marker": {"colors": _colors(theme)[:len(labels)] if len(labels) <= len(_colors(theme)) else None},
             "hovertemplate": _hover("%{label}", [label(y), *map(label, tips)])}
    if rows.visual.type == "donutChart":
        trace["hole"] = 0.5
    layout = _layout(theme, width, height, showlegend=True, margin={"l": 8, "r": 8, "t": 8, "b": 8},
                     legend={"orientation": "v", "x": 1, "y": 0.5, "font": {"size": 10}})
    return {"data": [trace], "layout": layout}


def scatter_chart(rows: Rows, theme: dict[str, Any], width: float, height: float) -> Figure:
    x, y = rows.role("X")[0], rows.role("Y")[0]
    details = rows.role("Category")
    size = rows.role("Size")
    detail_text = rows.text(details[0]) if details else [""] * len(rows.result["rows"])
    xs, ys, xt, yt = rows.numbers(x), rows.numbers(y), rows.text(x), rows.text(y)
    sizes = rows.numbers(size[0]) if size else None
    traces = []
    for series_name, idx in _series_groups(rows):
        name = series_name if series_name is not None else label(y)
        trace = {"type": "scatter", "mode": "markers", "name": name,
                 "meta": name, "x": [xs[i] for i in idx], "y": [ys[i] for i in idx],
                 "text": [detail_text[i] for i in idx], "customdata": [[xt[i], yt[i]] for i in idx],
                 "marker": {"size": 6, "opacity": 0.75},
                 "hovertemplate": _hover("%{meta}<br>%{text}", [label(x), label(y)])}
        if sizes is not None:
            values = [sizes[i] or 0 for i in idx]
            top = max(values, default=0) or 1
            trace["marker"]["size"] = [4 + 20 * v / top for v in values]
        traces.append(trace)
    grid = theme.get("backgroundNeutral", "#C8C6C4")
    layout = _layout(theme, width, height, showlegend=len(traces) > 1,
                     xaxis={"title": {"text": label(x), "font": {"size": 10}}, "gridcolor": grid, "zeroline": False},
                     yaxis={"title": {"text": label(y), "font": {"size": 10}}, "gridcolor": grid, "zeroline": False},
                     margin={"l": 56, "r": 12, "t": 8, "b": 40})
    return {"data": traces, "layout": layout}


def gauge_chart(rows: Rows, theme: dict[str, Any], width: float, height: float) -> Figure:
    """Power BI's default gauge: 0 to twice the value unless Min/Max are bound; the target a line."""
    def first(role: str) -> float | None:
        bound = rows.role(role)
        values = rows.numbers(bound[0]) if bound else []
        return values[0] if values else None

    value, target = first("Y"), first("TargetValue")
    low = first("MinValue") or 0.0
    high = first("MaxValue")
    if high is None:
        high = 2 * max(value or 0.0, target or 0.0) or 1.0
    colors = _colors(theme)
    gauge: dict[str, Any] = {"axis": {"range": [low, high], "tickfont": {"size": 9}}, "bar": {"color": colors[0]},
                             "bgcolor": theme.get("backgroundLight", "#F3F2F1"), "borderwidth": 0}
    if target is not None:
        gauge["threshold"] = {"line": {"color": theme.get("foreground", "#252423"), "width": 3},
                              "thickness": 0.9, "value": target}
    trace = {"type": "indicator", "mode": "gauge", "value": value if value is not None else low, "gauge": gauge,
             "domain": {"x": [0, 1], "y": [0, 1]}}
    layout = _layout(theme, width, height, margin={"l": 24, "r": 24, "t": 16, "b": 8})
    return {"data": [trace], "layout": layout}


FIGURES: dict[str, Callable[[Rows, dict[str, Any], float, float], Figure]] = {
    "clusteredColumnChart": category_chart, "clusteredBarChart": category_chart, "lineChart": category_chart,
    "areaChart": category_chart, "pieChart": pie_chart, "donutChart": pie_chart, "scatterChart": scatter_chart,
    "gauge": gauge_chart,
}
