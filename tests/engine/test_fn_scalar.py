"""Conformance of the statistics, error, time-intelligence and information functions
(fn_stats.py, fn_errors.py, fn_timeintel2.py, fn_info.py) on the reference model of
tests/engine/fixtures.py:

  Sales: 1 cust1 2024-01-10 Qty2 Amt10 · 2 cust1 2024-02-05 Qty1 Amt20
         3 cust2 2024-02-20 Qty5 Amt30 · 4 cust3 2023-02-15 Qty1 Amt40
  Date: every day of 2023 and 2024 (marked date table).

Expected values are worked out by hand or computed independently here (closed forms with
the math module, plain sums); the distribution values Power BI Desktop returned are the
oracle's (../shared/dax-corpus/oracle, copied as literals with the probe).
"""
from __future__ import annotations

import math
import uuid

import pytest

from generator.engine import DaxEvalError
from generator.engine.errors import DaxCompileError, DaxUnsupportedError
from generator.engine.compiler.fn_info import VISUAL_ONLY
from generator.engine.schema import DEFAULT_USER
from tests.engine.fixtures import CUSTOMERS, ORDERS, Engine, dates, engine, measure, model


@pytest.fixture(scope="module")
def eng():
    return engine(measure("Running", "CALCULATE(SUM(Sales[Amount]), FILTER(ALL('Date'), 'Date'[Date] <= MAX('Date'[Date])))"),
                  measure("Bad", 'ERROR("bad measure")'))


def close(a, b, tol=1e-12):
    return a is not None and math.isclose(a, b, rel_tol=tol, abs_tol=tol)


# ---------------------------------------------------------------- distributions

# Power BI Desktop's values (oracle probes), learn.microsoft.com/dax/<name>-function-dax
DESKTOP = [
    ("BETA.DIST(0.4, 8, 10, TRUE)", 0.359492342933094),
    ("BETA.DIST(0.4, 8, 10, FALSE)", 3.21111706514227),
    ("BETA.INV(0.685470581, 8, 10)", 0.499999999981571),
    ("CHISQ.DIST(0.5, 1, TRUE)", 0.520499877813047),
    ("CHISQ.DIST(2, 3, FALSE)", 0.207553748710297),
    ("CHISQ.DIST.RT(3, 4)", 0.557825400371075),
    ("CHISQ.INV(0.93, 1)", 3.28302028675953),
    ("CHISQ.INV.RT(0.05, 10)", 18.3070380532751),
    ("CONFIDENCE.NORM(0.05, 2.5, 50)", 0.692951912174839),
    ("CONFIDENCE.T(0.05, 1, 50)", 0.28419685549573),
    ("NORM.INV(0.908789, 40, 1.5)", 42.0000020095662),
    ("NORM.S.INV(0.908789)", 1.33333467304411),
    ("T.DIST(1.5, 10, TRUE)", 0.91774633677728),
    ("T.DIST.2T(1.959999998, 60)", 0.054644929975921),
    ("T.INV.2T(0.546449, 60)", 0.606533075825759),
]


@pytest.mark.parametrize("expr,want", DESKTOP)
def test_distribution_matches_desktop(eng, expr, want):
    assert close(eng.evaluate(expr), want)


def _phi(z):
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


