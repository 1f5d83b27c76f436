"""DAX errors: ERROR, IFERROR, ISERROR, and names Power BI refuses to resolve.

In DAX an error is a value of the evaluation that propagates: a measure that raises makes
the whole query fail, it never turns into BLANK (learn.microsoft.com/dax/error-function-dax).
IFERROR/ISERROR catch the errors raised while evaluating their first argument
(learn.microsoft.com/dax/iferror-function-dax, iserror-function-dax). Division by zero is
not an error in DAX (it gives ±Infinity/NaN, or BLANK with DIVIDE); conversion errors
(VALUE("x")), ERROR(...), and the domain errors of functions are.

In SQL an error is a raised exception, so catching one is DuckDB's TRY(): the first
argument is evaluated under TRY, and `TRY(x IS NULL) IS NULL` holds exactly when x raised
(`x IS NULL` itself is never NULL). TRY refuses volatile functions (DuckDB's own error()
is one, so errors are raised through the non-volatile `__dax_raise` UDF here) and scalar
subqueries; an argument that aggregates can therefore be caught only when it cannot raise
at all — then IFERROR is its first argument and ISERROR is FALSE, exactly. An aggregating
argument that can raise is reported as unsupported, never guessed.
"""
from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.types import DaxType, sql_type, unify
from generator.engine.udf import PyFunc, python, registered, udf_call
from generator.engine.values import Scalar, cast


class DaxRaisedError(Exception):
    """ERROR("text") or an engine check raised while evaluating (the text is DAX's message)."""


def _raise(message):
    raise DaxRaisedError(message if message is not None else "An error was raised")


RAISE = python("raise", _raise, ("VARCHAR",), "NULL", special_nulls=True)

# DAX functions that raise on some input although their SQL has no error()/UDF call:
# text → number/date conversions (a failing CAST). Anything else that raises does so
# through error() or a Python UDF, which `_can_raise` finds in the SQL.
_CONVERSIONS = frozenset({"VALUE", "DATEVALUE", "TIMEVALUE", "CONVERT", "ERROR"})


def _raising_sql(node: exp.Expression) -> bool:
    """Does the SQL call error() or a Python UDF (whose exceptions are DAX errors)?"""
    udfs = registered()
    for n in node.walk():
        if isinstance(n, exp.Anonymous):
            name = n.name.lower()
            if name == "error" or isinstance(udfs.get(n.name), PyFunc):
                return True
    return False


def _with_raise(node: exp.Expression) -> exp.Expression:
    """error(msg) → __dax_raise(msg): the same error, but acceptable to TRY."""
    def swap(n):
        if isinstance(n, exp.Anonymous) and n.name.lower() == "error":
            return udf_call(RAISE, *[e.copy() for e in n.expressions])
        return n

    return node.copy().transform(swap)


