"""Adversarial checks of the speed-ups (optimizer/scan_sharing / ScanCache, FILTER VAR hoisting,
RANKX lookup, time-intelligence range predicates). Every expected value is worked out by
hand from the reference rows (tests/engine/fixtures.py):

  Customer: 1 Ann Oslo, 2 Bob Oslo, 3 Cid Rome, 4 Dan Rome
  Sales: 1 cust1 2024-01-10 Qty2 Amt10 Promo A    Disc 1
         2 cust1 2024-02-05 Qty1 Amt20 Promo -    Disc -
         3 cust2 2024-02-20 Qty5 Amt30 Promo B    Disc 3
         4 cust3 2023-02-15 Qty1 Amt40 Promo A    Disc 0
  orphan 5 cust9 2024-03-01 Qty1 Amt5  Promo -    Disc -
Each query also runs in three forms: cached (default), CTE (scan_cache=None) and per-cell
(grouped=False)."""
from __future__ import annotations

import datetime as dt
import math

import pytest

from generator.engine import DaxEvalError
from generator.engine.errors import DaxCompileError
from tests.engine.fixtures import ORDERS, engine, measure

NULL_CUST = (6, None, dt.date(2024, 4, 1), 1, 7, "C", 2)  # a fact row with a BLANK key


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
    if isinstance(v, float) and v == int(v):
        v = int(v)
    return v


def rows(e, dax):
    frame = e.query(dax)
    got = [tuple(_norm(x) for x in r) for r in frame.itertuples(index=False, name=None)]
    return sorted(got, key=repr)


MODES = ("cached", "cte", "per_cell")


def run(mode, dax, *measures, **kw):
    e = engine(*measures, **kw)
    if mode == "cte":
        e.scan_cache = None
    elif mode == "per_cell":
        e.grouped = False
    return rows(e, dax)


def srt(xs):
    return sorted(xs, key=repr)


# ---------------------------------------------------------------- shared scans: BLANK keys

@pytest.mark.parametrize("mode", MODES)
def test_distinctcount_and_count_with_blank_keys_by_city(mode):
    dax = """EVALUATE SUMMARIZECOLUMNS(ROLLUPADDISSUBTOTAL(Customer[City], "T"),
        "C", COUNT(Sales[CustomerID]), "N", [Orders], "D", DISTINCTCOUNT(Sales[CustomerID]),
        "DN", DISTINCTCOUNTNOBLANK(Sales[CustomerID]), "Lo", MIN(Sales[CustomerID]), "Hi", MAX(Sales[CustomerID]),
        "P", DISTINCTCOUNT(Sales[Promo]), "K", COUNT(Sales[Discount]))"""
    got = run(mode, dax, orphan=True, orders=ORDERS + [NULL_CUST])
    # rows: 1..4 as in the fixture, orphan (cust 9), row 6 (cust BLANK, Promo C, Disc 2)
    # Oslo = orders 1,2,3: COUNT(cust)=3, N=3, D={1,2}=2, DN=2, min 1 max 2,
    #        Promo {A, blank, B}=3, Discount non-blank {1,3}=2
    # Rome = order 4: 1,1,1,1, 3,3, Promo {A}=1, Discount {0}=1
    # BLANK city = orphan + row 6: COUNT(cust)=1 (9; BLANK not counted), N=2, D={9, BLANK}=2,
    #        DN={9}=1, min 9 max 9, Promo {blank, C}=2, Discount {2}=1
    # total: COUNT=5, N=6, D={1,2,3,9,BLANK}=5, DN=4, min 1 max 9, Promo {A,B,C,blank}=4, Disc {1,3,0,2}=4
    assert got == srt([
        (None, True, 5, 6, 5, 4, 1, 9, 4, 4),
        (None, False, 1, 2, 2, 1, 9, 9, 2, 1),
        ("Oslo", False, 3, 3, 2, 2, 1, 2, 3, 2),
        ("Rome", False, 1, 1, 1, 1, 3, 3, 1, 1),
    ])


