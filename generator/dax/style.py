"""The formatter's style rules, by id, and which rules explain a difference from it.

`format_dax` is a layout printer, not a list of rewrites, so the rules are recovered
afterwards: both texts are tokenized, the tokens aligned (formatting keeps them, up to
case, quoting and redundant parentheses), and every difference between aligned tokens or
in the whitespace between two neighbours is named by the rule that produces it.
`fmt` labels each diff hunk with the rules found on its lines, so a user sees *why* a
line changed. docs/dax-style.md describes each rule with an example; a test keeps the
two in step.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from generator.dax.errors import SourceText
from generator.dax.lexer import EOF, IDENT, OP, STRING, Token, tokenize


@dataclass(frozen=True)
class StyleRule:
    id: str
    name: str


RULES: dict[str, StyleRule] = {r.id: r for r in (
    StyleRule("FMT001", "upper-case function names and keywords"),
    StyleRule("FMT002", "space after comma"),
    StyleRule("FMT003", "space before a call's parenthesis"),
    StyleRule("FMT004", "spaces inside parentheses"),
    StyleRule("FMT005", "spaces around operators"),
    StyleRule("FMT006", "line breaks"),
    StyleRule("FMT007", "indentation"),
    StyleRule("FMT008", "VAR and RETURN on their own lines"),
    StyleRule("FMT009", "blank lines"),
    StyleRule("FMT010", "single spaces between words"),
    StyleRule("FMT011", "no stray whitespace"),
    StyleRule("FMT012", "redundant parentheses"),
    StyleRule("FMT013", "quotes where a name needs them"),
    StyleRule("FMT000", "other layout"),  # nothing above explains it; please report
)}


@dataclass(frozen=True)
class StyleDifference:
    """One place where a text differs from its format, with the line spans it touches."""

    rule: str
    before: tuple[int, int]  # first and last line (1-based) in the original text
    after: tuple[int, int]  # the same in the formatted text

    def touches(self, before: range, after: range) -> bool:
        return _overlaps(self.before, before) or _overlaps(self.after, after)


def _overlaps(span: tuple[int, int], lines: range) -> bool:
    return bool(lines) and span[0] <= lines[-1] and span[1] >= lines[0]


def differences(original: str, formatted: str) -> list[StyleDifference]:
    """Every difference between `original` and its format `formatted`, in text order."""
    a, b = _tokens(original), _tokens(formatted)
    ka, kb = [_key(t) for t in a], [_key(t) for t in b]
    found: list[StyleDifference] = []
    lead_a, lead_b = original[: a[0].start], formatted[: b[0].start]
    if _code(lead_a) != _code(lead_b):
        found.append(StyleDifference("FMT011", (1, a[0].line), (1, b[0].line)))
    pairs: list[tuple[int, int]] = []
    for block in SequenceMatcher(None, ka, kb, autojunk=False).get_matching_blocks():
        pairs.extend((block.a + k, block.b + k) for k in range(block.size))
    for (i, j), (i2, j2) in zip(pairs, pairs[1:]):
        if (i2, j2) != (i + 1, j + 1):  # tokens on one side only: parentheses it added or dropped
            found.append(_unmatched(a[i + 1 : i2], b[j + 1 : j2], a[i], b[j], a[i2], b[j2]))
            continue
        rule = _gap_rule(a[i], a[i2], original[a[i].end : a[i2].start], formatted[b[j].end : b[j2].start])
        if rule:
            found.append(StyleDifference(rule, (a[i].line, a[i2].line), (b[j].line, b[j2].line)))
    for i, j in pairs:
        rule = _spelling_rule(original, formatted, a[i], b[j])
        if rule:
            found.append(StyleDifference(rule, (a[i].line, a[i].line), (b[j].line, b[j].line)))
    return sorted(found, key=lambda d: (d.before, d.after, d.rule))


def hunk_rules(found: list[StyleDifference], before: range, after: range) -> list[StyleRule]:
    """The rules of the differences on the given lines (1-based ranges), by id."""
    ids = sorted({d.rule for d in found if d.touches(before, after)})
    return [RULES[i] for i in ids] or [RULES["FMT000"]]


def _tokens(text: str) -> list[Token]:
    tokens, _ = tokenize(SourceText(text))
    return tokens


def _key(t: Token) -> tuple[str, str]:
    """What must be equal for two tokens to be the same token: names compare without case."""
    if t.kind == STRING:
        return ("string", t.value)
    kind = "name" if t.kind in (IDENT, "quoted") else t.kind
    return (kind, t.value.upper())


_COMMENT = re.compile(r"(?://|--)[^\n]*|/\*.*?\*/", re.S)


def _code(gap: str) -> str:
    """A gap with each comment reduced to a marker: comments move with the layout."""
    return _COMMENT.sub("\0", gap)


def _unmatched(extra_a, extra_b, prev_a, prev_b, next_a, next_b) -> StyleDifference:
    values = {t.value for t in (*extra_a, *extra_b)}
    rule = "FMT012" if values <= {"(", ")"} else "FMT000"
    return StyleDifference(rule, (prev_a.line, next_a.line), (prev_b.line, next_b.line))


def _spelling_rule(original: str, formatted: str, a: Token, b: Token) -> str | None:
    raw_a, raw_b = original[a.start : a.end], formatted[b.start : b.end]
    if raw_a == raw_b:
        return None
    if a.kind != b.kind:
        return "FMT013"
    return "FMT001" if a.kind == IDENT else "FMT000"


_PUNCTUATION = frozenset("()[]{},.")


def _is(t: Token, *values: str) -> bool:
    return t.kind == OP and t.value in values


def _gap_rule(prev: Token, nxt: Token, gap_a: str, gap_b: str) -> str | None:
    """The rule that turns the whitespace `gap_a` between two tokens into `gap_b`."""
    code_a, code_b = _code(gap_a), _code(gap_b)
    if code_a == code_b:
        return None
    if nxt.kind == EOF:
        return "FMT011"
    breaks_a, breaks_b = code_a.count("\n"), code_b.count("\n")
    if breaks_a or breaks_b:
        return _line_rule(prev, nxt, code_a, code_b, breaks_a, breaks_b)
    if _is(nxt, ",") or _is(prev, ","):
        return "FMT002"
    if _is(nxt, "(") and prev.kind == IDENT:
        return "FMT003"
    if _is(prev, "(", "{") or _is(nxt, ")", "}"):
        return "FMT004"
    if (prev.kind == OP and prev.value not in _PUNCTUATION) or (nxt.kind == OP and nxt.value not in _PUNCTUATION):
        return "FMT005"
    return "FMT010"


def _line_rule(prev: Token, nxt: Token, code_a: str, code_b: str, breaks_a: int, breaks_b: int) -> str:
    if _without_trailing_spaces(code_a) == _without_trailing_spaces(code_b):
        return "FMT011"
    if breaks_a and breaks_b and max(breaks_a, breaks_b) > 1 and breaks_a != breaks_b:
        return "FMT009"
    if breaks_a == breaks_b:
        return "FMT007"
    if (nxt.kind == IDENT and nxt.upper in ("VAR", "RETURN")) or (prev.kind == IDENT and prev.upper == "RETURN"):
        return "FMT008"
    return "FMT006"


def _without_trailing_spaces(gap: str) -> list[str]:
    """The lines of a gap, trailing spaces removed; the last piece is the next line's indent."""
    *ends, indent = gap.split("\n")
    return [line.rstrip() for line in ends] + [indent]