class ErrorFns:
    """Mixin for `Compiler` (uses CompilerCore's helpers)."""

    def not_a_function(self, call, env):
        """Desktop: "Cannot resolve the name X. It is not a valid table, variable or function
        name" — for names dax.guide lists that Power BI does not accept in this model."""
        raise self.err(env, call, f"Cannot resolve the name {call.name}: it is not a valid table, variable "
                                  f"or function name in Power BI")

    def fn_ERROR(self, call, env):
        """ERROR(text): raises `text` when evaluated (learn.microsoft.com/dax/error-function-dax)."""
        (arg,) = self.args(call, env, 1)
        msg = self.scalar(arg, env)
        return Scalar(udf_call(RAISE, cast(msg, DaxType.TEXT).sql), DaxType.VARIANT)

    def _dax_uses_conversion(self, node: A.Node, seen: set[str]) -> bool:
        """Does the DAX (measure bodies included) call a converting function?"""
        for n in _walk(node):
            if isinstance(n, A.FunctionCall) and n.name.upper() in _CONVERSIONS:
                return True
            name = n.name if isinstance(n, A.BracketRef) else n.column if isinstance(n, A.ColumnRef) else None
            m = self.measures.get(name.lower()) if name else None
            if m is not None and m.name.lower() not in seen:
                seen.add(m.name.lower())
                if self._dax_uses_conversion(self.schema.parsed_measure(m), seen):
                    return True
        return False

    def _caught(self, call, env, node: A.Expr, fallback: Scalar | None):
        """IFERROR (fallback given) or ISERROR of `node`, as SQL; None when it cannot raise.

        The argument is compiled without the grouped-evaluation scope: there every
        aggregation is a scalar subquery in the expression itself (a grouped leaf would be a
        column of a join elsewhere, out of TRY's reach). TRY refuses subqueries, so the
        outermost ones are computed first, in a derived table, and TRY applies to the
        expression over their values — which catches the errors raised at the top level
        (a Currency division by zero between two measures, VALUE of a measure, ERROR()).
        An error raised inside one of those subqueries cannot be caught that way: unsupported."""
        alone = self.scalar(node, replace(env, scope=None))
        converts = self._dax_uses_conversion(node, set())
        if not (_raising_sql(alone.sql) or converts):
            return None
        top, subs = _hoist(alone.sql)
        if subs and (converts or any(_raising_sql(q) for q in subs)):
            raise self.unsupported(env, call, f"{call.name} around an aggregation that can raise an error")
        top = _with_raise(top)
        failed = exp.Try(this=exp.paren(top).is_(exp.null())).is_(exp.null())
        if fallback is None:
            out = failed
        else:
            t = unify([alone.type, fallback.type])
            a, b = exp.Try(this=top.copy()), cast(fallback, t).sql
            if t not in (DaxType.BLANK, DaxType.VARIANT):
                a, b = exp.cast(a, sql_type(t)), exp.cast(b, sql_type(t))
            out = exp.Case(ifs=[exp.If(this=failed, true=b)], default=a)
        if not subs:
            return out
        values = exp.select(*[exp.alias_(q, f"x{i}") for i, q in enumerate(subs)])
        return exp.Subquery(this=exp.select(out).from_(values.subquery(_HOIST)))

    def fn_IFERROR(self, call, env):
        a_node, b_node = self.args(call, env, 2)
        fallback = self.scalar(b_node, env)
        sql = self._caught(call, env, a_node, fallback)
        if sql is None:
            return self.scalar(a_node, env)
        return Scalar(sql, unify([self.scalar(a_node, replace(env, scope=None)).type, fallback.type]))

    def fn_ISERROR(self, call, env):
        (node,) = self.args(call, env, 1)
        sql = self._caught(call, env, node, None)
        return Scalar(sql if sql is not None else exp.false(), DaxType.BOOL, False)


_HOIST = "__pbi_forge_try"


def _hoist(node: exp.Expression) -> tuple[exp.Expression, list[exp.Expression]]:
    """`node` with its outermost subqueries (scalar, EXISTS, IN (SELECT …)) replaced by
    columns x0, x1, … of alias _HOIST, and those subqueries."""
    subs: list[exp.Expression] = []

    def is_sub(n):
        return isinstance(n, (exp.Subquery, exp.Exists)) or (isinstance(n, exp.In) and n.args.get("query"))

    def swap(n):
        if is_sub(n):
            subs.append(n.copy())
            return exp.column(f"x{len(subs) - 1}", _HOIST)
        return n

    return _transform_outermost(node.copy(), is_sub, swap), subs


def _transform_outermost(node, is_sub, swap):
    if is_sub(node):
        return swap(node)
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expression):
            node.set(key, _transform_outermost(value, is_sub, swap))
        elif isinstance(value, list):
            node.set(key, [_transform_outermost(v, is_sub, swap) if isinstance(v, exp.Expression) else v
                           for v in value])
    return node


def _walk(node: A.Node):
    """Every node of a DAX tree (dataclass fields that are nodes or tuples of nodes)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        for v in vars(n).values():
            if isinstance(v, A.Node):
                stack.append(v)
            elif isinstance(v, tuple):
                for x in v:
                    if isinstance(x, A.Node):
                        stack.append(x)
                    elif isinstance(x, tuple):
                        stack.extend(y for y in x if isinstance(y, A.Node))