@pytest.mark.parametrize("mode", MODES)
def test_dimension_filters_that_match_the_blank_row(mode):
    dax = """EVALUATE ROW(
        "NotOslo", CALCULATE([Sales], Customer[City] <> "Oslo"),
        "BlankCity", CALCULATE([Sales], Customer[City] = BLANK()),
        "IsBlank", CALCULATE([Sales], ISBLANK(Customer[City])),
        "DNotOslo", CALCULATE(DISTINCTCOUNT(Sales[CustomerID]), Customer[City] <> "Oslo"),
        "Oslo", CALCULATE([Orders], Customer[City] = "Oslo"))"""
    got = run(mode, dax, orphan=True)
    # <> "Oslo": Rome 40 + blank row (orphan 5) = 45 (BLANK <> "Oslo" is true, §4 blank row);
    # = BLANK(): orphan 5; ISBLANK: 5; distinct customers not Oslo: {3, 9} = 2; Oslo orders: 3
    assert got == [(45, 5, 5, 2, 3)]


@pytest.mark.parametrize("mode", MODES)
def test_treatas_slicer_and_dimension_grouping(mode):
    dax = """EVALUATE SUMMARIZECOLUMNS(Customer[Name], TREATAS({"Oslo"}, Customer[City]),
        "S", [Sales], "D", DISTINCTCOUNT(Sales[Promo]), "Q", MAX(Sales[Qty]))"""
    # Ann: 10+20, Promo {A, blank} = 2, max qty 2; Bob: 30, {B} = 1, 5
    assert run(mode, dax, orphan=True) == [("Ann", 30, 2, 2), ("Bob", 30, 1, 5)]


def test_cache_sequence_on_one_engine_matches_hand_values():
    e = engine(orphan=True)
    q = lambda dax: rows(e, dax)  # noqa: E731
    # 1. per name (orphan under BLANK name): Ann 30 / max 2, Bob 30 / 5, Cid 40 / 1, BLANK 5 / 1
    assert q('EVALUATE SUMMARIZECOLUMNS(Customer[Name], "S", [Sales], "Q", MAX(Sales[Qty]))') == srt(
        [("Ann", 30, 2), ("Bob", 30, 5), ("Cid", 40, 1), (None, 5, 1)])
    # 2. coarser: the total: max qty 5, min qty 1, 5 orders, distinct promo {A, B, blank} = 3
    assert q('EVALUATE ROW("Q", MAX(Sales[Qty]), "M", MIN(Sales[Qty]), "N", [Orders], '
             '"P", DISTINCTCOUNT(Sales[Promo]))') == [(5, 1, 5, 3)]
    # 3. per city, a new aggregate: min amount Oslo 10, Rome 40, BLANK 5
    assert q('EVALUATE SUMMARIZECOLUMNS(Customer[City], "m", MIN(Sales[Amount]))') == srt(
        [("Oslo", 10), ("Rome", 40), (None, 5)])
    # 4. per year: 2023 40; 2024 10+20+30+5 = 65
    assert q("EVALUATE SUMMARIZECOLUMNS('Date'[Year], \"S\", [Sales])") == [(2023, 40), (2024, 65)]
    # 5. year x city: (2023 Rome 40), (2024 Oslo 60), (2024 BLANK 5)
    assert q("EVALUATE SUMMARIZECOLUMNS('Date'[Year], Customer[City], \"S\", [Sales])") == srt(
        [(2023, "Rome", 40), (2024, "Oslo", 60), (2024, None, 5)])
    # 6. distinct customers per year: 2023 {3} = 1; 2024 {1, 2, 9} = 3
    assert q("EVALUATE SUMMARIZECOLUMNS('Date'[Year], \"D\", DISTINCTCOUNT(Sales[CustomerID]))") == [
        (2023, 1), (2024, 3)]
    # 7. a failing query, then the cache must still answer correctly
    with pytest.raises((DaxCompileError, DaxEvalError)):
        e.query('EVALUATE ROW("x", [No Such Measure])')
    assert q('EVALUATE SUMMARIZECOLUMNS(Customer[City], "S", [Sales], "N", [Orders])') == srt(
        [("Oslo", 60, 3), ("Rome", 40, 1), (None, 5, 1)])
    # 8. a filter on a dimension attribute over cached rows: not Oslo = Rome 40 + orphan 5
    assert q('EVALUATE ROW("S", CALCULATE([Sales], Customer[City] <> "Oslo"), '
             '"Q", CALCULATE(MAX(Sales[Qty]), Customer[City] <> "Oslo"))') == [(45, 1)]


