"""The built PBIR report as the preview reads it: pages, visual positions, titles, theme.

Read from the emitted files, not recomputed from the YAML, so the preview shows what
Power BI Desktop will open (another layout or theme in the files shows up here as is).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import ForgeError


@dataclass(frozen=True)
class VisualDef:
    name: str
    type: str  # PBIR visualType
    x: float
    y: float
    z: int
    width: float
    height: float
    title: str | None
    objects: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class PageDef:
    id: str
    name: str  # displayName
    width: int
    height: int
    visuals: tuple[VisualDef, ...]


@dataclass(frozen=True)
class ReportDef:
    folder: Path
    pages: tuple[PageDef, ...]
    theme: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def page(self, page_id: str) -> PageDef | None:
        return next((p for p in self.pages if p.id == page_id), None)


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ForgeError(f"{path} is missing; run `python build.py` first") from None
    except json.JSONDecodeError as exc:
        raise ForgeError(f"{path}:{exc.lineno}:{exc.colno}: error: not valid JSON: {exc.msg}") from None


def find_report(out: Path, model_name: str) -> Path:
    """<out>/<Model>.Report, else the only *.Report folder there."""
    named = out / f"{model_name}.Report"
    if (named / "definition").is_dir():
        return named
    found = sorted(p for p in out.glob("*.Report") if (p / "definition").is_dir())
    if len(found) != 1:
        raise ForgeError(f"no built report in {out}; run `python build.py` first")
    return found[0]


def _literal(prop: dict[str, Any] | None) -> Any:
    """The value of a PBIR literal expression: 'text' -> text, 12L -> 12, true -> True."""
    value = ((prop or {}).get("expr") or {}).get("Literal", {}).get("Value")
    if not isinstance(value, str):
        return value
    if value.startswith("'") and value.endswith("'"):
        return value[1:-1].replace("''", "'")
    if value in ("true", "false"):
        return value == "true"
    return value


def _title(visual: dict[str, Any]) -> str | None:
    for item in visual.get("visualContainerObjects", {}).get("title", []):
        props = item.get("properties", {})
        if _literal(props.get("show")) is False:
            return None
        if "text" in props:
            return str(_literal(props["text"]))
    return None


def _visual(path: Path) -> VisualDef:
    doc = _json(path)
    pos = doc.get("position", {})
    body = doc.get("visual", {})
    return VisualDef(name=doc.get("name", path.parent.name), type=body.get("visualType", "unknown"),
                     x=pos.get("x", 0), y=pos.get("y", 0), z=int(pos.get("z", 0)), width=pos.get("width", 0),
                     height=pos.get("height", 0), title=_title(body), objects=body.get("objects", {}))


def _page(folder: Path) -> PageDef:
    doc = _json(folder / "page.json")
    visuals = tuple(sorted((_visual(p) for p in (folder / "visuals").glob("*/visual.json")),
                           key=lambda v: (v.z, v.name)))
    return PageDef(id=doc.get("name", folder.name), name=doc.get("displayName", folder.name),
                   width=int(doc.get("width", 1280)), height=int(doc.get("height", 720)), visuals=visuals)


def _theme(report: Path) -> dict[str, Any]:
    """The base theme, then the custom theme over it, as report.json registers them."""
    doc = _json(report / "definition" / "report.json")
    packages = doc.get("resourcePackages", [])
    theme: dict[str, Any] = {}
    collection = doc.get("themeCollection", {})
    for kind in ("baseTheme", "customTheme"):
        ref = collection.get(kind)
        if not ref:
            continue
        for package in packages:
            for item in package.get("items", []):
                if item.get("name") == ref.get("name") and package.get("type") == ref.get("type"):
                    path = report / "StaticResources" / package["name"] / item["path"]
                    if path.is_file():
                        theme.update(_json(path))
    return theme


def read_report(out: Path, model_name: str) -> ReportDef:
    report = find_report(out, model_name)
    definition = report / "definition"
    order = _json(definition / "pages" / "pages.json").get("pageOrder", [])
    pages = tuple(_page(definition / "pages" / pid) for pid in order if (definition / "pages" / pid).is_dir())
    return ReportDef(folder=report, pages=pages, theme=_theme(report))
