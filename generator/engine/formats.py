"""FORMAT(value, "<format string>") for the common Power BI format strings.

Only the strings listed here are supported; any other is a compile error, never a guess.
Number formats round half away from zero, like Power BI.
"""
from __future__ import annotations

import re

from sqlglot import exp

from generator.engine.data import fn
from generator.engine.types import DaxType
from generator.engine.values import Scalar, round_half_away

S = exp.Literal.string
N = exp.Literal.number

_DATE = {
    "yyyy": "%Y", "yy": "%y", "mmmm": "%B", "mmm": "%b", "mm": "%m", "m": "%-m", "dddd": "%A", "ddd": "%a",
    "dd": "%d", "d": "%-d",
}
_NAMED_DATE = {"short date": "%-m/%-d/%Y", "long date": "%A, %B %-d, %Y", "general date": "%-m/%-d/%Y %-I:%M:%S %p"}
_NUMBER = re.compile(r"^(?P<prefix>[$€£]?)(?P<int>#,##0|#,0|#,#|0|#)(?:\.(?P<dec>0+))?(?P<pct>%?)$")


def _date_parts(fmt: str) -> list[str] | None:
    """The format as strftime runs and "q" (the quarter, which strftime has no code for);
    None when a letter is not a known date token."""
    if fmt.lower() in _NAMED_DATE:
        return [_NAMED_DATE[fmt.lower()]]
    parts, run, i = [], [], 0
    while i < len(fmt):
        if fmt[i] == "\\" and i + 1 < len(fmt):  # a backslash makes the next character literal
            run.append(fmt[i + 1].replace("%", "%%"))
            i += 2
            continue
        if fmt[i].lower() == "q":
            if run:
                parts.append("".join(run))
                run = []
            parts.append("q")
            i += 1
            continue
        for tok in sorted(_DATE, key=len, reverse=True):
            if fmt[i:i + len(tok)].lower() == tok:
                run.append(_DATE[tok])
                i += len(tok)
                break
        else:
            ch = fmt[i]
            if ch.isalnum():
                return None
            run.append(ch)
            i += 1
    if run:
        parts.append("".join(run))
    return parts


def _date_sql(value: Scalar, parts: list[str]) -> exp.Expression:
    ts = exp.cast(value.sql, "TIMESTAMP")
    pieces = [exp.cast(fn("quarter", ts.copy()), "VARCHAR") if p == "q" else fn("strftime", ts.copy(), S(p))
              for p in parts]
    return pieces[0] if len(pieces) == 1 else fn("concat", *pieces)


# month and day names and the named formats follow the locale; digits do not
_LOCALE_TOKENS = re.compile(r"mmm|ddd|short date|long date|general date", re.I)


def locale_dependent(value_type: DaxType, fmt: str) -> bool:
    """Whether FORMAT's result for a non-English locale would differ from the English one
    the engine produces (names of months and days, named date formats, number separators)."""
    if value_type is DaxType.DATETIME:
        return bool(_LOCALE_TOKENS.search(fmt))
    return True


def _blank_is_empty(value: Scalar, text: exp.Expression) -> exp.Expression:
    """FORMAT of BLANK is an empty string, whatever the format (dax.guide/FORMAT)."""
    return exp.Case(ifs=[exp.If(this=exp.paren(value.sql.copy()).is_(exp.null()), true=S(""))], default=text)


def format_sql(value: Scalar, fmt: str) -> exp.Expression | None:
    if value.type is DaxType.BLANK:  # the literal BLANK(): no value to format
        return S("")
    if value.type is DaxType.DATETIME:
        parts = _date_parts(fmt)
        if parts is None:
            return None
        return _blank_is_empty(value, _date_sql(value, parts))
    named = {"percent": "0.00%", "fixed": "0.00", "standard": "#,##0.00", "currency": "$#,##0.00",
             "general number": None}
    key = fmt.lower()
    if key in named:
        if named[key] is None:
            return fn("printf", S("%.15g"), exp.cast(value.sql, "DOUBLE"))
        fmt = named[key]
    # a backslash makes the next character literal: '\\$#,0' is '$#,0' (model format strings)
    m = _NUMBER.match(re.sub(r"\\(.)", r"\1", fmt))
    if m is None:
        return None
    digits = len(m.group("dec") or "")
    x = value.sql
    if m.group("pct"):
        x = exp.Mul(this=exp.cast(x, "DOUBLE"), expression=N(100))
    rounded = exp.cast(round_half_away(Scalar(x, DaxType.DOUBLE), N(digits)), "DOUBLE")
    spec = "{:" + ("," if "," in m.group("int") else "") + f".{digits}f" + "}"
    body = fn("format", S(spec), rounded)
    parts = [S(m.group("prefix"))] if m.group("prefix") else []
    parts.append(body)
    if m.group("pct"):
        parts.append(S("%"))
    text = fn("concat", *parts) if len(parts) > 1 else body
    return _blank_is_empty(value, text)
