"""Types for a calculated table's columns, from its DAX expression (issue #12 follow-up).

Desktop writes no `dataType` for the columns of a calculated table: Power BI types them at
refresh, from the expression (GENERATESERIES gives Int64 or Double by its arguments,
CALENDAR DateTime, DATATABLE the declared types, ADDCOLUMNS/SELECTCOLUMNS the type of each
expression; https://learn.microsoft.com/power-bi/transform-model/desktop-calculated-tables).
Guessing string for them turned a whole-number parameter table (GENERATESERIES) into text,
and measures comparing it with numbers failed on the imported copy. An import has no data,
so the types come from compiling: the first draft of the YAML (string assumed) is loaded as
a project and each calculated table's expression is compiled by the reference engine
(engine/runtime/table_types.py), in dependency order; the importer then writes the YAML
again with those types. Where the expression cannot be typed (the draft does not load, an
unsupported function, a column of mixed or BLANK type) string stays, and the comment says why.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from generator.errors import ForgeError
from generator.importer.tmdl_reader import Document, unquote

# DAX type name (engine.types.DaxType.value) → YAML column type; DateTime is date or datetime by format
_YAML = {"Int64": "int64", "Double": "double", "Currency": "decimal", "Boolean": "boolean", "String": "string"}
_DATE_FORMATS = ("short date", "long date")

Typed = dict[tuple[str, str], tuple[str, str]]  # (table, column) → (YAML type, the `#` note saying how)


def untyped_columns(docs: tuple[Document, ...]) -> dict[tuple[str, str], str]:
    """(table, column) → its format string, lower case, for every column of a calculated table
    with no dataType and no expression of its own (what refresh types from the table's expression)."""
    out = {}
    for d in docs:
        for t in d.nodes:
            if t.kind != "table" or not any(p.expression == "calculated" for p in t.kids("partition")):
                continue
            for c in t.kids("column"):
                if c.prop("dataType") is None and c.expression is None:
                    out[(t.name, c.name)] = unquote(c.prop("formatString") or "").lower()
    return out


def expression_types(docs: tuple[Document, ...], files: dict[str, str], fallback: str) -> Typed:
    """The type of each untyped calculated-table column, from the draft import `files`
    (relative path → text); `fallback` is the note of the string assumed when there is none."""
    wanted = untyped_columns(docs)
    if not wanted:
        return {}
    try:
        derived = _compile(files)
    except ForgeError as exc:
        why = f"its table's expression was not typed: the draft import does not load ({_first_line(exc)})"
        return {k: ("string", f"{fallback} ({why})") for k in wanted}
    out: Typed = {}
    for (table, column), fmt in sorted(wanted.items()):
        found = derived.get(table)
        if found is None:
            out[(table, column)] = ("string", f"{fallback} (its table's expression was not typed)")
        elif isinstance(found, Exception):
            out[(table, column)] = ("string", f"{fallback} (its table's expression was not typed: "
                                              f"{_first_line(found)})")
        elif column not in found:
            out[(table, column)] = ("string", f"{fallback} (its expression gives it no single type: "
                                              "only BLANK, or branches of different types)")
        else:
            dax = found[column].value
            typ = _YAML.get(dax) or ("date" if fmt in _DATE_FORMATS else "datetime")
            out[(table, column)] = (typ, f"no dataType in the TMDL (typed at refresh): {typ}, "
                                         f"the type ({dax}) of its table's expression")
    return out


def _compile(files: dict[str, str]) -> dict:
    """Calculated table → {column → DaxType} or its compile error, for the draft project."""
    from generator.engine import calculated_table_types
    from generator.spec import load_project

    with tempfile.TemporaryDirectory(prefix="pbi-forge-import-types-") as tmp:
        root = Path(tmp)
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, "utf-8")
        model = load_project(root)
    return calculated_table_types(model)


def _first_line(exc: Exception) -> str:
    """The short reason an error gives: an unsupported function's name, else its first line."""
    what = getattr(exc, "what", None)
    if what:
        return f"{what} is not supported by the engine"
    problems = getattr(exc, "problems", None)
    text = problems[0].message if problems else str(exc)
    return text.split("\n")[0][:100]
