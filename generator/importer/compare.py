"""A model-level comparison of two TOM readings (TMSL JSON), for the import round trip.

Only what the round trip promises is compared (issue #12 item 2): tables; columns with
their kind and data type (and a calculated column's DAX); measures and their DAX;
partition sources (M verbatim, a calculated table's DAX); relationships (ends, active,
cross-filter direction, cardinalities); roles with their table filters; calculation
groups (precedence, items with expression, ordinal, format string); perspectives;
cultures (their translations and linguistic metadata). IDs (lineageTags, relationship
names, partition names) and Desktop's annotations are not: the build regenerates them.
DAX is compared as tokens (names case-insensitive where DAX is, layout ignored), so the
formatter's layout is not a difference but any changed token is.
"""
from __future__ import annotations

import json
from typing import Any

from generator.dax.errors import DaxSyntaxError, SourceText
from generator.dax.lexer import tokenize

EMPTY_CULTURE = {"translations": None, "linguisticMetadata": None}
_CASELESS = ("ident", "keyword", "quoted", "bracket", "name")


def dax_tokens(text: str | None) -> Any:
    """DAX as a tuple of (kind, value); a function, keyword or name matches in any case."""
    if text is None:
        return None
    try:
        tokens, _ = tokenize(SourceText(text))
    except DaxSyntaxError:
        return ("unparsed", " ".join(text.split()))
    return tuple((t.kind, t.value.upper() if t.kind != "string" else t.value) for t in tokens)


def m_text(text: str | list | None) -> str | None:
    if isinstance(text, list):  # TMSL writes a multi-line expression as a list of lines
        text = "\n".join(text)
    if text is None:
        return None
    return "\n".join(ln.rstrip() for ln in text.replace("\r\n", "\n").strip("\n").split("\n"))


def _expr(value: str | list | None) -> str | None:
    return "\n".join(value) if isinstance(value, list) else value


def _column(c: dict) -> dict:
    kind = c.get("type", "data")
    out = {"kind": kind}
    # TOM infers a calculated table's column types at refresh (pbi-forge writes none), and
    # so is a column's whose TMDL has no dataType: compared where the original states one
    if kind != "calculatedTableColumn" and c.get("dataType") is not None:
        out["dataType"] = c.get("dataType")
    if kind == "calculated":
        out["expression"] = dax_tokens(_expr(c.get("expression")))
    return out


def _partition(p: dict) -> dict:
    src = p.get("source", {})
    kind = src.get("type")
    if kind == "m":
        return {"type": "m", "expression": m_text(src.get("expression"))}
    if kind == "calculated":
        return {"type": "calculated", "expression": dax_tokens(_expr(src.get("expression")))}
    return {"type": kind}


def _calc_group(g: dict | None) -> dict | None:
    if g is None:
        return None
    items = {}
    for i in g.get("calculationItems", []):
        fmt = (i.get("formatStringDefinition") or {}).get("expression")
        items[i["name"]] = {"expression": dax_tokens(_expr(i.get("expression"))), "ordinal": i.get("ordinal"),
                            "format": dax_tokens(_expr(fmt))}
    return {"precedence": g.get("precedence", 0), "items": items}


def _table(t: dict) -> dict:
    return {
        "columns": {c["name"]: _column(c) for c in t.get("columns", []) if c.get("type") != "rowNumber"},
        "measures": {m["name"]: dax_tokens(_expr(m.get("expression"))) for m in t.get("measures", [])},
        "partitions": sorted((_partition(p) for p in t.get("partitions", [])
                              if p.get("source", {}).get("type") != "calculationGroup"), key=json.dumps),
        "calculationGroup": _calc_group(t.get("calculationGroup")),
    }


def _relationship(r: dict) -> tuple:
    return (r.get("fromTable"), r.get("fromColumn"), r.get("toTable"), r.get("toColumn"),
            r.get("isActive", True), r.get("crossFilteringBehavior", "oneDirection"),
            r.get("fromCardinality", "many"), r.get("toCardinality", "one"))


def _role(r: dict) -> dict:
    return {"modelPermission": r.get("modelPermission"),
            "tables": {p["name"]: dax_tokens(_expr(p.get("filterExpression")))
                       for p in r.get("tablePermissions", [])},
            "members": sorted(m.get("memberName", "") for m in r.get("members", []))}


def _perspective(p: dict) -> dict:
    return {t["name"]: {"columns": sorted(c["name"] for c in t.get("columns", [])),
                        "measures": sorted(m["name"] for m in t.get("measures", [])),
                        "hierarchies": sorted(h["name"] for h in t.get("hierarchies", []))}
            for t in p.get("tables", [])}


def summary(tmsl: dict) -> dict:
    """The compared parts of one model, as plain data."""
    model = tmsl.get("model", {})
    return {
        "tables": {t["name"]: _table(t) for t in model.get("tables", [])},
        "relationships": sorted(_relationship(r) for r in model.get("relationships", [])),
        "roles": {r["name"]: _role(r) for r in model.get("roles", [])},
        "perspectives": {p["name"]: _perspective(p) for p in model.get("perspectives", [])},
        "cultures": {c["name"]: {"translations": _by_name(c.get("translations")),
                                 "linguisticMetadata": c.get("linguisticMetadata")}
                     for c in model.get("cultures", [])},
    }


def _by_name(value: Any) -> Any:
    """Translations in a stable order: TOM lists them in the model's table order, which the
    rebuild does not keep (model.tmdl's `ref table` order is the YAML's)."""
    if isinstance(value, dict):
        return {k: _by_name(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_by_name(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    return value


def differences(original: dict, rebuilt: dict, path: str = "") -> list[str]:
    """Human-readable differences between two summaries (empty: they are equal)."""
    if isinstance(original, dict) and isinstance(rebuilt, dict):
        out = []
        for key in sorted(set(original) | set(rebuilt), key=str):
            where = f"{path}/{key}"
            if key not in rebuilt:
                out.append(f"{where}: missing after the round trip")
            elif key not in original:
                if key == "dataType" or (path == "/cultures" and rebuilt[key] == EMPTY_CULTURE):
                    # the rebuild states a type the original left to refresh; pbi-forge always
                    # writes the model's culture, an empty cultureInfo where the original had none  # stated by the rebuild where the original left it to refresh
                    continue
                out.append(f"{where}: added by the round trip")
            else:
                out += differences(original[key], rebuilt[key], where)
        return out
    if original != rebuilt:
        if isinstance(original, list) and isinstance(rebuilt, list):
            gone = [x for x in original if x not in rebuilt]
            new = [x for x in rebuilt if x not in original]
            return [f"{path}: only in the original {gone}; only after the round trip {new}"]
        return [f"{path}: {_short(original)} != {_short(rebuilt)}"]
    return []


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) < 200 else text[:200] + "…"
