"""A model version to compare with: the YAML of a git ref, or another project folder.

A git ref is read with `git archive` into a temporary folder, so the work tree, the index
and the checked-out branch are never touched. `same_data` points the old model's tables
at the new model's source files, so both versions are evaluated on the same rows: the
review shows what the *model* change does, not what a data change does.
"""
from __future__ import annotations

import dataclasses
import io
import subprocess
import tarfile
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from generator.errors import ForgeError
from generator.spec import load_project
from generator.spec.model import Model

_SKIPPED = ("powerbi/",)  # build output: never needed to load a model


@dataclass(frozen=True)
class Version:
    """A loaded model and how to name it in a report (`HEAD`, `main`, a folder name)."""

    label: str
    model: Model


def from_folder(folder: Path, label: str | None = None) -> Version:
    folder = Path(folder).resolve()
    if not (folder / "semantic" / "model.yaml").is_file():
        raise ForgeError(f"{folder} is not a project folder (no semantic/model.yaml)")
    return Version(label or folder.name, load_project(folder))


@contextmanager
def from_git(project: Path, ref: str) -> Iterator[Version]:
    """The project as committed at `ref`; the temporary copy lives until the block ends."""
    project = Path(project).resolve()
    prefix = _git(project, "rev-parse", "--show-prefix").decode().strip()
    _git(project, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    archive = _git(project, "archive", "--format=tar", ref)
    with tempfile.TemporaryDirectory(prefix="pbi-forge-review-") as tmp:
        root = Path(tmp) / "project"
        _extract(archive, prefix, root)
        if not (root / "semantic" / "model.yaml").is_file():
            raise ForgeError(f"{ref} has no {prefix}semantic/model.yaml")
        yield Version(ref, load_project(root))


def _git(cwd: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise ForgeError("git is not installed; compare with a folder instead (`diff DIR`)") from exc
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        if args[:2] == ("rev-parse", "--verify"):
            raise ForgeError(f"'{args[-1].removesuffix('^{commit}')}' is not a commit of the git repository at {cwd}")
        raise ForgeError(f"git {' '.join(args)} failed in {cwd}: {detail[-1] if detail else 'no output'}")
    return done.stdout


def _extract(archive: bytes, prefix: str, dest: Path) -> None:
    """Write the archive's files under `prefix` (minus build output) into `dest`."""
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            if not member.isfile() or not member.name.startswith(prefix):
                continue
            rel = member.name[len(prefix):]
            if rel.startswith(_SKIPPED):
                continue
            target = dest / rel
            if not target.resolve().is_relative_to(dest.resolve()):
                continue  # never write outside the temporary folder
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            target.write_bytes(source.read())


def same_data(old: Model, new: Model) -> Model:
    """`old` with every table the new model also has reading the new model's source, so
    both versions see the same rows. Tables only the old model has keep their own."""
    sources = {t.name.lower(): t.source for t in new.tables}
    tables = tuple(dataclasses.replace(t, source=sources.get(t.name.lower(), t.source)) for t in old.tables)
    return dataclasses.replace(old, tables=tables)
