"""DAX formatter in the spirit of SQLBI's DAX Formatter.

Rules:
* function names and keywords upper case; ``NAME ( arg, arg )`` with spaces inside
  the parentheses, ``NAME ()`` without arguments;
* a call (or a table constructor, or a parenthesised expression) stays on one line when
  it fits in 100 columns, otherwise one argument per line, indented by 4 spaces, with the
  closing parenthesis on its own line;
* spaces around binary operators; a chain that does not fit breaks before each operator;
* ``VAR name = expr`` one per line, ``RETURN`` on its own line with the body indented;
* the minimum parentheses the grammar needs, plus one pair wherever the source had any;
* comments are kept: a comment on its own line stays on its own line before the code
  that followed it; a comment after code stays at the end of that line.

The result parses to the same AST (spans aside) and formatting it again changes nothing.
The rules have ids (FMT001 ...) in generator/dax/style.py, which names the rule behind each
difference for `fmt`'s diff; docs/dax-style.md shows each with an example.
"""
from __future__ import annotations

import re
from bisect import bisect_right

from generator.dax import ast as A
from generator.dax.doc import (
    BREAK_PARENT, HARDLINE, LINE, Doc, Group, Indent, LineSuffix, has_hard_break, render,
)
from generator.dax.lexer import OP, Comment, Token
from generator.dax.parser import ENUM_WORDS, Parser

WIDTH = 100

# Binding strength of each node kind as an operand. Higher binds tighter.
_BINARY_PREC = {
    "||": 1, "&&": 2,
    "=": 4, "==": 4, "<>": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
    "&": 5, "+": 6, "-": 6, "*": 7, "/": 7, "^": 9,
}
_NOT_PREC, _IN_PREC, _SIGN_PREC, _ATOM_PREC = 3, 4, 8, 10

_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEYWORDS = frozenset({
    "VAR", "RETURN", "IN", "NOT", "TRUE", "FALSE", "DEFINE", "EVALUATE", "MEASURE",
    "COLUMN", "TABLE", "FUNCTION", "ORDER", "BY", "START", "AT", "ASC", "DESC",
})


def format_dax(source: str | A.Node, width: int = WIDTH) -> str:
    """Format DAX text (an expression, or a query starting with DEFINE/EVALUATE) or a
    node. Raises DaxSyntaxError when the text does not parse."""
    if isinstance(source, A.Node):
        return Formatter("", [], []).format(source, width)
    parser = Parser(source)
    node, comments = parser.expression_or_query()
    return Formatter(source, parser.tokens, comments).format(node, width)


def format_function(name: str, text: str, width: int = WIDTH) -> str:
    """Format a model function's definition text ``( params ) => body`` (its comments
    kept). Raises DaxSyntaxError when the text does not parse."""
    parser = Parser(text)
    node = parser.function_only(name)
    f = Formatter(text, parser.tokens, parser.comments)
    doc = [f.function_definition(node), f._remaining_comments()]
    return render(doc, width)


