"""Conformance of the table functions of generator/engine/compiler/fn_grouping.py, fn_joins.py,
fn_row_selection.py, fn_table_text.py, fn_model_tables.py and ALLCROSSFILTERED (fn_column_sets.py)
— once fn_tables2.py — on the reference model of tests/engine/fixtures.py. Every expected value is worked out by hand from the data:

  Customer: 1 Ann Oslo, 2 Bob Oslo, 3 Cid Rome, 4 Dan Rome
  Sales (OrderID, CustomerID, Amount): (1, 1, 10), (2, 1, 20), (3, 2, 30), (4, 3, 40)
  so: Ann 30, Bob 30, Cid 40, Dan none; Oslo 60, Rome 40; total 100.

Each query runs three ways: cached (default), CTE (scan_cache=None) and per-cell (grouped=False).
"""
from __future__ import annotations

import pytest

from generator.engine.errors import DaxCompileError
from tests.engine.fixtures import engine

MODES = ("cached", "cte", "per_cell")


def _engine(mode: str, orphan: bool = False):
    e = engine(orphan=orphan)
    if mode == "cte":
        e.scan_cache = None
    elif mode == "per_cell":
        e.grouped = False
    return e


@pytest.fixture(scope="module", params=MODES)
def eng(request):
    return _engine(request.param)


def rows(eng, dax: str) -> list[tuple]:
    df = eng.query(dax)
    return sorted((tuple(None if v != v else v for v in r) for r in df.itertuples(index=False)),
                  key=lambda r: tuple((v is None, str(v)) for v in r))


# GROUPBY / CURRENTGROUP: the X-aggregation runs over the group's rows
# (https://dax.guide/groupby/, https://learn.microsoft.com/en-us/dax/groupby-function-dax)
@pytest.mark.parametrize("expr, want", [
    ('SUMX(GROUPBY(Sales, Customer[City], "S", SUMX(CURRENTGROUP(), Sales[Amount])), [S])', 100),
    ('COUNTROWS(GROUPBY(Sales, Customer[City]))', 2),
    # per customer: 1 → 10+20 = 30, 2 → 30, 3 → 40
    ('MAXX(GROUPBY(Sales, Sales[CustomerID], "S", SUMX(CURRENTGROUP(), Sales[Amount])), [S])', 40),
    ('MINX(GROUPBY(Sales, Sales[CustomerID], "S", SUMX(CURRENTGROUP(), Sales[Amount])), [S])', 30),
    ('MAXX(GROUPBY(Sales, Sales[CustomerID], "N", COUNTX(CURRENTGROUP(), Sales[OrderID])), [N])', 2),
])
def test_groupby(eng, expr, want):
    assert eng.evaluate(expr) == want


def test_currentgroup_outside_groupby_is_an_error(eng):
    with pytest.raises(DaxCompileError, match="CURRENTGROUP"):
        eng.evaluate("COUNTROWS(CURRENTGROUP())")


# SUMMARIZE with ROLLUP: one subtotal row per rolled-up level, the column BLANK there and
# ISSUBTOTAL TRUE (https://learn.microsoft.com/en-us/dax/summarize-function-dax,
# https://dax.guide/rollup/, https://dax.guide/issubtotal/)
def test_summarize_rollup_with_issubtotal(eng):
    got = rows(eng, 'EVALUATE SUMMARIZE(Customer, ROLLUP(Customer[City]), "n", COUNTROWS(Customer), '
                    '"st", ISSUBTOTAL(Customer[City]))')
    assert got == [("Oslo", 2, False), ("Rome", 2, False), (None, 4, True)]


def test_summarize_group_column_then_rollup(eng):
    got = rows(eng, 'EVALUATE SUMMARIZE(Sales, Customer[City], ROLLUP(Customer[Name]), "a", SUM(Sales[Amount]))')
    assert got == [("Oslo", "Ann", 30), ("Oslo", "Bob", 30), ("Oslo", None, 60), ("Rome", "Cid", 40),
                   ("Rome", None, 40)]


def test_summarize_rollupgroup_rolls_columns_up_together(eng):
    got = rows(eng, 'EVALUATE SUMMARIZE(Sales, ROLLUP(ROLLUPGROUP(Customer[City], Customer[Name])), '
                    '"a", SUM(Sales[Amount]))')
    assert got == [("Oslo", "Ann", 30), ("Oslo", "Bob", 30), ("Rome", "Cid", 40), (None, None, 100)]


def test_issubtotal_outside_summarize_is_an_error(eng):
    with pytest.raises(DaxCompileError, match="ISSUBTOTAL"):
        eng.evaluate("ISSUBTOTAL(Customer[City])")