# closed forms: normal via erf; Student t with 2 degrees of freedom, F(t) = 1/2 + t / (2 sqrt(2 + t²));
# chi-square with 2 degrees of freedom, F(x) = 1 - e^(-x/2); Poisson and exponential by definition
CLOSED = [
    ("NORM.S.DIST(0.7, TRUE)", _phi(0.7)),
    ("NORM.S.DIST(0.7, FALSE)", math.exp(-0.49 / 2) / math.sqrt(2 * math.pi)),
    ("NORM.DIST(12, 10, 4, TRUE)", _phi(0.5)),
    ("T.DIST(1.3, 2, TRUE)", 0.5 + 1.3 / (2 * math.sqrt(2 + 1.3 ** 2))),
    ("T.DIST.RT(1.3, 2)", 0.5 - 1.3 / (2 * math.sqrt(2 + 1.3 ** 2))),
    ("T.DIST(1.3, 2.9, TRUE)", 0.5 + 1.3 / (2 * math.sqrt(2 + 1.3 ** 2))),  # degrees truncated to 2
    ("T.INV(0.75, 2)", math.sqrt(2 / 3)),  # solves 1/2 + t/(2 sqrt(2+t²)) = 3/4
    ("CHISQ.DIST(3, 2, TRUE)", 1 - math.exp(-1.5)),
    ("CHISQ.INV(0.5, 2)", 2 * math.log(2)),
    ("POISSON.DIST(2, 3, FALSE)", math.exp(-3) * 9 / 2),
    ("POISSON.DIST(2.7, 3, TRUE)", math.exp(-3) * (1 + 3 + 4.5)),  # x truncated to 2
    ("EXPON.DIST(0.5, 2, TRUE)", 1 - math.exp(-1)),
    ("EXPON.DIST(0.5, 2, FALSE)", 2 * math.exp(-1)),
    ("BETA.DIST(0.25, 1, 1, TRUE)", 0.25),  # Beta(1,1) is uniform
    ("BETA.DIST(3, 1, 1, TRUE, 2, 6)", 0.25),  # rescaled to [A, B] = [2, 6]
    ("BETA.INV(0.25, 1, 1, 2, 6)", 3.0),
    ("CONFIDENCE.NORM(0.05, 2, 4)", 1.959963984540054 * 2 / 2),
]


@pytest.mark.parametrize("expr,want", CLOSED)
def test_distribution_closed_forms(eng, expr, want):
    assert close(eng.evaluate(expr), want, 1e-9)


@pytest.mark.parametrize("expr", [
    "NORM.INV(1.2, 0, 1)", "NORM.S.INV(0)", "NORM.DIST(1, 0, -1, TRUE)", "CHISQ.DIST(-1, 2, TRUE)",
    "CHISQ.INV(0.5, 0)", "T.DIST(1, 0, TRUE)", "T.DIST.2T(-1, 5)", "POISSON.DIST(-1, 2, TRUE)",
    "EXPON.DIST(1, 0, TRUE)", "BETA.DIST(2, 1, 1, TRUE)", "BETA.INV(0, 1, 1)", "CONFIDENCE.T(0.05, 1, 1)",
    "CONFIDENCE.NORM(1.5, 1, 10)",
])
def test_out_of_domain_argument_is_an_error_not_blank(eng, expr):
    # Excel's #NUM! cases, learn.microsoft.com/dax/<name>-function-dax "Remarks"
    with pytest.raises(DaxEvalError, match="has the wrong data type or has an invalid value"):
        eng.evaluate(expr)


# ---------------------------------------------------------------- LINEST, RANK.EQ

def _fit(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    slope = sxy / sxx
    intercept = my - slope * mx
    ss_res = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys))
    ss_tot = sum((y - my) ** 2 for y in ys)
    s = math.sqrt(ss_res / (n - 2))
    return {"[Slope1]": slope, "[Intercept]": intercept, "[StandardErrorSlope1]": s / math.sqrt(sxx),
            "[StandardErrorIntercept]": s * math.sqrt(1 / n + mx ** 2 / sxx),
            "[CoefficientOfDetermination]": 1 - ss_res / ss_tot, "[StandardError]": s,
            "[FStatistic]": (ss_tot - ss_res) / (ss_res / (n - 2)), "[DegreesOfFreedom]": n - 2,
            "[RegressionSumOfSquares]": ss_tot - ss_res, "[ResidualSumOfSquares]": ss_res}


def test_linest_matches_least_squares(eng):
    # learn.microsoft.com/dax/linest-function-dax: one row, these columns
    want = _fit([r[3] for r in ORDERS], [r[4] for r in ORDERS])
    for query in ("EVALUATE LINEST(Sales[Amount], Sales[Qty])", "EVALUATE LINESTX(Sales, Sales[Amount], Sales[Qty])"):
        df = eng.query(query)
        assert list(df.columns) == list(want)
        assert len(df) == 1
        for name, value in want.items():
            assert close(float(df[name][0]), value, 1e-9), name


