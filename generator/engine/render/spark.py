"""The Spark SQL renderer: the compiler's DuckDB-flavoured tree → Spark SQL with DuckDB's
(that is, Power BI's) results.

sqlglot's spark dialect prints the typed nodes; this module first rewrites, bottom-up,
every node whose DuckDB meaning Spark spells differently or computes differently:

- `/` is DuckDB's IEEE double division (x/0 = ±inf, 0/0 = NaN, DECIMAL/DECIMAL is DOUBLE),
  where Spark gives NULL or an error, or a DECIMAL of reduced scale;
- CAST to an integer rounds in DuckDB (DOUBLE half to even, DECIMAL half away from zero),
  where Spark truncates;
- `concat` skips NULL in DuckDB (Spark's is NULL), `ln(0)` is -inf (Spark NULL), `avg` of a
  DECIMAL is DOUBLE, date_diff counts unit boundaries crossed, `error()` is `raise_error()`,
  DuckDB lists are 1-based and out-of-range reads are NULL, …;
- the `__dax_*` SQL macros of generator.engine.udf are inlined (Spark has no SQL macros);
- functions with no exact Spark built-in (printf/format, lgamma, gcd/lcm, factorial, chr,
  unicode) become calls to small Python UDFs the Spark runtime registers (`SPARK_UDFS`);
  Python's `%`-format and `str.format` are C printf's and fmt's rules.

Anything left unknown is refused (`Renderer.unsupported`): a compile error naming the SQL
function, the DAX functions that emit it and the backend — never a different number.
Text comparison needs nothing here: the compiler already lower-cases both sides
(Power BI's case-insensitive collation, dax-semantics.md §1.2).
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Callable

import sqlglot
from sqlglot import exp

from generator.engine.render.base import Renderer

DOUBLE = "DOUBLE"
_INTEGRAL = {exp.DataType.Type.TINYINT, exp.DataType.Type.SMALLINT, exp.DataType.Type.INT,
             exp.DataType.Type.BIGINT}


def _f(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _double(x: exp.Expression) -> exp.Expression:
    if isinstance(x, exp.Cast) and x.to.this == exp.DataType.Type.DOUBLE:
        return x
    return exp.cast(x, DOUBLE)


def _inf(sign: str = "") -> exp.Expression:
    return exp.cast(exp.Literal.string(f"{sign}Infinity"), DOUBLE)


def _nan() -> exp.Expression:
    return exp.cast(exp.Literal.string("NaN"), DOUBLE)


def _case(*pairs, default: exp.Expression) -> exp.Case:
    return exp.Case(ifs=[exp.If(this=c, true=v) for c, v in pairs], default=default)


def _simple(x: exp.Expression) -> bool:
    """Cheap to repeat: no subquery anywhere inside, and small."""
    return not any(isinstance(n, (exp.Subquery, exp.Select)) for n in x.walk()) and \
        sum(1 for _ in x.walk()) <= 12


def _let(name: str, values: list[exp.Expression], body: Callable[..., exp.Expression]) -> exp.Expression:
    """`body` over `values`, each computed once. The rewrites below need an operand several
    times (x/0 tests the divisor and the sign of the dividend); repeating an operand that
    holds a correlated subquery repeats a join per copy, and nested rewrites multiply the
    copies (a calculated column's SQL grew past what Spark's code generator could compile
    in minutes). Simple operands are repeated; others are bound once by a lambda:
    element_at(transform(array(named_struct('v0', e0, …)), l -> body(l.v0, …)), 1).
    Spark refuses a subquery anywhere inside a higher-order function's arguments: an
    operand holding one is repeated (the same value, a larger plan)."""
    if all(_simple(v) for v in values) or any(isinstance(n, (exp.Subquery, exp.Select))
                                              for v in values for n in v.walk()):
        return body(*values)
    var = exp.to_identifier(name)
    fields = [exp.to_identifier(f"v{i}") for i in range(len(values))]
    struct = _f("named_struct", *[x for i, v in enumerate(values) for x in (exp.Literal.string(f"v{i}"), v)])
    bound = body(*[exp.Dot(this=exp.column(var.copy()), expression=f.copy()) for f in fields])
    lam = exp.Lambda(this=bound, expressions=[var])
    return _f("element_at", _f("transform", exp.Array(expressions=[struct]), lam), exp.Literal.number(1))


def _paren(x: exp.Expression) -> exp.Expression:
    return x if isinstance(x, (exp.Paren, exp.Column, exp.Literal, exp.Anonymous, exp.Func)) else exp.Paren(this=x)


# ---------------------------------------------------------------- Python UDFs (Spark runtime)

def _printf(fmt, x):
    return None if fmt is None or x is None else fmt % x


def _format(fmt, x):
    return None if fmt is None or x is None else fmt.format(x)


def _factorial(n):
    if n is None:
        return None
    if n < 0:
        raise ValueError("factorial of a negative number is undefined")
    out = math.factorial(n)
    if out > 2 ** 63 - 1:
        raise OverflowError(f"FACT({n}) is out of the range of a 64-bit integer")
    return out


def _unicode(s):
    return None if s is None else (ord(s[0]) if s else -1)


def _gcd(a, b):
    return None if a is None or b is None else math.gcd(a, b)


def _lcm(a, b):
    return None if a is None or b is None else math.lcm(a, b)


def _lgamma(x):
    return None if x is None else math.lgamma(x)


def _round_double(x, n):
    """DuckDB's round(DOUBLE, n): the exact binary value rounded half away from zero."""
    import decimal

    if x is None or n is None:
        return None
    if math.isnan(x) or math.isinf(x):
        return x
    q = decimal.Decimal(1).scaleb(-n)
    return float(decimal.Decimal(x).quantize(q, rounding=decimal.ROUND_HALF_UP, context=decimal.Context(prec=400)))