# ADDMISSINGITEMS adds Dan, who has no sales, with a BLANK measure; subtotal rows are kept
# (https://dax.guide/addmissingitems/, https://dax.guide/rollupissubtotal/)
def test_addmissingitems(eng):
    got = rows(eng, 'EVALUATE ADDMISSINGITEMS(Customer[Name], SUMMARIZECOLUMNS(Customer[Name], "a", [Sales]), '
                    'Customer[Name])')
    assert got == [("Ann", 30), ("Bob", 30), ("Cid", 40), ("Dan", None)]


def test_addmissingitems_with_rollupissubtotal(eng):
    got = rows(eng, 'EVALUATE ADDMISSINGITEMS(Customer[Name], SUMMARIZECOLUMNS(ROLLUPADDISSUBTOTAL(Customer[Name], '
                    '"t"), "a", [Sales]), ROLLUPISSUBTOTAL(Customer[Name], [t]))')
    assert got == [("Ann", False, 30), ("Bob", False, 30), ("Cid", False, 40), ("Dan", False, None),
                   (None, True, 100)]


def test_rollupissubtotal_needs_a_group_column_and_a_flag(eng):
    with pytest.raises(DaxCompileError, match="argument 3"):
        eng.evaluate('COUNTROWS(ADDMISSINGITEMS(Customer[Name], SUMMARIZECOLUMNS(ROLLUPADDISSUBTOTAL('
                     'Customer[Name], "t"), "a", [Sales]), ROLLUPISSUBTOTAL([t], Customer[Name])))')


# Natural joins: on the relationship between two model tables, else on same-lineage
# columns (https://dax.guide/naturalinnerjoin/, https://dax.guide/naturalleftouterjoin/)
@pytest.mark.parametrize("mode", MODES)
def test_natural_joins_keep_or_drop_the_orphan(mode):
    e = _engine(mode, orphan=True)  # order 5 of customer 9, who does not exist
    assert e.evaluate("COUNTROWS(NATURALINNERJOIN(Sales, Customer))") == 4
    assert e.evaluate("COUNTROWS(NATURALLEFTOUTERJOIN(Sales, Customer))") == 5
    assert e.evaluate("SUMX(NATURALINNERJOIN(Sales, Customer), Sales[Amount])") == 100


def test_natural_join_on_lineage(eng):
    # City values (Oslo, Rome) joined to the (City, Name) pairs: 4 rows, City once
    got = rows(eng, "EVALUATE NATURALINNERJOIN(VALUES(Customer[City]), SUMMARIZE(Customer, Customer[City], "
                    "Customer[Name]))")
    assert got == [("Oslo", "Ann"), ("Oslo", "Bob"), ("Rome", "Cid"), ("Rome", "Dan")]


# INTERSECT keeps the left table's duplicates; EXCEPT removes every row found on the right;
# text compares ignoring case (https://dax.guide/intersect/, https://dax.guide/except/)
@pytest.mark.parametrize("expr, want", [
    ('COUNTROWS(INTERSECT(VALUES(Customer[City]), {"oslo"}))', 1),
    ('COUNTROWS(INTERSECT(SELECTCOLUMNS(Customer, "c", Customer[City]), {"Oslo"}))', 2),
    ('COUNTROWS(EXCEPT(VALUES(Customer[Name]), {"Ann", "Bob"}))', 2),
    ('COUNTROWS(EXCEPT(SELECTCOLUMNS(Customer, "c", Customer[City]), {"Rome"}))', 2),
    ('CALCULATE([Sales], INTERSECT(VALUES(Customer[Name]), {"Ann", "Cid"}))', 70),
])
def test_intersect_except(eng, expr, want):
    assert eng.evaluate(expr) == want


# TOPNSKIP: amounts 10, 20, 30, 40 (https://dax.guide/topnskip/)
@pytest.mark.parametrize("expr, want", [
    ("SUMX(TOPNSKIP(1, 1, Sales, Sales[Amount], DESC), Sales[Amount])", 30),
    ("SUMX(TOPNSKIP(1, 1, Sales, Sales[Amount], ASC), Sales[Amount])", 20),
    ("SUMX(TOPNSKIP(2, 2, Sales, Sales[Amount], ASC), Sales[Amount])", 70),
    ("COUNTROWS(TOPNSKIP(3, 2, Sales, Sales[Amount]))", 2),
])
def test_topnskip(eng, expr, want):
    assert eng.evaluate(expr) == want