class Formatter:
    """Builds a layout document for one tree, re-inserting the source comments."""

    def __init__(self, text: str, tokens: list[Token], comments: list[Comment]):
        self.text = text
        self.tokens = tokens
        self.token_starts = [t.start for t in tokens]
        self.pending = list(comments)  # sorted by offset; consumed front to back
        self.next_comment = 0

    def format(self, node: A.Node, width: int = WIDTH) -> str:
        body = self.query(node) if isinstance(node, A.Query) else self.expr(node)
        doc = [body, self._remaining_comments()]
        return render(doc, width)

    # ------------------------------------------------------------ comments

    def _leading(self, offset: int) -> list[Doc]:
        """Comments that start before `offset` and have not been printed yet."""
        out: list[Doc] = []
        while self.next_comment < len(self.pending) and self.pending[self.next_comment].start < offset:
            c = self.pending[self.next_comment]
            self.next_comment += 1
            out.append(c.text)
            out.append(HARDLINE if (c.is_line or c.own_line) else " ")
        return out

    def _trailing(self, end: int) -> list[Doc]:
        """Comments on the same line after the code ending at `end` (before the next
        token that is not a comma)."""
        if not self.tokens or self.next_comment >= len(self.pending):
            return []
        limit = self._next_code_start(end)
        out: list[Doc] = []
        while self.next_comment < len(self.pending):
            c = self.pending[self.next_comment]
            if c.start >= limit or c.own_line or c.start < end:
                break
            self.next_comment += 1
            out.extend([LineSuffix(" " + c.text), BREAK_PARENT] if c.is_line else [" ", c.text])
        return out

    def _next_code_start(self, end: int) -> int:
        i = bisect_right(self.token_starts, end - 1)
        while i < len(self.tokens) and self.tokens[i].start < end:
            i += 1
        while i < len(self.tokens) - 1 and self.tokens[i].kind == OP and self.tokens[i].value == ",":
            i += 1
        return self.tokens[i].start if i < len(self.tokens) else len(self.text)

    def _remaining_comments(self) -> list[Doc]:
        out: list[Doc] = []
        for c in self.pending[self.next_comment:]:
            out.extend([HARDLINE if c.own_line else " ", c.text])
        self.next_comment = len(self.pending)
        return out

    # ------------------------------------------------------------ expressions

    def expr(self, node: A.Node, trailing: bool = True) -> Doc:
        """The document for `node`, with the comments before it and (unless the caller
        places them itself) the comments after it on the same line."""
        lead, doc, tail = self._parts(node, trailing)
        return [*lead, doc, *tail] if lead or tail else doc

    def operand(self, node: A.Node, min_prec: int) -> Doc:
        """`node` as an operand that must bind at least as tightly as `min_prec`.
        Added parentheses go inside the comments, so a second pass sees the same."""
        lead, doc, tail = self._parts(node, True)
        if _prec(node) < min_prec and not node.parens:
            doc = _bracketed("(", doc, ")")
        return [*lead, doc, *tail] if lead or tail else doc

    def _parts(self, node: A.Node, trailing: bool) -> tuple[list[Doc], Doc, list[Doc]]:
        has_span = node.span is not A.NO_SPAN
        lead = self._leading(node.span.start) if has_span else []
        method = _EXPR.get(type(node))
        if method is None:
            raise TypeError(f"format_dax: cannot format {type(node).__name__}")
        doc = method(self, node)
        if node.parens:
            doc = _bracketed("(", doc, ")")
        tail = self._trailing(node.span.end) if trailing and has_span else []
        return lead, doc, tail

    def _tail(self, node: A.Node) -> list[Doc]:
        return self._trailing(node.span.end) if node.span is not A.NO_SPAN else []

    def _number(self, n: A.Number) -> Doc:
        return n.text or repr(n.value)

    def _string(self, n: A.String) -> Doc:
        return '"' + n.value.replace('"', '""') + '"'

    def _boolean(self, n: A.Boolean) -> Doc:
        return "TRUE" if n.value else "FALSE"

    def _datetime(self, n: A.DateTimeLiteral) -> Doc:
        return f'dt"{n.text}"'

    def _column(self, n: A.ColumnRef) -> Doc:
        table = "" if n.table is None else _table_name(n.table, n.quoted or n.table == "")
        text = table + _bracket(n.column)
        return text + "." + _bracket(n.variation) if n.variation is not None else text

    def _bracket_ref(self, n: A.BracketRef) -> Doc:
        return _bracket(n.name)

    def _table(self, n: A.TableRef) -> Doc:
        return _table_name(n.name, n.quoted, bare=True)

    def _name(self, n: A.VarRef) -> Doc:
        return n.name

    def _enum(self, n: A.EnumArg) -> Doc:
        return n.name.upper()

    def _param(self, n: A.Parameter) -> Doc:
        return "@" + n.name

    def _empty(self, n: A.EmptyArg) -> Doc:
        return ""

    def _call(self, n: A.FunctionCall) -> Doc:
        name = self._function_name(n)
        if not n.args:
            return [name, " (", *self._empty_brackets(n.span.end), ")"]
        return [name, " ", self._list("(", n.args, ")", n.span.end)]

    def _function_name(self, n: A.FunctionCall) -> str:
        """Built-in functions upper case; user-defined ones keep their source spelling."""
        from generator.dax.catalog import is_builtin

        if is_builtin(n.name) or not self.text or n.span is A.NO_SPAN:
            return n.name
        spelled = self.text[n.span.start : n.span.start + len(n.name)]
        return spelled if spelled.upper() == n.name else n.name

    def _list(self, open_: str, items: tuple[A.Node, ...], close: str, end: int = 0) -> Doc:
        """`( a, b )` flat, or one item per line. A trailing omitted item keeps its comma.

        `end` is the source offset just after the closing bracket; own-line comments
        before it stay inside the brackets.
        """
        docs = [self.expr(item) for item in items]
        body: list[Doc] = []
        for i, doc in enumerate(docs):
            last = i == len(docs) - 1
            if last and isinstance(items[i], A.EmptyArg) and i > 0:
                break
            body.append(doc)
            if not last:
                body.append(",")
                if not (i == len(docs) - 2 and isinstance(items[-1], A.EmptyArg)):
                    body.append(LINE)
        return Group([open_, Indent([LINE, body, *self._dangling(end)]), LINE, close])

    def _has_dangling(self, end: int) -> bool:
        return bool(
            end and self.text and self.next_comment < len(self.pending)
            and self.pending[self.next_comment].start < end - 1
        )

    def _empty_brackets(self, end: int) -> list[Doc]:
        """Comments inside empty brackets: `f (` / comments / `)` on its own line."""
        comments = self._dangling(end)
        return [Indent(comments), HARDLINE] if comments else []

    def _dangling(self, end: int) -> list[Doc]:
        """Own-line comments left before the closing bracket that ends at `end`."""
        if not end or not self.text:
            return []
        close_start = end - 1
        out: list[Doc] = []
        while self.next_comment < len(self.pending):
            c = self.pending[self.next_comment]
            if c.start >= close_start:
                break
            self.next_comment += 1
            out.extend([HARDLINE, c.text])
        return out

    def _unary(self, n: A.UnaryOp) -> Doc:
        if n.op == "NOT":
            return ["NOT ", self.operand(n.operand, _NOT_PREC)]
        # A space where gluing would change the tokens: `- -1` (not the comment `--1`),
        # `- --note` (a comment right after the sign).
        inner = n.operand
        signed = isinstance(inner, A.UnaryOp) and inner.op != "NOT" and not inner.parens
        negative = isinstance(inner, A.Number) and (inner.text or repr(inner.value)).startswith("-")
        commented = inner.span is not A.NO_SPAN and self._comment_before(inner.span.start)
        sep = " " if signed or negative or commented else ""
        return [n.op, sep, self.operand(inner, _SIGN_PREC)]

    def _comment_before(self, offset: int) -> bool:
        return self.next_comment < len(self.pending) and self.pending[self.next_comment].start < offset

    def _binary(self, n: A.BinaryOp) -> Doc:
        """A left-associative chain of one precedence level, e.g. a + b - c."""
        prec = _BINARY_PREC[n.op]
        links: list[tuple[str, A.Node]] = []
        node: A.Node = n
        while isinstance(node, A.BinaryOp) and _BINARY_PREC[node.op] == prec and (
            node is n or not node.parens
        ):
            links.append((node.op, node.right))
            node = node.left
        first = self.operand(node, prec)
        right_min = prec + 1 if prec != 9 else _ATOM_PREC
        rest: list[Doc] = []
        for op, right in reversed(links):
            rest.extend([LINE, op, " ", self.operand(right, right_min)])
        if len(links) == 1:
            # `IF ( ... ) * 1.1`: a broken left operand does not push the operator down,
            # and `x * ( VAR ... )`: an operand that must break keeps the operator inline.
            if has_hard_break(rest[3]):
                return [first, " ", rest[1], " ", rest[3]]
            return [first, Group(Indent(rest))]
        return Group([first, Indent(rest)])

    def _in(self, n: A.In) -> Doc:
        left = self.operand(n.expr, _IN_PREC)
        right = self.operand(n.table, _IN_PREC + 1)
        return Group([left, Indent([LINE, "IN ", right])])

    def _tuple(self, n: A.TupleExpr) -> Doc:
        return self._list("(", n.items, ")", n.span.end)

    def _table_constructor(self, n: A.TableConstructor) -> Doc:
        if not n.rows:
            return ["{", *self._empty_brackets(n.span.end), "}"] if self._has_dangling(n.span.end) else "{ }"
        rows: list[Doc] = []
        for row in n.rows:
            rows.append(self.expr(row[0]) if len(row) == 1 else self._list("(", row, ")"))
        body: list[Doc] = []
        for i, doc in enumerate(rows):
            body.append(doc)
            if i < len(rows) - 1:
                body.extend([",", LINE])
        return Group(["{", Indent([LINE, body, *self._dangling(n.span.end)]), LINE, "}"])

    def _var_block(self, n: A.VarBlock) -> Doc:
        out: list[Doc] = []
        prev_end = None
        for var in n.vars:
            out.extend([self._blank_line(prev_end, var), self._var_def(var), HARDLINE])
            prev_end = var.span.end
        out.append(self._blank_line(prev_end, n.body))
        out.append(self._leading(n.body.span.start) if n.body.span is not A.NO_SPAN else "")
        out.extend(["RETURN", Indent([HARDLINE, self.expr(n.body)])])
        return out

    def _blank_line(self, prev_end: int | None, node: A.Node) -> Doc:
        """One empty line where the source separated two VAR sections by one or more."""
        if prev_end is None or node.span is A.NO_SPAN or not self.text:
            return ""
        gap = self.text[prev_end : node.span.start]
        return HARDLINE if _BLANK_LINE.search(gap) else ""

    def _var_def(self, var: A.VarDef) -> Doc:
        lead = self._leading(var.span.start) if var.span is not A.NO_SPAN else []
        value = Group(Indent([LINE, self.expr(var.expr, trailing=False)]))
        return [*lead, "VAR ", var.name, " =", value, *self._tail(var.expr)]

    # ------------------------------------------------------------ queries

    def query(self, q: A.Query) -> Doc:
        out: list[Doc] = []
        if q.defines:
            out.extend(["DEFINE", Indent([self._definition(d) for d in q.defines]), HARDLINE])
        for i, ev in enumerate(q.evaluates):
            if i:
                out.append(HARDLINE)
            out.append(self._evaluate(ev))
        return out

    def _definition(self, d: A.Node) -> Doc:
        lead = self._leading(d.span.start) if d.span is not A.NO_SPAN else []
        if isinstance(d, A.DefineMeasure):
            head = ["MEASURE ", _table_name(d.table, d.quoted), _bracket(d.name)]
        elif isinstance(d, A.DefineColumn):
            head = ["COLUMN ", _table_name(d.table, d.quoted), _bracket(d.name)]
        elif isinstance(d, A.DefineTable):
            head = ["TABLE ", _table_name(d.name, d.quoted)]
        elif isinstance(d, A.DefineVar):
            head = ["VAR ", d.name]
        elif isinstance(d, A.DefineFunction):
            return [HARDLINE, *lead, "FUNCTION ", d.name, " = ", self.function_definition(d)]
        else:
            raise TypeError(f"format_dax: cannot format definition {type(d).__name__}")
        value = Group(Indent([LINE, self.expr(d.expr, trailing=False)]))
        return [HARDLINE, *lead, *head, " =", value, *self._tail(d.expr)]

    def function_definition(self, d: A.DefineFunction) -> Doc:
        """``( params ) =>`` then the body, indented on the next line when it is long."""
        value = Group(Indent([LINE, self.expr(d.body, trailing=False)]))
        return [self._params(d.params), " =>", value, *self._tail(d.body)]

    def _params(self, params: tuple[A.FunctionParam, ...]) -> Doc:
        if not params:
            return "()"
        docs: list[Doc] = []
        for i, prm in enumerate(params):
            docs.append(prm.name + (f" : {prm.type}" if prm.type else ""))
            if prm.default is not None:
                docs.extend([" = ", self.expr(prm.default, trailing=False)])
            if i < len(params) - 1:
                docs.extend([",", LINE])
        return Group(["(", Indent([LINE, docs]), LINE, ")"])

    def _evaluate(self, ev: A.Evaluate) -> Doc:
        lead = self._leading(ev.span.start) if ev.span is not A.NO_SPAN else []
        out: list[Doc] = [*lead, "EVALUATE", HARDLINE, self.expr(ev.expr)]
        if ev.order_by:
            items: list[Doc] = []
            for i, item in enumerate(ev.order_by):
                doc = self.expr(item.expr, trailing=False)
                items.append([doc, " DESC" if item.descending else "", *self._tail(item.expr)])
                if i < len(ev.order_by) - 1:
                    items.extend([",", LINE])
            out.extend([HARDLINE, "ORDER BY", Group(Indent([LINE, items]))])
        if ev.start_at:
            values: list[Doc] = []
            for i, value in enumerate(ev.start_at):
                values.append(self.expr(value))
                if i < len(ev.start_at) - 1:
                    values.extend([",", LINE])
            out.extend([HARDLINE, "START AT", Group(Indent([LINE, values]))])
        return out


