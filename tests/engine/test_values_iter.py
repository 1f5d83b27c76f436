"""Iterators over VALUES(D[c]) in cells D does not reach (generator/engine/compiler/fn_values_iter.py):
hand-worked cases, each also run with the rewrite off (`Compiler.values_iter = False`, grouped
and per cell) to show the paths agree.

Rules the expected values follow:
- VALUES(column) returns the column's distinct values visible in the filter context, plus
  the blank row when the fact table has rows whose key the dimension lacks
  (https://dax.guide/values/, https://learn.microsoft.com/dax/values-function-dax). A
  filter on Customer does not reach Date (both filter Orders, one direction), so VALUES
  (Date[YM]) in a (customer, year) cell is the year's months.
- FILTER keeps the rows whose condition is TRUE (https://dax.guide/filter/); CALCULATE
  (or a measure reference) in FILTER's row context turns the row into a filter: context
  transition (https://www.sqlbi.com/articles/understanding-context-transition/). Without it,
  COUNTROWS(Orders) in the row context counts the cell's orders, whatever the month.
- COUNTROWS of an empty table is BLANK, not 0 (https://dax.guide/countrows/).
- BLANK compares as 0 with a number: BLANK > 0 is FALSE, BLANK < 2 is TRUE
  (https://learn.microsoft.com/dax/dax-operator-reference#comparison-operators).
- SUMX/AVERAGEX/MINX/MAXX/COUNTX skip BLANK values of their expression; no value left gives
  BLANK (https://dax.guide/sumx/, https://dax.guide/averagex/, https://dax.guide/minx/,
  https://dax.guide/maxx/, https://dax.guide/countx/).
- SUMMARIZECOLUMNS drops rows whose measures are all BLANK; its group-by values include a
  dimension's blank row when fact keys are missing from it (https://dax.guide/summarizecolumns/).
- KEEPFILTERS intersects its filter with the existing one
  (https://learn.microsoft.com/dax/keepfilters-function-dax).

The data (YM = year-month; customer 3 never orders):

    order customer date        amount | YM       Year
    1     1        2024-01-05  10     | 2024-01  2024
    2     1        2024-01-20  20     | 2024-01  2024
    3     1        2024-02-10  30     | 2024-02  2024
    4     1        2025-01-10  40     | 2025-01  2025
    5     2        2024-03-15  50     | 2024-03  2024
    6     2        2024-11-30  60     | 2024-11  2024
    7     2        2024-11-30   5     | 2024-11  2024
    8     2        2025-03-01  70     | BLANK    BLANK   date missing from Date
    9     99       2024-02-10  80     | 2024-02  2024    customer missing from Customer

Date holds 2024-01-05, 2024-01-20, 2024-02-10, 2024-03-15, 2024-11-30, 2025-01-10, 2025-02-14:
months 2024-01, 02, 03, 11 (2024) and 2025-01, 02 (2025); 2025-02 has no order.

Months with orders per (customer, year): (1, 2024) 01, 02 → 2; (1, 2025) 01 → 1;
(2, 2024) 03, 11 → 2; (2, BLANK year) the blank month (order 8) → 1; (BLANK customer, 2024)
02 → 1; every other cell BLANK (customer 3, (2, 2025): its 2025 order has no Date row).
All cells: 2024-01, 02, 03, 11, 2025-01 and BLANK → 6.
Sales per month: cust 1 2024: 01 30, 02 30; 2025: 01 40. cust 2 2024: 03 50, 11 65; BLANK 70.
cust 99: 02 80. All: 01 30, 02 110, 03 50, 11 65, 2025-01 40, BLANK 70 (sum 365).
"""
from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import pytest

from generator.engine import Engine
from generator.engine.compiler.query import Compiler
from generator.spec.model import Model, Relationship
from tests.engine.fixtures import P, col, measure, table

D = dt.date
CUSTOMER = table("Customer", col("ID", "int64", True), col("Name", "string"), col("Segment", "string"))
DATE = table("Date", col("Date", "date", True), col("Year", "int64"), col("YM", "string"))
ORDERS = table("Orders", col("OrderID", "int64", True), col("CustomerID", "int64"), col("OrderDate", "date"),
               col("Amount", "decimal"))
