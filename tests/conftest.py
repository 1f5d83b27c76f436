"""Shared fixtures: the repository, Microsoft's schemas in ../shared, project copies to break."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files from current output")


def pytest_configure(config: pytest.Config) -> None:
    # Golden-file tests read UPDATE_GOLDEN; the flag is the documented switch.
    if config.getoption("--update-golden", default=False):
        os.environ["UPDATE_GOLDEN"] = "1"


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden") or os.environ.get("UPDATE_GOLDEN"))


@pytest.fixture(scope="session")
def schema_dir() -> Path:
    path = SHARED / "schemas"
    assert (path / "fabric").is_dir(), f"Microsoft's schemas are expected at {path}"
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A private copy of the shipped project (YAML only) that a test may break."""
    dest = tmp_path / "project"
    for part in ("semantic", "measures"):
        shutil.copytree(REPO / part, dest / part)
    return dest
