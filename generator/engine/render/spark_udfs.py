"""The Python UDFs of the Spark backend: DuckDB functions with no exact Spark built-in
(printf/format, lgamma, gcd/lcm, factorial, chr, unicode, round of a DOUBLE). The Spark
runtime (backends/spark.py) registers `SPARK_UDFS` on its session; the renderer rewrites a
DuckDB call of `UDF_OF`'s names to its UDF. Python's `%`-format and `str.format` are C
printf's and fmt's rules, as DuckDB's printf/format.
"""
from __future__ import annotations

import math
from typing import Callable

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

UDF_OF = {"printf": "__dax_spark_printf", "format": "__dax_spark_format", "factorial": "__dax_spark_factorial",
           "unicode": "__dax_spark_unicode", "gcd": "__dax_spark_gcd", "lcm": "__dax_spark_lcm",
           "lgamma": "__dax_spark_lgamma", "chr": "__dax_spark_chr"}
