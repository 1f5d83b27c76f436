"""DAX user-defined functions in the engine: a call is expanded inline at compile time.

Semantics (learn.microsoft.com/dax/best-practices/dax-user-defined-functions,
learn.microsoft.com/dax/function-statement-dax):

* a VAL parameter (the default) is evaluated once, where the function is called, like a
  VAR of the caller: ``F(SUM(x))`` inside the body is that one value even under a
  CALCULATE that changes the filters;
* an EXPR parameter (and every reference type: ANYREF, COLUMNREF, MEASUREREF, TABLEREF)
  is the argument expression itself, substituted into the body, so it is evaluated in the
  context where the body uses it (CALCULATE(p, …) re-evaluates it under the new filters);
* an omitted argument takes the parameter's default expression; without one it is an error;
* functions may call functions; a call cycle (recursion) is an error.

The expansion is lexical: the body's own VAR names are renamed to fresh names so an EXPR
argument never sees them (``F(x)`` with a body ``VAR x = 1 RETURN p + x`` keeps the
caller's x), and the body's nodes take the call's position, so an error inside a function
points at the call in the measure (the function's own mistakes are reported by
`build.py validate`/analysis with the function's YAML position).

Subtypes (INT64, STRING, …) are checked by nothing but the analysis of the body; the
engine does not coerce arguments to them.
"""
from __future__ import annotations

import dataclasses
from dataclasses import replace
from typing import Callable

from generator.dax import ast as A
from generator.dax.parser import parse_function
from generator.engine.compiler.compile_types import Env, Rel
from generator.engine.compiler.core import CompilerCore
from generator.engine.values import Scalar

_STACK_PREFIX = "\u0192 "  # env.stack entries of functions, never a measure name (those are bare)