def test_query_after_a_runtime_error_keeps_cache_consistent():
    e = engine()
    assert rows(e, 'EVALUATE SUMMARIZECOLUMNS(Customer[City], "S", [Sales])') == [("Oslo", 60), ("Rome", 40)]
    # DATEADD over non-contiguous dates (Jan and Mar) is an error
    with pytest.raises(DaxEvalError):
        e.query("EVALUATE SUMMARIZECOLUMNS(TREATAS({1, 3}, 'Date'[Month]), \"S\", "
                "CALCULATE([Sales], DATEADD('Date'[Date], -1, MONTH)))")
    # Ann 30, Bob 30, Cid 40; orders 2, 1, 1
    assert rows(e, 'EVALUATE SUMMARIZECOLUMNS(Customer[Name], "S", [Sales], "N", [Orders])') == [
        ("Ann", 30, 2), ("Bob", 30, 1), ("Cid", 40, 1)]


def test_multiple_evaluates_in_one_query_string():
    e = engine()
    frames = e.query_all("""
        EVALUATE SUMMARIZECOLUMNS(Customer[Name], "S", [Sales])
        EVALUATE SUMMARIZECOLUMNS(Customer[City], "Q", MAX(Sales[Qty]), "S", [Sales])
        EVALUATE ROW("N", [Orders], "P", DISTINCTCOUNT(Sales[Promo]), "D", DISTINCTCOUNT(Sales[CustomerID]))
        EVALUATE SUMMARIZECOLUMNS(Customer[Name], "Q", MIN(Sales[Qty]), "S", [Sales])""")
    got = [srt([tuple(_norm(x) for x in r) for r in f.itertuples(index=False, name=None)]) for f in frames]
    assert got == [
        [("Ann", 30), ("Bob", 30), ("Cid", 40)],
        [("Oslo", 5, 60), ("Rome", 1, 40)],  # max qty Oslo max(2,1,5)=5, Rome 1
        [(4, 3, 3)],  # 4 orders, promo {A, blank, B} = 3, customers {1, 2, 3} = 3
        [("Ann", 1, 30), ("Bob", 5, 30), ("Cid", 1, 40)],  # min qty Ann min(2,1)=1
    ]


# ---------------------------------------------------------------- RANKX lookup

RANKS = [
    measure("Rk", "RANKX(ALL(Customer[Name]), [Sales])"),
    measure("RkD", "RANKX(ALL(Customer[Name]), [Sales],,,Dense)"),
    measure("RkA", "RANKX(ALL(Customer[Name]), [Sales],,ASC)"),
    measure("RkAD", "RANKX(ALL(Customer[Name]), [Sales],,ASC,Dense)"),
]


@pytest.mark.parametrize("mode", MODES)
def test_rankx_ties_blank_asc_dense(mode):
    dax = 'EVALUATE ADDCOLUMNS(VALUES(Customer[Name]), "R", [Rk], "D", [RkD], "A", [RkA], "AD", [RkAD])'
    # Sales: Cid 40, Ann 30, Bob 30, Dan BLANK (ranked as 0)
    # DESC skip: Cid 1, Ann 2, Bob 2, Dan 4; dense: 1, 2, 2, 3
    # ASC skip: Dan 1, Ann 2, Bob 2, Cid 4; dense: Dan 1, Ann 2, Bob 2, Cid 3
    assert run(mode, dax, *RANKS) == [("Ann", 2, 2, 2, 2), ("Bob", 2, 2, 2, 2), ("Cid", 1, 1, 4, 3),
                                      ("Dan", 4, 3, 1, 1)]


@pytest.mark.parametrize("mode", MODES)
def test_rankx_value_outside_the_table(mode):
    t = "ALL(Customer[Name]), CALCULATE([Sales])"
    dax = f"""EVALUATE ROW("a", RANKX({t}, 35), "b", RANKX({t}, 30), "c", RANKX({t}, 50),
        "d", RANKX({t}, -5), "e", RANKX({t}, BLANK()), "f", RANKX({t}, -5,, Dense),
        "g", RANKX({t}, 35, ASC), "h", RANKX({t}, 35, ASC, Dense), "i", RANKX({t}, 100, ASC))"""
    # values {40, 30, 30, 0 (Dan BLANK)}
    # DESC: 35 -> 1 better (40) -> 2; 30 -> 2; 50 -> 1; -5 -> 4 better -> 5; BLANK = 0 -> 3 better -> 4
    # DESC dense -5: distinct better {40, 30, 0} -> 4
    # ASC 35: better (smaller) {0, 30, 30} -> 4; ASC dense 35: {0, 30} -> 3; ASC 100: 4 better -> 5
    assert run(mode, dax) == [(2, 2, 1, 5, 4, 4, 4, 3, 5)]


