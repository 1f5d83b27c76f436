"""Model-aware analysis on small hand-built models."""
from pathlib import Path

import pytest

from generator.dax.analysis import (
    analyze, analyze_model, analyze_query, measure_dependencies, referenced_columns,
)
from generator.spec.model import (
    CalculatedColumn, Column, ExprOrigin, Measure, Model, Pos, Relationship, Source, Table,
)

FILE = "measures/sales.yaml"


def col(name, type_="int64", **kw):
    return Column(name, type_, Pos("semantic/tables/x.yaml", 1, 1), **kw)


def table(name, *columns, calculated=()):
    return Table(name, Source("generator", Pos("t.yaml", 1, 1)), tuple(columns), Pos("t.yaml", 1, 1),
                 calculated_columns=tuple(calculated))


def measure(name, expression, line=10, block=False, table_="Sales", **kw):
    origin = ExprOrigin(FILE, line, 17 if not block else 7, block=block, indent=6 if block else 0)
    return Measure(name, table_, expression, Pos(FILE, line - 1, 5), origin, **kw)


def model(*measures, extra_tables=()):
    sales = table("Sales", col("OrderID"), col("Amount", "double"), col("Qty"), col("CustomerID"),
                  col("Date", "date"))
    customer = table(
        "Customer", col("ID"), col("City", "string"), col("Name", "string"),
        calculated=[CalculatedColumn("Label", "string", 'Customer[Name] & " (" & [City] & ")"',
                                     Pos("c.yaml", 3, 3), ExprOrigin("c.yaml", 4, 17))],
    )
    date = table("Date", col("Date", "date"), col("Year"))
    rels = (Relationship("Sales", "CustomerID", "Customer", "ID", Pos("m.yaml", 1, 1)),)
    return Model("M", "en-US", (sales, customer, date, *extra_tables), rels, tuple(measures), (), Path("."))


def messages(m):
    return [p.message for p in analyze_model(m)]


def test_clean_model_has_no_problems():
    m = model(
        measure("Sales", "SUM(Sales[Amount])"),
        measure("Orders", "COUNTROWS(Sales)"),
        measure("Avg", "DIVIDE([Sales], [Orders])"),
        measure("YoY", "VAR py = CALCULATE([Sales], DATEADD('Date'[Date], -1, YEAR)) RETURN [Sales] - py"),
        measure("Rank", "RANKX(ALL(Customer[Name]), [Sales],, DESC, Dense)"),
        measure("Oslo", 'CALCULATE([Sales], Customer[City] IN {"Oslo", "Rome"}, Sales[Sales] > 0)'),
    )
    assert analyze_model(m) == []


def test_misspelt_column_reports_yaml_position_and_suggestion():
    m = model(measure("Sales", "SUM(Sales[Amout])", line=12))
    (problem,) = analyze_model(m)
    assert str(problem.pos) == "measures/sales.yaml:12:21"
    assert problem.message == "measure 'Sales', DAX 1:5: column 'Amout' not found in table 'Sales'"
    assert problem.hint == "did you mean 'Amount'?"


def test_position_in_block_scalar():
    m = model(measure("Sales", "VAR x = 1\nRETURN\n    SUMX(Sales, Sales[Qtty])", line=20, block=True))
    (problem,) = analyze_model(m)
    assert str(problem.pos) == "measures/sales.yaml:22:23"  # DAX 3:17 -> indent 6 + 17
    assert "DAX 3:17" in problem.message and problem.hint == "did you mean 'Qty'?"


def test_unknown_table_measure_and_function():
    m = model(
        measure("A", "COUNTROWS(Sale)"),
        measure("B", "[Salse] + 1"),
        measure("C", "SUMM(Sales[Amount])"),
        measure("Sales", "SUM(Sales[Amount])"),
        measure("D", "Custmer[City]"),
    )
    problems = {p.message: p.hint for p in analyze_model(m)}
    assert problems == {
        "measure 'A', DAX 1:11: unknown table 'Sale'": "did you mean 'Sales'?",
        "measure 'B', DAX 1:1: unknown measure or column [Salse]": "did you mean 'Sales'?",
        "measure 'C', DAX 1:1: unknown function SUMM": "did you mean 'SUM'?",
        "measure 'D', DAX 1:1: unknown table 'Custmer' in Custmer[City]": "did you mean 'Customer'?",
    }


@pytest.mark.parametrize(
    "expression, message",
    [
        ("SUM(Sales[Amount], Sales[Qty])", "SUM takes exactly 1 argument, got 2"),
        ("IF(TRUE())", "IF takes 2 to 3 arguments, got 1"),
        ("CALCULATE()", "CALCULATE takes at least 1 argument, got 0"),
        ("DIVIDE(1, 2, 3, 4)", "DIVIDE takes 2 to 3 arguments, got 4"),
        ("BLANK(1)", "BLANK takes exactly 0 arguments, got 1"),
    ],
)
def test_arity(expression, message):
    (text,) = messages(model(measure("M", expression)))
    assert text == f"measure 'M', DAX 1:1: {message}"


def test_omitted_arguments_count_for_arity():
    assert messages(model(measure("M", "RANKX(ALL(Customer), 1,,,DENSE)"))) == []
    assert messages(model(measure("M", "RANKX(ALL(Customer), 1,,,,DENSE)"))) == [
        "measure 'M', DAX 1:1: RANKX takes 2 to 5 arguments, got 6"
    ]


