"""`pbi-forge import --merge [PATH] --project DIR`: Desktop's edits of a generated PBIP back into the YAML.

A build refuses to overwrite a generated file that Desktop re-saved (emit/writer.py), so
an edit made in Desktop would otherwise have to be retyped into the YAML. The merge reads
the Desktop-changed files (merge_diff.py), turns each change into a surgical text edit of
the YAML the user wrote (yaml_edit.py: every other byte, comment and blank line stays),
rebuilds the edited project in memory to check that it now produces what Desktop saved,
and only then writes the YAML and records the merged files in the build's manifest, so
the next `pbi-forge build` accepts them (and writes its canonical form of them).

- a measure Desktop added goes to the measures/*.yaml of its table (the one whose `folder:`
  is its display folder, else the last one; a new file only if the table has none);
- a measure's changed expression, format string, description or folder replaces the YAML value;
- a moved or resized visual gets `position:` in its page YAML; the visuals the automatic
  layout would then move are pinned where they are, so nothing else on the page moves;
- a renamed page gets its new `name:` (and `id:` of its folder, so the folder stays);
- a new visual on a page, and Desktop's new bytes of a raw PBIR file, go to semantic/pbir/.

Nothing is written unless every change maps; with `force` the changes that map are
merged and the others are listed, their files left for the next build to refuse (or to
overwrite with `build --force`).
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from generator.dax import DaxSyntaxError, format_dax
from generator.emit import journal, pbir, tmdl
from generator.emit.lock import build_lock
from generator.emit.paths import contained, sha256
from generator.emit.project import text_files
from generator.emit.writer import MANIFEST, manifest_text, read_manifest
from generator.atomic import write_text_atomic
from generator.errors import ForgeError, Problem
from generator.importer import yaml_edit as E
from generator.importer.merge_diff import (FileDiff, KeepRaw, MeasureChange, NewPage, PageRename, VisualMove,
                                           diff_output, measure_extras, measure_values, read_text)
from generator.importer.tmdl_reader import Node, parse_text
from generator.importer.to_yaml import slug
from generator.importer.yaml_text import dump
from generator.spec import load_project
from generator.spec.model import Model, Page


@dataclass
class Merged:
    out: Path
    changes: list[str] = field(default_factory=list)  # one line per change merged
    written: list[str] = field(default_factory=list)  # project files written
    recorded: list[str] = field(default_factory=list)  # output files the manifest now accepts
    not_merged: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def output_folder(project: Path, pbip: Path | None) -> Path:
    """The folder holding <Name>.SemanticModel and <Name>.Report: PATH, the folder of a
    .pbip / *.Report / *.SemanticModel PATH, or the project's powerbi/."""
    path = Path(pbip) if pbip is not None else project / "powerbi"
    path = path.resolve()
    if path.is_file() and path.suffix == ".pbip" or path.suffix in (".Report", ".SemanticModel"):
        path = path.parent
    if not path.is_dir():
        raise ForgeError(f"{path}: no such folder; pass the folder the build wrote (default: "
                         f"{project / 'powerbi'})")
    return path