# SAMPLE: first and last row and evenly spaced rows between, descending by default
# (https://learn.microsoft.com/en-us/dax/sample-function-dax, https://dax.guide/sample/)
@pytest.mark.parametrize("expr, want", [
    ("SUMX(SAMPLE(2, Sales, Sales[Amount], ASC), Sales[Amount])", 50),  # 10 + 40
    ("COUNTROWS(SAMPLE(3, Sales, Sales[Amount]))", 3),
    ("COUNTROWS(SAMPLE(10, Sales, Sales[Amount]))", 4),
    ("COUNTROWS(SAMPLE(0, Sales, Sales[Amount]))", None),
    ("SUMX(SAMPLE(1, Sales, Sales[Amount]), Sales[Amount])", 40),  # the first row, descending
])
def test_sample(eng, expr, want):
    assert eng.evaluate(expr) == want


# SUBSTITUTEWITHINDEX: CustomerID replaced by its 0-based position among Customer IDs
# (https://learn.microsoft.com/en-us/dax/substitutewithindex-function-dax)
@pytest.mark.parametrize("order, want", [("ASC", 0 + 0 + 1 + 2), ("DESC", 3 + 3 + 2 + 1)])
def test_substitutewithindex(eng, order, want):
    expr = ('SUMX(SUBSTITUTEWITHINDEX(SELECTCOLUMNS(Sales, "OrderID", Sales[OrderID], "CustomerID", '
            'Sales[CustomerID]), "i", SELECTCOLUMNS(Customer, "CustomerID", Customer[ID]), [CustomerID], '
            f'{order}), [i])')
    assert eng.evaluate(expr) == want


# TOCSV / TOJSON (https://dax.guide/tocsv/, https://dax.guide/tojson/; the format as Desktop
# returns it in ../shared/dax-corpus/oracle)
def test_tocsv(eng):
    assert eng.evaluate("TOCSV(Customer)") == (
        "'Customer'[ID],'Customer'[Name],'Customer'[City]\n1,Ann,Oslo\n2,Bob,Oslo\n3,Cid,Rome\n4,Dan,Rome")
    assert eng.evaluate('TOCSV(Customer, 2, ";", FALSE)') == "1;Ann;Oslo\n2;Bob;Oslo"


def test_tojson(eng):
    assert eng.evaluate("TOJSON(Customer, 2)") == (
        '{\n\t"header": ["\'Customer\'[ID]", "\'Customer\'[Name]", "\'Customer\'[City]"],\n'
        '\t"rowCount": 4,\n\t"data": [\n\t\t[1, "Ann", "Oslo"],\n\t\t[2, "Bob", "Oslo"]\n\t]\n}')


# COLUMNSTATISTICS: every column of every table plus each table's RowNumber column:
# Customer 3 + Sales 7 + Date 3 + 3 RowNumber = 16 (https://dax.guide/columnstatistics/)
def test_columnstatistics(eng):
    assert eng.evaluate("COUNTROWS(COLUMNSTATISTICS())") == 16
    got = rows(eng, 'EVALUATE FILTER(COLUMNSTATISTICS(), [Table Name] = "Customer" && [Column Name] = "City")')
    assert got == [("Customer", "City", "Oslo", "Rome", 2, 4)]
    # Promo: A, blank, B, A → 3 distinct values counting BLANK
    assert eng.evaluate('MAXX(FILTER(COLUMNSTATISTICS(), [Column Name] = "Promo"), [Cardinality])') == 3


# DETAILROWS without a detail-rows expression, and TABLEOF: the measure's (column's) table
# (https://learn.microsoft.com/en-us/dax/detailrows-function-dax, https://dax.guide/tableof/)
@pytest.mark.parametrize("expr, want", [
    ("COUNTROWS(DETAILROWS([Sales]))", 4),
    ('CALCULATE(COUNTROWS(DETAILROWS([Sales])), Customer[City] = "Oslo")', 3),
    ("COUNTROWS(TABLEOF([Sales]))", 4),
    ("COUNTROWS(TABLEOF(Customer[Name]))", 4),
])
def test_detailrows_tableof(eng, expr, want):
    assert eng.evaluate(expr) == want


# ALLCROSSFILTERED removes the filters on the table and on the tables filtering it
# (https://learn.microsoft.com/en-us/dax/allcrossfiltered-function-dax)
def test_allcrossfiltered(eng):
    assert eng.evaluate('CALCULATE(CALCULATE(COUNTROWS(Sales), ALLCROSSFILTERED(Sales)), '
                        'Customer[City] = "Rome")') == 4
    assert eng.evaluate('CALCULATE(COUNTROWS(Sales), Customer[City] = "Rome")') == 1
    with pytest.raises(DaxCompileError, match="ALLCROSSFILTERED"):
        eng.evaluate("COUNTROWS(ALLCROSSFILTERED(Sales))")
