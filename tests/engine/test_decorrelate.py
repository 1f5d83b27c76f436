"""Decorrelation of small outer tables (generator/engine/compiler/fn_decorrelate.py): hand-worked
conformance cases, each also checked against the plain compile (the rewrite switched off,
grouped and per-cell), as tests/engine/test_grouped.py does for grouped evaluation.

Rules the expected values follow:
- FILTER keeps the rows whose condition is TRUE; `&&` is TRUE only when both sides are
  (https://learn.microsoft.com/dax/filter-function-dax, https://dax.guide/op/and/).
- A comparison with BLANK treats BLANK as 0 (numbers) or FALSE (booleans), so
  `BLANK() >= 60` is FALSE and `FALSE = BLANK()` is TRUE
  (https://learn.microsoft.com/dax/dax-operator-reference#comparison-operators,
  https://dax.guide/op/equal-to/).
- COUNTROWS of no rows is BLANK (https://dax.guide/countrows/); SUMX/AVERAGEX/MINX/MAXX/
  COUNTX skip BLANK values of their expression (https://dax.guide/sumx/,
  https://dax.guide/averagex/, https://dax.guide/countx/).
- CALCULATE with a table filter FILTER(Customer, …) filters the orders of those customers
  only; an order whose customer is not in Customer belongs to no FILTER(Customer, …)
  (https://learn.microsoft.com/dax/calculate-function-dax, dax-semantics.md §4).
- SUMMARIZECOLUMNS drops the rows whose measures are all BLANK
  (https://dax.guide/summarizecolumns/).

The data (splits income 60, score 50; ">=" is high):

    id income score | orders          | class (high income, high score)
    1    90    80   | 100, 50         | (T, T)
    2    60    30   | 30              | (T, F)  income on the split
    3    80    70   | 40              | (T, T)
    4    40    50   | 10              | (F, T)  score on the split
    5   BLANK  40   | 20              | (F, F)  BLANK income is 0
    6    30    90   | -               | (F, T)
    7    70    20   | 5, 5            | (T, F)
    8   BLANK BLANK | 7               | (F, F)
    9   100    60   | 60              | (T, T)
    10   25    10   | -               | (F, F)
    11   65     5   | 9               | (T, F)
    12   60    50   | 11              | (T, T)  on both splits
    order of customer 99 (not in Customer): 1000

Quadrant rows: VIP (T, T), Under (T, F), Grow (F, T), Risk (F, F), and Odd (BLANK, T),
which matches the (F, T) customers since FALSE = BLANK is TRUE.

    VIP   1, 3, 9, 12   4 customers  sales 150 + 40 + 60 + 11 = 261  orders 5
    Under 2, 7, 11      3            30 + 10 + 9 = 49                 orders 4
    Grow  4, 6          2            10                                orders 1
    Risk  5, 8, 10      3            20 + 7 = 27                       orders 2
    Odd   = Grow        2            10                                orders 1
    all five rows: 14 customers, sales 357 (the orphan's 1000 in none), orders 13
"""
from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import pytest

from generator.engine import Engine
from generator.spec.model import Model, Relationship, Source, Table
from tests.engine.fixtures import P, col, measure
from tests.engine.rewrite_paths import rows_on_every_path

CUSTOMER = Table("Customer", Source("generator", P), (col("ID", "int64", True), col("Income", "int64"),
                                                      col("Score", "int64")), P)
ORDERS = Table("Orders", Source("generator", P), (col("OrderID", "int64", True), col("CustomerID", "int64"),
                                                  col("Amount", "decimal")), P)
QUAD = Table("Quad", Source("generator", P, generator="rows"), (col("Name", "string"), col("HighInc", "boolean"),
                                                                col("HighScore", "boolean")), P)
RELS = (Relationship("Orders", "CustomerID", "Customer", "ID", P),)

CUSTOMERS = [(1, 90, 80), (2, 60, 30), (3, 80, 70), (4, 40, 50), (5, None, 40), (6, 30, 90), (7, 70, 20),
             (8, None, None), (9, 100, 60), (10, 25, 10), (11, 65, 5), (12, 60, 50)]
AMOUNTS = [(1, 100), (1, 50), (2, 30), (3, 40), (4, 10), (5, 20), (7, 5), (7, 5), (8, 7), (9, 60), (11, 9),
           (12, 11), (99, 1000)]
QUADS = [("VIP", True, True), ("Under", True, False), ("Grow", False, True), ("Risk", False, False),
         ("Odd", None, True)]

COND = "(Customer[Income] >= {inc}) = Quad[HighInc] && (Customer[Score] >= {score}) = Quad[HighScore]"


def _cond(inc="60", score="50") -> str:
    return COND.format(inc=inc, score=score)