class Planner:
    """Desktop changes → YAML text edits, by project file."""

    def __init__(self, project: Path, model: Model, built: dict[str, str]) -> None:
        self.project, self.model, self.built = project, model, built
        self.texts: dict[str, str] = {}  # project-relative path -> original text (files edited)
        self.edits: dict[str, list[E.Edit]] = {}
        self.new: dict[str, str] = {}  # project-relative path -> text of a new file
        self.new_measures: dict[str, tuple[str, list[dict]]] = {}  # table -> (new measures file, its items)
        self.lines: list[str] = []

    # -- files ------------------------------------------------------------------------
    def _root(self, rel: str) -> yaml.MappingNode:
        if rel not in self.texts:
            self.texts[rel] = read_text(self.project / rel)
            self.edits[rel] = []
        return E.compose(self.texts[rel], rel)

    def _edit(self, rel: str, edit: E.Edit) -> None:
        self.edits[rel].append(edit)

    @staticmethod
    def _item(seq: yaml.Node | None, line: int, col: int) -> yaml.MappingNode | None:
        for item in seq.value if isinstance(seq, yaml.SequenceNode) else ():
            if item.start_mark.line + 1 == line and item.start_mark.column + 1 == col:
                return item
        return None

    # -- measures ---------------------------------------------------------------------
    def _measure_files(self) -> list[tuple[str, str, str | None]]:
        """(project-relative path, home table, file-level folder) of every measures file."""
        out = []
        for path in sorted((self.project / "measures").glob("*.yaml")):
            if path.name.endswith(".tests.yaml"):
                continue
            doc = yaml.safe_load(read_text(path)) or {}
            out.append((f"measures/{path.name}", str(doc.get("table", "")), doc.get("folder")))
        return out

    def _free(self, table: str) -> str:
        rel, n = f"measures/{slug(table)}.yaml", 2
        while (self.project / rel).exists() or rel in self.new:
            rel, n = f"measures/{slug(table)}_{n}.yaml", n + 1
        return rel

    @staticmethod
    def _dax(change: MeasureChange, d: FileDiff) -> str | None:
        try:
            return format_dax(change.values["expression"])
        except DaxSyntaxError as exc:
            d.problems.append(Problem(change.pos, f"measure [{change.name}]: DAX syntax error: {exc.message}"))
            return None

    def measure(self, change: MeasureChange, d: FileDiff) -> None:
        if change.added:
            self._add_measure(change, d)
        else:
            self._change_measure(change, d)

    def _add_measure(self, change: MeasureChange, d: FileDiff) -> None:
        expression = self._dax(change, d)
        if expression is None:
            return
        v = change.values
        files = [f for f in self._measure_files() if f[1].lower() == change.table.lower()]
        home = next((f for f in files if v["folder"] and f[2] == v["folder"]), files[-1] if files else None)
        item: dict = {"name": change.name, "expression": expression}
        if v["format"] is not None:
            item["format"] = v["format"]
        if v["description"]:
            item["description"] = v["description"]
        inherited = home[2] if home else None
        if (v["folder"] or None) != (inherited or None):
            item["folder"] = v["folder"] or ""
        if home is None:  # the table has no measures file yet: one for all its new measures
            rel, items = self.new_measures.setdefault(change.table.lower(), (self._free(change.table), []))
            items.append(item)
            self.new[rel] = dump({"table": change.table, "measures": items},
                                 (f"Measures of {change.table}, merged from Power BI Desktop by "
                                  "`pbi-forge import --merge`.",))
            self.lines.append(f"measure [{change.name}] added to {rel} (new file)")
            return
        rel = home[0]
        root = self._root(rel)
        seq = E.get(root, "measures")
        if not isinstance(seq, yaml.SequenceNode) or seq.flow_style or not seq.value:
            d.problems.append(Problem(change.pos, f"{rel}: its `measures:` is not a block list to append "
                                                  f"[{change.name}] to", f"add [{change.name}] to {rel} by hand"))
            return
        self._edit(rel, E.append_item(self.texts[rel], seq, item))
        self.lines.append(f"measure [{change.name}] added to {rel}")

    def _change_measure(self, change: MeasureChange, d: FileDiff) -> None:
        m = next((x for x in self.model.measures if x.name == change.name and x.table == change.table), None)
        if m is None or not m.pos.file.startswith("measures/"):
            d.problems.append(Problem(change.pos, f"measure [{change.name}] is not defined in measures/*.yaml "
                                                  "(model.yaml's as_of?): the merge cannot change it",
                                      "make the change in the YAML, then build with --force"))
            return
        rel = m.pos.file
        root = self._root(rel)
        item = self._item(E.get(root, "measures"), m.pos.line, m.pos.col)
        if item is None or item.flow_style:
            d.problems.append(Problem(m.pos, f"cannot find the block mapping of [{m.name}] to edit"))
            return
        file_folder = E.get(root, "folder")
        for key, value in change.values.items():
            if key == "expression":
                value = self._dax(change, d)
                if value is None or value == format_dax(m.expression):
                    continue  # Desktop's layout of the same DAX: the build writes ours
            node = E.get(item, key)
            col = item.value[0][0].start_mark.column
            if value is None and not (key == "folder" and node is None and file_folder is not None):
                d.problems.append(Problem(change.pos, f"measure [{m.name}]: Desktop removed its {key}; the merge "
                                                      "does not delete YAML",
                                          f"delete `{key}:` of [{m.name}] in {rel}, then build with --force"))
                continue
            value = "" if value is None else value
            if node is not None:
                self._edit(rel, E.replace(self.texts[rel], node, col, value))
            else:
                self._edit(rel, E.add_key(self.texts[rel], item, key, value))
            self.lines.append(f"measure [{m.name}]: {key} changed in {rel}")

    # -- pages ------------------------------------------------------------------------
    def _page(self, page_id: str) -> Page:
        return next(p for p in self.model.pages if p.id == page_id)

    def rename(self, change: PageRename, d: FileDiff) -> None:
        page = self._page(change.page)
        rel = page.pos.file
        root = self._root(rel)
        node = E.get(root, "name")
        self._edit(rel, E.replace(self.texts[rel], node, E.key_node(root, "name").start_mark.column, change.name))
        if E.get(root, "id") is None:  # the folder name came from the old name: keep it
            self._edit(rel, E.add_key(self.texts[rel], root, "id", page.id, after="name"))
        self.lines.append(f"page '{page.name}' renamed '{change.name}' in {rel}")

    def moves(self, page_id: str, moves: list[VisualMove]) -> None:
        """Pin the moved visuals, and every visual the automatic layout would then move, where
        Desktop has them; the others keep their automatic place."""
        page = self._page(page_id)
        report = f"{self.model.name}.Report/definition/pages/{page.id}/visuals/"
        target = {}
        for v in page.visuals:
            p = json.loads(self.built[f"{report}{v.name}/visual.json"])["position"]
            target[v.name] = (p["x"], p["y"], p["width"], p["height"])
        moved = {m.visual: m.position for m in moves}
        target.update(moved)
        pinned = {v.name: v.position for v in page.visuals if v.position}
        pinned.update(moved)
        while True:
            trial = dataclasses.replace(page, visuals=tuple(
                dataclasses.replace(v, position=pinned.get(v.name)) for v in page.visuals))
            # the first visual (in YAML order) that would move; pinning it may settle the rest
            first = next((v.name for v, p in zip(trial.visuals, pbir.layout(trial))
                          if v.name not in pinned and p != target[v.name]), None)
            if first is None:
                break
            pinned[first] = target[first]
        rel = page.pos.file
        root = self._root(rel)
        seq = E.get(root, "visuals")
        for v in page.visuals:
            if v.name not in pinned or pinned[v.name] == v.position:
                continue
            item = self._item(seq, v.pos.line, v.pos.col)
            if item is None:
                raise ForgeError(Problem(v.pos, f"cannot find visual '{v.name}' in {rel} to set its position"))
            x, y, w, h = pinned[v.name]
            value = {"x": x, "y": y, "width": w, "height": h}
            node = E.get(item, "position")
            col = item.value[0][0].start_mark.column
            if node is not None and (node.flow_style or isinstance(node, yaml.ScalarNode)):
                self._edit(rel, E.replace(self.texts[rel], node, col, value))
            elif node is not None:
                for key in ("x", "y", "width", "height"):
                    self._edit(rel, E.replace(self.texts[rel], E.get(node, key), 0, value[key]))
            else:
                self._edit(rel, E.add_key(self.texts[rel], item, "position", value))
            why = "moved in Desktop" if v.name in moved else "pinned where it is, so it does not move"
            self.lines.append(f"visual '{v.name}' on page '{page.name}': position {x}, {y}, {w} x {h} ({why}) "
                              f"in {rel}")

    def new_pages(self, pages: list[NewPage]) -> None:
        """Each new page after the YAML's pages, in Desktop's order; its page.json is kept
        as raw PBIR unless our writer would write the same bytes."""
        order = max((p.order for p in self.model.pages), default=0)
        for page in sorted(pages, key=lambda p: (p.index, p.page)):
            order += 1
            rel = f"semantic/pages/{order:02d}_{slug(page.name)}.yaml"
            n = 2
            while (self.project / rel).exists() or rel in self.new:
                rel, n = f"semantic/pages/{order:02d}_{slug(page.name)}_{n}.yaml", n + 1
            ours = pbir.dumps({"$schema": pbir.schema_url("page"), "name": page.page, "displayName": page.name,
                               "displayOption": pbir.display_option(page.height), "height": page.height,
                               "width": page.width})
            notes = [f"Page added in Power BI Desktop, merged by `pbi-forge import --merge`; its visuals are kept "
                     f"as raw PBIR in semantic/pbir/pages/{page.page}/ (written back byte-for-byte)."]
            if ours != page.text:
                self.new[f"semantic/pbir/pages/{page.page}/page.json"] = page.text
                notes.append("page.json is kept as raw PBIR too (it holds more than the YAML says).")
            self.new[rel] = dump({"name": page.name, "id": page.page, "order": order, "width": page.width,
                                  "height": page.height, "visuals": []}, tuple(notes))
            self.lines.append(f"page '{page.name}' added as {rel}")

    def keep_raw(self, change: KeepRaw) -> None:
        rel = f"semantic/pbir/{change.rel}"
        self.new[rel] = change.text
        what = "new, kept as raw PBIR" if change.added else "raw PBIR, Desktop's bytes"
        self.lines.append(f"{change.rel}: {what} in {rel}")

    # -- result -----------------------------------------------------------------------
    def result(self) -> dict[str, str]:
        """Project-relative path -> new text of every file the merge writes."""
        out = {rel: E.apply(text, self.edits[rel]) for rel, text in self.texts.items() if self.edits[rel]}
        out.update(self.new)
        return out


