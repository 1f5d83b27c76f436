"""Tables and matrices as cell grids: formatted text, totals, conditional formatting.

A table lists its rows in the visual's sort order with the grand total last; a matrix
nests its row levels (stepped, a subtotal on each parent row, the grand total last) and
puts a subtotal column after each column group. Background gradients come from the PBIR
`objects.values` FillRule (linearGradient2), over the visible non-total cells.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.preview.rows import Rows, column_name, label

MAX_ROWS = 500  # Power BI loads a table's rows in windows; the preview shows the first one


@dataclass(frozen=True)
class Cell:
    text: str
    kind: str = ""  # "" | "total" | "subtotal" | "header"; " num" appended for numbers
    style: str = ""
    indent: int = 0
    title: str = ""
    span: int = 1


@dataclass(frozen=True)
class Grid:
    header: tuple[tuple[Cell, ...], ...]
    body: tuple[tuple[Cell, ...], ...]
    note: str | None = None


def _gradients(objects: dict[str, Any]) -> dict[str, tuple[str, str, bool]]:
    """metadata "Table.Measure" -> (min colour, max colour, blank as zero)."""
    out = {}
    for item in objects.get("values", []):
        rule = (item.get("properties", {}).get("backColor", {}).get("solid", {}).get("color", {})
                .get("expr", {}).get("FillRule", {}).get("FillRule", {}).get("linearGradient2"))
        metadata = item.get("selector", {}).get("metadata")
        if not rule or not metadata:
            continue

        def color(key: str) -> str:
            return rule[key]["color"]["Literal"]["Value"].strip("'")

        strategy = rule.get("nullColoringStrategy", {}).get("strategy", {}).get("Literal", {}).get("Value", "")
        out[metadata.lower()] = (color("min"), color("max"), "asZero" in strategy)
    return out


def _mix(low: str, high: str, t: float) -> str:
    a = [int(low.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    b = [int(high.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    return "#" + "".join(f"{round(x + (y - x) * t):02X}" for x, y in zip(a, b))


def _painter(rows: Rows, objects: dict[str, Any], skip: list[bool]):
    """A function (measure binding name, raw value) -> CSS background, per gradient rule."""
    rules = _gradients(objects)
    ranges = {}
    for b in rows.role("Values"):
        rule = rules.get(f"{b.table}.{b.name}".lower())
        if b.kind != "measure" or rule is None:
            continue
        nums = [v if v is not None else (0.0 if rule[2] else None) for v in rows.numbers(b)]
        nums = [v for v, s in zip(nums, skip) if not s and v is not None]
        if nums:
            ranges[b.name] = (min(nums), max(nums), rule)

    def paint(name: str, value: float | None) -> str:
        if name not in ranges:
            return ""
        lo, hi, (c_lo, c_hi, as_zero) = ranges[name]
        if value is None:
            if not as_zero:
                return ""
            value = 0.0
        t = 0.0 if hi == lo else min(max((value - lo) / (hi - lo), 0.0), 1.0)
        return f"background:{_mix(c_lo, c_hi, t)}"

    return paint


def table_grid(rows: Rows, objects: dict[str, Any]) -> Grid:
    fields = rows.role("Values")
    total_flags = rows.flags("IsGrandTotalRowTotal") if any(b.kind == "column" for b in fields) else []
    n = len(rows.result["rows"])
    is_total = total_flags or [False] * n
    texts = {column_name(b): rows.text(b) for b in fields}
    paint = _painter(rows, objects, is_total)
    numbers = {column_name(b): rows.numbers(b) for b in fields if b.kind == "measure"}
    num = {column_name(b): " num" if rows.is_number(b) else "" for b in fields}
    header = (tuple(Cell(label(b), "header" + num[column_name(b)]) for b in fields),)
    body, total = [], None
    shown = 0
    for i in range(n):
        cells = []
        for j, b in enumerate(fields):
            text = texts[column_name(b)][i]
            if is_total[i] and b.kind == "column":
                text = "Total" if j == 0 else ""
            style = paint(b.name, numbers[column_name(b)][i]) if b.kind == "measure" and not is_total[i] else ""
            cells.append(Cell(text, ("total" if is_total[i] else "") + num[column_name(b)], style, title=text))
        if is_total[i]:
            total = tuple(cells)
        elif shown < MAX_ROWS:
            body.append(tuple(cells))
            shown += 1
    count = n - (1 if total else 0)
    note = f"first {MAX_ROWS:,} of {count:,} rows" if count > MAX_ROWS else None
    return Grid(header, tuple(body) + ((total,) if total else ()), note)


def matrix_grid(rows: Rows, objects: dict[str, Any]) -> Grid:
    row_fields, col_fields, measures = rows.role("Rows"), rows.role("Columns"), rows.role("Values")
    n = len(rows.result["rows"])
    r_flags = [rows.flags(f"IsGrandTotalRowTotal{i}") for i in range(len(row_fields))]
    c_flags = [rows.flags(f"IsGrandTotalColumnTotal{i}") for i in range(len(col_fields))]
    r_text = [rows.text(b) for b in row_fields]
    c_text = [rows.text(b) for b in col_fields]

    def key(texts, flags, i) -> tuple:
        # a level's value, or None where this row is that level's subtotal
        return tuple(None if f[i] else t[i] for t, f in zip(texts, flags))

    row_keys = list(dict.fromkeys(key(r_text, r_flags, i) for i in range(n)))
    col_keys = list(dict.fromkeys(key(c_text, c_flags, i) for i in range(n)))
    # subtotals precede their children in the query's order; Power BI shows column totals after them
    col_keys = _totals_last(col_keys)
    cells = {(key(r_text, r_flags, i), key(c_text, c_flags, i)): i for i in range(n)}
    texts = [rows.text(m) for m in measures]
    numbers = [rows.numbers(m) for m in measures]
    leaf = [all(not f[i] for f in r_flags) and all(not f[i] for f in c_flags) for i in range(n)]
    paint = _painter(rows, objects, [not x for x in leaf])

    corner = [Cell(" / ".join(label(b) for b in row_fields), "header")]
    header_rows = []
    for level in range(len(col_fields)):
        header_rows.append(tuple(corner if level == 0 else [Cell("", "header")]) + tuple(
            Cell(_col_title(ck, level), "header", span=len(measures)) for ck in col_keys))
    header_rows.append(tuple([Cell("" if col_fields else corner[0].text, "header")]) + tuple(
        Cell(label(m), "header") for _ in col_keys for m in measures))

    body = []
    ordered = _stepped(row_keys)
    shown = ordered if len(ordered) <= MAX_ROWS else ordered[:MAX_ROWS] + ordered[-1:]  # keep the grand total
    for rk in shown:
        depth = sum(1 for v in rk if v is not None)
        grand = depth == 0 and bool(row_fields)
        kind = "total" if grand else ("subtotal" if depth < len(row_fields) else "")
        first = Cell("Total" if grand else (rk[depth - 1] or "") if row_fields else "", kind,
                     indent=max(depth - 1, 0))
        line = [first]
        for ck in col_keys:
            i = cells.get((rk, ck))
            for m, (t, num) in enumerate(zip(texts, numbers)):
                text = "" if i is None else t[i]
                style = paint(measures[m].name, num[i]) if i is not None and leaf[i] else ""
                sub = kind or ("subtotal" if any(v is None for v in ck) else "")
                line.append(Cell(text, sub, style, title=text))
        body.append(tuple(line))
    note = f"first {MAX_ROWS:,} of {len(ordered):,} rows" if len(ordered) > MAX_ROWS else None
    return Grid(tuple(header_rows), tuple(body), note)


def _col_title(key: tuple, level: int) -> str:
    if all(v is None for v in key):
        return "Total" if level == 0 else ""
    value = key[level] if level < len(key) else None
    if value is None:
        return "Total" if key[level - 1] is not None and level > 0 else ""
    return value


def _totals_last(keys: list[tuple]) -> list[tuple]:
    """Column keys with each subtotal after the columns it sums, and the grand total last;
    siblings keep the query's (sorted) order."""
    first: dict[tuple, int] = {}
    for k in keys:
        for i in range(1, len(k) + 1):
            first.setdefault(k[:i], len(first))

    def place(k: tuple) -> tuple:
        out = []
        for i, v in enumerate(k):
            if v is None:  # this level's subtotal: after its siblings
                out.append((1, 0))
                break
            out.append((0, first[k[:i + 1]]))
        return tuple(out)

    return sorted(keys, key=place)


def _stepped(keys: list[tuple]) -> list[tuple]:
    """Row keys in stepped layout: each parent (its subtotal) before its children, grand total last."""
    grand = [k for k in keys if k and all(v is None for v in k)]
    rest = [k for k in keys if k not in grand]
    return rest + grand
