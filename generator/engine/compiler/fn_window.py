"""DAX window functions: OFFSET, WINDOW, INDEX, RANK, ROWNUMBER (with ORDERBY,
PARTITIONBY, MATCHBY), rendered with SQL window functions.

Power BI's model of them (learn.microsoft.com/dax/offset-function-dax,
window-function-dax, index-function-dax, rank-function-dax, rownumber-function-dax;
SQLBI, "Introducing window functions in DAX"):

- The <relation> is sorted within partitions. Omitted, it is ALLSELECTED of the ORDERBY
  and PARTITIONBY columns; an omitted ORDERBY orders by every relation column not in
  PARTITIONBY.
- The "current row" is found from the context: every column that identifies it takes its
  value from a row context when one holds the column, else from the filter context. When
  the context leaves a column open, the function runs once for every value the context
  allows and the results are a union ("apply semantics"): OFFSET(-1, …) in a visual's
  total returns every month but the last.
- OFFSET/WINDOW/INDEX/ROWNUMBER need each row to have one position: when ORDERBY and
  PARTITIONBY do not identify the rows, the other relation columns (MATCHBY's when given)
  are appended to the order; rows still tied are an error at run time. RANK does not:
  tied rows share a rank (SKIP: the next rank skips, DENSE: it does not).
- BLANKs sort, by default, between the negative numbers and zero, and before every string;
  FIRST/LAST put them first/last whatever the direction.
- ABS positions are 1-based from the start of the partition (negative: from its end; 0 is
  read as 1); REL positions count from the current row. A position outside the partition
  gives an empty table (OFFSET, INDEX) or a window clamped to the partition (WINDOW);
  RANK/ROWNUMBER of a row that is not in the relation is BLANK.

SQL shape: the relation with ROW_NUMBER/RANK/DENSE_RANK/COUNT windows over it (W); the
current rows are W filtered by the context (C); OFFSET & co are the rows of W with an
EXISTS on C of the same partition at the wanted position.

Not supported (a compile error naming it): the <reset> argument and visual-calculation axes.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.compile_types import Env, Rel, RelCol
from generator.engine.compiler.core import CompilerCore
from generator.engine.compiler.dax_keywords import _enum, _ENUM_ORDER
from generator.engine.context import Scan, and_all, not_distinct
from generator.engine.data import fn
from generator.engine.errors import DaxCompileError
from generator.engine.types import DaxType
from generator.engine.values import Scalar

N = exp.Literal.number
_BLANKS = ("DEFAULT", "FIRST", "LAST")
_NUMERIC = (DaxType.INT, DaxType.DOUBLE, DaxType.CURRENCY)
_CLAUSES = ("ORDERBY", "PARTITIONBY", "MATCHBY")


@dataclass(frozen=True)
class OrderKey:
    """One ORDERBY entry: a relation column (`col`, its index) or an expression."""

    expr: A.Expr | None
    col: int | None
    desc: bool
    blanks: str | None  # None: the window function's own <blanks> argument


@dataclass(frozen=True)
class WindowSpec:
    call: A.FunctionCall
    rel: Rel
    order: tuple[OrderKey, ...]
    blanks: str
    partition: tuple[int, ...]  # relation column indexes
    match: tuple[int, ...] | None  # MATCHBY columns, if given


class WindowFns:
    """Handlers of the window functions; mixed into `Compiler`."""

    # OFFSET/WINDOW/INDEX return tables: as CALCULATE arguments they are table filters
    _TABLE_FUNCS = CompilerCore._TABLE_FUNCS | {"OFFSET", "WINDOW", "INDEX"}

    # ------------------------------------------------------------ entry points

    def fn_OFFSET(self, call, env):
        if not call.args:
            raise self.err(env, call, "OFFSET needs a delta")
        delta = self.scalar(call.args[0], env)
        spec = self._window_spec(call, call.args[1:], env)

        def at(r, c):
            return exp.EQ(this=r("wrn"), expression=exp.Add(this=c("wpos"), expression=delta.sql.copy()))
        return self._window_rows(spec, env, at, self._position_cols(spec))

    def fn_INDEX(self, call, env):
        if not call.args:
            raise self.err(env, call, "INDEX needs a position")
        pos = self.scalar(call.args[0], env)
        spec = self._window_spec(call, call.args[1:], env)

        def at(r, c):
            return exp.EQ(this=r("wrn"), expression=self._abs_position(pos.sql, c("wcnt"), zero=exp.null()))
        return self._window_rows(spec, env, at, spec.partition, guard_ties=True)

    def fn_WINDOW(self, call, env):
        args = list(call.args)
        bounds = []
        for what in ("from", "to"):
            if not args or isinstance(args[0], A.EmptyArg):
                raise self.err(env, call, f"WINDOW needs a <{what}> position")
            value = self.scalar(args.pop(0), env)
            kind = "REL"
            if args and isinstance(args[0], A.EnumArg) and args[0].name.upper() in ("ABS", "REL"):
                kind = args.pop(0).name.upper()
            elif args and isinstance(args[0], A.EmptyArg):
                args.pop(0)
            bounds.append((value, kind))
        spec = self._window_spec(call, args, env)

        def bound(c, value, kind):
            if kind == "REL":
                return exp.Add(this=c("wpos"), expression=value.sql.copy())
            return self._abs_position(value.sql, c("wcnt"), zero=N(1))

        def within(r, c):
            return exp.Between(this=r("wrn"), low=bound(c, *bounds[0]), high=bound(c, *bounds[1]))
        relative = any(kind == "REL" for _, kind in bounds)
        match = self._position_cols(spec) if relative else spec.partition
        return self._window_rows(spec, env, within, match, guard_ties=not relative)

    def fn_ROWNUMBER(self, call, env):
        spec = self._window_spec(call, call.args, env)
        return self._window_scalar(spec, env, "wpos", self._position_cols(spec))

    def fn_RANK(self, call, env):
        args = list(call.args)
        ties = "SKIP"
        if args and isinstance(args[0], A.EnumArg) and args[0].name.upper() in ("SKIP", "DENSE"):
            ties = args.pop(0).name.upper()
        elif args and isinstance(args[0], A.EmptyArg):
            args.pop(0)
        spec = self._window_spec(call, args, env)
        if spec.match is not None:
            match = (*spec.partition, *[i for i in spec.match if i not in spec.partition])
        elif any(k.col is None for k in spec.order):
            match = tuple(range(len(spec.rel.cols)))  # an expression: the whole row identifies it
        else:
            match = (*spec.partition, *[k.col for k in spec.order if k.col not in spec.partition])
        return self._window_scalar(spec, env, "wdr" if ties == "DENSE" else "wrk", match)

    def fn_ORDERBY(self, call, env):
        raise self._clause_outside(call, env)

    def fn_PARTITIONBY(self, call, env):
        raise self._clause_outside(call, env)

    def fn_MATCHBY(self, call, env):
        raise self._clause_outside(call, env)

    def _clause_outside(self, call, env):
        return self.err(env, call, f"{call.name} can only be an argument of a window function "
                                   "(OFFSET, WINDOW, INDEX, RANK, ROWNUMBER)")

    # ------------------------------------------------------------ arguments

    def _window_spec(self, call: A.FunctionCall, args, env: Env) -> WindowSpec:
        """[<relation>][, ORDERBY(…)][, <blanks>][, PARTITIONBY(…)][, MATCHBY(…)]"""
        relation = order = partition = match = None
        blanks = "DEFAULT"
        for a in args:
            name = a.name.upper() if isinstance(a, A.FunctionCall) else None
            if isinstance(a, A.EmptyArg):
                continue
            if name == "ORDERBY":
                order = a
            elif name == "PARTITIONBY":
                partition = a
            elif name == "MATCHBY":
                match = a
            elif isinstance(a, A.EnumArg) and a.name.upper() in _BLANKS:
                blanks = a.name.upper()
            elif relation is None and order is None and partition is None and match is None:
                relation = a
            else:
                raise self.unsupported(env, a, f"this {call.name} argument (the <reset> argument or a visual "
                                               "calculation axis)")
        if relation is None:
            rel = self._implicit_relation(call, order, partition, env)
        else:
            rel = self.table(relation, env)
        part = tuple(self._rel_col(rel, c, env, call, "PARTITIONBY") for c in (partition.args if partition else ()))
        if order is None:
            keys = tuple(OrderKey(None, i, False, None) for i in range(len(rel.cols)) if i not in part)
        else:
            keys = self._order_keys(rel, order, env, call)
        if not keys:
            raise self.err(env, call, f"{call.name} has nothing to order by: give ORDERBY(…)")
        matched = tuple(self._rel_col(rel, c, env, call, "MATCHBY") for c in match.args) if match else None
        return WindowSpec(call, rel, keys, blanks, part, matched)

    def _implicit_relation(self, call, order, partition, env: Env) -> Rel:
        """ALLSELECTED of the ORDERBY and PARTITIONBY columns (they must be model columns)."""
        if order is None:
            raise self.err(env, call, f"{call.name} without a <relation> needs an ORDERBY")
        cols: list[A.Expr] = []
        for c in (*order.args, *(partition.args if partition else ())):
            if isinstance(c, A.EnumArg) or (isinstance(c, A.Number) and str(c.value) in _ENUM_ORDER):
                continue
            if not (isinstance(c, A.ColumnRef) and c.table is not None):
                raise self.err(env, c, f"{call.name} without a <relation>: every ORDERBY and PARTITIONBY "
                                       "expression must be a fully qualified column",
                               "give the relation, e.g. ALLSELECTED('Table')")
            if self.colref(env, c) not in [self.colref(env, x) for x in cols]:
                cols.append(c)
        tables = {self.colref(env, c)[0] for c in cols}
        if len(tables) > 1:
            raise self.err(env, call, f"{call.name} without a <relation>: the ORDERBY and PARTITIONBY columns "
                                      f"come from several tables ({', '.join(sorted(tables))})")
        return self.fn_ALLSELECTED(A.FunctionCall("ALLSELECTED", tuple(cols), span=call.span), env)

    def _rel_col(self, rel: Rel, node: A.Expr, env: Env, call, clause: str) -> int:
        """The index of the relation column `node` names."""
        if isinstance(node, A.ColumnRef) and node.table is not None and self.model.table(node.table) is not None:
            key = self.resolve_col(env, node, node.table, node.column)
            for i, c in enumerate(rel.cols):
                if c.key == key:
                    return i
            raise self.err(env, node, f"{clause}: column '{key[0]}'[{key[1]}] is not a column of "
                                      f"{call.name}'s relation")
        name = node.name if isinstance(node, A.BracketRef) else node.column if isinstance(node, A.ColumnRef) else None
        if name is not None:
            low = name.lower()
            for i, c in enumerate(rel.cols):
                if c.name.lower() == low or (c.key is not None and c.key[1].lower() == low):
                    return i
            raise self.err(env, node, f"{clause}: [{name}] is not a column of {call.name}'s relation")
        raise self.err(env, node, f"{clause} takes columns of the relation, not expressions")

    def _order_keys(self, rel: Rel, order: A.FunctionCall, env: Env, call) -> tuple[OrderKey, ...]:
        keys, rest = [], list(order.args)
        while rest:
            e = rest.pop(0)
            desc, blanks = False, None
            if rest and _enum(rest[0]) in _ENUM_ORDER:
                desc = _ENUM_ORDER[_enum(rest.pop(0))]
            elif rest and isinstance(rest[0], A.EnumArg) and " BLANKS " in rest[0].name:
                # "ASC BLANKS LAST": a direction with its own blank handling (orderby-function-dax)
                direction, _, blanks = rest.pop(0).name.partition(" BLANKS ")
                desc = direction == "DESC"
            col = None
            if isinstance(e, (A.ColumnRef, A.BracketRef)):
                try:
                    col = self._rel_col(rel, e, env, call, "ORDERBY")
                except DaxCompileError:
                    col = None  # e.g. a measure: an expression evaluated per relation row
            keys.append(OrderKey(None if col is not None else e, col, desc, blanks))
        return tuple(keys)

    def _position_cols(self, spec: WindowSpec) -> tuple[int, ...]:
        """The columns that identify the current row of a positional function: PARTITIONBY
        and MATCHBY, or (no MATCHBY) every relation column, since the order is extended by
        all of them to give each row one position."""
        if spec.match is not None:
            return (*spec.partition, *[i for i in spec.match if i not in spec.partition])
        return tuple(range(len(spec.rel.cols)))

    # ------------------------------------------------------------ SQL

    def _windowed(self, spec: WindowSpec, env: Env, guard_ties: bool) -> exp.Select:
        """W: the relation's columns plus wrn (row number in its partition, ties broken by
        the other columns), wpos (wrn, or an error when rows are still tied), wcnt (rows in
        the partition), wrk / wdr (RANK SKIP / DENSE)."""
        rel = spec.rel
        types: dict[int, DaxType] = {}

        def project(inner: Env) -> list[exp.Expression]:
            row = inner.rows[-1]
            outs = [exp.alias_(row.names[c.name.lower()].sql, c.sql) for c in rel.cols]
            for i, k in enumerate(spec.order):
                if k.expr is not None:
                    v = self.scalar(k.expr, inner)
                    types[i] = v.type
                    outs.append(exp.alias_(v.sql, f"wo{i}"))
            return outs

        base = self.over(rel, env, project)
        a = self.new_alias()

        def col(i: int) -> exp.Expression:
            return exp.column(rel.cols[i].sql, a)

        order: list[exp.Ordered] = []
        for i, k in enumerate(spec.order):
            if k.col is not None:
                value, t = col(k.col), rel.cols[k.col].type
            else:
                value, t = exp.column(f"wo{i}", a), types.get(i, DaxType.VARIANT)
            order.extend(_sort_keys(value, t, k.desc, k.blanks or spec.blanks))
        used = set(spec.partition) | {k.col for k in spec.order if k.col is not None}
        extra = spec.match if spec.match is not None else tuple(range(len(rel.cols)))
        ties = [o for i in extra if i not in used for o in _sort_keys(col(i), rel.cols[i].type, False, "DEFAULT")]
        part = [col(i) for i in spec.partition]

        def window(func, keys):
            return exp.Window(this=func, partition_by=[p.copy() for p in part],
                              order=exp.Order(expressions=[o.copy() for o in keys]) if keys else None)

        # rows sharing a position: same partition and order (MATCHBY given: same MATCHBY
        # values, which must identify the current row on their own)
        same = [col(i) for i in spec.match] if spec.match is not None else [o.this for o in order + ties]
        dup = exp.Window(this=exp.Count(this=exp.Star()), partition_by=[x.copy() for x in part + same])
        w1 = exp.select(exp.Star(),
                        exp.alias_(window(fn("row_number"), order + ties), "wrn"),
                        exp.alias_(window(exp.Count(this=exp.Star()), []), "wcnt"),
                        exp.alias_(window(fn("rank"), order), "wrk"),
                        exp.alias_(window(fn("dense_rank"), order), "wdr"),
                        exp.alias_(dup, "wdup")).from_(base.subquery(a))
        b = self.new_alias()
        wrn = exp.column("wrn", b)
        pos = wrn
        if guard_ties:
            tied = exp.GT(this=exp.Window(this=exp.Max(this=exp.column("wdup", b))), expression=N(1))
            clause = "MATCHBY" if spec.match is not None else "ORDERBY and PARTITIONBY"
            message = (f"{spec.call.name}: the {clause} columns do not identify every row of the relation "
                       "(rows are tied); add ORDERBY or MATCHBY columns that make them unique")
            pos = exp.Case(ifs=[exp.If(this=tied, true=fn("error", exp.Literal.string(message)))], default=wrn.copy())
        return exp.select(exp.Star(), exp.alias_(pos, "wpos")).from_(w1.subquery(b))

    def _current(self, spec: WindowSpec, env: Env, alias: str, cols: tuple[int, ...]) -> exp.Expression | None:
        """The condition on W's row `alias` that it is a current row: each identifying
        column equals its value in a row context, or is among its values in the filter
        context (several values: apply semantics), or is left open."""
        conds = []
        for i in cols:
            c = spec.rel.cols[i]
            mine = exp.column(c.sql, alias)
            outer = self._outer_value(c, env)
            if outer is not None:
                conds.append(not_distinct(mine, outer.sql.copy()))
                continue
            if c.key is None:
                continue
            table = self.model.table(c.key[0])
            scan = Scan(self, table, env.ctx.rels or self.base_rels(), True)
            if self.where_for(scan, env.ctx) is None:
                continue  # unfiltered: every value is current
            values = self._col_rel([c.key], env, env.ctx, True)
            v = self.new_alias()
            conds.append(exp.Exists(this=exp.select(N(1)).from_(self.rel_select(values).subquery(v, copy=True)).where(
                not_distinct(exp.column("c0", v), mine.copy()))))
        return and_all(conds)

    def _outer_value(self, c: RelCol, env: Env) -> Scalar | None:
        if c.key is not None and c.key in env.placeholders:
            return Scalar(env.placeholders[c.key], c.type)
        for row in reversed(env.rows):
            if c.key is not None and c.key in row.cols:
                return row.cols[c.key]
            if c.key is None and c.name.lower() in row.names:
                return row.names[c.name.lower()]
        return None

    def _window_rows(self, spec: WindowSpec, env: Env, at, match: tuple[int, ...], guard_ties: bool = True) -> Rel:
        """The rows r of W for which some current row c of the same partition satisfies
        at(r, c) (OFFSET, INDEX, WINDOW)."""
        w = self._windowed(spec, env, guard_ties)
        r, c = self.new_alias(), self.new_alias()

        def rc(name):
            return exp.column(name, r)

        def cc(name):
            return exp.column(name, c)

        same = [not_distinct(exp.column(spec.rel.cols[i].sql, r), exp.column(spec.rel.cols[i].sql, c))
                for i in spec.partition]
        cond = and_all([*same, self._current(spec, env, c, match), at(rc, cc)])
        exists = exp.Exists(this=exp.select(N(1)).from_(w.subquery(c, copy=True)).where(cond))
        sel = exp.select(*[exp.column(col.sql, r) for col in spec.rel.cols]).from_(w.subquery(r)).where(exists)
        return Rel(spec.rel.cols, sel, rows_of=spec.rel.base.name if spec.rel.base is not None else spec.rel.rows_of)

    def _window_scalar(self, spec: WindowSpec, env: Env, column: str, match: tuple[int, ...]) -> Scalar:
        """RANK/ROWNUMBER: `column` of the current row; BLANK when there is none, an error
        when the context leaves several current rows with different values."""
        w = self._windowed(spec, env, guard_ties=column == "wpos")
        c = self.new_alias()
        cur = exp.select(exp.alias_(exp.column(column, c), "v")).distinct().from_(w.subquery(c))
        where = self._current(spec, env, c, match)
        if where is not None:
            cur = cur.where(where)
        d = self.new_alias()
        value = exp.Case(ifs=[exp.If(this=exp.GT(this=exp.Count(this=exp.Star()), expression=N(1)),
                                     true=fn("error", exp.Literal.string(
                                         f"{spec.call.name}: the current row is not unique in this context")))],
                         default=exp.Max(this=exp.column("v", d)))
        return Scalar(exp.Subquery(this=exp.select(exp.cast(value, "BIGINT")).from_(cur.subquery(d))), DaxType.INT)

    @staticmethod
    def _abs_position(value: exp.Expression, count: exp.Expression, zero: exp.Expression) -> exp.Expression:
        """A 1-based ABS position: negative counts from the end of the partition."""
        return exp.Case(ifs=[exp.If(this=exp.GT(this=value.copy(), expression=N(0)), true=value.copy()),
                             exp.If(this=exp.LT(this=value.copy(), expression=N(0)),
                                    true=exp.Add(this=exp.Add(this=count, expression=N(1)), expression=value.copy()))],
                        default=zero)


def _sort_keys(value: exp.Expression, t: DaxType, desc: bool, blanks: str) -> list[exp.Ordered]:
    """ORDER BY keys for one DAX sort key. DEFAULT blanks: numbers and dates sort BLANK
    between the negatives and zero (it is 0, placed before the real 0), strings and
    Booleans put BLANK first ascending; FIRST/LAST are absolute (rownumber-function-dax)."""
    if t is DaxType.TEXT:
        value = exp.Lower(this=value)  # DAX compares text case-insensitively
    if blanks == "DEFAULT" and (t in _NUMERIC or t is DaxType.DATETIME):
        zero = N(0) if t in _NUMERIC else exp.cast(exp.Literal.string("1899-12-30 00:00:00"), "TIMESTAMP")
        return [exp.Ordered(this=fn("coalesce", value, zero), desc=desc, nulls_first=False),
                exp.Ordered(this=exp.Not(this=exp.Is(this=value.copy(), expression=exp.null())), desc=desc,
                            nulls_first=False)]
    first = (not desc) if blanks == "DEFAULT" else blanks == "FIRST"
    return [exp.Ordered(this=value, desc=desc, nulls_first=first)]
