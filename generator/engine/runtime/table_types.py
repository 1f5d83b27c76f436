"""The DAX type of each column a calculated table's expression produces, compiled, not run.

Power BI types a calculated table's columns at refresh, from its expression, so Desktop's
TMDL has no `dataType` for them; an importer needs those types before there is any data.
The compiler knows each expression's type (`CompiledQuery.types`), so compiling every
calculated table in dependency order (calculated_tables.calculation_order) gives them,
with no connection and no rows. A table that reads another calculated table sees that
table typed as derived here, not as declared. A table whose expression does not compile
(an unsupported function, a reference error) gets its error instead of types, and the
tables reading it then see it as declared.
"""
from __future__ import annotations

from dataclasses import replace

from generator.engine.errors import DaxCompileError
from generator.errors import ForgeError
from generator.engine.runtime.calculated_tables import Step, calculation_order, compile_table, produced_columns
from generator.engine.schema import Schema
from generator.engine.types import DaxType
from generator.spec.model import Model

# a derived type as a model column type, for the tables compiled after it (date or datetime
# is the same DAX type, DateTime; Variant has no column type: those stay as declared)
_MODEL_TYPE = {DaxType.INT: "int64", DaxType.DOUBLE: "double", DaxType.CURRENCY: "decimal",
               DaxType.BOOL: "boolean", DaxType.TEXT: "string", DaxType.DATETIME: "datetime"}


def calculated_table_types(model: Model) -> dict[str, dict[str, DaxType] | ForgeError]:
    """Calculated table name → {declared column name → the DAX type its expression gives},
    or the compile error that stopped it. Columns whose type is BLANK (only BLANK()) or
    Variant (mixed branches) are left out: the expression does not decide them."""
    from generator.engine.compiler.query import Compiler

    out: dict[str, dict[str, DaxType] | ForgeError] = {}
    try:
        steps = [s for s in calculation_order(_all_calculated(Schema.create(model))) if s.column is None]
    except DaxCompileError as exc:  # a cycle or a syntax error: nothing is compiled
        return {t.name: exc for t in model.tables if t.is_calculated}
    for step in steps:
        schema = _all_calculated(Schema.create(model))
        try:
            types = _types(Compiler(schema), step)
        except ForgeError as exc:  # DaxCompileError, DaxUnsupportedError included
            out[step.table.name] = exc
            continue
        out[step.table.name] = types
        model = _retyped(model, step.table.name, types)
    return out


def _types(compiler, step: Step) -> dict[str, DaxType]:
    compiled = compile_table(compiler, step)
    produced = produced_columns(compiled, step.table)
    by_alias = {f"c{i}": t for i, t in enumerate(compiled.types)}
    out = {}
    for c in step.table.columns:
        hit = produced.get(c.name.lower())
        if hit is not None and by_alias[hit[1]] not in (DaxType.BLANK, DaxType.VARIANT):
            out[c.name] = by_alias[hit[1]]
    return out


def _all_calculated(schema: Schema) -> Schema:
    """The schema with every calculated column visible (their types are declared)."""
    for t in schema.model.tables:
        for c in t.calculated_columns:
            schema = schema.with_calculated(t, c.name)
    return schema


def _retyped(model: Model, table: str, types: dict[str, DaxType]) -> Model:
    def col(c):
        t = types.get(c.name)
        same = t is None or t is DaxType.DATETIME and c.type in ("date", "datetime")
        return c if same else replace(c, type=_MODEL_TYPE[t])

    tables = tuple(replace(t, columns=tuple(col(c) for c in t.columns)) if t.name == table else t
                   for t in model.tables)
    return replace(model, tables=tables)
