"""A build killed during its swap-in leaves the old tree or (once recovered) the new one; two
builds on one output never run their swap-ins at once.

Builds run as subprocesses; PBI_FORGE_CRASH_AT makes one exit abruptly (os._exit, no
cleanup, like kill -9) at a named point of the swap-in (generator/emit/journal.py).
The old and new trees are built independently, so "fully old or fully new" is a byte
comparison with trees no crash touched.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generator.cli import main
from generator.emit.journal import CRASH_EXIT, CRASH_POINTS, journal_path
from generator.emit.lock import build_lock
from generator.emit.writer import MANIFEST, recover

REPO = Path(__file__).resolve().parents[1]
ARGS = ["--no-tom", "--rows", "1500"]
USER_FILE = ".pbi/localSettings.json"  # Desktop's: never generated, never touched


def _run(project: Path, out: Path, crash: str | None = None, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "PBI_FORGE_CRASH_AT"}
    environ.update(env)
    if crash:
        environ["PBI_FORGE_CRASH_AT"] = crash
    return subprocess.run([sys.executable, str(REPO / "build.py"), "build", "--project", str(project),
                           "--out", str(out), *ARGS], cwd=REPO, env=environ, capture_output=True, text=True,
                          timeout=300)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def _change(project: Path) -> None:
    """Edits that rewrite, add and delete generated files: a new formula, a renamed folder."""
    kpis = project / "measures" / "kpis.yaml"
    kpis.write_text(kpis.read_text().replace("SUM ( Fact_Orders[Revenue] )", "SUM ( Fact_Orders[Revenue] ) + 0", 1))
    loyalty = project / "measures" / "loyalty.yaml"
    loyalty.write_text(loyalty.read_text().replace("folder: Loyalty\n", "folder: Loyalty Programme\n", 1))


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    """(old project, new project, pristine old output, old tree, new tree)."""
    base = tmp_path_factory.mktemp("swap")
    old_project, new_project = base / "old", base / "new"
    for dest in (old_project, new_project):
        for part in ("semantic", "measures"):
            shutil.copytree(REPO / part, dest / part)
    _change(new_project)
    pristine, fresh = base / "pristine" / "powerbi", base / "fresh" / "powerbi"
    assert main(["build", "--project", str(old_project), "--out", str(pristine), *ARGS]) == 0
    assert main(["build", "--project", str(new_project), "--out", str(fresh), *ARGS]) == 0
    for out in (pristine, fresh):
        (out / USER_FILE).parent.mkdir()
        (out / USER_FILE).write_text('{"version": "1.0"}\n')
    old, new = _tree(pristine), _tree(fresh)
    changed = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
    assert {"dax/KPIs/Total Revenue.dax", MANIFEST} <= changed
    assert any(k.startswith("dax/Loyalty/") for k in old.keys() - new.keys()), "a stale file to delete"
    assert any(k.startswith("dax/Loyalty Programme/") for k in new.keys() - old.keys()), "a new file to add"
    return old_project, new_project, pristine, old, new


def _old_output(pristine: Path, where: Path) -> Path:
    out = where / "powerbi"
    shutil.copytree(pristine, out)
    return out


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_crash_leaves_the_old_tree_or_the_new_one_and_the_next_build_needs_no_force(point, trees, tmp_path,
                                                                                     capsys):
    _, new_project, pristine, old, new = trees
    out = _old_output(pristine, tmp_path)
    crashed = _run(new_project, out, crash=point)
    assert crashed.returncode == CRASH_EXIT, crashed.stderr
    if journal_path(out).is_file():
        assert point != "staged", "the journal is the commit point: none before it"
        assert recover(out) is True  # what the next build does first
        assert _tree(out) == new
    else:
        assert point == "staged"
        assert _tree(out) == old
        assert _stage_pid(out) != str(os.getpid()), "the dead build's stage is left for the next build"
    capsys.readouterr()
    assert main(["build", "--project", str(new_project), "--out", str(out), *ARGS]) == 0, capsys.readouterr().err
    assert _tree(out) == new
    assert _leftovers(out) == [], "journal, stage and lock are gone"


def _stage_pid(out: Path) -> str:
    stages = [p.name for p in out.parent.iterdir() if p.name.startswith(".powerbi.staging-")]
    assert len(stages) == 1, stages
    return stages[0].rsplit("-", 1)[1]


def test_a_crash_during_recovery_is_recovered_too(trees, tmp_path, capsys):
    _, new_project, pristine, _, new = trees
    out = _old_output(pristine, tmp_path)
    assert _run(new_project, out, crash="first-move").returncode == CRASH_EXIT
    assert _run(new_project, out, crash="first-move").returncode == CRASH_EXIT  # dies inside the recovery
    assert journal_path(out).is_file()
    assert main(["build", "--project", str(new_project), "--out", str(out), *ARGS]) == 0, capsys.readouterr().err
    assert _tree(out) == new and _leftovers(out) == []


def _consistent(out: Path) -> None:
    manifest = json.loads((out / MANIFEST).read_text())["files"]
    on_disk = {k for k in _tree(out) if k not in (MANIFEST, USER_FILE)}
    assert set(manifest) == on_disk
    for rel, digest in manifest.items():
        if digest is not None:
            assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == digest, rel


def test_two_builds_at_once_take_turns(trees, tmp_path):
    old_project, new_project, pristine, old, new = trees
    out = _old_output(pristine, tmp_path)
    procs = [subprocess.Popen([sys.executable, str(REPO / "build.py"), "build", "--project", str(p), "--out",
                               str(out), *ARGS], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for p in (new_project, old_project)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    assert [code for code, _ in results] == [0, 0], results
    _consistent(out)
    assert _tree(out) in (old, new)
    assert _leftovers(out) == []


def test_a_second_build_waits_for_the_lock_then_runs(trees, tmp_path):
    _, new_project, pristine, old, new = trees
    out = _old_output(pristine, tmp_path)
    with build_lock(out):
        proc = subprocess.Popen([sys.executable, str(REPO / "build.py"), "build", "--project", str(new_project),
                                 "--out", str(out), *ARGS], cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(8)  # long enough to load, check and generate; then it must wait
        assert proc.poll() is None, proc.communicate()
        assert _tree(out) == old
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    assert _tree(out) == new


def test_a_build_that_cannot_get_the_lock_fails_clearly(trees, tmp_path, capsys, monkeypatch):
    _, new_project, pristine, old, _ = trees
    out = _old_output(pristine, tmp_path)
    monkeypatch.setenv("PBI_FORGE_LOCK_TIMEOUT", "0.5")
    with build_lock(out):
        code = main(["build", "--project", str(new_project), "--out", str(out), *ARGS])
    err = capsys.readouterr().err
    assert code == 2
    assert f"error: another pbi-forge build (pid {os.getpid()}) is writing {out}; waited 0.5 s" in err, err
    assert "Traceback" not in err and "nothing was written" in err
    assert _tree(out) == old
    assert _leftovers(out) == []


def test_a_journal_that_cannot_be_finished_is_reported_and_force_drops_it(trees, tmp_path, capsys):
    _, new_project, pristine, _, new = trees
    out = _old_output(pristine, tmp_path)
    assert _run(new_project, out, crash="journal-written").returncode == CRASH_EXIT
    for stage in out.parent.glob(".powerbi.staging-*"):
        shutil.rmtree(stage)  # the files the journal would move are gone
    capsys.readouterr()
    assert main(["build", "--project", str(new_project), "--out", str(out), *ARGS]) == 2
    err = capsys.readouterr().err
    assert "error: cannot finish the interrupted build: " in err and "hint: rebuild with --force" in err, err
    assert "Traceback" not in err
    assert main(["build", "--project", str(new_project), "--out", str(out), "--force", *ARGS]) == 0
    assert _tree(out) == new and _leftovers(out) == []