def _chr(n):
    return None if n is None else chr(n)


# name → (function, Spark return type); registered by backends/spark.py on its session
SPARK_UDFS: dict[str, tuple[Callable, str]] = {
    "__dax_spark_printf": (_printf, "string"),
    "__dax_spark_format": (_format, "string"),
    "__dax_spark_factorial": (_factorial, "bigint"),
    "__dax_spark_unicode": (_unicode, "bigint"),
    "__dax_spark_gcd": (_gcd, "bigint"),
    "__dax_spark_lcm": (_lcm, "bigint"),
    "__dax_spark_lgamma": (_lgamma, "double"),
    "__dax_spark_chr": (_chr, "string"),
    "__dax_spark_round": (_round_double, "double"),
}

_UDF_OF = {"printf": "__dax_spark_printf", "format": "__dax_spark_format", "factorial": "__dax_spark_factorial",
           "unicode": "__dax_spark_unicode", "gcd": "__dax_spark_gcd", "lcm": "__dax_spark_lcm",
           "lgamma": "__dax_spark_lgamma", "chr": "__dax_spark_chr"}

# DuckDB functions Spark has under the same name with the same results
_SAME = {"coalesce", "lower", "upper", "exp", "abs", "power", "sqrt", "floor", "ceil", "tan", "atan", "tanh",
         "asinh", "acosh", "atanh", "degrees", "radians", "pi", "greatest", "least", "nullif", "replace", "left",
         "right", "repeat", "trim", "rtrim", "ltrim", "length", "count_if", "product", "make_date", "last_day",
         "year", "month", "day", "row_number", "rank", "dense_rank", "substr", "mod", "sin", "cos", "asin", "acos",
         "atan2", "isnan"}

# units of DuckDB's date_diff/date_trunc and the interval constructors
_UNIT = {"microsecond": "MICROSECOND", "millisecond": "MILLISECOND", "second": "SECOND", "minute": "MINUTE",
         "hour": "HOUR", "day": "DAY", "week": "WEEK", "month": "MONTH", "quarter": "QUARTER", "year": "YEAR"}
_TO_UNIT = {"to_microseconds": "MICROSECOND", "to_seconds": "SECOND", "to_days": "DAY", "to_months": "MONTH",
            "to_years": "YEAR"}

# which DAX functions emit a DuckDB function, for the refusal message
USED_BY = {"strptime": "TIMEVALUE", "try_strptime": "DATEVALUE", "regexp_replace": "TRIM", "list": "PERCENTILE/MEDIAN",
           "to_seconds": "TIME/TIMEVALUE", "strftime": "FORMAT"}