def plan(planner: Planner, diffs: list[FileDiff]) -> None:
    moves: dict[str, list[tuple[VisualMove, FileDiff]]] = {}
    planner.new_pages([c for d in diffs for c in d.changes if isinstance(c, NewPage)])
    for d in diffs:
        for change in d.changes:
            if isinstance(change, MeasureChange):
                planner.measure(change, d)
            elif isinstance(change, PageRename):
                planner.rename(change, d)
            elif isinstance(change, VisualMove):
                moves.setdefault(change.page, []).append((change, d))
            elif isinstance(change, KeepRaw):
                planner.keep_raw(change)
            elif not isinstance(change, NewPage):
                raise AssertionError(f"no merge for {type(change).__name__}")
    for page_id, items in moves.items():
        planner.moves(page_id, [m for m, d in items if not d.problems])


def _rebuilt(project: Path, files: dict[str, str], data_folder: str) -> tuple[Model, dict[str, str]]:
    """The edited project's build, in memory (its YAML copied to a temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="pbi-forge-merge-") as tmp:
        root = Path(tmp)
        for part in ("semantic", "measures"):
            if (project / part).is_dir():
                shutil.copytree(project / part, root / part)
        for rel, text in files.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
        try:
            model = load_project(root)
        except ForgeError as exc:
            raise ForgeError([Problem(p.pos, f"the merged YAML would not load: {p.message}", p.hint)
                              for p in exc.problems]) from None
        return model, text_files(model, data_folder)


def _measure_view(node: Node) -> tuple:
    return measure_values(node), measure_extras(node)


def verify(out: Path, diffs: list[FileDiff], built: dict[str, str], rebuilt: dict[str, str], name: str) -> None:
    """The edited YAML builds what Desktop saved, for every object merged (else nothing is written)."""
    wrong = []
    report = f"{name}.Report/definition/"
    for d in diffs:
        for change in d.changes:
            if isinstance(change, MeasureChange):
                theirs = parse_text(out / d.rel, read_text(out / d.rel)).nodes[0]
                ours = parse_text(out / d.rel, rebuilt[d.rel]).nodes[0]
                a = next(m for m in theirs.kids("measure") if m.name == change.name)
                b = next((m for m in ours.kids("measure") if m.name == change.name), None)
                want = _measure_view(a)
                want[0]["expression"] = format_dax(want[0]["expression"])
                if b is None or _measure_view(b) != want:
                    wrong.append(f"measure [{change.name}] of {d.rel}")
            elif isinstance(change, VisualMove):
                if json.loads(rebuilt[d.rel]) != json.loads(read_text(out / d.rel)):
                    wrong.append(f"visual {d.rel}")
            elif isinstance(change, PageRename):
                if json.loads(rebuilt[d.rel]).get("displayName") != change.name:
                    wrong.append(f"page {d.rel}")
            elif isinstance(change, KeepRaw):
                if rebuilt.get(report + change.rel) != change.text:
                    wrong.append(f"raw PBIR {d.rel}")
            elif isinstance(change, NewPage):
                if rebuilt.get(d.rel) != change.text:
                    wrong.append(f"new page {d.rel}")
        if d.rel == f"{report}pages/pages.json" and not d.problems:
            theirs = json.loads(read_text(out / d.rel)).get("pageOrder")
            if json.loads(rebuilt[d.rel]).get("pageOrder") != theirs:
                wrong.append(f"page order {d.rel}")
    moved_pages = {c.page for d in diffs for c in d.changes if isinstance(c, VisualMove)}
    for page in moved_pages:  # the visuals Desktop did not move stay where they are
        prefix = f"{report}pages/{page}/visuals/"
        changed = {d.rel for d in diffs}
        for rel, text in built.items():
            if rel.startswith(prefix) and rel not in changed and rebuilt.get(rel) != text:
                wrong.append(f"visual {rel} (not moved in Desktop) would move")
    if wrong:
        raise ForgeError([Problem(None, f"internal: the merged YAML does not rebuild what Desktop saved: {w}; "
                                        "nothing was written") for w in wrong])


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, text)


def merge(project: Path, pbip: Path | None = None, force: bool = False) -> Merged:
    project = Path(project).resolve()
    out = output_folder(project, pbip)
    model = load_project(project)
    data_folder = model.data_folder or tmdl.default_data_folder(out)
    built = text_files(model, data_folder)
    if not (out / f"{model.name}.SemanticModel").is_dir() and not (out / f"{model.name}.Report").is_dir():
        raise ForgeError(f"{out} holds no {model.name}.SemanticModel or {model.name}.Report: build the project, "
                         "or pass the folder Desktop saved")
    if journal.journal_path(out).exists():
        raise ForgeError(f"a build into {out} was interrupted; run `pbi-forge build` first, then merge")
    manifest = read_manifest(out)
    diffs = diff_output(out, model.name, built, manifest, set(model.report_passthrough),
                        {p.id for p in model.pages}, set(model.passthrough))
    planner = Planner(project, model, built)
    plan(planner, [d for d in diffs if not d.problems])
    done = Merged(out)
    problems = [p for d in diffs for p in d.problems]
    if problems and not force:
        raise ForgeError(problems)
    good = [d for d in diffs if not d.problems]
    if problems:  # --force: plan again from the files that map entirely
        planner = Planner(project, model, built)
        plan(planner, good)
    done.not_merged = problems
    done.notes = [n for d in diffs for n in d.notes]
    if not good:
        return done
    files = planner.result()
    _, rebuilt = _rebuilt(project, files, data_folder)
    verify(out, good, built, rebuilt, model.name)
    with build_lock(out):
        for rel, text in sorted(files.items()):
            _write(contained(project, rel), text)
            done.written.append(rel)
        if manifest or (out / MANIFEST).is_file():
            record = dict(manifest)
            for d in good:
                if (out / d.rel).is_file():
                    record[d.rel] = sha256(out / d.rel)
                    done.recorded.append(d.rel)
            _write(out / MANIFEST, manifest_text(record))
    done.changes = planner.lines
    return done


def cmd_merge(args) -> int:  # noqa: ANN001 - argparse.Namespace of `import --merge`
    project = Path(args.into)
    if not (project / "semantic" / "model.yaml").is_file():
        raise ForgeError(f"--project {project}: no semantic/model.yaml; --merge brings Desktop's edits into an "
                         "existing project")
    done = merge(project, args.path, force=args.force)
    for line in done.changes:
        print(f"merged  {line}")
    for note in done.notes:
        print(f"note  {note}")
    for problem in done.not_merged:
        print(f"not merged (--force)  {problem}")
    if not done.changes and not done.not_merged:
        print(f"nothing to merge: {done.out} is what the YAML builds (or what the last build wrote)")
        return 0
    print(f"{len(done.written)} YAML files written; {len(done.recorded)} files of {done.out} recorded as merged")
    print(f"next: pbi-forge build --project {project}")
    return 0
