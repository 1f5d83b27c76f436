"""Immutable AST for DAX expressions and DAX queries.

Every node is a frozen dataclass. Rewrites build new nodes (`dataclasses.replace`);
nothing mutates a tree in place.

Positions
---------
Every node has a keyword-only ``span: Span`` (start/end character offsets into the
parsed text, plus the 1-based ``line``/``col`` of the first character). Spans are
declared with ``compare=False``: two trees that differ only in positions compare
equal, which is what "the formatter preserves meaning" means. `strip_spans` also exists
for callers who want trees without positions (e.g. to print them).

Trivia that do not change meaning are also excluded from equality: ``parens`` (how many
redundant parentheses the source put around a node; the formatter keeps one),
``quoted`` on table names (``'Sales'`` vs ``Sales``). Comments are not in the AST at
all; the parser hands them to the formatter separately.

Node overview (expression language)
-----------------------------------
=====================  ===============================================================
``Number``             ``value`` (int for integer literals, float otherwise) and the
                       source ``text`` (``.5``, ``1E3``) kept for printing (not
                       compared).
``String``             ``value`` is unescaped (``"a""b"`` -> ``a"b``).
``Boolean``            bare ``TRUE`` / ``FALSE``. ``TRUE()`` is a `FunctionCall`.
``DateTimeLiteral``    ``dt"2024-01-31"``; ``text`` is the content between quotes.
``ColumnRef``          ``Table[Col]`` / ``'Table Name'[Col]``. In DAX this can also be
                       a table-qualified *measure*; the consumer decides with the model.
                       ``variation`` holds the column-variation name of
                       ``'Date'[Date].[Month]`` (else None).
``BracketRef``         bare ``[Name]``: a measure, or a column in row context, or a
                       column introduced by ADDCOLUMNS & co. Kept unresolved.
``TableRef``           ``'Table'`` or bare ``Table`` (when the name is not a variable).
``VarRef``             a bare name bound by an enclosing VAR, DEFINE VAR or function
                       parameter (resolved lexically by the parser, case-insensitive).
``EnumArg``            a bare keyword argument such as ``DESC``, ``DENSE``, ``YEAR``,
                       ``INTEGER`` or ``BOTH`` (``RANKX(..., DESC)``,
                       ``DATEADD(d, -1, YEAR)``). ``name`` is upper case.
``Parameter``          a query parameter ``@Name``.
``EmptyArg``           an omitted argument: ``RANKX(t, [m],,, DENSE)``, ``f(x, )``.
``FunctionCall``       ``name`` upper case, possibly dotted (``PERCENTILEX.INC``);
                       ``args`` is a tuple of expressions (possibly `EmptyArg`).
``UnaryOp``            ``op`` in ``"+" "-" "NOT"``. ``NOT(x)`` written as a call is a
                       `FunctionCall` named ``NOT``; ``NOT x`` is a `UnaryOp`.
``BinaryOp``           ``op`` in ``^ * / + - & = == <> < <= > >= && ||``.
``In``                 ``expr IN table``; ``expr`` may be a `TupleExpr`.
``TupleExpr``          ``(a, b)`` row value, only on the left of IN.
``TableConstructor``   ``{1, 2}`` -> rows ``((1,), (2,))``; ``{(1, "a"), (2, "b")}``
                       -> rows ``((1, "a"), (2, "b"))``.
``VarBlock``           ``VAR a = ... VAR b = ... RETURN body``; ``vars`` is a tuple of
                       `VarDef` which unpack as ``(name, expr)`` pairs.
=====================  ===============================================================

Operator precedence (Microsoft "DAX operator reference", dax.guide/operators), high to
low: ``^``; unary ``+ -``; ``* /``; ``+ -``; ``&``; comparisons and ``IN``; ``NOT``;
``&&``; ``||``. All binary operators are left associative, so ``2^3^2`` is
``(2^3)^2`` and ``-2^2`` is ``-(2^2)``.

Query language
--------------
``Query(defines, evaluates)`` with definitions `DefineMeasure`, `DefineVar`,
`DefineTable`, `DefineColumn`, `DefineFunction` (parameters as `FunctionParam`) and
``Evaluate(expr, order_by, start_at)`` where ``order_by`` is a tuple of `OrderItem`.

Compatibility: this module is consumed by the DAX engine. Fields may be added (always
with defaults, keyword-only) but never removed or renamed.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator, Union

if TYPE_CHECKING:
    from generator.dax.udfs import ParamType


@dataclass(frozen=True)
class Span:
    """Where a node sits in the parsed text: offsets [start, end) and 1-based line/col."""

    start: int
    end: int
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.line}:{self.col}"


NO_SPAN = Span(0, 0, 0, 0)


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, kw_only=True, repr=False)


@dataclass(frozen=True)
class Node:
    """Base class. Subclasses declare their children as dataclass fields."""

    span: Span = _span()
    parens: int = field(default=0, compare=False, kw_only=True, repr=False)

    def children(self) -> Iterator["Node"]:
        """Direct child nodes in source order (tuples and nested tuples flattened)."""
        for f in dataclasses.fields(self):
            if f.name in ("span", "parens"):
                continue
            yield from _nodes_in(getattr(self, f.name))

    def walk(self) -> Iterator["Node"]:
        """This node and every descendant, pre-order."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(list(node.children())))


def _nodes_in(value: object) -> Iterator[Node]:
    if isinstance(value, Node):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _nodes_in(item)


# ---------------------------------------------------------------- literals


@dataclass(frozen=True)
class Number(Node):
    value: int | float
    text: str = field(default="", compare=False)


