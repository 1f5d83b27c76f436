"""The relationship diagram as SVG, laid out without randomness.

Three columns of boxes: tables only on the many side of relationships (facts) on the
left, tables on the one side (dimensions) in the middle, tables in no relationship
(parameter and lookup tables) on the right; each column sorted by name. A line joins the
two columns of every relationship, labelled `*` and `1`; an inactive one is dashed and a
both-directions filter is marked `⇄`. Same model, same bytes.
"""
from __future__ import annotations

from html import escape

from generator.review.dictionary import Dictionary

BOX_W, BOX_H, GAP_Y, COL_X, TOP, FONT = 220, 36, 18, (20, 380, 680), 40, 13


def _table(ref: str) -> str:
    return ref.split("[", 1)[0]


def _column(ref: str) -> str:
    return ref.split("[", 1)[1][:-1]


def layout(d: Dictionary) -> dict[str, tuple[int, int]]:
    """Table name -> top-left corner of its box."""
    many = {_table(r.many) for r in d.relationships}
    one = {_table(r.one) for r in d.relationships}
    names = [t.name for t in d.tables]
    columns = (sorted(many - one, key=str.lower), sorted(one, key=str.lower),
               sorted((n for n in names if n not in many | one), key=str.lower))
    out = {}
    for x, col in zip(COL_X, columns):
        for i, name in enumerate(col):
            out[name] = (x, TOP + i * (BOX_H + GAP_Y))
    return out


def svg(d: Dictionary) -> str:
    pos = layout(d)
    rows = max((y for _, y in pos.values()), default=TOP) + BOX_H + 30
    width = COL_X[-1] + BOX_W + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{rows}" '
             f'viewBox="0 0 {width} {rows}" font-family="Segoe UI, Helvetica, Arial, sans-serif" '
             f'font-size="{FONT}" role="img" aria-label="{escape(d.model)} relationships">',
             f'<title>{escape(d.model)}: tables and relationships</title>',
             '<rect width="100%" height="100%" fill="#ffffff"/>',
             f'<text x="{COL_X[0]}" y="24" font-weight="bold">facts (many side)</text>',
             f'<text x="{COL_X[1]}" y="24" font-weight="bold">dimensions (one side)</text>',
             f'<text x="{COL_X[2]}" y="24" font-weight="bold">not related</text>']
    for r in d.relationships:
        (x1, y1), (x2, y2) = pos[_table(r.many)], pos[_table(r.one)]
        a, b = (x1 + BOX_W, y1 + BOX_H // 2), (x2, y2 + BOX_H // 2)
        dash = ' stroke-dasharray="6 4"' if not r.active else ""
        label = _column(r.many) + (" ⇄" if r.cross_filter == "both" else "")
        parts += [f'<line x1="{a[0]}" y1="{a[1]}" x2="{b[0]}" y2="{b[1]}" stroke="#5b6b7f" stroke-width="1.5"{dash}/>',
                  f'<text x="{a[0] + 6}" y="{a[1] - 4}" fill="#5b6b7f">*</text>',
                  f'<text x="{b[0] - 12}" y="{b[1] - 4}" fill="#5b6b7f">1</text>',
                  f'<text x="{(a[0] + b[0]) // 2}" y="{(a[1] + b[1]) // 2 - 4}" fill="#2b3b4f" '
                  f'text-anchor="middle" font-size="11">{escape(label)}</text>']
    for t in d.tables:
        x, y = pos[t.name]
        parts += [f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="4" fill="#eef3f8" stroke="#2b3b4f"/>',
                  f'<text x="{x + 10}" y="{y + 22}" font-weight="bold">{escape(t.name)}</text>',
                  f'<text x="{x + BOX_W - 10}" y="{y + 22}" text-anchor="end" fill="#5b6b7f" font-size="11">'
                  f'{escape(t.rows)} rows</text>']
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
