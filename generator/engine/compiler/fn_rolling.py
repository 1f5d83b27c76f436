"""Rolling distinct counts by islands (issue #9): a visual's "active customers in the last
N days" per date, without joining every fact row to every date of its window.

    CALCULATE ( DISTINCTCOUNT ( F[c] ), DATESINPERIOD ( D[Date], MAX ( D[Date] ), -N, DAY ) )

(the distinct count directly or through measure references) in a visual cell grouped by
`D[Date]` (and any other columns the fact table reaches) is, for the cell's date `g`, the
number of distinct values `v` of `F[c]` with a row dated in `(g - N, g]`, among the fact
rows the cell's other keys and the static filters leave (learn.microsoft.com/dax/
datesinperiod-function-dax: the window holds the dates of the column from `g` back N days;
dax.guide/distinctcount: BLANK counts as a value). The plain compile evaluates that per
cell as a correlated COUNT(DISTINCT) over the window: every fact row is read once per date
of its window (30× the fact table for N = 30).

The rewrite reads the fact rows once (an islands-style running count). A row of `v` dated
`d` makes `v` count on the days `[d, d + N)`; cut at `v`'s next date, the pieces
`[d, min(next, d + N))` of one value are disjoint and cover exactly the days its rows cover.
So the count on day `g` is the number of pieces covering `g`: a running sum of +1 at each
piece's start and -1 at its end, summed by day, read at every date of the date column (per
combination of the other keys) by a range join on the days where it changes. Rows without
a date in `D` never count (DATESINPERIOD returns dates of the column only); calendar gaps
are handled, as the running sum is read at each calendar date, not assumed to be
contiguous.

The rewrite applies only where its result is provably the plain compile's: a grouped cell
(`CompilerCore._leafable`) whose keys include `D[Date]` (a `date` column) and no other
column of `D`, no filter on `D` in the context that the window would not override (see
`_rolling_context_allows`), no calculation group filtered, no row context left to transition, a
constant negative N in DAY units and the start `MAX(D[Date])` of that same column. Anything
else falls through unchanged; `Compiler.rolling = False` turns it off (the tests compare
both).
"""
from __future__ import annotations

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.compile_types import Env
from generator.engine.compiler.dax_keywords import _enum
from generator.engine.compiler.fn_calculate import CalculateFns
from generator.engine.context import CellFilter, ColKey, and_all
from generator.engine.data import fn
from generator.engine.types import DaxType
from generator.engine.values import Scalar
from generator.spec.model import Table

N = exp.Literal.number


