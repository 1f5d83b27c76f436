"""A journaled swap-in: a crash at any point leaves the old tree or, once recovered, the new one.

Writing the journal (`.<out>.journal.json` next to the output folder, written to a
temporary file and renamed, so it is whole or absent) is the commit point:

* crash before it: no file of the output has changed; the staging folder is left behind
  and the next build removes it (its process is dead);
* crash after it: the journal lists every planned move (staged file -> output), every
  stale generated file to delete (with the hash it must still have) and the new
  manifest. The next build rolls it forward before anything else: each step is
  idempotent (a move whose source is gone already happened), so a crash during
  recovery is recovered the same way. Only then is the journal removed, and last the
  staging folder.

`PBI_FORGE_CRASH_AT=<point>` makes the process exit abruptly at that point; it exists for
tests/test_swap_safety.py and does nothing otherwise.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from generator.emit.paths import contained, prune_empty, sha256
from generator.errors import ForgeError, Problem

CRASH_POINTS = ("staged", "journal-written", "first-move", "moved", "deleted", "manifest-written")
CRASH_EXIT = 86


def crash_point(name: str) -> None:
    """Test-only: exit at once (no cleanup, like a kill) when PBI_FORGE_CRASH_AT names this point."""
    if os.environ.get("PBI_FORGE_CRASH_AT") == name:
        os._exit(CRASH_EXIT)


@dataclass(frozen=True)
class Plan:
    stage: Path
    moves: tuple[tuple[str, str | None], ...]  # (relative path moved from the stage, its hash; None = data)
    deletes: tuple[tuple[str, str | None], ...]  # (relative path, hash it must still have, None = any)
    manifest: str  # the new manifest's text


def journal_path(out: Path) -> Path:
    return out.parent / f".{out.name}.journal.json"


def write_atomic(path: Path, text: str) -> None:
    """Write `text` so that `path` is either the old file or the whole new one."""
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def commit(plan: Plan, out: Path, manifest_name: str) -> None:
    """Journal the plan, apply it, remove the journal."""
    body = {"stage": plan.stage.name, "moves": [list(m) for m in plan.moves],
            "deletes": [list(d) for d in plan.deletes], "manifest": plan.manifest}
    write_atomic(journal_path(out), json.dumps(body, indent=1) + "\n")
    crash_point("journal-written")
    apply(plan, out, manifest_name)
    journal_path(out).unlink()


def apply(plan: Plan, out: Path, manifest_name: str) -> list[str]:
    """Carry out a journaled plan; safe to repeat. Returns the files it deleted."""
    for i, (rel, digest) in enumerate(plan.moves):
        src, target = contained(plan.stage, rel), contained(out, rel)
        if src.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, target)
        elif not target.is_file() or (digest is not None and sha256(target) != digest):
            raise ForgeError(Problem(None, f"cannot finish the interrupted build: {rel} is neither in {plan.stage} "
                                           f"nor in {out}", "rebuild with --force"))
        if i == 0:
            crash_point("first-move")
    crash_point("moved")
    removed = []
    for rel, digest in plan.deletes:
        target = contained(out, rel)
        if target.is_file() and (digest is None or sha256(target) == digest):
            target.unlink()
            removed.append(rel)
            prune_empty(target.parent, out)
    crash_point("deleted")
    write_atomic(out / manifest_name, plan.manifest)
    crash_point("manifest-written")
    return removed


def recover(out: Path, manifest_name: str) -> bool:
    """Roll an interrupted swap-in forward; True if there was one. Call it under the lock."""
    path = journal_path(out)
    for tmp in out.parent.glob(f"{path.name}.tmp-*"):
        tmp.unlink(missing_ok=True)  # a journal that was never committed
    if not path.is_file():
        return False
    plan = _read(path, out)
    apply(plan, out, manifest_name)
    path.unlink()
    shutil.rmtree(plan.stage, ignore_errors=True)
    return True


def _read(path: Path, out: Path) -> Plan:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        stage = out.parent / body["stage"]
        if not body["stage"].startswith(f".{out.name}.staging-") or "/" in body["stage"] or "\\" in body["stage"]:
            raise ValueError("stage")
        moves = tuple((str(r), None if h is None else str(h)) for r, h in body["moves"])
        deletes = tuple((str(r), None if h is None else str(h)) for r, h in body["deletes"])
        return Plan(stage, moves, deletes, str(body["manifest"]))
    except (OSError, ValueError, KeyError, TypeError):
        raise ForgeError(Problem(None, f"{path} is not a pbi-forge journal of an interrupted build",
                                 "rebuild with --force to drop it")) from None


def discard_stage(stage: Path, out: Path) -> None:
    """Remove the staging folder unless a journal still needs it to finish the swap-in."""
    path = journal_path(out)
    if path.is_file():
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("stage") == stage.name:
                return
        except (OSError, ValueError, AttributeError):
            return
    shutil.rmtree(stage, ignore_errors=True)
