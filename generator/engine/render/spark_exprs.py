"""Building Spark SQL trees for the Spark renderer's rewrites: small node constructors, and
`let`, which binds an operand a rewrite needs several times so that it is computed once.

Why a module of its own: every rewrite (render/spark.py's typed nodes, render/spark_functions.py's
DuckDB functions) builds its replacement from these, and `let` is the one place that decides
when an operand may be repeated and when it is bound by a lambda (Spark refuses subqueries
inside higher-order functions).
"""
from __future__ import annotations

from typing import Callable

from sqlglot import exp

DOUBLE = "DOUBLE"


def call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def to_double(x: exp.Expression) -> exp.Expression:
    if isinstance(x, exp.Cast) and x.to.this == exp.DataType.Type.DOUBLE:
        return x
    return exp.cast(x, DOUBLE)


def inf(sign: str = "") -> exp.Expression:
    return exp.cast(exp.Literal.string(f"{sign}Infinity"), DOUBLE)


def nan() -> exp.Expression:
    return exp.cast(exp.Literal.string("NaN"), DOUBLE)


def case(*pairs, default: exp.Expression) -> exp.Case:
    return exp.Case(ifs=[exp.If(this=c, true=v) for c, v in pairs], default=default)


def simple(x: exp.Expression) -> bool:
    """Cheap to repeat: no subquery anywhere inside, and small."""
    return not any(isinstance(n, (exp.Subquery, exp.Select)) for n in x.walk()) and \
        sum(1 for _ in x.walk()) <= 12


def let(name: str, values: list[exp.Expression], body: Callable[..., exp.Expression]) -> exp.Expression:
    """`body` over `values`, each computed once. The Spark rewrites need an operand several
    times (x/0 tests the divisor and the sign of the dividend); repeating an operand that
    holds a correlated subquery repeats a join per copy, and nested rewrites multiply the
    copies (a calculated column's SQL grew past what Spark's code generator could compile
    in minutes). Simple operands are repeated; others are bound once by a lambda:
    element_at(transform(array(named_struct('v0', e0, …)), l -> body(l.v0, …)), 1).
    Spark refuses a subquery anywhere inside a higher-order function's arguments: an
    operand holding one is repeated (the same value, a larger plan)."""
    if all(simple(v) for v in values) or any(isinstance(n, (exp.Subquery, exp.Select))
                                             for v in values for n in v.walk()):
        return body(*values)
    var = exp.to_identifier(name)
    fields = [exp.to_identifier(f"v{i}") for i in range(len(values))]
    struct = call("named_struct", *[x for i, v in enumerate(values) for x in (exp.Literal.string(f"v{i}"), v)])
    bound = body(*[exp.Dot(this=exp.column(var.copy()), expression=f.copy()) for f in fields])
    lam = exp.Lambda(this=bound, expressions=[var])
    return call("element_at", call("transform", exp.Array(expressions=[struct]), lam), exp.Literal.number(1))


def paren(x: exp.Expression) -> exp.Expression:
    return x if isinstance(x, (exp.Paren, exp.Column, exp.Literal, exp.Anonymous, exp.Func)) else exp.Paren(this=x)


def is_generator(x) -> bool:
    return isinstance(x, exp.Anonymous) and x.name.lower() in ("unnest", "explode")


def is_let(x) -> bool:
    return isinstance(x, exp.Anonymous) and x.name.lower() == "transform" and len(x.expressions) == 2 \
        and isinstance(x.expressions[1], exp.Lambda) and x.expressions[1].expressions[0].name.startswith("__let")


FROM = "from_" if "from_" in exp.Select.arg_types else "from"  # renamed in sqlglot 28
CLAUSES = ("joins", "where", "group", "having", "qualify", "order", "limit", "offset", "distinct", "laterals")
