"""Leaves over the same rows share one scan (generator/engine/optimizer/scan_sharing.py), and large
result columns convert without Python loops; neither may change a value. Expected values
are hand-worked on the reference model (Ann: orders of 10 and 20, Bob: 30, both Oslo;
Cid: 40, Rome; Dan: no orders)."""
from __future__ import annotations

import random
from decimal import Decimal

import pandas as pd
import pyarrow as pa

from generator.engine.runtime.results import _NATIVE, convert
from generator.engine.types import DaxType
from tests.engine.fixtures import engine, measure

REPEAT = measure("Repeat", "COUNTROWS(FILTER(VALUES(Sales[CustomerID]), CALCULATE(COUNTROWS(Sales)) > 1))")


def test_subtotal_levels_share_the_fact_scan():
    e = engine(REPEAT)
    dax = """EVALUATE SUMMARIZECOLUMNS(ROLLUPADDISSUBTOTAL(Customer[City], "T"),
        "S", [Sales], "C", DISTINCTCOUNT(Sales[CustomerID]), "R", [Repeat], "N", [Orders])
    ORDER BY Customer[City]"""
    got = [tuple(r) for r in e.query(dax).itertuples(index=False, name=None)]
    # Oslo: 10 + 20 + 30, Ann and Bob, Ann has 2 orders; Rome: Cid once (no repeat customer: BLANK)
    assert got == [(None, True, 100, 3, 1, 4), ("Oslo", False, 60, 2, 1, 3), ("Rome", False, 40, 1, None, 1)]
    sql = e.last_sql
    # every level (cells and per-customer groupings, City level and total) re-aggregates one
    # per-customer scan of Sales; Customer is joined to the grouped rows, not to the fact rows
    assert sql.startswith("CREATE TEMPORARY TABLE __pbi_forge_se1 AS")
    assert sql.count('FROM "Sales"') == 1
    assert sql.count('JOIN "Customer"') == 1
    # without the cross-query cache: the same plan as one statement with a MATERIALIZED CTE
    e.scan_cache = None
    assert [tuple(r) for r in e.query(dax).itertuples(index=False, name=None)] == got
    assert e.last_sql.startswith("WITH __scan1 AS MATERIALIZED") and e.last_sql.count('FROM "Sales"') == 1


def test_distinct_count_of_a_group_key_needs_no_distinct():
    e = engine()
    dax = 'EVALUATE SUMMARIZECOLUMNS(Sales[CustomerID], "C", DISTINCTCOUNT(Sales[CustomerID])) ORDER BY Sales[CustomerID]'
    got = [tuple(r) for r in e.query(dax).itertuples(index=False, name=None)]
    assert got == [(1, 1), (2, 1), (3, 1)]
    assert "DISTINCT" not in e.last_sql.upper().replace("IS NOT DISTINCT FROM", "")


def test_orphan_fact_key_counts_as_one_blank_customer():
    # the orphan order (customer 9, no Customer row) groups under a BLANK City; its
    # customer key is not blank, so DISTINCTCOUNT counts it
    e = engine(REPEAT, orphan=True)
    dax = """EVALUATE SUMMARIZECOLUMNS(ROLLUPADDISSUBTOTAL(Customer[City], "T"), "C", DISTINCTCOUNT(Sales[CustomerID]),
        "S", [Sales]) ORDER BY Customer[City], [T] DESC"""
    got = [tuple(r) for r in e.query(dax).itertuples(index=False, name=None)]
    assert got == [(None, True, 4, 105), (None, False, 1, 5), ("Oslo", False, 2, 60), ("Rome", False, 1, 40)]


def _slow(column, t):
    values = [float(v) if isinstance(v, Decimal) else v for v in column.to_pylist()]
    blank = any(v is None for v in values)
    return pd.Series(values, dtype="object" if blank or t not in _NATIVE else _NATIVE[t])


