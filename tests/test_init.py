"""A newcomer's first hour: `pbi-forge init`, the console command, --version, per-command
options and --project resolution.

The init test runs the README's sequence through subprocesses, with the real `pbi-forge`
console script when it is installed next to this Python (a plain clone after
`pip install -e .`), else `python -m generator` (the same `generator.cli:main`).
PYTHONPATH makes both import this checkout's `generator`. Expected values are worked out
by hand from the template's CSV rows (generator/scaffold/template/data/).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from generator.cli import main
from generator.scaffold import template_files

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
SCRIPT = Path(sys.executable).parent / ("pbi-forge.exe" if os.name == "nt" else "pbi-forge")
PBI_FORGE = [str(SCRIPT)] if SCRIPT.is_file() else [sys.executable, "-m", "generator"]


def pbi_forge(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    return subprocess.run([*PBI_FORGE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, f"{done.args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def mine(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """`pbi-forge init mine && cd mine && pbi-forge build && test && lint && fmt`, each exit 0."""
    root = tmp_path_factory.mktemp("newcomer")
    outputs = {"init": ok(pbi_forge("init", "mine", cwd=root))}
    project = root / "mine"
    for command in ("build", "test", "lint", "fmt"):
        outputs[command] = ok(pbi_forge(command, cwd=project))
    return project, outputs


def test_init_project_builds_tests_lints_and_formats_green(mine):
    project, outputs = mine
    assert "model mine" in outputs["init"]
    assert (project / "powerbi" / "mine.pbip").is_file()
    assert {p.name for p in (project / "powerbi" / "data").glob("*.parquet")} == {
        "Sales.parquet", "Customer.parquet", "Product.parquet", "Dates.parquet"}
    # 6 measures: 6 + 5 + 3 + 2 expectations and one query test
    assert "17 passed, 0 failed" in outputs["test"]
    assert outputs["lint"].strip().splitlines()[-1] == "0 error(s), 0 warning(s), 0 info"
    assert outputs["fmt"].strip() == "6 DAX expressions are formatted"


def test_init_project_answers_queries_with_hand_worked_values(mine):
    # Sales.csv: Norway (customers 1 and 3) 10 + 15 + 5 + 18 + 5 = 53; Sweden (2) 4.5 + 10 + 10 = 24.5;
    # Denmark has no orders, so SUMMARIZECOLUMNS leaves it out.
    dax = ('EVALUATE SUMMARIZECOLUMNS ( Customer[Country], "Sales", [Total Sales], "Units", [Units] ) '
           "ORDER BY Customer[Country]")
    data = json.loads(ok(pbi_forge("query", "--format", "json", dax, cwd=mine[0])))
    assert data["rows"] == [["Norway", 53, 11], ["Sweden", 24.5, 5]]


def test_init_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["init", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path} is not empty" in err and "--force" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert main(["init", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "semantic" / "model.yaml").is_file() and (tmp_path / "notes.txt").read_text() == "mine"


def test_init_is_deterministic_and_names_the_model_after_the_folder(tmp_path):
    for run in ("a", "b"):
        assert main(["init", str(tmp_path / run / "Sales Demo")]) == 0
    first, second = tmp_path / "a" / "Sales Demo", tmp_path / "b" / "Sales Demo"
    files = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second).as_posix() for p in second.rglob("*") if p.is_file())
    assert all((first / f).read_bytes() == (second / f).read_bytes() for f in files)
    assert "name: Sales Demo\n" in (first / "semantic" / "model.yaml").read_text()
    assert ".gitignore" in files and "data/Sales.csv" in files


def test_template_files_are_package_data():
    """A non-editable install ships only the patterns in pyproject; each template suffix must be one."""
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["*"]
    suffixes = {"*" + Path(rel).suffix for rel in template_files()}
    assert suffixes <= set(patterns), suffixes - set(patterns)


# ---------------------------------------------------------------- the command line


def test_console_script_is_the_cli_main():
    assert PYPROJECT["project"]["scripts"] == {"pbi-forge": "generator.cli:main"}


def test_version(capsys):
    assert main(["--version"]) == 0  # main returns argparse's exit code instead of raising it
    assert capsys.readouterr().out == f"pbi-forge {PYPROJECT['project']['version']}\n"


def _options(command: str, capsys) -> set[str]:
    assert main([command, "--help"]) == 0
    return {word.strip("[],") for word in capsys.readouterr().out.split() if word.startswith(("--", "[--"))}


@pytest.mark.parametrize("command, expected", [
    ("build", {"--project", "--out", "--rows", "--seed", "--force", "--data-folder", "--schemas", "--tom",
               "--no-tom", "--help"}),
    ("validate", {"--project", "--out", "--schemas", "--tom", "--help"}),
    ("fmt", {"--project", "--write", "--help"}),
    ("lint", {"--project", "--format", "--min-severity", "--help"}),
    ("test", {"--project", "--junit", "--as-of", "--coverage", "--min-coverage", "--as-user", "--role",
              "--backend", "--help"}),
    ("query", {"--project", "--out", "--format", "--formatted", "--sql", "--memory-limit", "--as-of", "--as-user",
               "--role", "--backend", "--help"}),
    ("evaluate", {"--project", "--out", "--as-of", "--memory-limit", "--as-user", "--role", "--backend", "--help"}),
    ("init", {"--force", "--help"}),
])
def test_each_command_shows_only_its_own_options(command, expected, capsys):
    assert _options(command, capsys) == expected


def test_rows_is_refused_where_it_means_nothing(capsys):
    assert main(["lint", "--rows", "10"]) == 2
    assert "unrecognized arguments: --rows 10" in capsys.readouterr().err


def test_project_without_a_model_is_an_error_not_the_demo(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", "--project", str(tmp_path), "--out", str(out), "--no-tom"]) == 2
    err = capsys.readouterr().err
    assert f"no semantic/model.yaml in {tmp_path.resolve()}" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_no_project_in_the_current_folder_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["lint"]) == 2
    err = capsys.readouterr().err
    assert f"no semantic/model.yaml in the current folder {tmp_path.resolve()}" in err
    assert "--project DIR" in err and "pbi-forge init DIR" in err


def test_usage_names_the_command_that_was_run(tmp_path):
    script = subprocess.run([sys.executable, str(REPO / "build.py"), "fmt", "--help"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert script.returncode == 0 and script.stdout.startswith("usage: build.py fmt ")
    console = pbi_forge("fmt", "--help", cwd=tmp_path)
    assert console.returncode == 0 and console.stdout.startswith("usage: pbi-forge fmt ")
