"""Conformance of CALCULATE in row contexts (and LOOKUPVALUE, year-end time intelligence,
SUMMARIZE name/expression columns, HASONEFILTER) on the reference model of
tests/engine/fixtures.py. Every expected value is worked out by hand below; none is the
engine's output pasted back.

  Customer: 1 Ann Oslo, 2 Bob Oslo, 3 Cid Rome, 4 Dan Rome
  Sales: 1 cust1 2024-01-10 Qty2 Amt10 Promo A    Disc 1
         2 cust1 2024-02-05 Qty1 Amt20 Promo -    Disc -
         3 cust2 2024-02-20 Qty5 Amt30 Promo B    Disc 3
         4 cust3 2023-02-15 Qty1 Amt40 Promo A    Disc 0
  so: Ann 30, Bob 30, Cid 40, Dan BLANK; Oslo 60, Rome 40; total 100.

The rule under test is CALCULATE's order of evaluation (dax-semantics.md §5.1; SQLBI,
"Context transition and filters in CALCULATE",
https://www.sqlbi.com/articles/context-transition-and-filters-in-calculate/;
https://learn.microsoft.com/en-us/dax/calculate-function-dax):
  1. the filter arguments are evaluated in the original (outer) context,
  2. context transition turns the row contexts into filters,
  3. modifiers apply (ALL, ALLEXCEPT, REMOVEFILTERS, ALLSELECTED, USERELATIONSHIP, CROSSFILTER),
  4. the filter arguments replace the filters on their columns (KEEPFILTERS: intersect).
A measure reference [M] is CALCULATE(<body of M>) (context transition, §7), so
CALCULATE([M], f) is "transition, then f" once, exactly like CALCULATE(<body>, f): each case
is written with the measure and with the same expression inline, and both must agree.

Each query runs three ways: cached (default), CTE (scan_cache=None) and per-cell
(grouped=False), as in test_adversarial_speedups.py.
"""
from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from generator.engine import DaxEvalError
from generator.engine.errors import DaxCompileError
from tests.engine.fixtures import (
    CUSTOMER, CUSTOMERS, DATE, MEASURES, ORDERS, RELS, SALES, Engine, dates, measure,
)
from generator.spec.model import CalculatedColumn, ExprOrigin, Model, Pos

MODES = ("cached", "cte", "per_cell")

EXTRA = (
    measure("Amt", "SUM(Sales[Amount])"),
    measure("Ann Amt", 'CALCULATE([Amt], Customer[Name] = "Ann")'),
    measure("All Amt", "CALCULATE([Amt], ALL(Customer))"),
    measure("Share", "DIVIDE([Amt], [All Amt])"),
    measure("Via Ann", 'CALCULATE([Ann Amt], Customer[Name] = "Cid")'),
    measure("Cust", "COUNTROWS(Customer)"),
    measure("Sel Sum", "SUMX(VALUES(Customer[Name]), DIVIDE([Amt], CALCULATE([Amt], ALLSELECTED(Customer))))"),
)


def _calc(name: str, expr: str, type_: str = "double", line: int = 30) -> CalculatedColumn:
    return CalculatedColumn(name, type_, expr, Pos("semantic/customer.yaml", line, 5),
                            ExprOrigin("semantic/customer.yaml", line, 17))


CALC = (
    # measure and inline forms of the same CALCULATE, in the row context of each Customer row
    _calc("AnnM", 'CALCULATE([Amt], Customer[Name] = "Ann")', line=30),
    _calc("AnnI", 'CALCULATE(SUM(Sales[Amount]), Customer[Name] = "Ann")', line=31),
    _calc("ShareM", "DIVIDE([Amt], CALCULATE([Amt], ALL(Customer)))", line=32),
    _calc("ShareI", "DIVIDE(CALCULATE(SUM(Sales[Amount])), CALCULATE(SUM(Sales[Amount]), ALL(Customer)))", line=33),
    _calc("CityM", "CALCULATE([Amt], ALLEXCEPT(Customer, Customer[City]))", line=34),
    _calc("CityI", "CALCULATE(SUM(Sales[Amount]), ALLEXCEPT(Customer, Customer[City]))", line=35),
)


DATE_CALC = (
    # TOTALYTD in the row context of each Date row: the dates column transitions the row
    _calc("RowYTD", "TOTALYTD([Sales], 'Date'[Date])", line=40),
)


def make_engine(mode: str) -> Engine:
    customer = replace(CUSTOMER, calculated_columns=CALC)
    date = replace(DATE, calculated_columns=DATE_CALC)
    model = Model("Ref", "en-US", (customer, SALES, date), RELS, MEASURES + EXTRA, (), Path("."),
                  date_table="Date")
    e = Engine(model, data={"Customer": CUSTOMERS, "Sales": list(ORDERS), "Date": dates()}, as_of="2024-12-31")
    if mode == "cte":
        e.scan_cache = None
    elif mode == "per_cell":
        e.grouped = False
    return e