MEASURES = (
    measure("Sales", "SUM(Orders[Amount])", "Orders"),
    measure("Quad Customers", f"SUMX(Quad, COUNTROWS(FILTER(Customer, {_cond()})))", "Orders"),
    measure("Quad Sales", f"SUMX(Quad, CALCULATE([Sales], FILTER(Customer, {_cond()})))", "Orders"),
    measure("Quad Orders", f"SUMX(Quad, CALCULATE(COUNTROWS(Orders), FILTER(Customer, {_cond()})))", "Orders"),
    # the shipped measures' form: splits are averages over ALL customers, held in variables
    measure("Avg Split Sales", "VAR i = CALCULATE(AVERAGE(Customer[Income]), ALL(Customer)) "
                               "VAR s = CALCULATE(AVERAGE(Customer[Score]), ALL(Customer)) "
                               f"RETURN SUMX(Quad, CALCULATE([Sales], FILTER(Customer, {_cond('i', 's')})))",
            "Orders"),
    # no customer has an income of 200 or more: the high-income quadrants are empty
    measure("Empty High", f"SUMX(Quad, COUNTROWS(FILTER(Customer, {_cond(inc='200')})))", "Orders"),
    # a second, outer-free condition on the customer stays a filter of the classified rows
    measure("Quad Small Ids", f"SUMX(Quad, COUNTROWS(FILTER(Customer, {_cond()} && Customer[ID] <= 6)))",
            "Orders"),
    measure("Avg Quad", f"AVERAGEX(Quad, COUNTROWS(FILTER(Customer, {_cond()})))", "Orders"),
    measure("Max Quad", f"MAXX(Quad, CALCULATE([Sales], FILTER(Customer, {_cond()})))", "Orders"),
    measure("Min Quad", f"MINX(Quad, CALCULATE([Sales], FILTER(Customer, {_cond()})))", "Orders"),
    measure("Count Quad", f"COUNTX(Quad, COUNTROWS(FILTER(Customer, {_cond()})))", "Orders"),
    # shapes that must keep the plain compile (fallback)
    measure("Not Equal", "SUMX(Quad, COUNTROWS(FILTER(Customer, (Customer[Income] >= 60) <> Quad[HighInc])))",
            "Orders"),
    measure("Distinct", f"SUMX(Quad, CALCULATE(DISTINCTCOUNT(Orders[CustomerID]), FILTER(Customer, {_cond()})))",
            "Orders"),
    measure("Over Customer", "SUMX(Customer, COUNTROWS(FILTER(Quad, (Customer[Income] >= 60) = Quad[HighInc])))",
            "Orders"),
)


def _engine() -> Engine:
    model = Model("Decor", "en-US", (CUSTOMER, ORDERS, QUAD), RELS, MEASURES, (), Path("."))
    orders = [(i + 1, c, a) for i, (c, a) in enumerate(AMOUNTS)]
    return Engine(model, data={"Customer": CUSTOMERS, "Orders": orders, "Quad": QUADS})


@pytest.fixture(scope="module")
def eng() -> Engine:
    return _engine()


def _rows(e: Engine, dax: str) -> list[tuple]:
    return sorted((tuple(_py(v) for v in r) for r in e.query(dax).itertuples(index=False)), key=repr)


def _py(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (Decimal, float)) or hasattr(v, "item"):
        v = float(v)
        return int(v) if v.is_integer() else v
    return v


def _all_paths(e, dax: str, monkeypatch) -> tuple[list[tuple], str]:
    rows, sql, _ = rows_on_every_path(e, dax, monkeypatch, "decorrelate", _rows)
    return rows, sql


def _by_quad(*measures: str, filters: str = "") -> str:
    cols = ", ".join(f'"{m}", [{m}]' for m in measures)
    return f"EVALUATE SUMMARIZECOLUMNS(ROLLUPADDISSUBTOTAL(Quad[Name], \"total\"){filters}, {cols})"


def _decorrelated(sql: str) -> bool:
    return "ROW_NUMBER() OVER ()" in sql


def test_counts_and_sales_per_quadrant(eng, monkeypatch):
    rows, sql = _all_paths(eng, _by_quad("Quad Customers", "Quad Sales", "Quad Orders"), monkeypatch)
    assert rows == sorted([
        ("VIP", False, 4, 261, 5), ("Under", False, 3, 49, 4), ("Grow", False, 2, 10, 1),
        ("Risk", False, 3, 27, 2), ("Odd", False, 2, 10, 1), (None, True, 14, 357, 13)], key=repr)
    assert _decorrelated(sql) and "EXISTS" not in sql.upper()


def test_splits_from_variables(eng, monkeypatch):
    # income average ignores the two BLANKs: 620 / 10 = 62; score: 505 / 11 = 45.9…
    # VIP 1, 3, 9: 150 + 40 + 60 = 250; Under 7, 11: 10 + 9 = 19; Grow 4, 6, 12: 10 + 11 = 21;
    # Risk 2, 5, 8, 10: 30 + 20 + 7 = 57; Odd = Grow 21; total 368
    rows, sql = _all_paths(eng, _by_quad("Avg Split Sales"), monkeypatch)
    assert rows == sorted([("VIP", False, 250), ("Under", False, 19), ("Grow", False, 21), ("Risk", False, 57),
                           ("Odd", False, 21), (None, True, 368)], key=repr)
    assert _decorrelated(sql)


