"""Names that become files or folders must be safe on every file system the project meets.

Table names become `tables/<name>.tmdl` and `data/<name>.parquet`, measure folders become
folders under `dax/`, measure names `.dax` files, page ids and visual names PBIR folders,
the model name the `.pbip`, `.Report` and `.SemanticModel` names. A name that is `..` or
holds a path separator would write outside the output folder; a Windows device name
(`CON`, `NUL`, `COM1`, also `CON.txt`), a trailing dot or space, or a control character
cannot be checked out on Windows; two siblings that differ only in case are one folder on
Windows and macOS. The loader reports each with the YAML position.
"""
from __future__ import annotations

import re

_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def segment_problem(name: str) -> str | None:
    """Why `name` cannot be one file or folder name, or None when it can."""
    if name in (".", ".."):
        return f"'{name}' would name a folder outside its own"
    if "/" in name or "\\" in name:
        return "it contains a path separator ('/' or '\\')"
    if _CONTROL.search(name):
        return "it contains a control character"
    if name != name.rstrip(". "):
        return "it ends with a dot or a space, which Windows drops"
    if name.split(".")[0].rstrip(" ").upper() in _DEVICES:
        return f"'{name.split('.')[0]}' is a reserved device name on Windows"
    return None


def folder_problem(folder: str) -> str | None:
    """A display folder (`A\\B`, nested with backslashes): why one of its parts is unsafe."""
    for part in folder.split("\\"):
        part = part.strip()
        if not part:
            continue
        why = segment_problem(part)
        if why:
            return f"part '{part}': {why}"
    return None


def folder_parts(folder: str | None) -> tuple[str, ...]:
    """The non-empty parts of a display folder, as `dax/` nests them."""
    return tuple(p.strip() for p in (folder or "").split("\\") if p.strip())