@pytest.fixture(scope="module", params=MODES)
def eng(request):
    return make_engine(request.param)


def _norm(v):
    if v is None:
        return None
    try:
        if math.isnan(v):
            return None
    except TypeError:
        pass
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float):
        v = round(v, 9)
        if v == int(v):
            v = int(v)
    return v


def rows(e: Engine, dax: str) -> list[tuple]:
    frame = e.query(dax)
    return sorted((tuple(_norm(x) for x in r) for r in frame.itertuples(index=False, name=None)), key=repr)


def srt(xs):
    return sorted(xs, key=repr)


def by_name(e: Engine, expr: str) -> dict:
    return dict(rows(e, f'EVALUATE ADDCOLUMNS(VALUES(Customer[Name]), "x", {expr})'))


def by_city(e: Engine, expr: str) -> dict:
    return dict(rows(e, f'EVALUATE ADDCOLUMNS(VALUES(Customer[City]), "x", {expr})'))


def scalar(e: Engine, expr: str):
    (row,) = rows(e, f'EVALUATE ROW("x", {expr})')
    return row[0]


NAMES = ("Ann", "Bob", "Cid", "Dan")


def every(value) -> dict:
    return {n: value for n in NAMES}


# ---------------------------------------------------------------- filter argument overrides the transitioned row
# ADDCOLUMNS row Name=X: transition gives Name=X, then Name="Ann" replaces it (step 4):
# Ann's 30 on every row, Dan included.

@pytest.mark.parametrize("expr", [
    'CALCULATE([Amt], Customer[Name] = "Ann")',
    'CALCULATE(SUM(Sales[Amount]), Customer[Name] = "Ann")',
    "[Ann Amt]",  # measure calling a measure: [Ann Amt] transitions, then its own filter overrides
])
def test_addcolumns_filter_overrides_the_row(eng, expr):
    assert by_name(eng, expr) == every(30)


@pytest.mark.parametrize("expr", [
    'CALCULATE([Amt], Customer[Name] = "Ann")',
    'CALCULATE(SUM(Sales[Amount]), Customer[Name] = "Ann")',
])
def test_sumx_filter_overrides_the_row(eng, expr):
    # four rows of VALUES(Customer[Name]), each 30: 120 (not 30+30+40 = 100)
    assert scalar(eng, f"SUMX(VALUES(Customer[Name]), {expr})") == 120


# ---------------------------------------------------------------- ALL / REMOVEFILTERS undo the transition

@pytest.mark.parametrize("expr", [
    "DIVIDE([Amt], CALCULATE([Amt], ALL(Customer)))",
    "DIVIDE(CALCULATE(SUM(Sales[Amount])), CALCULATE(SUM(Sales[Amount]), ALL(Customer)))",
    "DIVIDE([Amt], CALCULATE([Amt], REMOVEFILTERS(Customer[City])))",
    "DIVIDE(CALCULATE(SUM(Sales[Amount])), CALCULATE(SUM(Sales[Amount]), REMOVEFILTERS(Customer[City])))",
    "[Share]",  # DIVIDE([Amt], [All Amt]): measures calling measures
])
def test_share_of_total_by_city(eng, expr):
    # share-of-total (SQLBI; dax-semantics.md §5.5): Oslo 60/100, Rome 40/100
    assert by_city(eng, expr) == {"Oslo": 0.6, "Rome": 0.4}


@pytest.mark.parametrize("expr", [
    "CALCULATE([Amt], ALL(Customer[Name]))",
    "CALCULATE(SUM(Sales[Amount]), ALL(Customer[Name]))",
])
def test_nested_row_contexts_all_removes_only_the_inner_column(eng, expr):
    # ADDCOLUMNS over City, SUMX over names: in each name row the transition gives City
    # (outer row) and Name (inner row); ALL(Name) removes Name only, so every name row sees
    # its city's total. A row context filters nothing (§7), so VALUES(Customer[Name]) in a
    # City row is all four names: Oslo 4 × 60 = 240, Rome 4 × 40 = 160
    assert by_city(eng, f"SUMX(VALUES(Customer[Name]), {expr})") == {"Oslo": 240, "Rome": 160}
    # CALCULATETABLE transitions the City row first: Oslo {Ann, Bob} 2 × 60 = 120,
    # Rome {Cid, Dan} 2 × 40 = 80
    assert by_city(eng, f"SUMX(CALCULATETABLE(VALUES(Customer[Name])), {expr})") == {"Oslo": 120, "Rome": 80}


# ---------------------------------------------------------------- FILTER over VALUES