@pytest.mark.parametrize("mode", MODES)
def test_rankx_values_depending_on_the_outer_row_are_not_looked_up(mode):
    dax = """EVALUATE ADDCOLUMNS(VALUES(Customer[City]), "R", RANKX(ALL(Customer[Name]), CALCULATE([Sales]), 30),
        "R2", RANKX(ALL(Customer[Name]), CALCULATE([Sales])))"""
    # CALCULATE inside RANKX transitions both rows (city, name):
    # Oslo: {Ann 30, Bob 30, Cid -, Dan -}: 30 -> nobody better -> 1;
    #   R2 value = CALCULATE([Sales]) of Oslo = 60 -> 1
    # Rome: {Ann -, Bob -, Cid 40, Dan -}: 30 -> 1 better -> 2; R2 value = Rome 40 -> 1
    assert run(mode, dax) == [("Oslo", 1, 1), ("Rome", 2, 1)]


@pytest.mark.parametrize("mode", MODES)
def test_rankx_dates_with_blank(mode):
    dax = """EVALUATE ADDCOLUMNS(VALUES(Customer[Name]),
        "D", RANKX(ALL(Customer[Name]), CALCULATE(MAX(Sales[OrderDate]))),
        "A", RANKX(ALL(Customer[Name]), CALCULATE(MAX(Sales[OrderDate])),, ASC))"""
    # last order: Ann 2024-02-05, Bob 2024-02-20, Cid 2023-02-15, Dan BLANK (lowest)
    # DESC: Bob 1, Ann 2, Cid 3, Dan 4; ASC: Dan 1, Cid 2, Ann 3, Bob 4
    assert run(mode, dax) == [("Ann", 2, 3), ("Bob", 1, 4), ("Cid", 3, 2), ("Dan", 4, 1)]


@pytest.mark.parametrize("mode", MODES)
def test_rankx_text_values(mode):
    dax = """EVALUATE ADDCOLUMNS(VALUES(Customer[Name]),
        "D", RANKX(ALL(Customer[Name]), CALCULATE(MAX(Customer[Name]))))"""
    # DESC by name: Dan 1, Cid 2, Bob 3, Ann 4
    assert run(mode, dax) == [("Ann", 4), ("Bob", 3), ("Cid", 2), ("Dan", 1)]


# ---------------------------------------------------------------- FILTER with VARs

@pytest.mark.parametrize("mode", MODES)
def test_filter_var_used_twice(mode):
    dax = """EVALUATE ROW("One", COUNTROWS(FILTER(VALUES(Sales[CustomerID]),
            VAR n = CALCULATE(COUNTROWS(Sales)) RETURN n >= 1 && n < 2)),
        "Multi", COUNTROWS(FILTER(VALUES(Sales[CustomerID]), VAR n = CALCULATE(COUNTROWS(Sales)) RETURN n > 1 || n = 0)))"""
    # orders per customer: 1 -> 2, 2 -> 1, 3 -> 1, 9 (orphan) -> 1
    # exactly one: {2, 3, 9} = 3; more than one (none has 0 in VALUES of the fact): {1} = 1
    assert run(mode, dax, orphan=True) == [(3, 1)]


@pytest.mark.parametrize("mode", MODES)
def test_filter_var_depending_on_outer_row_via_context_transition(mode):
    dax = """EVALUATE ROW("X", SUMX(VALUES(Customer[City]),
        COUNTROWS(FILTER(VALUES(Customer[Name]), VAR n = CALCULATE(COUNTROWS(Sales)) RETURN n >= 1))))"""
    # VALUES(Customer[Name]) is all 4 names in each city (a row context does not filter);
    # CALCULATE transitions city and name: Oslo: Ann, Bob -> 2; Rome: Cid -> 1; sum 3
    # (ignoring the city row would give 3 + 3 = 6)
    assert run(mode, dax) == [(3,)]


@pytest.mark.parametrize("mode", MODES)
def test_filter_var_depending_on_outer_var(mode):
    dax = """EVALUATE ROW("X", SUMX(DATATABLE("Lo", INTEGER, {{1}, {2}}), VAR lo = [Lo]
        RETURN COUNTROWS(FILTER(VALUES(Sales[CustomerID]), VAR n = CALCULATE(COUNTROWS(Sales), Sales[Qty] >= lo)
        RETURN n >= 1))))"""
    # lo = 1: customers with an order of qty >= 1: {1, 2, 3} = 3
    # lo = 2: orders of qty >= 2: order 1 (cust 1, qty 2), order 3 (cust 2, qty 5) -> 2; sum 5
    assert run(mode, dax) == [(5,)]


