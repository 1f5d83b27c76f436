"""The one canonical TMDL writer: Desktop's conventions (tabs, property order, quoting).

Conventions follow files Power BI Desktop saved (../shared/pbip-samples) and
../shared/docs/pbip-format.md §4: one tab per level, `///` descriptions, measures before
columns, Desktop's column property order, multi-line expressions one level deeper than
the object's properties, partition M two levels deeper. lineageTags are UUIDv5 of the
object's path, so a rebuild never churns them.
"""
from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import PurePath, PureWindowsPath

from generator.spec.model import (CalculatedColumn, Column, Culture, Hierarchy, Measure, Model, Perspective,
                                  Relationship, Table, Translation)

NAMESPACE = uuid.UUID("6f1c1e0e-7b7a-5d2f-9d63-2f0c6a1b9e11")
COMPATIBILITY_LEVEL = 1600
# DAX user-defined functions need 1702 (learn.microsoft.com/dax/best-practices/dax-user-defined-functions);
# TOM refuses a `function` below it. Only models with functions get it, so the others do not change.
FUNCTIONS_COMPATIBILITY_LEVEL = 1702
TMDL_TYPES = {"string": "string", "int64": "int64", "double": "double", "decimal": "decimal",
              "boolean": "boolean", "date": "dateTime", "datetime": "dateTime"}
M_TYPES = {"string": "type text", "int64": "Int64.Type", "double": "type number", "decimal": "Currency.Type",
           "boolean": "type logical", "date": "type date", "datetime": "type datetime"}
# Where Desktop looks for the Parquet files when the build ran elsewhere (CI, Linux, a Mac).
DEFAULT_DATA_FOLDER = "C:\\pbi-forge\\powerbi\\data\\"
_SIMPLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def lineage_tag(*path: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(path)))


def quote(name: str) -> str:
    """TMDL object name: quoted with single quotes unless it is a plain identifier."""
    return name if _SIMPLE_NAME.match(name) else "'" + name.replace("'", "''") + "'"


def text_value(value: str) -> str:
    """A one-line text property; quoted only where TMDL would otherwise strip or misread it."""
    value = value.replace("\r", " ").replace("\n", " ")
    if value != value.strip() or (value.startswith('"') and value.endswith('"')):
        return '"' + value.replace('"', '""') + '"'
    return value


