"""The shipped projects are what users copy: formatted, lint-clean, their measure tests green."""
from __future__ import annotations

from pathlib import Path

import pytest

from generator.cli import main

REPO = Path(__file__).resolve().parents[1]
PROJECTS = [REPO, REPO / "examples" / "customer_csv"]


@pytest.mark.parametrize("project", PROJECTS, ids=["customer_intelligence", "customer_csv"])
def test_every_dax_expression_is_formatted(project, capsys):
    assert main(["fmt", "--project", str(project)]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("project", PROJECTS, ids=["customer_intelligence", "customer_csv"])
def test_lint_reports_nothing(project, capsys):
    assert main(["lint", "--project", str(project)]) == 0
    assert capsys.readouterr().out.strip().endswith("0 error(s), 0 warning(s), 0 info")
