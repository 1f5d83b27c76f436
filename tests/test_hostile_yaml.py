"""Hostile YAML: mutate the shipped project and check that `main` never fails unexpectedly.

Hypothesis edits one shipped YAML or tests file at a time (line deletion, duplication and
swaps, indentation changes, type swaps, NUL bytes, aliases, truncation, stray YAML
syntax) and runs one command in-process (build, lint, fmt, test). Whatever the edit, the
command must end with exit 0, 1 or 2 and a message: never an internal error (exit 70,
which `main` returns for any exception that escapes a command) or a traceback.

Examples: 2,000 with CI set (profile "hostile-ci"), else 200 ("hostile-dev"). To keep an
example fast the commands run their load and check path only: `build` stops once the
model and its DAX are checked (data generation, rendering and validation never see new
input), `test` stops once every tests file is loaded and checked, and files an example
did not edit are parsed once per session (same bytes, same result).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis import given

import generator.engine.measure_tests as measure_tests
import generator.pipeline as pipeline
import generator.spec.loader as loader
from generator.cli import main
from generator.errors import ForgeError, Problem

REPO = Path(__file__).resolve().parents[1]
FILES = sorted(str(p.relative_to(REPO)) for part in ("semantic", "measures") for p in (REPO / part).rglob("*.yaml"))
COMMANDS = ("build", "lint", "fmt", "test")
CHECKED = "checked; stopping before data generation"

settings.register_profile("hostile-ci", max_examples=2000, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("hostile-dev", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
PROFILE = settings.get_profile("hostile-ci" if os.environ.get("CI") else "hostile-dev")

SCALARS = ["true", "false", "null", "0", "-1", "1.5", "1e400", "99999999999999999999", "abc", "''", "[]", "{}",
           "'2021-02-30'", "'2024-13-45'", "[1, [2]]", "{a: 1}", "'[Missing]'", "!tag x", "*nope", '"\\ud800"']
NOISE = ["\x00", ":", "- ", "[", "]", "{", "}", "'", '"', "&a ", "*a", "<<: {x: 1}", "\t", "#", "|", ">", "? ", "\ufeff",
         "\x07", "\\"]
BOMB = "z0: &a [x, x, x, x, x, x, x, x, x, x]\nz1: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" \
       "z2: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nz3: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"


def _mutate(text: str, data: st.DataObject) -> str:
    lines = text.split("\n")
    op = data.draw(st.sampled_from(["delete", "duplicate", "swap", "indent", "dedent", "type", "noise", "truncate",
                                    "bomb", "alias", "repeat"]))
    i = data.draw(st.integers(0, len(lines) - 1))
    if op == "delete":
        del lines[i]
    elif op == "duplicate":
        lines.insert(i, lines[i])
    elif op == "swap":
        j = data.draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "indent":
        lines[i] = " " * data.draw(st.integers(1, 4)) + lines[i]
    elif op == "dedent":
        lines[i] = lines[i][data.draw(st.integers(1, 4)):]
    elif op == "type":
        head, sep, _ = lines[i].partition(": ")
        lines[i] = head + (sep or ": ") + data.draw(st.sampled_from(SCALARS))
    elif op == "noise":
        col = data.draw(st.integers(0, len(lines[i])))
        lines[i] = lines[i][:col] + data.draw(st.sampled_from(NOISE)) + lines[i][col:]
    elif op == "truncate":
        return text[:data.draw(st.integers(0, len(text)))]
    elif op == "bomb":
        return BOMB + text
    elif op == "alias":  # anchor one value and reuse it elsewhere
        head, sep, value = lines[i].partition(": ")
        if sep and value.strip():
            lines[i] = f"{head}: &v {value}"
            j = data.draw(st.integers(0, len(lines) - 1))
            h2, s2, _ = lines[j].partition(": ")
            lines[j] = h2 + (s2 or ": ") + "*v"
    elif op == "repeat":
        lines[i:i] = lines[i:i + data.draw(st.integers(1, 6))] * data.draw(st.integers(2, 5))
    return "\n".join(lines)


@pytest.fixture(scope="module")
def workspace():
    """One private copy of the project (edited and restored per example) and an output folder."""
    root = Path(tempfile.mkdtemp(prefix="hostile-yaml-"))
    for part in ("semantic", "measures"):
        shutil.copytree(REPO / part, root / "project" / part)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def load_and_check_only():
    """Stop build after the checks and test after loading; parse an unedited file once."""
    mp = pytest.MonkeyPatch()
    parsed: dict[tuple[str, bytes], object] = {}
    checked: dict[int, list[Problem]] = {}
    real_load, real_schema = loader.load_yaml, loader._schema_problems

    def load_yaml(path: Path, root: Path | None = None):
        key = (str(path), Path(path).read_bytes() if Path(path).is_file() else b"")
        if key not in parsed:
            try:
                parsed[key] = real_load(path, root)
            except ForgeError as exc:
                parsed[key] = exc
        if isinstance(parsed[key], ForgeError):
            raise parsed[key]
        return parsed[key]

    def schema_problems(doc, kind, out) -> bool:
        key = id(doc)
        if key not in checked:
            collector = loader._Collector()
            real_schema(doc, kind, collector)
            checked[key] = (doc, collector.problems)  # keep doc alive: its id stays unique
        out.problems.extend(checked[key][1])
        return not checked[key][1]

    def stop(*args, **kwargs):
        raise ForgeError(CHECKED)

    mp.setattr(loader, "load_yaml", load_yaml)
    mp.setattr(measure_tests, "load_yaml", load_yaml)
    mp.setattr(loader, "_schema_problems", schema_problems)
    mp.setattr(pipeline, "generate_files", stop)
    mp.setattr(measure_tests, "_run_cases", lambda *args, **kwargs: [])
    yield
    mp.undo()


@PROFILE
@given(data=st.data())
def test_no_edit_of_the_shipped_yaml_makes_main_fail_unexpectedly(data, workspace, load_and_check_only, capsys):
    rel = data.draw(st.sampled_from(FILES))
    command = data.draw(st.sampled_from(COMMANDS))
    path = workspace / "project" / rel
    original = path.read_bytes()
    mutated = _mutate(original.decode("utf-8"), data)
    path.write_bytes(mutated.encode("utf-8", "surrogatepass"))
    try:
        # only build takes --out, --rows and --no-tom (each command shows only its own options)
        code = main([command, "--project", str(workspace / "project"),
                     *(["--out", str(workspace / "out"), "--no-tom", "--rows", "1"] if command == "build" else [])])
    finally:
        path.write_bytes(original)
    err = capsys.readouterr().err
    event(f"{command}: {'checked' if CHECKED in err else f'exit {code}'}")  # --hypothesis-show-statistics shows that edits do get caught
    assert code in (0, 1, 2), f"{command} after editing {rel}: exit {code}\n{err}"
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 2 and CHECKED not in err:
        assert "error:" in err and "nothing was written" in err, err
    assert not (workspace / "out").exists() or command != "build"


def test_the_shipped_project_passes_the_load_and_check_path(workspace, load_and_check_only, capsys):
    """The harness itself: unedited, build reaches the stop and lint passes."""
    project = str(workspace / "project")
    assert main(["build", "--project", project, "--out", str(workspace / "out"), "--no-tom", "--rows", "1"]) == 2
    assert CHECKED in capsys.readouterr().err
    assert main(["lint", "--project", project]) == 0
