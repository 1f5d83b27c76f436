"""sqlglot helpers shared by every engine layer: identifiers, function calls, parentheses,
and DDL built as `exp.Create` / `exp.Drop` / `exp.Set` trees, never by formatting strings.

Names and literals go through sqlglot's quoting, so a table called `it's "x"` or a temp
folder with a quote in its path cannot change the statement's shape.
"""
from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp

DIALECT = "duckdb"


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def table_ref(name: str, alias: str | None = None) -> exp.Table:
    t = exp.Table(this=ident(name))
    if alias:
        t.set("alias", exp.TableAlias(this=ident(alias)))
    return t


def fn(name: str, *args: exp.Expression) -> exp.Expression:
    """A DuckDB function call, emitted verbatim (sqlglot's typed functions may rewrite
    arguments between dialects, e.g. CONCAT → `||`, which changes NULL handling)."""
    return exp.Anonymous(this=name, expressions=list(args))


def parenthesize(tree: exp.Expression) -> exp.Expression:
    """Wrap every operator operand that is itself an operator in parentheses.

    sqlglot prints the tree as built, without adding parentheses for precedence
    (Div(Add(a, b), c) prints as `a + b / c`), so the engine never relies on it.
    """
    targets = []
    for node in tree.walk():
        if isinstance(node, (exp.Binary, exp.Unary)) and not isinstance(node, (exp.Dot, exp.Paren)):
            for key in ("this", "expression"):
                child = node.args.get(key)
                if isinstance(child, (exp.Binary, exp.Unary)) and not isinstance(child, (exp.Paren, exp.Dot)):
                    targets.append(child)
    for child in targets:
        paren = exp.Paren()
        child.replace(paren)
        paren.set("this", child)
    return tree


def join(select: exp.Select, source: exp.Expression, on: exp.Expression | None = None,
         kind: str = "LEFT") -> exp.Select:
    """select LEFT JOIN source ON on (or CROSS JOIN source), in place.

    sqlglot's `Select.join(..., join_type="LEFT")` parses the text "FROM _ LEFT JOIN _" on
    every call (and copies `source` unless told not to); this builds the node directly."""
    if kind == "CROSS":
        node = exp.Join(this=source, kind="CROSS")
    else:
        node = exp.Join(this=source, on=on, side=kind)
    select.append("joins", node)
    return select


@lru_cache(maxsize=None)
def _data_type(name: str) -> exp.DataType:
    return exp.DataType.build(name, dialect=DIALECT)


def data_type(name: str) -> exp.DataType:
    """A fresh DataType node for a type name such as "DECIMAL(38,4)", parsed once."""
    return _data_type(name).copy()


# ---------------------------------------------------------------- DDL


def create_table(name: str | exp.Table, select: exp.Expression, temporary: bool = True,
                 replace: bool = False) -> exp.Create:
    """CREATE [OR REPLACE] [TEMPORARY] TABLE name AS <select> (a str name is quoted)."""
    props = exp.Properties(expressions=[exp.TemporaryProperty()]) if temporary else None
    target = table_ref(name) if isinstance(name, str) else name
    return exp.Create(this=target, kind="TABLE", expression=select, replace=replace, properties=props)


def create_macro(name: str, params: tuple[str, ...] | list[str], body: str) -> exp.Create:
    """CREATE OR REPLACE MACRO name(params) AS <body> (DuckDB; the body is DuckDB SQL text,
    parsed, so a body sqlglot cannot read fails when the macro is installed, loudly)."""
    signature = exp.UserDefinedFunction(this=exp.to_identifier(name), wrapped=True,
                                        expressions=[exp.to_identifier(p) for p in params])
    return exp.Create(this=signature, kind="MACRO", replace=True,
                      expression=sqlglot.parse_one(body, read="duckdb"))


def create_view(name: str, select: exp.Expression) -> exp.Create:
    """CREATE OR REPLACE VIEW "name" AS <select>."""
    return exp.Create(this=table_ref(name), kind="VIEW", expression=select, replace=True)


def drop_table(name: str | exp.Table) -> exp.Drop:
    """DROP TABLE IF EXISTS name (a str name is quoted)."""
    return exp.Drop(kind="TABLE", tables=[table_ref(name) if isinstance(name, str) else name], exists=True)


def select_all(name: str) -> exp.Select:
    return exp.select(exp.Star()).from_(table_ref(name))


def set_option(name: str, value: str | int | bool) -> exp.Set:
    """SET name = value (a DuckDB setting; text values are quoted as literals)."""
    if isinstance(value, bool):
        literal: exp.Expression = exp.Boolean(this=value)
    elif isinstance(value, int):
        literal = exp.Literal.number(value)
    else:
        literal = exp.Literal.string(value)
    return exp.Set(expressions=[exp.SetItem(this=exp.EQ(this=exp.column(name), expression=literal))])


def render(statement: exp.Expression) -> str:
    """The statement's DuckDB text. Renders in place: sqlglot would otherwise deep-copy the
    whole tree first, and every tree rendered here belongs to the caller alone."""
    return statement.sql(DIALECT, copy=False)


def union_all(parts: list[exp.Select]) -> exp.Expression:
    """parts[0] UNION ALL parts[1] UNION ALL …"""
    union: exp.Expression = parts[0]
    for p in parts[1:]:
        union = exp.union(union, p, distinct=False)
    return union


def wrap_select(union: exp.Expression, alias: str) -> exp.Select:
    """SELECT * FROM (<union>) AS alias: a set operation as a plain SELECT."""
    return exp.select(exp.Star()).from_(exp.Subquery(this=union, alias=exp.TableAlias(this=ident(alias))))