class SparkRenderer(Renderer):
    backend = "spark"
    dialect = "spark"

    def prepare(self, statement: exp.Expression) -> exp.Expression:
        self._lets = 0  # lambda variables of `_let`, numbered per statement (the same SQL every time)
        out = self._rewrite(statement)
        for node in list(out.find_all(exp.Anonymous)):
            if node.name.lower() == "explode":
                self._lift_generator(node)
        for node in out.find_all(exp.Anonymous):
            if _interval(node):  # left by `_shift`: not an operand of date ± interval
                raise self.unsupported(f"the interval {node.name}() outside date ± interval",
                                       USED_BY.get(node.name.lower(), ""))
        return out

    def _lift_generator(self, node: exp.Anonymous) -> None:
        """DuckDB's unnest may sit inside an expression (CAST(unnest(l) AS DATE)); Spark's
        explode must be the whole projection: E(explode(l)) → explode(transform(l, u -> E(u))),
        the same rows (E reads only the item and the row)."""
        top = node
        while isinstance(top.parent, exp.Expression) and not isinstance(top.parent, (exp.Alias, exp.Select)):
            top = top.parent
        if top is node:
            return
        if any(isinstance(n, (exp.Subquery, exp.Select, exp.AggFunc, exp.Window)) for n in top.walk()):
            raise self.unsupported("unnest() inside an expression with a subquery or an aggregate")
        (items,) = node.expressions
        var = exp.to_identifier(self._let_name().replace("let", "item"))
        node.replace(exp.column(var.copy()))
        body = top.copy()
        top.replace(_f("explode", _f("transform", items, exp.Lambda(this=body, expressions=[var]))))

    def _let_name(self) -> str:
        self._lets = getattr(self, "_lets", 0) + 1
        return f"__let{self._lets}"

    def _rewrite(self, tree: exp.Expression) -> exp.Expression:
        """Bottom-up: every node is rewritten after its children, so a rewrite sees (and
        may move) already-rendered operands."""
        root = tree
        for node in reversed(list(tree.dfs())):
            new = self._node(node)
            if new is not node:
                if node is root:
                    root = new
                else:
                    node.replace(new)
        return root

    def _node(self, node: exp.Expression) -> exp.Expression:
        handler = _NODES.get(type(node))
        return handler(self, node) if handler else node

    # ------------------------------------------------------------ typed nodes

    def _div(self, node: exp.Div) -> exp.Expression:
        """DuckDB `/`: DOUBLE, IEEE at zero (x/0 = ±inf, 0/0 and NaN/0 = NaN)."""
        def ieee(a, b):
            quotient = exp.Div(this=_paren(a), expression=_paren(b))
            at_zero = _case((exp.GT(this=a.copy(), expression=exp.Literal.number(0)), _inf()),
                            (exp.LT(this=a.copy(), expression=exp.Literal.number(0)), _inf("-")),
                            (a.copy().is_(exp.null()), exp.cast(exp.null(), DOUBLE)), default=_nan())
            return exp.Paren(this=_case((exp.EQ(this=b.copy(), expression=exp.Literal.number(0)), at_zero),
                                        default=quotient))

        if _nonzero(node.expression):  # DIVIDE's quotient: its CASE has taken the zero divisor
            return exp.Paren(this=exp.Div(this=_paren(_double(node.this)), expression=_paren(_double(node.expression))))
        return _let(self._let_name(), [_double(node.this), _double(node.expression)], ieee)

    def _cast(self, node: exp.Cast) -> exp.Expression:
        """DuckDB rounds when casting to an integer (DOUBLE half to even, DECIMAL half away
        from zero); Spark truncates. Operands known to be integral pass through; others
        get DuckDB's rounding made explicit, or a runtime error if the kind is unknown and
        the value has a fraction (never a truncated number)."""
        if node.to.this not in _INTEGRAL:
            return node
        x = node.this
        kind = _kind(x)
        if kind in ("int", "bool", "text"):
            return node
        if kind == "double":
            node.set("this", _f("bround", x))
        elif kind == "decimal":
            node.set("this", _f("round", x))
        else:
            def whole(v):
                fraction = exp.NEQ(this=exp.cast(v.copy(), DOUBLE), expression=_f("floor", exp.cast(v.copy(), DOUBLE)))
                return _case((fraction, _f("raise_error", exp.Literal.string(
                    "a value with a fraction reached an integer conversion the spark backend cannot round "
                    "as DuckDB does; run this query on the duckdb backend"))), default=v)

            node.set("this", _let(self._let_name(), [x], whole))
        return node

    def _avg(self, node: exp.Avg) -> exp.Expression:
        """DuckDB's AVG of integers and DECIMALs is DOUBLE (Spark: DECIMAL of wider scale)."""
        node.set("this", _double(node.this))
        return node

    def _cte(self, node: exp.CTE) -> exp.Expression:
        node.set("materialized", None)  # Spark has no MATERIALIZED hint; same rows either way
        return node

    # Spark resolves an outer column only from the query immediately around a subquery;
    # the compiler's `let` wraps values in a FROM-less derived table, which puts one more
    # query between a correlated subquery and its row (a calculated column's table). Both
    # rewrites below remove such one-row wrappers; the rows and values are the same.

    def _select(self, node: exp.Select) -> exp.Expression:
        """SELECT f(t.v0, t.v1) FROM (SELECT e0 AS v0, e1 AS v1) AS t → SELECT f(e0, e1)."""
        if any(j.args.get("method") for j in node.args.get("joins") or ()):
            return self._asof(node)
        source = node.args.get(_FROM)
        if source is None or any(node.args.get(k) for k in _CLAUSES):
            return node
        sub = source.this
        if not (isinstance(sub, exp.Subquery) and isinstance(sub.this, exp.Select) and sub.alias):
            return node
        inner = sub.this
        if inner.args.get(_FROM) is not None or any(inner.args.get(k) for k in _CLAUSES + ("with",)):
            return node
        if any(_generator(n) for p in inner.expressions for n in p.walk()):
            return node  # unnest/explode: many rows, not a one-row wrapper
        values = {}
        for projection in inner.expressions:
            if isinstance(projection, exp.Alias):
                values[projection.alias] = projection.this
            elif isinstance(projection, exp.Subquery) and projection.alias:  # (SELECT …) AS v
                value = projection.copy()
                value.set("alias", None)
                values[projection.alias] = value
            else:
                return node
        if any(isinstance(n, (exp.AggFunc, exp.Window, exp.Star)) for p in node.expressions for n in p.walk()):
            return node
        for col in [c for p in node.expressions for c in p.find_all(exp.Column)]:
            if col.table == sub.alias and col.name in values:
                col.replace(_paren(values[col.name].copy()))
            elif col.table == sub.alias:
                return node
        node.set(_FROM, None)
        return node

    def _asof(self, node: exp.Select) -> exp.Expression:
        """The compiler's one ASOF join (RANKX looking a value up among counted values):
        SELECT c.v FROM (SELECT e AS b) AS q ASOF LEFT JOIN c ON q.b <= c.a takes the row
        with the least a >= e (`>=`: the greatest a <= e), NULL without one. Spark has no
        ASOF join: the same row is min_by(c.v, c.a) over the rows where e <= c.a (`a` is
        unique there: the values are grouped), an aggregate, so NULL over no rows."""
        joins = node.args.get("joins") or []
        source = node.args.get(_FROM)
        shape = (len(joins) == 1 and len(node.expressions) == 1 and source is not None
                 and not any(node.args.get(k) for k in _CLAUSES if k != "joins"))
        if shape:
            join, sub, out = joins[0], source.this, node.expressions[0]
            on = join.args.get("on")
            inner = sub.this if isinstance(sub, exp.Subquery) else None
            method, side = (join.args.get("method") or "").upper(), (join.args.get("side") or "").upper()
            shape = (method == "ASOF" and side == "LEFT"
                     and isinstance(on, (exp.LTE, exp.GTE)) and isinstance(out, exp.Column)
                     and isinstance(inner, exp.Select) and inner.args.get(_FROM) is None
                     and len(inner.expressions) == 1 and isinstance(inner.expressions[0], exp.Alias)
                     and isinstance(on.this, exp.Column) and on.this.table == sub.alias
                     and on.this.name == inner.expressions[0].alias and isinstance(on.expression, exp.Column)
                     and on.expression.table == join.this.alias == out.table)
        if not shape:
            raise self.unsupported("this ASOF join", "RANKX")
        value = inner.expressions[0].this
        pick = "min_by" if isinstance(on, exp.LTE) else "max_by"
        cond = type(on)(this=_paren(value.copy()), expression=on.expression.copy())
        return exp.select(_f(pick, out.copy(), on.expression.copy())).from_(join.this.copy()).where(cond)

    def _subquery(self, node: exp.Subquery) -> exp.Expression:
        """A scalar (SELECT e), with no FROM, is e."""
        inner = node.this
        if node.alias or not isinstance(inner, exp.Select) or inner.args.get(_FROM) is not None \
                or len(inner.expressions) != 1 or any(inner.args.get(k) for k in _CLAUSES + ("with",)):
            return node
        if isinstance(node.parent, (exp.From, exp.Join, exp.Lateral)):
            return node
        value = inner.expressions[0]
        return exp.Paren(this=value.this if isinstance(value, exp.Alias) else value)

    def _table(self, node: exp.Table) -> exp.Expression:
        """DuckDB's table function range(a, b) (GENERATESERIES's row numbers): one BIGINT
        column named `range`, a, a+1, …, b-1, no rows when b <= a. Spark's range() has the
        rows but takes only foldable bounds, and the compiler's row count is not foldable
        there (its increment check is raise_error(), its exact rounding a Python UDF; CALENDAR
        and GENERATESERIES bounds may be subqueries). explode(sequence(a, b - 1)) takes any
        bound, and an empty array where b <= a (sequence would count down):
        (SELECT explode(CASE WHEN a < b THEN sequence(a, b - 1) ELSE <empty> END) AS range) AS r."""
        fn_ = node.this
        if not (isinstance(fn_, exp.Anonymous) and fn_.name.lower() == "range"):
            return node
        args = list(fn_.expressions)
        if len(args) == 1:
            args = [exp.Literal.number(0), args[0]]
        if len(args) != 2:
            raise self.unsupported(f"range() with {len(args)} arguments", "GENERATESERIES")

        def rows(a, b):
            nonempty = exp.LT(this=_paren(a.copy()), expression=_paren(b.copy()))
            first = exp.cast(a.copy(), "BIGINT")  # typed items: `_kind` sees BIGINT through explode
            empty = _f("slice", _f("sequence", first, first.copy()), exp.Literal.number(2), exp.Literal.number(1))
            last = exp.cast(exp.Sub(this=_paren(b.copy()), expression=exp.Literal.number(1)), "BIGINT")
            return _case((nonempty, _f("sequence", first.copy(), last)), default=empty)

        bounds = [exp.cast(a, "BIGINT") for a in args]
        items = _f("explode", _let(self._let_name(), bounds, rows))
        alias = node.args.get("alias")
        return exp.select(exp.alias_(items, "range")).subquery(alias.copy() if alias else "range")

    def _bracket(self, node: exp.Bracket) -> exp.Expression:
        """DuckDB list[i] (1-based; NULL out of range) → try_element_at."""
        (i,) = node.expressions
        return _f("try_element_at", node.this, i)

    def _create(self, node: exp.Create) -> exp.Expression:
        if node.kind == "VIEW":
            node.set("properties", exp.Properties(expressions=[exp.TemporaryProperty()]))
            return node
        raise self.unsupported("CREATE TABLE (a materialised pre-aggregation)")

    def _drop(self, node: exp.Drop) -> exp.Expression:
        node.set("kind", "VIEW")
        return node

    def _add(self, node: exp.Add) -> exp.Expression:
        return self._shift(node, 1)

    def _sub(self, node: exp.Sub) -> exp.Expression:
        return self._shift(node, -1)

    def _shift(self, node: exp.Binary, sign: int) -> exp.Expression:
        """timestamp ± to_days(n) (DuckDB intervals) → timestampadd(DAY, ±n, timestamp): a
        DuckDB DATE + interval is a TIMESTAMP, months clamp to the month's last day."""
        other, interval = node.this, node.expression
        if not _interval(interval) and sign == 1 and _interval(other):
            other, interval = interval, other
        if not _interval(interval):
            return node
        unit = _TO_UNIT[interval.name.lower()]
        (n,) = interval.expressions
        if sign < 0:
            n = exp.Neg(this=_paren(n))
        if unit == "SECOND":  # DuckDB to_seconds takes a fraction: add microseconds
            n = exp.cast(_f("round", exp.Mul(this=_paren(n), expression=exp.Literal.number(1000000))), "BIGINT")
            unit = "MICROSECOND"
        return _f("timestampadd", exp.var(unit), n, exp.cast(other, "TIMESTAMP"))

    # ------------------------------------------------------------ DuckDB functions

    def _anonymous(self, node: exp.Anonymous) -> exp.Expression:
        name = node.name.lower()
        args = list(node.expressions)
        if name in _SAME or name in _TO_UNIT:  # intervals: rewritten with their date ± (`_shift`)
            return node
        if name == "range" and isinstance(node.parent, exp.Table):  # a table function: `_table`
            return node
        if name.startswith("__dax_"):
            return self._macro(node, name, args)
        if name in _UDF_OF:
            return _f(_UDF_OF[name], *args)
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
                col.replace(_paren(values[col.name].copy()))
        return self._rewrite(exp.Paren(this=body))

    def _round(self, node, args):
        """round(x) and round(DECIMAL, n) are half away from zero in both. DuckDB's
        round(DOUBLE, n) rounds the exact binary value (2.675 → 2.67, 1234.565 → 1234.57),
        Spark's the shortest decimal text (2.68): a Python UDF rounds the exact value."""
        kind = _kind(args[0])
        if len(args) == 1 or kind in ("decimal", "int"):
            return node
        if kind == "double":
            return _f("__dax_spark_round", args[0], exp.cast(args[1], "INT"))
        raise self.unsupported("round() to decimal places of a value of unknown type")

    def _error(self, node, args):
        return _f("raise_error", *args)

    def _concat(self, node, args):
        return _f("concat_ws", exp.Literal.string(""), *args)

    def _ln(self, node, args):
        return _let(self._let_name(), args, lambda x: exp.Paren(this=_case(
            (exp.EQ(this=x.copy(), expression=exp.Literal.number(0)), _inf("-")),
            (exp.LT(this=x.copy(), expression=exp.Literal.number(0)), _nan()), default=_f("ln", x))))

    def _sign(self, node, args):
        return exp.cast(_f("signum", *args), "INT")

    def _trunc(self, node, args):
        if len(args) != 1:
            raise self.unsupported("trunc() with a precision")
        (x,) = args
        return exp.Mul(this=_f("signum", x), expression=_f("floor", _f("abs", x.copy())))

    def _strpos(self, node, args):
        return _f("instr", *args)

    def _xor(self, node, args):
        return exp.BitwiseXor(this=_paren(args[0]), expression=_paren(args[1]))

    def _list(self, node, args):
        """DuckDB's list() keeps NULLs, Spark's collect_list drops them: collect structs
        (never NULL themselves) and unwrap."""
        (x,) = args
        v = exp.to_identifier("__v")
        wrapped = _f("collect_list", _f("named_struct", exp.Literal.string("v"), x))
        unwrap = exp.Lambda(this=exp.Dot(this=exp.column(v.copy()), expression=exp.to_identifier("v")),
                            expressions=[v])
        return _f("transform", wrapped, unwrap)

    def _list_sort(self, node, args):
        return _f("array_sort", *args)

    def _list_sum(self, node, args):
        """list_sum([a, b, …]): the sum of the non-NULL items, NULL if all are NULL."""
        (arr,) = args
        if not isinstance(arr, exp.Array):
            raise self.unsupported("list_sum() of a non-literal list")
        items = list(arr.expressions)
        total = items[0]
        for item in items[1:]:
            total = _f("coalesce", exp.Add(this=_paren(total.copy()), expression=_paren(item.copy())),
                       total, item)
        return total

    def _quantile_cont(self, node, args):
        return _f("percentile", *args)

    def _isodow(self, node, args):
        (d,) = args
        return exp.Add(this=exp.Paren(this=exp.Mod(this=exp.Add(this=_f("dayofweek", d), expression=exp.Literal.number(5)),
                                                   expression=exp.Literal.number(7))),
                       expression=exp.Literal.number(1))

    def _dayofweek(self, node, args):
        return exp.Sub(this=_f("dayofweek", *args), expression=exp.Literal.number(1))

    def _epoch(self, node, args):
        (t,) = args
        return exp.Div(this=exp.cast(_f("unix_micros", exp.cast(t, "TIMESTAMP")), DOUBLE),
                       expression=exp.Literal.number("1000000.0"))

    def _unit(self, arg: exp.Expression, fn_name: str) -> str:
        if not (isinstance(arg, exp.Literal) and arg.is_string and arg.this.lower() in _UNIT):
            raise self.unsupported(f"{fn_name}() with the unit {arg.sql()}")
        return _UNIT[arg.this.lower()]

    def _date_diff(self, node, args):
        """DuckDB date_diff counts the unit boundaries between a and b: the whole units
        between both truncated to the unit."""
        unit = self._unit(args[0], "date_diff")
        a, b = args[1], args[2]
        if unit in ("MICROSECOND",):
            return _f("timestampdiff", exp.var(unit), exp.cast(a, "TIMESTAMP"), exp.cast(b, "TIMESTAMP"))
        trunc = lambda x: _f("date_trunc", exp.Literal.string(unit), exp.cast(x, "TIMESTAMP"))  # noqa: E731
        return _f("timestampdiff", exp.var(unit), trunc(a), trunc(b))

    def _date_trunc(self, node, args):
        unit = self._unit(args[0], "date_trunc")
        return exp.cast(_f("date_trunc", exp.Literal.string(unit), exp.cast(args[1], "TIMESTAMP")), "TIMESTAMP")

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
            return _f("regexp_replace", *args[:3])
        raise self.unsupported("regexp_replace() replacing only the first match", "TRIM")

    def _generate_series(self, node, args):
        """generate_series(a, b, step): inclusive, empty when a > b (Spark's sequence
        raises there). No lambda: Spark refuses a subquery inside a higher-order function,
        and CALENDAR's bounds are often subqueries (MIN(Dim_Date[Date])). Past b it is an
        empty array of the same type: the second item onward of [a]."""
        a, b, step = args
        ascending = exp.LTE(this=_paren(a.copy()), expression=_paren(b.copy()))
        empty = _f("slice", _f("sequence", a.copy(), a.copy(), step.copy()), exp.Literal.number(2),
                   exp.Literal.number(1))
        return _case((ascending, _f("sequence", a, b, step)), default=empty)

    def _unnest(self, node, args):
        return _f("explode", *args)