class UserFunctionFns(CompilerCore):
    """Calls of model functions (semantic/functions/) and DEFINE FUNCTION query functions."""

    def define_function(self, d: A.DefineFunction) -> None:
        """A query's DEFINE FUNCTION: shadows a model function of the same name."""
        self._query_udfs()[d.name.upper()] = d

    def user_function(self, name: str) -> A.DefineFunction | None:
        found = self._query_udfs().get(name.upper())
        if found is not None:
            return found
        cache = self.__dict__.setdefault("_model_udfs", {})
        key = name.upper()
        if key not in cache:
            f = self.model.function(name) if hasattr(self.model, "function") else None
            cache[key] = parse_function(f.name, f.expression, f.origin) if f is not None else None
        return cache[key]

    def _query_udfs(self) -> dict[str, A.DefineFunction]:
        return self.__dict__.setdefault("_query_functions", {})

    def c_FunctionCall(self, node: A.FunctionCall, env: Env) -> Scalar | Rel:
        udf = self.user_function(node.name)
        if udf is None:
            return super().c_FunctionCall(node, env)
        return self.call_user_function(node, udf, env)

    def udf_err(self, env: Env, node: A.Node, message: str):
        """A compile error that also names the DAX line:col (a query has no YAML position)."""
        where = f" at DAX {node.span}" if node.span.line else ""
        return self.err(env, node, message + where)

    # ------------------------------------------------------------ expansion

    def call_user_function(self, node: A.FunctionCall, udf: A.DefineFunction, env: Env) -> Scalar | Rel:
        key = _STACK_PREFIX + udf.name.lower()
        if key in env.stack:
            chain = [s[len(_STACK_PREFIX):] for s in env.stack if s.startswith(_STACK_PREFIX)]
            raise self.udf_err(env, node, f"function {udf.name} calls itself ({' -> '.join([*chain, udf.name.lower()])}); "
                                      "DAX functions cannot be recursive")
        args = self._udf_args(node, udf, env)
        vars_ = dict(env.vars)
        subst: dict[str, A.Expr] = {}
        for param, arg in zip(udf.params, args):
            ptype = param.param_type
            if ptype.lazy:
                self._check_lazy(node, udf, param, arg, env)
                subst[param.name.lower()] = arg
                continue
            value = self._udf_value(node, udf, param, arg, env)
            fresh = f"__udf{self.new_alias()}_{param.name}".lower()
            vars_[fresh] = value
            subst[param.name.lower()] = A.VarRef(fresh, span=node.span)

        def fail(message: str) -> Exception:
            return self.udf_err(env, node, f"in function {udf.name}: {message}")

        body = _Expander(subst, node.span, self.new_alias, fail).expr(udf.body)
        return self.compile(body, replace(env, vars=vars_, stack=(*env.stack, key)))

    def _udf_args(self, node: A.FunctionCall, udf: A.DefineFunction, env: Env) -> list[A.Expr]:
        """One argument per parameter: the caller's, else the parameter's default."""
        n = len(node.args)
        while n > 0 and isinstance(node.args[n - 1], A.EmptyArg) and n > _required(udf):
            n -= 1
        if n > len(udf.params):
            raise self.udf_err(env, node, f"{udf.name} takes {_arity(udf)}, got {n}")
        out: list[A.Expr] = []
        for i, param in enumerate(udf.params):
            arg = node.args[i] if i < n and not isinstance(node.args[i], A.EmptyArg) else None
            if arg is None:
                if param.default is None:
                    raise self.udf_err(env, node, f"{udf.name} takes {_arity(udf)}, got {n}: "
                                              f"parameter '{param.name}' has no argument and no default")
                arg = _respan(param.default, node.span)
            out.append(arg)
        return out

    def _udf_value(self, node: A.FunctionCall, udf: A.DefineFunction, param: A.FunctionParam, arg: A.Expr,
                   env: Env) -> Scalar | Rel:
        """A VAL argument, evaluated here (the caller's context), of the parameter's type."""
        kind = param.param_type.kind
        value = self.compile(arg, env)
        if kind == "SCALAR" and isinstance(value, Rel):
            return self.rel_to_scalar(value, env, arg)
        if kind == "TABLE" and not isinstance(value, Rel):
            raise self.udf_err(env, arg, f"{udf.name}: parameter '{param.name}' is a TABLE, but the argument is a "
                                     "scalar value")
        return value

    def _check_lazy(self, node: A.FunctionCall, udf: A.DefineFunction, param: A.FunctionParam, arg: A.Expr,
                    env: Env) -> None:
        """Reference parameters take references; a TABLE EXPR a table, a SCALAR EXPR no table."""
        kind = param.param_type.kind
        what = _REF_SHAPES.get(kind)
        if what is not None:
            description, ok = what
            if not ok(self, arg, env):
                raise self.udf_err(env, arg, f"{udf.name}: parameter '{param.name}' is a {kind}; "
                                         f"the argument must be {description}")
        elif kind == "TABLE" and isinstance(arg, (A.Number, A.String, A.Boolean, A.DateTimeLiteral)):
            raise self.udf_err(env, arg, f"{udf.name}: parameter '{param.name}' is a TABLE, but the argument is a "
                                     "scalar value")
        elif kind == "SCALAR" and self.is_table_expr(arg, env):
            raise self.udf_err(env, arg, f"{udf.name}: parameter '{param.name}' is a SCALAR, but the argument is a "
                                     "table")

    def _is_measure_ref(self, arg: A.Expr, env: Env) -> bool:
        name = arg.name if isinstance(arg, A.BracketRef) else arg.column if isinstance(arg, A.ColumnRef) else None
        return name is not None and (name.lower() in self.measures or name.lower() in self.extra_measures)


def _is_column(c: UserFunctionFns, arg: A.Expr, env: Env) -> bool:
    return isinstance(arg, A.ColumnRef) and arg.table is not None and not c._is_measure_ref(arg, env)


def _is_table(c: UserFunctionFns, arg: A.Expr, env: Env) -> bool:
    return isinstance(arg, A.TableRef)


def _is_ref(c: UserFunctionFns, arg: A.Expr, env: Env) -> bool:
    return isinstance(arg, (A.ColumnRef, A.TableRef, A.BracketRef))