@pytest.mark.parametrize("expr", [
    "CALCULATE([Amt], ALL(Customer)) = 100",
    "CALCULATE(SUM(Sales[Amount]), ALL(Customer)) = 100",
])
def test_filter_over_values_predicate(eng, expr):
    # every name's predicate sees the total 100 (ALL removes the transitioned Name): 4 rows
    assert scalar(eng, f"COUNTROWS(FILTER(VALUES(Customer[Name]), {expr}))") == 4


@pytest.mark.parametrize("expr", [
    'CALCULATE([Amt], Customer[City] = "Oslo") > 0',
    'CALCULATE(SUM(Sales[Amount]), Customer[City] = "Oslo") > 0',
])
def test_filter_over_values_other_column_intersects(eng, expr):
    # City = "Oslo" replaces filters on City only; the transitioned Name stays:
    # Ann 30, Bob 30 pass; Cid (Rome) and Dan (no sales) give BLANK > 0 = FALSE
    assert scalar(eng, f"COUNTROWS(FILTER(VALUES(Customer[Name]), {expr}))") == 2


@pytest.mark.parametrize("expr", [
    "CALCULATE([Amt], FILTER(VALUES(Customer[Name]), CALCULATE([Amt], ALL(Customer)) > 50))",
    "CALCULATE(SUM(Sales[Amount]), FILTER(VALUES(Customer[Name]), CALCULATE(SUM(Sales[Amount]), ALL(Customer)) > 50))",
])
def test_filter_over_values_as_a_calculate_filter(eng, expr):
    # every name keeps (100 > 50), so the filter is all four names: 100
    assert scalar(eng, expr) == 100


# ---------------------------------------------------------------- KEEPFILTERS

@pytest.mark.parametrize("expr, expected", [
    # replaces the transitioned Name: Ann + Cid = 70 on every row
    ('CALCULATE([Amt], Customer[Name] IN {"Ann", "Cid"})', every(70)),
    ('CALCULATE(SUM(Sales[Amount]), Customer[Name] IN {"Ann", "Cid"})', every(70)),
    # KEEPFILTERS intersects with it (learn.microsoft.com/dax/keepfilters-function-dax):
    # Ann 30, Bob {Bob}∩{Ann,Cid} empty, Cid 40, Dan empty
    ('CALCULATE([Amt], KEEPFILTERS(Customer[Name] IN {"Ann", "Cid"}))',
     {"Ann": 30, "Bob": None, "Cid": 40, "Dan": None}),
    ('CALCULATE(SUM(Sales[Amount]), KEEPFILTERS(Customer[Name] IN {"Ann", "Cid"}))',
     {"Ann": 30, "Bob": None, "Cid": 40, "Dan": None}),
])
def test_keepfilters_in_row_context(eng, expr, expected):
    assert by_name(eng, expr) == expected


# ---------------------------------------------------------------- ALLEXCEPT

@pytest.mark.parametrize("expr", [
    "CALCULATE([Amt], ALLEXCEPT(Customer, Customer[City]))",
    "CALCULATE(SUM(Sales[Amount]), ALLEXCEPT(Customer, Customer[City]))",
])
def test_allexcept_over_customer_rows(eng, expr):
    # the row of Customer transitions ID, Name and City; ALLEXCEPT keeps City only:
    # Ann, Bob → Oslo 60; Cid, Dan → Rome 40 (dax-semantics.md §5.5)
    got = dict(rows(eng, f'EVALUATE SELECTCOLUMNS(Customer, "n", Customer[Name], "x", {expr})'))
    assert got == {"Ann": 60, "Bob": 60, "Cid": 40, "Dan": 40}


# ---------------------------------------------------------------- ALLSELECTED

def test_allselected_inside_an_iterator_of_a_visual(eng):
    # slicer City = "Oslo", no grouping: SUMX iterates Ann, Bob. In each row ALLSELECTED(Customer)
    # removes the transitioned Name and restores the selection (Oslo = Ann + Bob = 60), so
    # 30/60 + 30/60 = 1 (learn.microsoft.com/dax/allselected-function-dax; the iterator's
    # shadow context is {Ann, Bob}, the same set here)
    got = rows(eng, 'EVALUATE SUMMARIZECOLUMNS(TREATAS({"Oslo"}, Customer[City]), "s", [Sel Sum])')
    assert got == [(1,)]


def test_allselected_inline_matches_the_measure(eng):
    expr = ("SUMX(VALUES(Customer[Name]), DIVIDE(CALCULATE(SUM(Sales[Amount])), "
            "CALCULATE(SUM(Sales[Amount]), ALLSELECTED(Customer))))")
    got = rows(eng, f'EVALUATE SUMMARIZECOLUMNS(TREATAS({{"Oslo"}}, Customer[City]), "s", {expr})')
    assert got == [(1,)]


# ---------------------------------------------------------------- table filter arguments

