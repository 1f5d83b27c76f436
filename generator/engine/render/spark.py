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

The pieces: the rewrites of typed nodes are here; the DuckDB functions in spark_functions.py
(its name tables in spark_names.py, its Python UDFs in spark_udfs.py); the operand kinds the
exact casts and rounding need in spark_kinds.py; node builders and the lambda binding of
repeated operands in spark_exprs.py.

Anything left unknown is refused (`Renderer.unsupported`): a compile error naming the SQL
function, the DAX functions that emit it and the backend — never a different number.
Text comparison needs nothing here: the compiler already lower-cases both sides
(Power BI's case-insensitive collation, dax-semantics.md §1.2).
"""
from __future__ import annotations

from sqlglot import exp

from generator.engine.render.base import Renderer
from generator.engine.render.spark_exprs import (CLAUSES, DOUBLE, FROM, call, case, inf, is_generator, let, nan,
                                                 paren, to_double)
from generator.engine.render.spark_functions import SparkFunctions
from generator.engine.render.spark_lift import lift_outer_references
from generator.engine.render.spark_kinds import INTEGRAL, kind_of, nonzero
from generator.engine.render.spark_names import TO_UNIT, USED_BY, is_interval
from generator.engine.render.spark_udfs import SPARK_UDFS

__all__ = ["SPARK_UDFS", "USED_BY", "SparkRenderer", "refused_functions"]


class SparkRenderer(SparkFunctions, Renderer):
    backend = "spark"
    dialect = "spark"

    def render(self, statement: exp.Expression) -> str:
        """The statement's Spark SQL, from a copy: the rewrites below replace nodes in the
        tree they walk (and a second pass over a rewritten tree would see Spark's functions
        as unknown DuckDB ones and refuse them, or rewrite them twice), so the caller's tree
        is left as it was and rendering it again gives the same SQL."""
        return self.prepare(statement.copy()).sql(self.dialect, copy=False)

    def prepare(self, statement: exp.Expression) -> exp.Expression:
        """Rewrites `statement` in place (render() gives it a copy)."""
        self._lets = 0  # lambda variables of `_let`, numbered per statement (the same SQL every time)
        out = self._rewrite(statement)
        for node in list(out.find_all(exp.Anonymous)):
            if node.name.lower() == "explode":
                self._lift_generator(node)
        out = lift_outer_references(out)
        for node in out.find_all(exp.Anonymous):
            if is_interval(node):  # left by `_shift`: not an operand of date ± interval
                raise self.unsupported(f"the interval {node.name}() outside date ± interval",
                                       USED_BY.get(node.name.lower(), ""))
        return out

    def _lift_generator(self, node: exp.Anonymous) -> None:
        """DuckDB's unnest may sit inside an expression (CAST(unnest(l) AS DATE)); Spark's
        explode must be the whole projection: E(explode(l)) → explode(transform(l, u -> E(u))),
        the same rows (E reads only the item and the row). Where E is only casts, the list is
        cast instead (Spark casts an array item by item): explode(CAST(l AS ARRAY<T>)), which
        also takes a list holding a subquery (DATEADD by a measure's number of months), where
        Spark refuses the lambda."""
        top = node
        while isinstance(top.parent, exp.Expression) and not isinstance(top.parent, (exp.Alias, exp.Select)):
            top = top.parent
        if top is node:
            return
        (items,) = node.expressions
        chain, link = [], node.parent
        while isinstance(link, exp.Cast) and link.this is (chain[-1] if chain else node):
            chain.append(link)
            if link is top:  # E is casts only: cast the list instead, no lambda (DATEADD's dates)
                for cast in chain:
                    items = exp.Cast(this=items, to=exp.DataType(this=exp.DataType.Type.ARRAY,
                                                                 expressions=[cast.to.copy()], nested=True))
                top.replace(call("explode", items))
                return
            link = link.parent
        if any(isinstance(n, (exp.Subquery, exp.Select, exp.AggFunc, exp.Window)) for n in top.walk()):
            raise self.unsupported("unnest() inside an expression with a subquery or an aggregate")
        var = exp.to_identifier(self._let_name().replace("let", "item"))
        node.replace(exp.column(var.copy()))
        body = top.copy()
        top.replace(call("explode", call("transform", items, exp.Lambda(this=body, expressions=[var]))))

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
            quotient = exp.Div(this=paren(a), expression=paren(b))
            at_zero = case((exp.GT(this=a.copy(), expression=exp.Literal.number(0)), inf()),
                            (exp.LT(this=a.copy(), expression=exp.Literal.number(0)), inf("-")),
                            (a.copy().is_(exp.null()), exp.cast(exp.null(), DOUBLE)), default=nan())
            return exp.Paren(this=case((exp.EQ(this=b.copy(), expression=exp.Literal.number(0)), at_zero),
                                        default=quotient))

        if nonzero(node.expression):  # DIVIDE's quotient: its CASE has taken the zero divisor
            return exp.Paren(this=exp.Div(this=paren(to_double(node.this)),
                                          expression=paren(to_double(node.expression))))
        return let(self._let_name(), [to_double(node.this), to_double(node.expression)], ieee)

    def _cast(self, node: exp.Cast) -> exp.Expression:
        """DuckDB rounds when casting to an integer (DOUBLE half to even, DECIMAL half away
        from zero); Spark truncates. Operands known to be integral pass through; others
        get DuckDB's rounding made explicit, or a runtime error if the kind is unknown and
        the value has a fraction (never a truncated number)."""
        if node.to.this not in INTEGRAL:
            return node
        x = node.this
        kind = kind_of(x)
        if kind in ("int", "bool", "text"):
            return node
        if kind == "double":
            node.set("this", call("bround", x))
        elif kind == "decimal":
            node.set("this", call("round", x))
        else:
            def whole(v):
                fraction = exp.NEQ(this=exp.cast(v.copy(), DOUBLE),
                                   expression=call("floor", exp.cast(v.copy(), DOUBLE)))
                return case((fraction, call("raise_error", exp.Literal.string(
                    "a value with a fraction reached an integer conversion the spark backend cannot round "
                    "as DuckDB does; run this query on the duckdb backend"))), default=v)

            node.set("this", let(self._let_name(), [x], whole))
        return node

    def _avg(self, node: exp.Avg) -> exp.Expression:
        """DuckDB's AVG of integers and DECIMALs is DOUBLE (Spark: DECIMAL of wider scale)."""
        node.set("this", to_double(node.this))
        return node

    def _window(self, node: exp.Window) -> exp.Expression:
        """DuckDB numbers rows of an unordered window (`row_number() OVER ()`, the decorrelated
        outer rows' ids) in no particular order; Spark requires an ORDER BY. Ordering by
        monotonically_increasing_id() gives the same guarantee: a permutation of 1..n."""
        if isinstance(node.this, exp.RowNumber) and not node.args.get("order"):
            node.set("order", exp.Order(expressions=[exp.Ordered(this=call("monotonically_increasing_id"))]))
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
        source = node.args.get(FROM)
        if source is None or any(node.args.get(k) for k in CLAUSES):
            return node
        sub = source.this
        if not (isinstance(sub, exp.Subquery) and isinstance(sub.this, exp.Select) and sub.alias):
            return node
        inner = sub.this
        if inner.args.get(FROM) is not None or any(inner.args.get(k) for k in CLAUSES + ("with",)):
            return node
        if any(is_generator(n) for p in inner.expressions for n in p.walk()):
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
                col.replace(paren(values[col.name].copy()))
            elif col.table == sub.alias:
                return node
        node.set(FROM, None)
        return node

    def _asof(self, node: exp.Select) -> exp.Expression:
        """The compiler's one ASOF join (RANKX looking a value up among counted values):
        SELECT c.v FROM (SELECT e AS b) AS q ASOF LEFT JOIN c ON q.b <= c.a takes the row
        with the least a >= e (`>=`: the greatest a <= e), NULL without one. Spark has no
        ASOF join: the same row is min_by(c.v, c.a) over the rows where e <= c.a (`a` is
        unique there: the values are grouped), an aggregate, so NULL over no rows."""
        joins = node.args.get("joins") or []
        source = node.args.get(FROM)
        shape = (len(joins) == 1 and len(node.expressions) == 1 and source is not None
                 and not any(node.args.get(k) for k in CLAUSES if k != "joins"))
        if shape:
            join, sub, out = joins[0], source.this, node.expressions[0]
            on = join.args.get("on")
            inner = sub.this if isinstance(sub, exp.Subquery) else None
            method, side = (join.args.get("method") or "").upper(), (join.args.get("side") or "").upper()
            shape = (method == "ASOF" and side == "LEFT"
                     and isinstance(on, (exp.LTE, exp.GTE)) and isinstance(out, exp.Column)
                     and isinstance(inner, exp.Select) and inner.args.get(FROM) is None
                     and len(inner.expressions) == 1 and isinstance(inner.expressions[0], exp.Alias)
                     and isinstance(on.this, exp.Column) and on.this.table == sub.alias
                     and on.this.name == inner.expressions[0].alias and isinstance(on.expression, exp.Column)
                     and on.expression.table == join.this.alias == out.table)
        if not shape:
            raise self.unsupported("this ASOF join", "RANKX")
        value = inner.expressions[0].this
        pick = "min_by" if isinstance(on, exp.LTE) else "max_by"
        cond = type(on)(this=paren(value.copy()), expression=on.expression.copy())
        return exp.select(call(pick, out.copy(), on.expression.copy())).from_(join.this.copy()).where(cond)

    def _subquery(self, node: exp.Subquery) -> exp.Expression:
        """A scalar (SELECT e), with no FROM, is e; a projection `(SELECT e) AS n` is `(e) AS n`
        (the same value: one more query level would put the outer row out of Spark's reach)."""
        inner = node.this
        if not isinstance(inner, exp.Select) or inner.args.get(FROM) is not None \
                or len(inner.expressions) != 1 or any(inner.args.get(k) for k in CLAUSES + ("with",)):
            return node
        if isinstance(node.parent, (exp.From, exp.Join, exp.Lateral)):
            return node
        value = inner.expressions[0]
        value = exp.Paren(this=value.this if isinstance(value, exp.Alias) else value)
        if not node.alias:
            return value
        if isinstance(node.parent, exp.Select) and node.arg_key == "expressions":
            return exp.alias_(value, node.alias)
        return node

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
            nonempty = exp.LT(this=paren(a.copy()), expression=paren(b.copy()))
            first = exp.cast(a.copy(), "BIGINT")  # typed items: `_kind` sees BIGINT through explode
            empty = call("slice", call("sequence", first, first.copy()), exp.Literal.number(2), exp.Literal.number(1))
            last = exp.cast(exp.Sub(this=paren(b.copy()), expression=exp.Literal.number(1)), "BIGINT")
            return case((nonempty, call("sequence", first.copy(), last)), default=empty)

        bounds = [exp.cast(a, "BIGINT") for a in args]
        items = call("explode", let(self._let_name(), bounds, rows))
        alias = node.args.get("alias")
        return exp.select(exp.alias_(items, "range")).subquery(alias.copy() if alias else "range")

    def _bracket(self, node: exp.Bracket) -> exp.Expression:
        """DuckDB list[i] (1-based; NULL out of range) → try_element_at."""
        (i,) = node.expressions
        return call("try_element_at", node.this, i)

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
        if not is_interval(interval) and sign == 1 and is_interval(other):
            other, interval = interval, other
        if not is_interval(interval):
            return node
        unit = TO_UNIT[interval.name.lower()]
        (n,) = interval.expressions
        if sign < 0:
            n = exp.Neg(this=paren(n))
        if unit == "SECOND":  # DuckDB to_seconds takes a fraction: add microseconds
            n = exp.cast(call("round", exp.Mul(this=paren(n), expression=exp.Literal.number(1000000))), "BIGINT")
            unit = "MICROSECOND"
        return call("timestampadd", exp.var(unit), n, exp.cast(other, "TIMESTAMP"))


_NODES = {
    exp.Select: SparkRenderer._select,
    exp.Subquery: SparkRenderer._subquery,
    exp.Div: SparkRenderer._div,
    exp.Cast: SparkRenderer._cast,
    exp.Avg: SparkRenderer._avg,
    exp.CTE: SparkRenderer._cte,
    exp.Window: SparkRenderer._window,
    exp.Bracket: SparkRenderer._bracket,
    exp.Table: SparkRenderer._table,
    exp.Create: SparkRenderer._create,
    exp.Drop: SparkRenderer._drop,
    exp.Add: SparkRenderer._add,
    exp.Sub: SparkRenderer._sub,
    exp.Anonymous: SparkRenderer._anonymous,
}


def refused_functions() -> list[str]:
    """The DuckDB functions this renderer refuses outright (docs/spark.md lists them)."""
    return ["list", "strptime", "try_strptime", "to_* intervals outside date ± interval",
            "regexp_replace (first match only)", "trunc(x, n)", "strftime with literal letters"]
