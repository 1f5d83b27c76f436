"""What Power BI Desktop changed in a generated PBIP, as changes the YAML can take.

A file Desktop changed is one whose bytes differ from the last build's record
(`.pbi-forge-manifest.json`, emit/writer.py) and from what the current YAML builds; a
file with no record is compared with the build alone. Each such file is compared with
what the current YAML builds, object by object:

- `tables/<T>.tmdl`: measures added, or whose expression, format string, description or
  display folder changed. Desktop's random `lineageTag` and its `PBI_FormatHint`
  annotation are not compared (pbi-forge derives lineage tags from names).
- `pages/<p>/visuals/<v>/visual.json`: the visual moved or was resized (x, y, width, height).
- `pages/<p>/page.json`: the page was renamed (displayName).
- a raw PBIR file the YAML keeps verbatim (semantic/pbir/): Desktop's new bytes.
- a new page (page.json in a new folder): a YAML page; its visuals and, if our writer would
  not write the same page.json, the page.json itself, kept as raw PBIR, as `import` does.
- a new visual.json on a page: kept as raw PBIR.
- `pages/pages.json`: new pages at the end of `pageOrder`; `activePageName` (the page Desktop
  had open) is not kept.

Anything else (a column, a relationship, a deleted file, a visual's formatting) is a
Problem naming the file, the object and what to do: nothing is guessed.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from generator.emit.paths import sha256
from generator.errors import Problem
from generator.importer.tmdl_reader import Node, parse_text, unquote
from generator.source import Pos

# measure properties the YAML holds (TMDL key -> YAML key); lineageTag is derived from names
MEASURE_PROPS = {"formatString": "format", "displayFolder": "folder"}
IGNORED_PROPS = {"lineageTag"}
IGNORED_ANNOTATIONS = {"PBI_FormatHint"}  # Desktop's hint for a measure without a format string
# model-level annotations Desktop writes about itself on save (its version, the preview
# features on, the Power Query pane's order): not the model; the build writes its own
DESKTOP_ANNOTATIONS = {"PBIDesktopVersion", "PBI_ProTooling", "PBI_QueryOrder", "__PBI_TimeIntelligenceEnabled"}
POSITION = ("x", "y", "width", "height")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,50}$")  # a PBIR page folder name


@dataclass(frozen=True)
class MeasureChange:
    table: str
    name: str
    added: bool
    values: dict  # YAML key -> new value (expression, format, description, folder); None: removed
    pos: Pos


@dataclass(frozen=True)
class VisualMove:
    page: str  # page id (folder)
    visual: str
    position: tuple[int, int, int, int]
    pos: Pos


@dataclass(frozen=True)
class PageRename:
    page: str
    name: str
    pos: Pos


@dataclass(frozen=True)
class NewPage:
    """A page Desktop added: a YAML page (name, id, order, size) whose visuals stay raw PBIR."""
    page: str
    name: str
    width: int
    height: int
    text: str  # page.json as Desktop saved it
    index: int  # its place in Desktop's pageOrder
    pos: Pos


@dataclass(frozen=True)
class KeepRaw:
    """A PBIR file written back byte-for-byte from semantic/pbir/<rel> (new, or Desktop's new bytes)."""
    rel: str  # relative to the report's definition/
    text: str
    added: bool


@dataclass
class FileDiff:
    rel: str  # relative to the output folder
    changes: list = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_text(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as fh:
        return fh.read()


def desktop_files(out: Path, name: str, built: dict[str, str], manifest: dict[str, str | None]) -> list[tuple[str, str]]:
    """(rel, state) of every model/report definition file Desktop changed: changed, added, deleted."""
    roots = (f"{name}.SemanticModel/definition/", f"{name}.Report/definition/")
    on_disk = {p.relative_to(out).as_posix() for root in roots if (out / root).is_dir()
               for p in (out / root).rglob("*") if p.is_file()}
    found = []
    for rel in sorted(on_disk | {r for r in built if r.startswith(roots)} | {r for r in manifest if r in built}):
        if not rel.startswith(roots) and rel in built and (out / rel).is_file() and manifest.get(rel) not in \
                (None, sha256(out / rel)) and built[rel].encode("utf-8") != (out / rel).read_bytes():
            found.append((rel, "changed"))  # another generated file (.platform, a dax/ file) changed
            continue
        if not rel.startswith(roots) or not rel.endswith((".tmdl", ".json")):
            continue
        path = out / rel
        if not path.is_file():
            if rel in manifest and rel in built:
                found.append((rel, "deleted"))
            continue
        digest = sha256(path)
        if manifest.get(rel) == digest:
            continue  # as the last build wrote it
        if rel in built:
            if built[rel].encode("utf-8") != path.read_bytes():
                found.append((rel, "changed"))
        elif rel not in manifest:
            found.append((rel, "added"))
    return found


def _shape(n: Node, skip_props: set[str] = frozenset()) -> tuple:
    """A node without positions or raw text: what Desktop could have changed."""
    return (n.kind, n.name, n.expression, n.description,
            tuple((p.key, p.value) for p in n.props if p.key not in skip_props),
            tuple(_shape(c, skip_props) for c in n.children))


def measure_values(m: Node) -> dict:
    values = {"expression": (m.expression or "").strip(), "description": m.description}
    for key, ykey in MEASURE_PROPS.items():
        raw = m.prop(key)
        values[ykey] = unquote(raw) if raw is not None else None
    return values


def measure_extras(m: Node) -> tuple:
    """What a measure holds beyond the YAML's keys (compared as a whole)."""
    props = tuple((p.key, p.value) for p in m.props if p.key not in MEASURE_PROPS and p.key not in IGNORED_PROPS)
    kids = tuple(_shape(c) for c in m.children
                 if not (c.kind == "annotation" and c.name in IGNORED_ANNOTATIONS))
    return props, kids


def table_diff(out: Path, rel: str, built_text: str) -> FileDiff:
    diff = FileDiff(rel)
    path = out / rel
    desktop = parse_text(path, read_text(path)).nodes
    ours = parse_text(path, built_text).nodes
    if len(desktop) != 1 or len(ours) != 1 or desktop[0].kind != "table" or desktop[0].name != ours[0].name:
        diff.problems.append(Problem(Pos(str(path), 1, 1), "the file no longer holds the one table the YAML "
                                     "builds there; the merge maps new and changed measures only",
                                     "make the change in semantic/tables/*.yaml, then build with --force"))
        return diff
    d, o = desktop[0], ours[0]
    d_rest = [c for c in d.children if c.kind != "measure"]
    o_rest = [c for c in o.children if c.kind != "measure"]
    if _shape_all(d_rest) != _shape_all(o_rest) or _props(d) != _props(o) or d.description != o.description:
        where = _first_difference(d, o, d_rest, o_rest, path)
        diff.problems.append(Problem(where, f"table '{d.name}' changed beyond its measures (a column, partition, "
                                            "hierarchy or table property): the merge cannot map that",
                                     f"make the change in the YAML of table '{d.name}', then build with --force"))
    ours_by_name = {m.name: m for m in o.kids("measure")}
    desktop_names = {m.name for m in d.kids("measure")}
    for m in d.kids("measure"):
        theirs = measure_values(m)
        base = ours_by_name.get(m.name)
        if measure_extras(m) != (measure_extras(base) if base is not None else ((), ())):
            diff.problems.append(Problem(m.pos, f"measure [{m.name}] has properties the YAML cannot hold "
                                                f"({_extras_text(m)})",
                                         "remove them in Desktop, or keep the table as verbatim TMDL "
                                         f"(semantic/tmdl/tables/{Path(rel).name})"))
            continue
        if base is None:
            diff.changes.append(MeasureChange(d.name, m.name, True, theirs, m.pos))
            continue
        mine = measure_values(base)
        changed = {k: v for k, v in theirs.items() if v != mine[k]}
        if changed:
            diff.changes.append(MeasureChange(d.name, m.name, False, changed, m.pos))
    for name in ours_by_name:
        if name not in desktop_names:
            diff.problems.append(Problem(Pos(str(path), 1, 1), f"measure [{name}] of '{d.name}' was deleted in "
                                                               "Desktop: the merge does not delete YAML",
                                         f"delete [{name}] from measures/*.yaml, then build with --force"))
    return diff


def _props(n: Node) -> tuple:
    return tuple((p.key, p.value) for p in n.props)


def _shape_all(nodes: list[Node]) -> tuple:
    return tuple(_shape(n) for n in nodes)


def _first_difference(d: Node, o: Node, d_rest: list[Node], o_rest: list[Node], path: Path) -> Pos:
    for a, b in zip(d_rest, o_rest):
        if _shape(a) != _shape(b):
            return a.pos
    if len(d_rest) > len(o_rest):
        return d_rest[len(o_rest)].pos
    return d.pos


def _extras_text(m: Node) -> str:
    props, kids = measure_extras(m)
    names = [k for k, _ in props] + [c[0] + (f" {c[1]}" if c[1] else "") for c in kids]
    return ", ".join(names) or "none"


def model_diff(out: Path, rel: str, built_text: str) -> FileDiff:
    """model.tmdl: only Desktop's own annotations changed (its version, tooling flags)."""
    diff = FileDiff(rel)
    path = out / rel

    def kept(text: str) -> tuple:
        return tuple(_shape(n) for n in parse_text(path, text).nodes
                     if not (n.kind == "annotation" and n.name in DESKTOP_ANNOTATIONS))

    if kept(read_text(path)) == kept(built_text):
        diff.notes.append(f"{rel}: Desktop's own annotations ({', '.join(sorted(DESKTOP_ANNOTATIONS))}) are not "
                          "kept; the build writes its model.tmdl")
    else:
        diff.problems.append(Problem(Pos(str(path), 1, 1), "the model changed in Desktop (model.tmdl beyond "
                                                           "Desktop's own annotations): the merge cannot map that",
                                     "make the change in semantic/model.yaml, then build with --force"))
    return diff


def _json(path: Path, text: str) -> dict | None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _json_problem(path: Path, text: str) -> Problem:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return Problem(Pos(str(path), exc.lineno, exc.colno), f"not valid JSON: {exc.msg}")
    return Problem(Pos(str(path), 1, 1), "not a JSON object")


def _read_report_json(out: Path, rel: str, report_rel: str, built_text: str, raw: set[str]):
    """A PBIR file Desktop saved, next to what the build writes: (diff, path, Desktop's
    object, ours). Desktop's object is None when the file is kept raw or is not a JSON
    object; `diff` then already says so."""
    diff = FileDiff(rel)
    path = out / rel
    text = read_text(path)
    if report_rel in raw:
        diff.changes.append(KeepRaw(report_rel, text, False))
        return diff, path, None, None
    theirs = _json(path, text)
    if theirs is None:
        diff.problems.append(_json_problem(path, text))
        return diff, path, None, None
    return diff, path, theirs, json.loads(built_text)


def visual_diff(out: Path, rel: str, report_rel: str, built_text: str, raw: set[str]) -> FileDiff:
    diff, path, theirs, mine = _read_report_json(out, rel, report_rel, built_text, raw)
    if theirs is None:
        return diff
    page, visual = report_rel.split("/")[1], report_rel.split("/")[3]
    where = Pos(str(path), 1, 1)
    other = sorted(k for k in set(theirs) | set(mine) if k != "position" and theirs.get(k) != mine.get(k))
    if other:
        diff.problems.append(Problem(where, f"visual '{visual}' on page '{page}' changed beyond its position "
                                            f"({', '.join(other)}): the YAML cannot say that",
                                     f"make the change in the page's YAML (semantic/pages/), or pass --force to "
                                     "merge the rest and leave this file to the next build --force"))
        return diff
    pos, old = theirs.get("position", {}), mine["position"]
    moved = {k for k in set(pos) | set(old) if pos.get(k) != old.get(k)}
    if moved & {"z", "tabOrder"} or moved - set(POSITION) - {"z", "tabOrder"}:
        diff.problems.append(Problem(where, f"visual '{visual}' on page '{page}': its stacking or tab order "
                                            "(z, tabOrder) changed; the YAML's visual order is that order",
                                     "move the visual in the page's YAML list instead"))
        return diff
    if not all(isinstance(pos.get(k), (int, float)) and not isinstance(pos.get(k), bool) for k in POSITION) \
            or any(float(pos[k]) != int(pos[k]) for k in POSITION):
        diff.problems.append(Problem(where, f"visual '{visual}' on page '{page}' moved to a fractional position "
                                            f"({', '.join(f'{k}={pos.get(k)}' for k in POSITION)}); "
                                            "the YAML holds whole pixels",
                                     "snap it to whole pixels in Desktop (or edit the YAML position), then merge"))
        return diff
    diff.changes.append(VisualMove(page, visual, tuple(int(pos[k]) for k in POSITION), where))
    return diff


def page_diff(out: Path, rel: str, report_rel: str, built_text: str, raw: set[str]) -> FileDiff:
    diff, path, theirs, mine = _read_report_json(out, rel, report_rel, built_text, raw)
    if theirs is None:
        return diff
    page = report_rel.split("/")[1]
    other = sorted(k for k in set(theirs) | set(mine) if k != "displayName" and theirs.get(k) != mine.get(k))
    name = theirs.get("displayName")
    if other or not isinstance(name, str) or not name.strip():
        what = ", ".join(other) or "displayName"
        diff.problems.append(Problem(Pos(str(path), 1, 1), f"page '{page}' changed ({what}): the merge maps a "
                                                           "renamed page (displayName) only",
                                     "make the change in semantic/pages/*.yaml, then build with --force"))
        return diff
    diff.changes.append(PageRename(page, name, Pos(str(path), 1, 1)))
    return diff


def pages_json_diff(out: Path, rel: str, built_text: str, new_pages: list[str]) -> FileDiff:
    """Accepted: `activePageName` (the page Desktop had open) and the pages Desktop added,
    at the end of `pageOrder`; any other change of the order is refused."""
    diff = FileDiff(rel)
    path = out / rel
    text = read_text(path)
    theirs, mine = _json(path, text), json.loads(built_text)
    if theirs is None:
        diff.problems.append(_json_problem(path, text))
        return diff
    mine = {**mine, "pageOrder": [*mine.get("pageOrder", []), *new_pages]}
    if {k: v for k, v in theirs.items() if k != "activePageName"} == \
            {k: v for k, v in mine.items() if k != "activePageName"}:
        if theirs.get("activePageName") != mine.get("activePageName"):
            diff.notes.append(f"{rel}: the page Desktop had open (activePageName) is not kept; the build opens "
                              "the first page")
    else:
        diff.problems.append(Problem(Pos(str(path), 1, 1), "the page order (pageOrder) changed: the merge does not "
                                                           "reorder pages (new pages go last)",
                                     "set `order:` in semantic/pages/*.yaml, then build with --force"))
    return diff


def _page_order(out: Path, name: str) -> list[str]:
    path = out / f"{name}.Report/definition/pages/pages.json"
    doc = _json(path, read_text(path)) if path.is_file() else None
    order = doc.get("pageOrder") if doc else None
    return [str(x) for x in order] if isinstance(order, list) else []


def new_page_diff(out: Path, rel: str, page: str, order: list[str]) -> FileDiff:
    diff = FileDiff(rel)
    path = out / rel
    text = read_text(path)
    doc = _json(path, text)
    if doc is None:
        diff.problems.append(_json_problem(path, text))
        return diff
    name, width, height = doc.get("displayName"), doc.get("width", 1280), doc.get("height", 720)
    if not _ID.match(page) or not isinstance(name, str) or not name.strip() or \
            not all(isinstance(v, int) and not isinstance(v, bool) for v in (width, height)):
        diff.problems.append(Problem(Pos(str(path), 1, 1), f"new page '{page}': the YAML needs a folder name of "
                                                           "letters, digits, _ and -, a displayName and whole-pixel "
                                                           "width and height",
                                     "add the page to semantic/pages/ by hand, then build with --force"))
        return diff
    index = order.index(page) if page in order else len(order)
    diff.changes.append(NewPage(page, name, width, height, text, index, Pos(str(path), 1, 1)))
    return diff


def new_file_diff(out: Path, rel: str, report_rel: str | None, page_ids: set[str]) -> FileDiff:
    diff = FileDiff(rel)
    parts = report_rel.split("/") if report_rel else []
    if len(parts) == 5 and parts[0] == "pages" and parts[2] == "visuals" and parts[4] == "visual.json" \
            and parts[1] in page_ids:
        text = read_text(out / rel)
        if _json(out / rel, text) is None:
            diff.problems.append(_json_problem(out / rel, text))
        else:
            diff.changes.append(KeepRaw(report_rel, text, True))
        return diff
    diff.problems.append(Problem(Pos(str(out / rel), 1, 1), "a new file Desktop added: the merge maps new "
                                                            "measures, pages and visuals only",
                                 "add it to the YAML (or import the PBIP into a new project with "
                                 "`pbi-forge import`), then build with --force"))
    return diff


def deleted_diff(out: Path, rel: str) -> FileDiff:
    diff = FileDiff(rel)
    diff.problems.append(Problem(Pos(str(out / rel), 1, 1), "deleted in Desktop: the merge does not delete YAML",
                                 "delete the object from the YAML, then build with --force"))
    return diff


def diff_output(out: Path, name: str, built: dict[str, str], manifest: dict[str, str | None],
                raw: set[str], page_ids: set[str], tmdl_raw: set[str] = frozenset()) -> list[FileDiff]:
    """Every Desktop-changed file of `out`, compared with the current build (`built`);
    `raw` / `tmdl_raw`: the PBIR / TMDL files the YAML keeps verbatim (definition-relative)."""
    report = f"{name}.Report/definition/"
    model = f"{name}.SemanticModel/definition/"
    found = desktop_files(out, name, built, manifest)
    order = _page_order(out, name)
    # pages Desktop added (a page.json in a folder the YAML has no page for), in Desktop's order
    new_pages = sorted({rel.split("/")[-2] for rel, state in found if state == "added" and rel.startswith(report)
                        and len(rel[len(report):].split("/")) == 3 and rel.endswith("/page.json")
                        and rel.split("/")[-2] not in page_ids},
                       key=lambda p: (order.index(p) if p in order else len(order), p))
    diffs = []
    for rel, state in found:
        report_rel = rel[len(report):] if rel.startswith(report) else None
        parts = report_rel.split("/") if report_rel else []
        if state == "deleted":
            diffs.append(deleted_diff(out, rel))
        elif state == "added" and len(parts) == 3 and parts[1] in new_pages and parts[2] == "page.json":
            diffs.append(new_page_diff(out, rel, parts[1], order))
        elif state == "added":
            diffs.append(new_file_diff(out, rel, report_rel, page_ids | set(new_pages)))
        elif rel.startswith(model) and rel[len(model):] in tmdl_raw:
            d = FileDiff(rel)
            d.problems.append(Problem(Pos(str(out / rel), 1, 1),
                                      "changed in Desktop, and the project keeps this file as verbatim TMDL",
                                      f"copy Desktop's file over semantic/tmdl/{rel[len(model):]} (and the YAML "
                                      "that declares the table), then build"))
            diffs.append(d)
        elif rel == f"{model}model.tmdl":
            diffs.append(model_diff(out, rel, built[rel]))
        elif rel.startswith(f"{model}tables/"):
            diffs.append(table_diff(out, rel, built[rel]))
        elif len(parts) == 5 and parts[2] == "visuals":
            diffs.append(visual_diff(out, rel, report_rel, built[rel], raw))
        elif len(parts) == 3 and parts[2] == "page.json":
            diffs.append(page_diff(out, rel, report_rel, built[rel], raw))
        elif report_rel == "pages/pages.json":
            diffs.append(pages_json_diff(out, rel, built[rel], new_pages))
        else:
            d = FileDiff(rel)
            d.problems.append(Problem(Pos(str(out / rel), 1, 1),
                                      "changed since the last build (by Desktop or by hand): the merge maps "
                                      "measures, visual positions, page names and new pages and visuals only",
                                      "make the change in the YAML, then build with --force"))
            diffs.append(d)
    failed = [d for d in diffs if d.problems and any(isinstance(c, NewPage) for c in d.changes)]
    for d in diffs:
        if d.rel == f"{report}pages/pages.json" and failed:
            d.problems.append(Problem(Pos(str(out / d.rel), 1, 1), "the page order lists a new page the merge "
                                                                   f"cannot take ({failed[0].rel})"))
    return diffs
