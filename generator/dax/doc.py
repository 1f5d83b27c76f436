"""A small Wadler/Prettier-style layout engine used by the DAX formatter.

A document is built from strings, lists (concatenation), `Group`, `Indent` and the
line markers below. The printer lays out each `Group` flat (every `LINE` is a space,
every `SOFTLINE` nothing) when it fits in the remaining width, otherwise broken (every
line marker of that group is a newline plus the current indentation). `HARDLINE` and
`BREAK_PARENT` force every enclosing group to break; line comments use them.
"""
from __future__ import annotations

from typing import Union


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


LINE = _Marker("LINE")  # space when flat, newline when broken
SOFTLINE = _Marker("SOFTLINE")  # nothing when flat, newline when broken
HARDLINE = _Marker("HARDLINE")  # always a newline; breaks enclosing groups
BREAK_PARENT = _Marker("BREAK_PARENT")  # prints nothing; breaks enclosing groups

Doc = Union[str, list, "Group", "Indent", "LineSuffix", _Marker]


class LineSuffix:
    """Text printed just before the next newline (a trailing ``//`` comment), so that
    the code that follows on the same line (a comma, a parenthesis) stays before it."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


class Group:
    __slots__ = ("doc", "hard")

    def __init__(self, doc: Doc):
        self.doc = doc
        self.hard = has_hard_break(doc)


class Indent:
    __slots__ = ("doc", "hard")

    def __init__(self, doc: Doc):
        self.doc = doc
        self.hard = has_hard_break(doc)


def has_hard_break(doc: Doc) -> bool:
    """True when `doc` contains a HARDLINE/BREAK_PARENT (nested groups are pre-computed)."""
    stack = [doc]
    while stack:
        d = stack.pop()
        if d is HARDLINE or d is BREAK_PARENT:
            return True
        if isinstance(d, list):
            stack.extend(d)
        elif isinstance(d, (Group, Indent)):
            if d.hard:
                return True
    return False


_FLAT, _BREAK = 0, 1


def render(doc: Doc, width: int = 100, indent_unit: int = 4) -> str:
    """Lay `doc` out within `width` columns (best effort: long atoms may overflow)."""
    out: list[str] = []
    suffixes: list[str] = []
    col = 0
    stack: list[tuple[int, int, Doc]] = [(0, _BREAK, doc)]
    while stack:
        ind, mode, d = stack.pop()
        if isinstance(d, str):
            out.append(d)
            nl = d.rfind("\n")
            col = len(d) - nl - 1 if nl >= 0 else col + len(d)
        elif isinstance(d, list):
            stack.extend((ind, mode, item) for item in reversed(d))
        elif isinstance(d, Group):
            flat = not d.hard and _fits(d.doc, width - col, stack)
            stack.append((ind, _FLAT if flat else _BREAK, d.doc))
        elif isinstance(d, Indent):
            stack.append((ind + indent_unit, mode, d.doc))
        elif isinstance(d, LineSuffix):
            suffixes.append(d.text)
        elif d is HARDLINE or (mode == _BREAK and (d is LINE or d is SOFTLINE)):
            out.extend(suffixes)
            suffixes.clear()
            _trim_trailing_spaces(out)
            out.append("\n" + " " * ind)
            col = ind
        elif d is LINE:
            out.append(" ")
            col += 1
        elif d is SOFTLINE or d is BREAK_PARENT:
            pass
        else:
            raise TypeError(f"render: not a document: {d!r}")
    out.extend(suffixes)
    _trim_trailing_spaces(out)
    return "".join(out)


def _trim_trailing_spaces(out: list[str]) -> None:
    while out and out[-1].endswith(" "):
        stripped = out[-1].rstrip(" ")
        if stripped:
            out[-1] = stripped
            return
        out.pop()


def _fits(doc: Doc, remaining: int, rest: list[tuple[int, int, Doc]]) -> bool:
    """Would `doc`, printed flat, plus what follows up to the next newline, fit?"""
    todo: list[tuple[int, Doc]] = [(_FLAT, doc)]
    rest_index = len(rest)
    while remaining >= 0:
        if not todo:
            if rest_index == 0:
                return True
            rest_index -= 1
            _, mode, d = rest[rest_index]
            todo.append((mode, d))
            continue
        mode, d = todo.pop()
        if isinstance(d, str):
            nl = d.find("\n")
            if nl >= 0:
                return remaining - nl >= 0
            remaining -= len(d)
        elif isinstance(d, list):
            todo.extend((mode, item) for item in reversed(d))
        elif isinstance(d, Group):
            todo.append((_BREAK if d.hard else mode, d.doc))
        elif isinstance(d, Indent):
            todo.append((mode, d.doc))
        elif d is HARDLINE:
            return True
        elif d is LINE:
            if mode == _BREAK:
                return True
            remaining -= 1
        elif d is SOFTLINE:
            if mode == _BREAK:
                return True
        # LineSuffix and BREAK_PARENT take no width.
    return False