def test_quadrant_without_customers_is_blank(eng, monkeypatch):
    # split 200: nobody is high income, so VIP and Under have no customer (BLANK, row dropped);
    # Grow/Odd: score >= 50 → 1, 3, 4, 6, 9, 12; Risk: 2, 5, 7, 8, 10, 11
    rows, sql = _all_paths(eng, _by_quad("Empty High"), monkeypatch)
    assert rows == sorted([("Grow", False, 6), ("Odd", False, 6), ("Risk", False, 6), (None, True, 18)], key=repr)
    assert _decorrelated(sql)


def test_outer_table_filtered_by_a_slicer(eng, monkeypatch):
    # only VIP and Risk visible: 4 + 3 customers, 261 + 27 sales
    dax = _by_quad("Quad Customers", "Quad Sales", filters=', TREATAS({"VIP", "Risk"}, Quad[Name])')
    rows, sql = _all_paths(eng, dax, monkeypatch)
    assert rows == sorted([("VIP", False, 4, 261), ("Risk", False, 3, 27), (None, True, 7, 288)], key=repr)
    assert _decorrelated(sql)


def test_inner_table_filtered_by_a_slicer(eng, monkeypatch):
    # customers 1-6 only: VIP 1, 3 (190); Under 2 (30); Grow 4, 6 (10); Risk 5 (20); Odd = Grow
    dax = _by_quad("Quad Customers", "Quad Sales", filters=", TREATAS({1, 2, 3, 4, 5, 6}, Customer[ID])")
    rows, sql = _all_paths(eng, dax, monkeypatch)
    assert rows == sorted([("VIP", False, 2, 190), ("Under", False, 1, 30), ("Grow", False, 2, 10),
                           ("Risk", False, 1, 20), ("Odd", False, 2, 10), (None, True, 8, 260)], key=repr)
    assert _decorrelated(sql)


def test_grouped_by_an_inner_column(eng, monkeypatch):
    # cells by Customer[ID] filter the customers; each customer is in one quadrant, plus Odd
    # when it is a Grow customer: 4 and 6 count twice, the rest once; sales the same way
    rows, sql = _all_paths(eng, 'EVALUATE SUMMARIZECOLUMNS(Customer[ID], "c", [Quad Customers], "s", [Quad Sales])',
                           monkeypatch)
    sales = {1: 150, 2: 30, 3: 40, 4: 20, 5: 20, 7: 10, 8: 7, 9: 60, 11: 9, 12: 11}
    assert rows == sorted([(i, 2 if i in (4, 6) else 1, sales.get(i)) for i in range(1, 13)], key=repr)
    assert _decorrelated(sql)


def test_extra_condition_on_the_inner_row(eng, monkeypatch):
    # ID <= 6: VIP 1, 3; Under 2; Grow 4, 6; Risk 5; Odd 4, 6 → 2 + 1 + 2 + 1 + 2 = 8
    rows, sql = _all_paths(eng, 'EVALUATE ROW("n", [Quad Small Ids])', monkeypatch)
    assert rows == [(8,)]
    assert _decorrelated(sql)


def test_other_iterators_combine_per_outer_row(eng, monkeypatch):
    # per row counts 4, 3, 2, 3, 2: average 14 / 5 = 2.8, count 5; sales 261, 49, 10, 27, 10
    rows, sql = _all_paths(eng, 'EVALUATE ROW("a", [Avg Quad], "mx", [Max Quad], "mn", [Min Quad], '
                                '"c", [Count Quad])', monkeypatch)
    assert rows == [(2.8, 261, 10, 5)]
    assert _decorrelated(sql)


def test_measure_in_an_outer_row_context(eng, monkeypatch):
    # ADDCOLUMNS over the quadrant names: the measure reference transitions the Name row
    dax = 'EVALUATE ADDCOLUMNS(VALUES(Quad[Name]), "c", [Quad Customers], "s", [Quad Sales])'
    rows, sql = _all_paths(eng, dax, monkeypatch)
    assert rows == sorted([("VIP", 4, 261), ("Under", 3, 49), ("Grow", 2, 10), ("Risk", 3, 27), ("Odd", 2, 10)],
                          key=repr)


@pytest.mark.parametrize("name, expected", [
    # (income >= 60) <> HighInc: 7 customers have a high income (1, 2, 3, 7, 9, 11, 12), 5 a
    # low one; VIP and Under (TRUE) keep the 5 low, Grow, Risk and Odd (BLANK is FALSE) the 7
    # high: 5 + 5 + 7 + 7 + 7
    ("Not Equal", 31),
    # distinct ordering customers per quadrant: 4 + 3 + 1 + 2 + 1 (customer 6 and 10 never order)
    ("Distinct", 11),
    # iterating the customers with the small table inside: a high-income customer (7) matches
    # VIP and Under, a low-income one (5) Grow, Risk and Odd: 7 × 2 + 5 × 3
    ("Over Customer", 29),
])
def test_shapes_that_do_not_match_keep_the_plain_compile(eng, monkeypatch, name, expected):
    rows, sql = _all_paths(eng, f'EVALUATE ROW("v", [{name}])', monkeypatch)
    assert rows == [(expected,)]
    assert not _decorrelated(sql)