def _bracketed(open_: str, doc: Doc, close: str) -> Doc:
    return Group([open_, Indent([LINE, doc]), LINE, close])


def _bracket(name: str) -> str:
    return "[" + name.replace("]", "]]") + "]"


def _table_name(name: str, quoted: bool, bare: bool = False) -> str:
    """Keep the source quoting; add quotes where an unquoted name would not lex back.

    A bare table name (not followed by [column]) also needs quotes when it would read
    as a keyword or an enumeration argument.
    """
    reserved = name.upper() in _KEYWORDS or (bare and name.upper() in ENUM_WORDS)
    if quoted or not _PLAIN_NAME.match(name) or reserved:
        return "'" + name.replace("'", "''") + "'"
    return name


def _prec(node: A.Node) -> int:
    if isinstance(node, A.BinaryOp):
        return _BINARY_PREC[node.op]
    if isinstance(node, A.In):
        return _IN_PREC
    if isinstance(node, A.UnaryOp):
        return _NOT_PREC if node.op == "NOT" else _SIGN_PREC
    if isinstance(node, A.VarBlock):
        return 0
    return _ATOM_PREC


_EXPR = {
    A.Number: Formatter._number,
    A.String: Formatter._string,
    A.Boolean: Formatter._boolean,
    A.DateTimeLiteral: Formatter._datetime,
    A.ColumnRef: Formatter._column,
    A.BracketRef: Formatter._bracket_ref,
    A.TableRef: Formatter._table,
    A.VarRef: Formatter._name,
    A.EnumArg: Formatter._enum,
    A.Parameter: Formatter._param,
    A.EmptyArg: Formatter._empty,
    A.FunctionCall: Formatter._call,
    A.UnaryOp: Formatter._unary,
    A.BinaryOp: Formatter._binary,
    A.In: Formatter._in,
    A.TupleExpr: Formatter._tuple,
    A.TableConstructor: Formatter._table_constructor,
    A.VarBlock: Formatter._var_block,
}
