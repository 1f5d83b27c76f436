"""Rolling distinct counts by islands (generator/engine/compiler/fn_rolling.py): hand-worked
cases, each also checked against the plain compile (the rewrite switched off, grouped and
per cell), as tests/engine/test_decorrelate.py does.

Rules the expected values follow:
- DATESINPERIOD(D[Date], g, -3, DAY) holds the dates of D[Date] in (g - 3, g], i.e. g - 2,
  g - 1 and g, and only those that exist in the column
  (https://learn.microsoft.com/dax/datesinperiod-function-dax, https://dax.guide/datesinperiod/).
- As a CALCULATE filter on the date column it replaces the filters on that column and, the
  date table being marked, on every column of the date table (https://dax.guide/calculate/,
  https://learn.microsoft.com/power-bi/transform-model/desktop-date-tables).
- DISTINCTCOUNT counts BLANK as a value (https://dax.guide/distinctcount/); an order whose
  customer id is BLANK or unknown belongs to the blank row of Customer (blank Seg).
- An order dated outside the date table (2024-01-05 is missing from it) is never in a set
  of dates of the column; an order without a date neither.
- SUMMARIZECOLUMNS drops rows whose measures are all BLANK (https://dax.guide/summarizecolumns/).

Data (Date: 2024-01-01 … 2024-01-10 without 01-05; Seg: customers 1, 2 "A", 3, 4 "B"):

    customer  seg    order dates
    1         A      01-01, 01-02, 01-02 (twice the same day), 01-07
    2         A      01-03
    3         B      01-01, 01-05 (not in Date), 01-09
    4         B      no date
    99        BLANK  01-04 (not in Customer)
    BLANK     BLANK  01-08

Customers counted on day g (window g-2 … g):

    g      all               A        B      BLANK seg
    01-01  1, 3        = 2   1 = 1    3 = 1  -
    01-02  1, 3        = 2   1        3      -
    01-03  1, 2, 3     = 3   1, 2 = 2 3      -
    01-04  1, 2, 99    = 3   1, 2 = 2 -      99 = 1
    01-06  99          = 1   -        -      99 = 1
    01-07  1           = 1   1        -      -
    01-08  1, BLANK    = 2   1        -      BLANK = 1
    01-09  1, BLANK, 3 = 3   1        3      BLANK = 1
    01-10  BLANK, 3    = 2   -        3      BLANK = 1
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from generator.engine import Engine
from generator.engine.compiler.query import Compiler
from generator.spec.model import Model, Relationship, Source, Table
from tests.engine.fixtures import P, col, measure
from tests.engine.rewrite_paths import rows_on_every_path

DATE = Table("Date", Source("generator", P), (col("Date", "date", True), col("Year", "int64"),
                                              col("Day", "int64")), P, is_date_table=True)
CUSTOMER = Table("Customer", Source("generator", P), (col("ID", "int64", True), col("Seg", "string")), P)
ORDERS = Table("Orders", Source("generator", P), (col("OrderID", "int64", True), col("CustomerID", "int64"),
                                                  col("OrderDate", "date")), P)
RELS = (Relationship("Orders", "CustomerID", "Customer", "ID", P),
        Relationship("Orders", "OrderDate", "Date", "Date", P))

WINDOW = "DATESINPERIOD('Date'[Date], MAX('Date'[Date]), -3, DAY)"
MEASURES = (
    measure("Customers", "DISTINCTCOUNT(Orders[CustomerID])", "Orders"),
    measure("Active", f"CALCULATE(DISTINCTCOUNT(Orders[CustomerID]), {WINDOW})", "Orders"),
    measure("Active M", f"CALCULATE([Customers], {WINDOW})", "Orders"),
    # a positive count, a MONTH unit and a start other than MAX of the column: plain compile
    measure("Forward", "CALCULATE([Customers], DATESINPERIOD('Date'[Date], MAX('Date'[Date]), 3, DAY))", "Orders"),
    measure("From Min", "CALCULATE([Customers], DATESINPERIOD('Date'[Date], MIN('Date'[Date]), -3, DAY))", "Orders"),
)

D = dt.date
DATES = [(D(2024, 1, d), 2024, d) for d in range(1, 11) if d != 5]
CUSTOMERS = [(1, "A"), (2, "A"), (3, "B"), (4, "B")]
ORDER_ROWS = [(1, D(2024, 1, 1)), (1, D(2024, 1, 2)), (1, D(2024, 1, 2)), (1, D(2024, 1, 7)), (2, D(2024, 1, 3)),
              (3, D(2024, 1, 1)), (3, D(2024, 1, 5)), (3, D(2024, 1, 9)), (4, None), (99, D(2024, 1, 4)),
              (None, D(2024, 1, 8))]

ALL = {1: 2, 2: 2, 3: 3, 4: 3, 6: 1, 7: 1, 8: 2, 9: 3, 10: 2}
BY_SEG = {"A": {1: 1, 2: 1, 3: 2, 4: 2, 7: 1, 8: 1, 9: 1}, "B": {1: 1, 2: 1, 3: 1, 9: 1, 10: 1},
          None: {4: 1, 6: 1, 8: 1, 9: 1, 10: 1}}


@pytest.fixture(scope="module")
def eng() -> Engine:
    model = Model("Rolling", "en-US", (DATE, CUSTOMER, ORDERS), RELS, MEASURES, (), Path("."), date_table="Date")
    orders = [(i + 1, c, d) for i, (c, d) in enumerate(ORDER_ROWS)]
    return Engine(model, data={"Date": DATES, "Customer": CUSTOMERS, "Orders": orders}, as_of="2024-01-10")


def _py(v):
    if v is None or (isinstance(v, float) and v != v):
        return None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _rows(e: Engine, dax: str) -> list[tuple]:
    return sorted((tuple(_py(v) for v in r) for r in e.query(dax).itertuples(index=False)), key=repr)


def _all_paths(e, dax: str, monkeypatch) -> tuple[list[tuple], str]:
    rows, sql, _ = rows_on_every_path(e, dax, monkeypatch, "rolling", _rows)
    return rows, sql


def _rewritten(sql: str) -> bool:
    return "LEAD(" in sql.upper()


def _day(d: int) -> dt.datetime:
    return dt.datetime(2024, 1, d)  # a date column's values come back as DAX DateTime


@pytest.mark.parametrize("name", ["Active", "Active M"])
def test_per_day(eng, monkeypatch, name):
    rows, sql = _all_paths(eng, f"EVALUATE SUMMARIZECOLUMNS('Date'[Date], \"n\", [{name}])", monkeypatch)
    assert rows == sorted([(_day(d), n) for d, n in ALL.items()], key=repr)
    assert _rewritten(sql)


def test_per_day_and_segment(eng, monkeypatch):
    rows, sql = _all_paths(eng, "EVALUATE SUMMARIZECOLUMNS('Date'[Date], Customer[Seg], \"n\", [Active])",
                           monkeypatch)
    assert rows == sorted([(_day(d), seg, n) for seg, days in BY_SEG.items() for d, n in days.items()], key=repr)
    assert _rewritten(sql)


def test_a_slicer_on_another_table_filters_the_orders(eng, monkeypatch):
    dax = "EVALUATE SUMMARIZECOLUMNS('Date'[Date], TREATAS({\"A\"}, Customer[Seg]), \"n\", [Active])"
    rows, sql = _all_paths(eng, dax, monkeypatch)
    assert rows == sorted([(_day(d), n) for d, n in BY_SEG["A"].items()], key=repr)
    assert _rewritten(sql)


def test_a_date_slicer_limits_the_days_not_the_window(eng, monkeypatch):
    # the slicer keeps 01-03 … 01-04 as cells; each window still reaches back two days
    dax = ("EVALUATE SUMMARIZECOLUMNS('Date'[Date], "
           "FILTER(ALL('Date'[Date]), 'Date'[Date] >= DATE(2024, 1, 3) && 'Date'[Date] <= DATE(2024, 1, 4)), "
           "\"n\", [Active])")
    rows, sql = _all_paths(eng, dax, monkeypatch)
    assert rows == [(_day(3), 3), (_day(4), 3)]
    assert _rewritten(sql)


def test_a_slicer_on_another_date_column_is_replaced_on_the_marked_date_table(eng, monkeypatch):
    # Day >= 8 keeps the cells 01-08 … 01-10; the window, on the marked date table's date
    # column, removes the Day filter, so 01-08 still counts customer 1's order of 01-07
    dax = "EVALUATE SUMMARIZECOLUMNS('Date'[Date], TREATAS({8, 9, 10}, 'Date'[Day]), \"n\", [Active])"
    rows, sql = _all_paths(eng, dax, monkeypatch)
    assert rows == sorted([(_day(8), 2), (_day(9), 3), (_day(10), 2)], key=repr)
    assert _rewritten(sql)


def test_grand_total_and_other_shapes_keep_the_plain_compile(eng, monkeypatch):
    # the total's MAX date is 01-10: BLANK customer and 3
    rows, _ = _all_paths(eng, "EVALUATE SUMMARIZECOLUMNS(ROLLUPADDISSUBTOTAL('Date'[Date], \"t\"), \"n\", [Active])",
                         monkeypatch)
    assert rows == sorted([(_day(d), False, n) for d, n in ALL.items()] + [(None, True, 2)], key=repr)
    rows, sql = _all_paths(eng, "EVALUATE SUMMARIZECOLUMNS('Date'[Year], \"n\", [Active])", monkeypatch)
    assert rows == [(2024, 2)] and not _rewritten(sql)


def test_forward_window_and_other_starts_are_not_rewritten(eng, monkeypatch):
    # forward 3 days from g: g, g + 1, g + 2 (01-05 missing from Date)
    rows, sql = _all_paths(eng, "EVALUATE SUMMARIZECOLUMNS('Date'[Date], \"f\", [Forward], \"m\", [From Min])",
                           monkeypatch)
    forward = {1: 3, 2: 3, 3: 2, 4: 1, 6: 2, 7: 3, 8: 2, 9: 1, 10: None}
    assert rows == sorted([(_day(d), forward[d], ALL[d]) for d in ALL], key=repr)
    assert not _rewritten(sql)


def test_rewrite_switch_off_gives_the_correlated_form(eng, monkeypatch):
    monkeypatch.setattr(Compiler, "rolling", False)
    eng.query("EVALUATE SUMMARIZECOLUMNS('Date'[Date], \"n\", [Active])")
    assert not _rewritten(eng.last_sql)
