"""DaxSyntaxError and the source wrapper that builds it with positions and an excerpt."""
from __future__ import annotations

from generator.source import ExprOrigin, LineIndex, Pos


class DaxSyntaxError(Exception):
    """A DAX text that cannot be parsed.

    Attributes:
        message: what is wrong, without position.
        line, col: 1-based position inside the DAX text.
        excerpt: the offending source line with a caret under the position.
        pos: the YAML position (file:line:col) when the DAX came from a YAML file with
            a known `ExprOrigin`, else None.
    """

    def __init__(self, message: str, line: int, col: int, excerpt: str, pos: Pos | None = None):
        self.message = message
        self.line = line
        self.col = col
        self.excerpt = excerpt
        self.pos = pos
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.pos}: " if self.pos else ""
        head = f"{where}DAX syntax error at line {self.line}, column {self.col}: {self.message}"
        return f"{head}\n{self.excerpt}" if self.excerpt else head

    def __reduce__(self):  # keep the exception picklable despite the custom __init__
        return (type(self), (self.message, self.line, self.col, self.excerpt, self.pos))


class SourceText:
    """The text being parsed plus its origin; knows how to turn an offset into an error."""

    __slots__ = ("text", "origin", "_index")

    def __init__(self, text: str, origin: ExprOrigin | None = None):
        self.text = text
        self.origin = origin
        self._index = None

    def position(self, offset: int) -> tuple[int, int]:
        if self._index is None:
            self._index = LineIndex(self.text)
        return self._index.position(offset)

    def yaml_pos(self, line: int, col: int) -> Pos | None:
        return self.origin.to_yaml(line, col) if self.origin else None

    def error(self, message: str, offset: int) -> DaxSyntaxError:
        offset = max(0, min(offset, len(self.text)))
        line, col = self.position(offset)
        return DaxSyntaxError(message, line, col, self.excerpt(line, col), self.yaml_pos(line, col))

    def excerpt(self, line: int, col: int) -> str:
        """The source line (tabs expanded to one space, long lines clipped) and a caret."""
        lines = self.text.split("\n")
        src = lines[line - 1] if 0 < line <= len(lines) else ""
        src = src.replace("\t", " ").replace("\r", "")
        lo = max(0, col - 1 - 70)
        shown = src[lo : lo + 110]
        prefix = "..." if lo else ""
        return f"    {prefix}{shown}\n    {' ' * (len(prefix) + col - 1 - lo)}^"
