"""Field parameters from `semantic/field_parameters/*.yaml`.

Desktop stores a field parameter as a calculated table built from a table constructor,
one row per field: ("Shown name", NAMEOF(field), order), its columns Value1..Value3 named
'<name>', '<name> Fields' (hidden, with the ParameterMetadata extended property) and
'<name> Order' (hidden); see ../shared/pbip-samples RuiRomano__pbip-demo
Model01 tables/Field Parameter.tmdl. pbi-forge loads it as that calculated `Table` (so the
engine computes its rows from the same DAX) with `field_parameter` set, so a visual bound to
its column can be expanded into the fields a slicer picks
(learn.microsoft.com/power-bi/create-reports/power-bi-field-parameters).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from generator.source import ExprOrigin
from generator.spec.model import Binding, Column, FieldParameter, Measure, ParameterField, Source, Table
from generator.spec.yamlpos import PosDict

Add = Callable[..., None]


def files(semantic: Path) -> list[Path]:
    return sorted((semantic / "field_parameters").glob("*.yaml"))


def column_names(name: str) -> tuple[str, str, str]:
    """The shown, fields and order columns, named as Desktop names them."""
    return name, f"{name} Fields", f"{name} Order"


def _dax_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _nameof(f: ParameterField) -> str:
    """As Desktop writes the constructor: NAMEOF([Measure]) and NAMEOF('Table'[Column])."""
    name = f.field.replace("]", "]]")
    if f.kind == "measure":
        return f"NAMEOF([{name}])"
    return "NAMEOF('" + f.table.replace("'", "''") + f"'[{name}])"


def expression(fields: tuple[ParameterField, ...]) -> str:
    rows = ",\n".join(f"    ({_dax_string(f.name)}, {_nameof(f)}, {f.order})" for f in fields)
    return "{\n" + rows + "\n}"


def field_parameter_table(doc: PosDict, tables: dict[str, Table], measures: dict[str, Measure],
                          add: Add, parse_field_ref: Callable, measures_complete: bool = True) -> Table:
    """The calculated table of one field parameter file; problems go to `add(pos, message)`.
    `parse_field_ref` is the loader's; `measures_complete` False (a measures file failed):
    an unknown [name] may be one of its measures, so it is not reported again."""
    name = doc["name"]
    fields: list[ParameterField] = []
    seen: dict[str, object] = {}
    for i, item in enumerate(doc["fields"]):
        pos = item.value_pos["field"]
        if item["name"].lower() in seen:
            add(item.value_pos["name"], f"field parameter '{name}' lists the name '{item['name']}' twice")
            continue
        seen[item["name"].lower()] = pos
        ref = parse_field_ref(item["field"])
        if ref is None:
            add(pos, f"'{item['field']}' is not a field reference; write [Measure] or Table[Column]")
            continue
        table, field = ref
        m = measures.get(field.lower())
        if m is not None and (table is None or table.lower() == m.table.lower()):
            fields.append(ParameterField(item["name"], m.table, m.name, "measure", item.get("order", i), pos))
            continue
        t = tables.get((table or "").lower())
        c = t.column(field) if t is not None else None
        if c is None:
            if measures_complete or table is not None:
                add(pos, f"field parameter '{name}': {item['field']} is neither a measure nor a column of the model")
            continue
        fields.append(ParameterField(item["name"], t.name, c.name, "column", item.get("order", i), pos))
    shown, names, order = column_names(name)
    npos = doc.value_pos["name"]
    columns = (Column(shown, "string", npos, sort_by=order, summarize_by="none"),
               Column(names, "string", npos, hidden=True, sort_by=order, summarize_by="none"),
               Column(order, "int64", npos, hidden=True, format="0", summarize_by="sum"))
    text = expression(tuple(fields))
    return Table(name=name, source=Source("calculated", doc.pos), columns=columns, pos=doc.pos,
                 description=doc.get("description"), expression=text,
                 origin=ExprOrigin(npos.file, npos.line, npos.col),
                 field_parameter=FieldParameter(tuple(fields)))


def parameter_binding(b: Binding, t: Table) -> Binding:
    """A visual's binding to the parameter's shown column, as a field-parameter binding that
    carries the parameter's fields (each a binding of the same role)."""
    from dataclasses import replace

    assert t.field_parameter is not None
    fields = tuple(Binding(b.role, f.table, f.field, f.kind, b.pos, label=f.name)
                   for f in t.field_parameter.selected(None))
    return replace(b, kind="field_parameter", fields=fields)


def is_parameter_column(t: Table | None, column: str) -> bool:
    return t is not None and t.field_parameter is not None and column.lower() == t.name.lower()


def nameof_text(f: ParameterField) -> str:
    """What NAMEOF returns for the field, the value of the '<name> Fields' column:
    'Table'[Name] (learn.microsoft.com/dax/nameof-function-dax)."""
    return "'" + f.table.replace("'", "''") + "'[" + f.field + "]"


def slicer_options(t: Table) -> dict:
    """Options of a slicer on the parameter's column: its table and each field's NAMEOF
    text by shown name (Desktop saves the selection as a filter on '<name> Fields')."""
    assert t.field_parameter is not None
    return {"parameter": t.name,
            "parameter_fields": {f.name.lower(): nameof_text(f) for f in t.field_parameter.fields}}


def picked(page) -> dict[str, tuple]:
    """lower-case parameter table -> the names its slicers on `page` select (YAML `selected`)."""
    out: dict[str, tuple] = {}
    for v in page.visuals:
        if v.type == "slicer" and "parameter" in v.options and v.options.get("selected"):
            out[v.options["parameter"].lower()] = tuple(v.options["selected"])
    return out


def with_selection(visual, selected) -> object:
    """The visual with each field-parameter binding's fields narrowed to the selected names
    (`selected`: lower-case parameter table -> names; none for a table: all its fields)."""
    from dataclasses import replace

    bindings = []
    for b in visual.bindings:
        if b.kind == "field_parameter":
            names = selected.get(b.table.lower()) or ()
            chosen = {str(x).lower() for x in ((names,) if isinstance(names, str) else names)}
            b = replace(b, fields=tuple(f for f in b.fields if not chosen or (f.label or "").lower() in chosen))
        bindings.append(b)
    return replace(visual, bindings=tuple(bindings))


def expanded(visual) -> object:
    """The visual as the fields it shows: each field-parameter binding replaced by its fields."""
    from dataclasses import replace

    out = []
    for b in visual.bindings:
        out.extend(b.fields if b.kind == "field_parameter" else (b,))
    return replace(visual, bindings=tuple(out))
