"""A scan-cache entry is reused only for leaves that read the same rows aggregated.

Regression: with a bidirectional relationship COUNTROWS(Sales) compiles to counting the
row-level projection `SELECT 1 AS v FROM Sales` (no GROUP BY, no aggregate). Scan sharing
took it for an aggregation leaf over the same rows as the per-customer entry left by a
FILTER-with-VAR measure, and read it from that entry: one row per customer instead of
one per order, so Orders per Customer came out 1.0 (the reviewer's 1.0 instead of 9.2208).

Expected values are worked by hand from the reference rows (tests/engine/fixtures.py):

  Customer: 1 Ann Oslo, 2 Bob Oslo, 3 Cid Rome, 4 Dan Rome (no orders)
  Sales: order 1 cust1 2024, order 2 cust1 2024, order 3 cust2 2024, order 4 cust3 2023

  Repeat (customers with more than one order) = 1 (customer 1)
  OPC    (orders / ordering customers)        = 4 / 3
  Oslo: orders 1-3, customers {1, 2}: OPC 3/2, Repeat 1;  Rome: order 4, {3}: OPC 1, Repeat BLANK
  Year 2024: orders 1-3, customers {1, 2}: OPC 3/2

Each sequence runs on ONE cached engine and is checked against the hand value and
against a fresh engine without the cross-query cache (scan_cache=None) per query."""
from __future__ import annotations

import pytest

from generator.spec.model import Relationship
from tests.engine.fixtures import P, RELS, engine, measure
from tests.engine.test_adversarial_speedups import rows

SINGLE = RELS
BOTH = (Relationship("Sales", "CustomerID", "Customer", "ID", P, cross_filter="both"), RELS[1])
BOTH_DATE = (RELS[0], Relationship("Sales", "OrderDate", "Date", "Date", P, cross_filter="both"))
DIRECTIONS = {"single": SINGLE, "both_customer": BOTH, "both_date": BOTH_DATE}

MEASURES = (
    # the FILTER VAR form is what leaves a per-customer entry (COUNT(*) by CustomerID) in the cache
    measure("Repeat", "COUNTROWS(FILTER(VALUES(Sales[CustomerID]), VAR n = CALCULATE(COUNTROWS(Sales)) RETURN n > 1))"),
    measure("Cust", "DISTINCTCOUNT(Sales[CustomerID])"),
    measure("OPC", "DIVIDE([Orders], [Cust])"),
)

REPEAT = 'EVALUATE ROW("v", [Repeat])'
OPC = 'EVALUATE ROW("v", [OPC])'
ORDERS = 'EVALUATE ROW("v", [Orders])'
OPC_OSLO = 'EVALUATE ROW("v", CALCULATE([OPC], Customer[City] = "Oslo"))'
OPC_2024 = 'EVALUATE ROW("v", CALCULATE([OPC], Date[Year] = 2024))'
BY_CITY = 'EVALUATE SUMMARIZECOLUMNS(Customer[City], "R", [Repeat], "O", [OPC])'
BOTH_IN_ONE = 'EVALUATE ROW("r", [Repeat], "o", [OPC], "n", [Orders])'


def _fresh(rels, dax):
    e = engine(*MEASURES, relationships=rels)
    e.scan_cache = None
    return rows(e, dax)


def _sequence(rels, steps):
    """Run `steps` [(dax, hand-worked rows)] in order on one cached engine."""
    e = engine(*MEASURES, relationships=rels)
    assert e.scan_cache is not None
    for dax, want in steps:
        got = rows(e, dax)
        assert got == want, (dax, got, want)
        assert got == _fresh(rels, dax), dax


def _approx(x):
    return pytest.approx(x, rel=1e-12)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_orders_per_customer_after_a_per_customer_scan(direction):
    # the reviewer's case: the per-customer entry, then a plain count of the fact rows
    _sequence(DIRECTIONS[direction], [(REPEAT, [(1,)]), (OPC, [(_approx(4 / 3),)]), (ORDERS, [(4,)])])


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_reverse_order_and_repeated_queries(direction):
    _sequence(DIRECTIONS[direction], [(OPC, [(_approx(4 / 3),)]), (REPEAT, [(1,)]), (OPC, [(_approx(4 / 3),)]),
                                      (ORDERS, [(4,)]), (REPEAT, [(1,)])])


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_a_filter_in_between(direction):
    _sequence(DIRECTIONS[direction], [(REPEAT, [(1,)]), (OPC_OSLO, [(1.5,)]), (OPC_2024, [(1.5,)]),
                                      (OPC, [(_approx(4 / 3),)])])


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_grouped_visual_after_the_entry(direction):
    # Dan (Rome) has no orders and Rome's Repeat is BLANK; the row is kept for its OPC
    _sequence(DIRECTIONS[direction], [(REPEAT, [(1,)]), (BY_CITY, [("Oslo", 1, 1.5), ("Rome", None, 1)]),
                                      (OPC, [(_approx(4 / 3),)])])


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("cached", [True, False])
def test_both_measures_in_one_query(direction, cached):
    # within one query the per-customer leaf and the row count share a scan even without
    # the cross-query cache (a MATERIALIZED CTE): the same reuse rule applies
    e = engine(*MEASURES, relationships=DIRECTIONS[direction])
    if not cached:
        e.scan_cache = None
    assert rows(e, BOTH_IN_ONE) == [(1, _approx(4 / 3), 4)]
    assert rows(e, OPC) == [(_approx(4 / 3),)]
