"""Window functions (OFFSET, WINDOW, INDEX, RANK, ROWNUMBER) on small hand-worked tables.

Every expected value is worked out by hand from the rows below and the rule cited:
- OFFSET  https://learn.microsoft.com/dax/offset-function-dax
- WINDOW  https://learn.microsoft.com/dax/window-function-dax
- INDEX   https://learn.microsoft.com/dax/index-function-dax
- RANK    https://learn.microsoft.com/dax/rank-function-dax
- ROWNUMBER https://learn.microsoft.com/dax/rownumber-function-dax
- SQLBI, "Introducing window functions in DAX" (apply semantics, omitted relation)
Visual queries run in both the grouped and the per-cell compiler.
"""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from generator.engine import DaxCompileError, DaxEvalError, DaxUnsupportedError, Engine
from generator.spec.model import Model, Relationship
from tests.engine.fixtures import P, col, measure, table

MONTH = table("Period", col("MonthNo", "int64", True), col("Name", "string"), col("Quarter", "int64"))
SALES = table("Sales", col("ID", "int64", True), col("MonthNo", "int64"), col("Region", "string"),
              col("Amount", "decimal"))
SCORE = table("Score", col("Name", "string", True), col("Pts", "int64"), col("Grp", "string"))

MONTHS = [(1, "Jan", 1), (2, "Feb", 1), (3, "Mar", 1), (4, "Apr", 2)]
# month totals: Jan 15, Feb 20, Mar 60, Apr 7
ORDERS = [(1, 1, "East", 10), (2, 1, "West", 5), (3, 2, "East", 20), (4, 3, "East", 30), (5, 3, "West", 30),
          (6, 4, "West", 7)]
# Pts has a BLANK (b), a tie (a, e: 3), zero and a negative
SCORES = [("a", 3, "G1"), ("b", None, "G1"), ("c", 0, "G1"), ("d", -2, "G1"), ("e", 3, "G2"), ("f", 5, "G2")]

MEASURES = (
    measure("Sales", "SUM(Sales[Amount])"),
    # relation omitted: ALLSELECTED(Period[MonthNo]) (offset-function-dax, <relation>)
    measure("Prev", "CALCULATE([Sales], OFFSET(-1, , ORDERBY(Period[MonthNo])))"),
    measure("Running", "CALCULATE([Sales], WINDOW(1, ABS, 0, REL, ALLSELECTED(Period[MonthNo]), "
                       "ORDERBY(Period[MonthNo])))"),
    measure("Moving3", "CALCULATE([Sales], WINDOW(-1, REL, 1, REL, ORDERBY(Period[MonthNo])))"),
    measure("Last", "CALCULATE([Sales], INDEX(-1, ALL(Period[MonthNo]), ORDERBY(Period[MonthNo])))"),
    measure("Rank", "RANK(DENSE, ALLSELECTED(Period[MonthNo]), ORDERBY([Sales], DESC))"),
)


@pytest.fixture(scope="module")
def e():
    rels = (Relationship("Sales", "MonthNo", "Period", "MonthNo", P),)
    model = Model("W", "en-US", (MONTH, SALES, SCORE), rels, MEASURES, (), Path("."))
    return Engine(model, data={"Period": MONTHS, "Sales": ORDERS, "Score": SCORES}, as_of="2024-12-31")