def test_cycles_are_reported_once_with_the_chain():
    m = model(
        measure("A", "[B] + 1", line=10),
        measure("B", "[C] * 2", line=20),
        measure("C", "Sales[A] - 1", line=30),  # Table[Measure] form
        measure("Self", "[Self]", line=40),
        measure("D", "[A]", line=50),
    )
    problems = analyze_model(m)
    assert [p.message for p in problems] == [
        "measure 'A', DAX 1:1: circular measure dependency: A -> B -> C -> A",
        "measure 'Self', DAX 1:1: circular measure dependency: Self -> Self",
    ]
    assert str(problems[0].pos) == "measures/sales.yaml:10:17"


def test_comments_never_count():
    m = model(
        measure("Sales", "SUM(Sales[Amount]) // [Missing] and Nope[Col] and [Sales]"),
        measure("Other", "/* [Sales] */ 1 -- SUMM(x)"),
    )
    assert analyze_model(m) == []
    assert measure_dependencies(m) == {"Sales": set(), "Other": set()}


def test_scoping_of_vars_and_introduced_columns():
    expressions = [
        'VAR t = ADDCOLUMNS(VALUES(Customer[City]), "@Sales", [Sales]) RETURN MAXX(t, [@Sales])',
        'SUMX(SELECTCOLUMNS(Sales, "Net", Sales[Amount] * 0.9), [Net])',
        'COUNTROWS(SUMMARIZE(Sales, Customer[City], "Total", [Sales]))',
        'SUMX(SUMMARIZECOLUMNS(Customer[City], "S", [Sales]), [S])',
        "MAXX({1, 2, 3}, [Value])",
        'MAXX({(1, "a")}, [Value2])',
        "MAXX({ MAX(Sales[Date]) }, ''[Value])",
        "SUMX(GENERATESERIES(1, 10), [Value])",
        "COUNTROWS(FILTER(CALENDAR(DATE(2020,1,1), DATE(2020,12,31)), [Date] > DATE(2020,6,1)))",
        'VAR t = ROW("x", 1) RETURN MAXX(t, [x])',
        "VAR t = Sales RETURN SUMX(t, t[Amount])",
        "SUMX(Sales, [Amount] * [Qty])",  # bare columns in row context
        "COUNTROWS(INFO.TABLES()) + MAXX(INFO.TABLES(), [Anything])",
    ]
    m = model(measure("Sales", "SUM(Sales[Amount])"),
              *(measure(f"M{i}", e) for i, e in enumerate(expressions)))
    assert messages(m) == []


def test_bare_enum_words_and_tables_named_like_them():
    m = model(
        measure("A", "DATEADD('Date'[Date], -1, MONTH)"),
        measure("B", "COUNTROWS(Currency)"),
        extra_tables=(table("Currency", col("Code", "string")),),
    )
    assert messages(m) == []


def test_calculated_columns_are_checked_and_resolve_their_own_table():
    bad = CalculatedColumn("Bad", "string", "Customer[Nmae]", Pos("c.yaml", 9, 3), ExprOrigin("c.yaml", 10, 17))
    m = model(extra_tables=(table("Extra", col("X"), calculated=[bad]),))
    problems = analyze_model(m)
    assert [(str(p.pos), p.message, p.hint) for p in problems] == [
        ("c.yaml:10:17", "calculated column 'Extra'[Bad], DAX 1:1: column 'Nmae' not found in table 'Customer'",
         "did you mean 'Name'?")
    ]
    refs = referenced_columns(model())
    assert refs["calculated column 'Customer'[Label]"] == {("Customer", "Name"), ("Customer", "City")}


def test_syntax_error_is_a_problem_with_both_positions():
    (problem,) = analyze_model(model(measure("Broken", "SUM(Sales[Amount]", line=7)))
    assert str(problem.pos) == "measures/sales.yaml:7:34"
    assert problem.message.startswith("measure 'Broken', DAX 1:18: syntax error: expected ',' or ')'")


def test_dependencies_and_columns():
    m = model(
        measure("Sales", "SUM(Sales[Amount])"),
        measure("Orders", "COUNTROWS(Sales)"),
        measure("Avg", "DIVIDE([Sales], Sales[Orders]) + [sales]"),
    )
    assert measure_dependencies(m) == {"Sales": set(), "Orders": set(), "Avg": {"Sales", "Orders"}}
    assert referenced_columns(m)["measure 'Sales'"] == {("Sales", "Amount")}
    info = analyze(m).measure("avg")
    assert info is not None and info.tree is not None and set(info.measures) == {"Sales", "Orders"}


def test_query_defines_are_known():
    m = model(measure("Sales", "SUM(Sales[Amount])"))
    query = """
    DEFINE
        MEASURE Sales[Twice] = [Sales] * 2
        COLUMN Sales[Net] = Sales[Amount] * 0.9
        TABLE Top = TOPN(3, VALUES(Customer[City]), [Twice])
        VAR _k = 2
        FUNCTION Times = (x, k) => x * k
    EVALUATE
        ADDCOLUMNS(Top, "T", Times([Twice], _k), "N", SUMX(Sales, [Net]) + SUM(Sales[Net]), "Q", Top[City])
    """
    assert analyze_query(m, query) == []
    bad = analyze_query(m, "DEFINE FUNCTION F = (x) => x EVALUATE ROW(\"a\", F(1, 2), \"b\", [Thrice])")
    assert [p.message for p in bad] == [
        "query, DAX 1:48: F takes exactly 1 argument, got 2",
        "query, DAX 1:62: unknown measure or column [Thrice]",
    ]
