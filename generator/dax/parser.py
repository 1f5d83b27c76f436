"""Recursive-descent / precedence-climbing parser for DAX expressions and queries.

Precedence, from loosest to tightest binding (Microsoft "DAX operator reference",
dax.guide/operators; `&&`/`||` placement as in every DAX tool, see dax-semantics §1.6):

    ||            left associative
    &&            left associative
    NOT           prefix
    = == <> < <= > >= IN      left associative
    &             left associative
    + -           left associative
    * /           left associative
    + - (sign)    prefix
    ^             left associative: 2^3^2 = (2^3)^2 = 64; -2^2 = -(2^2) = -4

Operator chains (`1 + 2 + … + n`) are parsed by a loop, so their length is unbounded;
only nesting (parentheses, calls, prefix operators, VAR bodies) recurses, and it is
limited to MAX_DEPTH levels with a positioned error. The parser raises the interpreter's
recursion limit while it runs so the limit it enforces is its own, never Python's.

Names are resolved lexically where the grammar allows it: a bare name bound by an
enclosing VAR (or DEFINE VAR / function parameter) becomes a `VarRef`, a bare keyword
argument such as DESC or YEAR becomes an `EnumArg`, any other bare name a `TableRef`.
"""
from __future__ import annotations

import dataclasses
import sys
from contextlib import contextmanager
from typing import Iterator

from generator.dax import ast as A
from generator.dax.errors import DaxSyntaxError, SourceText
from generator.dax.udfs import ParamTypeError, param_type
from generator.dax.lexer import (
    BRACKET, DATETIME, EOF, IDENT, NUMBER, OP, PARAM, QUOTED, STRING, Comment, Token, tokenize,
)
from generator.source import ExprOrigin

# Binary operator levels: level -> operators. Higher binds tighter.
_OR, _AND, _NOT, _CMP, _CONCAT, _ADD, _MUL = 1, 2, 3, 4, 5, 6, 7
_BINARY_LEVEL = {
    "||": _OR, "&&": _AND,
    "=": _CMP, "==": _CMP, "<>": _CMP, "<": _CMP, "<=": _CMP, ">": _CMP, ">=": _CMP,
    "&": _CONCAT, "+": _ADD, "-": _ADD, "*": _MUL, "/": _MUL,
}
# Bare words that are keywords wherever an expression is expected.
_RESERVED = frozenset({"RETURN", "IN", "DEFINE", "EVALUATE", "VAR"})
# Bare words accepted as enumeration arguments (RANKX order/ties, DATEADD intervals,
# CROSSFILTER directions, CONVERT/DATATABLE types, window-function options).
ENUM_WORDS = frozenset({
    "ASC", "DESC", "SKIP", "DENSE", "YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "HOUR",
    "MINUTE", "SECOND", "BOTH", "NONE", "ONEWAY", "ONEWAY_LEFTFILTERS",
    "ONEWAY_RIGHTFILTERS", "INTEGER", "DOUBLE", "STRING", "BOOLEAN", "CURRENCY",
    "DATETIME", "REL", "ABS", "KEEP", "FIRST", "LAST", "DEFAULT", "ROWS", "COLUMNS",
})
_DEFINE_KINDS = frozenset({"MEASURE", "VAR", "TABLE", "COLUMN", "FUNCTION"})
MAX_DEPTH = 256  # far beyond real measures (the shipped ones nest < 15); see _nest
_FRAMES_PER_LEVEL = 12  # Python frames one nesting level may use (_expr → … → _paren → _expr)


def parse_expression(text: str, origin: ExprOrigin | None = None) -> A.Expr:
    """Parse one DAX expression (a measure, calculated column or table expression)."""
    return Parser(text, origin).expression_only()[0]


def parse_function(name: str, text: str, origin: ExprOrigin | None = None) -> A.DefineFunction:
    """Parse a model function's definition text ``( params ) => body`` (as TMDL stores it)."""
    return Parser(text, origin).function_only(name)


def parse_query(text: str, origin: ExprOrigin | None = None) -> A.Query:
    """Parse a DAX query: optional DEFINE section, one or more EVALUATE statements."""
    return Parser(text, origin).query_only()[0]