class TmdlWriter:
    """Accumulates lines with explicit indentation levels; tabs only."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def line(self, level: int, text: str = "") -> None:
        self.lines.append("\t" * level + text if text else "")

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def description(self, level: int, text: str | None) -> None:
        for part in (text or "").strip().splitlines():
            self.line(level, "/// " + part.strip() if part.strip() else "///")

    def expression(self, level: int, header: str, body: str, body_level: int, verbatim: bool = False) -> None:
        """`header = body` on one line, or `header =` with the body indented below it;
        `verbatim` (M kept from an imported model) keeps its blank lines."""
        lines = [ln.rstrip() for ln in body.strip("\n").splitlines() if ln.strip() or verbatim]
        if len(lines) == 1:
            self.line(level, f"{header} = {lines[0].strip()}")
            return
        self.line(level, f"{header} =")
        common = min(len(ln) - len(ln.lstrip(" ")) for ln in lines if ln)
        for ln in lines:
            self.line(body_level, ln[common:])

    def text(self) -> str:
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"


def database_tmdl(model: Model) -> str:
    w = TmdlWriter()
    w.line(0, "database")
    level = FUNCTIONS_COMPATIBILITY_LEVEL if model.functions else COMPATIBILITY_LEVEL
    w.line(1, f"compatibilityLevel: {level}")
    return w.text()


def model_tmdl(model: Model) -> str:
    w = TmdlWriter()
    w.description(0, model.description)
    w.line(0, "model Model")
    w.line(1, f"culture: {model.culture}")
    w.line(1, "defaultPowerBIDataSourceVersion: powerBI_V3")
    w.line(1, "discourageImplicitMeasures")
    w.line(1, f"sourceQueryCulture: {model.culture}")
    w.line(1, "dataAccessOptions")
    w.line(2, "legacyRedirects")
    w.line(2, "returnErrorValuesAsNull")
    w.blank()
    w.line(0, "annotation __PBI_TimeIntelligenceEnabled = 0")
    w.blank()
    order = ["DataFolder", *(t.name for t in model.tables
                             if not t.is_calculated and t.calculation_group is None)]  # Power Query queries only
    w.line(0, "annotation PBI_QueryOrder = " + json.dumps(order, ensure_ascii=False, separators=(",", ":")))
    w.blank()
    for t in model.tables:
        w.line(0, f"ref table {quote(t.name)}")
    w.blank()
    if model.roles:
        for r in model.roles:
            w.line(0, f"ref role {quote(r.name)}")
        w.blank()
    if model.perspectives:
        for p in model.perspectives:
            w.line(0, f"ref perspective {quote(p.name)}")
        w.blank()
    w.line(0, f"ref cultureInfo {model.culture}")
    for c in model.cultures:
        w.line(0, f"ref cultureInfo {c.name}")
    return w.text()


def role_tmdl(model: Model, role, dax_text: dict[tuple[str, str], str]) -> str:
    """One role file (definition/roles/<Role>.tmdl), as Desktop saves it."""
    w = TmdlWriter()
    w.description(0, role.description)
    w.line(0, f"role {quote(role.name)}")
    w.line(1, "modelPermission: read")
    filters = {p.table: p for p in role.tables}
    order = list(dict.fromkeys([*filters, *(h.table for h in role.hidden)]))
    for table in order:
        w.blank()
        p = filters.get(table)
        if p is None:
            w.line(1, f"tablePermission {quote(table)}")
        else:
            w.expression(1, f"tablePermission {quote(table)}",
                         dax_text.get(("role:" + role.name, p.table), p.expression), 3)
        # object-level security, as TOM writes it: the table's metadataPermission, then one
        # `columnPermission <Column> = none` per secured column
        hidden = [h for h in role.hidden if h.table == table]
        if any(h.column is None for h in hidden):
            w.line(2, "metadataPermission: none")
        for h in hidden:
            if h.column is not None:
                w.blank()
                w.line(2, f"columnPermission {quote(h.column)} = none")
    w.blank()
    w.line(1, f"annotation PBI_Id = {lineage_tag(model.name, 'role', role.name).replace('-', '')}")
    return w.text()


def culture_tmdl(model: Model) -> str:
    return f"cultureInfo {model.culture}\n"


def perspective_tmdl(model: Model, p: Perspective) -> str:
    """perspectives/<Name>.tmdl as TOM writes it: per table its measures, then columns,
    then hierarchies, each in model order, a blank line between entries."""
    w = TmdlWriter()
    w.description(0, p.description)
    w.line(0, f"perspective {quote(p.name)}")
    for table, names in p.tables:
        t = model.table(table)
        chosen = {n.lower() for n in names}
        w.blank()
        w.line(1, f"perspectiveTable {quote(t.name)}")
        entries = [("perspectiveMeasure", m.name) for m in model.measures if m.table == t.name]
        entries += [("perspectiveColumn", c.name) for c in t.all_columns]
        entries += [("perspectiveHierarchy", h.name) for h in t.hierarchies]
        for kind, name in entries:
            if name.lower() in chosen:
                w.blank()
                w.line(2, f"{kind} {quote(name)}")
    return w.text()


_TRANSLATION_ORDER = {"column": 0, "measure": 1, "hierarchy": 2}


def translated_culture_tmdl(model: Model, c: Culture) -> str:
    """cultures/<name>.tmdl: the `translations` block as TOM writes it, objects nested
    model > table > column/measure/hierarchy > level, tables in model order, then perspectives."""
    by_path = {tr.path: tr for tr in c.translations}
    w = TmdlWriter()
    w.line(0, f"cultureInfo {c.name}")
    w.line(1, "translations")
    w.line(2, "model Model")

    def props(level: int, tr: Translation | None) -> None:
        if tr is None:
            return
        for key, value in (("caption", tr.caption), ("description", tr.description), ("displayFolder", tr.folder)):
            if value is not None:
                w.line(level, f"{key}: {text_value(value)}")

    for t in model.tables:
        inner = sorted((tr.path for tr in c.translations if tr.path[:2] == ("table", t.name) and len(tr.path) == 4),
                       key=lambda path: (_TRANSLATION_ORDER[path[2]], _model_index(model, t, path[2], path[3])))
        if ("table", t.name) not in by_path and not inner:
            continue
        w.line(3, f"table {quote(t.name)}")
        props(4, by_path.get(("table", t.name)))
        for path in inner:
            w.line(4, f"{path[2]} {quote(path[3])}")
            props(5, by_path[path])
            if path[2] == "hierarchy":
                h = next(h for h in t.hierarchies if h.name == path[3])
                for lv in h.levels:
                    tr = by_path.get((*path, "level", lv.name))
                    if tr is not None:
                        w.line(5, f"level {quote(lv.name)}")
                        props(6, tr)
    for p in model.perspectives:
        tr = by_path.get(("perspective", p.name))
        if tr is not None:
            w.line(3, f"perspective {quote(p.name)}")
            props(4, tr)
    return w.text()


def _model_index(model: Model, t: Table, kind: str, name: str) -> int:
    names = {"column": [c.name for c in t.all_columns],
             "measure": [m.name for m in model.measures if m.table == t.name],
             "hierarchy": [h.name for h in t.hierarchies]}[kind]
    return names.index(name)


def m_string(value: str) -> str:
    """An M text literal: backslashes are literal, only `"` is escaped (doubled)."""
    return '"' + value.replace('"', '""') + '"'


def default_data_folder(out: PurePath, os_name: str | None = None) -> str:
    """DataFolder when neither --data-folder nor model.yaml names one.

    On Windows the build runs where Desktop will open the project, so the build's own
    absolute `data` folder (with Desktop's trailing backslash) makes the first Refresh work;
    elsewhere no Windows path is known and the documented default stays.
    """
    if (os_name or os.name) != "nt":
        return DEFAULT_DATA_FOLDER
    return str(PureWindowsPath(out) / "data") + "\\"


def expressions_tmdl(model: Model, data_folder: str) -> str:
    w = TmdlWriter()
    w.description(0, "Folder holding the Parquet files written by pbi-forge (end it with a backslash).")
    w.line(0, f"expression DataFolder = {m_string(data_folder)} meta [IsParameterQuery=true, Type=\"Text\", "
              "IsParameterQueryRequired=true]")
    w.line(1, f"lineageTag: {lineage_tag(model.name, 'expression', 'DataFolder')}")
    w.blank()
    w.line(1, "annotation PBI_ResultType = Text")
    return w.text()


def relationship_name(model: Model, r: Relationship) -> str:
    return lineage_tag(model.name, "relationship", r.from_table, r.from_column, r.to_table, r.to_column)


def relationships_tmdl(model: Model) -> str:
    w = TmdlWriter()
    for r in model.relationships:
        w.line(0, f"relationship {relationship_name(model, r)}")
        if r.cross_filter == "both":
            w.line(1, "crossFilteringBehavior: bothDirections")
        if r.many_to_many:  # as Desktop writes a many-to-many relationship
            w.line(1, "fromCardinality: many")
            w.line(1, "toCardinality: many")
        if not r.active:
            w.line(1, "isActive: false")
        w.line(1, f"fromColumn: {quote(r.from_table)}.{quote(r.from_column)}")
        w.line(1, f"toColumn: {quote(r.to_table)}.{quote(r.to_column)}")
        w.blank()
    return w.text()


def _summarize_by(c: Column | CalculatedColumn) -> str:
    explicit = getattr(c, "summarize_by", None)
    if explicit:
        return explicit
    return "none"


def _measure(w: TmdlWriter, model: Model, t: Table, m: Measure, dax: str) -> None:
    w.description(1, m.description)
    w.expression(1, f"measure {quote(m.name)}", dax, 3)
    if m.format:
        w.line(2, f"formatString: {text_value(m.format)}")
    if m.folder:
        w.line(2, f"displayFolder: {text_value(m.folder)}")
    w.line(2, f"lineageTag: {lineage_tag(model.name, 'table', t.name, 'measure', m.name)}")
    w.blank()


def _column(w: TmdlWriter, model: Model, t: Table, c: Column | CalculatedColumn, dax: str | None) -> None:
    w.description(1, c.description)
    if dax is None:
        w.line(1, f"column {quote(c.name)}")
    else:
        w.expression(1, f"column {quote(c.name)}", dax, 3)
    # a calculated table's own columns get their type from the expression at refresh, and
    # Desktop writes no dataType for them (they are CalculatedTableColumns in TOM)
    own = t.is_calculated and dax is None
    if not own:
        w.line(2, f"dataType: {TMDL_TYPES[c.type]}")
    if getattr(c, "key", False):
        w.line(2, "isKey")
    if c.hidden:
        w.line(2, "isHidden")
    fmt = c.format or ("Short Date" if c.type == "date" else "General Date" if c.type == "datetime" else None)
    if fmt:
        w.line(2, f"formatString: {text_value(fmt)}")
    if c.folder:
        w.line(2, f"displayFolder: {text_value(c.folder)}")
    w.line(2, f"lineageTag: {lineage_tag(model.name, 'table', t.name, 'column', c.name)}")
    if c.data_category:
        w.line(2, f"dataCategory: {c.data_category}")
    w.line(2, f"summarizeBy: {_summarize_by(c)}")
    if own:
        w.line(2, "isNameInferred")
        w.line(2, f"sourceColumn: [{c.name}]")
    elif dax is None:
        w.line(2, f"sourceColumn: {c.name}")
    sort_by = getattr(c, "sort_by", None)
    if sort_by:
        target = t.column(sort_by)
        w.line(2, f"sortByColumn: {quote(target.name if target else sort_by)}")
    w.blank()
    w.line(2, "annotation SummarizationSetBy = " + ("User" if getattr(c, "summarize_by", None) else "Automatic"))
    if c.type == "date":
        w.blank()
        w.line(2, "annotation UnderlyingDateTimeDataType = Date")
    w.blank()


def _hierarchy(w: TmdlWriter, model: Model, t: Table, h: Hierarchy) -> None:
    w.description(1, h.description)
    w.line(1, f"hierarchy {quote(h.name)}")
    if h.hidden:
        w.line(2, "isHidden")
    if h.folder:
        w.line(2, f"displayFolder: {text_value(h.folder)}")
    w.line(2, f"lineageTag: {lineage_tag(model.name, 'table', t.name, 'hierarchy', h.name)}")
    for lv in h.levels:
        w.blank()
        w.description(2, lv.description)
        w.line(2, f"level {quote(lv.name)}")
        w.line(3, f"lineageTag: {lineage_tag(model.name, 'table', t.name, 'hierarchy', h.name, lv.name)}")
        w.line(3, f"column: {quote(t.column(lv.column).name)}")  # type: ignore[union-attr]
    w.blank()


def partition_m(t: Table) -> str:
    """M that reads the table's Parquet file and pins every column's type."""
    types = ", ".join(f'{{"{c.name}", {M_TYPES[c.type]}}}' for c in t.columns)
    return "\n".join([
        "let",
        f'    Source = Parquet.Document(File.Contents(DataFolder & {m_string(t.name + ".parquet")})),',
        f'    #"Changed Type" = Table.TransformColumnTypes(Source, {{{types}}})',
        "in",
        '    #"Changed Type"',
    ])


def calculation_group_tmdl(model: Model, t: Table, dax_text: dict[tuple[str, str], str]) -> str:
    """A calculation group table as Desktop saves it: the `calculationGroup` with its items,
    the item column (sourceColumn Name, sorted by Ordinal) and the Ordinal column; no
    partition (TOM gives a calculation group table its calculationGroup source itself)."""
    g = t.calculation_group
    assert g is not None
    w = TmdlWriter()
    w.description(0, t.description)
    w.line(0, f"table {quote(t.name)}")
    w.line(1, f"lineageTag: {lineage_tag(model.name, 'table', t.name)}")
    w.blank()
    for m in model.measures:
        if m.table == t.name:
            _measure(w, model, t, m, dax_text.get((t.name, m.name), m.expression))
    w.line(1, "calculationGroup")
    w.line(2, f"precedence: {g.precedence}")
    for item in g.items:
        w.blank()
        w.description(2, item.description)
        w.expression(2, f"calculationItem {quote(item.name)}", dax_text.get((t.name, "item:" + item.name), item.expression), 4)
        w.line(3, f"ordinal: {item.ordinal}")
        if item.format_string:
            w.blank()
            w.expression(3, "formatStringDefinition",
                         dax_text.get((t.name, "format:" + item.name), item.format_string), 5)
    w.blank()
    name_col, ordinal_col = t.columns
    for c, source in ((name_col, "Name"), (ordinal_col, "Ordinal")):
        w.line(1, f"column {quote(c.name)}")
        w.line(2, f"dataType: {TMDL_TYPES[c.type]}")
        if c.hidden:
            w.line(2, "isHidden")
        if c.format:
            w.line(2, f"formatString: {text_value(c.format)}")
        w.line(2, f"lineageTag: {lineage_tag(model.name, 'table', t.name, 'column', c.name)}")
        w.line(2, "summarizeBy: none")
        w.line(2, f"sourceColumn: {source}")
        if c.sort_by:
            w.line(2, f"sortByColumn: {quote(c.sort_by)}")
        w.blank()
        w.line(2, "annotation SummarizationSetBy = Automatic")
        w.blank()
    return w.text()


def field_parameter_tmdl(model: Model, t: Table) -> str:
    """A field parameter's table exactly as Desktop saves it (pbip-samples RuiRomano__pbip-demo
    Model01 tables/Field Parameter.tmdl): no dataTypes (calculated table columns), sourceColumn
    [Value1..3], the shown column grouped by the fields column (relatedColumnDetails), the
    fields column marked by the ParameterMetadata extended property (version 3, kind 2), and
    the constructor as the partition's source, unformatted, as Desktop writes it."""
    shown, fields, order = t.columns
    w = TmdlWriter()
    w.description(0, t.description)
    w.line(0, f"table {quote(t.name)}")
    w.line(1, f"lineageTag: {lineage_tag(model.name, 'table', t.name)}")
    w.blank()

    def head(c: Column, source: str) -> None:
        w.line(1, f"column {quote(c.name)}")
        if c.hidden:
            w.line(2, "isHidden")
        if c.format:
            w.line(2, f"formatString: {text_value(c.format)}")
        w.line(2, f"lineageTag: {lineage_tag(model.name, 'table', t.name, 'column', c.name)}")
        w.line(2, f"summarizeBy: {c.summarize_by}")
        w.line(2, f"sourceColumn: [{source}]")
        if c.sort_by:
            w.line(2, f"sortByColumn: {quote(c.sort_by)}")
        w.blank()

    head(shown, "Value1")
    w.line(2, "relatedColumnDetails")
    w.line(3, f"groupByColumn: {quote(fields.name)}")
    w.blank()
    w.line(2, "annotation SummarizationSetBy = Automatic")
    w.blank()
    head(fields, "Value2")
    w.line(2, "extendedProperty ParameterMetadata =")
    for ln in ("{", '  "version": 3,', '  "kind": 2', "}"):
        w.line(4, ln)
    w.blank()
    w.line(2, "annotation SummarizationSetBy = Automatic")
    w.blank()
    head(order, "Value3")
    w.line(2, "annotation SummarizationSetBy = Automatic")
    w.blank()
    w.line(1, f"partition {quote(t.name)} = calculated")
    w.line(2, "mode: import")
    w.expression(2, "source", t.expression or "", 4)
    w.blank()
    w.line(1, f"annotation PBI_Id = {lineage_tag(model.name, 'table', t.name).replace('-', '')}")
    return w.text()


