"""INFO.* functions describing the model (generator/engine/compiler/fn_model_info.py), on the
reference model of tests/engine/fixtures.py plus one calculated column and one hierarchy.

Expected counts are worked out by hand from TOM's rules
(https://learn.microsoft.com/en-us/dax/info-functions-dax; TMSCHEMA_* rowsets,
https://learn.microsoft.com/en-us/openspecs/sql_server_protocols/ms-ssas-t/):
  tables   Customer (ID, Name, City + calculated Big), Sales (7 columns), Date (3 columns)
  columns  4 + 7 + 3 = 14, plus one hidden RowNumber column per table = 17
  measures Sales, Orders; relationships Sales→Customer, Sales→Date; one partition per table.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from generator.engine import DaxUnsupportedError, Engine
from generator.engine.compiler.fn_model_info import ModelCatalog, dependencies
from generator.engine.schema import parse_measures
from generator.spec.model import CalculatedColumn, ExprOrigin, Hierarchy, Level, Model, Pos
from tests.engine.fixtures import CUSTOMER, CUSTOMERS, DATE, MEASURES, ORDERS, RELS, SALES, dates

P = Pos("semantic/customer.yaml", 30, 5)
BIG = CalculatedColumn("Big", "int64", "IF(CALCULATE(SUM(Sales[Amount])) > 25, 1, 0)", P,
                       ExprOrigin("semantic/customer.yaml", 30, 17))
YM = Hierarchy("Year-Month", (Level("Year", "Year"), Level("Month", "Month")), P)


def _model() -> Model:
    customer = replace(CUSTOMER, calculated_columns=(BIG,))
    date = replace(DATE, hierarchies=(YM,))
    return Model("Ref", "en-US", (customer, SALES, date), RELS, MEASURES, (), Path("."), date_table="Date")


@pytest.fixture(scope="module")
def eng():
    return Engine(_model(), data={"Customer": CUSTOMERS, "Sales": list(ORDERS), "Date": dates()}, as_of="2024-12-31")


@pytest.mark.parametrize("expr, want", [
    ("COUNTROWS(INFO.TABLES())", 3),
    ('CONCATENATEX(INFO.TABLES(), [Name], ",", [ID], ASC)', "Customer,Sales,Date"),
    ('MAXX(FILTER(INFO.TABLES(), [Name] = "Date"), [DataCategory])', "Time"),
    ("COUNTROWS(INFO.COLUMNS())", 17),
    ("COUNTROWS(FILTER(INFO.COLUMNS(), [Type] = 3 && [IsHidden]))", 3),  # RowNumber, hidden
    ('MAXX(FILTER(INFO.COLUMNS(), [ExplicitName] = "Big"), [Type])', 2),  # calculated
    ('MAXX(FILTER(INFO.COLUMNS(), [ExplicitName] = "Big"), [Expression])', BIG.expression),
    ('MAXX(FILTER(INFO.COLUMNS(), [ExplicitName] = "Amount"), [ExplicitDataType])', 10),  # Decimal
    ("COUNTROWS(INFO.ATTRIBUTEHIERARCHIES())", 17),
    ("COUNTROWS(INFO.VIEW.COLUMNS())", 17),
    ("COUNTROWS(INFO.MEASURES())", 2),
    ('MAXX(FILTER(INFO.VIEW.MEASURES(), [Name] = "Orders"), [Expression])', "COUNTROWS(Sales)"),
    ("COUNTROWS(INFO.RELATIONSHIPS())", 2),
    ("COUNTROWS(INFO.VIEW.RELATIONSHIPS())", 2),
    ('CONCATENATEX(INFO.VIEW.RELATIONSHIPS(), [ToTable], ",", [ID], ASC)', "Customer,Date"),
    ("COUNTROWS(INFO.PARTITIONS())", 3),
    ("COUNTROWS(INFO.VIEW.TABLES())", 3),
    ("COUNTROWS(INFO.MODEL())", 1),
    ("MAXX(INFO.MODEL(), [Culture])", "en-US"),
    ("MAXX(INFO.CATALOGS(), [CATALOG_NAME])", "Ref"),
    ("COUNTROWS(INFO.CULTURES())", 1),
    ("COUNTROWS(INFO.CSDLMETADATA())", 1),
    ("COUNTROWS(INFO.HIERARCHIES())", 1),
    ('CONCATENATEX(INFO.LEVELS(), [Name], ",", [Ordinal], ASC)', "Year,Month"),
    # model 2 + tables 2×3 + SummarizationSetBy on 14 columns + UnderlyingDateTimeDataType on
    # the 2 date columns (Sales[OrderDate], Date[Date]) + DataFolder's PBI_ResultType = 25
    ("COUNTROWS(INFO.ANNOTATIONS())", 25),
    ("COUNTROWS(INFO.PROPERTIES()) > 0", True),
    # objects a pbi-forge model never has: empty tables (COUNTROWS of an empty table is BLANK)
    ("COUNTROWS(INFO.ROLES())", None),
    ("COUNTROWS(INFO.PERSPECTIVES())", None),
    ("COUNTROWS(INFO.CALCULATIONITEMS())", None),
    ("COUNTROWS(INFO.DATASOURCES())", None),
])
def test_model_info(eng, expr, want):
    assert eng.evaluate(expr) == want


def test_relationship_ids_point_at_the_columns(eng):
    rel = eng.query("EVALUATE INFO.RELATIONSHIPS()").iloc[0]
    cols = eng.query("EVALUATE INFO.COLUMNS()")
    names = dict(zip(cols.iloc[:, 0], cols.iloc[:, 2]))
    # first relationship: Sales[CustomerID] (many, 2) → Customer[ID] (one, 1)
    assert names[rel.iloc[7]] == "CustomerID" and names[rel.iloc[10]] == "ID"
    assert (rel.iloc[8], rel.iloc[11]) == (2, 1)


def test_empty_rowsets_have_their_columns(eng):
    df = eng.query("EVALUATE INFO.ROLES()")
    assert list(df.columns) == ["[ID]", "[ModelID]", "[Name]", "[Description]", "[ModelPermission]"]
    assert len(df) == 0


def test_dependencies_from_the_parsed_dax():
    model = _model()
    parsed = parse_measures(model)
    rows = dependencies(ModelCatalog(model), lambda m: parsed[m.name])
    got = sorted(r[1:3] + r[5:8] for r in rows)
    assert got == sorted([
        ("MEASURE", "Sales", "COLUMN", "Sales", "Amount"),       # [Sales] = SUM(Sales[Amount])
        ("MEASURE", "Sales", "TABLE", "Sales", None),            # [Orders] = COUNTROWS(Sales)
        ("CALC_COLUMN", "Customer", "COLUMN", "Sales", "Amount"),
        ("ACTIVE_RELATIONSHIP", "Sales", "COLUMN", "Sales", "CustomerID"),
        ("ACTIVE_RELATIONSHIP", "Sales", "COLUMN", "Customer", "ID"),
        ("ACTIVE_RELATIONSHIP", "Sales", "COLUMN", "Sales", "OrderDate"),
        ("ACTIVE_RELATIONSHIP", "Sales", "COLUMN", "Date", "Date"),
        ("HIERARCHY", "Date", "COLUMN", "Date", "Year"),
        ("HIERARCHY", "Date", "COLUMN", "Date", "Month"),
    ])


@pytest.mark.parametrize("expr", [
    "COUNTROWS(INFO.STORAGETABLES())",   # VertiPaq storage: no such storage here
    "COUNTROWS(INFO.SEGMENTSTORAGES())",
    "COUNTROWS(INFO.EXPRESSIONS())",     # see fn_model_info.UNMATCHED
    'COUNTROWS(INFO.TABLES("Name", "Sales"))',  # restriction arguments
])
def test_unsupported_info_is_a_loud_error(eng, expr):
    with pytest.raises(DaxUnsupportedError):
        eng.evaluate(expr)