def test_linest_respects_the_filter_context(eng):
    # 2024 orders only: Qty 2, 1, 5 → Amount 10, 20, 30
    want = _fit([2, 1, 5], [10, 20, 30])["[Slope1]"]
    got = eng.evaluate("CALCULATE(SUMX(LINEST(Sales[Amount], Sales[Qty]), [Slope1]), 'Date'[Year] = 2024)")
    assert close(got, want, 1e-9)


def test_linestx_without_constant_fits_through_the_origin(eng):
    qty, amt = [r[3] for r in ORDERS], [r[4] for r in ORDERS]
    want = sum(q * a for q, a in zip(qty, amt)) / sum(q * q for q in qty)  # slope of y = b·x
    got = eng.evaluate("SUMX(LINESTX(Sales, Sales[Amount], Sales[Qty], FALSE), [Slope1])")
    assert close(got, want, 1e-9)
    assert eng.evaluate("SUMX(LINESTX(Sales, Sales[Amount], Sales[Qty], FALSE), [Intercept])") == 0


def test_rank_eq(eng):
    # learn.microsoft.com/dax/rank-eq-function-dax: Amounts 10 20 30 40; default order descending
    assert eng.evaluate("RANK.EQ(30, Sales[Amount])") == 2
    assert eng.evaluate("RANK.EQ(30, Sales[Amount], ASC)") == 3
    assert eng.evaluate("RANK.EQ(1, Sales[Qty])") == 3  # Qty 5, 2 before; the two 1s tie at 3
    assert eng.evaluate("RANK.EQ(25, Sales[Amount])") is None  # not a value of the column


@pytest.mark.parametrize("expr", ["CEILING.MATH(24.3, 5)", "FLOOR.MATH(-8.1, 2)", 'EXTERNALMEASURE("x", INTEGER, "r")'])
def test_names_desktop_cannot_resolve(eng, expr):
    with pytest.raises(DaxCompileError, match="Cannot resolve the name") as exc:
        eng.evaluate(expr)
    assert not isinstance(exc.value, DaxUnsupportedError)


def test_approximatedistinctcount_raises_on_import(eng):
    with pytest.raises(DaxCompileError, match="not supported for this storage mode"):
        eng.evaluate("APPROXIMATEDISTINCTCOUNT(Sales[CustomerID])")


# ---------------------------------------------------------------- errors

def test_iferror_catches_conversion_and_error(eng):
    # learn.microsoft.com/dax/iferror-function-dax, error-function-dax, value-function-dax
    assert eng.evaluate('IFERROR(VALUE("x"), -1)') == -1
    assert eng.evaluate('IFERROR(VALUE("12"), -1)') == 12
    assert eng.evaluate('IFERROR(ERROR("no"), "caught")') == "caught"
    assert eng.evaluate("IFERROR(NORM.S.INV(2), -5)") == -5
    assert eng.evaluate('ISERROR(VALUE("x"))') is True
    assert eng.evaluate('ISERROR(VALUE("3"))') is False


def test_division_by_zero_is_not_an_error(eng):
    # dax-semantics §1: 5/0 = +Infinity; IFERROR does not replace it
    assert eng.evaluate("IFERROR(5 / 0, 7)") == math.inf
    assert eng.evaluate("IFERROR(SUM(Sales[Qty]) / 0, 7)") == math.inf
    assert eng.evaluate("ISERROR(1 / 0)") is False
    assert eng.evaluate("IFERROR([Sales], 0)") == 100


def test_iferror_catches_an_error_between_aggregations(eng):
    # a Currency (fixed decimal) division by zero raises "Division by zero was encountered"
    # (generator/engine/values.py), unlike a Double one; IFERROR over measures catches it
    assert eng.evaluate("IFERROR(SUM(Sales[Amount]) / 0, 7)") == 7
    assert eng.evaluate("ISERROR([Sales] / 0)") is True
    assert eng.evaluate("IFERROR([Sales] / [Sales], 7)") == 1
    df = eng.query('EVALUATE SUMMARIZECOLUMNS(Customer[Name], "a", IFERROR([Sales] / 0, -1), "s", [Sales])')
    assert sorted(df["[a]"].tolist()) == [-1, -1, -1]