class RollingFns(CalculateFns):
    """Mixin for `Compiler` (listed before CalculateFns): CALCULATE tries the islands
    rewrite of a rolling distinct count first."""

    rolling = True  # class switch: False keeps the plain (correlated) compile

    def fn_CALCULATE(self, call, env):
        if self.rolling:
            out = self._rolling_distinct(call, env)
            if out is not None:
                return out
        return super().fn_CALCULATE(call, env)

    # ------------------------------------------------------------ matching

    def _rolling_distinct(self, call: A.FunctionCall, env: Env) -> Scalar | None:
        if len(call.args) != 2 or not self.grouped or env.scope is None:
            return None
        window = self._window(call.args[1], env)
        if window is None:
            return None
        date_key, days = window
        counted = self._distinct_count(call.args[0], env, depth=0)
        if counted is None or counted[0].name.lower() == date_key[0].lower():
            return None
        fact, value_key = counted
        if len(env.rows) > env.transitioned or not self._leafable(env):
            return None
        keys = self._cell_keys(env)
        if date_key not in keys or any(k[0].lower() == date_key[0].lower() and k != date_key for k in keys):
            return None
        if not self._rolling_context_allows(env, date_key):
            return None
        scan = self.scan(fact, env)
        if not all(scan.has(k) for k in (*keys, value_key)):
            return None
        return self._islands(scan, env, keys, date_key, value_key, days)

    def _window(self, node: A.Expr, env: Env) -> tuple[ColKey, int] | None:
        """(D[Date], N) of `DATESINPERIOD(D[Date], MAX(D[Date]), -N, DAY)`, N a positive
        integer literal and D[Date] a `date` column; None otherwise."""
        if not (isinstance(node, A.FunctionCall) and node.name.upper() == "DATESINPERIOD" and len(node.args) == 4):
            return None
        dates, start, count, unit = node.args
        key = self._date_column(dates)
        if key is None or _enum(unit) != "DAY":
            return None
        if not (isinstance(start, A.FunctionCall) and start.name.upper() == "MAX" and len(start.args) == 1
                and self._date_column(start.args[0]) == key):
            return None
        n = _negative_int(count)
        if n is None:
            return None
        return key, n

    def _date_column(self, node: A.Expr) -> ColKey | None:
        if not (isinstance(node, A.ColumnRef) and node.table):
            return None
        table = self.model.table(node.table)
        column = table.column(node.column) if table is not None else None
        if column is None or column.type != "date" or table.calculation_group is not None:
            return None
        return (table.name, column.name)

    def _distinct_count(self, node: A.Expr, env: Env, depth: int) -> tuple[Table, ColKey] | None:
        """(F, F[c]) when `node` is DISTINCTCOUNT(F[c]), directly or through measure
        references; None otherwise."""
        if depth > 8:
            return None
        if isinstance(node, A.BracketRef):
            lname = node.name.lower()
            if lname in self.extra_measures:
                return self._distinct_count(self.extra_measures[lname][0], env, depth + 1)
            if lname in self.measures:
                return self._distinct_count(self.schema.parsed_measure(self.measures[lname]), env, depth + 1)
            return None
        if not (isinstance(node, A.FunctionCall) and node.name.upper() == "DISTINCTCOUNT" and len(node.args) == 1):
            return None
        arg = node.args[0]
        if not (isinstance(arg, A.ColumnRef) and arg.table):
            return None
        table = self.model.table(arg.table)
        column = table.column(arg.column) if table is not None else None
        if column is None or table.calculation_group is not None:
            return None
        return table, (table.name, column.name)

    def _rolling_context_allows(self, env: Env, date_key: ColKey) -> bool:
        """No calculation group is filtered (one could rewrite the measure), and every
        filter on the date table is one DATESINPERIOD overrides: the cell's own date, a
        filter on the date column alone, or (the date column of the marked date table)
        any filter of the date table alone (the mark-as-date-table rule, §10). A filter
        mixing the date table with others would be overridden only in part."""
        groups = {t.name.lower() for t in self.model.calculation_groups}
        date_table = date_key[0].lower()
        marked = self._marked_date_column(date_key)
        for f in env.ctx.filters:
            tables = {k[0].lower() for k in f.keys()}
            if tables & groups:
                return False
            if isinstance(f, CellFilter) and f.scope is env.scope and f.cols[0] == date_key:
                continue
            if date_table in tables and not (f.keys() <= {date_key} or (marked and tables == {date_table})):
                return False
        return True

    def _marked_date_column(self, date_key: ColKey) -> bool:
        dt = self.schema.date_table
        return dt is not None and dt.name.lower() == date_key[0].lower() \
            and (self.schema.date_column or "").lower() == date_key[1].lower()

    def _fact_where(self, scan, env: Env, date_key: ColKey) -> exp.Expression | None:
        """The context's filters on the fact rows, but those on the date table: the window
        replaces them (see `_rolling_context_allows`)."""
        date_table = date_key[0].lower()
        return and_all(f.apply(scan) for f in env.ctx.filters
                       if not isinstance(f, CellFilter) and date_table not in {k[0].lower() for k in f.keys()})

    # ------------------------------------------------------------ the rewrite

    def _islands(self, scan, env: Env, keys: list[ColKey], date_key: ColKey, value_key: ColKey,
                 days: int) -> Scalar:
        """The leaf: per (date, other keys), the number of values `v` covering the date.

        Each fact row of `v` dated `d` covers `[d, min(next, d + N))`, `next` being `v`'s
        next date (same other keys): the pieces of one `v` are disjoint and their union is
        what its rows cover, so +1 at each piece's start and -1 at its end, summed by day
        and run in date order, is the distinct count. Rows on the same date give an empty
        piece (next = d) but the last, so no DISTINCT is needed. The running count is read
        at each date of the column by a range join on the (few) days where it changes."""
        others = [k for k in keys if k != date_key]
        o = [f"o{i}" for i in range(len(others))]
        col = exp.column
        rows = scan.build(
            exp.select(*[exp.alias_(scan.col(k), name) for k, name in zip(others, o)],
                       exp.alias_(scan.col(value_key), "v"), exp.alias_(scan.col(date_key), "dt")),
            and_all([self._fact_where(scan, env, date_key), scan.col(date_key).is_(exp.null()).not_()]))
        a1, a2, a3, a4, a5, a6 = (self.new_alias() for _ in range(6))
        nexts = exp.select(*[col(c, a1) for c in (*o, "dt")],
                           exp.alias_(_window(exp.Lead(this=col("dt", a1)), [*o, "v"], ["dt"], a1, False), "nxt")
                           ).from_(rows.subquery(a1))
        end = _plus_days(col("dt", a2), days)
        day = exp.Case(ifs=[exp.If(this=exp.EQ(this=col("delta", a3), expression=N(1)), true=col("dt", a2)),
                            exp.If(this=exp.or_(col("nxt", a2).is_(exp.null()),
                                                exp.GT(this=col("nxt", a2), expression=end)), true=end.copy())],
                       default=col("nxt", a2))
        signs = exp.union(exp.select(exp.alias_(N(1), "delta")),
                          exp.select(exp.alias_(exp.Neg(this=N(1)), "delta")), distinct=False)
        changes = (exp.select(*[col(c, a2) for c in o], exp.alias_(day, "day"),
                              exp.alias_(exp.Sum(this=col("delta", a3)), "d"))
                   .from_(nexts.subquery(a2)).join(signs.subquery(a3), join_type="cross")
                   .group_by(*[col(c, a2) for c in o], exp.Literal.number(len(o) + 1)))
        running = exp.select(
            *[col(c, a4) for c in (*o, "day")],
            exp.alias_(_window(exp.Sum(this=col("d", a4)), o, ["day"], a4, True), "n"),
            exp.alias_(_window(exp.Lead(this=col("day", a4)), o, ["day"], a4, False), "nxt"),
        ).from_(changes.subquery(a4))
        table = self.model.table(date_key[0])
        dates = self.scan(table, Env(ctx=self.root_env().ctx))
        calendar = dates.build(exp.select(exp.alias_(dates.col(date_key), "day")).distinct(),
                               dates.col(date_key).is_(exp.null()).not_())
        within = exp.and_(exp.GTE(this=col("day", a5), expression=col("day", a6)),
                          exp.or_(col("nxt", a6).is_(exp.null()), exp.LT(this=col("day", a5), expression=col("nxt", a6))))
        outs = [exp.alias_(col("day", a5) if k == date_key else col(o[others.index(k)], a6), f"k{i}")
                for i, k in enumerate(keys)]
        leaf = (exp.select(*outs, exp.alias_(col("n", a6), "v")).from_(calendar.subquery(a5))
                .join(running.subquery(a6), on=within, join_type="inner")
                .where(exp.GT(this=col("n", a6), expression=N(0))))
        out = env.scope.add(self.new_alias(), leaf, tuple(keys))
        return Scalar(out, DaxType.INT, True)


def _window(this: exp.Expression, by: list[str], order: list[str], alias: str, frame: bool) -> exp.Expression:
    """`this OVER (PARTITION BY by ORDER BY order [ROWS UNBOUNDED PRECEDING])`."""
    spec = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW") if frame else None
    return exp.Window(this=this, partition_by=[exp.column(c, alias) for c in by] or None,
                      order=exp.Order(expressions=[exp.Ordered(this=exp.column(c, alias)) for c in order]), spec=spec)


def _plus_days(date: exp.Expression, days: int) -> exp.Expression:
    """`date` + `days` days, as DATE (the same spelling DATESINPERIOD's window uses)."""
    return exp.cast(exp.Add(this=exp.cast(date, "DATE"), expression=fn("to_days", N(days))), "DATE")


def _negative_int(node: A.Expr) -> int | None:
    """N for the literal `-N` (N a positive integer), else None."""
    if isinstance(node, A.UnaryOp) and node.op == "-" and isinstance(node.operand, A.Number):
        value = node.operand.value
    elif isinstance(node, A.Number) and node.value < 0:
        value = -node.value
    else:
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    value = int(value)
    return value if value > 0 else None
