"""Swap a staged build into the output folder without touching what the user made.

The build writes everything into a staging folder first; only when every check passed is
it moved into `out`. A manifest (`.pbi-forge-manifest.json`) records which files the
generator made and their hashes, so that:
- a file the generator never made (Desktop's `.pbi/localSettings.json`, `cache.abf`, a
  page the user added) is never deleted or overwritten;
- a generated file changed since the last build (edited by hand, or re-saved by
  Desktop) is not overwritten without `--force`;
- a file the previous build made and this one does not is removed (only if unchanged).

Nothing outside `out` is ever written or deleted: every path is checked by
`generator.emit.paths.contained`, and a manifest entry that is not a plain relative
path inside `out` (or has no hash outside `data/`) stops the build before anything is
done. The moves themselves are journaled (`generator.emit.journal`).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from generator.emit import journal
from generator.emit.lock import stage_path
from generator.emit.paths import contained, rel_problem, sha256
from generator.errors import ForgeError, Problem

MANIFEST = ".pbi-forge-manifest.json"
UNHASHED_PREFIXES = ("data/",)  # generated, git-ignored, size depends on --rows
_DIGEST = re.compile(r"^[0-9a-f]{64}$")

__all__ = ["MANIFEST", "SwapReport", "new_stage", "read_manifest", "sha256", "swap_in"]


def _hashed(rel: str) -> bool:
    return not rel.startswith(UNHASHED_PREFIXES)


def read_manifest(out: Path) -> dict[str, str | None]:
    path = out / MANIFEST
    if not path.is_file():
        return {}
    try:
        files = dict(json.loads(path.read_text(encoding="utf-8"))["files"])
    except (ValueError, KeyError, TypeError):
        raise ForgeError(Problem(None, f"{path} is not a pbi-forge manifest; remove it or choose another --out")) \
            from None
    problems = [Problem(None, f"{path}: entry '{rel}': {why}; refusing to act on it",
                        "remove that entry (or the whole manifest, then rebuild with --force)")
                for rel, digest in files.items() if (why := _entry_problem(out, rel, digest))]
    if problems:
        raise ForgeError(problems)
    return files


def _entry_problem(out: Path, rel: object, digest: object) -> str | None:
    """Why a manifest entry must not be acted on: outside `out`, or a hash that is not one."""
    why = rel_problem(rel)
    if why is None:
        try:
            contained(out, rel)
        except ForgeError:
            return "it resolves outside the output folder (through a symlink)"
    if why is None and digest is None and _hashed(rel):
        return "it has no hash, and only data/ files may be unhashed"
    if why is None and digest is not None and not (isinstance(digest, str) and _DIGEST.match(digest)):
        return f"its hash {digest!r} is not a SHA-256 digest"
    return why


def manifest_text(files: dict[str, str | None]) -> str:
    body = {"generator": "pbi-forge",
            "about": "Files this build generated. Files not listed here are yours and are never touched.",
            "files": dict(sorted(files.items()))}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def staged_files(stage: Path) -> list[str]:
    rels = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
    for rel in rels:
        contained(stage, rel)
    return rels


@dataclass
class SwapReport:
    written: int = 0
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # stale generated files the user changed


def _conflicts(stage: Path, out: Path, rels: list[str], old: dict[str, str | None]) -> list[Problem]:
    problems = []
    for rel in rels:
        target = contained(out, rel)
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
    """Move every staged file into `out`; see the module docstring for the rules.

    Call it holding `generator.emit.lock.build_lock(out)`.
    """
    rels = staged_files(stage)
    old = read_manifest(out)
    if not force:
        problems = _conflicts(stage, out, rels, old)
        if problems:
            raise ForgeError(problems)
    report = SwapReport()
    new_manifest: dict[str, str | None] = {}
    moves = []
    for rel in rels:
        target = contained(out, rel)
        digest = sha256(stage / rel) if _hashed(rel) else None
        new_manifest[rel] = digest
        if digest is not None and target.is_file() and sha256(target) == digest:
            report.unchanged += 1
        else:
            moves.append((rel, digest))
    deletes = []
    for rel in sorted(set(old) - set(rels)):
        target = contained(out, rel)
        if not target.is_file():
            continue
        if old[rel] is None or sha256(target) == old[rel]:
            deletes.append((rel, old[rel]))
        else:
            report.kept.append(rel)
    journal.crash_point("staged")
    out.mkdir(parents=True, exist_ok=True)
    plan = journal.Plan(stage, tuple(moves), tuple(deletes), manifest_text(new_manifest))
    journal.commit(plan, out, MANIFEST)
    report.written = len(moves)
    report.removed = [rel for rel, _ in deletes]
    return report


def recover(out: Path, force: bool = False) -> bool:
    """Finish a swap-in a crash interrupted (see generator.emit.journal); True if there was one.

    If it cannot be finished (its staging folder was deleted, the journal was edited),
    `force` drops the journal: the build that follows overwrites every generated file.
    """
    try:
        return journal.recover(out, MANIFEST)
    except ForgeError:
        if not force:
            raise
        journal.journal_path(out).unlink(missing_ok=True)
        return False


def new_stage(out: Path) -> Path:
    """A staging folder next to `out` (same file system, so moves are renames)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = stage_path(out)
    journal.discard_stage(stage, out)
    stage.mkdir()
    return stage
