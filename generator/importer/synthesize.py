"""`import --synthesize`: a synthetic-data spec for each table whose M is kept verbatim.

An imported table whose Power Query M reads a source pbi-forge cannot run (a database, a
web API, SharePoint, ...) reaches the engine with no rows, so no measure over it can be
checked. With --synthesize the importer derives, from what the TMDL says about the model,
a `synthetic:` spec next to the verbatim M (run by generator/synth/synthetic.py):

- a column on the one side of a relationship, or marked isKey, is `unique` (so the
  build's integrity check, Power BI's refresh rule, passes);
- a column on the many side of a relationship to another synthesized table `references`
  that column: it only draws keys that exist (no orphans), for inactive relationships too;
- a table with a unique date column on a one side is a date table: one row per day of the
  range; other dates fall in the same range, so facts land on calendar days;
- text is drawn from a small vocabulary (a few common column names have real-looking
  ones), numbers from a modest range, booleans half and half;
- row counts by role: dimensions small, facts larger (ROWS; edit `rows:` to override).

The TMDL partition still carries the original M (the TOM round trip is unchanged); the
rows exist for the engine only and every generated YAML says so in a comment.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from generator.importer.yaml_text import Commented

START, END = dt.date(2021, 1, 1), dt.date(2024, 12, 31)
# rows by role: a one side only (dimension), both a one and a many side (bridge, e.g. an
# order header), a many side only (fact), in no relationship (standalone)
ROWS = {"dimension": 50, "bridge": 500, "fact": 5000, "standalone": 100}
NOTE = ("SYNTHETIC rows, for pbi-forge's engine only (import --synthesize): the build writes\n"
        "generated stand-in data to Parquet so measures can be evaluated offline. Power BI never\n"
        "sees them: the TMDL partition keeps the M above, which the refresh runs. Edit rows: or a\n"
        "column's unique / references / range / values to change them (generator/synth/synthetic.py).")
VOCABULARIES = {
    "country": ["United States", "Canada", "United Kingdom", "Germany", "France", "Australia"],
    "continent": ["North America", "Europe", "Australia", "Asia"],
    "gender": ["Female", "Male"],
    "color": ["Black", "White", "Red", "Blue", "Silver", "Green"],
    "colour": ["Black", "White", "Red", "Blue", "Silver", "Green"],
    "city": ["Seattle", "Toronto", "London", "Berlin", "Paris", "Sydney"],
    "category": ["Audio", "Computers", "Cameras", "Home Appliances", "Games"],
    "currency code": ["USD", "EUR", "GBP", "CAD", "AUD"],
    "currencycode": ["USD", "EUR", "GBP", "CAD", "AUD"],
    "status": ["Open", "Closed", "Restructured"],
    "channel": ["Online", "Store", "Reseller", "Marketplace"],
    "region": ["North", "South", "East", "West"],
    "quarter": ["Q1", "Q2", "Q3", "Q4"],
    "month name": ["January", "February", "March", "April", "May", "June", "July", "August",
                   "September", "October", "November", "December"],
}
# int64 columns whose name says what they count: a plausible range instead of 1..100
INT_RANGES = {"year": [START.year, END.year], "month": [1, 12], "month number": [1, 12], "quarter": [1, 4],
              "day": [1, 28], "week": [1, 52], "week number": [1, 52], "day of week": [1, 7]}


@dataclass(frozen=True)
class Link:
    """One relationship's ends (many side → one side) and whether both sides may repeat."""

    many: tuple[str, str]
    one: tuple[str, str]
    active: bool
    many_to_many: bool


