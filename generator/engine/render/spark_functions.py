"""The Spark renderer's DuckDB functions: each `exp.Anonymous` call the compiler emits is
kept (same name and results on Spark, `SAME`), inlined (a `__dax_*` SQL macro), sent to a
Python UDF (`UDF_OF`), rewritten to Spark's exact equivalent (`FUNCS`), or refused with a
compile error naming the function and the backend. A mixin of `SparkRenderer`
(render/spark.py): the handlers use its `unsupported`, `_rewrite` and `_let_name`.
"""
from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp

from generator.engine.render.spark_exprs import DOUBLE, call, case, inf, let, nan, paren
from generator.engine.render.spark_kinds import kind_of
from generator.engine.render.spark_names import SAME, TO_UNIT, UNIT, USED_BY
from generator.engine.render.spark_udfs import SPARK_UDFS, UDF_OF


class SparkFunctions:
    """DuckDB function calls → Spark SQL with DuckDB's results (`_anonymous`)."""

    def _anonymous(self, node: exp.Anonymous) -> exp.Expression:
        name = node.name.lower()
        args = list(node.expressions)
        if name in SAME or name in TO_UNIT:  # intervals: rewritten with their date ± (`_shift`)
            return node
        if name == "range" and isinstance(node.parent, exp.Table):  # a table function: `_table`
            return node
        if name.startswith("__dax_"):
            return self._macro(node, name, args)
        if name in UDF_OF:
            return call(UDF_OF[name], *args)
        handler = _FUNCS.get(name)
        if handler is None:
            raise self.unsupported(f"the SQL function {name}()", USED_BY.get(name, ""))
        return handler(self, node, args)

    def _macro(self, node: exp.Anonymous, name: str, args: list[exp.Expression]) -> exp.Expression:
        """A `__dax_*` SQL macro, inlined: its DuckDB body with the arguments substituted,
        then rewritten like any other tree."""
        from generator.engine.udf import Macro, registered

        entry = registered().get(name)
        if entry is None and name in SPARK_UDFS:
            return node
        if not isinstance(entry, Macro):
            raise self.unsupported(f"the Python scalar function {name}()")
        if len(args) != len(entry.params):
            raise self.unsupported(f"{name}() with {len(args)} argument(s)")
        body = _parsed_body(entry.body).copy()
        values = dict(zip(entry.params, args))
        for col in list(body.find_all(exp.Column)):
            if not col.table and col.name in values:
                col.replace(paren(values[col.name].copy()))
        return self._rewrite(exp.Paren(this=body))

    def _round(self, node, args):
        """round(x) and round(DECIMAL, n) are half away from zero in both. DuckDB's
        round(DOUBLE, n) rounds the exact binary value (2.675 → 2.67, 1234.565 → 1234.57),
        Spark's the shortest decimal text (2.68): a Python UDF rounds the exact value."""
        kind = kind_of(args[0])
        if len(args) == 1 or kind in ("decimal", "int"):
            return node
        if kind == "double":
            return call("__dax_spark_round", args[0], exp.cast(args[1], "INT"))
        raise self.unsupported("round() to decimal places of a value of unknown type")

    def _error(self, node, args):
        return call("raise_error", *args)

    def _concat(self, node, args):
        return call("concat_ws", exp.Literal.string(""), *args)

    def _ln(self, node, args):
        return let(self._let_name(), args, lambda x: exp.Paren(this=case(
            (exp.EQ(this=x.copy(), expression=exp.Literal.number(0)), inf("-")),
            (exp.LT(this=x.copy(), expression=exp.Literal.number(0)), nan()), default=call("ln", x))))

    def _sign(self, node, args):
        return exp.cast(call("signum", *args), "INT")

    def _trunc(self, node, args):
        if len(args) != 1:
            raise self.unsupported("trunc() with a precision")
        (x,) = args
        return exp.Mul(this=call("signum", x), expression=call("floor", call("abs", x.copy())))

    def _strpos(self, node, args):
        return call("instr", *args)

    def _xor(self, node, args):
        return exp.BitwiseXor(this=paren(args[0]), expression=paren(args[1]))

    def _list(self, node, args):
        """DuckDB's list() keeps NULLs, Spark's collect_list drops them: collect structs
        (never NULL themselves) and unwrap."""
        (x,) = args
        v = exp.to_identifier("__v")
        wrapped = call("collect_list", call("named_struct", exp.Literal.string("v"), x))
        unwrap = exp.Lambda(this=exp.Dot(this=exp.column(v.copy()), expression=exp.to_identifier("v")),
                            expressions=[v])
        return call("transform", wrapped, unwrap)

    def _list_sort(self, node, args):
        return call("array_sort", *args)

    def _list_sum(self, node, args):
        """list_sum([a, b, …]): the sum of the non-NULL items, NULL if all are NULL."""
        (arr,) = args
        if not isinstance(arr, exp.Array):
            raise self.unsupported("list_sum() of a non-literal list")
        items = list(arr.expressions)
        total = items[0]
        for item in items[1:]:
            total = call("coalesce", exp.Add(this=paren(total.copy()), expression=paren(item.copy())),
                       total, item)
        return total

    def _quantile_cont(self, node, args):
        return call("percentile", *args)

    def _isodow(self, node, args):
        (d,) = args
        shifted = exp.Add(this=call("dayofweek", d), expression=exp.Literal.number(5))
        return exp.Add(this=exp.Paren(this=exp.Mod(this=shifted, expression=exp.Literal.number(7))),
                       expression=exp.Literal.number(1))

    def _dayofweek(self, node, args):
        return exp.Sub(this=call("dayofweek", *args), expression=exp.Literal.number(1))

    def _epoch(self, node, args):
        (t,) = args
        return exp.Div(this=exp.cast(call("unix_micros", exp.cast(t, "TIMESTAMP")), DOUBLE),
                       expression=exp.Literal.number("1000000.0"))

    def _unit(self, arg: exp.Expression, fn_name: str) -> str:
        if not (isinstance(arg, exp.Literal) and arg.is_string and arg.this.lower() in UNIT):
            raise self.unsupported(f"{fn_name}() with the unit {arg.sql()}")
        return UNIT[arg.this.lower()]

    def _date_diff(self, node, args):
        """DuckDB date_diff counts the unit boundaries between a and b: the whole units
        between both truncated to the unit."""
        unit = self._unit(args[0], "date_diff")
        a, b = args[1], args[2]
        if unit in ("MICROSECOND",):
            return call("timestampdiff", exp.var(unit), exp.cast(a, "TIMESTAMP"), exp.cast(b, "TIMESTAMP"))
        trunc = lambda x: call("date_trunc", exp.Literal.string(unit), exp.cast(x, "TIMESTAMP"))  # noqa: E731
        return call("timestampdiff", exp.var(unit), trunc(a), trunc(b))

    def _date_trunc(self, node, args):
        unit = self._unit(args[0], "date_trunc")
        return exp.cast(call("date_trunc", exp.Literal.string(unit), exp.cast(args[1], "TIMESTAMP")), "TIMESTAMP")

    def _strftime(self, node, args):
        t, fmt = args
        if not (isinstance(fmt, exp.Literal) and fmt.is_string):
            raise self.unsupported("strftime() with a computed format", "FORMAT")
        pattern = fmt.this
        stripped = pattern.replace("%%", "")
        plain = "".join(ch for i, ch in enumerate(stripped) if ch.isalpha() and (i == 0 or stripped[i - 1] not in "%-"))
        if plain:  # letters outside %-codes would be pattern letters in Spark's (Java's) syntax
            raise self.unsupported(f"strftime() with literal letters in the format {pattern!r}", "FORMAT")
        return exp.TimeToStr(this=exp.cast(t, "TIMESTAMP"), format=exp.Literal.string(pattern))

    def _regexp_replace(self, node, args):
        if len(args) == 4 and isinstance(args[3], exp.Literal) and args[3].this == "g":
            return call("regexp_replace", *args[:3])
        raise self.unsupported("regexp_replace() replacing only the first match", "TRIM")

    def _generate_series(self, node, args):
        """generate_series(a, b, step): inclusive, empty when a > b (Spark's sequence
        raises there). No lambda: Spark refuses a subquery inside a higher-order function,
        and CALENDAR's bounds are often subqueries (MIN(Dim_Date[Date])). Past b it is an
        empty array of the same type: the second item onward of [a]."""
        a, b, step = args
        ascending = exp.LTE(this=paren(a.copy()), expression=paren(b.copy()))
        empty = call("slice", call("sequence", a.copy(), a.copy(), step.copy()), exp.Literal.number(2),
                   exp.Literal.number(1))
        return case((ascending, call("sequence", a, b, step)), default=empty)

    def _unnest(self, node, args):
        return call("explode", *args)


@lru_cache(maxsize=None)
def _parsed_body(body: str) -> exp.Expression:
    return sqlglot.parse_one(body, read="duckdb")


_FUNCS = {
    "round": SparkFunctions._round,
    "error": SparkFunctions._error,
    "concat": SparkFunctions._concat,
    "ln": SparkFunctions._ln,
    "sign": SparkFunctions._sign,
    "trunc": SparkFunctions._trunc,
    "strpos": SparkFunctions._strpos,
    "xor": SparkFunctions._xor,
    "list": SparkFunctions._list,
    "list_sort": SparkFunctions._list_sort,
    "list_sum": SparkFunctions._list_sum,
    "quantile_cont": SparkFunctions._quantile_cont,
    "isodow": SparkFunctions._isodow,
    "dayofweek": SparkFunctions._dayofweek,
    "epoch": SparkFunctions._epoch,
    "date_diff": SparkFunctions._date_diff,
    "date_trunc": SparkFunctions._date_trunc,
    "strftime": SparkFunctions._strftime,
    "regexp_replace": SparkFunctions._regexp_replace,
    "generate_series": SparkFunctions._generate_series,
    "unnest": SparkFunctions._unnest,
}
