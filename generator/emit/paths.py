"""Containment: every path the build writes or deletes lies inside its folder.

Relative paths come from the build itself (checked names) and from files on disk the
build reads back (the manifest, the journal), which anyone may have edited. Before any
of them is acted on it must be a plain relative POSIX path (no '..', '.', empty part,
backslash or drive) and, resolved with symlinks followed, still lie inside its root.
"""
from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath, PureWindowsPath

from generator.errors import ForgeError, Problem


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def rel_problem(rel: object) -> str | None:
    """Why `rel` is not a plain relative path inside a folder, or None."""
    if not isinstance(rel, str) or not rel:
        return "it is not a relative path"
    if "\\" in rel or PureWindowsPath(rel).drive or PurePosixPath(rel).is_absolute():
        return "it is an absolute path or not a POSIX path"
    if any(part in ("", ".", "..") for part in rel.split("/")):
        return "it has a '..', '.' or empty part"
    return None


def contained(root: Path, rel: str) -> Path:
    """`root / rel`, refused unless it is plain and resolves (through symlinks) inside `root`."""
    why = rel_problem(rel)
    path = root / rel if why is None else root
    if why is None:
        base = root.resolve()
        try:
            path.resolve().relative_to(base)
        except ValueError:
            why = f"it resolves to {path.resolve()}, outside {base} (through a symlink)"
    if why is not None:
        raise ForgeError(Problem(None, f"refusing to touch '{rel}' in {root}: {why}"))
    return path


def prune_empty(folder: Path, stop: Path) -> None:
    """Remove `folder` and its parents up to `stop` while they are empty."""
    while folder != stop and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