@pytest.mark.parametrize("expr, expected", [
    # a table filter over all Customer columns replaces the transitioned Name: Rome = 40
    ('CALCULATE([Amt], FILTER(ALL(Customer), Customer[City] = "Rome"))', every(40)),
    ('CALCULATE(SUM(Sales[Amount]), FILTER(ALL(Customer), Customer[City] = "Rome"))', every(40)),
    # FILTER(Customer, …) is evaluated in the outer context (step 1), where the row context
    # filters nothing: {Cid, Dan}, replacing the transitioned Name: 40 on every row
    ('CALCULATE([Amt], FILTER(Customer, Customer[City] = "Rome"))', every(40)),
    ('CALCULATE(SUM(Sales[Amount]), FILTER(Customer, Customer[City] = "Rome"))', every(40)),
    # KEEPFILTERS of the table filter intersects: Cid 40, others empty
    ('CALCULATE([Amt], KEEPFILTERS(FILTER(ALL(Customer), Customer[City] = "Rome")))',
     {"Ann": None, "Bob": None, "Cid": 40, "Dan": None}),
])
def test_table_filter_argument_in_row_context(eng, expr, expected):
    assert by_name(eng, expr) == expected


# ---------------------------------------------------------------- nested CALCULATE

@pytest.mark.parametrize("expr, expected", [
    # outer: transition Name, ALL(Customer) removes it; inner: City = "Rome" → 40 everywhere
    ('CALCULATE(CALCULATE([Amt], Customer[City] = "Rome"), ALL(Customer))', 40),
    ('CALCULATE(CALCULATE(SUM(Sales[Amount]), Customer[City] = "Rome"), ALL(Customer))', 40),
    # the inner CALCULATE has no row context left to transition: ALL stands → 100
    ("CALCULATE(CALCULATE([Amt]), ALL(Customer))", 100),
    ("CALCULATE(CALCULATE(SUM(Sales[Amount])), ALL(Customer))", 100),
    # inner filter overrides the outer one on the same column: Bob's 30
    ('CALCULATE(CALCULATE([Amt], Customer[Name] = "Bob"), Customer[Name] = "Cid")', 30),
    # a measure whose own CALCULATE overrides the caller's: [Ann Amt] under Name = "Cid" is 30
    ("[Via Ann]", 30),
    ('CALCULATE([Ann Amt], ALL(Customer))', 30),
])
def test_nested_calculate_in_row_context(eng, expr, expected):
    assert by_name(eng, expr) == every(expected)


# ---------------------------------------------------------------- modifiers on relationships

@pytest.mark.parametrize("expr", [
    "CALCULATE([Cust], CROSSFILTER(Sales[CustomerID], Customer[ID], BOTH))",
    "CALCULATE(COUNTROWS(Customer), CROSSFILTER(Sales[CustomerID], Customer[ID], BOTH))",
])
def test_crossfilter_in_row_context(eng, expr):
    # row Promo = X transitions a Sales filter; BOTH lets it reach Customer:
    # A: orders 1 (Ann), 4 (Cid) → 2; B: Bob → 1; BLANK: order 2 (Ann) → 1
    got = dict(rows(eng, f'EVALUATE ADDCOLUMNS(VALUES(Sales[Promo]), "x", {expr})'))
    assert got == {"A": 2, "B": 1, None: 1}


# ---------------------------------------------------------------- calculated columns

def test_calculated_columns_measure_and_inline_agree(eng):
    got = rows(eng, "EVALUATE SELECTCOLUMNS(Customer, \"n\", Customer[Name], \"am\", Customer[AnnM], "
                    "\"ai\", Customer[AnnI], \"sm\", Customer[ShareM], \"si\", Customer[ShareI], "
                    "\"cm\", Customer[CityM], \"ci\", Customer[CityI])")
    # The row of a calculated column is a whole Customer row: the transition filters ID, Name
    # and City (§7). AnnM/AnnI: Name = "Ann" replaces the Name filter only, ID and City stay:
    # Ann 30, the others {ID = 2 and Name = Ann} etc. are empty → BLANK.
    # ShareM/ShareI: ALL(Customer) removes all three: own / 100 (Dan BLANK / 100 = BLANK).
    # CityM/CityI: ALLEXCEPT keeps the row's City: Oslo 60, Rome 40
    assert got == srt([
        ("Ann", 30, 30, 0.3, 0.3, 60, 60),
        ("Bob", None, None, 0.3, 0.3, 60, 60),
        ("Cid", None, None, 0.4, 0.4, 40, 40),
        ("Dan", None, None, None, None, 40, 40),
    ])