def _interval(x: exp.Expression) -> bool:
    return isinstance(x, exp.Anonymous) and x.name.lower() in _TO_UNIT


_INT_FUNCS = {"floor", "ceil", "count_if", "row_number", "rank", "dense_rank", "year", "month", "day",
              "length", "instr", "timestampdiff", "datediff", "dayofweek", "size", "sign", "__dax_spark_factorial",
              "__dax_spark_unicode", "__dax_spark_gcd", "__dax_spark_lcm"}
_DOUBLE_FUNCS = {"ln", "exp", "power", "sqrt", "bround", "signum", "tan", "atan", "tanh", "asinh", "acosh", "atanh",
                 "pi", "degrees", "radians", "percentile", "__dax_spark_lgamma", "sin", "cos"}


def _kind(x: exp.Expression) -> str:
    """What a Spark operand is, where the tree says so: int, bool, text, double, decimal or ?."""
    while isinstance(x, exp.Paren):
        x = x.this
    if isinstance(x, exp.Cast):
        t = x.to.this
        if t in _INTEGRAL:
            return "int"
        if t in (exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT):
            return "double"
        if t == exp.DataType.Type.DECIMAL:
            return "decimal"
        if t == exp.DataType.Type.BOOLEAN:
            return "bool"
        if t in (exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT):
            return "text"
        return "?"
    if isinstance(x, exp.Literal):
        if x.is_string:
            return "text"
        return "int" if x.this.lstrip("-").isdigit() else "decimal"
    if isinstance(x, (exp.Boolean, exp.Predicate, exp.Not, exp.And, exp.Or, exp.Is)):
        return "bool"
    if isinstance(x, exp.Subquery) and isinstance(x.this, exp.Select) and len(x.this.expressions) == 1:
        return _kind(x.this.expressions[0])
    if isinstance(x, exp.Alias):
        return _kind(x.this)
    if isinstance(x, (exp.Count,)):
        return "int"
    if isinstance(x, exp.Column) and x.table:
        source = _source_projection(x)
        return _kind(source) if source is not None else "?"
    if isinstance(x, exp.Window):
        return _kind(x.this)
    if isinstance(x, exp.Anonymous) and x.name.lower() in ("min_by", "max_by", "sequence", "slice", "explode"):
        return _kind(x.expressions[0])  # sequence/slice/explode: the kind of the array's items
    if isinstance(x, (exp.Sum, exp.Min, exp.Max)):
        return _kind(x.this)
    if isinstance(x, exp.Div):
        return "double"
    if isinstance(x, exp.Case):
        kinds = {_kind(v) for v in [i.args["true"] for i in x.args.get("ifs", [])] + [x.args.get("default")]
                 if v is not None and not _is_null(v) and not _raises(v)}  # an error has no value
        return kinds.pop() if len(kinds) == 1 else "?"
    if isinstance(x, exp.Anonymous) and x.name.lower() == "element_at" and _is_let(x.expressions[0]):
        return _kind(x.expressions[0].expressions[1].this)  # `_let`: the kind of its body
    if isinstance(x, (exp.Anonymous, exp.Func)) and not isinstance(x, exp.Cast):
        name = (x.name if isinstance(x, exp.Anonymous) else x.sql_name()).lower()
        if name in _INT_FUNCS:
            return "int"
        if name in _DOUBLE_FUNCS:
            return "double"
        if name in ("coalesce", "greatest", "least", "nullif"):
            kinds = {_kind(a) for a in ([x.this] if x.this is not None and isinstance(x.this, exp.Expression) else [])
                     + list(x.expressions) if not _is_null(a)}
            return kinds.pop() if len(kinds) == 1 else "?"
    if isinstance(x, (exp.Add, exp.Sub, exp.Mul)):
        kinds = {_kind(x.this), _kind(x.expression)}
        if kinds == {"int"}:
            return "int"
        if "double" in kinds:
            return "double" if "?" not in kinds else "?"
        return "decimal" if kinds <= {"int", "decimal"} else "?"
    if isinstance(x, exp.Neg):
        return _kind(x.this)
    return "?"


