"""A TMDL culture (cultures/<name>.tmdl) → an entry of model.yaml `cultures:`.

A culture whose content is only translations the YAML can say (captions, descriptions and
display folders of tables, columns, measures, hierarchies and levels) becomes YAML; the
build writes it back as TOM's serializer would (emit/tmdl.translated_culture_tmdl), and the
TOM round trip compares the translations. Annotations on the culture become `#` notes
(TOM-level comparison leaves Desktop's annotations out). Anything else keeps the file
verbatim (the reason is returned): linguistic metadata (Q&A synonyms, a JSON document the
YAML has no place for), the model's own culture, perspective translations (perspectives are
kept verbatim, so the YAML cannot name them), another object kind or property.

Calculation items have no translations: TOM refuses `calculationItem` inside a culture's
table ("Unsupported object type - calculationItem is not a supported property in the current
context"); a calculation group's table and its column translate as any table's.
"""
from __future__ import annotations

from typing import Any

from generator.importer.tmdl_reader import Node

PROPS = {"caption": "caption", "description": "description", "displayFolder": "folder"}
KINDS = {"column": "columns", "measure": "measures", "hierarchy": "hierarchies"}


def _props(node: Node, allowed: set[str]) -> dict[str, str] | str:
    """The node's translated properties as YAML (a lone caption as a plain string), or
    a reason it cannot be said."""
    out = {}
    for p in node.props:
        if p.key not in allowed or p.value is None:
            return f"property {p.key} on {node.kind} {node.name}"
        out[PROPS[p.key]] = _text(p.value)
    return out


def _text(value: str) -> str:
    """A TMDL text value: quoted ("...", doubled quotes inside) or bare."""
    v = value.strip()
    if len(v) >= 2 and v[0] == v[-1] == '"':
        return v[1:-1].replace('""', '"')
    return v


def _short(props: dict[str, Any]) -> Any:
    return props["caption"] if list(props) == ["caption"] else props


def culture_yaml(culture: Node, model_culture: str) -> tuple[dict[str, Any] | None, list[str], str | None]:
    """(the YAML entry, notes, None) or (None, [], why the file stays verbatim)."""
    if (culture.name or "").lower() == model_culture.lower():
        return None, [], "the model's own culture"
    notes, tables = [], {}
    for child in culture.children:
        if child.kind == "annotation":
            notes.append(f"culture {culture.name}: not represented (TMDL): annotation {child.name}"
                         + (f" = {child.expression}" if child.expression else ""))
        elif child.kind != "translations":
            return None, [], f"{child.kind} in the culture"
    for block in culture.kids("translations"):
        for model in block.children:
            if model.kind != "model" or model.props:
                return None, [], f"{model.kind} translation"
            for t in model.children:
                if t.kind != "table":
                    return None, [], f"{t.kind} translation"
                entry = _table(t)
                if isinstance(entry, str):
                    return None, [], entry
                tables[t.name] = entry
    if not tables:
        return None, [], "no translations"
    return {"name": culture.name, "tables": tables}, notes, None


def _table(t: Node) -> dict[str, Any] | str:
    own = _props(t, {"caption", "description"})
    if isinstance(own, str):
        return own
    entry: dict[str, Any] = dict(own)
    for obj in t.children:
        key = KINDS.get(obj.kind)
        if key is None:
            return f"{obj.kind} translation in table {t.name}"
        props = _props(obj, set(PROPS))
        if isinstance(props, str):
            return props
        if obj.kind == "hierarchy":
            levels = {}
            for lv in obj.children:
                lp = _props(lv, set(PROPS)) if lv.kind == "level" else f"{lv.kind} in hierarchy {obj.name}"
                if isinstance(lp, str):
                    return lp
                levels[lv.name] = _short(lp)
            if levels:
                props = {**props, "levels": levels}
        elif obj.children:
            return f"{obj.children[0].kind} inside {obj.kind} {obj.name}"
        entry.setdefault(key, {})[obj.name] = _short(props) if "levels" not in props else props
    return entry
