"""Information functions: ISAFTER/ISONORAFTER, NAMEOF, EVALUATEANDLOG, the user and culture
of the query, EXTERNALMEASURE, and the functions that exist only in visual calculations.

The effective user is `Schema.user` (an engine option; default `schema.DEFAULT_USER`, the
fixed offline login): USERNAME and USERPRINCIPALNAME return it, as Desktop does when
viewing as another user; USEROBJECTID returns an ID derived from it (Desktop returns the
login's SID, the Service the Entra object ID — neither exists offline, and IDs derive from
names so the output is deterministic). CUSTOMDATA is BLANK: no CustomData connection
property is ever set (learn.microsoft.com/dax/customdata-function-dax).
"""
from __future__ import annotations

import uuid

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.dax_keywords import _enum, _ENUM_ORDER
from generator.engine.types import DaxType
from generator.engine.values import Scalar, compare, lit

# Visual calculations only (learn.microsoft.com/power-bi/transform-model/desktop-visual-calculations-overview):
# in a model measure or a query Desktop raises "<NAME> can only be used in a visual calculation".
VISUAL_ONLY = ("COLLAPSE", "COLLAPSEALL", "EXPAND", "EXPANDALL", "FIRST", "LAST", "LOOKUP", "LOOKUPWITHTOTALS",
               "MOVINGAVERAGE", "NEXT", "PREVIOUS", "RANGE", "RUNNINGSUM", "ISATLEVEL")

_USER_NS = uuid.UUID("6f1c2a4e-9d53-4c1b-8e0f-2b7a5d3c9e10")  # namespace of USEROBJECTID's name-derived IDs


def user_object_id(user: str) -> str:
    return str(uuid.uuid5(_USER_NS, user.lower()))


class InfoFns:
    """Mixin for `Compiler` (uses CompilerCore's helpers)."""

    # ------------------------------------------------------------ ISAFTER / ISONORAFTER

    def _after(self, call, env, or_equal: bool) -> Scalar:
        """ISAFTER(a1, b1 [, order1], a2, b2 [, order2], …): is row (a1, a2, …) strictly after
        (b1, b2, …) in that sort order — lexicographically, the first unequal pair decides;
        ISONORAFTER is also TRUE when every pair is equal (learn.microsoft.com/dax/isafter-function-dax,
        isonorafter-function-dax). ASC (the default) puts larger values after."""
        args = list(self.args(call, env, 2, -1))
        pairs = []
        while args:
            if len(args) < 2:
                raise self.err(env, call, f"{call.name} takes pairs of values, each with an optional ASC/DESC")
            a, b = args.pop(0), args.pop(0)
            desc = False
            if args and _enum(args[0]) in ("ASC", "DESC"):
                desc = _ENUM_ORDER[_enum(args.pop(0))]
            pairs.append((self.scalar(a, env), self.scalar(b, env), desc))
        result = exp.true() if or_equal else exp.false()
        for a, b, desc in reversed(pairs):
            after = compare("<" if desc else ">", a, b).sql
            equal = compare("=", a, b).sql
            result = exp.Case(ifs=[exp.If(this=after, true=exp.true()), exp.If(this=equal, true=result)],
                              default=exp.false())
        return Scalar(result, DaxType.BOOL, False)

    def fn_ISAFTER(self, call, env):
        return self._after(call, env, or_equal=False)

    def fn_ISONORAFTER(self, call, env):
        return self._after(call, env, or_equal=True)

    # ------------------------------------------------------------ names and logging

    def fn_NAMEOF(self, call, env):
        """The fully qualified name of a column, measure or table: 'Table'[Name]
        (learn.microsoft.com/dax/nameof-function-dax); a measure is named with its home table."""
        (node,) = self.args(call, env, 1)
        if isinstance(node, A.ColumnRef) and node.table is not None:
            t = self.resolve_table(env, node, node.table)
            c = t.column(node.column)
            if c is not None:
                return lit(f"'{t.name}'[{c.name}]")
            m = self.measures.get(node.column.lower())
            if m is not None:
                return lit(f"'{m.table}'[{m.name}]")
            raise self.err(env, node, f"column '{node.table}'[{node.column}] does not exist")
        if isinstance(node, A.BracketRef):
            m = self.measures.get(node.name.lower())
            if m is None:
                raise self.err(env, node, f"measure [{node.name}] does not exist")
            return lit(f"'{m.table}'[{m.name}]")
        if isinstance(node, A.TableRef):
            return lit(f"'{self.resolve_table(env, node, node.name).name}'")
        raise self.err(env, node, "NAMEOF needs a column, measure or table reference")

    def fn_EVALUATEANDLOG(self, call, env):
        """EVALUATEANDLOG(value [, label [, max rows]]) returns `value`; the log goes to a
        trace that pbi-forge does not have (learn.microsoft.com/dax/evaluateandlog-function-dax)."""
        args = self.args(call, env, 1, 3)
        for a in args[1:]:
            self.scalar(a, env)  # still checked, as Desktop checks them
        return self.compile(args[0], env)

    # ------------------------------------------------------------ the query's user and culture

    def fn_USERNAME(self, call, env):
        self.args(call, env, 0)
        return lit(self.schema.user)

    def fn_USERPRINCIPALNAME(self, call, env):
        self.args(call, env, 0)
        return lit(self.schema.user)

    def fn_USEROBJECTID(self, call, env):
        self.args(call, env, 0)
        return lit(user_object_id(self.schema.user))

    def fn_USERCULTURE(self, call, env):
        """The user's culture; offline that is the model's culture (model.yaml `culture`)."""
        self.args(call, env, 0)
        return lit(self.model.culture)

    def fn_CUSTOMDATA(self, call, env):
        self.args(call, env, 0)
        return Scalar(exp.cast(exp.null(), "VARCHAR"), DaxType.TEXT)

    def fn_EXTERNALMEASURE(self, call, env):
        """Only composite models over a DirectQuery-to-AS source have it; Desktop cannot
        resolve the name in an import model."""
        return self.not_a_function(call, env)

    # ------------------------------------------------------------ visual calculations

    def visual_only(self, call, env):
        raise self.err(env, call, f"{call.name} can only be used in a visual calculation",
                       "visual calculations live in a report visual, not in a model measure or query")


for _name in VISUAL_ONLY:
    setattr(InfoFns, "fn_" + _name, InfoFns.visual_only)
