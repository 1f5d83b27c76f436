"""DAX user-defined functions (UDFs): parameter types and the function call graph.

A UDF parameter is ``name [: [type] [subtype] [mode]] [= default]`` (learn.microsoft.com/
dax/function-statement-dax, learn.microsoft.com/dax/best-practices/dax-user-defined-functions):

* type: ANYVAL (scalar or table, the default), SCALAR, TABLE, or a reference type ANYREF,
  CALENDARREF, COLUMNREF, MEASUREREF, TABLEREF;
* subtype, only for SCALAR (a subtype alone implies SCALAR): BOOLEAN, DATETIME, DECIMAL,
  DOUBLE, INT64, NUMERIC, STRING, VARIANT;
* passing mode: VAL (evaluated once where the function is called, like a VAR; the
  default) or EXPR (the argument expression itself, evaluated wherever the body uses it).
  A reference is always passed as itself, so reference types are EXPR and reject VAL.

This module is the one place that knows those words; the parser validates with
`param_type`, the analysis and the engine read the resulting `ParamType`.
"""
from __future__ import annotations

from dataclasses import dataclass

VALUE_TYPES = ("ANYVAL", "SCALAR", "TABLE")
REF_TYPES = ("ANYREF", "CALENDARREF", "COLUMNREF", "MEASUREREF", "TABLEREF")
TYPES = VALUE_TYPES + REF_TYPES
SUBTYPES = ("BOOLEAN", "DATETIME", "DECIMAL", "DOUBLE", "INT64", "NUMERIC", "STRING", "VARIANT")
MODES = ("VAL", "EXPR")


@dataclass(frozen=True)
class ParamType:
    kind: str = "ANYVAL"
    subtype: str | None = None
    mode: str = "VAL"

    @property
    def is_ref(self) -> bool:
        return self.kind in REF_TYPES

    @property
    def lazy(self) -> bool:
        """Is the argument passed as an expression (EXPR or a reference)?"""
        return self.mode == "EXPR"


class ParamTypeError(ValueError):
    """A bad type hint; ``index`` is the offending word's position in the hint."""

    def __init__(self, message: str, index: int):
        super().__init__(message)
        self.index = index


def param_type(words: list[str] | tuple[str, ...] | None) -> ParamType:
    """The `ParamType` of a hint's upper-cased words, in the order type, subtype, mode."""
    words = list(words or ())
    kind = subtype = mode = None
    stage = 0  # 0: type may come, 1: subtype may come, 2: mode may come, 3: nothing more
    for i, word in enumerate(words):
        if word in TYPES and stage == 0:
            kind, stage = word, 1
        elif word in SUBTYPES and stage <= 1:
            if kind not in (None, "SCALAR"):
                raise ParamTypeError(f"the subtype {word} applies only to SCALAR parameters, not {kind}", i)
            kind, subtype, stage = "SCALAR", word, 2
        elif word in MODES and stage <= 2:
            mode, stage = word, 3
        else:
            raise ParamTypeError(_unexpected(word, stage), i)
    kind = kind or "ANYVAL"
    if kind in REF_TYPES:
        if mode == "VAL":
            raise ParamTypeError(f"a {kind} parameter is passed as a reference; it cannot be VAL", words.index("VAL"))
        mode = "EXPR"
    return ParamType(kind, subtype, mode or "VAL")


def _unexpected(word: str, stage: int) -> str:
    if word in TYPES + SUBTYPES + MODES:
        return f"'{word}' is out of place: write the type, then the subtype, then VAL or EXPR"
    expected = [TYPES, SUBTYPES, MODES][min(stage, 2):] if stage < 3 else []
    allowed = ", ".join(w for group in expected for w in group)
    return f"unknown parameter type word '{word}'" + (f" (expected one of {allowed})" if allowed else "")