def _v(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return float(x) if not isinstance(x, str) else x


def rows(e, dax):
    return [tuple(_v(v) for v in r) for r in e.query(dax).itertuples(index=False)]


def both(e, dax):
    """The query's rows from the grouped and the per-cell compiler (they must agree)."""
    e.grouped = True
    grouped = rows(e, dax)
    e.grouped = False
    try:
        per_cell = rows(e, dax)
    finally:
        e.grouped = True
    assert sorted(grouped, key=repr) == sorted(per_cell, key=repr)
    return grouped


def by_month(e, *names):
    ms = ", ".join(f'"{m}", [{m}]' for m in names)
    # grouped by the ORDERBY column: a filter on another Month column (Name) would stay on
    # beside the OFFSET rows in CALCULATE and leave them empty, as in Power BI
    names = dict((float(n), name) for n, name, _ in MONTHS)
    return {names[r[0]]: r[1:] for r in both(e, f"EVALUATE SUMMARIZECOLUMNS(Period[MonthNo], {ms})")}


def one(e, expr):
    (row,) = rows(e, f'EVALUATE ROW("x", {expr})')
    return row[0]


# ---------------------------------------------------------------- OFFSET

def test_offset_previous_month_in_a_visual(e):
    # each cell filters one month, the current row; OFFSET(-1) is the month before it, Jan has none
    assert by_month(e, "Sales", "Prev") == {"Jan": (15.0, None), "Feb": (20.0, 15.0), "Mar": (60.0, 20.0),
                                            "Apr": (7.0, 60.0)}


def test_offset_total_is_the_union_over_the_context(e):
    # no single current month: "one row is returned for every possible combination of existing
    # values" (offset-function-dax, remarks): previous of Feb, Mar, Apr = Jan + Feb + Mar
    assert one(e, "[Prev]") == 95.0


def test_offset_in_sumx_row_context(e):
    # row context gives the current month: 0 (Jan) + 15 + 20 + 60
    assert one(e, "SUMX(VALUES(Period[MonthNo]), CALCULATE([Sales], OFFSET(-1, ALL(Period[MonthNo]), "
                  "ORDERBY(Period[MonthNo]))))") == 95.0


def test_offset_out_of_range_is_empty(e):
    assert one(e, "SUMX(Period, COUNTROWS(OFFSET(5, Period, ORDERBY(Period[MonthNo]))))") is None
    assert one(e, 'CALCULATE(COUNTROWS(OFFSET(1, ALL(Period[MonthNo]), ORDERBY(Period[MonthNo]))), '
                  'Period[MonthNo] = 4)') is None


def test_offset_with_partition_and_matchby_in_addcolumns(e):
    # Pts ascending, BLANK between the negatives and zero (rownumber-function-dax, <blanks> DEFAULT):
    # G1: d(-2), b(BLANK), c(0), a(3); G2: e(3), f(5). MATCHBY(Name) identifies the current row.
    got = both(e, 'EVALUATE ADDCOLUMNS(Score, "prev", SELECTCOLUMNS(OFFSET(-1, Score, ORDERBY(Score[Pts]), '
                  'PARTITIONBY(Score[Grp]), MATCHBY(Score[Name])), "n", Score[Name]))')
    assert {r[0]: r[3] for r in got} == {"d": None, "b": "d", "c": "b", "a": "c", "e": None, "f": "e"}


def test_matchby_that_is_not_unique_is_an_error(e):
    # MATCHBY columns must identify the rows (rownumber-function-dax, remarks: a tie at run time errors)
    with pytest.raises(DaxEvalError, match="tied"):
        rows(e, 'EVALUATE ADDCOLUMNS(Score, "p", COUNTROWS(OFFSET(-1, Score, ORDERBY(Score[Pts]), '
                'MATCHBY(Score[Grp]))))')


# ---------------------------------------------------------------- WINDOW

def test_window_running_total(e):
    # ABS 1 .. REL 0: from the first month to the current one
    assert by_month(e, "Running") == {"Jan": (15.0,), "Feb": (35.0,), "Mar": (95.0,), "Apr": (102.0,)}


def test_window_moving_three_months_clamped_to_the_partition(e):
    # REL -1 .. REL 1, clamped at both ends: Jan 15+20, Feb 15+20+60, Mar 20+60+7, Apr 60+7
    assert by_month(e, "Moving3") == {"Jan": (35.0,), "Feb": (95.0,), "Mar": (87.0,), "Apr": (67.0,)}


def test_window_abs_zero_is_one_and_negative_counts_from_the_end(e):
    # window-function-dax: ABS is 1-based, "0 is interpreted as 1", -1 is the last row
    assert one(e, "CALCULATE([Sales], WINDOW(0, ABS, -2, ABS, ALL(Period[MonthNo]), ORDERBY(Period[MonthNo])))") \
        == 15.0 + 20.0 + 60.0
    assert one(e, "CALCULATE([Sales], WINDOW(3, ABS, 2, ABS, ALL(Period[MonthNo]), ORDERBY(Period[MonthNo])))") \
        is None


# ---------------------------------------------------------------- INDEX

def test_index_positions(e):
    assert one(e, "[Last]") == 7.0  # -1: last row (index-function-dax)
    assert one(e, "CALCULATE([Sales], INDEX(1, ALL(Period[MonthNo]), ORDERBY(Period[MonthNo], DESC)))") == 7.0
    assert one(e, "COUNTROWS(INDEX(0, ALL(Period[MonthNo]), ORDERBY(Period[MonthNo])))") is None
    assert one(e, "COUNTROWS(INDEX(9, ALL(Period[MonthNo]), ORDERBY(Period[MonthNo])))") is None


def test_index_per_partition_from_the_row_context(e):
    # the first month of each row's quarter: Q1 → Jan (15), Q2 → Apr (7). The row context
    # gives Quarter; the INDEX rows (MonthNo, Quarter) then replace the transitioned filters
    got = both(e, 'EVALUATE ADDCOLUMNS(ALL(Period[MonthNo], Period[Quarter]), "first", CALCULATE([Sales], '
                  'INDEX(1, ALL(Period[MonthNo], Period[Quarter]), ORDERBY(Period[MonthNo]), '
                  'PARTITIONBY(Period[Quarter]))))')
    assert {r[0]: r[2] for r in got} == {1: 15.0, 2: 15.0, 3: 15.0, 4: 7.0}


def test_index_partition_left_open_is_a_union(e):
    # VALUES(Name) is a row context on Name only: Quarter is open, so INDEX returns the first
    # month of every quarter {Jan, Apr} (apply semantics); with Name = Feb still filtered by
    # the context transition, CALCULATE sees no rows for Feb and Mar
    got = both(e, 'EVALUATE ADDCOLUMNS(VALUES(Period[Name]), "first", CALCULATE([Sales], INDEX(1, '
                  'ALL(Period[MonthNo], Period[Quarter]), ORDERBY(Period[MonthNo]), PARTITIONBY(Period[Quarter]))))')
    assert dict(got) == {"Jan": 15.0, "Feb": None, "Mar": None, "Apr": 7.0}


# ---------------------------------------------------------------- RANK

def test_rank_of_a_measure_in_a_visual(e):
    # sales Mar 60, Feb 20, Jan 15, Apr 7, ranked descending
    assert by_month(e, "Rank") == {"Mar": (1.0,), "Feb": (2.0,), "Jan": (3.0,), "Apr": (4.0,)}


def test_rank_ties_skip_and_dense_with_blanks(e):
    # Pts descending with DEFAULT blanks: 5 f, 3 a, 3 e, 0 c, BLANK b, -2 d (BLANK sorts between
    # zero and the negatives, rank-function-dax <blanks>); SKIP leaves a gap after the tie, DENSE does not
    got = both(e, 'EVALUATE ADDCOLUMNS(Score, "s", RANK(SKIP, Score, ORDERBY(Score[Pts], DESC)), '
                  '"d", RANK(DENSE, Score, ORDERBY(Score[Pts], DESC)))')
    assert {r[0]: (r[3], r[4]) for r in got} == {"f": (1, 1), "a": (2, 2), "e": (2, 2), "c": (4, 3),
                                                  "b": (5, 4), "d": (6, 5)}


def test_rank_measure_form_and_not_in_relation(e):
    # a month outside the relation has no rank: BLANK (rownumber-function-dax: "If a match
    # cannot be found then rownumber is blank"); with no single current month (the total) the
    # output is "a union of these rows" (same page), several ranks where one value is needed
    assert one(e, 'CALCULATE(RANK(ALL(Period[MonthNo]), ORDERBY(Period[MonthNo])), Period[MonthNo] = 3)') == 3.0
    assert one(e, 'CALCULATE(RANK(FILTER(ALL(Period[MonthNo]), Period[MonthNo] < 3), ORDERBY(Period[MonthNo])), '
                  'Period[MonthNo] = 3)') is None
    with pytest.raises(DaxEvalError, match="not unique"):
        one(e, "[Rank]")


# ---------------------------------------------------------------- ROWNUMBER

@pytest.mark.parametrize("blanks, expected", [
    ("DEFAULT", {"d": 1, "b": 2, "c": 3, "a": 4, "e": 5, "f": 6}),
    ("FIRST", {"b": 1, "d": 2, "c": 3, "a": 4, "e": 5, "f": 6}),
    ("LAST", {"d": 1, "c": 2, "a": 3, "e": 4, "f": 5, "b": 6}),
])
def test_rownumber_blanks_and_ties_broken_by_other_columns(e, blanks, expected):
    # the a/e tie on Pts is broken by appending relation columns to ORDERBY (Name makes it
    # unique: a before e) (rownumber-function-dax, remarks)
    got = both(e, f'EVALUATE ADDCOLUMNS(Score, "n", ROWNUMBER(Score, ORDERBY(Score[Pts]), {blanks}))')
    assert {r[0]: r[3] for r in got} == expected


@pytest.mark.parametrize("args, expected", [
    # DESC, BLANK last: f 5, a 3, e 3 (Name breaks the tie), c 0, d -2, b
    ("ORDERBY(Score[Pts], DESC BLANKS LAST)", {"f": 1, "a": 2, "e": 3, "c": 4, "d": 5, "b": 6}),
    # the expression's own blank handling wins over the function's <blanks> argument
    ("ORDERBY(Score[Pts], ASC BLANKS FIRST), LAST", {"b": 1, "d": 2, "c": 3, "a": 4, "e": 5, "f": 6}),
])
def test_rownumber_orderby_two_part_direction(e, args, expected):
    # ORDERBY's <order> is "OrderDirection [BlankHandling]" (learn.microsoft.com/dax/orderby-function-dax);
    # per-expression blanks take priority (rownumber-function-dax, <blanks>)
    got = both(e, f'EVALUATE ADDCOLUMNS(Score, "n", ROWNUMBER(Score, {args}))')
    assert {r[0]: r[3] for r in got} == expected


def test_two_part_direction_formats_and_parses_back():
    from generator.dax.formatter import format_dax
    text = format_dax("ROWNUMBER(Score, ORDERBY(Score[Pts], desc blanks last))")
    assert "DESC BLANKS LAST" in text
    assert format_dax(text) == text


def test_rownumber_without_orderby_orders_by_the_relation_columns(e):
    # omitted ORDERBY: "every column in <relation> that is not already specified in <partitionBy>"
    # (rownumber-function-dax): months 1..4 numbered 1..4, times their sales: 15 + 40 + 180 + 28
    assert one(e, "SUMX(VALUES(Period[MonthNo]), ROWNUMBER(ALL(Period[MonthNo])) * [Sales])") == 263.0


def test_rownumber_partitioned(e):
    # G1 by Pts descending: a 3, c 0, b BLANK, d -2; G2: f 5, e 3
    got = both(e, 'EVALUATE ADDCOLUMNS(Score, "n", ROWNUMBER(Score, ORDERBY(Score[Pts], DESC), '
                  'PARTITIONBY(Score[Grp])))')
    assert {r[0]: r[3] for r in got} == {"a": 1, "c": 2, "b": 3, "d": 4, "f": 1, "e": 2}


def test_rownumber_errors_on_a_tie_nothing_can_break(e):
    # the relation's only column is Pts, tied for a and e: "If such columns cannot be found and the
    # function detects a tie at runtime, an error is returned" (rownumber-function-dax)
    with pytest.raises(DaxEvalError, match="tied"):
        one(e, 'SUMX(Score, ROWNUMBER(SELECTCOLUMNS(ALL(Score), "P", Score[Pts]), ORDERBY(Score[Pts])))')


def test_rownumber_inside_sumx(e):
    # months 1..4 numbered 1..4, times their sales: 15 + 40 + 180 + 28
    assert one(e, "SUMX(VALUES(Period[MonthNo]), ROWNUMBER(ORDERBY(Period[MonthNo])) * [Sales])") == 263.0


# ---------------------------------------------------------------- errors

def test_clauses_outside_a_window_function_are_errors(e):
    with pytest.raises(DaxCompileError, match="ORDERBY can only be an argument of a window function"):
        one(e, "COUNTROWS(ORDERBY(Period[MonthNo]))")


def test_omitted_relation_needs_columns(e):
    with pytest.raises(DaxCompileError, match="fully qualified column"):
        one(e, "RANK(ORDERBY([Sales]))")


def test_reset_is_unsupported(e):
    with pytest.raises(DaxUnsupportedError, match="reset"):
        one(e, "ROWNUMBER(ALL(Period[MonthNo]), ORDERBY(Period[MonthNo]), PARTITIONBY(Period[Quarter]), "
               "MATCHBY(Period[MonthNo]), 1)")
