"""A PBIR report folder → page YAML, with raw PBIR kept byte-for-byte for what YAML cannot say.

Each page becomes semantic/pages/NN_<page>.yaml (its id, display name, order and size).
A visual becomes a YAML visual only when the YAML says all of it: a supported type
(spec/visuals.py ROLES), a position, and a query of plain column/measure projections with
no formatting, sort, filters or hidden (inactive) fields; a title is the one formatting
property kept. Every other visual, and every page.json with more than the YAML holds
(filters, drillthrough, formatting), is kept as raw PBIR under semantic/pbir/ and the
build writes those files back as they are (emit/pbir.py overlay). Nothing is dropped.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from generator.errors import ForgeError, Problem
from generator.importer.to_yaml import ImportResult, ref, slug
from generator.importer.yaml_text import dump
from generator.source import Pos
from generator.spec.visuals import ROLES, VISUAL_TYPES

_SHORT = {v: k for k, v in VISUAL_TYPES.items()}  # clusteredColumnChart -> column
_PAGE_KEYS = {"$schema", "name", "displayName", "displayOption", "height", "width"}
_CONTAINER_KEYS = {"$schema", "name", "position", "visual"}
_BODY_KEYS = {"visualType", "query", "drillFilterOtherVisuals", "visualContainerObjects"}
_ID = re.compile(r"^[A-Za-z0-9_-]{1,50}$")


@dataclass(frozen=True)
class Pages:
    visuals: int
    passthrough: int


def _read(path: Path) -> tuple[str, dict]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
        return text, json.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ForgeError(Problem(Pos(str(path), 1, 1), f"cannot read: {exc}")) from None
    except json.JSONDecodeError as exc:
        raise ForgeError(Problem(Pos(str(path), exc.lineno, exc.colno), f"not valid JSON: {exc.msg}")) from None


def _field(projection: dict) -> str | None:
    """`Table[Column]` / `Table[Measure]` of a plain projection, else None."""
    if set(projection) - {"field", "queryRef", "nativeQueryRef", "active", "displayName"} or \
            projection.get("active", True) is False or "displayName" in projection:
        return None
    field = projection.get("field", {})
    if len(field) != 1:
        return None
    kind, body = next(iter(field.items()))
    if kind not in ("Column", "Measure") or set(body) != {"Expression", "Property"}:
        return None
    entity = body["Expression"].get("SourceRef", {}).get("Entity")
    return ref(entity, body["Property"]) if entity else None


def _title(body: dict) -> tuple[bool, str | None]:
    """(the container formatting is only a shown title, its text)."""
    objects = body.get("visualContainerObjects")
    if objects is None:
        return True, None
    if set(objects) != {"title"} or len(objects["title"]) != 1:
        return False, None
    props = objects["title"][0].get("properties", {})
    if set(objects["title"][0]) != {"properties"} or set(props) - {"show", "text"}:
        return False, None
    try:
        text = props["text"]["expr"]["Literal"]["Value"]
        show = props.get("show", {"expr": {"Literal": {"Value": "true"}}})["expr"]["Literal"]["Value"]
    except (KeyError, TypeError):
        return False, None
    if show != "true" or not (text.startswith("'") and text.endswith("'")):
        return False, None
    return True, text[1:-1].replace("''", "'")


def yaml_visual(container: dict) -> dict | None:
    """The YAML form of a visual container, or None when the YAML cannot say all of it."""
    body = container.get("visual", {})
    vtype = body.get("visualType")
    if set(container) - _CONTAINER_KEYS or set(body) - _BODY_KEYS or vtype not in ROLES \
            or vtype == "slicer" or set(body.get("query", {})) - {"queryState"}:
        return None
    if not _ID.match(str(container.get("name", ""))):
        return None
    plain, title = _title(body)
    if not plain:
        return None
    keys = {}
    for key, role in ROLES[vtype].items():
        keys.setdefault(role, key)  # the first YAML key listed for each role
    out: dict = {"name": container["name"], "type": _SHORT.get(vtype, vtype)}
    if title is not None:
        out["title"] = title
    pos = container.get("position", {})
    if not all(isinstance(pos.get(k), (int, float)) for k in ("x", "y", "width", "height")) or \
            any(float(pos[k]) != int(pos[k]) for k in ("x", "y", "width", "height")):
        return None  # Desktop's fractional positions stay exact only as raw PBIR
    for role, state in body.get("query", {}).get("queryState", {}).items():
        fields = [_field(p) for p in state.get("projections", [])]
        if role not in keys or not fields or None in fields or set(state) != {"projections"}:
            return None
        out[keys[role]] = fields[0] if len(fields) == 1 else fields
    out["position"] = {k: int(pos[k]) for k in ("x", "y", "width", "height")}
    return out


def _z(path: Path) -> tuple[float, str]:
    try:
        z = float(_read(path)[1].get("position", {}).get("z", 0))
    except (ValueError, TypeError, AttributeError):
        z = 0.0
    return z, path.parent.name


def import_report(report: Path, result: ImportResult) -> Pages:
    pages_dir = report / "definition" / "pages"
    if not pages_dir.is_dir():
        if (report / "report.json").is_file() or (report / "definition" / "report.json").is_file():
            result.notes.append(f"report {report.name}: no PBIR pages folder (a legacy report.json layout); "
                                "its pages are not imported")
        return Pages(0, 0)
    order = []
    if (pages_dir / "pages.json").is_file():
        order = _read(pages_dir / "pages.json")[1].get("pageOrder", [])
    folders = sorted((p for p in pages_dir.iterdir() if (p / "page.json").is_file()),
                     key=lambda p: (order.index(p.name) if p.name in order else len(order), p.name))
    visuals = raw = 0
    for n, folder in enumerate(folders, start=1):
        text, page = _read(folder / "page.json")
        if not _ID.match(folder.name):
            raise ForgeError(Problem(Pos(str(folder / "page.json"), 1, 1),
                                     f"page folder name {folder.name!r} is not a PBIR page name (letters, digits, _ -)"))
        doc: dict = {"name": page.get("displayName", folder.name), "id": folder.name, "order": n,
                     "width": int(page.get("width", 1280)), "height": int(page.get("height", 720))}
        notes = []
        if set(page) - _PAGE_KEYS:
            result.files[f"semantic/pbir/pages/{folder.name}/page.json"] = text
            notes.append(f"page.json kept as raw PBIR in semantic/pbir/pages/{folder.name}/ "
                         f"({', '.join(sorted(set(page) - _PAGE_KEYS))})")
        yaml_visuals, kept = [], []
        # in z order: the YAML order is the stacking (and tab) order the build writes
        for _, vfile in sorted((_z(v), v) for v in folder.glob("visuals/*/visual.json")):
            visuals += 1
            vtext, container = _read(vfile)
            v = yaml_visual(container)
            if v is not None and v["name"] == vfile.parent.name:
                yaml_visuals.append(v)
                continue
            raw += 1
            rel = f"pages/{folder.name}/visuals/{vfile.parent.name}/visual.json"
            result.files[f"semantic/pbir/{rel}"] = vtext
            kept.append(f"{vfile.parent.name} ({container.get('visual', {}).get('visualType', '?')})")
        if kept:
            notes.append("visuals kept as raw PBIR (written back byte-for-byte): " + ", ".join(kept))
        doc["visuals"] = yaml_visuals
        result.notes += [f"page {doc['name']}: {x}" for x in notes]
        result.files[f"semantic/pages/{n:02d}_{slug(doc['name'])}.yaml"] = dump(doc, tuple(notes))
    return Pages(visuals, raw)
