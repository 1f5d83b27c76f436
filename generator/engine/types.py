"""DAX data types and their DuckDB representation.

DAX has Int64 (Whole number), Double (Decimal number), Currency (Fixed decimal: a 64-bit
count of 1/10 000), Boolean, String and DateTime, plus BLANK, which is not a type but a
value of every type. The engine keeps BLANK as SQL NULL and re-creates DAX's BLANK rules
in `generator.engine.values` (see dax-semantics.md §1).
"""
from __future__ import annotations

from enum import Enum
from functools import lru_cache

from sqlglot import exp


class DaxType(Enum):
    INT = "Int64"
    DOUBLE = "Double"
    CURRENCY = "Currency"
    BOOL = "Boolean"
    TEXT = "String"
    DATETIME = "DateTime"
    BLANK = "Blank"  # the literal BLANK(): adopts the other operand's type
    VARIANT = "Variant"

    @property
    def numeric(self) -> bool:
        return self in (DaxType.INT, DaxType.DOUBLE, DaxType.CURRENCY, DaxType.BOOL, DaxType.BLANK)


NUMERIC = (DaxType.INT, DaxType.DOUBLE, DaxType.CURRENCY)

# model column type (generator.spec.model.COLUMN_TYPES) -> DAX type
MODEL_TYPES: dict[str, DaxType] = {
    "string": DaxType.TEXT,
    "int64": DaxType.INT,
    "double": DaxType.DOUBLE,
    "decimal": DaxType.CURRENCY,
    "boolean": DaxType.BOOL,
    "date": DaxType.DATETIME,
    "datetime": DaxType.DATETIME,
}

_SQL: dict[DaxType, str] = {
    DaxType.INT: "BIGINT",
    DaxType.DOUBLE: "DOUBLE",
    DaxType.CURRENCY: "DECIMAL(18,4)",
    DaxType.BOOL: "BOOLEAN",
    DaxType.TEXT: "VARCHAR",
    DaxType.DATETIME: "TIMESTAMP",
}


def sql_type(t: DaxType) -> exp.DataType:
    """A fresh DataType node (callers attach it to trees); parsed once per type, then copied
    (parsing the type name each time cost ~0.5 ms of a small query)."""
    return _parsed_type(_SQL.get(t, "VARCHAR")).copy()


@lru_cache(maxsize=None)
def _parsed_type(name: str) -> exp.DataType:
    return exp.DataType.build(name, dialect="duckdb")


def model_sql_type(model_type: str) -> str:
    if model_type == "date":
        return "DATE"
    return _SQL[MODEL_TYPES[model_type]]


def arith_type(op: str, a: DaxType, b: DaxType) -> DaxType:
    """Result type of `a op b` for + - * / (dax-semantics.md §1.5)."""
    if a is DaxType.BLANK:
        a = b if b is not DaxType.BLANK else DaxType.INT
    if b is DaxType.BLANK:
        b = a
    if a is DaxType.BOOL:
        a = DaxType.INT
    if b is DaxType.BOOL:
        b = DaxType.INT
    if DaxType.DATETIME in (a, b):
        if op == "-" and a is b:
            return DaxType.DATETIME
        if op in "+-":
            return DaxType.DATETIME
        return DaxType.DOUBLE
    if DaxType.TEXT in (a, b) or DaxType.VARIANT in (a, b):
        return DaxType.DOUBLE
    if op == "/":
        if a is DaxType.CURRENCY and b is DaxType.INT:
            return DaxType.CURRENCY
        return DaxType.DOUBLE
    if op == "*":
        if {a, b} == {DaxType.CURRENCY}:
            return DaxType.DOUBLE
        if DaxType.CURRENCY in (a, b):
            return DaxType.CURRENCY
    if DaxType.DOUBLE in (a, b):
        return DaxType.DOUBLE
    if DaxType.CURRENCY in (a, b):
        return DaxType.CURRENCY
    return DaxType.INT


def unify(types: list[DaxType]) -> DaxType:
    """One type for IF/SWITCH branches: mixed numeric branches become the widest one."""
    real = [t for t in types if t is not DaxType.BLANK]
    if not real:
        return DaxType.BLANK
    if all(t is real[0] for t in real):
        return real[0]
    if all(t in NUMERIC or t is DaxType.BOOL for t in real):
        if DaxType.DOUBLE in real:
            return DaxType.DOUBLE
        if DaxType.CURRENCY in real:
            return DaxType.CURRENCY
        return DaxType.INT
    return DaxType.VARIANT
