"""Positions in source files: the bottom layer that DAX, the model and errors all share.

`Pos` is a file:line:col; `ExprOrigin` maps a position inside a DAX expression back to
the YAML that holds it; `LineIndex` turns a character offset into (line, col). They sit
below both `generator.dax` and `generator.spec` so that parsing DAX needs no model.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass


@dataclass(frozen=True)
class Pos:
    """A 1-based position in a source file."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class ExprOrigin:
    """Where a DAX expression sits inside a YAML file.

    `line`/`col` is the YAML position of the expression's first character. For block
    scalars (`|`, `>`) every following expression line starts at column `indent + 1`
    of the next YAML line; for flow scalars the expression is a single line.
    """

    file: str
    line: int
    col: int
    block: bool = False
    indent: int = 0

    def to_yaml(self, line: int, col: int) -> Pos:
        """Map a 1-based (line, col) inside the expression text to a YAML Pos."""
        if line <= 1:
            return Pos(self.file, self.line, self.col + col - 1)
        if self.block:
            return Pos(self.file, self.line + line - 1, self.indent + col)
        return Pos(self.file, self.line + line - 1, col)


class LineIndex:
    """Maps character offsets to 1-based (line, col)."""

    def __init__(self, text: str):
        self.starts = [0]
        find = text.find
        i = find("\n")
        while i >= 0:
            self.starts.append(i + 1)
            i = find("\n", i + 1)

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1