def test_fast_column_conversion_is_identical():
    rnd = random.Random(7)
    values = [Decimal(rnd.randint(-10 ** 15, 10 ** 15)) / Decimal(10 ** 4) for _ in range(5000)]
    values += [Decimal("0.1"), Decimal("-0.0001"), Decimal("25041257.3173")]
    for data in (values, values + [None]):
        arr = pa.array(data, pa.decimal128(18, 4))
        col = pa.chunked_array([arr.slice(0, 100), arr.slice(100)])
        for t in (DaxType.CURRENCY, DaxType.DOUBLE, DaxType.VARIANT):
            fast, slow = convert(col, t), _slow(col, t)
            assert fast.dtype == slow.dtype
            assert fast.tolist() == slow.tolist()
    text = pa.chunked_array([pa.array(["a", None, "B"])])
    assert convert(text, DaxType.TEXT).tolist() == ["a", None, "B"]
    # not exact in a double: the decimal text is parsed, still correctly rounded
    big = pa.chunked_array([pa.array([Decimal("9999999999999999.0001")], pa.decimal128(38, 4))])
    assert convert(big, DaxType.CURRENCY).tolist() == [float(Decimal("9999999999999999.0001"))]


def test_dimension_join_is_lifted_above_the_aggregation_only_for_unique_keys():
    e = engine(REPEAT)
    assert e.unique_keys == frozenset({("customer", "id"), ("date", "date")})
    dax = 'EVALUATE SUMMARIZECOLUMNS(Customer[City], "S", [Sales], "R", [Repeat]) ORDER BY Customer[City]'
    assert [tuple(r) for r in e.query(dax).itertuples(index=False, name=None)] == [("Oslo", 60, 1), ("Rome", 40, None)]
    # Sales is grouped per customer first; Customer joins the grouped rows
    assert 'GROUP BY 1) AS s_g LEFT JOIN "Customer"' in e.last_sql
    # a duplicated one-side key (a model Power BI would refuse) is never treated as unique
    from tests.engine.fixtures import CUSTOMERS, ORDERS, Engine, dates, model
    dup = Engine(model((REPEAT,)), data={"Customer": CUSTOMERS + [(2, "Bob2", "Rome")], "Sales": list(ORDERS),
                                         "Date": dates()}, as_of="2024-12-31")
    assert dup.unique_keys == frozenset({("date", "date")})
    dup.query(dax)
    assert "AS s_g LEFT JOIN" not in dup.last_sql


BAND = measure("Band", 'SUMX(DATATABLE("Lo", INTEGER, "Hi", INTEGER, {{2, 9}}), VAR lo = [Lo] VAR hi = [Hi] '
               "RETURN COUNTROWS(FILTER(VALUES(Sales[CustomerID]), VAR n = CALCULATE(COUNTROWS(Sales)) "
               "RETURN n >= lo && n <= hi)))")
SINGLE = measure("Single", 'SUMX(DATATABLE("Lo", INTEGER, {{1}}), VAR lo = [Lo] '
                 "RETURN COUNTROWS(FILTER(VALUES(Sales[CustomerID]), VAR n = CALCULATE(COUNTROWS(Sales)) "
                 "RETURN n = lo && n * 2 < 3)))")


def test_filter_var_of_the_row_is_computed_once_for_all_rows():
    e = engine(BAND, SINGLE)
    # Ann has 2 orders (band 2-9), Bob and Cid 1 each (single); Dan has none
    assert e.query('EVALUATE ROW("B", [Band], "S", [Single])').values.tolist() == [[1, 2]]
    # n is a column (h0) of one per-customer GROUP BY, which the band's condition reads;
    # not a subquery per (band, customer), and not computed twice for its two uses
    sql = e.last_sql
    assert sql.count(" AS h0") == 2 and sql.count('FROM "Sales"') == 1  # both measures: one scan
    assert 'IS NOT DISTINCT FROM' not in sql
    # per City the count depends on the cell: the same values by the correlated form
    dax = """EVALUATE SUMMARIZECOLUMNS(ROLLUPADDISSUBTOTAL(Customer[City], "T"), "B", [Band], "S", [Single])
    ORDER BY Customer[City], [T] DESC"""
    got = [tuple(r) for r in e.query(dax).itertuples(index=False, name=None)]
    assert got == [(None, True, 1, 2), ("Oslo", False, 1, 1), ("Rome", False, None, 1)]