class Parser:
    """One parse of one text. Use `parse_expression` / `parse_query` unless you also
    need the comments (the formatter does)."""

    def __init__(self, text: str, origin: ExprOrigin | None = None):
        self.src = SourceText(text, origin)
        self.tokens: list[Token] = []
        self.comments: list[Comment] = []
        self.i = 0
        self.tok: Token = Token(EOF, "", 0, 0, 1, 1)
        self.prev_end = 0
        self.scopes: list[set[str]] = [set()]
        self.depth = -1  # the whole expression is level 0; each parenthesis, call or prefix adds one

    # ------------------------------------------------------------ entry points

    def expression_only(self) -> tuple[A.Expr, list[Comment]]:
        return self._run(self._top_expression)

    def query_only(self) -> tuple[A.Query, list[Comment]]:
        return self._run(self._query)

    def expression_or_query(self) -> tuple[A.Node, list[Comment]]:
        """A query when the text starts with DEFINE or EVALUATE, else an expression."""

        def pick() -> A.Node:
            if self._is_kw("DEFINE") or self._is_kw("EVALUATE"):
                return self._query()
            return self._top_expression()

        return self._run(pick)

    def _run(self, rule):
        self.tokens, self.comments = tokenize(self.src)
        self.tok = self.tokens[0]
        with _recursion_headroom(MAX_DEPTH * _FRAMES_PER_LEVEL):
            try:
                node = rule()
            except RecursionError:  # only if a caller left too little headroom
                raise self._error_here("expression is nested too deeply") from None
        return node, self.comments

    def _top_expression(self) -> A.Expr:
        if self.tok.kind == EOF:
            raise self._error_here("the expression is empty")
        node = self._expr()
        if self.tok.kind != EOF:
            raise self._trailing()
        return node

    def _trailing(self) -> DaxSyntaxError:
        if self.tok.kind == OP and self.tok.value in (")", "}"):
            return self._error_here(f"unmatched '{self.tok.value}'")
        return self._error_here(
            f"unexpected {self.tok.describe()} after a complete expression "
            "(a missing operator or comma?)"
        )

    # ------------------------------------------------------------ token helpers

    def _advance(self) -> Token:
        tok = self.tok
        self.prev_end = tok.end
        self.i += 1
        self.tok = self.tokens[self.i] if self.i < len(self.tokens) else self.tokens[-1]
        return tok

    def _peek(self, k: int = 1) -> Token:
        j = self.i + k
        return self.tokens[j] if j < len(self.tokens) else self.tokens[-1]

    def _is_op(self, value: str) -> bool:
        return self.tok.kind == OP and self.tok.value == value

    def _is_kw(self, word: str, tok: Token | None = None) -> bool:
        tok = tok or self.tok
        return tok.kind == IDENT and tok.value.upper() == word

    def _expect_op(self, value: str, context: str) -> Token:
        if not self._is_op(value):
            raise self._unexpected(f"expected '{value}' {context}")
        return self._advance()

    def _expect_kw(self, word: str, context: str) -> Token:
        if not self._is_kw(word):
            raise self._unexpected(f"expected {word} {context}")
        return self._advance()

    def _span(self, start: Token) -> A.Span:
        return A.Span(start.start, max(self.prev_end, start.end), start.line, start.col)

    def _error_here(self, message: str) -> DaxSyntaxError:
        return self.src.error(message, self.tok.start)

    def _unexpected(self, expectation: str) -> DaxSyntaxError:
        return self._error_here(f"{expectation}, found {self.tok.describe()}")

    # ------------------------------------------------------------ scopes

    def _is_var(self, name: str) -> bool:
        key = name.upper()
        return any(key in scope for scope in self.scopes)

    def _bind(self, name: str) -> None:
        self.scopes[-1].add(name.upper())

    # ------------------------------------------------------------ expressions

    def _enter(self) -> None:
        """One more level of nesting (left again in a `finally`); beyond MAX_DEPTH a
        positioned error instead of a RecursionError."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self._error_here(f"expression is nested more than {MAX_DEPTH} levels deep")

    def _expr(self) -> A.Expr:
        self._enter()
        try:
            return self._binary(_OR)
        finally:
            self.depth -= 1

    def _binary(self, min_level: int) -> A.Expr:
        """Precedence climbing: operators of level >= min_level, all left associative."""
        start = self.tok
        left = self._operand(min_level)
        while True:
            tok = self.tok
            if tok.kind == OP:
                level = _BINARY_LEVEL.get(tok.value, 0)
            elif tok.kind == IDENT and tok.value.upper() == "IN":
                level = _CMP
            else:
                return left
            if level < min_level:
                return left
            self._advance()
            right = self._binary(level + 1)
            if level == _CMP and tok.kind == IDENT:
                left = A.In(left, right, span=self._span(start))
            else:
                left = A.BinaryOp(tok.value, left, right, span=self._span(start))

    def _operand(self, min_level: int) -> A.Expr:
        """A unary-level operand; a prefix NOT takes a comparison-level operand."""
        tok = self.tok
        if tok.kind == IDENT and tok.value.upper() == "NOT" and not self._next_is("("):
            self._advance()
            self._enter()
            try:
                operand = self._binary(_NOT)
            finally:
                self.depth -= 1
            return A.UnaryOp("NOT", operand, span=self._span(tok))
        return self._unary()

    def _next_is(self, op: str) -> bool:
        nxt = self._peek()
        return nxt.kind == OP and nxt.value == op

    def _unary(self) -> A.Expr:
        tok = self.tok
        if tok.kind == OP and tok.value in ("+", "-"):
            self._advance()
            self._enter()
            try:
                operand = self._unary()
            finally:
                self.depth -= 1
            return A.UnaryOp(tok.value, operand, span=self._span(tok))
        return self._power()

    def _power(self) -> A.Expr:
        start = self.tok
        left = self._primary()
        while self._is_op("^"):
            self._advance()
            right = self._power_operand()
            left = A.BinaryOp("^", left, right, span=self._span(start))
        return left

    def _power_operand(self) -> A.Expr:
        """The right side of ^: a signed primary (2^-1), never another ^ (left assoc)."""
        tok = self.tok
        if tok.kind == OP and tok.value in ("+", "-"):
            self._advance()
            self._enter()
            try:
                operand = self._power_operand()
            finally:
                self.depth -= 1
            return A.UnaryOp(tok.value, operand, span=self._span(tok))
        return self._primary()

    # ------------------------------------------------------------ primaries

    def _primary(self) -> A.Expr:
        tok = self.tok
        kind = tok.kind
        handler = _PRIMARY.get(kind)
        if handler is None:
            if kind == OP:
                return self._primary_op(tok)
            if kind == EOF:
                raise self._error_here("expected an expression, found end of input")
            raise self._unexpected("expected an expression")  # pragma: no cover
        return handler(self, tok)

    def _number(self, tok: Token) -> A.Expr:
        self._advance()
        text = tok.value
        if "." in text or "e" in text or "E" in text:
            value: int | float = float(text)
        else:
            value = int(text)
        return A.Number(value, text, span=self._span(tok))

    def _string(self, tok: Token) -> A.Expr:
        self._advance()
        return A.String(tok.value, span=self._span(tok))

    def _datetime(self, tok: Token) -> A.Expr:
        self._advance()
        return A.DateTimeLiteral(tok.value, span=self._span(tok))

    def _param(self, tok: Token) -> A.Expr:
        self._advance()
        return A.Parameter(tok.value, span=self._span(tok))

    def _bracket(self, tok: Token) -> A.Expr:
        self._advance()
        return A.BracketRef(tok.value, span=self._span(tok))

    def _quoted(self, tok: Token) -> A.Expr:
        self._advance()
        if self.tok.kind == BRACKET:
            return self._column(tok, quoted=True)
        return A.TableRef(tok.value, quoted=True, span=self._span(tok))

    def _column(self, table: Token, quoted: bool) -> A.ColumnRef:
        col = self._advance()
        variation = None
        if self._is_op(".") and self._peek().kind == BRACKET:
            self._advance()
            variation = self._advance().value
        return A.ColumnRef(
            table.value, col.value, variation=variation, quoted=quoted, span=self._span(table)
        )

    def _ident(self, tok: Token) -> A.Expr:
        word = tok.value.upper()
        nxt = self._peek()
        if word == "VAR":
            return self._var_block()
        if word == "NOT" and not (nxt.kind == OP and nxt.value == "("):
            return self._operand(_NOT)
        if word in _RESERVED:
            raise self._unexpected("expected an expression")
        if nxt.kind == OP and nxt.value == "(":
            return self._call(tok)
        if nxt.kind == BRACKET:
            self._advance()
            return self._column(tok, quoted=False)
        self._advance()
        if word in ("TRUE", "FALSE"):
            return A.Boolean(word == "TRUE", span=self._span(tok))
        if self._is_var(tok.value):
            return A.VarRef(tok.value, span=self._span(tok))
        return A.TableRef(tok.value, span=self._span(tok))

    def _primary_op(self, tok: Token) -> A.Expr:
        if tok.value == "(":
            return self._paren()
        if tok.value == "{":
            return self._table_constructor()
        raise self._unexpected("expected an expression")

    def _paren(self) -> A.Expr:
        open_tok = self._advance()
        inner = self._expr()
        if self._is_op(","):
            items = [inner]
            while self._is_op(","):
                self._advance()
                items.append(self._expr())
            self._close(open_tok, ")")
            return A.TupleExpr(tuple(items), span=self._span(open_tok))
        self._close(open_tok, ")")
        return _with_parens(inner)

    def _close(self, open_tok: Token, closer: str) -> None:
        if not self._is_op(closer):
            raise self._unexpected(
                f"expected '{closer}' to close the '{open_tok.value}' at "
                f"line {open_tok.line}, column {open_tok.col}"
            )
        self._advance()

    def _table_constructor(self) -> A.Expr:
        open_tok = self._advance()
        rows: list[tuple[A.Expr, ...]] = []
        if not self._is_op("}"):
            while True:
                item = self._expr()
                rows.append(item.items if isinstance(item, A.TupleExpr) else (item,))
                if not self._is_op(","):
                    break
                self._advance()
        self._close(open_tok, "}")
        return A.TableConstructor(tuple(rows), span=self._span(open_tok))

    def _call(self, name_tok: Token) -> A.Expr:
        self._advance()
        open_tok = self._advance()
        args: list[A.Expr] = []
        if not self._is_op(")"):
            while True:
                args.append(self._argument())
                if self._is_op(","):
                    self._advance()
                    continue
                break
        self._close_call(name_tok, open_tok)
        return A.FunctionCall(name_tok.value.upper(), tuple(args), span=self._span(name_tok))

    def _close_call(self, name_tok: Token, open_tok: Token) -> None:
        if not self._is_op(")"):
            raise self._unexpected(
                f"expected ',' or ')' in the arguments of {name_tok.value.upper()}"
                f" (opened at line {open_tok.line}, column {open_tok.col})"
            )
        self._advance()

    def _argument(self) -> A.Expr:
        tok = self.tok
        if tok.kind == OP and tok.value in (",", ")"):
            return A.EmptyArg(span=A.Span(tok.start, tok.start, tok.line, tok.col))
        if tok.kind == IDENT and tok.value.upper() in ENUM_WORDS:
            nxt = self._peek()
            if nxt.kind == OP and nxt.value in (",", ")") and not self._is_var(tok.value):
                self._advance()
                return A.EnumArg(tok.value.upper(), span=self._span(tok))
            two_part = self._blanks_direction(tok)
            if two_part is not None:
                return two_part
        return self._expr()

    def _blanks_direction(self, tok: Token) -> A.EnumArg | None:
        """ORDERBY's two-part direction `ASC|DESC BLANKS DEFAULT|FIRST|LAST`
        (learn.microsoft.com/dax/orderby-function-dax): one EnumArg "ASC BLANKS LAST"."""
        blanks, which, after = self._peek(), self._peek(2), self._peek(3)
        if tok.value.upper() not in ("ASC", "DESC") or blanks.kind != IDENT or blanks.value.upper() != "BLANKS" \
                or which.kind != IDENT or which.value.upper() not in ("DEFAULT", "FIRST", "LAST") \
                or after.kind != OP or after.value not in (",", ")"):
            return None
        for _ in range(3):
            self._advance()
        return A.EnumArg(f"{tok.value.upper()} BLANKS {which.value.upper()}", span=self._span(tok))

    def _var_block(self) -> A.Expr:
        start = self.tok
        self.scopes.append(set())
        try:
            defs: list[A.VarDef] = []
            while self._is_kw("VAR"):
                defs.append(self._var_def())
            if not self._is_kw("RETURN"):
                raise self._unexpected("expected VAR or RETURN after the VAR definitions")
            self._advance()
            body = self._expr()
        finally:
            self.scopes.pop()
        return A.VarBlock(tuple(defs), body, span=self._span(start))

    def _var_def(self) -> A.VarDef:
        start = self._advance()  # VAR
        name = self._name("a variable name after VAR")
        self._expect_op("=", f"after VAR {name}")
        expr = self._expr()
        self._bind(name)
        return A.VarDef(name, expr, span=self._span(start))

    def _name(self, what: str) -> str:
        tok = self.tok
        if tok.kind != IDENT or tok.value.upper() in _RESERVED:
            raise self._unexpected(f"expected {what}")
        self._advance()
        return tok.value

    # ------------------------------------------------------------ queries

    def _query(self) -> A.Query:
        start = self.tok
        defines: list[A.Definition] = []
        while self._is_kw("DEFINE"):
            self._advance()
            if not self._is_define_kind():
                raise self._unexpected("expected MEASURE, VAR, TABLE, COLUMN or FUNCTION after DEFINE")
            while self._is_define_kind():
                defines.append(self._definition())
        evaluates: list[A.Evaluate] = []
        while self._is_kw("EVALUATE"):
            evaluates.append(self._evaluate())
        if not evaluates and not defines and self.tok.kind == EOF:
            raise self._error_here("the query is empty; write EVALUATE <table expression>")
        if not evaluates:
            raise self._unexpected("expected EVALUATE" if defines else "expected DEFINE or EVALUATE")
        if self.tok.kind != EOF:
            raise self._unexpected("expected EVALUATE, ORDER BY, START AT or the end of the query")
        return A.Query(tuple(defines), tuple(evaluates), span=self._span(start))

    def _is_define_kind(self) -> bool:
        return self.tok.kind == IDENT and self.tok.value.upper() in _DEFINE_KINDS

    def _definition(self) -> A.Definition:
        start = self._advance()
        kind = start.value.upper()
        return _DEFINITIONS[kind](self, start)

    def _define_measure(self, start: Token) -> A.Definition:
        table, name, quoted = self._table_column(f"a Table[Name] after {start.value.upper()}")
        self._expect_op("=", f"after {start.value.upper()} {table}[{name}]")
        expr = self._expr()
        cls = A.DefineMeasure if start.value.upper() == "MEASURE" else A.DefineColumn
        return cls(table, name, expr, quoted=quoted, span=self._span(start))

    def _table_column(self, what: str) -> tuple[str, str, bool]:
        tok = self.tok
        if tok.kind not in (IDENT, QUOTED) or self._peek().kind != BRACKET:
            raise self._unexpected(f"expected {what}")
        self._advance()
        return tok.value, self._advance().value, tok.kind == QUOTED

    def _define_var(self, start: Token) -> A.Definition:
        name = self._name("a variable name after VAR")
        self._expect_op("=", f"after VAR {name}")
        expr = self._expr()
        self._bind(name)
        return A.DefineVar(name, expr, span=self._span(start))

    def _define_table(self, start: Token) -> A.Definition:
        tok = self.tok
        if tok.kind not in (IDENT, QUOTED):
            raise self._unexpected("expected a table name after TABLE")
        self._advance()
        self._expect_op("=", f"after TABLE {tok.value}")
        expr = self._expr()
        return A.DefineTable(tok.value, expr, quoted=tok.kind == QUOTED, span=self._span(start))

    def _define_function(self, start: Token) -> A.Definition:
        name = self._name("a function name after FUNCTION")
        self._expect_op("=", f"after FUNCTION {name}")
        params, body = self._function_rest(name)
        return A.DefineFunction(name, params, body, span=self._span(start))

    def function_only(self, name: str) -> A.DefineFunction:
        """A model function's text, ``( params ) => body``, as a `DefineFunction`."""

        def rule() -> A.DefineFunction:
            start = self.tok
            params, body = self._function_rest(name)
            if self.tok.kind != EOF:
                raise self._trailing()
            return A.DefineFunction(name, params, body, span=self._span(start))

        return self._run(rule)[0]

    def _function_rest(self, name: str) -> tuple[tuple[A.FunctionParam, ...], A.Expr]:
        """``( params ) => body``: parameters are variables of the body (lexically)."""
        open_tok = self._expect_op("(", f"to start the parameters of {name}")
        params: list[A.FunctionParam] = []
        self.scopes.append(set())
        try:
            while not self._is_op(")"):
                params.append(self._function_param(params))
                if not self._is_op(","):
                    break
                self._advance()
            self._close(open_tok, ")")
            self._expect_op("=>", f"after the parameters of {name}")
            body = self._expr()
        finally:
            self.scopes.pop()
        return tuple(params), body

    def _function_param(self, before: list[A.FunctionParam]) -> A.FunctionParam:
        start = self.tok
        name = self._name("a parameter name")
        if any(p.name.upper() == name.upper() for p in before):
            raise self.src.error(f"duplicate parameter name '{name}'", start.start)
        hint = None
        if self._is_op(":"):
            self._advance()
            words: list[Token] = []
            while self.tok.kind == IDENT:
                words.append(self._advance())
            if not words:
                raise self._unexpected(f"expected a type after '{name} :'")
            try:
                param_type([w.value.upper() for w in words])
            except ParamTypeError as err:
                raise self.src.error(f"parameter {name}: {err}", words[err.index].start) from None
            hint = " ".join(w.value.upper() for w in words)
        default = None
        if self._is_op("="):
            self._advance()
            default = self._expr()
        self._bind(name)
        return A.FunctionParam(name, hint, default=default, span=self._span(start))

    def _evaluate(self) -> A.Evaluate:
        start = self._advance()
        expr = self._expr()
        order: list[A.OrderItem] = []
        start_at: list[A.Expr] = []
        if self._is_kw("ORDER") and self._is_kw("BY", self._peek()):
            self._advance()
            self._advance()
            order.append(self._order_item())
            while self._is_op(","):
                self._advance()
                order.append(self._order_item())
            if self._is_kw("START") and self._is_kw("AT", self._peek()):
                self._advance()
                self._advance()
                start_at.append(self._expr())
                while self._is_op(","):
                    self._advance()
                    start_at.append(self._expr())
        return A.Evaluate(expr, tuple(order), tuple(start_at), span=self._span(start))

    def _order_item(self) -> A.OrderItem:
        start = self.tok
        expr = self._expr()
        descending = False
        if self._is_kw("ASC") or self._is_kw("DESC"):
            descending = self._advance().value.upper() == "DESC"
        return A.OrderItem(expr, descending, span=self._span(start))


@contextmanager
def _recursion_headroom(frames: int) -> Iterator[None]:
    """Let the parse use `frames` more Python frames than are in use now.

    Safe on any thread: since Python 3.11 a Python-to-Python call does not use the C
    stack, and the parser's recursion is nothing but such calls."""
    old = sys.getrecursionlimit()
    in_use = len(_frames())
    sys.setrecursionlimit(max(old, in_use + frames))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def _frames() -> list:
    frames, frame = [], sys._getframe()
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    return frames


def _with_parens(node: A.Expr) -> A.Expr:
    """Record one more pair of source parentheses on `node` (trivia, not compared)."""
    return dataclasses.replace(node, parens=node.parens + 1)


_PRIMARY = {
    NUMBER: Parser._number,
    STRING: Parser._string,
    DATETIME: Parser._datetime,
    PARAM: Parser._param,
    BRACKET: Parser._bracket,
    QUOTED: Parser._quoted,
    IDENT: Parser._ident,
}

_DEFINITIONS = {
    "MEASURE": Parser._define_measure,
    "COLUMN": Parser._define_measure,
    "VAR": Parser._define_var,
    "TABLE": Parser._define_table,
    "FUNCTION": Parser._define_function,
}