def table_tmdl(model: Model, t: Table, dax_text: dict[tuple[str, str], str]) -> str:
    """One table file. `dax_text[(table, name)]` is the formatted DAX of each measure/calc column."""
    if t.calculation_group is not None:
        return calculation_group_tmdl(model, t, dax_text)
    if t.field_parameter is not None:
        return field_parameter_tmdl(model, t)
    w = TmdlWriter()
    w.description(0, t.description)
    w.line(0, f"table {quote(t.name)}")
    w.line(1, f"lineageTag: {lineage_tag(model.name, 'table', t.name)}")
    if t.is_date_table:  # after lineageTag, as Desktop and TOM write it (pbip-samples: Dim Date.tmdl)
        w.line(1, "dataCategory: Time")
    w.blank()
    for m in model.measures:
        if m.table == t.name:
            _measure(w, model, t, m, dax_text.get((t.name, m.name), m.expression))
    for c in t.columns:
        _column(w, model, t, c, None)
    for cc in t.calculated_columns:
        _column(w, model, t, cc, dax_text.get((t.name, cc.name), cc.expression))
    for h in t.hierarchies:
        _hierarchy(w, model, t, h)
    if t.is_calculated:
        # as Desktop writes a calculated table (pbip-format.md §4.6): the DAX is the source
        w.line(1, f"partition {quote(t.name)} = calculated")
        w.line(2, "mode: import")
        w.expression(2, "source", dax_text.get((t.name, None), t.expression), 4)
        return w.text()
    w.line(1, f"partition {quote(t.name)} = m")
    w.line(2, "mode: import")
    if t.source.kind == "external":
        w.expression(2, "source", t.source.m or "", 4, verbatim=True)
    else:
        w.expression(2, "source", partition_m(t), 4)
    w.blank()
    w.line(1, "annotation PBI_NavigationStepName = Navigation")
    w.blank()
    w.line(1, "annotation PBI_ResultType = Table")
    return w.text()


