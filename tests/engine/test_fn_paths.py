"""Parent-child functions over a small org chart, and CONTAINS.

learn.microsoft.com/dax/parent-and-child-functions-dax (PATH, PATHLENGTH, PATHITEM,
PATHITEMREVERSE, PATHCONTAINS) and contains-function-dax. The hierarchy:

    1 Ann (CEO)
    ├── 2 Bob
    │   ├── 4 Dan
    │   │   └── 6 Fay
    │   └── 5 Eve
    └── 3 Cid
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from generator.engine import Engine
from generator.spec.model import CalculatedColumn, ExprOrigin, Measure, Model, Pos
from tests.engine.fixtures import CUSTOMER, CUSTOMERS, DATE, ORDERS, RELS, SALES, col, dates, table

P = Pos("t.yaml", 1, 1)


def _calc(name, expr, type_):
    return CalculatedColumn(name, type_, expr, P, ExprOrigin("t.yaml", 1, 1))


EMPLOYEE = replace(table("Employee", col("ID", "int64", True), col("Parent", "int64"), col("Name", "string")),
                   calculated_columns=(
                       _calc("Path", "PATH(Employee[ID], Employee[Parent])", "string"),
                       _calc("Level", "PATHLENGTH(Employee[Path])", "int64"),
                       _calc("Level 2 Boss", "PATHITEM(Employee[Path], 2, 1)", "int64"),
                       _calc("Under Bob", "PATHCONTAINS(Employee[Path], 2)", "boolean"),
                   ))
PEOPLE = [(1, None, "Ann"), (2, 1, "Bob"), (3, 1, "Cid"), (4, 2, "Dan"), (5, 2, "Eve"), (6, 4, "Fay")]


@pytest.fixture(scope="module")
def eng() -> Engine:
    model = Model("Ref", "en-US", (CUSTOMER, SALES, DATE, EMPLOYEE), RELS,
                  (Measure("Team of Bob", "Sales", "COUNTROWS(FILTER(Employee, PATHCONTAINS(Employee[Path], 2)))",
                           P, ExprOrigin("t.yaml", 1, 1)),), (), Path("."), date_table="Date")
    return Engine(model, data={"Customer": CUSTOMERS, "Sales": list(ORDERS), "Date": dates(), "Employee": PEOPLE},
                  as_of="2024-12-31")


def test_the_org_chart_columns(eng):
    frame = eng.query("EVALUATE SELECTCOLUMNS(Employee, \"n\", Employee[Name], \"p\", Employee[Path], "
                      "\"l\", Employee[Level], \"b\", Employee[Level 2 Boss], \"u\", Employee[Under Bob]) ORDER BY [n]")
    rows = [tuple(None if v != v else v for v in r) for r in frame.itertuples(index=False, name=None)]
    assert rows == [
        ("Ann", "1", 1, None, False),        # the root: level 1, no second level
        ("Bob", "1|2", 2, 2, True),
        ("Cid", "1|3", 2, 3, False),
        ("Dan", "1|2|4", 3, 2, True),
        ("Eve", "1|2|5", 3, 2, True),
        ("Fay", "1|2|4|6", 4, 2, True),
    ]


def test_a_measure_over_the_hierarchy(eng):
    assert eng.query('EVALUATE ROW("x", [Team of Bob])').iloc[0, 0] == 4  # Bob, Dan, Eve, Fay


@pytest.mark.parametrize("expr, expected", [
    ('PATHLENGTH("")', 0), ("PATHLENGTH(BLANK())", 0),
    ('PATHITEM("1|2|4", 3)', "4"), ('PATHITEM("1|2|4", 4)', None), ('PATHITEM("1|2|4", 0)', None),
    ('PATHITEMREVERSE("1|2|4", 1)', "4"),
    ('PATHCONTAINS("a|B", "b")', True),                      # text compares ignoring case
    ('PATHCONTAINS(BLANK(), 1)', False),
])
def test_path_edge_cases(eng, expr, expected):
    v = eng.query(f'EVALUATE ROW("x", {expr})').iloc[0, 0]
    assert (None if v is None or v != v else v) == expected


@pytest.mark.parametrize("expr, expected", [
    ('CONTAINS(Customer, Customer[City], "Oslo")', True),
    ('CONTAINS(Customer, Customer[City], "Oslo", Customer[Name], "Cid")', False),  # Cid lives in Rome
    ('CONTAINS(Customer, Customer[City], "oslo", Customer[Name], "BOB")', True),   # text ignores case
    ('CALCULATE(CONTAINS(Customer, Customer[City], "Oslo"), Customer[City] = "Rome")', False),  # the table is filtered
])
def test_contains(eng, expr, expected):
    assert bool(eng.query(f'EVALUATE ROW("x", {expr})').iloc[0, 0]) is expected
