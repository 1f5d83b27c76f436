"""The DuckDB renderer computes a scalar subquery repeated in one SELECT once
(generator/engine/render/scalar_reuse.py): a DAX VAR is evaluated once where it is
defined (https://learn.microsoft.com/en-us/dax/var-dax), the compiler inlines its value
at every use, and the rewrite must keep every value while running each copy once."""
from __future__ import annotations

import duckdb
import sqlglot

from generator.engine.render.scalar_reuse import reuse_scalar_subqueries

# orders per customer: 1 → 10 + 5, 2 → 20, 3 → none
SETUP = """
CREATE TABLE c AS SELECT * FROM (VALUES (1), (2), (3)) v(k);
CREATE TABLE o AS SELECT * FROM (VALUES (1, 10), (1, 5), (2, 20)) v(k, x);
"""
SUB = "(SELECT SUM(o.x) FROM o WHERE o.k = c.k)"


def _con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(SETUP)
    return con


def _rewrite(sql: str) -> str:
    return reuse_scalar_subqueries(sqlglot.parse_one(sql, read="duckdb")).sql("duckdb")


def test_repeated_correlated_subquery_runs_once_with_the_same_values():
    sql = (f"SELECT c.k, {SUB} AS total, CASE WHEN {SUB} IS NULL THEN 0 ELSE {SUB} * 2 END AS doubled "
           "FROM c ORDER BY c.k")
    out = _rewrite(sql)
    assert out.count("SUM(o.x)") == 1, out
    assert "LATERAL" in out
    # by hand: customer 1 → 15 and 30, customer 2 → 20 and 40, customer 3 → NULL and 0
    assert _con().execute(out).fetchall() == [(1, 15, 30), (2, 20, 40), (3, None, 0)]


def test_a_repeat_inside_a_repeat_reads_the_inner_one_once():
    inner = SUB
    outer = f"(SELECT {inner} + 1)"
    sql = f"SELECT c.k, {outer} AS a, {outer} * 10 AS b, {inner} AS c FROM c ORDER BY c.k"
    out = _rewrite(sql)
    assert out.count("SUM(o.x)") == 1, out
    # by hand: 1 → 16, 160, 15; 2 → 21, 210, 20; 3 → NULL (NULL + 1), NULL, NULL
    assert _con().execute(out).fetchall() == [(1, 16, 160, 15), (2, 21, 210, 20), (3, None, None, None)]


def test_a_grouping_select_is_left_alone():
    sql = f"SELECT c.k, {SUB} AS a, {SUB} AS b FROM c GROUP BY c.k"
    assert _rewrite(sql) == sqlglot.parse_one(sql, read="duckdb").sql("duckdb")


def test_a_subquery_correlated_with_an_inner_scope_stays_in_place():
    # the repeated subquery reads d, a FROM item of the derived table, not of the outer SELECT
    sql = f"SELECT d.k FROM (SELECT c.k, {SUB} AS a, {SUB} AS b FROM c) AS d"
    out = _rewrite(sql)
    # the inner SELECT (FROM c) is where the repeat is hoisted; the outer one has none
    assert out.count("SUM(o.x)") == 1
    assert sorted(_con().execute(out).fetchall()) == [(1,), (2,), (3,)]


def test_a_single_use_is_untouched():
    sql = f"SELECT c.k, {SUB} AS a FROM c"
    assert _rewrite(sql) == sqlglot.parse_one(sql, read="duckdb").sql("duckdb")