def functions_tmdl(model: Model, dax_text: dict[tuple[str, str], str]) -> str:
    """definition/functions.tmdl: one `function 'Name' = ( params ) => body` per model
    function, the definition two levels deeper when it spans lines, as TMDL writes an
    object's expression; `dax_text[("", name)]` is its formatted definition."""
    w = TmdlWriter()
    for f in model.functions:
        w.description(0, f.description)
        w.expression(0, f"function {quote(f.name)}", dax_text.get(("", f.name), f.expression), 2)
        w.line(1, f"lineageTag: {lineage_tag(model.name, 'function', f.name)}")
        w.blank()
    return w.text()


def semantic_model_files(model: Model, data_folder: str, dax_text: dict[tuple[str, str], str]) -> dict[str, str]:
    """Relative path (under <Name>.SemanticModel/definition) -> TMDL text."""
    files = {
        "database.tmdl": database_tmdl(model),
        "model.tmdl": model_tmdl(model),
        "expressions.tmdl": expressions_tmdl(model, data_folder),
        f"cultures/{model.culture}.tmdl": culture_tmdl(model),
    }
    if model.relationships:
        files["relationships.tmdl"] = relationships_tmdl(model)
    if model.functions:
        files["functions.tmdl"] = functions_tmdl(model, dax_text)
    for t in model.tables:
        files[f"tables/{t.name}.tmdl"] = table_tmdl(model, t, dax_text)
    for r in model.roles:
        files[f"roles/{r.name}.tmdl"] = role_tmdl(model, r, dax_text)
    for p in model.perspectives:
        files[f"perspectives/{p.name}.tmdl"] = perspective_tmdl(model, p)
    for c in model.cultures:
        files[f"cultures/{c.name}.tmdl"] = translated_culture_tmdl(model, c)
    return overlay(files, model.passthrough)


APPENDED = ("model.tmdl", "expressions.tmdl")  # generated objects first, then the kept ones


def overlay(files: dict[str, str], passthrough: dict[str, str]) -> dict[str, str]:
    """The model's verbatim TMDL (semantic/tmdl/) over the generated files: model.tmdl and
    expressions.tmdl gain the kept top-level objects (query groups, shared M expressions)
    after the generated ones; any other kept file (a table with a KPI, a perspective, a
    culture with translations) is written as it is, in place of a generated one."""
    out = dict(files)
    for rel, text in passthrough.items():
        out[rel] = out[rel].rstrip("\n") + "\n\n" + text if rel in APPENDED and rel in out else text
    return out
