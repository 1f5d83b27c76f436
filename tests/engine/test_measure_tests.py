"""`build.py test`: the YAML measure tests are the CI parity gate, so a wrong number must
fail the run (exit 1)."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from generator.engine.measure_tests import run_all, same
from generator.spec import load_project

REPO = Path(__file__).resolve().parents[2]


def _copy_project(tmp: Path) -> Path:
    for part in ("semantic", "measures"):
        shutil.copytree(REPO / part, tmp / part)
    return tmp


def _edit(project: Path, pattern: str, replacement: str) -> None:
    """Edit the one-line expression of a measure in measures/kpis.yaml."""
    kpis = project / "measures" / "kpis.yaml"
    text, n = re.subn(r"(?m)(?<=expression: )" + pattern, replacement, kpis.read_text())
    assert n == 1, "measure expression not found"
    kpis.write_text(text)


def _build_test(project: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "build.py"), "test", "--project", str(project), *extra],
                          capture_output=True, text=True, cwd=REPO, timeout=900)


def test_every_measure_has_a_passing_test():
    model = load_project(REPO)
    results = run_all(REPO, model)
    failed = [r for r in results if not r.ok]
    assert not failed, [(r.file, r.test, r.measure, r.expected, r.actual, r.error) for r in failed]
    tested = {r.measure for r in results}
    assert {m.name for m in model.measures if not m.generated} <= tested


def test_build_test_passes_then_fails_on_a_broken_measure(tmp_path):
    project = _copy_project(tmp_path)
    ok = _build_test(project)
    assert ok.returncode == 0, ok.stdout + ok.stderr

    _edit(project, r"SUM\s*\(\s*Fact_Orders\[Revenue\]\s*\)", r"\g<0> * 1.01")
    junit = tmp_path / "junit.xml"
    broken = _build_test(project, "--junit", str(junit))
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "FAIL whole data set [Total Revenue]" in broken.stdout
    root = ET.parse(junit).getroot()
    failures = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert "whole data set :: Total Revenue" in failures
    assert "whole data set :: Total Orders" not in failures


def test_build_test_fails_on_blank_instead_of_zero(tmp_path):
    project = _copy_project(tmp_path)
    _edit(project, r"COUNTROWS\s*\(\s*Fact_Orders\s*\)$", r"\g<0> + 0")
    broken = _build_test(project)
    assert broken.returncode == 1
    assert "FAIL no orders in the selection [Total Orders]" in broken.stdout


@pytest.mark.parametrize("expected, actual, result", [
    (140, 140.0, True), (140, 140.01, False), (None, 0, False), (0, None, False), (None, None, True),
    (0.6666666666666666, 2 / 3, True), ("Low", "Low", True), ("Low", "low", False), (True, 1, False),
])
def test_comparison(expected, actual, result):
    assert same(expected, actual) is result