# ---------------------------------------------------------------- LOOKUPVALUE
# learn.microsoft.com/dax/lookupvalue-function-dax: "If multiple rows match the search values
# and in all cases result_column values are identical, then that value is returned. However,
# if result_column returns different values, an error or alternateResult (if supplied) is
# returned." No match: alternateResult, else BLANK.

@pytest.mark.parametrize("expr, expected", [
    ('LOOKUPVALUE(Customer[City], Customer[City], "Oslo")', "Oslo"),  # Ann, Bob: both Oslo
    ('LOOKUPVALUE(Customer[Name], Customer[City], "Oslo", "many")', "many"),  # Ann ≠ Bob
    ('LOOKUPVALUE(Customer[Name], Customer[City], "Paris", "none")', "none"),  # no row
    ('LOOKUPVALUE(Customer[Name], Customer[City], "Paris")', None),
    ("LOOKUPVALUE(Sales[Discount], Sales[OrderID], 2, -1)", None),  # one row, its value is BLANK
    ('LOOKUPVALUE(Sales[Promo], Sales[CustomerID], 1, "x")', "x"),  # "A" and BLANK differ
    ('LOOKUPVALUE(Sales[Promo], Sales[CustomerID], 2, "x")', "B"),
    ('LOOKUPVALUE(Customer[Name], Customer[City], "Rome", Customer[ID], 3)', "Cid"),  # two search pairs
])
def test_lookupvalue(eng, expr, expected):
    assert scalar(eng, expr) == expected


def test_lookupvalue_per_row(eng):
    # customer 1: "A" and BLANK → "x"; 2: "B"; 3: "A"; 4: no sales → "x"
    got = dict(rows(eng, 'EVALUATE ADDCOLUMNS(VALUES(Customer[ID]), "p", '
                         'LOOKUPVALUE(Sales[Promo], Sales[CustomerID], Customer[ID], "x"))'))
    assert got == {1: "x", 2: "B", 3: "A", 4: "x"}


@pytest.mark.parametrize("expr", [
    'LOOKUPVALUE(Customer[Name], Customer[City], "Oslo")',
    "LOOKUPVALUE(Sales[Qty], Sales[CustomerID], 1)",
])
def test_lookupvalue_different_values_without_alternate_is_an_error(eng, expr):
    with pytest.raises(DaxEvalError, match="LOOKUPVALUE: a table of multiple values"):
        scalar(eng, expr)


# ---------------------------------------------------------------- year-end dates of time intelligence
# learn.microsoft.com/dax/totalytd-function-dax, datesytd-, previousyear-, nextyear-function-dax:
# year_end_date is a string literal (en-US "6/30", "Jun 30", "30 June"); its year is ignored.
# Only the year functions take it; DATESQTD/DATESMTD/TOTALQTD/TOTALMTD/SAMEPERIODLASTYEAR do not.
# Sales dates: 2023-02-15 (40), 2024-01-10 (10), 2024-02-05 (20), 2024-02-20 (30).

YTD_MEASURES = "DEFINE MEASURE Sales[Y630] = TOTALYTD([Sales], 'Date'[Date], \"6/30\") " \
               "MEASURE Sales[Y630F] = TOTALYTD([Sales], 'Date'[Date], Sales[Qty] >= 2, \"6/30\") " \
               "MEASURE Sales[D630] = CALCULATE([Sales], DATESYTD('Date'[Date], \"6/30\")) "


def test_totalytd_with_a_fiscal_year_end_by_month(eng):
    got = rows(eng, YTD_MEASURES + "EVALUATE SUMMARIZECOLUMNS('Date'[Year], 'Date'[Month], "
                                   "\"y\", [Y630], \"f\", [Y630F], \"d\", [D630])")
    # fiscal years Jul–Jun. 2023-02..06: FY from 2022-07-01 (dates exist from 2023-01-01),
    # holds the 40; 2023-07..12: new FY, nothing yet (row hidden); 2024-01: 10; 2024-02..06:
    # 10+20+30 = 60; 2024-07..: new FY, BLANK. Jan 2023 is before the 40: BLANK.
    # With the filter Qty >= 2 only orders 1 (10) and 3 (30) count: 2024-01 10, 2024-02..06 40.
    assert got == srt([(2023, m, 40, None, 40) for m in range(2, 7)]
                      + [(2024, 1, 10, 10, 10)] + [(2024, m, 60, 40, 60) for m in range(2, 7)])


@pytest.mark.parametrize("year_end, days", [
    # context 2024-02-15: default (Dec 31) → Jan 1..Feb 15 = 31 + 15 = 46
    ("12/31", 46),
    # Jun 30 → from 2023-07-01: Jul..Dec 2023 = 31+31+30+31+30+31 = 184, + 46 = 230
    ("6/30", 230), ("Jun 30", 230), ("30 June", 230), ("2024-06-30", 230), ("6/30/2019", 230),
    # Mar 31 → from 2023-04-01: Apr..Dec 2023 = 275, + 46 = 321
    ("3/31", 321),
    # Feb 29 ends February: 2024-02-15 is before 2024-02-29, so from 2023-03-01: 306 + 46 = 352
    ("2/29", 352),
])
def test_datesytd_year_end(eng, year_end, days):
    assert scalar(eng, f"CALCULATE(COUNTROWS(DATESYTD('Date'[Date], \"{year_end}\")), "
                       "'Date'[Date] = DATE(2024, 2, 15))") == days


