"""The preview's files: index.html, one <page id>.html per report page, preview.css,
preview.js and plotly.min.js (copied from the plotly wheel: no CDN, works offline).

Everything is a pure function of the built report and the engine's values, so the same
build gives byte-identical files; files whose bytes did not change are not rewritten.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from generator.engine.runtime.engine import Engine
from generator.engine.visuals import Selections
from generator.preview.report import PageDef, ReportDef
from generator.preview.views import ENV, TITLE_HEIGHT, page_views


def plotly_js() -> bytes:
    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()


def figures_json(figures: dict[str, Any]) -> str:
    """Sorted, compact, and safe inside a <script> element."""
    text = json.dumps(figures, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/")


def _theme_helpers(theme: dict[str, Any]) -> dict[str, Callable[..., Any]]:
    classes = theme.get("textClasses", {})

    def font(name: str) -> str:
        face = classes.get(name, {}).get("fontFace", "Segoe UI")
        return f'"{face}", "Segoe UI", Helvetica, Arial, sans-serif'

    def size(name: str, default: int) -> int:
        return int(classes.get(name, {}).get("fontSize", default))

    def color(name: str) -> str:
        return classes.get(name, {}).get("color", theme.get("foreground", "#252423"))

    return {"font": font, "size": size, "color": color}


def static_files(theme: dict[str, Any]) -> dict[str, bytes]:
    return {
        "preview.css": ENV.get_template("preview.css.j2").render(theme=theme, **_theme_helpers(theme)).encode(),
        "preview.js": ENV.get_template("preview.js.j2").render().encode(),
        "plotly.min.js": plotly_js(),
    }


def render_index(engine: Engine, report: ReportDef, serve: bool = False, version: int = 0) -> str:
    return ENV.get_template("index.html.j2").render(report_name=engine.model.name, pages=report.pages,
                                                    serve=serve, version=version)


def render_page(engine: Engine, report: ReportDef, pdef: PageDef, serve: bool = False, version: int = 0,
                error: str | None = None, selections: Selections | None = None) -> str:
    page = next((p for p in engine.model.pages if p.id == pdef.id), None)
    views = page_views(engine, pdef, page, report.theme, selections)
    figures = {name: v.figure for name, v in views.items() if v.figure is not None}
    return ENV.get_template("page.html.j2").render(
        report_name=engine.model.name, page=pdef, pages=report.pages, views=views, figures=figures_json(figures),
        serve=serve, version=version, error=error, title_height=TITLE_HEIGHT)


def site_files(engine: Engine, report: ReportDef, on_page: Callable[[PageDef], None] | None = None) -> dict[str, bytes]:
    files = static_files(report.theme)
    files["index.html"] = render_index(engine, report).encode()
    for pdef in report.pages:
        files[f"{pdef.id}.html"] = render_page(engine, report, pdef).encode()
        if on_page:
            on_page(pdef)
    return files


def write_files(folder: Path, files: dict[str, bytes]) -> list[Path]:
    """Write the files that changed; the paths of all of them."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, data in sorted(files.items()):
        path = folder / name
        if not path.is_file() or path.read_bytes() != data:
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        out.append(path)
    return out