@dataclass(frozen=True)
class String(Node):
    value: str


@dataclass(frozen=True)
class Boolean(Node):
    value: bool


@dataclass(frozen=True)
class DateTimeLiteral(Node):
    text: str


# ---------------------------------------------------------------- references


@dataclass(frozen=True)
class ColumnRef(Node):
    table: str | None
    column: str
    variation: str | None = field(default=None, kw_only=True)
    quoted: bool = field(default=False, compare=False, kw_only=True, repr=False)


@dataclass(frozen=True)
class BracketRef(Node):
    name: str


@dataclass(frozen=True)
class TableRef(Node):
    name: str
    quoted: bool = field(default=False, compare=False, kw_only=True, repr=False)


@dataclass(frozen=True)
class VarRef(Node):
    name: str


@dataclass(frozen=True)
class EnumArg(Node):
    name: str


@dataclass(frozen=True)
class Parameter(Node):
    name: str


@dataclass(frozen=True)
class EmptyArg(Node):
    pass


# ---------------------------------------------------------------- compound expressions


@dataclass(frozen=True)
class FunctionCall(Node):
    name: str
    args: tuple["Expr", ...] = ()


@dataclass(frozen=True)
class UnaryOp(Node):
    op: str
    operand: "Expr"


@dataclass(frozen=True)
class BinaryOp(Node):
    op: str
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class In(Node):
    expr: "Expr"
    table: "Expr"


@dataclass(frozen=True)
class TupleExpr(Node):
    items: tuple["Expr", ...]


@dataclass(frozen=True)
class TableConstructor(Node):
    rows: tuple[tuple["Expr", ...], ...]


@dataclass(frozen=True)
class VarDef(Node):
    name: str
    expr: "Expr"

    def __iter__(self) -> Iterator[object]:
        """Allow ``for name, expr in block.vars``."""
        yield self.name
        yield self.expr


@dataclass(frozen=True)
class VarBlock(Node):
    vars: tuple[VarDef, ...]
    body: "Expr"


Expr = Union[
    Number, String, Boolean, DateTimeLiteral, ColumnRef, BracketRef, TableRef, VarRef,
    EnumArg, Parameter, EmptyArg, FunctionCall, UnaryOp, BinaryOp, In, TupleExpr,
    TableConstructor, VarBlock,
]

# ---------------------------------------------------------------- query language


@dataclass(frozen=True)
class DefineMeasure(Node):
    table: str
    name: str
    expr: Expr
    quoted: bool = field(default=False, compare=False, kw_only=True, repr=False)


@dataclass(frozen=True)
class DefineVar(Node):
    name: str
    expr: Expr


@dataclass(frozen=True)
class DefineTable(Node):
    name: str
    expr: Expr
    quoted: bool = field(default=False, compare=False, kw_only=True, repr=False)


@dataclass(frozen=True)
class DefineColumn(Node):
    table: str
    name: str
    expr: Expr
    quoted: bool = field(default=False, compare=False, kw_only=True, repr=False)


@dataclass(frozen=True)
class FunctionParam(Node):
    """A user-defined-function parameter; ``type`` is the hint text upper-cased
    (``"SCALAR NUMERIC VAL"``, ``"TABLE"``) or None; ``default`` the expression used
    when a call omits the argument (None: the argument is required)."""

    name: str
    type: str | None = None
    default: "Expr | None" = field(default=None, kw_only=True)

    @property
    def param_type(self) -> "ParamType":
        """The parsed hint (the parser has validated it): kind, subtype, VAL/EXPR."""
        from generator.dax.udfs import param_type

        return param_type(self.type.split() if self.type else ())


@dataclass(frozen=True)
class DefineFunction(Node):
    name: str
    params: tuple[FunctionParam, ...]
    body: Expr


Definition = Union[DefineMeasure, DefineVar, DefineTable, DefineColumn, DefineFunction]


@dataclass(frozen=True)
class OrderItem(Node):
    expr: Expr
    descending: bool = False


@dataclass(frozen=True)
class Evaluate(Node):
    expr: Expr
    order_by: tuple[OrderItem, ...] = ()
    start_at: tuple[Expr, ...] = ()


@dataclass(frozen=True)
class Query(Node):
    defines: tuple[Definition, ...]
    evaluates: tuple[Evaluate, ...]


# ---------------------------------------------------------------- helpers


def strip_spans(node: Node) -> Node:
    """Return a copy of `node` whose every span is `NO_SPAN` (and parens 0)."""
    changes: dict[str, object] = {}
    for f in dataclasses.fields(node):
        if f.name in ("span", "parens"):
            continue
        value = getattr(node, f.name)
        stripped = _strip_value(value)
        if stripped is not value:
            changes[f.name] = stripped
    return dataclasses.replace(node, span=NO_SPAN, parens=0, **changes)


def _strip_value(value: object) -> object:
    if isinstance(value, Node):
        return strip_spans(value)
    if isinstance(value, tuple):
        return tuple(_strip_value(v) for v in value)
    return value


def dump(node: Node, indent: str = "") -> str:
    """A readable, indented tree, for debugging and test failure messages."""
    head = f"{indent}{type(node).__name__}"
    scalars = [
        f"{f.name}={getattr(node, f.name)!r}"
        for f in dataclasses.fields(node)
        if f.name not in ("span", "parens", "quoted")
        and not isinstance(getattr(node, f.name), (Node, tuple))
    ]
    lines = [head + ("(" + ", ".join(scalars) + ")" if scalars else "")]
    lines.extend(dump(child, indent + "  ") for child in node.children())
    return "\n".join(lines)
