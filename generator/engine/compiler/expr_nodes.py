"""Compiling the DAX expression nodes other than function calls: literals, variable,
table, column and measure references, operators, IN and table constructors.

Mixed into `CompilerCore` (which dispatches a node to its `c_<NodeType>` method); function
calls are dispatched to the `fn_<NAME>` handlers by the core itself.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import replace

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.compile_types import Env, Rel, RelCol
from generator.engine.context import ColKey, and_all
from generator.engine.data import ident
from generator.engine.types import DaxType, unify
from generator.engine.values import Scalar, arith, cast, compare, concat, lit, logic, negate, not_


class ExprNodes:
    """Mixin for `CompilerCore`: the `c_*` node handlers (uses the core's helpers)."""


    # ------------------------------------------------------------ literals

    def c_Number(self, node: A.Number, env: Env) -> Scalar:
        return lit(node.value)

    def c_String(self, node: A.String, env: Env) -> Scalar:
        return lit(node.value)

    def c_Boolean(self, node: A.Boolean, env: Env) -> Scalar:
        return lit(node.value)

    def c_DateTimeLiteral(self, node: A.DateTimeLiteral, env: Env) -> Scalar:
        try:
            value = _dt.datetime.fromisoformat(node.text)
        except ValueError:
            raise self.err(env, node, f"invalid date literal dt\"{node.text}\"")
        return Scalar(exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP"), DaxType.DATETIME, False)

    def c_EmptyArg(self, node: A.EmptyArg, env: Env) -> Scalar:
        return lit(None)

    def c_Parameter(self, node: A.Parameter, env: Env) -> Scalar:
        raise self.unsupported(env, node, f"query parameter @{node.name}")

    def c_EnumArg(self, node: A.EnumArg, env: Env) -> Scalar:
        raise self.err(env, node, f"the keyword {node.name} is not valid here")

    # ------------------------------------------------------------ references

    def c_VarRef(self, node: A.VarRef, env: Env) -> Scalar | Rel:
        value = env.vars.get(node.name.lower())
        if value is None:
            raise self.err(env, node, f"variable '{node.name}' is not defined")
        return value

    def c_VarBlock(self, node: A.VarBlock, env: Env) -> Scalar | Rel:
        vars_ = dict(env.vars)
        for name, expr in node.vars:
            vars_[name.lower()] = self.compile(expr, replace(env, vars=vars_))
        return self.compile(node.body, replace(env, vars=vars_))

    def c_TableRef(self, node: A.TableRef, env: Env) -> Rel:
        value = env.vars.get(node.name.lower())
        if isinstance(value, Rel):
            return value
        return self.base_rel(self.resolve_table(env, node, node.name), env)

    def c_ColumnRef(self, node: A.ColumnRef, env: Env) -> Scalar:
        if node.table is None:
            return self.c_BracketRef(A.BracketRef(node.column, span=node.span), env)
        t = self.model.table(node.table)
        if t is not None and t.column(node.column) is None:
            m = self.measures.get(node.column.lower()) or self.extra_measures.get(node.column.lower())
            if m is not None:
                return self.measure_ref(node.column, env, node)
        if t is None and node.table.lower() in env.vars:
            value = env.vars[node.table.lower()]
            if isinstance(value, Rel):
                for c in value.cols:
                    if c.name.lower() in (node.column.lower(), f"{node.table}[{node.column}]".lower()):
                        return self._row_name(env, node, c.name)
        key = self.resolve_col(env, node, node.table, node.column)
        return self.column_value(key, env, node)

    def column_value(self, key: ColKey, env: Env, node: A.Node, skip: int = 0) -> Scalar:
        if key in env.placeholders:
            return Scalar(env.placeholders[key], self.col_type(key))
        for row in reversed(env.rows):
            if key in row.cols:
                if skip == 0:
                    return row.cols[key]
                skip -= 1
        raise self.err(env, node, f"a single value for column '{key[0]}'[{key[1]}] cannot be determined",
                       "use an aggregation such as SUM or MAX, or iterate the table (SUMX, FILTER)")

    def _row_name(self, env: Env, node: A.Node, name: str) -> Scalar:
        for row in reversed(env.rows):
            if name.lower() in row.names:
                return row.names[name.lower()]
        raise self.err(env, node, f"column [{name}] cannot be found in the current row context")

    def c_BracketRef(self, node: A.BracketRef, env: Env) -> Scalar:
        for row in reversed(env.rows):
            if node.name.lower() in row.names:
                return row.names[node.name.lower()]
        if node.name.lower() in self.measures or node.name.lower() in self.extra_measures:
            return self.measure_ref(node.name, env, node)
        for row in reversed(env.rows):  # a bare [Column] of the table being iterated
            c = row.base.column(node.name) if row.base is not None else None
            if c is not None and (row.base.name, c.name) in row.cols:
                return row.cols[(row.base.name, c.name)]
        raise self.err(env, node, f"measure or column [{node.name}] does not exist")

    # ------------------------------------------------------------ operators

    def c_UnaryOp(self, node: A.UnaryOp, env: Env) -> Scalar:
        value = self.scalar(node.operand, env)
        if node.op == "-":
            return negate(value)
        if node.op == "+":
            return value
        return not_(value)

    def c_BinaryOp(self, node: A.BinaryOp, env: Env) -> Scalar:
        a = self.scalar(node.left, env)
        b = self.scalar(node.right, env)
        op = node.op
        if op in ("+", "-", "*", "/", "^"):
            return arith(op, a, b)
        if op == "&":
            return concat(a, b)
        if op in ("&&", "||"):
            return logic(op, a, b)
        return compare(op, a, b)

    def c_In(self, node: A.In, env: Env) -> Scalar:
        items = node.expr.items if isinstance(node.expr, A.TupleExpr) else (node.expr,)
        left = [self.scalar(i, env) for i in items]
        if isinstance(node.table, A.TableConstructor):
            ors = []
            for row in node.table.rows:
                if len(row) != len(left):
                    raise self.err(env, node, "IN: the number of values does not match the table's columns")
                ors.append(and_all(compare("=", a, self.scalar(v, env)).sql for a, v in zip(left, row)))
            return Scalar(exp.paren(exp.or_(*ors)) if len(ors) > 1 else ors[0], DaxType.BOOL, False)
        rel = self.table(node.table, env)
        if len(rel.cols) != len(left):
            raise self.err(env, node, "IN: the number of values does not match the table's columns")

        def where(inner: Env) -> exp.Expression:
            row = inner.rows[-1]
            return and_all(compare("=", a, row.names[c.name.lower()]).sql for a, c in zip(left, rel.cols))

        sel = self.over(rel, env, lambda inner: [exp.Literal.number(1)], where)
        return Scalar(exp.Exists(this=sel), DaxType.BOOL, False)

    def c_TupleExpr(self, node: A.TupleExpr, env: Env) -> Scalar:
        raise self.err(env, node, "a row value (a, b) is only allowed on the left of IN")

    def c_TableConstructor(self, node: A.TableConstructor, env: Env) -> Rel:
        width = len(node.rows[0]) if node.rows else 1
        rows = [[self.scalar(v, env) for v in r] for r in node.rows]
        if any(len(r) != width for r in rows):
            raise self.err(env, node, "every row of a table constructor needs the same number of values")
        types = [unify([r[i].type for r in rows]) for i in range(width)]
        names = ["Value"] if width == 1 else [f"Value{i + 1}" for i in range(width)]
        selects = [exp.select(*[exp.alias_(cast(r[i], types[i]).sql, f"c{i}") for i in range(width)])
                   for r in rows]
        union: exp.Expression = selects[0]
        for s in selects[1:]:
            union = exp.union(union, s, distinct=False)
        sel = exp.select(exp.Star()).from_(exp.Subquery(this=union, alias=exp.TableAlias(this=ident(self.new_alias()))))
        cols = tuple(RelCol(n, f"c{i}", None, t if t is not DaxType.BLANK else DaxType.VARIANT)
                     for i, (n, t) in enumerate(zip(names, types)))
        return Rel(cols, sel)
