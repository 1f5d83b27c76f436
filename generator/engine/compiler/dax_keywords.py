"""Keyword arguments of DAX functions (ASC/DESC, 0/1, TRUE/FALSE, BOTH/NONE…): reading
them off the AST, and the trailing `expr [, order]` pairs of TOPN, CONCATENATEX and others.

Many handler modules read keywords the same way, so the rule sits here once.
"""
from __future__ import annotations

from generator.dax import ast as A


_ENUM_ORDER = {"ASC": False, "DESC": True, "0": True, "1": False, "FALSE": True, "TRUE": False}


def order_pairs(args: list[A.Expr], default_desc: bool) -> list[tuple[A.Expr, bool]]:
    """(expression, descending) pairs from trailing `expr [, ASC|DESC|0|1]` arguments
    (TOPN, CONCATENATEX); an expression without a direction gets `default_desc`."""
    pairs, rest = [], list(args)
    while rest:
        expr, desc = rest.pop(0), default_desc
        if rest and _enum(rest[0]) in _ENUM_ORDER:
            desc = _ENUM_ORDER[_enum(rest.pop(0))]
        pairs.append((expr, desc))
    return pairs


def _enum(node: A.Expr) -> str | None:
    if isinstance(node, A.EnumArg):
        return node.name.upper()
    if isinstance(node, A.TableRef):
        return node.name.upper()
    if isinstance(node, A.Number):
        return str(node.value)
    if isinstance(node, A.Boolean):
        return "TRUE" if node.value else "FALSE"
    if isinstance(node, A.FunctionCall) and node.name in ("TRUE", "FALSE") and not node.args:
        return node.name
    return None