RELS = (Relationship("Orders", "CustomerID", "Customer", "ID", P),
        Relationship("Orders", "OrderDate", "Date", "Date", P))

CUSTOMERS = [(1, "Ann", "A"), (2, "Bob", "B"), (3, "Cid", "A")]
DATES = [(D(2024, 1, 5), 2024, "2024-01"), (D(2024, 1, 20), 2024, "2024-01"), (D(2024, 2, 10), 2024, "2024-02"),
         (D(2024, 3, 15), 2024, "2024-03"), (D(2024, 11, 30), 2024, "2024-11"), (D(2025, 1, 10), 2025, "2025-01"),
         (D(2025, 2, 14), 2025, "2025-02")]
ORDER_ROWS = [(1, 1, D(2024, 1, 5), 10), (2, 1, D(2024, 1, 20), 20), (3, 1, D(2024, 2, 10), 30),
              (4, 1, D(2025, 1, 10), 40), (5, 2, D(2024, 3, 15), 50), (6, 2, D(2024, 11, 30), 60),
              (7, 2, D(2024, 11, 30), 5), (8, 2, D(2025, 3, 1), 70), (9, 99, D(2024, 2, 10), 80)]

MEASURES = (
    measure("Orders", "COUNTROWS(Orders)", "Orders"),
    measure("Sales", "SUM(Orders[Amount])", "Orders"),
    # the shipped measure (measures/health.yaml)
    measure("Months Active", "COUNTROWS(FILTER(VALUES('Date'[YM]), CALCULATE(COUNTROWS(Orders)) > 0))", "Orders"),
    measure("Months Active M", "COUNTROWS(FILTER(VALUES('Date'[YM]), [Orders] > 0))", "Orders"),
    measure("Months Active L", "COUNTROWS(FILTER(VALUES('Date'[YM]), 0 < [Orders]))", "Orders"),
    measure("Busy Months", "COUNTROWS(FILTER(VALUES('Date'[YM]), [Orders] >= 2))", "Orders"),
    measure("Early Months Active", "CALCULATE([Months Active], KEEPFILTERS('Date'[YM] IN {\"2024-01\", \"2024-02\", "
                                   "\"2025-01\"}))", "Orders"),
    measure("Sum Monthly", "SUMX(VALUES('Date'[YM]), [Sales])", "Orders"),
    measure("Avg Monthly", "AVERAGEX(VALUES('Date'[YM]), [Sales])", "Orders"),
    measure("Max Monthly", "MAXX(VALUES('Date'[YM]), CALCULATE(SUM(Orders[Amount])))", "Orders"),
    measure("Min Monthly", "MINX(VALUES('Date'[YM]), [Sales])", "Orders"),
    measure("Count Monthly", "COUNTX(VALUES('Date'[YM]), [Sales])", "Orders"),
    # shapes that keep the plain compile
    measure("Quiet Months", "COUNTROWS(FILTER(VALUES('Date'[YM]), [Orders] < 2))", "Orders"),
    measure("Months No Transition", "COUNTROWS(FILTER(VALUES('Date'[YM]), COUNTROWS(Orders) > 0))", "Orders"),
    measure("Sum Plus One", "SUMX(VALUES('Date'[YM]), [Sales] + 1)", "Orders"),
)


def _engine() -> Engine:
    model = Model("ValuesIter", "en-US", (CUSTOMER, DATE, ORDERS), RELS, MEASURES, (), Path("."))
    return Engine(model, data={"Customer": CUSTOMERS, "Date": DATES, "Orders": ORDER_ROWS})


@pytest.fixture(scope="module")
def eng() -> Engine:
    return _engine()


def _py(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (Decimal, float)) or hasattr(v, "item"):
        v = float(v)
        return int(v) if v.is_integer() else round(v, 9)
    return v


