"""Swap a staged build into the output folder without touching what the user made.

The build writes everything into a staging folder first; only when every check passed is
it moved into `out`. A manifest (`.pbi-forge-manifest.json`) records which files the
generator made and their hashes, so that:
- a file the generator never made (Desktop's `.pbi/localSettings.json`, `cache.abf`, a
  page the user added) is never deleted or overwritten;
- a generated file changed since the last build (edited by hand, or re-saved by
  Desktop) is not overwritten without `--force`;
- a file the previous build made and this one does not is removed (only if unchanged).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import ForgeError, Problem

MANIFEST = ".pbi-forge-manifest.json"
UNHASHED_PREFIXES = ("data/",)  # generated, git-ignored, size depends on --rows


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _hashed(rel: str) -> bool:
    return not rel.startswith(UNHASHED_PREFIXES)


def read_manifest(out: Path) -> dict[str, str | None]:
    path = out / MANIFEST
    if not path.is_file():
        return {}
    try:
        return dict(json.loads(path.read_text(encoding="utf-8"))["files"])
    except (ValueError, KeyError, TypeError):
        raise ForgeError(Problem(None, f"{path} is not a pbi-forge manifest; remove it or choose another --out")) \
            from None


def manifest_text(files: dict[str, str | None]) -> str:
    body = {"generator": "pbi-forge",
            "about": "Files this build generated. Files not listed here are yours and are never touched.",
            "files": dict(sorted(files.items()))}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def staged_files(stage: Path) -> list[str]:
    return sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())


@dataclass
class SwapReport:
    written: int = 0
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # stale generated files the user changed


def _conflicts(stage: Path, out: Path, rels: list[str], old: dict[str, str | None]) -> list[Problem]:
    problems = []
    for rel in rels:
        target = out / rel
        if not target.is_file():
            continue
        if _hashed(rel) and sha256(target) == sha256(stage / rel):
            continue  # same bytes: nothing is lost
        if rel not in old:
            problems.append(Problem(None, f"refusing to overwrite {target}: it was not made by pbi-forge",
                                    "move it away, or pass --force to overwrite it"))
        elif old[rel] is not None and sha256(target) != old[rel]:
            problems.append(Problem(None, f"refusing to overwrite {target}: it changed since the last build "
                                          "(edited by hand or saved by Power BI Desktop)",
                                    "copy your change into the YAML, then pass --force to overwrite it"))
    return problems


def swap_in(stage: Path, out: Path, force: bool = False) -> SwapReport:
    """Move every staged file into `out`; see the module docstring for the rules."""
    rels = staged_files(stage)
    old = read_manifest(out)
    if not force:
        problems = _conflicts(stage, out, rels, old)
        if problems:
            raise ForgeError(problems)
    report = SwapReport()
    new_manifest: dict[str, str | None] = {}
    for rel in rels:
        src, target = stage / rel, out / rel
        digest = sha256(src) if _hashed(rel) else None
        new_manifest[rel] = digest
        if digest is not None and target.is_file() and sha256(target) == digest:
            report.unchanged += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, target)
        report.written += 1
    for rel in sorted(set(old) - set(rels)):
        target = out / rel
        if not target.is_file():
            continue
        if old[rel] is None or sha256(target) == old[rel]:
            target.unlink()
            report.removed.append(rel)
            _prune_empty(target.parent, out)
        else:
            report.kept.append(rel)
    (out / MANIFEST).write_text(manifest_text(new_manifest), encoding="utf-8")
    return report


def _prune_empty(folder: Path, stop: Path) -> None:
    while folder != stop and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def new_stage(out: Path) -> Path:
    """A staging folder next to `out` (same file system, so moves are renames)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = out.parent / f".{out.name}.staging-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    return stage
