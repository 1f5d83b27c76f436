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


def _date_fmt(fmt: str) -> str | None:
    if fmt.lower() in _NAMED_DATE:
        return _NAMED_DATE[fmt.lower()]
    out, i = [], 0
    while i < len(fmt):
        for tok in sorted(_DATE, key=len, reverse=True):
            if fmt[i:i + len(tok)].lower() == tok:
                out.append(_DATE[tok])
                i += len(tok)
                break
        else:
            ch = fmt[i]
            if ch.isalnum():
                return None
            out.append(ch)
            i += 1
    return "".join(out)


def _blank_is_empty(value: Scalar, text: exp.Expression) -> exp.Expression:
    """FORMAT of BLANK is an empty string, whatever the format (dax.guide/FORMAT)."""
    return exp.Case(ifs=[exp.If(this=exp.paren(value.sql.copy()).is_(exp.null()), true=S(""))], default=text)


def format_sql(value: Scalar, fmt: str) -> exp.Expression | None:
    if value.type is DaxType.BLANK:  # the literal BLANK(): no value to format
        return S("")
    if value.type is DaxType.DATETIME:
        pattern = _date_fmt(fmt)
        if pattern is None:
            return None
        return _blank_is_empty(value, fn("strftime", exp.cast(value.sql, "TIMESTAMP"), S(pattern)))
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