@pytest.mark.parametrize("expr, expected", [
    # on 2024-02-15 the fiscal year (Jun 30) is 2023-07..2024-06; the previous one is
    # 2022-07-01..2023-06-30, restricted to existing dates: Jan..Jun 2023 = 181 days
    ("CALCULATE(COUNTROWS(PREVIOUSYEAR('Date'[Date], \"6/30\")), 'Date'[Date] = DATE(2024, 2, 15))", 181),
    # on 2024-08-15: previous fiscal year 2023-07..2024-06 holds 10+20+30 = 60; calendar 2023: 40
    ("CALCULATE(CALCULATE([Sales], PREVIOUSYEAR('Date'[Date], \"6/30\")), 'Date'[Date] = DATE(2024, 8, 15))", 60),
    ("CALCULATE(CALCULATE([Sales], PREVIOUSYEAR('Date'[Date])), 'Date'[Date] = DATE(2024, 8, 15))", 40),
    # NEXTYEAR is based on the first date: on 2023-03-10 the fiscal year ends 2023-06-30, the
    # next is 2023-07-01..2024-06-30 = 184 + 182 (2024 is a leap year) = 366 days
    ("CALCULATE(COUNTROWS(NEXTYEAR('Date'[Date], \"6/30\")), 'Date'[Date] = DATE(2023, 3, 10))", 366),
    # on 2023-08-01 the next fiscal year starts 2024-07-01: 184 existing days, no sales;
    # the next calendar year 2024 holds 60
    ("CALCULATE(COUNTROWS(NEXTYEAR('Date'[Date], \"6/30\")), 'Date'[Date] = DATE(2023, 8, 1))", 184),
    ("CALCULATE(CALCULATE([Sales], NEXTYEAR('Date'[Date], \"6/30\")), 'Date'[Date] = DATE(2023, 8, 1))", None),
    ("CALCULATE(CALCULATE([Sales], NEXTYEAR('Date'[Date])), 'Date'[Year] = 2023, 'Date'[Month] = 2)", 60),
    # no filter: the last date is 2024-12-31, whose fiscal year (from 2024-07-01) has no sales
    ("TOTALYTD([Sales], 'Date'[Date], , \"6/30\")", None),
])
def test_previous_and_next_year_with_a_year_end(eng, expr, expected):
    assert scalar(eng, expr) == expected


@pytest.mark.parametrize("expr, message", [
    ("COUNTROWS(DATESYTD('Date'[Date], \"13/1\"))", "is not a year-end date"),
    ("COUNTROWS(DATESYTD('Date'[Date], 630))", "must be a string literal"),
    ("COUNTROWS(DATESQTD('Date'[Date], \"6/30\"))", "DATESQTD takes 1 arguments"),
    ("COUNTROWS(DATESMTD('Date'[Date], \"6/30\"))", "DATESMTD takes 1 arguments"),
    ("TOTALQTD([Sales], 'Date'[Date], \"6/30\")", "TOTALQTD has no year-end date"),
    ("TOTALMTD([Sales], 'Date'[Date], Sales[Qty] > 1, \"6/30\")", "TOTALMTD takes 2 to 3 arguments"),
    ("COUNTROWS(SAMEPERIODLASTYEAR('Date'[Date], \"6/30\"))", "SAMEPERIODLASTYEAR takes 1 arguments"),
])
def test_year_end_where_there_is_none_is_a_compile_error(eng, expr, message):
    with pytest.raises(DaxCompileError, match=message):
        scalar(eng, expr)


# ---------------------------------------------------------------- SUMMARIZE with name/expression columns
# learn.microsoft.com/dax/summarize-function-dax; SQLBI "All the secrets of SUMMARIZE": each
# expression is evaluated in a filter context holding the rows of the summarized table that
# belong to the group (not only a filter on the group columns), hence the differences with
# ADDCOLUMNS(SUMMARIZE(…)) below.

