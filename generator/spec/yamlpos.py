"""YAML loading that remembers where every key and value came from.

PyYAML's composer gives nodes with marks; we turn them into ordinary dicts/lists
(`PosDict`, `PosList`) that also carry the position of the container, of each key and of
each value. jsonschema errors carry a path of keys, which `position_of` maps back to
file:line:column.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from generator.errors import ForgeError, Problem
from generator.source import ExprOrigin, Pos


class PosDict(dict):
    """A dict with `.pos` (the mapping), `.key_pos[k]` and `.value_pos[k]`."""

    pos: Pos
    key_pos: dict[str, Pos]
    value_pos: dict[str, Pos]
    origins: dict[str, ExprOrigin]
    raw: dict[str, str]  # scalar values as written (so `0.40` stays `0.40` as DAX text)


class PosList(list):
    """A list with `.pos` (the sequence) and `.item_pos[i]`."""

    pos: Pos
    item_pos: list[Pos]


def _pos(file: str, mark: yaml.Mark) -> Pos:
    return Pos(file, mark.line + 1, mark.column + 1)


def _origin(file: str, node: yaml.ScalarNode, text: str) -> ExprOrigin:
    """Where the scalar's text starts, for mapping DAX positions back to YAML."""
    start = node.start_mark
    if node.style in ("|", ">"):
        # The block body starts on the line after the indicator; its indentation is the
        # column of the first body line's first character in the YAML file.
        raw_lines = start.buffer.split("\n") if start.buffer else []
        body_line = start.line + 1
        indent = 0
        if body_line < len(raw_lines):
            raw = raw_lines[body_line]
            indent = len(raw) - len(raw.lstrip(" "))
        return ExprOrigin(file, body_line + 1, indent + 1, block=True, indent=indent)
    quote = 1 if node.style in ("'", '"') else 0
    return ExprOrigin(file, start.line + 1, start.column + 1 + quote)


def _convert(node: yaml.Node, file: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = PosDict()
        out.pos, out.key_pos, out.value_pos, out.origins, out.raw = _pos(file, node.start_mark), {}, {}, {}, {}
        for key_node, value_node in node.value:
            key = _convert(key_node, file)
            if not isinstance(key, str):
                key = str(key)
            if key in out:
                raise ForgeError(Problem(_pos(file, key_node.start_mark), f"duplicate key '{key}'"))
            out[key] = _convert(value_node, file)
            out.key_pos[key] = _pos(file, key_node.start_mark)
            out.value_pos[key] = _pos(file, value_node.start_mark)
            if isinstance(value_node, yaml.ScalarNode):
                out.raw[key] = value_node.value
                out.origins[key] = _origin(file, value_node, value_node.value)
        return out
    if isinstance(node, yaml.SequenceNode):
        out_list = PosList(_convert(item, file) for item in node.value)
        out_list.pos = _pos(file, node.start_mark)
        out_list.item_pos = [_pos(file, item.start_mark) for item in node.value]
        return out_list
    return yaml.SafeLoader.construct_object(_CONSTRUCTOR, node, deep=True)


class _Constructor(yaml.SafeLoader):
    def __init__(self) -> None:  # no stream: used only to construct scalars
        yaml.SafeLoader.__init__(self, "")


_CONSTRUCTOR = _Constructor()
# Dates stay strings: the YAML format is typed by our schema, not by YAML's timestamp guess.
_CONSTRUCTOR.yaml_constructors = dict(_CONSTRUCTOR.yaml_constructors)
_CONSTRUCTOR.yaml_constructors["tag:yaml.org,2002:timestamp"] = yaml.SafeLoader.construct_yaml_str


def display_path(path: Path, root: Path | None) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve())) if root else str(path)
    except ValueError:
        return str(path)


def load_yaml(path: Path, root: Path | None = None) -> Any:
    """Parse one YAML file into PosDict/PosList; syntax errors become a ForgeError."""
    file = display_path(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ForgeError(Problem(Pos(file, 1, 1), f"cannot read file: {exc}")) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = _pos(file, mark) if mark else Pos(file, 1, 1)
        message = " ".join(filter(None, [exc.context, exc.problem]))
        raise ForgeError(Problem(pos, f"invalid YAML: {message}")) from None
    if node is None:
        raise ForgeError(Problem(Pos(file, 1, 1), "the file is empty"))
    return _convert(node, file)


def position_of(doc: Any, path: list[Any], key_of_last: bool = False) -> Pos | None:
    """The position of the value at `path` (a jsonschema error path) inside `doc`."""
    node, pos = doc, getattr(doc, "pos", None)
    for i, step in enumerate(path):
        last = i == len(path) - 1
        if isinstance(node, PosDict) and step in node:
            pos = node.key_pos[step] if (last and key_of_last) else node.value_pos[step]
            node = node[step]
        elif isinstance(node, PosList) and isinstance(step, int) and step < len(node):
            pos = node.item_pos[step]
            node = node[step]
        else:
            break
    return pos
