"""A review as a rich table (terminal), Markdown (a pull-request comment) or JSON.

All three show the same facts in the same order, so the Markdown golden file and the
JSON a bot reads never disagree with what a reviewer saw in the terminal.
"""
from __future__ import annotations

import io
import json
from typing import Any, Callable

from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from generator.review.change import Review
from generator.review.values import Row, Value, display


def show(value: Value) -> str:
    return f"({value.note})" if value.note else display(value.value)


def delta(row: Row) -> str:
    a, b = row.before, row.after
    numbers = all(isinstance(x.value, (int, float)) and not isinstance(x.value, bool) and not x.note for x in (a, b))
    if not row.moved:
        return ""
    if numbers:
        d = b.value - a.value
        return ("+" if d > 0 else "") + (f"{d:,}" if isinstance(d, int) else format(d, ",.10g"))
    return "changed"


def _group(row: Row) -> str:
    if row.group is None:
        return "Total"
    return str(row.group) if isinstance(row.group, int) else show(Value(row.group))  # a year, not 2,024


def _summary(r: Review) -> str:
    counts: dict[str, int] = {}
    for c in r.diff.changes:
        key = f"{c.kind} {c.status}"
        counts[key] = counts.get(key, 0) + 1
    parts = [f"{n} {k}" for k, n in counts.items()] or ["no model changes"]
    moved = sum(1 for row in r.rows if row.moved)
    return ", ".join(parts) + f"; {moved} of {len(r.rows)} values moved"


def _details(c) -> str:
    return "; ".join((*c.details, *(("DAX changed (diff below)",) if c.dax else ())))


def _value_columns(r: Review) -> list[str]:
    return ["measure", "reached through", *([r.by] if r.by else []), "before", "after", "change"]


def _value_cells(r: Review) -> list[list[str]]:
    because = {h.node.name: ", ".join(h.because) for h in r.reached if h.node.kind == "measure"}
    out, last = [], None
    for row in r.rows:
        first = row.measure != last
        last = row.measure
        out.append([f"[{row.measure}]" if first else "", because.get(row.measure, "") if first else "",
                    *([_group(row)] if r.by else []), show(row.before), show(row.after), delta(row)])
    return out


def _visual_cells(r: Review) -> list[list[str]]:
    return [[h.node.name, ", ".join(f"[{m}]" for m in h.measures), ", ".join(h.because)]
            for h in r.reached if h.node.kind == "visual"]


# ---------------------------------------------------------------- markdown


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return lines


def markdown(r: Review) -> str:
    lines = [f"### pbi-forge review: `{r.before}` → `{r.after}`", "", _summary(r), ""]
    if r.diff.changes:
        lines += _md_table(["change", "object", "name", "details"],
                           [[c.status, c.kind, c.name, _details(c)] for c in r.diff.changes])
        lines.append("")
    for c in r.diff.changes:
        if c.dax:
            lines += [f"#### {c.kind} `{c.name}`", "", "```diff", *c.dax, "```", ""]
    if r.rows:
        lines += [f"#### Values (data: {r.data})", ""]
        lines += _md_table(_value_columns(r), _value_cells(r))
        lines.append("")
    visuals = _visual_cells(r)
    if visuals:
        lines += ["#### Visuals reached", ""]
        lines += _md_table(["visual", "shows", "reached through"], visuals)
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------- json


def _value_json(v: Value) -> dict[str, Any]:
    return {"note": v.note} if v.note else {"value": v.value}


def as_json(r: Review) -> str:
    doc = {
        "before": r.before, "after": r.after, "data": r.data, "by": r.by, "moved": r.moved,
        "changes": [{"kind": c.kind, "name": c.name, "status": c.status, "details": list(c.details),
                     "dax": list(c.dax)} for c in r.diff.changes],
        "reached": [{"kind": h.node.kind, "name": h.node.name, "because": list(h.because),
                     "measures": list(h.measures)} for h in r.reached],
        "values": [{"measure": row.measure, "group": row.group, "before": _value_json(row.before),
                    "after": _value_json(row.after), "moved": row.moved} for row in r.rows],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


# ---------------------------------------------------------------- terminal


def _rich_table(title: str, header: list[str], rows: list[list[str]]) -> RichTable:
    table = RichTable(title=title, show_header=True, title_justify="left")
    for h in header:
        table.add_column(h)
    for row in rows:
        table.add_row(*[escape(c) for c in row])
    return table


def terminal(r: Review, color: bool = False) -> str:
    console = Console(width=160, record=True, file=io.StringIO())
    console.print(f"pbi-forge review: {escape(r.before)} -> {escape(r.after)}\n{escape(_summary(r))}")
    if r.diff.changes:
        console.print(_rich_table("model changes", ["change", "object", "name", "details"],
                                  [[c.status, c.kind, c.name, _details(c)] for c in r.diff.changes]))
    for c in r.diff.changes:
        if c.dax:
            console.print(f"{c.kind} {escape(c.name)}")
            for line in c.dax:
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
                console.print(f"[{style}]{escape(line)}[/{style}]")
    if r.rows:
        console.print(_rich_table(f"values (data: {r.data})", _value_columns(r), _value_cells(r)))
    if _visual_cells(r):
        console.print(_rich_table("visuals reached", ["visual", "shows", "reached through"], _visual_cells(r)))
    return console.export_text(styles=color)


RENDERERS: dict[str, Callable[[Review], str]] = {"table": terminal, "markdown": markdown, "json": as_json}


def render(r: Review, fmt: str, color: bool = False) -> str:
    if fmt not in RENDERERS:
        raise ValueError(f"unknown review format {fmt!r}; known: {', '.join(RENDERERS)}")
    return terminal(r, color) if fmt == "table" else RENDERERS[fmt](r)
