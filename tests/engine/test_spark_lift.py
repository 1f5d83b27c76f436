"""render/spark_lift.py: outer references carried to within one subquery level, rows unchanged.

Spark resolves a correlated column only from the query just around a subquery expression
(its UNRESOLVED_COLUMN error otherwise); DuckDB resolves any depth. So the lift is checked
without Spark, on DuckDB: for each nested shape, the compiled statement is run as compiled
and again after the lift alone (DuckDB's own spelling), and the two must give the same rows;
the lifted tree must hold no reference deeper than one level, and the compiled one must
have held one (so each case exercises the lift). The values themselves are the hand-worked
ones of test_conformance.py (these are its shapes); test_spark_backend.py runs them on Spark.
"""
from __future__ import annotations

import pytest
from sqlglot import exp, parse_one

from generator.engine.render import renderer
from generator.engine.render.spark import SparkRenderer
from generator.engine.render.spark_lift import lift_outer_references, too_deep_references
from generator.engine.sql import parenthesize
from tests.engine import test_conformance as conf

NESTED = [
    # a row context (ADDCOLUMNS over cities) around an iterator whose CALCULATE reads the city
    'EVALUATE ADDCOLUMNS(VALUES(Customer[City]), "x", SUMX(VALUES(Customer[Name]), '
    'CALCULATE(SUM(Sales[Amount]), ALL(Customer[Name]))))',
    'EVALUATE ADDCOLUMNS(VALUES(Customer[City]), "x", SUMX(CALCULATETABLE(VALUES(Customer[Name])), '
    'CALCULATE([Amt], ALL(Customer[Name]))))',
    # FILTER over VALUES with CALCULATE, inside CALCULATE
    'EVALUATE ROW("x", CALCULATE([Amt], FILTER(VALUES(Customer[Name]), CALCULATE([Amt], ALL(Customer)) > 50)))',
    # CROSSFILTER per row: an EXISTS inside the row's scalar subquery
    'EVALUATE ADDCOLUMNS(VALUES(Sales[Promo]), "x", CALCULATE(COUNTROWS(Customer), '
    'CROSSFILTER(Sales[CustomerID], Customer[ID], BOTH)))',
    # time intelligence per iterated year
    "EVALUATE ROW(\"x\", SUMX(VALUES('Date'[Year]), CALCULATE([Sales], SAMEPERIODLASTYEAR('Date'[Date]))))",
    'EVALUATE ADDCOLUMNS(VALUES(Customer[City]), "x", CALCULATE([Sales], CALCULATETABLE(VALUES(Customer[City]))))',
]


def _duckdb(**tables: str):
    """A DuckDB connection holding each table from a VALUES list: name="(1, 5), (2, 3) | k, v"."""
    import duckdb

    con = duckdb.connect()
    for name, spec in tables.items():
        rows, columns = spec.split(" | ")
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM (VALUES {rows}) v({columns})")
    return con


@pytest.fixture(scope="module")
def eng():
    e = conf.make_engine("cte")  # Spark has no cross-query scan cache: compile as it does
    return e


def _rows(eng, statement: exp.Expression) -> list[tuple]:
    sql = renderer("duckdb").render(parenthesize(statement))
    return sorted(eng.backend.arrow([], sql).to_pylist(), key=repr)


@pytest.mark.parametrize("dax", NESTED)
def test_lifted_statement_gives_the_same_rows_and_nests_one_level(eng, dax):
    (compiled,) = eng.compile(dax)
    assert not compiled.prelude
    spark_tree = SparkRenderer().prepare(parenthesize(compiled.sql).copy())
    assert too_deep_references(spark_tree) == []  # prepare() lifted them
    plain = compiled.sql.copy()
    assert too_deep_references(plain), "the shape no longer nests: the case tests nothing"
    lifted = lift_outer_references(compiled.sql.copy())
    assert too_deep_references(lifted) == []
    assert _rows(eng, lifted) == _rows(eng, plain)


def test_the_share_of_the_city_total_per_name_is_hand_worked(eng):
    """Four names in two cities (conformance fixture): Oslo's orders sum to 60, Rome's to
    40; a row context filters nothing, so SUMX over VALUES(Name) in a city row counts all
    four names, each seeing its city's total once ALL(Name) removes the name: 4 × 60 = 240,
    4 × 40 = 160 — on the lifted SQL too."""
    dax = NESTED[0]
    (compiled,) = eng.compile(dax)
    lifted = lift_outer_references(compiled.sql.copy())
    rows = {r["c0"] if "c0" in r else list(r.values())[0]: list(r.values())[-1] for r in
            eng.backend.arrow([], renderer("duckdb").render(parenthesize(lifted))).to_pylist()}
    assert {k: float(v) for k, v in rows.items()} == {"Oslo": 240.0, "Rome": 160.0}