def test_iferror_row_by_row(eng):
    # Promo is A, -, B, A: VALUE fails on every letter, BLANK converts to BLANK
    assert eng.evaluate("SUMX(Sales, IFERROR(VALUE(Sales[Promo]), Sales[Qty]))") == 2 + 5 + 1
    assert eng.evaluate("COUNTROWS(FILTER(Sales, ISERROR(VALUE(Sales[Promo]))))") == 3


def test_an_error_in_a_measure_fails_the_query(eng):
    with pytest.raises(DaxEvalError, match="bad measure"):
        eng.query('EVALUATE SUMMARIZECOLUMNS(Customer[City], "x", [Bad])')
    with pytest.raises(DaxEvalError, match="nope"):
        eng.evaluate('IF([Sales] > 0, ERROR("nope"), 1)')
    assert eng.evaluate('IFERROR([Bad], 9)') == 9


def test_iferror_over_an_aggregation_that_can_raise_is_unsupported(eng):
    with pytest.raises(DaxUnsupportedError, match="IFERROR"):
        eng.evaluate("IFERROR(SUMX(Sales, VALUE(Sales[Promo])), 0)")


# ---------------------------------------------------------------- time intelligence

FEB10_MAY3 = "FILTER(ALL('Date'[Date]), 'Date'[Date] >= DATE(2024,2,10) && 'Date'[Date] <= DATE(2024,5,3))"


def _dates(eng, fn):
    return eng.evaluate(f"CALCULATE(CONCATENATEX({fn}, FORMAT('Date'[Date], \"yyyy-mm-dd\"), \",\", 'Date'[Date]), {FEB10_MAY3})")


@pytest.mark.parametrize("fn,want", [
    # dax.guide/startofyear: first date of the period of the earliest visible date (2024-02-10);
    # dax.guide/endofyear: last date of the period of the latest visible date (2024-05-03)
    ("STARTOFMONTH('Date'[Date])", "2024-02-01"),
    ("STARTOFQUARTER('Date'[Date])", "2024-01-01"),
    ("STARTOFYEAR('Date'[Date])", "2024-01-01"),
    ("STARTOFYEAR('Date'[Date], \"6/30\")", "2023-07-01"),
    ("ENDOFMONTH('Date'[Date])", "2024-05-31"),
    ("ENDOFQUARTER('Date'[Date])", "2024-06-30"),
    ("ENDOFYEAR('Date'[Date])", "2024-12-31"),
    ("ENDOFYEAR('Date'[Date], \"6/30\")", "2024-06-30"),
    # dax.guide/nextquarter: the period after the one holding the last visible date
    ("NEXTDAY('Date'[Date])", "2024-05-04"),
])
def test_period_edges(eng, fn, want):
    assert _dates(eng, fn) == want


def test_next_month_and_quarter_are_whole_periods(eng):
    assert eng.evaluate(f"CALCULATE(COUNTROWS(NEXTMONTH('Date'[Date])), {FEB10_MAY3})") == 30  # June
    assert eng.evaluate(f"CALCULATE(MIN('Date'[Date]), NEXTQUARTER('Date'[Date]))") is None  # after 2024-12-31
    assert eng.evaluate(f"CALCULATE(COUNTROWS(NEXTQUARTER('Date'[Date])), {FEB10_MAY3})") == 92  # Jul–Sep


