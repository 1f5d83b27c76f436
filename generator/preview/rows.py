"""One evaluated visual's rows with its bindings: the columns a view reads, by PBIR role.

Wraps `generator.engine.visuals.evaluate_visual` (shared with `build.py evaluate`) so each
view asks for "the Y measures" or "the Category columns", and gets formatted text from
the model's format strings.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import re

import pandas as pd

from generator.engine.runtime.engine import Engine
from generator.engine.visuals import Selections, evaluate_visual, shown_fields
from generator.preview.formatting import field_format, format_values
from generator.spec.model import Binding, Page, Visual
from generator.spec.visuals import ROLES

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T[\d:.]+)?$")


def column_name(b: Binding) -> str:
    """The result column SUMMARIZECOLUMNS gives a binding."""
    return f"[{b.name}]" if b.kind == "measure" else f"{b.table}[{b.name}]"


def label(b: Binding) -> str:
    """What Power BI shows for a field in headers and legends: the projection's displayName
    the PBIR writer emits (the YAML `label:`, else the name with underscores as spaces)."""
    return b.display_name


@dataclass
class Rows:
    engine: Engine
    visual: Visual
    result: dict[str, Any]
    _frame: pd.DataFrame | None = field(default=None, repr=False)

    @classmethod
    def evaluate(cls, engine: Engine, visual: Visual, page: Page, selections: Selections | None) -> "Rows":
        # a field parameter's binding becomes the fields its slicer selects (engine.visuals)
        shown = shown_fields(visual, page, selections)
        return cls(engine, shown, evaluate_visual(engine, shown, page, selections))

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = pd.DataFrame(self.result["rows"], columns=self.result["columns"], dtype=object)
        return self._frame

    def role(self, pbir_role: str) -> list[Binding]:
        """Bindings in a PBIR role (Category, Y, Series, ...), in YAML order, duplicates once."""
        roles = ROLES.get(self.visual.type, {})
        seen, out = set(), []
        for b in self.visual.bindings:
            if roles.get(b.role) == pbir_role and column_name(b) not in seen:
                seen.add(column_name(b))
                out.append(b)
        return out

    def values(self, b: Binding | str) -> list[Any]:
        name = column_name(b) if isinstance(b, Binding) else b
        match = next((c for c in self.result["columns"] if c.lower() == name.lower()), None)
        if match is None:
            return [None] * len(self.result["rows"])
        return self.frame[match].tolist()

    def numbers(self, b: Binding) -> list[float | None]:
        """The binding's values as floats for plotting; BLANK, NaN (JSON "nan") and text are None."""
        return [None if v is None or isinstance(v, str) else float(v) for v in self.values(b)]

    def text(self, b: Binding | str, values: list[Any] | None = None) -> list[str]:
        name = column_name(b) if isinstance(b, Binding) else b
        raw = self.values(b) if values is None else values
        fmt = field_format(self.engine.model, name)
        if raw and all(isinstance(v, str) and _ISO_DATE.match(v) for v in raw if v is not None) \
                and (self.is_date(name) or (name.startswith("[") and fmt)):
            raw = [None if v is None else pd.Timestamp(v) for v in raw]
        return format_values(self.engine, raw, fmt)

    def is_date(self, b: Binding | str) -> bool:
        name = column_name(b) if isinstance(b, Binding) else b
        if name.startswith("["):
            return False
        table, _, col = name.partition("[")
        t = self.engine.model.table(table)
        c = t.column(col.rstrip("]")) if t else None
        return bool(c and c.type in ("date", "datetime"))

    def is_number(self, b: Binding) -> bool:
        values = [v for v in self.values(b) if v is not None]
        return bool(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)

    def flags(self, name: str) -> list[bool]:
        return [bool(v) for v in self.values(f"[{name}]")]

    @property
    def sampled(self) -> bool:
        return bool(self.result.get("sampled"))

    @property
    def total_rows(self) -> int:
        return int(self.result.get("total_rows", len(self.result["rows"])))
