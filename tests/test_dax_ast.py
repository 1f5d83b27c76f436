"""AST invariants other stages rely on: immutability, span-blind equality, traversal."""
import dataclasses

import pytest

from generator.dax.ast import (
    BinaryOp, ColumnRef, Number, Span, VarBlock, VarDef, VarRef, NO_SPAN, dump, strip_spans,
)


def test_equality_ignores_spans_parens_and_quoting():
    a = BinaryOp("+", Number(1, "1", span=Span(0, 1, 1, 1)), ColumnRef("T", "c", quoted=True))
    b = BinaryOp("+", Number(1), ColumnRef("T", "c"), parens=2)
    assert a == b
    assert hash(a) == hash(b)
    assert a != BinaryOp("-", Number(1), ColumnRef("T", "c"))


def test_nodes_are_frozen():
    n = Number(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        n.value = 2  # type: ignore[misc]


def test_strip_spans_and_walk():
    block = VarBlock((VarDef("x", Number(1, span=Span(4, 5, 1, 5))),), VarRef("x", span=Span(13, 14, 1, 14)))
    stripped = strip_spans(block)
    assert all(n.span == NO_SPAN for n in stripped.walk())
    assert [type(n).__name__ for n in block.walk()] == ["VarBlock", "VarDef", "Number", "VarRef"]
    ((name, expr),) = block.vars
    assert (name, expr) == ("x", Number(1))
    assert dump(block).splitlines()[1] == "  VarDef(name='x')"