def test_a_hand_written_two_level_reference_is_carried_through_the_from_source():
    """SELECT t.k, (SELECT SUM((SELECT MAX(s.v) FROM s WHERE s.k = t.k)) FROM u) FROM t:
    t.k sits two subquery levels below t. After the lift, u carries it as a column and the
    inner subquery reads u's: one level each."""
    sql = ("SELECT t.k, (SELECT SUM((SELECT MAX(s.v) FROM s AS s WHERE s.k = t.k)) FROM u AS u) AS x "
           "FROM t AS t")
    tree = parse_one(sql, read="duckdb")
    assert [c.sql() for c in too_deep_references(tree)] == ["t.k"]
    lifted = lift_outer_references(tree)
    assert lifted.sql("duckdb") == (
        "SELECT t.k, (SELECT SUM((SELECT MAX(s.v) FROM s AS s WHERE s.k = u.__outer1)) "
        "FROM (SELECT u.*, t.k AS __outer1 FROM u AS u) AS u) AS x FROM t AS t")
    assert too_deep_references(lifted) == []


def test_the_lift_runs_on_duckdb_with_the_same_rows_as_the_nested_query():
    """Hand-worked: t = {1, 2}; u has three rows; s = {(1, 5), (1, 7), (2, 3)}. For k = 1 the
    inner MAX is 7 on each of u's three rows: 21; for k = 2 it is 3: 9."""
    con = _duckdb(t="(1), (2) | k", u="(10), (20), (30) | z", s="(1, 5), (1, 7), (2, 3) | k, v")
    sql = ("SELECT t.k, (SELECT SUM((SELECT MAX(s.v) FROM s AS s WHERE s.k = t.k)) FROM u AS u) AS x "
           "FROM t AS t ORDER BY t.k")
    lifted = lift_outer_references(parse_one(sql, read="duckdb")).sql("duckdb")
    assert con.execute(sql).fetchall() == con.execute(lifted).fetchall() == [(1, 21), (2, 9)]


def test_a_select_projecting_star_is_left_for_spark_to_refuse():
    """Carrying a column into a source of `SELECT *` would add it to the result: not lifted."""
    sql = ("SELECT t.k, (SELECT SUM(w.m) FROM (SELECT *, (SELECT MAX(s.v) FROM s AS s WHERE s.k = t.k) AS m "
           "FROM u AS u) AS w) AS x FROM t AS t")
    tree = parse_one(sql, read="duckdb")
    before = tree.sql("duckdb")
    assert [c.sql() for c in too_deep_references(tree)] == ["t.k"]
    assert lift_outer_references(tree).sql("duckdb") == before


def test_an_outer_value_in_an_aggregating_projection_moves_above_the_aggregate():
    """SELECTEDVALUE's alternate result is an outer value in an aggregate's projection,
    `CASE WHEN COUNT(*) = 1 THEN MAX(v) ELSE <outer> END`, which Spark refuses ("not
    supported outside of WHERE/HAVING clauses"). The aggregates move into a derived table.
    Hand-worked: t = {1, 2, 3}; s = {(1, 5), (1, 7), (2, 6)} filtered to v > 4: k = 1 has two
    values, the alternate 1 × 100; k = 2 one value, 6; k = 3 none (COUNT 0 over the one row
    an aggregate without GROUP BY gives), the alternate 300 — before and after the lift."""
    con = _duckdb(t="(1), (2), (3) | k", u="(10), (20) | z", s="(1, 5), (1, 7), (2, 6) | k, v")
    sql = ("SELECT t.k, (SELECT (SELECT CASE WHEN COUNT(*) = 1 THEN MAX(s.v) ELSE t.k * 100 END "
           "FROM s AS s WHERE s.k = t.k AND s.v > 4) FROM u AS u LIMIT 1) AS x FROM t AS t ORDER BY t.k")
    lifted = lift_outer_references(parse_one(sql, read="duckdb"))
    assert lifted.sql("duckdb") == (
        "SELECT t.k, (SELECT (SELECT CASE WHEN __outer2_agg.__outer2_agg1 = 1 THEN __outer2_agg.__outer2_agg2 "
        "ELSE u.__outer1 * 100 END FROM (SELECT COUNT(*) AS __outer2_agg1, MAX(s.v) AS __outer2_agg2 "
        "FROM s AS s WHERE s.k = u.__outer1 AND s.v > 4) AS __outer2_agg) "
        "FROM (SELECT u.*, t.k AS __outer1 FROM u AS u) AS u LIMIT 1) AS x FROM t AS t ORDER BY t.k")
    assert con.execute(sql).fetchall() == con.execute(lifted.sql("duckdb")).fetchall() == [(1, 100), (2, 6), (3, 300)]


def test_a_grouped_aggregate_keeps_its_groups_when_the_outer_value_moves_out():
    """Per group g of s, SUM(v) + the outer k: k = 1 → groups a (5 + 7 = 12) and b (6):
    13, 7; the same rows after the aggregate moved into a derived table."""
    con = _duckdb(t="(1) | k", s="('a', 5), ('a', 7), ('b', 6) | g, v")
    sql = ("SELECT t.k, (SELECT LIST(x ORDER BY x) FROM (SELECT s.g, SUM(s.v) + t.k AS x FROM s AS s GROUP BY s.g) AS w) "
           "FROM t AS t")
    lifted = lift_outer_references(parse_one(sql, read="duckdb")).sql("duckdb")
    assert "GROUP BY s.g) AS __outer1_agg" in lifted
    assert con.execute(sql).fetchall() == con.execute(lifted).fetchall() == [(1, [7, 13])]
