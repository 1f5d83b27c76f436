"""DAX lexer, following the token rules of Tabular Editor's `DAXLexer.g4`.

Keywords are *not* token kinds: every bare word is an ``IDENT`` and the parser compares
its upper-cased text. That is what makes names that merely start with a keyword
(``Returns[Qty]``, ``Variance``, ``VARx``) ordinary names.

Comments (``//``, ``--`` to end of line; ``/* */``, nested) are trivia. They are
returned separately from the tokens, with positions, so the formatter can put them back.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from generator.dax.errors import SourceText
from generator.source import LineIndex  # noqa: F401  (re-exported)

# Token kinds.
NUMBER = "number"
STRING = "string"
DATETIME = "datetime"  # dt"2024-01-31"
QUOTED = "quoted"  # 'Table Name'
BRACKET = "bracket"  # [Column or Measure]
IDENT = "ident"  # bare word, possibly dotted: Sales, PERCENTILEX.INC, VAR
PARAM = "param"  # @Name
OP = "op"  # operators and punctuation
EOF = "eof"

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<lcomment>(?://|--)[^\n]*)
  | (?P<bcomment>/\*)
  | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<datetime>[dD][tT]"[^"\n]*")
  | (?P<string>"[^"]*(?:""[^"]*)*")
  | (?P<quoted>'[^'\n]*(?:''[^'\n]*)*')
  | (?P<bracket>\[[^\]]*(?:\]\][^\]]*)*\])
  | (?P<ident>[^\W\d](?:\w|\.(?=\w))*)
  | (?P<param>@[^\W\d]\w*)
  | (?P<op>==|<>|<=|>=|&&|\|\||=>|[-+*/^&=<>(){},.:;])
    """,
    re.VERBOSE,
)


class Token:
    """One token. ``value`` is decoded (escapes removed, quotes/brackets stripped)."""

    __slots__ = ("kind", "value", "start", "end", "line", "col")

    def __init__(self, kind: str, value: str, start: int, end: int, line: int, col: int):
        self.kind = kind
        self.value = value
        self.start = start
        self.end = end
        self.line = line
        self.col = col

    @property
    def upper(self) -> str:
        return self.value.upper()

    def describe(self) -> str:
        """How the token is named in an error message."""
        if self.kind == EOF:
            return "end of input"
        if self.kind == STRING:
            return "a string"
        if self.kind == NUMBER:
            return f"number {self.value}"
        if self.kind == BRACKET:
            return f"'[{self.value}]'"
        if self.kind == QUOTED:
            return f"table name '{self.value}'"
        return f"'{self.value}'"

    def __repr__(self) -> str:
        return f"Token({self.kind}, {self.value!r}, {self.line}:{self.col})"


@dataclass(frozen=True)
class Comment:
    """A comment with its source text (delimiters included) and position.

    ``own_line`` is true when only whitespace precedes it on its line; the formatter
    keeps such comments on their own line and the others at the end of the code line.
    ``blank_before`` is true when an empty line separates it from the previous token or
    comment, which the formatter preserves as one blank line.
    """

    text: str
    start: int
    end: int
    line: int
    col: int
    own_line: bool
    blank_before: bool = False

    @property
    def is_line(self) -> bool:
        return not self.text.startswith("/*")


def tokenize(src: SourceText) -> tuple[list[Token], list[Comment]]:
    """Split `src.text` into tokens (ending with one EOF token) and comments.

    Raises DaxSyntaxError for unterminated strings, names and comments and for
    characters that cannot start any token.
    """
    text = src.text
    index = LineIndex(text)
    tokens: list[Token] = []
    comments: list[Comment] = []
    match = _TOKEN_RE.match
    pos, n = 0, len(text)
    last_code_end = 0
    while pos < n:
        m = match(text, pos)
        if m is None:
            _raise_bad_char(src, pos)
        kind = m.lastgroup
        end = m.end()
        if kind == "ws":
            pos = end
            continue
        if kind == "bcomment":
            end = _block_comment_end(src, pos)
        line, col = index.position(pos)
        if kind in ("lcomment", "bcomment"):
            comments.append(_comment(text, pos, end, line, col, last_code_end, comments))
            pos = end
            continue
        raw = text[pos:end]
        tokens.append(Token(kind, _decode(kind, raw), pos, end, line, col))
        last_code_end = end
        pos = end
    line, col = index.position(n)
    tokens.append(Token(EOF, "", n, n, line, col))
    return tokens, comments


def _decode(kind: str, raw: str) -> str:
    if kind == STRING:
        return raw[1:-1].replace('""', '"')
    if kind == QUOTED:
        return raw[1:-1].replace("''", "'")
    if kind == BRACKET:
        return raw[1:-1].replace("]]", "]")
    if kind == DATETIME:
        return raw[3:-1]
    if kind == PARAM:
        return raw[1:]
    return raw


def _comment(text, start, end, line, col, last_code_end, comments) -> Comment:
    prev_end = max(last_code_end, comments[-1].end if comments else 0)
    gap = text[prev_end:start]
    line_start = text.rfind("\n", 0, start) + 1
    own_line = not text[line_start:start].strip()
    blank_before = gap.count("\n") >= 2 and prev_end > 0
    return Comment(text[start:end].rstrip(), start, end, line, col, own_line, blank_before)


def _block_comment_end(src: SourceText, start: int) -> int:
    """End offset of the (possibly nested) block comment starting at `start`."""
    text = src.text
    depth, pos = 0, start
    while True:
        open_at = text.find("/*", pos)
        close_at = text.find("*/", pos)
        if close_at < 0:
            raise src.error("unterminated /* comment", start)
        if 0 <= open_at < close_at:
            depth += 1
            pos = open_at + 2
            continue
        depth -= 1
        pos = close_at + 2
        if depth == 0:
            return pos


_UNTERMINATED = {
    '"': "unterminated string: a closing \" is missing (write \"\" for a quote inside)",
    "'": "unterminated table name: a closing ' is missing (write '' for a quote inside)",
    "[": "unterminated column or measure name: a closing ] is missing (write ]] for ])",
}


def _raise_bad_char(src: SourceText, pos: int) -> None:
    ch = src.text[pos]
    if ch in _UNTERMINATED:
        raise src.error(_UNTERMINATED[ch], pos)
    if src.text[pos : pos + 3].lower().startswith('dt"'):
        raise src.error('unterminated date literal dt"..."', pos)
    if ch == "@":
        raise src.error("'@' must be followed by a parameter name", pos)
    raise src.error(f"unexpected character {ch!r}", pos)