def _nonzero(x: exp.Expression) -> bool:
    """A divisor that is never 0: NULLIF(d, 0) (NULL instead, and NULL / anything is NULL
    on both backends), under casts and parentheses."""
    while isinstance(x, (exp.Paren, exp.Cast)):
        x = x.this
    return isinstance(x, exp.Nullif) and isinstance(x.expression, exp.Literal) and x.expression.this == "0"


def _source_projection(col: exp.Column) -> exp.Expression | None:
    """The projection a column `t.x` reads when `t` is a derived table of an enclosing query
    (the compiler's aliases are unique per statement); None for a base table or unknown."""
    query = col.parent
    while query is not None:
        if isinstance(query, exp.Select):
            sources = [query.args.get(_FROM)] + list(query.args.get("joins") or [])
            for source in sources:
                sub = source.this if source is not None else None
                if isinstance(sub, exp.Subquery) and sub.alias == col.table and isinstance(sub.this, exp.Select):
                    for p in sub.this.expressions:
                        if isinstance(p, exp.Alias) and p.alias == col.name:
                            return p.this
                        if isinstance(p, exp.Column) and p.name == col.name:  # SELECT t.x: named x
                            return p
                    return None
        query = query.parent
    return None


def _generator(x) -> bool:
    return isinstance(x, exp.Anonymous) and x.name.lower() in ("unnest", "explode")