@pytest.mark.parametrize("mode", MODES)
def test_filter_var_over_values_with_blank_row(mode):
    dax = """EVALUATE SUMMARIZECOLUMNS(ROLLUPADDISSUBTOTAL('Date'[Year], "T"),
        "C", COUNTROWS(FILTER(VALUES(Customer[City]), VAR n = CALCULATE(COUNTROWS(Sales)) RETURN n >= 1)),
        "Z", COUNTROWS(FILTER(VALUES(Customer[Name]), VAR s = CALCULATE([Sales]) RETURN ISBLANK(s))))"""
    # VALUES(Customer[City]) with an orphan: Oslo, Rome, BLANK (Date does not filter Customer)
    # 2023: only Rome has orders -> 1; 2024: Oslo and BLANK (orphan 2024-03-01) -> 2; total 3
    # names without sales (blank row name included in VALUES(Customer[Name])):
    # 2023: Ann, Bob, Dan, BLANK-name -> 4; 2024: Cid, Dan -> 2; total: Dan -> 1
    assert run(mode, dax, orphan=True) == srt([(2023, False, 1, 4), (2024, False, 2, 2), (None, True, 3, 1)])


@pytest.mark.parametrize("mode", MODES)
def test_filter_var_text_and_nested_iterators(mode):
    dax = """EVALUATE ROW(
        "A", COUNTROWS(FILTER(VALUES(Customer[Name]), VAR m = CALCULATE(MAX(Sales[Promo])) RETURN m = "A")),
        "N", SUMX(VALUES(Customer[City]), COUNTROWS(FILTER(VALUES(Customer[Name]),
                 VAR s = CALCULATE([Sales]) RETURN s > 25))),
        "Q", SUMX(FILTER(VALUES(Sales[CustomerID]), VAR q = CALCULATE(SUM(Sales[Qty])) VAR a = CALCULATE([Sales])
                 RETURN q >= 2 && a < 40), CALCULATE([Sales])))"""
    # A: max promo Ann {A, blank} -> "A", Bob B, Cid A, Dan blank -> 2 (Ann, Cid)
    # N: Oslo: Ann 30, Bob 30 > 25 -> 2; Rome: Cid 40 -> 1; total 3
    # Q: qty per customer 1 -> 3, 2 -> 5, 3 -> 1; sales 30, 30, 40: customers 1, 2 -> 30 + 30 = 60
    assert run(mode, dax) == [(2, 3, 60)]


@pytest.mark.parametrize("mode", MODES)
def test_filter_var_in_cells_with_slicer(mode):
    dax = """EVALUATE SUMMARIZECOLUMNS(Customer[City], TREATAS({2024}, 'Date'[Year]),
        "C", COUNTROWS(FILTER(VALUES(Sales[CustomerID]), VAR q = CALCULATE(SUM(Sales[Qty])) RETURN q >= 2)))"""
    # 2024 orders: cust1 qty 2+1 = 3, cust2 5 (both Oslo); Rome has no 2024 orders
    assert run(mode, dax) == [("Oslo", 2)]


# ---------------------------------------------------------------- time intelligence as filters

TI = [
    measure("Between", "CALCULATE([Sales], DATESBETWEEN('Date'[Date], DATE(2024, 1, 1), DATE(2024, 2, 10)))"),
    measure("InPeriod", "CALCULATE([Sales], DATESINPERIOD('Date'[Date], DATE(2024, 2, 20), -1, MONTH))"),
    measure("YTD", "CALCULATE([Sales], DATESYTD('Date'[Date]))"),
    measure("PM", "CALCULATE([Sales], PREVIOUSMONTH('Date'[Date]))"),
    measure("OsloYTD", "CALCULATE([Sales], DATESYTD('Date'[Date]), Customer[City] = \"Oslo\")"),
]


@pytest.mark.parametrize("mode", MODES)
def test_time_intelligence_filters_by_month(mode):
    dax = """EVALUATE SUMMARIZECOLUMNS('Date'[Month], TREATAS({2024}, 'Date'[Year]),
        "Y", [YTD], "P", [PM], "O", [OsloYTD], "B", [Between], "I", [InPeriod])"""
    got = run(mode, dax, *TI, orphan=True)
    # 2024 sales: Jan 10 (Ann), Feb 20 + 30 (Ann, Bob), Mar 5 (orphan)
    # YTD: Jan 10, Feb 60, Mar.. 65; PM: Feb 10, Mar 50, Apr 5, else BLANK
    # Oslo YTD: Jan 10, Feb.. 60; Between (Jan 1 - Feb 10 2024) = 10 + 20 = 30 in every month
    # InPeriod (Jan 20 - Feb 20 2024] = 20 + 30 = 50 in every month (filters on Date removed)
    exp_rows = []
    for m in range(1, 13):
        y = 10 if m == 1 else 60 if m == 2 else 65
        p = {2: 10, 3: 50, 4: 5}.get(m)
        o = 10 if m == 1 else 60
        exp_rows.append((m, y, p, o, 30, 50))
    assert got == srt(exp_rows)


