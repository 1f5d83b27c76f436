"""A TMDL reader: a `definition/` folder → a small frozen tree (`Node`), positions kept.

TMDL (learn.microsoft.com/analysis-services/tmdl/tmdl-overview) is indentation-based:
an object is `kind [name] [= expression]` on one line, its properties (`key: value`, or a
bare flag such as `isHidden`) and child objects one tab deeper, a multi-line expression
two tabs deeper than its object (or fenced with ```), `///` lines describe the object that
follows. The reader keeps every object generically (kind, name, expression, properties,
children) plus its verbatim text, so that whatever pbi-forge's YAML cannot express can
be written back byte-for-byte instead of being dropped; `model_of()` gives the typed
views the YAML writer needs. Bad input is a ForgeError naming file:line:col.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from generator.errors import ForgeError, Problem
from generator.source import Pos

# object kinds that take a name (learn.microsoft.com/analysis-services/tmdl/tmdl-overview#object-types)
NAMED = {"model", "database", "table", "column", "measure", "partition", "hierarchy", "level", "relationship",
         "role", "tablePermission", "columnPermission", "member", "calculationItem", "perspective",
         "perspectiveTable", "perspectiveColumn", "perspectiveMeasure", "perspectiveHierarchy", "cultureInfo",
         "linguisticMetadata", "translation", "expression", "annotation", "extendedProperty", "ref",
         "queryGroup", "dataSource", "function", "calendar", "variation", "objectTranslation",
         "calculationExpression", "calendarColumnGroup", "timeUnitColumnAssociation", "calendarColumnReference"}
# object kinds without a name (a block, or `kind = expression`)
NAMELESS = {"calculationGroup", "dataAccessOptions", "kpi", "formatStringDefinition", "detailRowsDefinition",
            "alternateOf", "refreshPolicy", "source", "changedProperty", "multipleOrEmptySelectionExpression",
            "noSelectionExpression", "targetExpression", "statusExpression", "trendExpression",
            "targetFormatString", "defaultDetailRowsDefinition", "dataCoverageDefinition", "relatedColumnDetails",
            "groupByColumn", "excludedArtifact", "expression"}
# named kinds that may also stand alone as a block (`database`, `translations`)
BLOCKS = {"database", "model", "translations"}
_KEYWORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FENCE = "```"


@dataclass(frozen=True)
class Prop:
    key: str
    value: str | None  # None for a bare flag (`isHidden`)
    pos: Pos


@dataclass(frozen=True)
class Node:
    kind: str
    name: str | None
    expression: str | None  # the text after `=`, a multi-line body dedented
    props: tuple[Prop, ...]
    children: tuple["Node", ...]
    description: str | None
    pos: Pos
    raw: str  # the object's own lines (description included), verbatim

    def prop(self, key: str, default: str | None = None) -> str | None:
        for p in self.props:
            if p.key == key:
                return p.value if p.value is not None else "true"
        return default

    def flag(self, key: str) -> bool:
        value = self.prop(key)
        return value is not None and value.lower() != "false"

    def kids(self, *kinds: str) -> tuple["Node", ...]:
        return tuple(c for c in self.children if c.kind in kinds)

    def kid(self, kind: str) -> "Node | None":
        found = self.kids(kind)
        return found[0] if found else None


@dataclass(frozen=True)
class Document:
    """One .tmdl file: its top-level objects."""

    path: Path
    nodes: tuple[Node, ...]


def _level(line: str) -> int:
    return len(line) - len(line.lstrip("\t"))


def unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].replace('""', '"')
    return text


def split_name(text: str) -> tuple[str, str]:
    """A leading (possibly quoted) TMDL name and the rest of the text."""
    text = text.lstrip(" ")
    if text.startswith("'"):
        i = 1
        while i < len(text):
            if text[i] == "'":
                if text[i + 1:i + 2] == "'":
                    i += 2
                    continue
                return text[1:i].replace("''", "'"), text[i + 1:]
            i += 1
        raise ValueError("a quoted name is not closed")
    m = re.match(r"[^=\s][^=]*?(?=\s*=|\s*$)", text)
    if not m:
        return "", text
    return m.group(0).strip(), text[m.end():]


def split_dotted(text: str) -> tuple[str, str]:
    """`Table.Column` / `'My Table'.'My Column'` (relationship ends, level columns)."""
    first, rest = split_name(text) if text.startswith("'") else (None, None)
    if first is not None and rest is not None and rest.startswith("."):
        return first, unquote(rest[1:])
    head, _, tail = text.partition(".")
    if tail.startswith("'") or "'" not in head:
        return unquote(head), unquote(tail)
    raise ValueError(f"not a Table.Column reference: {text}")


class _Reader:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.i = 0

    def pos(self, i: int, col: int = 1) -> Pos:
        return Pos(str(self.path), i + 1, col)

    def error(self, i: int, message: str, col: int | None = None) -> ForgeError:
        line = self.lines[i] if i < len(self.lines) else ""
        return ForgeError(Problem(self.pos(i, col or _level(line) + 1), message))

    def block(self, level: int) -> tuple[list[Prop], list[Node]]:
        """Properties and objects at exactly `level`, until a line less indented."""
        props: list[Prop] = []
        nodes: list[Node] = []
        desc: list[str] = []
        desc_start: int | None = None
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if not line.strip():
                self.i += 1
                continue
            lv = _level(line)
            if lv < level:
                break
            if lv > level:
                raise self.error(self.i, f"unexpected indentation ({lv} tabs where {level} were expected)")
            body = line[lv:]
            if body.startswith("///"):
                desc_start = self.i if desc_start is None else desc_start
                desc.append(body[3:].removeprefix(" "))
                self.i += 1
                continue
            m = _KEYWORD.match(body)
            if not m:
                raise self.error(self.i, f"expected a TMDL object or property, found {body[:40]!r}")
            key, rest = m.group(0), body[m.end():]
            if rest.startswith(":"):
                props.append(Prop(key, rest[1:].strip(), self.pos(self.i, lv + 1)))
                self.i += 1
            elif not rest.strip() and key not in NAMELESS | BLOCKS:
                props.append(Prop(key, None, self.pos(self.i, lv + 1)))
                self.i += 1
            else:
                nodes.append(self.node(level, key, rest, desc, desc_start))
            desc, desc_start = [], None
        return props, nodes

    def node(self, level: int, kind: str, rest: str, desc: list[str], desc_start: int | None) -> Node:
        start = self.i
        col = level + 1
        name: str | None = None
        if kind in NAMED and rest.strip() and not rest.lstrip().startswith("="):
            if kind == "ref":  # `ref table X`: the referenced kind and name
                sub = _KEYWORD.match(rest.lstrip())
                if not sub:
                    raise self.error(start, "`ref` needs an object kind and a name", col)
                rest = rest.lstrip()[sub.end():]
                kind = "ref " + sub.group(0)
            try:
                name, rest = split_name(rest)
            except ValueError as exc:
                raise self.error(start, str(exc), col) from None
            if not name:
                raise self.error(start, f"`{kind}` needs a name", col)
        elif kind not in NAMELESS | BLOCKS | NAMED:
            raise self.error(start, f"unknown TMDL object type `{kind}`", col)
        rest = rest.strip()
        expression = None
        self.i += 1
        if rest.startswith("="):
            expression = self.expression(level, rest[1:].strip(), kind)
        elif rest:
            raise self.error(start, f"unexpected text after `{kind}`: {rest[:40]!r}", col)
        props, children = self.block(level + 1)
        end = self.i
        while end > start + 1 and not self.lines[end - 1].strip():
            end -= 1
        first = desc_start if desc_start is not None else start
        raw = "\n".join(self.lines[first:end]) + "\n"
        return Node(kind, name, expression, tuple(props), tuple(children),
                    "\n".join(desc) if desc else None, self.pos(start, col), raw)

    def expression(self, level: int, first: str, kind: str) -> str:
        if first == FENCE or (first.startswith(FENCE) and not first.endswith(FENCE)):
            body = [first[3:]] if first[3:].strip() else []
            while self.i < len(self.lines):
                line = self.lines[self.i]
                self.i += 1
                if line.strip() == FENCE:
                    return _dedent(body)
                body.append(line)
            raise self.error(self.i - 1, "a ``` expression is not closed")
        if first:
            return first
        # an object's body is two tabs deeper (its properties come one tab deeper); the body of
        # an expression property (kpi's statusExpression) may sit just one tab deeper
        nxt = next((ln for ln in self.lines[self.i:] if ln.strip()), "")
        stop = level if kind in NAMELESS and _level(nxt) == level + 1 else level + 1
        body = []
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.strip() and _level(line) <= stop:
                break
            body.append(line)
            self.i += 1
        while body and not body[-1].strip():
            body.pop()
            self.i -= 1
        if not body:
            raise self.error(self.i - 1 if self.i else 0, "`=` is followed by no expression")
        return _dedent(body)


def _dedent(lines: list[str]) -> str:
    tabs = min((_level(ln) for ln in lines if ln.strip()), default=0)
    return "\n".join(ln[tabs:] if ln.strip() else "" for ln in lines).strip("\n")


def parse_text(path: Path, text: str) -> Document:
    reader = _Reader(path, text)
    props, nodes = reader.block(0)
    if props:
        p = props[0]
        raise ForgeError(Problem(p.pos, f"property `{p.key}` outside any object"))
    return Document(path, tuple(nodes))


def read_folder(folder: Path) -> tuple[Document, ...]:
    """Every .tmdl file of a `definition` folder, in a stable order."""
    docs = []
    for path in sorted(folder.rglob("*.tmdl"), key=lambda p: p.relative_to(folder).as_posix()):
        try:
            text = path.read_text("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ForgeError(Problem(Pos(str(path), 1, 1), f"cannot read the TMDL file: {exc}")) from None
        docs.append(parse_text(path, text))
    return tuple(docs)