def test_opening_and_closing_balances(eng):
    # [Running] = all sales up to the last visible date. Orders: 2023-02-15 40, 2024-01-10 10,
    # 2024-02-05 20, 2024-02-20 30. learn.microsoft.com/dax/openingbalancemonth-function-dax:
    # opening = the day before the period starts; closingbalancemonth: the period's last date
    feb = "FILTER(ALL('Date'[Date]), 'Date'[Date] >= DATE(2024,2,10) && 'Date'[Date] <= DATE(2024,2,12))"
    assert eng.evaluate(f"CALCULATE(OPENINGBALANCEMONTH([Running], 'Date'[Date]), {feb})") == 50  # at Jan 31
    assert eng.evaluate(f"CALCULATE(CLOSINGBALANCEMONTH([Running], 'Date'[Date]), {feb})") == 100  # at Feb 29
    assert eng.evaluate(f"CALCULATE(OPENINGBALANCEQUARTER([Running], 'Date'[Date]), {feb})") == 40  # at 2023-12-31
    assert eng.evaluate(f"CALCULATE(OPENINGBALANCEYEAR([Running], 'Date'[Date], \"1/31\"), {feb})") == 50
    assert eng.evaluate("CALCULATE(CLOSINGBALANCEYEAR([Running], 'Date'[Date]), 'Date'[Year] = 2023)") == 40
    # fiscal years ending 6/30: the one holding 2023-12-31 closes on 2024-06-30
    assert eng.evaluate(f"CALCULATE(CLOSINGBALANCEYEAR([Running], 'Date'[Date], \"6/30\"), 'Date'[Year] = 2023)") == 100
    # the day before 2023-01-01 is not in the column: an empty filter, BLANK
    assert eng.evaluate("CALCULATE(OPENINGBALANCEYEAR([Running], 'Date'[Date]), 'Date'[Year] = 2023)") is None


def test_first_and_last_nonblank(eng):
    # learn.microsoft.com/dax/firstnonblank-function-dax: the column's first value (ascending)
    # for which the expression, with context transition, is not BLANK
    assert eng.evaluate("CONCATENATEX(FIRSTNONBLANK('Date'[Date], [Sales]), FORMAT('Date'[Date], \"yyyy-mm-dd\"))") == "2023-02-15"
    assert eng.evaluate("CONCATENATEX(LASTNONBLANK('Date'[Date], [Sales]), FORMAT('Date'[Date], \"yyyy-mm-dd\"))") == "2024-02-20"
    assert eng.evaluate("CALCULATE([Sales], LASTNONBLANK('Date'[Date], [Sales]))") == 30
    # filter arguments are evaluated in the outer context: FIRSTNONBLANK sees all dates
    # (2023-02-15), which the Year = 2024 argument then intersects to nothing
    assert eng.evaluate("CALCULATE([Sales], 'Date'[Year] = 2024, FIRSTNONBLANK('Date'[Date], [Sales]))") is None
    assert eng.evaluate("CALCULATE(CALCULATE([Sales], FIRSTNONBLANK('Date'[Date], [Sales])), 'Date'[Year] = 2024)") == 10


@pytest.mark.parametrize("day,t1,t2,t21", [
    # learn.microsoft.com/dax/weeknum-function-dax: 2024-01-01 is a Monday, 2023-01-01 a Sunday
    ("DATE(2024,1,6)", 1, 1, 1),
    ("DATE(2024,1,7)", 2, 1, 1),   # Sunday starts week 2 under type 1
    ("DATE(2024,1,8)", 2, 2, 2),
    ("DATE(2024,12,31)", 53, 53, 1),
    ("DATE(2023,1,1)", 1, 1, 52),  # ISO: the last week of 2022
    ("DATE(2023,1,2)", 1, 2, 1),
])
def test_weeknum(eng, day, t1, t2, t21):
    assert eng.evaluate(f"WEEKNUM({day})") == t1
    assert eng.evaluate(f"WEEKNUM({day}, 2)") == t2
    assert eng.evaluate(f"WEEKNUM({day}, 21)") == t21


@pytest.mark.parametrize("expr,match", [
    # Power BI: the week functions need a calendar (calendar-based time intelligence)
    ("COUNTROWS(DATESWTD('Date'[Date]))", "DATESWTD's parameter 1 must be a calendar reference"),
    ("TOTALWTD([Sales], 'Date'[Date])", "TOTALWTD's parameter 2 must be a calendar reference"),
    ("COUNTROWS(STARTOFWEEK('Date'[Date]))", "STARTOFWEEK's parameter 1"),
    ("OPENINGBALANCEWEEK([Sales], 'Date'[Date])", "DAY, MONTH, QUARTER or YEAR"),
])
def test_week_functions_need_a_calendar(eng, expr, match):
    with pytest.raises(DaxCompileError, match=match):
        eng.evaluate(expr)


