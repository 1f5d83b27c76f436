"""Surgical edits of a YAML file's text: replace a value, add a key, append a list item.

`import --merge` brings a Desktop edit back into YAML that people wrote by hand, with
comments, blank lines and their own key order. Re-dumping the file would lose all of
that, so each edit is a (start, end, replacement) span of the original text, found from
PyYAML's node marks (`yaml.compose` keeps the character index where every node starts
and ends); every byte outside the spans stays as it was. New values are written the way
the importer's writer formats them (`yaml_text`), so a merged file reads like an
imported one. The caller re-loads the edited text to check it says what was meant.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from generator.errors import ForgeError
from generator.importer.yaml_text import _block, _flow_text, _needs_block, dump, scalar


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    text: str


def compose(text: str, label: str) -> yaml.Node:
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise ForgeError(f"{label}: cannot re-read the YAML to merge into it: {exc}") from None
    if not isinstance(root, yaml.MappingNode):
        raise ForgeError(f"{label}: the YAML is not a mapping; cannot merge into it")
    return root


def apply(text: str, edits: list[Edit]) -> str:
    """The text with every edit applied (spans must not overlap; insertions at one point keep their order)."""
    ordered = sorted(enumerate(edits), key=lambda ie: (ie[1].start, ie[1].end, ie[0]))
    crlf = "\r\n" in text  # a file saved with Windows line ends keeps them
    out, at = [], 0
    for _, e in ordered:
        if e.start < at:
            raise ForgeError("internal: two merge edits overlap in one YAML file")
        out += [text[at:e.start], e.text.replace("\n", "\r\n") if crlf else e.text]
        at = e.end
    return "".join(out) + text[at:]


def get(mapping: yaml.MappingNode, key: str) -> yaml.Node | None:
    for k, v in mapping.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def key_node(mapping: yaml.MappingNode, key: str) -> yaml.ScalarNode | None:
    for k, _ in mapping.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return k
    return None


def _last_scalar(node: yaml.Node) -> yaml.Node:
    """The last node written inside `node` (where its text really ends: a block
    collection's own end mark lies past the comments and blank lines that follow it)."""
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.value and node.flow_style is not True:
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    return node


def _line_after(text: str, node: yaml.Node) -> int:
    """The index just past the line on which `node`'s text ends (its trailing comment included)."""
    end = _last_scalar(node).end_mark.index
    while end > 0 and text[end - 1] in " \t\r\n":
        end -= 1  # a block scalar owns the line breaks after it
    nl = text.find("\n", end)
    return len(text) if nl < 0 else nl + 1


def value_text(value: Any, key_col: int) -> str:
    """`value` as it goes after `key: ` at column `key_col` (a literal block for multi-line text)."""
    if isinstance(value, dict):
        return _flow_text(value)
    if _needs_block(value):
        block = _block(value, key_col + 2)
        return "\n".join(block)
    return _flow_text(value)


def replace(text: str, node: yaml.Node, key_col: int, value: Any) -> Edit:
    """Replace the value `node` (a scalar or a flow collection) with `value`."""
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.flow_style is not True:
        raise ForgeError("internal: merge replaces only scalars and flow collections")
    start, end = node.start_mark.index, node.end_mark.index
    new = value_text(value, key_col)
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        # a block scalar owns the line breaks (and blank lines) after its last line: keep them
        original = text[start:end]
        return Edit(start, end, new + original[len(original.rstrip(" \t\r\n")):].replace("\r\n", "\n"))
    if "\n" in new:
        # a one-line value becomes a block: a comment after it moves onto the `|-` line
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end
        line_end -= 1 if text[line_end - 1:line_end] == "\r" else 0
        comment = text[end:line_end].strip()
        head, _, body = new.partition("\n")
        head += f" {comment}" if comment.startswith("#") else ""
        return Edit(start, line_end, head + "\n" + body)
    return Edit(start, end, new)


def add_key(text: str, mapping: yaml.MappingNode, key: str, value: Any, after: str | None = None) -> Edit:
    """Add `key: value` to `mapping`: at its end, or right after the key `after`."""
    if mapping.flow_style:
        close = mapping.end_mark.index - 1  # the `}`
        if text[close] != "}":
            raise ForgeError("internal: a flow mapping that does not end with '}'")
        if after is not None and get(mapping, after) is not None:
            prev = get(mapping, after)
            at = prev.end_mark.index
            return Edit(at, at, f", {scalar(key)}: {_flow_text(value)}")
        return Edit(close, close, f", {scalar(key)}: {_flow_text(value)}")
    col = mapping.value[0][0].start_mark.column
    anchor = get(mapping, after) if after is not None else None
    at = _line_after(text, anchor if anchor is not None else mapping)
    prefix = "" if at == 0 or text[at - 1] == "\n" else "\n"
    return Edit(at, at, prefix + " " * col + f"{scalar(key)}: {value_text(value, col)}\n")


def append_item(text: str, seq: yaml.SequenceNode, item: dict) -> Edit:
    """Append `item` (a mapping) to the block sequence `seq`, formatted as `yaml_text` writes
    a list item, at the indentation of the items already there."""
    if seq.flow_style or not seq.value:
        raise ForgeError("internal: merge appends only to a non-empty block list")
    first = seq.value[0]
    line_start = text.rfind("\n", 0, first.start_mark.index) + 1
    dash = text.index("-", line_start) - line_start  # the column of the items' `-`
    body = dump({"x": [item]}).split("\n")[1:]  # the item, as a list item two columns in
    shift = dash - 2
    lines = [(" " * shift + ln[0:] if shift >= 0 else ln[-shift:]) if ln else "" for ln in body]
    rendered = "\n".join(lines).rstrip("\n") + "\n"
    at = _line_after(text, seq)
    prefix = "" if at == 0 or text[at - 1] == "\n" else "\n"
    return Edit(at, at, prefix + rendered)