def _temp_tables(e) -> list[str]:
    return [r[0] for r in e.con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '__pbi_forge_se%' ORDER BY 1").fetchall()]


def test_pre_aggregations_are_cached_across_queries():
    e = engine(REPEAT)

    def run(dax):
        return [tuple(r) for r in e.query(f"EVALUATE SUMMARIZECOLUMNS(Customer[City], {dax}) ORDER BY Customer[City]")
                .itertuples(index=False, name=None)]

    assert run('"S", [Sales]') == [("Oslo", 60), ("Rome", 40)]
    assert "__pbi_forge_se1" in e.last_sql
    # the order count per customer was computed with the sales (the cells are the customers'
    # cities with orders): Repeat reads the same entry
    assert run('"R", [Repeat]') == [("Oslo", 1)]  # Rome: all measures BLANK, row dropped
    assert "__pbi_forge_se1" in e.last_sql and "__pbi_forge_se2" not in e.last_sql
    # the largest quantity is not in it: a new entry holding all three aggregates
    assert run('"R", [Repeat], "Q", MAX(Sales[Qty])') == [("Oslo", 1, 5), ("Rome", None, 1)]
    assert "__pbi_forge_se2" in e.last_sql
    # covered by the second entry: read, not recomputed
    assert run('"Q", MAX(Sales[Qty]), "S", [Sales]') == [("Oslo", 5, 60), ("Rome", 1, 40)]
    assert "__pbi_forge_se2" in e.last_sql and "__pbi_forge_se3" not in e.last_sql
    assert _temp_tables(e) == ["__pbi_forge_se2"]  # the superseded first entry is dropped
    # a different filter is a different scan
    assert run('"S", CALCULATE([Sales], Sales[Amount] > 15)') == [("Oslo", 50), ("Rome", 40)]
    assert "__pbi_forge_se3" in e.last_sql
    e.clear_cache()
    assert _temp_tables(e) == []
    assert run('"N", [Orders]') == [("Oslo", 3), ("Rome", 1)]


def test_cache_extends_an_entry_with_attributes_and_answers_coarser_queries():
    e = engine()
    by_city = e.query('EVALUATE SUMMARIZECOLUMNS(Customer[City], "S", [Sales]) ORDER BY Customer[City]')
    assert by_city.values.tolist() == [["Oslo", 60], ["Rome", 40]]
    by_name = e.query('EVALUATE SUMMARIZECOLUMNS(Customer[Name], "S", [Sales]) ORDER BY Customer[Name]')
    assert by_name.values.tolist() == [["Ann", 30], ["Bob", 30], ["Cid", 40]]
    # the names are joined to the cached per-customer rows: no new scan of Sales
    create = e.last_sql.split(";\n")[0]
    assert create.startswith("CREATE TEMPORARY TABLE __pbi_forge_se2") and "FROM __pbi_forge_se1" in create
    assert 'FROM "Sales"' not in e.last_sql
    # a total and a distinct count are answered by the per-customer rows too
    assert e.query('EVALUATE ROW("C", DISTINCTCOUNT(Sales[CustomerID]), "N", [Orders], "S", [Sales])'
                   ).values.tolist() == [[3, 4, 100]]
    assert 'FROM "Sales"' not in e.last_sql and "__pbi_forge_se2" in e.last_sql
    # with a filter on the fact table the rows differ: its own scan
    assert e.query('EVALUATE ROW("C", CALCULATE(DISTINCTCOUNT(Sales[CustomerID]), Sales[Amount] > 15))'
                   ).values.tolist() == [[3]]
    assert 'FROM "Sales"' in e.last_sql


def test_filter_on_a_dimension_attribute_reads_the_cached_rows():
    e = engine(measure("Oslo", 'CALCULATE([Sales], Customer[City] = "Oslo")'),
               measure("Not Oslo", 'CALCULATE(DISTINCTCOUNT(Sales[CustomerID]), Customer[City] <> "Oslo")'))
    assert e.query('EVALUATE SUMMARIZECOLUMNS(Customer[Name], "S", [Sales]) ORDER BY Customer[Name]'
                   ).values.tolist() == [["Ann", 30], ["Bob", 30], ["Cid", 40]]
    # Oslo: Ann 10 + 20, Bob 30; not Oslo: Cid, and the orphan-free data has no BLANK city
    assert e.query('EVALUATE ROW("O", [Oslo], "N", [Not Oslo])').values.tolist() == [[60, 1]]
    assert 'FROM "Sales"' not in e.last_sql  # the condition is a column of the cached rows
    assert "OSLO" not in e.last_sql.upper().split(";\n")[-1]  # applied as that column, not re-joined
    e.scan_cache = None
    assert e.query('EVALUATE ROW("O", [Oslo], "N", [Not Oslo])').values.tolist() == [[60, 1]]
