"""Per-expectation absolute tolerance in measure tests: it passes inside, fails outside."""
from __future__ import annotations

import shutil
from pathlib import Path

from generator.cli import main
from generator.engine.measure_tests import within

REPO = Path(__file__).resolve().parents[2]

TESTS = """\
given:
  Fact_Orders:
    columns: [Order_ID, Customer_ID, Revenue]
    rows:
      - [1, 1, 10.00]
      - [2, 1, 20.00]
tests:
  - name: inside the tolerance     # Total Revenue = 10 + 20 = 30; |30.04 - 30| = 0.04 <= 0.05
    expect:
      Total Revenue: {value: 30.04, tolerance: 0.05}
  - name: outside the tolerance    # |30.06 - 30| = 0.06 > 0.05
    expect:
      Total Revenue: {value: 30.06, tolerance: 0.05}
"""


def test_within_is_absolute():
    assert within(30.04, 30.0, 0.05)
    assert not within(30.06, 30.0, 0.05)
    assert within(1_000_000.0, 1_000_000.5, 1)  # a relative 1e-9 would fail this
    assert not within(1e-12, 2e-12, 0)  # exact: no relative slack either
    assert within(None, None, 0.1) and not within(0, None, 0.1)  # BLANK is not a number


def test_an_expectation_outside_its_tolerance_fails_the_run(tmp_path, capsys):
    project = tmp_path / "project"
    for part in ("semantic", "measures"):
        shutil.copytree(REPO / part, project / part)
    for path in (project / "measures").glob("*.tests.yaml"):
        path.unlink()
    (project / "measures/kpis.tests.yaml").write_text(TESTS)
    assert main(["test", "--project", str(project)]) == 1
    out = capsys.readouterr().out
    assert "1 passed, 1 failed" in out
    # the failure names the expected value: line 13, column 30 (after "      Total Revenue: {value: ")
    assert "measures/kpis.tests.yaml:13:30: FAIL outside the tolerance [Total Revenue]" in out