def _is_let(x) -> bool:
    return isinstance(x, exp.Anonymous) and x.name.lower() == "transform" and len(x.expressions) == 2 \
        and isinstance(x.expressions[1], exp.Lambda) and x.expressions[1].expressions[0].name.startswith("__let")


def _raises(x) -> bool:
    return isinstance(x, exp.Anonymous) and x.name.lower() == "raise_error"


def _is_null(x) -> bool:
    return isinstance(x, exp.Null) or (isinstance(x, exp.Cast) and isinstance(x.this, exp.Null))


@lru_cache(maxsize=None)
def _parsed_body(body: str) -> exp.Expression:
    return sqlglot.parse_one(body, read="duckdb")


_FROM = "from_" if "from_" in exp.Select.arg_types else "from"  # renamed in sqlglot 28
_CLAUSES = ("joins", "where", "group", "having", "qualify", "order", "limit", "offset", "distinct", "laterals")

_NODES = {
    exp.Select: SparkRenderer._select,
    exp.Subquery: SparkRenderer._subquery,
    exp.Div: SparkRenderer._div,
    exp.Cast: SparkRenderer._cast,
    exp.Avg: SparkRenderer._avg,
    exp.CTE: SparkRenderer._cte,
    exp.Bracket: SparkRenderer._bracket,
    exp.Table: SparkRenderer._table,
    exp.Create: SparkRenderer._create,
    exp.Drop: SparkRenderer._drop,
    exp.Add: SparkRenderer._add,
    exp.Sub: SparkRenderer._sub,
    exp.Anonymous: SparkRenderer._anonymous,
}

