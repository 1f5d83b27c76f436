"""What kind of value a Spark operand is (int, bool, text, double, decimal or ? for not
visible in the tree). The DuckDB-exact rewrites depend on it: a cast to an integer rounds
as DuckDB does only when the operand's kind is known (render/spark.py `_cast`), and
round(x, n) differs between DOUBLE and DECIMAL (render/spark_functions.py `_round`).
"""
from __future__ import annotations

from sqlglot import exp

from generator.engine.render.spark_exprs import FROM, is_let

INTEGRAL = {exp.DataType.Type.TINYINT, exp.DataType.Type.SMALLINT, exp.DataType.Type.INT,
            exp.DataType.Type.BIGINT}
_INT_FUNCS = {"floor", "ceil", "count_if", "row_number", "rank", "dense_rank", "year", "month", "day",
              "length", "instr", "timestampdiff", "datediff", "dayofweek", "size", "sign", "__dax_spark_factorial",
              "__dax_spark_unicode", "__dax_spark_gcd", "__dax_spark_lcm"}
_DOUBLE_FUNCS = {"ln", "exp", "power", "sqrt", "bround", "signum", "tan", "atan", "tanh", "asinh", "acosh", "atanh",
                 "pi", "degrees", "radians", "percentile", "__dax_spark_lgamma", "sin", "cos"}


def kind_of(x: exp.Expression) -> str:
    """What a Spark operand is, where the tree says so: int, bool, text, double, decimal or ?."""
    while isinstance(x, exp.Paren):
        x = x.this
    if isinstance(x, exp.Cast):
        t = x.to.this
        if t in INTEGRAL:
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
        return kind_of(x.this.expressions[0])
    if isinstance(x, exp.Alias):
        return kind_of(x.this)
    if isinstance(x, (exp.Count,)):
        return "int"
    if isinstance(x, exp.Column) and x.table:
        source = source_projection(x)
        return kind_of(source) if source is not None else "?"
    if isinstance(x, exp.Window):
        return kind_of(x.this)
    if isinstance(x, exp.Anonymous) and x.name.lower() in ("min_by", "max_by", "sequence", "slice", "explode"):
        return kind_of(x.expressions[0])  # sequence/slice/explode: the kind of the array's items
    if isinstance(x, (exp.Sum, exp.Min, exp.Max)):
        return kind_of(x.this)
    if isinstance(x, exp.Div):
        return "double"
    if isinstance(x, exp.Case):
        kinds = {kind_of(v) for v in [i.args["true"] for i in x.args.get("ifs", [])] + [x.args.get("default")]
                 if v is not None and not is_null(v) and not raises(v)}  # an error has no value
        return kinds.pop() if len(kinds) == 1 else "?"
    if isinstance(x, exp.Anonymous) and x.name.lower() == "element_at" and is_let(x.expressions[0]):
        return kind_of(x.expressions[0].expressions[1].this)  # `_let`: the kind of its body
    if isinstance(x, (exp.Anonymous, exp.Func)) and not isinstance(x, exp.Cast):
        name = (x.name if isinstance(x, exp.Anonymous) else x.sql_name()).lower()
        if name in _INT_FUNCS:
            return "int"
        if name in _DOUBLE_FUNCS:
            return "double"
        if name in ("coalesce", "greatest", "least", "nullif"):
            kinds = {kind_of(a) for a in ([x.this] if x.this is not None and isinstance(x.this, exp.Expression) else [])
                     + list(x.expressions) if not is_null(a)}
            return kinds.pop() if len(kinds) == 1 else "?"
    if isinstance(x, (exp.Add, exp.Sub, exp.Mul)):
        kinds = {kind_of(x.this), kind_of(x.expression)}
        if kinds == {"int"}:
            return "int"
        if "double" in kinds:
            return "double" if "?" not in kinds else "?"
        return "decimal" if kinds <= {"int", "decimal"} else "?"
    if isinstance(x, exp.Neg):
        return kind_of(x.this)
    return "?"


def nonzero(x: exp.Expression) -> bool:
    """A divisor that is never 0: NULLIF(d, 0) (NULL instead, and NULL / anything is NULL
    on both backends), under casts and parentheses."""
    while isinstance(x, (exp.Paren, exp.Cast)):
        x = x.this
    return isinstance(x, exp.Nullif) and isinstance(x.expression, exp.Literal) and x.expression.this == "0"


def source_projection(col: exp.Column) -> exp.Expression | None:
    """The projection a column `t.x` reads when `t` is a derived table of an enclosing query
    (the compiler's aliases are unique per statement); None for a base table or unknown."""
    query = col.parent
    while query is not None:
        if isinstance(query, exp.Select):
            sources = [query.args.get(FROM)] + list(query.args.get("joins") or [])
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


def raises(x) -> bool:
    return isinstance(x, exp.Anonymous) and x.name.lower() == "raise_error"


def is_null(x) -> bool:
    return isinstance(x, exp.Null) or (isinstance(x, exp.Cast) and isinstance(x.this, exp.Null))
