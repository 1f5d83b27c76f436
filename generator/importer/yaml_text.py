"""Formatted, deterministic YAML text with `# comments` (PyYAML's dumper cannot write comments).

A document is built from plain dicts/lists/scalars; a `Commented(value, notes)` wraps a
mapping value or a list item whose notes (what could not be represented) are written as
`#` lines right above it. Scalars are quoted by PyYAML itself, so what is written reads
back as the same value; multi-line text becomes a literal block (`|-`) so DAX and M keep
their lines.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml


@dataclass(frozen=True)
class Commented:
    value: Any
    notes: tuple[str, ...]


def scalar(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 30, allow_unicode=True)
    return text.removesuffix("\n").removesuffix("\n...").removesuffix("\n")


def _block(text: str, indent: int) -> list[str]:
    """A literal block scalar (`|-`) that reads back as exactly `text`."""
    pad = " " * indent
    return ["|-", *[(pad + ln) if ln else "" for ln in text.split("\n")]]


def _needs_block(value: Any) -> bool:
    """Multi-line text as a literal block, unless YAML could not read it back exactly:
    a first line indented (it would set the block's indentation), a trailing newline, a
    line of whitespace only, a carriage return; those stay a quoted scalar."""
    if not isinstance(value, str) or "\n" not in value or "\r" in value or value.endswith("\n"):
        return False
    lines = value.split("\n")
    return lines[0][:1] not in (" ", "\t") and all(ln.strip() or not ln for ln in lines)


def _comments(notes: tuple[str, ...], indent: int) -> list[str]:
    pad = " " * indent
    return [f"{pad}# {n}".rstrip() for note in notes for n in note.split("\n")]


def dump(doc: dict[str, Any], header: tuple[str, ...] = ()) -> str:
    lines = _comments(header, 0)
    lines += _mapping(doc, 0)
    return "\n".join(lines) + "\n"


def _mapping(doc: dict[str, Any], indent: int) -> list[str]:
    out: list[str] = []
    pad = " " * indent
    for key, value in doc.items():
        if isinstance(value, Commented):
            out += _comments(value.notes, indent)
            value = value.value
        out += _entry(pad + scalar(key) + ":", value, indent)
    return out


def _entry(head: str, value: Any, indent: int) -> list[str]:
    if isinstance(value, dict) and value and not _flow(value):
        return [head, *_mapping(value, indent + 2)]
    if isinstance(value, list) and value and not _flow(value):
        return [head, *_sequence(value, indent + 2)]
    if _needs_block(value):
        block = _block(value, indent + 2)
        return [head + " " + block[0], *block[1:]]
    return [head + " " + _flow_text(value)]


def _sequence(items: list[Any], indent: int) -> list[str]:
    out: list[str] = []
    pad = " " * indent
    for item in items:
        if isinstance(item, Commented):
            out += _comments(item.notes, indent)
            item = item.value
        if isinstance(item, dict) and item and not _flow(item):
            body = _mapping(item, indent + 2)
            out.append(pad + "- " + body[0][indent + 2:])
            out += body[1:]
        else:
            out += _entry(pad + "-", item, indent)
    return out


def _flow(value: Any) -> bool:
    """Short mappings/lists of plain scalars go on one line: `{name: Id, type: int64}`."""
    if isinstance(value, dict):
        items = list(value.values())
    elif isinstance(value, list):
        items = value
    else:
        return True
    # a plain scalar with a flow indicator ([ ] { } ,) would end the flow collection early
    if any(isinstance(v, (dict, list, Commented)) or (isinstance(v, str) and set(v) & set("\n[]{},")) for v in items):
        return False
    return len(_flow_text(value)) <= 100


def _flow_text(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k)}: {scalar(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    return scalar(value)
