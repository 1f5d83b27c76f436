"""Honest limits: unsupported DAX is a compile error naming the function, the measure and
its YAML position; string literals can never change the shape of the generated SQL."""
from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from generator.engine import DaxCompileError, DaxUnsupportedError
from generator.dax.catalog import is_builtin
from generator.engine.runtime.engine import supported_functions
from tests.engine.fixtures import engine, measure


def test_unsupported_function_names_function_measure_and_position():
    # (not TOTALWTD any more: that one now raises Power BI's "must be a calendar reference")
    e = engine(measure("Weekly", "COMBINEVALUES(\"|\", \"1\", \"2\")", line=12))
    with pytest.raises(DaxUnsupportedError) as info:
        e.evaluate_measure("Weekly")
    err = info.value
    assert "COMBINEVALUES" in err.message and "measure [Weekly]" in err.message
    assert (err.pos.file, err.pos.line, err.pos.col) == ("measures/m.yaml", 12, 17)


def test_unsupported_function_deep_in_a_block_measure_points_at_its_line():
    from generator.spec.model import ExprOrigin, Measure, Pos

    m = Measure("Block", "Sales", "VAR x = 1\nRETURN\n    x + COMBINEVALUES(\"|\", Sales[Promo], \"a\")",
                Pos("measures/m.yaml", 20, 5), ExprOrigin("measures/m.yaml", 21, 7, block=True, indent=6))
    with pytest.raises(DaxUnsupportedError) as info:
        engine(m).evaluate_measure("Block")
    assert "COMBINEVALUES" in info.value.message
    assert (info.value.pos.line, info.value.pos.col) == (23, 15)  # expression line 3, column 9; block indent 6


def test_unknown_function_is_a_compile_error():
    with pytest.raises(DaxCompileError, match="unknown function NOSUCHFUNC"):
        engine().evaluate("NOSUCHFUNC(1)")


def test_unsupported_argument_form_is_an_error_not_a_guess():
    e = engine()
    with pytest.raises(DaxUnsupportedError, match="ADDMISSINGITEMS with filter tables"):
        e.query('EVALUATE ADDMISSINGITEMS(Customer[Name], SUMMARIZECOLUMNS(Customer[Name], "a", [Sales]), '
                'Customer[Name], VALUES(Customer[City]))')
    with pytest.raises(DaxUnsupportedError, match="FORMAT string"):
        e.evaluate('FORMAT(1, "0.0E+0")')


def test_every_handler_is_a_known_dax_function():
    assert sorted(n for n in supported_functions() if not is_builtin(n)) == []


NASTY = ["it's", "a\"b", "x'; DROP TABLE Sales; --", "/* c */", "-- c", "; SELECT 1", "\\", "''", "%s", "${x}",
         "\n", "é ü 中"]


@pytest.mark.parametrize("text", NASTY)
def test_string_literal_round_trips_and_keeps_sql_shape(text):
    e = engine()
    dax_text = '"' + text.replace('"', '""') + '"'
    assert e.evaluate(dax_text) == text
    assert e.evaluate(f"LEN({dax_text})") == len(text)
    # the filter's SQL has exactly the shape of the same query with a plain literal
    plain = e.sql('EVALUATE ROW("x", CALCULATE([Sales], Customer[City] = "abc"))')
    nasty = e.sql(f'EVALUATE ROW("x", CALCULATE([Sales], Customer[City] = {dax_text}))')
    assert _shape(plain) == _shape(nasty)
    assert e.evaluate(f"CALCULATE([Sales], Customer[City] = {dax_text})") is None
    assert len(sqlglot.parse(nasty, read="duckdb")) == 1


def _shape(sql: str) -> str:
    tree = sqlglot.parse_one(sql, read="duckdb")
    for lit in tree.find_all(exp.Literal):
        if lit.is_string:
            lit.replace(exp.Literal.string("?"))
    return tree.sql("duckdb")


def test_nasty_strings_as_data_and_filter_values():
    from tests.engine import fixtures as fx

    customers = [(1, "it's", "a'; DROP TABLE x; --"), (2, "Bob", "/* no */")]
    e = fx.Engine(fx.model(), data={"Customer": customers, "Sales": fx.ORDERS, "Date": fx.dates()})
    assert e.evaluate_measure("Sales", {"Customer[City]": "a'; DROP TABLE x; --"}) == 30
    assert e.evaluate_measure("Sales", {"Customer[Name]": "it's"}) == 30
    assert e.evaluate('CALCULATE([Sales], Customer[City] = "/* NO */")') == 30  # case-insensitive
