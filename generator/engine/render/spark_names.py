"""The Spark renderer's name tables: the DuckDB functions Spark has under the same name with
the same results, the units of dates and intervals, and which DAX functions emit a DuckDB
function (for the refusal message). Data only: the rewrites live in render/spark.py and
render/spark_functions.py.
"""
from __future__ import annotations

from sqlglot import exp

# DuckDB functions Spark has under the same name with the same results
SAME = {"coalesce", "lower", "upper", "exp", "abs", "power", "sqrt", "floor", "ceil", "tan", "atan", "tanh",
         "asinh", "acosh", "atanh", "degrees", "radians", "pi", "greatest", "least", "nullif", "replace", "left",
         "right", "repeat", "trim", "rtrim", "ltrim", "length", "count_if", "product", "make_date", "last_day",
         "year", "month", "day", "row_number", "rank", "dense_rank", "substr", "mod", "sin", "cos", "asin", "acos",
         "atan2", "isnan"}

# units of DuckDB's date_diff/date_trunc and the interval constructors
UNIT = {"microsecond": "MICROSECOND", "millisecond": "MILLISECOND", "second": "SECOND", "minute": "MINUTE",
         "hour": "HOUR", "day": "DAY", "week": "WEEK", "month": "MONTH", "quarter": "QUARTER", "year": "YEAR"}
TO_UNIT = {"to_microseconds": "MICROSECOND", "to_seconds": "SECOND", "to_days": "DAY", "to_months": "MONTH",
            "to_years": "YEAR"}

# which DAX functions emit a DuckDB function, for the refusal message
USED_BY = {"strptime": "TIMEVALUE", "try_strptime": "DATEVALUE", "regexp_replace": "TRIM", "list": "PERCENTILE/MEDIAN",
           "to_seconds": "TIME/TIMEVALUE", "strftime": "FORMAT"}


def is_interval(x: exp.Expression) -> bool:
    return isinstance(x, exp.Anonymous) and x.name.lower() in TO_UNIT
