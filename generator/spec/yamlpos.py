"""YAML loading that remembers where every key and value came from.

PyYAML's composer gives nodes with marks; we turn them into ordinary dicts/lists
(`PosDict`, `PosList`) that also carry the position of the container, of each key and of
each value. jsonschema errors carry a path of keys, which `position_of` maps back to
file:line:column.

The loader trusts nothing in the text: alias expansion is bounded (a "billion laughs"
file is an error, not a MemoryError), nesting is bounded, and merge keys (`<<:`), custom
or exotic tags, NUL and other control characters, lone surrogate escapes, undecodable
bytes, symlink loops and unreadable files are each a positioned error.
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


ALIAS_BUDGET = 1_000  # nodes that aliases may add in total: plenty for reuse, too few for a bomb
MAX_NESTING = 64  # the deepest real file nests about 6 levels
# Tags a value may carry: YAML's core schema. Others (a custom `!tag`, `!!binary`, `!!set`,
# `!!python/...`) would be silently reinterpreted or rejected later, far from the file.
_PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq",
                                                            "timestamp"))
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Loader(yaml.SafeLoader):
    """SafeLoader's composer with limits: nesting depth, alias expansion, recursive aliases.

    Limits are checked while composing, where an alias still shares its anchor's node:
    the expansion a later conversion would do is measured (linear time, memoised) and
    refused beyond ALIAS_BUDGET before it is ever built."""

    def __init__(self, stream: str, file: str):
        super().__init__(stream)
        self.file = file
        self.depth = 0
        self.open_anchors: list[str] = []
        self.alias_nodes = 0
        self.sizes: dict[int, int] = {}

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._count_alias(event)
            return super().compose_node(parent, index)
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ForgeError(Problem(_pos(self.file, event.start_mark),
                                     f"the YAML nests more than {MAX_NESTING} levels deep"))
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self.open_anchors.append(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1
            if anchor is not None:
                self.open_anchors.pop()

    def _count_alias(self, event: yaml.AliasEvent) -> None:
        pos = _pos(self.file, event.start_mark)
        if event.anchor in self.open_anchors:
            raise ForgeError(Problem(pos, f"alias *{event.anchor} refers to a node that contains it (a recursive "
                                          "alias)"))
        node = self.anchors.get(event.anchor)
        if node is None:
            return  # PyYAML reports the undefined alias with its position
        self.alias_nodes += _size(node, self.sizes)
        if self.alias_nodes > ALIAS_BUDGET:
            raise ForgeError(Problem(pos, f"aliases expand to more than {ALIAS_BUDGET:,} values in this file",
                                     "write the values out, or use fewer and smaller aliases"))


def _size(root: yaml.Node, sizes: dict[int, int]) -> int:
    """Values in the expansion of `root`, memoised by node so a shared subtree is counted once per use."""
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        kids = _kids(node)
        if children_done or not kids:
            sizes[id(node)] = 1 + sum(sizes[id(k)] for k in kids)
        else:
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in sizes)
    return sizes[id(root)]


def _kids(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_tag(node: yaml.Node, file: str) -> None:
    if node.tag == _MERGE_TAG:
        raise ForgeError(Problem(_pos(file, node.start_mark), "merge keys (<<) are not supported",
                                 "write the keys out in full"))
    if node.tag not in _PLAIN_TAGS:
        raise ForgeError(Problem(_pos(file, node.start_mark), f"the tag {_short(node.tag)} is not supported",
                                 "remove it: values are typed by the file's schema"))


def _short(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def _check_text(value: str, node: yaml.Node, file: str) -> None:
    """Strings must be encodable: a lone surrogate ("\\ud800") breaks every file written later."""
    for ch in value:
        if "\ud800" <= ch <= "\udfff":
            raise ForgeError(Problem(_pos(file, node.start_mark),
                                     f"invalid escape: the lone surrogate U+{ord(ch):04X} is not a character",
                                     "write the character itself or \\U escape it (\\U0001F600)"))


def _convert(node: yaml.Node, file: str) -> Any:
    _check_tag(node, file)
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
    try:
        value = yaml.SafeLoader.construct_object(_CONSTRUCTOR, node, deep=True)
    except (yaml.MarkedYAMLError, ValueError, OverflowError) as exc:  # `!!int abc`, `!!float x`
        problem = exc.problem if isinstance(exc, yaml.MarkedYAMLError) else str(exc)
        raise ForgeError(Problem(_pos(file, node.start_mark), f"invalid {_short(node.tag)} value: {problem}")) \
            from None
    finally:
        _CONSTRUCTOR.constructed_objects.clear()
    if isinstance(value, str):
        _check_text(value, node, file)
    return value


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
    except (ValueError, OSError, RuntimeError):  # outside root; a symlink loop (RuntimeError before 3.13)
        try:
            return str(path.relative_to(root)) if root else str(path)
        except ValueError:
            return str(path)


def load_yaml(path: Path, root: Path | None = None) -> Any:
    """Parse one YAML file into PosDict/PosList; every problem becomes a positioned ForgeError."""
    file = display_path(path, root)
    text = _read(path, file)
    loader = None
    try:
        loader = _Loader(text, file)  # its reader rejects control characters up front
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = _pos(file, mark) if mark else Pos(file, 1, 1)
        message = " ".join(filter(None, [exc.context, exc.problem]))
        raise ForgeError(Problem(pos, f"invalid YAML: {message}")) from None
    except yaml.reader.ReaderError as exc:  # NUL and other control characters
        raise ForgeError(Problem(_offset_pos(file, text, exc.position),
                                 f"the character U+{exc.character:04X} is not allowed in YAML",
                                 "remove it (a NUL byte or control character, often from a binary paste)")) from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        raise ForgeError(Problem(Pos(file, 1, 1), "the file is empty"))
    return _convert(node, file)


def _read(path: Path, file: str) -> str:
    """The file's text as UTF-8 (a leading BOM dropped); undecodable bytes are positioned."""
    try:
        data = path.read_bytes()
    except OSError as exc:  # missing, a folder, no permission, a symlink loop
        raise ForgeError(Problem(Pos(file, 1, 1), f"cannot read file: {exc.strerror or exc}")) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[:exc.start].decode("utf-8")
        raise ForgeError(Problem(_offset_pos(file, good, len(good)),
                                 f"the file is not UTF-8: byte 0x{data[exc.start]:02X} cannot be decoded",
                                 "save the file as UTF-8")) from None
    return text[1:] if text.startswith("\ufeff") else text


def _offset_pos(file: str, text: str, offset: int) -> Pos:
    before = text[:offset]
    line = before.count("\n") + 1
    return Pos(file, line, offset - (before.rfind("\n") + 1) + 1)


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