@pytest.mark.parametrize("mode", MODES)
def test_date_range_does_not_reach_fact_dates_outside_the_date_table(mode):
    late = (6, 1, dt.date(2025, 1, 5), 1, 100, "A", 1)  # a date the Date table (2023-2024) lacks
    dax = """EVALUATE ROW(
        "B", CALCULATE([Sales], DATESBETWEEN('Date'[Date], DATE(2024, 12, 1), DATE(2025, 12, 31))),
        "B2", CALCULATE([Sales], DATESBETWEEN('Date'[Date], DATE(2024, 2, 1), BLANK())),
        "I", CALCULATE([Sales], DATESINPERIOD('Date'[Date], DATE(2025, 1, 31), -3, MONTH)),
        "All", [Sales])"""
    # the date sets hold only dates of the Date table: Dec 2024 (no sales) -> BLANK;
    # Feb 2024 on: 20 + 30 = 50; (2024-10-31, 2025-01-31] within the table: Nov-Dec 2024 -> BLANK;
    # all sales: 10 + 20 + 30 + 40 + 100 = 200
    assert run(mode, dax, orders=ORDERS + [late]) == [(None, 50, None, 200)]


@pytest.mark.parametrize("mode", MODES)
def test_time_intelligence_with_keepfilters_and_filter(mode):
    dax = """EVALUATE SUMMARIZECOLUMNS('Date'[Month], TREATAS({1, 2}, 'Date'[Month]),
        "K", CALCULATE([Sales], KEEPFILTERS(DATESBETWEEN('Date'[Date], DATE(2024, 1, 1), DATE(2024, 12, 31)))),
        "F", CALCULATE([Sales], FILTER(DATESBETWEEN('Date'[Date], DATE(2023, 1, 1), DATE(2024, 12, 31)),
                                       MONTH('Date'[Date]) = 2)))"""
    # K keeps the month filter: Jan 2024 10; Feb 2024 20 + 30 = 50
    # F: February dates of 2023-2024 replace the month filter: 40 + 20 + 30 = 90 in both rows
    assert run(mode, dax) == [(1, 10, 90), (2, 50, 90)]


def test_cache_distinct_counts_under_different_dimension_filters():
    e = engine(orphan=True)
    q = lambda dax: rows(e, dax)  # noqa: E731
    # Oslo orders 1, 2, 3: promo {A, blank, B} = 3, customers {1, 2} = 2
    assert q('EVALUATE ROW("P", CALCULATE(DISTINCTCOUNT(Sales[Promo]), Customer[City] = "Oslo"), '
             '"D", CALCULATE(DISTINCTCOUNT(Sales[CustomerID]), Customer[City] = "Oslo"))') == [(3, 2)]
    # not Oslo: order 4 (Rome, A) + orphan (BLANK city, blank promo): promo {A, blank} = 2, customers {3, 9} = 2
    assert q('EVALUATE ROW("P", CALCULATE(DISTINCTCOUNT(Sales[Promo]), Customer[City] <> "Oslo"), '
             '"D", CALCULATE(DISTINCTCOUNT(Sales[CustomerID]), Customer[City] <> "Oslo"))') == [(2, 2)]
    # per name, then per city: promo {A, blank} Ann 2, Bob {B} 1, Cid {A} 1, BLANK name {blank} 1
    assert q('EVALUATE SUMMARIZECOLUMNS(Customer[Name], "P", DISTINCTCOUNT(Sales[Promo]))') == srt(
        [("Ann", 2), ("Bob", 1), ("Cid", 1), (None, 1)])
    assert q('EVALUATE SUMMARIZECOLUMNS(Customer[City], "P", DISTINCTCOUNT(Sales[Promo]))') == srt(
        [("Oslo", 3), ("Rome", 1), (None, 1)])
    # total: {A, B, blank} = 3
    assert q('EVALUATE ROW("P", DISTINCTCOUNT(Sales[Promo]))') == [(3,)]
