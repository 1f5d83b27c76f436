"""The rest of the parent-child functions and CONTAINS.

PATH is in fn_stats.PathFns; these read the text PATH returns, ids
separated by "|" (learn.microsoft.com/dax/pathitem-function-dax, pathlength-function-dax,
pathcontains-function-dax; dax.guide):
- PATHLENGTH(path): how many ids the path holds; an empty or BLANK path has 0;
- PATHITEM(path, position [, type]): the id at `position` counted from the left (1 = the
  root); BLANK for a position below 1 or past the end; type 1 returns an integer, 0 text;
- PATHCONTAINS(path, item): whether `item` is one of the ids (compared as text, ignoring
  case, as DAX compares text).
CONTAINS(table, column, value, …) is TRUE when some row of the table has every
column equal to its value (learn.microsoft.com/dax/contains-function-dax): compiled as
NOT ISEMPTY(FILTER(table, column = value && …)), which is that rule in DAX.
"""
from __future__ import annotations

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.core import CompilerCore
from generator.engine.data import fn
from generator.engine.types import DaxType
from generator.engine.values import Scalar, number


def _items(path: exp.Expression) -> exp.Expression:
    """The path's ids as a list; an empty or NULL path has none."""
    return exp.Case(ifs=[exp.If(this=exp.EQ(this=fn("coalesce", path, exp.Literal.string("")),
                                            expression=exp.Literal.string("")),
                                true=exp.cast(exp.Array(expressions=[]), "VARCHAR[]"))],
                    default=fn("string_split", path, exp.Literal.string("|")))


class PathItemFns(CompilerCore):

    def fn_PATHLENGTH(self, call, env):
        (arg,) = self.args(call, env, 1, 1)
        path = self.scalar(arg, env)
        return Scalar(fn("len", _items(path.sql)), DaxType.INT, False)

    def path_item(self, call, env, reverse: bool) -> Scalar:
        """PATHITEM / PATHITEMREVERSE: the id at a 1-based position from the left (or the
        right); BLANK below 1 or past the end; type 1 returns an integer, 0 (default) text."""
        args = self.args(call, env, 2, 3)
        path = self.scalar(args[0], env)
        pos = exp.cast(number(self.scalar(args[1], env)).sql, "BIGINT")
        as_int = False
        if len(args) > 2:
            if not isinstance(args[2], A.Number) or args[2].value not in (0, 1):
                raise self.err(env, args[2], f"{call.name}'s type must be 0 (TEXT) or 1 (INTEGER)")
            as_int = args[2].value == 1
        items = _items(path.sql)
        if reverse:
            items = fn("list_reverse", items)
        item = exp.Case(ifs=[exp.If(this=exp.GTE(this=pos, expression=exp.Literal.number(1)),
                                    true=fn("list_extract", items, pos.copy()))])
        if as_int:
            return Scalar(exp.cast(item, "BIGINT"), DaxType.INT)
        return Scalar(item, DaxType.TEXT)

    def fn_PATHITEM(self, call, env):
        return self.path_item(call, env, reverse=False)

    def fn_PATHITEMREVERSE(self, call, env):
        return self.path_item(call, env, reverse=True)

    def fn_PATHCONTAINS(self, call, env):
        a, b = self.args(call, env, 2, 2)
        path, item = self.scalar(a, env), self.scalar(b, env)
        lowered = fn("list_transform", _items(path.sql),
                     exp.Lambda(this=fn("lower", exp.column("x")), expressions=[exp.to_identifier("x")]))
        wanted = fn("lower", fn("coalesce", exp.cast(item.sql, "VARCHAR"), exp.Literal.string("")))
        return Scalar(fn("coalesce", fn("list_contains", lowered, wanted), exp.false()), DaxType.BOOL, False)

    def fn_CONTAINS(self, call, env):
        args = self.args(call, env, 3, -1)
        pairs = args[1:]
        if len(pairs) % 2:
            raise self.err(env, call, "CONTAINS takes a table, then column/value pairs")
        conds = [A.BinaryOp("=", pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)]
        cond = conds[0]
        for c in conds[1:]:
            cond = A.BinaryOp("&&", cond, c)
        rewritten = A.FunctionCall("NOT", (A.FunctionCall("ISEMPTY", (A.FunctionCall("FILTER", (args[0], cond)),)),))
        return self.scalar(rewritten, env)