_REF_SHAPES: dict[str, tuple[str, Callable[[UserFunctionFns, A.Expr, Env], bool]]] = {
    "COLUMNREF": ("a column reference such as Table[Column]", _is_column),
    "TABLEREF": ("a table name", _is_table),
    "MEASUREREF": ("a measure reference such as [Measure]", UserFunctionFns._is_measure_ref),
    "ANYREF": ("a column, table or measure reference", _is_ref),
    "CALENDARREF": ("a calendar reference (the engine knows no calendars)", lambda c, a, e: False),
}


def _required(udf: A.DefineFunction) -> int:
    """Arguments a call must give: up to the last parameter without a default."""
    return max((i + 1 for i, p in enumerate(udf.params) if p.default is None), default=0)


def _arity(udf: A.DefineFunction) -> str:
    total, required = len(udf.params), sum(1 for p in udf.params if p.default is None)
    count = f"exactly {total}" if required == total else f"{required} to {total}"
    return f"{count} argument" + ("" if count.endswith(" 1") else "s")


def _respan(node: A.Node, span: A.Span) -> A.Node:
    """`node` with every position set to `span` (a function's text is not the caller's)."""
    return _Expander({}, span, lambda: "", lambda m: ValueError(m)).expr(node)


class _Expander:
    """One call's body: parameters replaced, local VARs renamed, positions set to the call."""

    def __init__(self, subst: dict[str, A.Expr], span: A.Span, fresh: Callable[[], str],
                 fail: Callable[[str], Exception]):
        self.subst = subst
        self.span = span
        self.fresh = fresh
        self.fail = fail
        self.scopes: list[dict[str, str]] = []

    def _local(self, name: str) -> str | None:
        for scope in reversed(self.scopes):
            if name.lower() in scope:
                return scope[name.lower()]
        return None

    def expr(self, node: A.Node) -> A.Node:
        if isinstance(node, A.VarRef):
            return self._var_ref(node)
        if isinstance(node, A.ColumnRef) and node.table is not None:
            return self._column(node)
        if isinstance(node, A.VarBlock):
            return self._var_block(node)
        return self._generic(node)

    def _generic(self, node: A.Node) -> A.Node:
        changes = {f.name: self._value(getattr(node, f.name)) for f in dataclasses.fields(node)
                   if f.name not in ("span", "parens")}
        return replace(node, span=self.span, **changes)

    def _value(self, value: object) -> object:
        if isinstance(value, A.Node):
            return self.expr(value)
        if isinstance(value, tuple):
            return tuple(self._value(v) for v in value)
        return value

    def _var_ref(self, node: A.VarRef) -> A.Node:
        local = self._local(node.name)
        if local is not None:
            return A.VarRef(local, span=self.span)
        if node.name.lower() in self.subst:
            return self.subst[node.name.lower()]
        return replace(node, span=self.span)

    def _column(self, node: A.ColumnRef) -> A.Node:
        """``p[Col]``: a column of a table parameter or of a table VAR of the body."""
        table = self._local(node.table) if node.table else None
        if table is None and node.table.lower() in self.subst:
            arg = self.subst[node.table.lower()]
            if isinstance(arg, A.TableRef):
                return A.ColumnRef(arg.name, node.column, variation=node.variation, quoted=arg.quoted, span=arg.span)
            if not isinstance(arg, A.VarRef):
                raise self.fail(f"{node.table}[{node.column}] needs a table name or table variable as the "
                                f"argument of '{node.table}'")
            table = arg.name
        if table is None:
            return replace(node, span=self.span)
        return replace(node, table=table, quoted=False, span=self.span)

    def _var_block(self, node: A.VarBlock) -> A.Node:
        self.scopes.append({})
        try:
            defs = []
            for var in node.vars:
                value = self.expr(var.expr)
                fresh = f"__udf{self.fresh()}_{var.name}".lower()
                self.scopes[-1][var.name.lower()] = fresh
                defs.append(A.VarDef(fresh, value, span=self.span))
            body = self.expr(node.body)
        finally:
            self.scopes.pop()
        return A.VarBlock(tuple(defs), body, span=self.span)