@pytest.mark.parametrize("dax, expected", [
    ('SUMMARIZE(Sales, Customer[City], "x", [Sales])', [("Oslo", 60), ("Rome", 40)]),
    ('SUMMARIZE(Customer, Customer[City], "x", [Sales])', [("Oslo", 60), ("Rome", 40)]),
    # two expressions, inline aggregations: Ann 30 (max Qty 2), Bob 30 (5), Cid 40 (1); Dan has no sales
    ('SUMMARIZE(Sales, Customer[Name], "x", SUM(Sales[Amount]), "q", MAX(Sales[Qty]))',
     [("Ann", 30, 2), ("Bob", 30, 5), ("Cid", 40, 1)]),
    ("SUMMARIZE(Sales, Customer[City], 'Date'[Year], \"x\", [Sales])", [("Oslo", 2024, 60), ("Rome", 2023, 40)]),
    # the group's rows are the FILTERed ones: Oslo = orders 1 and 3 (Qty 2, 5) = 40; Rome's only
    # order has Qty 1, so no Rome group
    ('SUMMARIZE(FILTER(Sales, Sales[Qty] >= 2), Customer[City], "x", [Sales])', [("Oslo", 40)]),
    # ADDCOLUMNS only filters the group column: Oslo = 60
    ('ADDCOLUMNS(SUMMARIZE(FILTER(Sales, Sales[Qty] >= 2), Customer[City]), "x", [Sales])', [("Oslo", 60)]),
    # the Sales rows of the group filter Customer through the expanded table: customers with
    # sales, Oslo {Ann, Bob} = 2, Rome {Cid} = 1; with ADDCOLUMNS Rome counts Dan too
    ('SUMMARIZE(Sales, Customer[City], "n", COUNTROWS(Customer))', [("Oslo", 2), ("Rome", 1)]),
    ('ADDCOLUMNS(SUMMARIZE(Sales, Customer[City]), "n", CALCULATE(COUNTROWS(Customer)))', [("Oslo", 2), ("Rome", 2)]),
    # under an outer filter Promo = "A": Oslo order 1 (10), Rome order 4 (40)
    ('CALCULATETABLE(SUMMARIZE(Sales, Customer[City], "x", [Sales]), Sales[Promo] = "A")', [("Oslo", 10), ("Rome", 40)]),
])
def test_summarize_name_expression_columns(eng, dax, expected):
    assert rows(eng, f"EVALUATE {dax}") == srt(expected)


@pytest.mark.parametrize("dax, message", [
    ('SUMMARIZE(Sales, "x", [Sales])', "needs a group-by column"),
    ('SUMMARIZE(Sales, Customer[City], "x")', "expects name/expression pairs"),
    ('SUMMARIZE(Sales, ROLLUP(Customer[City]), ROLLUP(Customer[Name]), "x", [Sales])', "one ROLLUP"),
])
def test_summarize_bad_forms_are_compile_errors(eng, dax, message):
    with pytest.raises(DaxCompileError, match=message):
        rows(eng, f"EVALUATE {dax}")


# ---------------------------------------------------------------- HASONEFILTER vs HASONEVALUE
# dax.guide/HASONEFILTER: TRUE when the number of values directly filtered on the column is
# one (COUNTROWS(FILTERS(col)) = 1); HASONEVALUE counts the visible values, so it is TRUE
# also when cross-filtering alone leaves one value.

@pytest.mark.parametrize("expr, expected", [
    ("HASONEFILTER(Customer[City])", False),  # not filtered (two values anyway)
    ('CALCULATE(HASONEFILTER(Customer[City]), Customer[City] = "Oslo")', True),
    # Name = Ann leaves only Oslo visible, but City is not filtered directly
    ('CALCULATE(HASONEFILTER(Customer[City]), Customer[Name] = "Ann")', False),
    ('CALCULATE(HASONEVALUE(Customer[City]), Customer[Name] = "Ann")', True),
    # two values filtered on City; one visible because of Name
    ('CALCULATE(HASONEFILTER(Customer[City]), Customer[City] IN {"Oslo", "Rome"}, Customer[Name] = "Ann")', False),
    ('CALCULATE(HASONEVALUE(Customer[City]), Customer[City] IN {"Oslo", "Rome"}, Customer[Name] = "Ann")', True),
    # a filter on Sales does not reach Customer (single direction), and is not on City
    ('CALCULATE(HASONEFILTER(Customer[City]), Sales[Promo] = "B")', False),
    ('CALCULATE(CALCULATE(HASONEFILTER(Customer[City]), ALL(Customer)), Customer[City] = "Oslo")', False),
    # a table filter on Customer filters all its columns directly: Ann's row → {Oslo}
    ('CALCULATE(HASONEFILTER(Customer[City]), FILTER(ALL(Customer), Customer[Name] = "Ann"))', True),
    # rows Ann, Bob, Cid → {Oslo, Rome}
    ('CALCULATE(HASONEFILTER(Customer[City]), FILTER(ALL(Customer), Customer[ID] <= 3))', False),
])
def test_hasonefilter(eng, expr, expected):
    assert scalar(eng, expr) is expected