_FUNCS = {
    "round": SparkRenderer._round,
    "error": SparkRenderer._error,
    "concat": SparkRenderer._concat,
    "ln": SparkRenderer._ln,
    "sign": SparkRenderer._sign,
    "trunc": SparkRenderer._trunc,
    "strpos": SparkRenderer._strpos,
    "xor": SparkRenderer._xor,
    "list": SparkRenderer._list,
    "list_sort": SparkRenderer._list_sort,
    "list_sum": SparkRenderer._list_sum,
    "quantile_cont": SparkRenderer._quantile_cont,
    "isodow": SparkRenderer._isodow,
    "dayofweek": SparkRenderer._dayofweek,
    "epoch": SparkRenderer._epoch,
    "date_diff": SparkRenderer._date_diff,
    "date_trunc": SparkRenderer._date_trunc,
    "strftime": SparkRenderer._strftime,
    "regexp_replace": SparkRenderer._regexp_replace,
    "generate_series": SparkRenderer._generate_series,
    "unnest": SparkRenderer._unnest,
}


def refused_functions() -> list[str]:
    """The DuckDB functions this renderer refuses outright (docs/spark.md lists them)."""
    return ["list", "strptime", "try_strptime", "to_* intervals outside date ± interval",
            "regexp_replace (first match only)", "trunc(x, n)", "strftime with literal letters"]
