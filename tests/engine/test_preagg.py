"""Aggregate before the correlated filter (generator/engine/compiler/fn_preagg.py): hand-worked
cases on the reference model (tests/engine/fixtures.py), each also checked against the plain
compile (the rewrite switched off, grouped and per cell).

Rules the expected values follow:
- OFFSET(-1, ALL('Date'[Year]), ORDERBY('Date'[Year])) is the row before the current year in
  year order; none before the first (https://dax.guide/offset/,
  https://learn.microsoft.com/dax/offset-function-dax).
- REMOVEFILTERS('Date') removes the cell's year, the OFFSET table then filters the year
  (https://dax.guide/removefilters/, https://dax.guide/calculate/).
- SUM and COUNTROWS of no rows are BLANK (https://dax.guide/sum/, https://dax.guide/countrows/);
  SUMMARIZECOLUMNS drops rows whose measures are all BLANK (https://dax.guide/summarizecolumns/).
- CALCULATE inside MAXX turns the row (a customer) into a filter: context transition
  (https://dax.guide/calculate/, https://www.sqlbi.com/articles/understanding-context-transition/).

Orders (fixtures.ORDERS, plus the orphan of customer 9, not in Customer, on 2024-03-01):

    order  customer (city)  date        qty  amount
    1      1 Ann (Oslo)     2024-01-10  2    10
    2      1 Ann (Oslo)     2024-02-05  1    20
    3      2 Bob (Oslo)     2024-02-20  5    30
    4      3 Cid (Rome)     2023-02-15  1    40
    5      9 (no customer)  2024-03-01  1    5

By year: 2023 amount 40, qty 1, 1 order; 2024 amount 65, qty 9, 4 orders.
"""
from __future__ import annotations

import math
from decimal import Decimal

import pytest

from tests.engine.fixtures import engine, measure
from tests.engine.rewrite_paths import rows_on_every_path

PREV = "REMOVEFILTERS('Date'), OFFSET(-1, ALL('Date'[Year]), ORDERBY('Date'[Year]))"
MEASURES = (
    measure("Sales Prev Year", f"CALCULATE([Sales], {PREV})"),
    measure("Qty Prev Year", f"CALCULATE(SUM(Sales[Qty]), {PREV})"),
    measure("Orders Prev Year", f"CALCULATE(COUNTROWS(Sales), {PREV})"),
    measure("Best Customer Sales", "MAXX(VALUES(Customer[ID]), CALCULATE(SUM(Sales[Amount])))"),
)


@pytest.fixture(scope="module")
def eng():
    return engine(*MEASURES, orphan=True)


def _py(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (Decimal, float)) or hasattr(v, "item"):
        v = float(v)
        return int(v) if v.is_integer() else v
    return v


def _rows(e, dax: str) -> list[tuple]:
    return sorted((tuple(_py(v) for v in r) for r in e.query(dax).itertuples(index=False)), key=repr)


def _all_paths(e, dax: str, monkeypatch) -> tuple[list[tuple], str]:
    rows, sql, plain = rows_on_every_path(e, dax, monkeypatch, "preaggregate", _rows)
    assert plain != sql
    return rows, sql


def _preaggregated(sql: str) -> bool:
    return " AS a FROM " in sql


def test_previous_year_by_year(eng, monkeypatch):
    # 2023: no year before it (BLANK, row dropped); 2024: 2023's 40, qty 1, 1 order
    rows, sql = _all_paths(eng, "EVALUATE SUMMARIZECOLUMNS('Date'[Year], \"s\", [Sales Prev Year], "
                                "\"q\", [Qty Prev Year], \"n\", [Orders Prev Year])", monkeypatch)
    assert rows == [(2024, 40, 1, 1)]
    assert _preaggregated(sql)


def test_previous_year_by_city_and_year(eng, monkeypatch):
    # 2024 cells: Rome had Cid's 40 in 2023; Oslo had nothing in 2023 (BLANK, dropped)
    rows, sql = _all_paths(eng, "EVALUATE SUMMARIZECOLUMNS(Customer[City], 'Date'[Year], \"s\", [Sales Prev Year])",
                           monkeypatch)
    assert rows == [("Rome", 2024, 40)]
    assert _preaggregated(sql)


def test_previous_year_under_a_slicer(eng, monkeypatch):
    # only Oslo's customers: none ordered in 2023, so every cell is BLANK
    dax = "EVALUATE SUMMARIZECOLUMNS('Date'[Year], TREATAS({\"Oslo\"}, Customer[City]), \"s\", [Sales Prev Year])"
    rows, sql = _all_paths(eng, dax, monkeypatch)
    assert rows == []
    assert _preaggregated(sql)


def test_transitioned_row_in_an_iterator(eng, monkeypatch):
    # per city, the largest customer total: Oslo max(30, 30) = 30; Rome max(40, BLANK) = 40;
    # the orphan's city is BLANK: VALUES(Customer[ID]) there is the blank row, whose orders
    # are the orphan's 5
    rows, _ = _all_paths(eng, "EVALUATE SUMMARIZECOLUMNS(Customer[City], \"m\", [Best Customer Sales])",
                         monkeypatch)
    assert rows == sorted([("Oslo", 30), ("Rome", 40), (None, 5)], key=repr)