# ---------------------------------------------------------------- information

def test_isafter_and_isonorafter(eng):
    # learn.microsoft.com/dax/isafter-function-dax: lexicographic, first unequal pair decides
    assert eng.evaluate("ISAFTER(3, 2, ASC)") is True
    assert eng.evaluate("ISAFTER(2, 2)") is False
    assert eng.evaluate("ISONORAFTER(2, 2)") is True
    assert eng.evaluate("ISAFTER(3, 2, DESC)") is False
    assert eng.evaluate('ISAFTER("b", "b", ASC, 1, 0, ASC)') is True
    assert eng.evaluate('ISONORAFTER("a", "b", ASC, 9, 0, ASC)') is False


def test_nameof_and_evaluateandlog(eng):
    # learn.microsoft.com/dax/nameof-function-dax, evaluateandlog-function-dax
    assert eng.evaluate("NAMEOF(Customer[City])") == "'Customer'[City]"
    assert eng.evaluate("NAMEOF([Sales])") == "'Sales'[Sales]"
    assert eng.evaluate("EVALUATEANDLOG([Sales], \"label\")") == 100


def test_user_functions_default_and_option():
    # learn.microsoft.com/dax/username-function-dax: Desktop returns DOMAIN\user
    e = engine()
    assert e.evaluate("USERNAME()") == DEFAULT_USER
    assert e.evaluate("USERPRINCIPALNAME()") == DEFAULT_USER
    assert e.evaluate("CUSTOMDATA()") is None
    assert e.evaluate("USERCULTURE()") == "en-US"
    other = Engine(model(), data={"Customer": CUSTOMERS, "Sales": list(ORDERS), "Date": dates()},
                   as_of="2024-12-31", user="ann@contoso.com")
    assert other.evaluate("USERPRINCIPALNAME()") == "ann@contoso.com"
    oid = other.evaluate("USEROBJECTID()")
    assert uuid.UUID(oid) and oid == other.evaluate("USEROBJECTID()") != e.evaluate("USEROBJECTID()")


@pytest.mark.parametrize("name", VISUAL_ONLY)
def test_visual_calculation_functions_raise(eng, name):
    with pytest.raises(DaxCompileError, match=f"{name} can only be used in a visual calculation"):
        eng.evaluate(f"{name}([Sales])")


# ---------------------------------------------------------------- PATH

def _tree(rows):
    from pathlib import Path

    from generator.spec.model import Model
    from tests.engine.fixtures import col, table

    node = table("Node", col("Id", "int64", True), col("Parent", "int64"))
    return Engine(Model("Tree", "en-US", (node,), (), (), (), Path(".")), data={"Node": rows})


def test_path_and_pathitemreverse():
    # learn.microsoft.com/dax/path-function-dax: root first, "|"-separated;
    # pathitemreverse-function-dax: position 1 is the last item, BLANK past the end
    e = _tree([(1, None), (2, 1), (3, 1), (4, 2), (5, 4)])
    assert e.evaluate('CONCATENATEX(Node, PATH(Node[Id], Node[Parent]), ",", Node[Id])') == "1,1|2,1|3,1|2|4,1|2|4|5"
    assert e.evaluate('CONCATENATEX(Node, PATHITEMREVERSE(PATH(Node[Id], Node[Parent]), 2), ",", Node[Id])') == ",1,1,2,4"
    assert e.evaluate('SUMX(Node, PATHITEMREVERSE(PATH(Node[Id], Node[Parent]), 3, 1))') == 1 + 2  # ids 4, 5
    assert e.evaluate('PATHITEMREVERSE("1|2|4", 4)') is None


def test_path_with_a_missing_parent_is_an_error():
    e = _tree([(1, None), (2, 9)])
    with pytest.raises(DaxEvalError, match="does not end at a blank"):
        e.evaluate('CONCATENATEX(Node, PATH(Node[Id], Node[Parent]))')
    loop = _tree([(1, 2), (2, 1)])
    with pytest.raises(DaxEvalError, match="a loop"):
        loop.evaluate('CONCATENATEX(Node, PATH(Node[Id], Node[Parent]))')
