"""DAX value semantics as sqlglot expressions: BLANK arithmetic, comparisons, logic.

BLANK is SQL NULL, but DAX does not propagate it the SQL way (dax-semantics.md §1):
- `+`/`-`: BLANK acts as 0, and BLANK op BLANK is BLANK;
- `*`: BLANK propagates; `/`: BLANK numerator → BLANK, BLANK denominator acts as 0
  (so 5/BLANK() = +Infinity and 0/BLANK() = NaN);
- comparisons other than `==` read BLANK as 0 / "" / FALSE / 1899-12-30 to match the
  other side; text compares case-insensitively;
- `&&`, `||`, NOT never return BLANK;
- ROUND breaks ties half away from zero (DuckDB's ROUND on DOUBLE does the same; we
  round on DECIMAL to avoid binary-fraction surprises such as 1.15).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from generator.engine.data import fn
from generator.engine.types import DaxType, arith_type, sql_type


@dataclass(frozen=True)
class Scalar:
    sql: exp.Expression
    type: DaxType
    nullable: bool = True


def lit(value: object) -> Scalar:
    if value is None:
        return Scalar(exp.null(), DaxType.BLANK)
    if isinstance(value, bool):
        return Scalar(exp.true() if value else exp.false(), DaxType.BOOL, False)
    if isinstance(value, int):
        return Scalar(exp.cast(exp.Literal.number(value), "BIGINT"), DaxType.INT, False)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            text = "nan" if value != value else ("inf" if value > 0 else "-inf")
            return Scalar(exp.cast(exp.Literal.string(text), "DOUBLE"), DaxType.DOUBLE, False)
        return Scalar(exp.cast(exp.Literal.number(repr(value)), "DOUBLE"), DaxType.DOUBLE, False)
    if isinstance(value, str):
        return Scalar(exp.Literal.string(value), DaxType.TEXT, False)
    raise TypeError(value)


def cast(s: Scalar, t: DaxType) -> Scalar:
    if s.type is t or t in (DaxType.BLANK, DaxType.VARIANT):
        return s
    if s.type is DaxType.BLANK:
        return Scalar(exp.cast(exp.null(), sql_type(t)), t)
    if t is DaxType.TEXT:
        return Scalar(to_text(s), t, s.nullable)
    if t is DaxType.BOOL:
        return Scalar(truthy(s), t, False)
    if t is DaxType.CURRENCY and s.type in (DaxType.DOUBLE, DaxType.TEXT):
        inner = exp.cast(s.sql, "DOUBLE") if s.type is DaxType.TEXT else s.sql
        return Scalar(exp.cast(fn("round", exp.cast(inner, "DECIMAL(38,10)"), exp.Literal.number(4)),
                               "DECIMAL(18,4)"), t, s.nullable)
    return Scalar(exp.cast(s.sql, sql_type(t)), t, s.nullable)


def number(s: Scalar) -> Scalar:
    """Implicit conversion to a number: TRUE → 1, "22" → 22 (dax-semantics §1.5)."""
    if s.type is DaxType.BOOL:
        return Scalar(exp.cast(s.sql, "BIGINT"), DaxType.INT, s.nullable)
    if s.type is DaxType.TEXT:
        return Scalar(exp.cast(s.sql, "DOUBLE"), DaxType.DOUBLE, s.nullable)
    return s


def zero_of(t: DaxType) -> exp.Expression:
    if t is DaxType.TEXT:
        return exp.Literal.string("")
    if t is DaxType.BOOL:
        return exp.false()
    if t is DaxType.DATETIME:
        return exp.cast(exp.Literal.string("1899-12-30"), "TIMESTAMP")
    return exp.Literal.number(0)


def blank_as_zero(s: Scalar, t: DaxType | None = None) -> exp.Expression:
    if not s.nullable:
        return s.sql
    if s.type is DaxType.BLANK:
        return zero_of(t or DaxType.INT)
    return fn("coalesce", s.sql, zero_of(t or s.type))


def _dt_num(s: Scalar) -> exp.Expression:
    """DateTime → days since 1899-12-30 as DOUBLE (DAX's serial date)."""
    epoch = exp.cast(exp.Literal.string("1899-12-30"), "TIMESTAMP")
    micros = fn("date_diff", exp.Literal.string("microsecond"), epoch, exp.cast(s.sql, "TIMESTAMP"))
    return exp.Div(this=exp.cast(micros, "DOUBLE"), expression=exp.Literal.number(86400000000))


def _num_dt(e: exp.Expression) -> exp.Expression:
    epoch = exp.cast(exp.Literal.string("1899-12-30"), "TIMESTAMP")
    micros = exp.cast(fn("round", exp.Mul(this=e, expression=exp.Literal.number(86400000000))), "BIGINT")
    return exp.Add(this=epoch, expression=fn("to_microseconds", micros))


def arith(op: str, a: Scalar, b: Scalar) -> Scalar:
    a, b = number(a), number(b)
    t = arith_type(op, a.type, b.type)
    if DaxType.DATETIME in (a.type, b.type):
        an = _dt_num(a) if a.type is DaxType.DATETIME else a.sql
        bn = _dt_num(b) if b.type is DaxType.DATETIME else b.sql
        r = arith(op, Scalar(an, DaxType.DOUBLE, a.nullable), Scalar(bn, DaxType.DOUBLE, b.nullable))
        if t is DaxType.DATETIME:
            return Scalar(_num_dt(r.sql), t, r.nullable)
        return r
    if op in "+-":
        if a.type is DaxType.BLANK and b.type is DaxType.BLANK:
            return Scalar(exp.null(), DaxType.BLANK)
        cls = exp.Add if op == "+" else exp.Sub
        if a.nullable and b.nullable and a.type is not DaxType.BLANK and b.type is not DaxType.BLANK:
            # NULL only when both are BLANK: list_sum skips NULLs, is NULL on all-NULL
            rhs = b.sql if op == "+" else exp.Neg(this=exp.paren(b.sql))
            total = fn("list_sum", exp.Array(expressions=[cast(a, t).sql, cast(Scalar(rhs, b.type), t).sql]))
            return Scalar(exp.cast(total, sql_type(t)), t)
        return Scalar(cls(this=exp.paren(blank_as_zero(a)), expression=exp.paren(blank_as_zero(b))), t,
                      False)
    if op == "*":
        if DaxType.BLANK in (a.type, b.type):
            return Scalar(exp.null(), DaxType.BLANK)
        sql = exp.Mul(this=exp.paren(a.sql), expression=exp.paren(b.sql))
        if t is DaxType.CURRENCY and DaxType.DOUBLE in (a.type, b.type):
            sql = exp.cast(fn("round", exp.cast(sql, "DECIMAL(38,10)"), exp.Literal.number(4)),
                           "DECIMAL(18,4)")
        elif t is DaxType.INT:
            sql = exp.cast(sql, "BIGINT")
        elif t is DaxType.DOUBLE:
            sql = exp.cast(sql, "DOUBLE")
        return Scalar(sql, t, a.nullable or b.nullable)
    if op == "/":
        if a.type is DaxType.BLANK:
            return Scalar(exp.null(), DaxType.BLANK)
        den = blank_as_zero(b, DaxType.INT)
        if t is DaxType.CURRENCY:
            q = exp.Div(this=exp.cast(a.sql, "DECIMAL(38,10)"), expression=exp.cast(den, "DECIMAL(38,10)"))
            sql = exp.cast(fn("round", q, exp.Literal.number(4)), "DECIMAL(18,4)")
            # BLANK / 0 is BLANK (a BLANK numerator gives BLANK), not the division error
            zero = exp.and_(exp.EQ(this=den.copy(), expression=exp.Literal.number(0)),
                            exp.paren(a.sql.copy()).is_(exp.null()).not_())
            sql = exp.Case(ifs=[exp.If(this=zero,
                                       true=fn("error", exp.Literal.string(
                                           "Division by zero was encountered.")))], default=sql)
            return Scalar(sql, t, a.nullable)
        sql = exp.Div(this=exp.cast(a.sql, "DOUBLE"), expression=exp.cast(den, "DOUBLE"))
        return Scalar(sql, DaxType.DOUBLE, a.nullable)
    if op == "^":
        if DaxType.BLANK in (a.type, b.type):
            return Scalar(fn("power", exp.cast(blank_as_zero(a), "DOUBLE"), blank_as_zero(b)),
                          DaxType.DOUBLE, False)
        return Scalar(fn("power", exp.cast(a.sql, "DOUBLE"), b.sql), DaxType.DOUBLE,
                      a.nullable or b.nullable)
    raise ValueError(op)


def negate(a: Scalar) -> Scalar:
    a = number(a)
    if a.type is DaxType.BLANK:
        return a
    return Scalar(exp.Neg(this=exp.paren(a.sql)), a.type, a.nullable)


def to_text(s: Scalar) -> exp.Expression:
    """DAX's number/date → text conversion (15 significant digits, `General` format)."""
    if s.type is DaxType.TEXT:
        return s.sql
    if s.type is DaxType.DOUBLE:
        return fn("printf", exp.Literal.string("%.15g"), s.sql)
    if s.type is DaxType.BOOL:
        return exp.Case(ifs=[exp.If(this=s.sql, true=exp.Literal.string("True"))],
                        default=exp.Case(ifs=[exp.If(this=exp.not_(s.sql), true=exp.Literal.string("False"))]))
    if s.type is DaxType.CURRENCY:
        return fn("printf", exp.Literal.string("%.15g"), exp.cast(s.sql, "DOUBLE"))
    if s.type is DaxType.DATETIME:
        return fn("strftime", exp.cast(s.sql, "TIMESTAMP"), exp.Literal.string("%-m/%-d/%Y"))
    if s.type is DaxType.BLANK:
        return exp.null()
    return exp.cast(s.sql, "VARCHAR")


def concat(a: Scalar, b: Scalar) -> Scalar:
    if a.type is DaxType.BLANK and b.type is DaxType.BLANK:
        return Scalar(exp.null(), DaxType.BLANK)
    parts = [to_text(a), to_text(b)]
    joined = fn("concat", *parts)
    if a.nullable and b.nullable:
        both_null = exp.and_(exp.paren(parts[0].copy()).is_(exp.null()), exp.paren(parts[1].copy()).is_(exp.null()))
        return Scalar(exp.Case(ifs=[exp.If(this=both_null, true=exp.null())], default=joined), DaxType.TEXT)
    return Scalar(joined, DaxType.TEXT, False)


def _cmp_pair(a: Scalar, b: Scalar) -> tuple[exp.Expression, exp.Expression]:
    ta = a.type if a.type is not DaxType.BLANK else b.type
    tb = b.type if b.type is not DaxType.BLANK else a.type
    if ta is DaxType.BLANK:
        return exp.Literal.number(0), exp.Literal.number(0)
    if (ta is DaxType.TEXT) != (tb is DaxType.TEXT) and DaxType.VARIANT not in (ta, tb):
        err = fn("error", exp.Literal.string(
            "DAX comparison operations do not support comparing values of type Text with values of "
            "type Number. Consider using the VALUE or FORMAT function to convert one of the values."))
        return err, err.copy()
    if ta is DaxType.DATETIME or tb is DaxType.DATETIME:
        av = blank_as_zero(a, DaxType.DATETIME)
        bv = blank_as_zero(b, DaxType.DATETIME)
        if ta is not DaxType.DATETIME:
            av = _num_dt(exp.cast(av, "DOUBLE"))
        if tb is not DaxType.DATETIME:
            bv = _num_dt(exp.cast(bv, "DOUBLE"))
        return exp.cast(av, "TIMESTAMP"), exp.cast(bv, "TIMESTAMP")
    if ta is DaxType.TEXT:
        return fn("lower", blank_as_zero(a, DaxType.TEXT)), fn("lower", blank_as_zero(b, DaxType.TEXT))
    if ta is DaxType.BOOL and tb is DaxType.BOOL:
        return blank_as_zero(a, DaxType.BOOL), blank_as_zero(b, DaxType.BOOL)
    an, bn = number(a), number(b)
    return blank_as_zero(an, DaxType.INT), blank_as_zero(bn, DaxType.INT)


_CMP = {"=": exp.EQ, "<>": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}


def compare(op: str, a: Scalar, b: Scalar) -> Scalar:
    if op == "==":
        if a.type is DaxType.BLANK and b.type is DaxType.BLANK:
            return Scalar(exp.true(), DaxType.BOOL, False)
        if a.type is DaxType.BLANK:
            return Scalar(exp.paren(b.sql).is_(exp.null()), DaxType.BOOL, False)
        if b.type is DaxType.BLANK:
            return Scalar(exp.paren(a.sql).is_(exp.null()), DaxType.BOOL, False)
        x, y = (a.sql, b.sql)
        if a.type is DaxType.TEXT and b.type is DaxType.TEXT:
            x, y = fn("lower", x), fn("lower", y)
        return Scalar(exp.NullSafeEQ(this=x, expression=y), DaxType.BOOL, False)
    x, y = _cmp_pair(a, b)
    return Scalar(_CMP[op](this=x, expression=y), DaxType.BOOL, False)


def truthy(s: Scalar) -> exp.Expression:
    """A DAX value used as a condition: BLANK and 0 are FALSE."""
    if s.type is DaxType.BOOL:
        return fn("coalesce", s.sql, exp.false()) if s.nullable else s.sql
    if s.type is DaxType.BLANK:
        return exp.false()
    if s.type is DaxType.TEXT:
        return fn("coalesce", exp.cast(s.sql, "BOOLEAN"), exp.false())
    return fn("coalesce", exp.NEQ(this=s.sql, expression=exp.Literal.number(0)), exp.false())


def logic(op: str, a: Scalar, b: Scalar) -> Scalar:
    cls = exp.And if op == "&&" else exp.Or
    return Scalar(exp.paren(cls(this=exp.paren(truthy(a)), expression=exp.paren(truthy(b)))), DaxType.BOOL, False)


def not_(a: Scalar) -> Scalar:
    return Scalar(exp.Not(this=exp.paren(truthy(a))), DaxType.BOOL, False)


def round_half_away(x: Scalar, digits: exp.Expression) -> exp.Expression:
    """ROUND(x, n): ties away from zero, computed on DECIMAL so 1.15 → 1.2."""
    dec = exp.cast(x.sql, "DECIMAL(38,12)") if x.type is not DaxType.INT else x.sql
    return fn("round", dec, digits)
