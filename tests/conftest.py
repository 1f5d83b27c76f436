"""Shared fixtures: the repository, reference material in ../shared, project copies to break.

../shared (Microsoft's schemas, the DAX corpus, the Desktop oracle) sits beside the
repository in CI but not in a plain clone. Tests that read it declare so with
`needs_shared(...)` (a mark) or `shared_path(...)` (in a fixture or test body): missing,
they skip with a reason naming what is missing and where it comes from, so `python -m
pytest` runs on a fresh clone. CI sets PBI_FORGE_REQUIRE_SHARED=1, which turns those
skips into failures, so there every test really runs.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REQUIRE_SHARED_ENV = "PBI_FORGE_REQUIRE_SHARED"

# What each piece of ../shared is, for the skip reason; a path not listed here is a typo.
SHARED_WHAT = {
    "schemas": "Microsoft's PBIR/PBIP JSON schemas",
    "dax-corpus/measures.jsonl": "the real-world DAX measure corpus",
    "dax-corpus/oracle": "the Power BI Desktop oracle results",
}


def shared_missing(rel: str) -> str | None:
    """The skip reason when ../shared/<rel> is absent, else None."""
    if rel not in SHARED_WHAT:
        raise KeyError(f"unknown ../shared part {rel!r}; known: {sorted(SHARED_WHAT)}")
    if (SHARED / rel).exists():
        return None
    return f"needs ../shared/{rel} ({SHARED_WHAT[rel]}, beside the repository in CI)"


def _missing(reason: str) -> None:
    if os.environ.get(REQUIRE_SHARED_ENV) == "1":
        pytest.fail(f"{reason}; {REQUIRE_SHARED_ENV}=1 requires it", pytrace=False)
    pytest.skip(reason)


def needs_shared(rel: str) -> pytest.MarkDecorator:
    """Mark a test (or, as `pytestmark`, a module) as needing ../shared/<rel>."""
    shared_missing(rel)  # validates the name at import time
    return pytest.mark.needs_shared(rel)


def shared_path(rel: str) -> Path:
    """../shared/<rel>, or skip (fail under PBI_FORGE_REQUIRE_SHARED=1) when it is missing."""
    reason = shared_missing(rel)
    if reason:
        _missing(reason)
    return SHARED / rel


def shared_jsonl(rel: str) -> list[dict]:
    """The rows of a JSON-lines file in ../shared, or [] when it is missing.

    For module-level data (parametrize lists, hypothesis strategies): reading must not
    crash collection; the tests using the rows carry `needs_shared(rel)`, which skips them.
    """
    path = SHARED / rel
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def shared_json(rel: str, default=None):
    """A JSON file in ../shared, or `default` when it is missing (see shared_jsonl)."""
    path = SHARED / rel
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else default


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files from current output")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs_shared(rel): the test reads ../shared/<rel>; skipped when missing")
    # Golden-file tests read UPDATE_GOLDEN; the flag is the documented switch.
    if config.getoption("--update-golden", default=False):
        os.environ["UPDATE_GOLDEN"] = "1"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # tryfirst: decide before an empty-parameter-set skip hides that the data was missing
    for mark in item.iter_markers("needs_shared"):
        reason = shared_missing(*mark.args)
        if reason:
            _missing(reason)


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden") or os.environ.get("UPDATE_GOLDEN"))


@pytest.fixture(scope="session")
def schema_dir() -> Path:
    return shared_path("schemas")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A private copy of the shipped project (YAML only) that a test may break."""
    dest = tmp_path / "project"
    for part in ("semantic", "measures"):
        shutil.copytree(REPO / part, dest / part)
    return dest
