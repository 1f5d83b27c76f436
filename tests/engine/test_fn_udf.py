"""DAX user-defined functions in the engine (generator/engine/compiler/udfs_dax.py).

Rules (learn.microsoft.com/dax/best-practices/dax-user-defined-functions and
learn.microsoft.com/dax/function-statement-dax): a VAL parameter is evaluated once where
the function is called ("eagerly evaluated"); an EXPR parameter is evaluated where the
body uses it ("lazily evaluated"), so under the body's CALCULATE or iterator; a parameter
with a default expression may be omitted; functions may call other functions, never
themselves.

Expected values are worked by hand from the reference rows of tests/engine/fixtures.py:
Sales amounts 10 (Ann, Oslo), 20 (Ann, Oslo), 30 (Bob, Oslo), 40 (Cid, Rome); quantities
2, 1, 5, 1; Dan (Rome) has no order. So [Sales] = 100, Oslo = 60, Rome = 40.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from generator.engine import DaxCompileError
from generator.spec.model import ExprOrigin, Function, Pos
from tests.engine.fixtures import CUSTOMERS, ORDERS, Engine, dates, measure, model

FUNCTIONS = (
    ("Fin.Half", "(x : SCALAR NUMERIC VAL) => x / 2"),
    ("Fin.Quarter", "(x : SCALAR NUMERIC VAL) => Fin.Half ( Fin.Half ( x ) )"),
    ("Geo.OsloVal", '(v : SCALAR VAL) => CALCULATE ( v, Customer[City] = "Oslo" )'),
    ("Geo.OsloExpr", '(v : SCALAR EXPR) => CALCULATE ( v, Customer[City] = "Oslo" )'),
)


def _function(name: str, text: str, line: int) -> Function:
    return Function(name, text, Pos("semantic/functions/f.yaml", line, 5), ExprOrigin("semantic/functions/f.yaml", line, 17))


def _engine(*measures) -> Engine:
    m = replace(model(measures), functions=tuple(_function(n, t, 3 + 2 * i) for i, (n, t) in enumerate(FUNCTIONS)))
    return Engine(m, data={"Customer": CUSTOMERS, "Sales": ORDERS, "Date": dates()}, as_of="2024-12-31")


@pytest.fixture(scope="module")
def eng():
    return _engine(
        measure("Oslo by UDF", "Geo.OsloExpr ( [Sales] )", line=20),
        measure("Quarter Sales", "Fin.Quarter ( [Sales] )", line=21),
        measure("Bad Arity", "Fin.Half ( [Sales], 2 )", line=22),
    )


def one(eng, dax: str):
    return eng.query(dax).iloc[0].tolist()


def test_val_is_evaluated_at_the_call_site_expr_inside_calculate(eng):
    # VAL: [Sales] = 100 is computed before CALCULATE changes the filters; EXPR: CALCULATE
    # re-evaluates [Sales] (and SUM) with City = "Oslo": 10 + 20 + 30 = 60.
    assert one(eng, 'EVALUATE ROW("val", Geo.OsloVal([Sales]), "expr", Geo.OsloExpr([Sales]), '
                    '"sum", Geo.OsloExpr(SUM(Sales[Amount])))') == [100, 60, 60]


def test_val_and_expr_differ_per_row_of_an_iterator(eng):
    # Per customer row: VAL takes that customer's [Sales] (Ann 30, Bob 30, Cid 40, Dan BLANK)
    # and CALCULATE of a constant is the constant. EXPR evaluates [Sales] under the row's
    # Name filter AND City = "Oslo": Cid and Dan are in Rome, so BLANK.
    df = eng.query('EVALUATE ADDCOLUMNS(VALUES(Customer[Name]), "v", Geo.OsloVal([Sales]), '
                   '"e", Geo.OsloExpr([Sales])) ORDER BY Customer[Name]')
    rows = [(r[0], None if r[1] != r[1] else r[1], None if r[2] != r[2] else r[2]) for r in df.itertuples(index=False)]
    assert rows == [("Ann", 30, 30), ("Bob", 30, 30), ("Cid", 40, None), ("Dan", None, None)]


def test_expr_parameter_is_evaluated_once_per_iteration(eng):
    # SUMX over the 2 cities: EXPR [Sales] per city = 60 + 40 = 100; VAL [Sales] is the one
    # value 100 computed before the iteration, added twice = 200.
    query = """
    DEFINE
        FUNCTION EachE = ( e : EXPR ) => SUMX ( VALUES ( Customer[City] ), e )
        FUNCTION EachV = ( e : VAL ) => SUMX ( VALUES ( Customer[City] ), e )
    EVALUATE ROW ( "expr", EachE ( [Sales] ), "val", EachV ( [Sales] ) )
    """
    assert one(eng, query) == [100, 200]


def test_nested_model_functions_and_a_measure_calling_one(eng):
    # Quarter(x) = Half(Half(x)) = 100 / 2 / 2 = 25; the measure wraps the EXPR function: 60.
    assert eng.evaluate_measure("Quarter Sales") == 25
    assert eng.evaluate_measure("Oslo by UDF") == 60
    assert eng.evaluate_measure("Oslo by UDF", {"Customer[Name]": "Cid"}) is None


def test_table_parameters(eng):
    # TABLE EXPR + COLUMNREF: SUMX(Sales, Sales[Qty]) = 2 + 1 + 5 + 1 = 9; t[Qty] on a table
    # name is Sales[Qty]. TABLE VAL: FILTER(Sales, Qty > 1) keeps orders 1 and 3: 2 rows,
    # amounts 10 + 30 = 40 (the rows keep their lineage, so Sales[Amount] reads them).
    query = """
    DEFINE
        FUNCTION Tot = ( t : TABLE EXPR, c : COLUMNREF ) => SUMX ( t, c )
        FUNCTION TotQ = ( t : TABLE EXPR ) => SUMX ( t, t[Qty] )
        FUNCTION Rows = ( t : TABLE VAL ) => COUNTROWS ( t )
        FUNCTION Amt = ( t : TABLE VAL ) => SUMX ( t, Sales[Amount] )
    EVALUATE ROW ( "a", Tot ( Sales, Sales[Qty] ), "b", TotQ ( Sales ),
                   "c", Rows ( FILTER ( Sales, Sales[Qty] > 1 ) ), "d", Amt ( FILTER ( Sales, Sales[Qty] > 1 ) ) )
    """
    assert one(eng, query) == [9, 9, 2, 40]


def test_defaults_and_lexical_scope(eng):
    # y defaults to 3: F(1) = 4, F(1, 10) = 11, F(1, ) = 4 (an omitted argument).
    # The body's VAR x = 100 does not capture the caller's x = 1 passed as EXPR: 1 + 100.
    query = """
    DEFINE
        FUNCTION F = ( x, y = 3 ) => x + y
        FUNCTION Shadow = ( p : EXPR ) => VAR x = 100 RETURN p + x
    EVALUATE ROW ( "a", F ( 1 ), "b", F ( 1, 10 ), "c", F ( 1, ), "d", VAR x = 1 RETURN Shadow ( x ) )
    """
    assert one(eng, query) == [4, 11, 4, 101]


def test_query_function_shadows_a_model_function(eng):
    assert one(eng, 'DEFINE FUNCTION Fin.Half = (x) => x * 10 EVALUATE ROW("a", Fin.Half(2))') == [20]


@pytest.mark.parametrize("query, message", [
    ('DEFINE FUNCTION F = (x) => F(x) EVALUATE ROW("a", F(1))', "function F calls itself"),
    ('DEFINE FUNCTION F = (x) => G(x) FUNCTION G = (x) => F(x) EVALUATE ROW("a", F(1))', "calls itself (f -> g -> f)"),
    ('DEFINE FUNCTION F = (x) => x EVALUATE ROW("a", F(1, 2))', "F takes exactly 1 argument, got 2 at DAX 1:48"),
    ('DEFINE FUNCTION F = (x, y) => x EVALUATE ROW("a", F(1))', "parameter 'y' has no argument and no default"),
    ('DEFINE FUNCTION F = (t : TABLE) => COUNTROWS(t) EVALUATE ROW("a", F(1))', "parameter 't' is a TABLE"),
    ('DEFINE FUNCTION F = (t : TABLE VAL) => COUNTROWS(t) EVALUATE ROW("a", F(1 + 1))', "parameter 't' is a TABLE"),
    ('DEFINE FUNCTION F = (c : COLUMNREF) => SUM(c) EVALUATE ROW("a", F([Sales]))', "must be a column reference"),
    ('DEFINE FUNCTION F = (m : MEASUREREF) => m EVALUATE ROW("a", F(Sales[Qty]))', "must be a measure reference"),
    ('DEFINE FUNCTION F = (v : SCALAR EXPR) => v EVALUATE ROW("a", F(Sales))', "is a SCALAR, but the argument is a table"),
    ('DEFINE FUNCTION F = (t : TABLE EXPR) => t[Qty] EVALUATE ROW("a", F(FILTER(Sales, TRUE)))',
     "in function F: t[Qty] needs a table name"),
])
def test_errors_are_clear(eng, query, message):
    with pytest.raises(DaxCompileError) as err:
        eng.query(query)
    assert message in str(err.value)


def test_error_in_a_measure_points_at_its_yaml(eng):
    with pytest.raises(DaxCompileError) as err:
        eng.evaluate_measure("Bad Arity")
    assert "Fin.Half takes exactly 1 argument, got 2" in err.value.message
    assert (err.value.pos.file, err.value.pos.line) == ("measures/m.yaml", 22)


def test_unknown_function_is_still_an_error(eng):
    with pytest.raises(DaxCompileError, match="unknown function FIN.THIRD"):
        eng.query('EVALUATE ROW("a", Fin.Third(1))')