def _rows(e: Engine, dax: str) -> list[tuple]:
    return sorted((tuple(_py(v) for v in r) for r in e.query(dax).itertuples(index=False)), key=repr)


def _both_paths(e: Engine, dax: str, monkeypatch) -> tuple[list[tuple], bool]:
    """The rows with the rewrite on, after checking the rewrite off (grouped and per cell)
    gives the same rows; and whether the rewrite changed the SQL."""
    rows = _rows(e, dax)
    sql_on = e.sql(dax)
    monkeypatch.setattr(Compiler, "values_iter", False)
    try:
        sql_off = e.sql(dax)
        for grouped in (True, False):
            e.grouped = grouped
            e.clear_cache()
            assert _rows(e, dax) == rows, f"rewrite off (grouped={grouped}) differs"
    finally:
        e.grouped = True
        monkeypatch.setattr(Compiler, "values_iter", True)
        e.clear_cache()
    return rows, sql_on != sql_off


def _by_customer_year(*measures: str, filters: str = "") -> str:
    cols = ", ".join(f'"{m}", [{m}]' for m in measures)
    return ("EVALUATE SUMMARIZECOLUMNS(ROLLUPADDISSUBTOTAL(ROLLUPGROUP(Customer[ID], 'Date'[Year]), \"total\")"
            f"{filters}, {cols})")


MONTHS = sorted([(1, 2024, False, 2), (1, 2025, False, 1), (2, 2024, False, 2), (2, None, False, 1),
                 (None, 2024, False, 1), (None, None, True, 6)], key=repr)


@pytest.mark.parametrize("name", ["Months Active", "Months Active M", "Months Active L"])
def test_months_active_per_customer_and_year(eng, monkeypatch, name):
    rows, rewritten = _both_paths(eng, _by_customer_year(name), monkeypatch)
    assert rows == MONTHS
    assert rewritten


def test_slicer_on_another_dimension(eng, monkeypatch):
    # segment A: customers 1 and 3; 3 has no orders (empty cells dropped); total: 2024-01, 02, 2025-01
    dax = _by_customer_year("Months Active", filters=", TREATAS({\"A\"}, Customer[Segment])")
    rows, rewritten = _both_paths(eng, dax, monkeypatch)
    assert rows == sorted([(1, 2024, False, 2), (1, 2025, False, 1), (None, None, True, 3)], key=repr)
    assert rewritten


def test_slicer_on_the_iterated_dimension_restricts_values(eng, monkeypatch):
    # months 2024-01 and 2024-11 only: (1, 2024) 01; (2, 2024) 11; customer 99's 2024-02 and
    # the blank month are filtered out; 2025 has no visible month
    dax = _by_customer_year("Months Active", filters=", TREATAS({\"2024-01\", \"2024-11\"}, 'Date'[YM])")
    rows, rewritten = _both_paths(eng, dax, monkeypatch)
    assert rows == sorted([(1, 2024, False, 1), (2, 2024, False, 1), (None, None, True, 2)], key=repr)
    assert rewritten


def test_keepfilters_in_the_measure(eng, monkeypatch):
    # months 2024-01, 2024-02, 2025-01 kept: (1, 2024) 2; (1, 2025) 1; (2, 2024) none (03, 11);
    # (2, BLANK) none; (99, 2024) 02 → 1; total 01, 02, 2025-01 → 3
    rows, rewritten = _both_paths(eng, _by_customer_year("Early Months Active"), monkeypatch)
    assert rows == sorted([(1, 2024, False, 2), (1, 2025, False, 1), (None, 2024, False, 1),
                           (None, None, True, 3)], key=repr)
    assert rewritten


def test_grouped_by_another_dimension_only(eng, monkeypatch):
    # segment A (customer 1): 2024-01, 02, 2025-01 → 3; B (customer 2): 03, 11, BLANK → 3;
    # the blank segment (customer 99): 02 → 1
    dax = 'EVALUATE SUMMARIZECOLUMNS(Customer[Segment], "m", [Months Active])'
    rows, rewritten = _both_paths(eng, dax, monkeypatch)
    assert rows == sorted([("A", 3), ("B", 3), (None, 1)], key=repr)
    assert rewritten