def plan(columns: dict[str, list[tuple[str, str, bool]]], links: list[Link]) -> dict[str, dict[str, Any]]:
    """The `synthetic:` spec of every table in `columns` (table → [(column, type, isKey)],
    the tables whose M is kept verbatim), from the model's relationships."""
    one_sides = {lk.one for lk in links if not lk.many_to_many and lk.one[0] in columns}
    many_sides = {lk.many[0] for lk in links if lk.many[0] in columns}
    types = {(t, c): typ for t, cols in columns.items() for c, typ, _ in cols}
    out = {}
    for table, cols in columns.items():
        unique = {c for c, _, key in cols if key or (table, c) in one_sides}
        is_one = any(t == table for t, _ in one_sides)
        date_key = next((c for c, typ, _ in cols if c in unique and typ in ("date", "datetime")), None)
        role = ("date" if date_key else "bridge" if table in many_sides else "dimension") if is_one else \
            "fact" if table in many_sides else "standalone"
        rows = (END - START).days + 1 if role == "date" else ROWS[role]
        specs: dict[str, Any] = {}
        for name, typ, _ in cols:
            target = _target(table, name, typ, links, types)
            if name in unique:
                specs[name] = {"unique": True, "start": START.isoformat()} if typ in ("date", "datetime") \
                    else {"unique": True}
            elif target is not None:
                specs[name] = {"references": _ref(*target)}
            elif role == "date" and date_format(name, typ) is not None:
                specs[name] = {"of": date_key, "format": date_format(name, typ)}
            else:
                specs[name] = _default(name, typ)
        out[table] = {"rows": rows, "role": role, "columns": specs}
    return out


def date_format(name: str, typ: str) -> str | None:
    """How a date table's column follows from its date, guessed from the name (English
    calendar vocabulary: Year, Month (Year), Quarter, Week Day, ...); None: no guess."""
    n = name.lower()

    def has(*words: str) -> bool:
        return any(w in n for w in words)

    weekday = has("week day", "weekday", "day of week", "dayofweek", "day name")
    if has("relative", "offset", "fiscal", "end", "week start"):  # relative to today, or a rule not in the name
        return None
    if typ in ("date", "datetime"):  # a period's first day
        return "%Y-%m-01" if has("month") else "%Y-01-01" if has("year") else None
    if typ == "int64":
        for test, fmt in ((has("year") and has("month"), "%Y%m"), (has("year") and has("quarter"), "%Y{Q}"),
                          (has("year") and has("semester"), "%Y{S}"), (has("year") and has("week"), "%G%V"),
                          (has("semester"), "{S}"), (has("quarter"), "{Q}"), (weekday, "%u"),
                          (has("week"), "%V"), (has("month"), "%m"), (has("year"), "%Y"), (has("day"), "%d")):
            if test:
                return fmt
        return None
    if typ == "string":
        for test, fmt in ((has("week") and has("year"), "W%V %G"), (weekday, "%A"),
                          (has("quarter") and has("year"), "Q{Q} %Y"), (has("quarter"), "Q{Q}"),
                          (has("semester") and has("year"), "S{S} %Y"), (has("semester"), "S{S}"),
                          (has("month") and has("year"), "%b %Y"), (has("month") and has("long", "name"), "%B"),
                          (has("month"), "%b"), (has("year"), "%Y"), (has("day"), "%d")):
            if test:
                return fmt
    return None


def _target(table: str, column: str, typ: str, links: list[Link],
            types: dict[tuple[str, str], str]) -> tuple[str, str] | None:
    """The synthesized one-side column this column's relationship points at (active first)."""
    for lk in sorted(links, key=lambda lk: not lk.active):
        if lk.many == (table, column) and lk.one in types and types[lk.one] == typ and lk.one[0] != table:
            return lk.one
    return None


def _default(name: str, typ: str) -> dict[str, Any]:
    key = name.strip().lower()
    if typ == "string":
        vocab = VOCABULARIES.get(key) or [f"{name} {k}" for k in range(1, 6)]
        return {"values": list(vocab)}
    if typ == "int64":
        return {"range": list(INT_RANGES.get(key, [1, 100]))}
    if typ in ("double", "decimal"):
        return {"range": [1.0, 1000.0]}
    if typ in ("date", "datetime"):
        return {"range": [START.isoformat(), END.isoformat()]}
    return {"values": [True, False]}  # boolean


def _ref(table: str, column: str) -> str:
    """Table[Column] as DAX writes it (a table name that is not an identifier in quotes),
    which generator/synth/synthetic.parse_ref reads back."""
    t = table if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table) else "'" + table.replace("'", "''") + "'"
    return f"{t}[{column}]"


def commented(spec: dict[str, Any]) -> Commented:
    """The spec as the YAML value of `source.synthetic`, with the note that it is synthetic."""
    return Commented(spec, (NOTE,))
