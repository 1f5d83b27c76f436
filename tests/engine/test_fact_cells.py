"""Cells taken from a table's existing key combinations (compiler/query.py `_fact_cells`)
keep the blank row's combination when the table has a blank row.

SUMMARIZECOLUMNS(Customer[City], "m", MAXX(VALUES(Customer[ID]), CALCULATE(SUM(Sales[Amount]))))
on the reference model with the orphan order (customer 9, not in Customer, amount 5): the
orphan's sales belong to Customer's blank row, so VALUES(Customer[City]) holds BLANK and, in
that cell, VALUES(Customer[ID]) holds the blank row, whose sales are 5
(https://dax.guide/values/: "VALUES … includes the blank row";
https://learn.microsoft.com/dax/values-function-dax). Oslo: Ann 30, Bob 30 → 30;
Rome: Cid 40, Dan BLANK → 40. The measure is "strict" in Customer (BLANK without Customer
rows), so the grouped compile takes its cells from Customer, which missed the blank row.
"""
from __future__ import annotations

import pytest

from tests.engine.fixtures import engine, measure

DAX = 'EVALUATE SUMMARIZECOLUMNS(Customer[City], "m", [Best Customer Sales])'


@pytest.mark.parametrize("grouped", [True, False])
def test_blank_row_cell_of_an_iterator_over_values(grouped):
    e = engine(measure("Best Customer Sales", "MAXX(VALUES(Customer[ID]), CALCULATE(SUM(Sales[Amount])))"),
               orphan=True)
    e.grouped = grouped
    rows = sorted(((r[0], float(r[1])) for r in e.query(DAX).itertuples(index=False)), key=repr)
    assert rows == sorted([(None, 5.0), ("Oslo", 30.0), ("Rome", 40.0)], key=repr)
