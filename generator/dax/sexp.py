"""Compact S-expression rendering of expression trees, for tests and debugging.

`(- (- 3 2) 1)` shows grouping at a glance where `dump` shows one node per line.
Names are prefixed by their resolution: `table:Sales`, `var:x`, `enum:DESC`.
"""
from __future__ import annotations

from generator.dax import ast as A


def sexp(node: A.Node) -> str:
    """A compact, unambiguous rendering of an expression tree: `(- (- 3 2) 1)`."""
    render = _SEXP.get(type(node))
    if render is None:
        raise TypeError(f"sexp: no rendering for {type(node).__name__}")
    return render(node)


def _call(n: A.FunctionCall) -> str:
    return "(" + " ".join([n.name + "()", *(sexp(a) for a in n.args)]) + ")"


def _table(n: A.TableConstructor) -> str:
    return "{" + " ".join("(" + " ".join(sexp(v) for v in row) + ")" for row in n.rows) + "}"


def _var_block(n: A.VarBlock) -> str:
    defs = " ".join(f"{name}={sexp(expr)}" for name, expr in n.vars)
    return f"(VAR {defs} RETURN {sexp(n.body)})"


def _column(n: A.ColumnRef) -> str:
    return f"{n.table}[{n.column}]" + (f".[{n.variation}]" if n.variation else "")


_SEXP = {
    A.Number: lambda n: n.text or repr(n.value),
    A.String: lambda n: '"' + n.value + '"',
    A.Boolean: lambda n: "TRUE" if n.value else "FALSE",
    A.DateTimeLiteral: lambda n: f'dt"{n.text}"',
    A.ColumnRef: _column,
    A.BracketRef: lambda n: f"[{n.name}]",
    A.TableRef: lambda n: f"table:{n.name}",
    A.VarRef: lambda n: f"var:{n.name}",
    A.EnumArg: lambda n: f"enum:{n.name}",
    A.Parameter: lambda n: f"@{n.name}",
    A.EmptyArg: lambda n: "_",
    A.FunctionCall: _call,
    A.UnaryOp: lambda n: f"({n.op} {sexp(n.operand)})",
    A.BinaryOp: lambda n: f"({n.op} {sexp(n.left)} {sexp(n.right)})",
    A.In: lambda n: f"(IN {sexp(n.expr)} {sexp(n.table)})",
    A.TupleExpr: lambda n: "(tuple " + " ".join(sexp(i) for i in n.items) + ")",
    A.TableConstructor: _table,
    A.VarBlock: _var_block,
}
