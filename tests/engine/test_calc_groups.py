"""Calculation groups in the engine: items rewrite measure references.

Rules (see generator/engine/compiler/fn_calc_groups.py for the sources):
- an item applies to measure references (not inline aggregations) while exactly one item of
  its group is in the filter context (learn.microsoft.com/analysis-services/tabular-models/calculation-groups);
- highest precedence outermost: (10 + 2) * 2 = 24 (Tabular Editor docs, "Precedence");
- an item refers to another item of its group through CALCULATE on the group column
  (SQLBI, "Understanding the application of calculation items");
- SELECTEDMEASURE outside an item is an error (Desktop oracle probe).

Fixture (tests/engine/fixtures.py): orders of 10 (2024-01-10), 20 (2024-02-05), 30 (2024-02-20)
and 40 (2023-02-15): [Sales] is 60 in 2024 and 40 in 2023; [Orders] is 3 in 2024, 1 in 2023.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from generator.engine import DaxCompileError, Engine
from generator.spec.calc_groups import item_rows
from generator.spec.model import CalculationGroup, CalculationItem, Column, ExprOrigin, Model, Pos, Source, Table
from tests.engine.fixtures import CUSTOMER, CUSTOMERS, DATE, MEASURES, ORDERS, RELS, SALES, dates, measure

P = Pos("semantic/calculation_groups/t.yaml", 1, 1)


def group(name: str, precedence: int, *items: tuple[str, str], column: str | None = None) -> Table:
    column = column or name
    its = tuple(CalculationItem(n, e, P, ExprOrigin(P.file, 3 + i, 17), i) for i, (n, e) in enumerate(items))
    g = CalculationGroup(column, precedence, its, P)
    cols = (Column(column, "string", P, sort_by="Ordinal"), Column("Ordinal", "int64", P, hidden=True))
    return Table(name, Source("calculation_group", P), cols, P, calculation_group=g)


TIME = group(
    "Time Calc", 10,
    ("Current", "SELECTEDMEASURE()"),
    ("PY", "CALCULATE(SELECTEDMEASURE(), SAMEPERIODLASTYEAR('Date'[Date]))"),
    ("YOY", "SELECTEDMEASURE() - CALCULATE(SELECTEDMEASURE(), 'Time Calc'[Time Calc] = \"PY\")"),
    ("YOY %", "DIVIDE(CALCULATE(SELECTEDMEASURE(), 'Time Calc'[Time Calc] = \"YOY\"), "
              "CALCULATE(SELECTEDMEASURE(), 'Time Calc'[Time Calc] = \"PY\"))"),
    ("YTD", "CALCULATE(SELECTEDMEASURE(), DATESYTD('Date'[Date]))"),
    ("Not Orders", "IF(ISSELECTEDMEASURE([Orders]), BLANK(), SELECTEDMEASURE() * 2)"),
)
TIMES2 = group("Times Two", 200, ("Double", "SELECTEDMEASURE() * 2"), column="Op2")
PLUS2 = group("Plus Two", 100, ("Add", "SELECTEDMEASURE() + 2"), column="Op1")

EXTRA = (
    measure("Ten", "10"),
    measure("Sales Inline Twice", "SUM(Sales[Amount]) + [Sales]"),
)


@pytest.fixture(scope="module")
def eng() -> Engine:
    model = Model("Ref", "en-US", (CUSTOMER, SALES, DATE, TIME, TIMES2, PLUS2), RELS, MEASURES + EXTRA, (),
                  Path("."), date_table="Date")
    return Engine(model, data={"Customer": CUSTOMERS, "Sales": list(ORDERS), "Date": dates()}, as_of="2024-12-31")


def value(e: Engine, expr: str):
    frame = e.query(f'EVALUATE ROW("x", {expr})')
    v = frame.iloc[0, 0]
    return None if v is None or v != v else float(v)


def in_2024(expr: str, item: str) -> str:
    return f"CALCULATE({expr}, 'Date'[Year] = 2024, 'Time Calc'[Time Calc] = \"{item}\")"


def test_table_rows_are_the_items():
    assert item_rows(TIME)[:2] == [("Current", 0), ("PY", 1)]


@pytest.mark.parametrize("item, expected", [
    ("Current", 60),   # SELECTEDMEASURE() = [Sales] in 2024
    ("PY", 40),        # SAMEPERIODLASTYEAR of 2024 = 2023
    ("YOY", 20),       # 60 - 40, through the PY item (sideways recursion)
    ("YOY %", 0.5),    # YOY / PY = 20 / 40
    ("YTD", 60),       # 2024 YTD at year level = the year
])
def test_time_items_on_a_measure(eng, item, expected):
    assert value(eng, in_2024("[Sales]", item)) == pytest.approx(expected)


def test_no_item_selected_is_the_plain_measure(eng):
    assert value(eng, "CALCULATE([Sales], 'Date'[Year] = 2024)") == 60


def test_several_items_selected_apply_none(eng):
    # a filter with two items is not "one item in the filter context": the measure is unchanged
    expr = "CALCULATE([Sales], 'Date'[Year] = 2024, 'Time Calc'[Time Calc] IN {\"PY\", \"YTD\"})"
    assert value(eng, expr) == 60


def test_inline_aggregation_is_not_rewritten(eng):
    # SUM(...) is not a measure reference: the item does not apply, 2024's 60 stays
    assert value(eng, in_2024("SUM(Sales[Amount])", "PY")) == 60


def test_item_applies_once_not_again_inside_the_measure(eng):
    # PY applies to [Sales Inline Twice] (SUM + [Sales]) as a whole: 2023's 40 + 40 = 80; the
    # [Sales] inside is not shifted a second year (that would give 40 + 0)
    assert value(eng, in_2024("[Sales Inline Twice]", "PY")) == 80


def test_isselectedmeasure_excludes_a_measure(eng):
    assert value(eng, in_2024("[Orders]", "Not Orders")) is None
    assert value(eng, in_2024("[Sales]", "Not Orders")) == 120


def test_precedence_highest_is_outermost(eng):
    expr = "CALCULATE([Ten], 'Times Two'[Op2] = \"Double\", 'Plus Two'[Op1] = \"Add\")"
    assert value(eng, expr) == 24  # (10 + 2) * 2, not 10 * 2 + 2


def test_items_by_group_column_in_a_grouped_query(eng):
    frame = eng.query("""
        EVALUATE SUMMARIZECOLUMNS('Time Calc'[Time Calc], TREATAS({2024}, 'Date'[Year]), "s", [Sales])
    """)
    got = {r[0]: (None if r[1] != r[1] else float(r[1])) for r in frame.itertuples(index=False)}
    assert got == {"Current": 60, "PY": 40, "YOY": 20, "YOY %": 0.5, "YTD": 60, "Not Orders": 120}


def test_selectedmeasurename(eng):
    model = eng.model
    g = group("Names", 5, ("Name", "IF(SELECTEDMEASURENAME() = \"Sales\", 1, 2)"), column="N")
    e = Engine(Model(model.name, model.culture, (*model.tables, g), model.relationships, model.measures, (),
                     Path("."), date_table="Date"),
               data={"Customer": CUSTOMERS, "Sales": list(ORDERS), "Date": dates()}, as_of="2024-12-31")
    assert value(e, "CALCULATE([Sales], 'Names'[N] = \"Name\")") == 1
    assert value(e, "CALCULATE([Orders], 'Names'[N] = \"Name\")") == 2


def test_selectedmeasure_outside_an_item_is_an_error(eng):
    with pytest.raises(DaxCompileError, match="calculation item"):
        eng.query('EVALUATE ROW("x", SELECTEDMEASURE())')


def test_item_that_applies_itself_is_an_error():
    loop = group("Loop", 1, ("Again", "CALCULATE(SELECTEDMEASURE(), 'Loop'[Loop] = \"Again\")"))
    e = Engine(Model("Ref", "en-US", (CUSTOMER, SALES, DATE, loop), RELS, MEASURES, (), Path("."), date_table="Date"),
               data={"Customer": CUSTOMERS, "Sales": list(ORDERS), "Date": dates()}, as_of="2024-12-31")
    with pytest.raises(DaxCompileError, match="recursively"):
        e.query("EVALUATE ROW(\"x\", CALCULATE([Sales], 'Loop'[Loop] = \"Again\"))")