def test_busy_months(eng, monkeypatch):
    # months with 2 orders or more: (1, 2024) 01; (2, 2024) 11; others BLANK; overall 01 (1, 2),
    # 02 (3, 9), 11 (6, 7) → 3
    rows, rewritten = _both_paths(eng, _by_customer_year("Busy Months"), monkeypatch)
    assert rows == sorted([(1, 2024, False, 1), (2, 2024, False, 1), (None, None, True, 3)], key=repr)
    assert rewritten


def test_iterators_over_the_months(eng, monkeypatch):
    dax = _by_customer_year("Sum Monthly", "Avg Monthly", "Max Monthly", "Min Monthly", "Count Monthly")
    rows, rewritten = _both_paths(eng, dax, monkeypatch)
    assert rows == sorted([
        (1, 2024, False, 60, 30, 30, 30, 2),
        (1, 2025, False, 40, 40, 40, 40, 1),
        (2, 2024, False, 115, 57.5, 65, 50, 2),
        (2, None, False, 70, 70, 70, 70, 1),
        (None, 2024, False, 80, 80, 80, 80, 1),
        # 365 over the 6 months with sales (2025-02 has none: skipped)
        (None, None, True, 365, round(365 / 6, 9), 110, 30, 6)], key=repr)
    assert rewritten


def test_blank_true_comparison_keeps_the_plain_compile(eng, monkeypatch):
    # [Orders] < 2 holds for months without orders (BLANK < 2): (1, 2024) 02, 03, 11 → 3;
    # (1, 2025) 2025-01 (1 order), 02 → 2; (1, BLANK) the blank month, no order of 1 → 1;
    # (2, 2024) 01, 02, 03 → 3; (2, 2025) 2; (2, BLANK) 1 order → 1; customer 3: 4, 2, 1;
    # (99, 2024) 01, 02 (1 order), 03, 11 → 4; (99, 2025) 2; (99, BLANK) 1;
    # total: 03 (1), 2025-01 (1), 2025-02 (0), BLANK (1) → 4
    rows, rewritten = _both_paths(eng, _by_customer_year("Quiet Months"), monkeypatch)
    assert rows == sorted([(1, 2024, False, 3), (1, 2025, False, 2), (1, None, False, 1),
                           (2, 2024, False, 3), (2, 2025, False, 2), (2, None, False, 1),
                           (3, 2024, False, 4), (3, 2025, False, 2), (3, None, False, 1),
                           (None, 2024, False, 4), (None, 2025, False, 2), (None, None, False, 1),
                           (None, None, True, 4)], key=repr)
    assert not rewritten


def test_no_context_transition_keeps_the_plain_compile(eng, monkeypatch):
    # COUNTROWS(Orders) without CALCULATE counts the cell's orders for every month: all the
    # cell's months when it has orders: (1, 2024) 4; (1, 2025) 2; (2, 2024) 4; (2, BLANK) 1;
    # (99, 2024) 4; total: 6 months + the blank one = 7
    rows, rewritten = _both_paths(eng, _by_customer_year("Months No Transition"), monkeypatch)
    assert rows == sorted([(1, 2024, False, 4), (1, 2025, False, 2), (2, 2024, False, 4), (2, None, False, 1),
                           (None, 2024, False, 4), (None, None, True, 7)], key=repr)
    assert not rewritten


def test_non_strict_body_keeps_the_plain_compile(eng, monkeypatch):
    # [Sales] + 1 is 1 for a month without sales (BLANK + 1): (1, 2024) 31 + 31 + 1 + 1 = 64
    dax = 'EVALUATE SUMMARIZECOLUMNS(Customer[ID], \'Date\'[Year], TREATAS({1}, Customer[ID]), ' \
          'TREATAS({2024}, \'Date\'[Year]), "s", [Sum Plus One])'
    rows, rewritten = _both_paths(eng, dax, monkeypatch)
    assert rows == [(1, 2024, 64)]
    assert not rewritten