def test_hasonefilter_in_visuals_and_row_contexts(eng):
    # each City cell filters City directly; the total does not
    got = rows(eng, 'EVALUATE SUMMARIZECOLUMNS(ROLLUPADDISSUBTOTAL(Customer[City], "T"), '
                    '"f", IF(HASONEFILTER(Customer[City]), 1, 0))')
    assert got == srt([("Oslo", False, 1), ("Rome", False, 1), (None, True, 0)])
    # a slicer City = Oslo is a direct filter on City in every Name cell
    got = rows(eng, 'EVALUATE SUMMARIZECOLUMNS(Customer[Name], TREATAS({"Oslo"}, Customer[City]), '
                    '"f", IF(HASONEFILTER(Customer[City]), 1, 0))')
    assert got == [("Ann", 1), ("Bob", 1)]
    # a row context filters nothing; CALCULATE's transition does (§7)
    got = rows(eng, 'EVALUATE ADDCOLUMNS(VALUES(Customer[City]), "f", HASONEFILTER(Customer[City]), '
                    '"c", CALCULATE(HASONEFILTER(Customer[City])))')
    assert got == srt([("Oslo", False, True), ("Rome", False, True)])


# ---------------------------------------------------------------- time intelligence in a row context
# dax.guide/DATESYTD ("Context Transition"): a dates column reference is
# CALCULATETABLE(DISTINCT(<dates>)), so in a row context the row transitions first.

@pytest.mark.parametrize("expr, expected", [
    # per year, YTD at the year's last date is the whole year: 2023 40 + 2024 60 = 100
    # (without the transition every row would see 2024-12-31: 60 + 60 = 120)
    ("SUMX(VALUES('Date'[Year]), CALCULATE([Sales], DATESYTD('Date'[Date])))", 100),
    ("SUMX(VALUES('Date'[Year]), TOTALYTD([Sales], 'Date'[Date]))", 100),
    ("SUMX(VALUES('Date'[Year]), TOTALYTD(SUM(Sales[Amount]), 'Date'[Date]))", 100),
    # previous year per year: 2023 → 2022 (no dates) BLANK, 2024 → 2023 = 40
    ("SUMX(VALUES('Date'[Year]), CALCULATE([Sales], PREVIOUSYEAR('Date'[Date])))", 40),
    ("SUMX(VALUES('Date'[Year]), CALCULATE([Sales], SAMEPERIODLASTYEAR('Date'[Date])))", 40),
    # the last date of each year: 2023-12-31 and 2024-12-31, no sales on either
    ("SUMX(VALUES('Date'[Year]), CALCULATE([Sales], LASTDATE('Date'[Date])))", None),
    ("COUNTROWS(FILTER(VALUES('Date'[Year]), MONTH(LASTDATE('Date'[Date])) = 12))", 2),
])
def test_time_intelligence_transitions_the_row(eng, expr, expected):
    assert scalar(eng, expr) == expected


def test_totalytd_in_a_calculated_column_of_the_date_table(eng):
    got = rows(eng, "EVALUATE SELECTCOLUMNS(FILTER('Date', 'Date'[Date] IN {DATE(2023, 12, 31), DATE(2024, 1, 9), "
                    "DATE(2024, 1, 10), DATE(2024, 2, 5), DATE(2024, 2, 20)}), \"d\", DAY('Date'[Date]), "
                    "\"m\", 'Date'[Month], \"y\", 'Date'[RowYTD])")
    # up to each day: 2023-12-31 → 40; 2024-01-09 → BLANK; 01-10 → 10; 02-05 → 30; 02-20 → 60
    assert got == srt([(31, 12, 40), (9, 1, None), (10, 1, 10), (5, 2, 30), (20, 2, 60)])


# ---------------------------------------------------------------- step 1: filter arguments see the outer context

@pytest.mark.parametrize("expr, expected", [
    # VALUES(City) is evaluated in the outer context, where the row context filters nothing:
    # {Oslo, Rome}, which then replaces the transitioned City: 100 on both rows
    ("CALCULATE([Sales], VALUES(Customer[City]))", {"Oslo": 100, "Rome": 100}),
    ("CALCULATE(SUM(Sales[Amount]), VALUES(Customer[City]))", {"Oslo": 100, "Rome": 100}),
    # KEEPFILTERS intersects {Oslo, Rome} with the row's city: own value
    ("CALCULATE([Sales], KEEPFILTERS(VALUES(Customer[City])))", {"Oslo": 60, "Rome": 40}),
    # CALCULATETABLE transitions the row before VALUES: {own city}
    ("CALCULATE([Sales], CALCULATETABLE(VALUES(Customer[City])))", {"Oslo": 60, "Rome": 40}),
])
def test_filter_arguments_are_evaluated_in_the_outer_context(eng, expr, expected):
    assert by_city(eng, expr) == expected
