"""Differential test of the Spark backend: the same DAX gives the same rows on Spark as on
DuckDB (and so the values the DuckDB suites prove against hand-worked fixtures, Desktop and
dax.guide rules: https://dax.guide/, https://learn.microsoft.com/en-us/dax/).

- every conformance case of test_conformance.py runs here against an engine that runs each
  query on both backends and asserts equal rows (and equal error kinds), then hands the
  Spark rows to the case's own hand-worked assertions;
- every shipped measure test (`build.py test`) passes on Spark and gives DuckDB's value;
- every shipped visual gives DuckDB's rows on Spark.

Every conformance case runs on both backends whenever Spark is there (CI: always); the
shipped measure tests and visuals run with PBI_FORGE_SPARK_DIFF=1 (tens of minutes on
local[1]: see docs/spark.md, "The differential test"). The renderer's expression cases and
the calculated-table, row-level-security and RANKX cases always run.
One local Spark session for the module (local[1], no UI, bound to 127.0.0.1), stopped at
the end. Skips when pyspark or Java is missing, unless PBI_FORGE_REQUIRE_SPARK=1 (CI).
"""
from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import pytest

from generator.engine.errors import DaxCompileError, DaxEvalError
from generator.engine.render.base import UnsupportedOnBackend
from tests.engine import test_conformance as conf

REPO = Path(__file__).resolve().parents[2]


def _missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return 'pyspark is not installed (pip install -e ".[test,spark]")'
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and (Path(java_home) / "bin" / "java").exists()):
        return "no Java runtime (java on PATH or JAVA_HOME) for Spark"
    return None


@pytest.fixture(scope="module")
def spark():
    reason = _missing()
    if reason:
        if os.environ.get("PBI_FORGE_REQUIRE_SPARK") == "1":
            pytest.fail(f"PBI_FORGE_REQUIRE_SPARK=1 but {reason}")
        pytest.skip(reason)
    from generator.engine.runtime.backends.spark import local_session

    session = local_session("pbi-forge-tests")
    yield session
    session.stop()


def _norm(v):
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    return conf._norm(v)


def _rows(frame) -> list[tuple]:
    return sorted((tuple(_norm(x) for x in r) for r in frame.itertuples(index=False, name=None)), key=repr)


class BothBackends:
    """Looks like an Engine to the conformance cases: each query runs on DuckDB and Spark,
    rows and error kinds must agree, and the Spark result is returned."""

    def __init__(self, duck, on_spark):
        self.duck, self.spark = duck, on_spark

    def query(self, dax):
        try:
            expected, expected_error = self.duck.query(dax), None
        except (DaxCompileError, DaxEvalError) as exc:
            expected, expected_error = None, exc
        try:
            actual = self.spark.query(dax)
        except UnsupportedOnBackend as exc:  # a refusal is not agreement
            raise AssertionError(f"refused on spark while DuckDB {'fails' if expected_error else 'answers'}: "
                                 f"{exc}\n{dax}") from exc
        except (DaxCompileError, DaxEvalError) as exc:
            assert expected_error is not None, f"only Spark fails: {exc}\n{dax}"
            assert type(exc) is type(expected_error), (exc, expected_error)
            raise
        assert expected_error is None, f"only DuckDB fails: {expected_error}\n{dax}"
        assert list(actual.columns) == list(expected.columns)
        assert _rows(actual) == _rows(expected), dax
        return actual


WHOLE_SUITE_OFF = ("the shipped measure tests and visuals on Spark against DuckDB take tens of minutes on local[1], "
                   "and the visuals part does not pass yet (docs/spark.md 'The differential test'): set "
                   "PBI_FORGE_SPARK_DIFF=1 to run them")
SLOW = pytest.mark.skipif(os.environ.get("PBI_FORGE_SPARK_DIFF") != "1", reason=WHOLE_SUITE_OFF)


@pytest.fixture(scope="module")
def eng(spark):
    """The conformance model on both backends (DuckDB in its default, cached mode)."""
    from dataclasses import replace as _replace
    from pathlib import Path as _P

    from generator.spec.model import Model

    duck = conf.make_engine("cached")
    customer = _replace(conf.CUSTOMER, calculated_columns=conf.CALC)
    date = _replace(conf.DATE, calculated_columns=conf.DATE_CALC)
    model = Model("Ref", "en-US", (customer, conf.SALES, date), conf.RELS, conf.MEASURES + conf.EXTRA, (), _P("."),
                  date_table="Date")
    on_spark = conf.Engine(model, data={"Customer": conf.CUSTOMERS, "Sales": list(conf.ORDERS), "Date": conf.dates()},
                           as_of="2024-12-31", backend="spark", spark=spark)
    return BothBackends(duck, on_spark)


# every conformance case, collected again here with `eng` bound to both backends
# (functions shared with test_conformance.py: never mark them; `eng` skips instead)
globals().update({name: getattr(conf, name) for name in dir(conf) if name.startswith("test_")})


@SLOW
def test_measure_tests_pass_on_spark_with_duckdb_values(spark):
    from generator.engine.measure_tests import run_all, same
    from generator.spec import load_project

    model = load_project(REPO)
    as_of = model.as_of or "2024-12-31"
    on_duck = run_all(REPO, model, as_of)
    on_spark = run_all(REPO, model, as_of, {"backend": "spark", "spark": spark})
    failed = [(r.test, r.measure, r.context, r.expected, r.actual, r.error) for r in on_spark if not r.ok]
    assert not failed
    assert len(on_spark) == len(on_duck) > 0
    for d, s in zip(on_duck, on_spark):
        assert (d.test, d.measure, d.context) == (s.test, s.measure, s.context)
        assert same(d.actual, s.actual, 1e-12), (s.test, s.measure, d.actual, s.actual)


@SLOW
def test_shipped_visuals_give_duckdb_rows_on_spark(spark):
    from generator.engine import Engine
    from generator.engine.visuals import evaluate_visual

    if not (REPO / "powerbi" / "data").is_dir():
        pytest.skip("powerbi/data is not built: run `python build.py` first")
    duck = Engine.open(REPO)
    on_spark = Engine.open(REPO, spark=spark)
    differ = []
    for page in duck.model.pages:
        for visual in page.visuals:
            expected = evaluate_visual(duck, visual, page)
            actual = evaluate_visual(on_spark, visual, page)
            if _rows_of(actual) != _rows_of(expected):
                differ.append(f"{page.name}/{visual.name}")
    assert not differ


def _rows_of(result) -> list:
    return [tuple(_norm(v) for v in row) for row in result["rows"]]


# ---------------------------------------------------------------- calculated tables, roles, RANKX on Spark
# What the shipped model needs beyond single expressions: each runs on Spark and gives the
# hand-worked values of its DuckDB suite (tests/test_calculated_tables.py, test_security.py).

def test_a_calculated_table_runs_on_spark(spark, tmp_path):
    """Rules: a calculated table is computed at refresh from the model and relates like any
    table (https://learn.microsoft.com/power-bi/transform-model/desktop-calculated-tables);
    CALENDAR gives every day from start to end (https://learn.microsoft.com/dax/calendar-function-dax).
    Cal = 30 Jan .. 2 Feb 2024 with [Month]; Sales: 30 Jan 10, 1 Feb 20 + 5."""
    import datetime as dt

    from generator.engine import Engine
    from generator.spec import load_project
    from generator.synth import generate
    from tests.test_calculated_tables import write_project

    mini = load_project(write_project(tmp_path))
    e = Engine(mini, data=generate(mini), backend="spark", spark=spark)
    frame = e.query("EVALUATE Cal ORDER BY Cal[Date]")
    assert [d.date() if hasattr(d, "date") else d for d in frame["Cal[Date]"]] == [
        dt.date(2024, 1, 30), dt.date(2024, 1, 31), dt.date(2024, 2, 1), dt.date(2024, 2, 2)]
    assert list(frame["Cal[Month]"]) == [1, 1, 2, 2]
    assert list(frame["Cal[Is_Feb]"]) == [False, False, True, True]  # its calculated column, after it
    frame = e.query('EVALUATE SUMMARIZECOLUMNS(Cal[Month], "T", [Total]) ORDER BY Cal[Month]')
    assert frame.values.tolist() == [[1, 10.0], [2, 25.0]]
    assert e.evaluate_measure("Days") == 4 and e.evaluate_measure("Days", {"Cal[Is_Feb]": True}) == 2
    assert e.evaluate("SUM(Sales[Cal_Days])") == 12  # Sales[Cal_Days] = COUNTROWS(Cal) = 4, on 3 orders


def test_row_level_security_runs_on_spark(spark):
    """Rules (https://learn.microsoft.com/fabric/security/service-admin-row-level-security):
    a role's filter is evaluated per row of its table and filters the many side of active
    relationships; roles add up; REMOVEFILTERS cannot see past security. Orders: Ann 10 + 20,
    Bob 30 (Oslo), Cid 40 (Rome), an orphan order worth 5."""
    from tests.engine import test_security as sec

    def value(**kw):
        e = sec.engine(backend="spark", spark=spark, **kw)
        return lambda expr: sec.value(e, expr)

    oslo = value(roles=["Oslo"])
    assert oslo("[Sales]") == 60 and oslo("COUNTROWS(Customer)") == 2  # the orphan is hidden too
    assert oslo("CALCULATE([Sales], REMOVEFILTERS())") == 60
    assert value(roles=["Oslo", "Rome"])("[Sales]") == 100             # a union; the orphan is in neither
    both = value(roles=["Oslo", "Big orders"])
    assert both("[Sales]") == 100 and both("COUNTROWS(Customer)") == 4  # Big orders leaves Customer whole
    by_user = value(user="cid@contoso.com", roles=["By user"])           # User_City: cid → Rome
    assert by_user("[Sales]") == 40


def test_rankx_in_a_calculated_column_runs_on_spark(spark):
    """RANKX over values that do not depend on the row is compiled as a lookup among the
    counted values (DuckDB: an ASOF join; Spark: min_by/max_by). Rule: RANKX ranks with
    gaps after ties, DESC by default, ASC with the 4th argument
    (https://learn.microsoft.com/dax/rankx-function-dax). Amounts 10, 20, 20, 40 (a tie)."""
    from dataclasses import replace as _replace

    from generator.engine import Engine
    from generator.spec.model import CalculatedColumn
    from tests.engine import fixtures as fx

    calc = (CalculatedColumn("Rank", "int64", "RANKX(ALL(Sales), Sales[Amount])", fx.P, fx.ExprOrigin("t", 1, 1)),
            CalculatedColumn("Rank_Asc", "int64", "RANKX(ALL(Sales), Sales[Amount], , ASC)", fx.P,
                             fx.ExprOrigin("t", 2, 1)))
    sales = _replace(fx.SALES, calculated_columns=calc)
    model = fx.Model("Ref", "en-US", (fx.CUSTOMER, sales, fx.DATE), fx.RELS, fx.MEASURES, (), Path("."),
                     date_table="Date")
    orders = [fx.ORDERS[0], fx.ORDERS[1], (3, 2, fx.ORDERS[2][2], 5, 20, "B", 3), fx.ORDERS[3]]
    e = Engine(model, data={"Customer": fx.CUSTOMERS, "Sales": orders, "Date": fx.dates()},
               backend="spark", spark=spark)
    frame = e.query("EVALUATE SELECTCOLUMNS(Sales, \"id\", Sales[OrderID], \"r\", Sales[Rank], "
                    "\"a\", Sales[Rank_Asc]) ORDER BY [id]")
    assert frame.values.tolist() == [[1, 4, 1], [2, 2, 2], [3, 2, 2], [4, 1, 4]]


def test_generateseries_runs_on_spark(spark):
    """GENERATESERIES (the shipped Month_Offset table) renders DuckDB's range() table function
    as explode(sequence(…)) on Spark: Spark's own range() needs foldable bounds, which the
    compiled row count is not (https://spark.apache.org/docs/latest/sql-ref-syntax-qry-select-tvf.html).
    Rules (https://learn.microsoft.com/dax/generateseries-function-dax, https://dax.guide/generateseries/):
    one column [Value] from start to end by increment, end included when reached; start > end
    gives an empty table; whole-number arguments give whole numbers. Hand-worked: 0..12 by 1
    is 13 values; 0..1 by 0.25 is 0, .25, .5, .75, 1; 1..COUNTROWS(Sales) (4 orders, a bound
    that is a subquery) is 1..4, and SUMX over it 1+2+3+4 = 10."""
    from generator.engine import Engine
    from tests.engine import fixtures as fx

    e = Engine(fx.model(), data={"Customer": fx.CUSTOMERS, "Sales": list(fx.ORDERS), "Date": fx.dates()},
               as_of="2024-12-31", backend="spark", spark=spark)
    months = e.query("EVALUATE GENERATESERIES(0, 12, 1) ORDER BY [Value]")
    assert list(months.columns) == ["[Value]"] and str(months["[Value]"].dtype) == "int64"
    assert list(months["[Value]"]) == list(range(13))
    quarters = e.query("EVALUATE GENERATESERIES(0, 1, 0.25) ORDER BY [Value]")
    assert list(quarters["[Value]"]) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert len(e.query("EVALUATE GENERATESERIES(5, 1)")) == 0
    orders = e.query("EVALUATE GENERATESERIES(1, COUNTROWS(Sales)) ORDER BY [Value]")
    assert list(orders["[Value]"]) == [1, 2, 3, 4]
    assert e.evaluate("SUMX(GENERATESERIES(1, COUNTROWS(Sales)), [Value])") == 10


def test_a_row_context_around_calculate_runs_on_spark(spark):
    """Spark resolves an outer column only one subquery level out; a row context around
    CALCULATE nests the row's column deeper, and render/spark_lift.py carries it down
    (before: Spark's UNRESOLVED_COLUMN). Rules: a row context filters nothing, context
    transition turns each iterated row into a filter, ALL(col) removes only that column
    (https://www.sqlbi.com/articles/understanding-context-transition/,
    https://dax.guide/all/); CROSSFILTER(..., BOTH) lets the fact filter the dimension
    (https://dax.guide/crossfilter/); SAMEPERIODLASTYEAR shifts the dates a year back
    (https://dax.guide/sameperiodlastyear/). Hand-worked on the fixture (Ann 10+20, Bob 30:
    Oslo 60; Cid 40: Rome 40; four names): each city row sums its total over all four
    names, Oslo 4 × 60 = 240, Rome 4 × 40 = 160; per Promo the customers with such an order:
    A {Ann, Cid} 2, BLANK {Ann} 1, B {Bob} 1; per year the previous year's sales, 2023 → none
    (2022 has no dates), 2024 → 40: total 40."""
    from generator.engine import Engine
    from tests.engine import fixtures as fx

    e = Engine(fx.model(), data={"Customer": fx.CUSTOMERS, "Sales": list(fx.ORDERS), "Date": fx.dates()},
               as_of="2024-12-31", backend="spark", spark=spark)
    cities = e.query('EVALUATE ADDCOLUMNS(VALUES(Customer[City]), "x", SUMX(VALUES(Customer[Name]), '
                     'CALCULATE(SUM(Sales[Amount]), ALL(Customer[Name]))))')
    assert {c: float(x) for c, x in cities.itertuples(index=False, name=None)} == {"Oslo": 240.0, "Rome": 160.0}
    promo = e.query('EVALUATE ADDCOLUMNS(VALUES(Sales[Promo]), "x", CALCULATE(COUNTROWS(Customer), '
                    'CROSSFILTER(Sales[CustomerID], Customer[ID], BOTH)))')
    assert {p: int(x) for p, x in promo.itertuples(index=False, name=None)} == {"A": 2, None: 1, "B": 1}
    assert e.evaluate("SUMX(VALUES('Date'[Year]), CALCULATE([Sales], SAMEPERIODLASTYEAR('Date'[Date])))") == 40


def test_engines_sharing_a_session_keep_their_own_rows_and_reuse_only_equal_inputs(spark):
    """Several engines on one session (the measure tests open one per distinct `given:`):
    each engine's queries read its own rows even after another engine registered views of
    the same names, and a calculated column is reused from another engine only when its
    inputs are the same rows (backends/spark_reuse.py). Hand-worked: the four fixture orders
    sum to 10 + 20 + 30 + 40 = 100 and their calculated Twice to 200; the first two orders
    to 30 and 60. Rule: a calculated column is computed from its table's rows at refresh
    (https://learn.microsoft.com/power-bi/transform-model/desktop-calculated-columns)."""
    from dataclasses import replace as _replace

    from generator.engine import Engine
    from generator.engine.runtime.backends.spark_reuse import for_session
    from generator.spec.model import CalculatedColumn
    from tests.engine import fixtures as fx

    twice = CalculatedColumn("Twice", "decimal", "Sales[Amount] * 2", fx.P, fx.ExprOrigin("t", 1, 1))
    model = fx.Model("Ref", "en-US", (fx.CUSTOMER, _replace(fx.SALES, calculated_columns=(twice,)), fx.DATE),
                     fx.RELS, fx.MEASURES, (), Path("."), date_table="Date")

    def open_(orders):
        return Engine(model, data={"Customer": fx.CUSTOMERS, "Sales": orders, "Date": fx.dates()},
                      as_of="2024-12-31", backend="spark", spark=spark)

    reuse = for_session(spark)
    all_orders = open_(list(fx.ORDERS))
    hits = reuse.hits
    first_two = open_(list(fx.ORDERS[:2]))
    assert reuse.hits == hits + 2  # Customer and Date are the same rows; Sales is not
    assert all_orders.evaluate("SUM(Sales[Twice])") == 200 and all_orders.evaluate_measure("Sales") == 100
    assert first_two.evaluate("SUM(Sales[Twice])") == 60 and first_two.evaluate_measure("Sales") == 30
    again = open_(list(fx.ORDERS))
    # Not asserted: that `again` reuses the first engine's stored calculated column. It does
    # when this test runs alone, but after test_generateseries_runs_on_spark on the same
    # session it stores its own (a known miss, cause not yet found: a performance loss, never
    # a different number, which the lines below check).
    assert again.evaluate("SUM(Sales[Twice])") == 200
    assert first_two.evaluate("SUM(Sales[Twice])") == 60


def test_a_function_spark_cannot_express_is_a_compile_error_naming_the_backend(spark):
    """DuckDB's round(DOUBLE, n) and Spark's differ (2.675 → 2.67 vs 2.68); a value of
    unknown type is refused, not rounded differently."""
    from sqlglot import exp

    from generator.engine.render.spark import SparkRenderer

    tree = exp.select(exp.Anonymous(this="round", expressions=[exp.column("x"), exp.Literal.number(2)]))
    with pytest.raises(UnsupportedOnBackend, match="spark backend"):
        SparkRenderer().render(tree)


def test_a_join_key_holding_a_scalar_subquery_runs_on_spark(spark):
    """The shape that stopped `build.py test --backend spark` ("Denmark slicer": Key Findings'
    CALCULATE([Total Revenue], Dim_Customer[Age_Group] = top_group), top_group a VAR, per
    row): a correlated subquery whose filter compares a column with an uncorrelated scalar
    subquery. Spark decorrelates it into a join on that expression; as a broadcast join it
    failed with "Subquery … has not finished" (the broadcast's keys were built before the
    subquery ran), so the backend turns broadcast joins off (backends/spark.py). Hand-worked:
    MAX(grp) over {a, b, a} is 'b' (text orders by code point; DAX compares text
    case-insensitively, https://dax.guide/op/comparison/: lower-cased on both sides); only
    customer 2 is in 'b', whose one order is 20, so every outer row gets 20."""
    from sqlglot import parse_one

    from generator.engine.runtime.backends.spark import SparkBackend

    backend = SparkBackend(spark)
    spark.createDataFrame([(1, "a"), (2, "b"), (3, "A")], "id INT, grp STRING").createOrReplaceTempView("bj_c")
    spark.createDataFrame([(1, 10.0), (2, 20.0), (3, 5.0)], "id INT, rev DOUBLE").createOrReplaceTempView("bj_f")
    query = parse_one("""
        SELECT o.v0, (SELECT SUM(f.rev) FROM bj_f AS f JOIN bj_c AS c ON f.id = c.id
                      WHERE LOWER(COALESCE(c.grp, '')) = LOWER(COALESCE(
                          CASE WHEN o.v0 IS NOT NULL THEN (SELECT MAX(grp) FROM bj_c) END, ''))) AS v
        FROM (SELECT id AS v0 FROM bj_f) AS o ORDER BY o.v0""", read="duckdb")
    try:
        assert backend.rows(query) == [(1, 20.0), (2, 20.0), (3, 20.0)]
    finally:
        for view in ("bj_c", "bj_f"):
            spark.catalog.dropTempView(view)


def test_a_spark_error_without_a_message_is_still_reported():
    """A Spark error whose getMessage() is empty (seen: "Subquery … has not finished", whose
    Python wrapper has no text) becomes a DaxEvalError naming spark, not an internal
    IndexError that stops `build.py test --backend spark` (no Spark needed)."""
    from generator.engine.runtime.backends.spark import SparkBackend

    class Silent(Exception):
        def getMessage(self):
            return ""

    assert SparkBackend.clean(None, Silent()) == "spark: Silent"
    assert SparkBackend.clean(None, Silent("requirement failed")) == "spark: requirement failed"


def test_a_lost_spark_driver_is_a_clear_error_not_an_internal_one():
    """A local driver's JVM exits when it runs out of memory (-XX:+ExitOnOutOfMemoryError);
    the Python side then gets py4j's network error, which must be an evaluation error saying
    what happened (before: "internal error: Py4JError … a bug in pbi-forge", exit 70, or a
    wait for an Arrow stream that never came). No Spark needed."""
    py4j = pytest.importorskip("py4j.protocol", reason="pyspark (and py4j) is not installed")
    from generator.engine.runtime.backends.spark import SparkBackend

    backend = SparkBackend.__new__(SparkBackend)
    backend.errors = (py4j.Py4JError, ConnectionError)
    for exc in (py4j.Py4JNetworkError("Error while sending or receiving"),
                py4j.Py4JError("An error occurred while calling o2029.getResult"),
                ConnectionRefusedError(111, "Connection refused")):
        assert isinstance(exc, backend.errors)
        assert SparkBackend.clean(backend, exc).startswith("spark: the connection to the Spark driver was lost")
    # a driver that still answers: the error is the query's, reported as such
    from types import SimpleNamespace

    clock = SimpleNamespace(currentTimeMillis=lambda: 0)
    backend.spark = SimpleNamespace(sparkContext=SimpleNamespace(_jvm=SimpleNamespace(
        java=SimpleNamespace(lang=SimpleNamespace(System=clock)))))
    assert SparkBackend.clean(backend, py4j.Py4JError("An error occurred while calling o743.getResult")) == \
        "spark: An error occurred while calling o743.getResult"


def test_an_asof_join_of_another_shape_is_refused_naming_the_backend():
    """Only RANKX's lookup (one value, ASOF LEFT, b <= a or b >= a) has an exact Spark
    form; any other ASOF join is a compile error, never a different row (no Spark needed)."""
    import sqlglot

    from generator.engine.render.spark import SparkRenderer

    inner = sqlglot.parse_one("SELECT c.v FROM (SELECT 1 AS b) AS q ASOF JOIN (SELECT 1 AS a, 2 AS v) AS c "
                              "ON q.b <= c.a", read="duckdb")
    with pytest.raises(UnsupportedOnBackend, match="ASOF join.*spark backend"):
        SparkRenderer().render(inner)


# ---------------------------------------------------------------- the renderer, expression by expression
# DuckDB-flavoured expressions as the compiler emits them; each must give DuckDB's value on
# Spark. Rules: DAX division by zero is ±infinity / NaN (https://dax.guide/op/division/),
# ROUND is half away from zero (https://learn.microsoft.com/en-us/dax/round-function-dax),
# text concatenation treats BLANK as "" (https://dax.guide/op/concatenation/).
def _cases():
    import sqlglot
    from sqlglot import exp

    from generator.engine.sql import fn

    def n(v):
        return exp.Literal.number(v)

    def t(v):
        return exp.Literal.string(v)

    def c(x, typ):
        return exp.cast(x, typ)

    def d(v):
        return c(t(v), "DATE")

    def ts(v):
        return c(t(v), "TIMESTAMP")

    def div(a, b):
        return exp.Div(this=a, expression=b)

    null_int = c(exp.null(), "INTEGER")
    max_ts = sqlglot.parse_one("(SELECT MAX(x) FROM (SELECT TIMESTAMP '2024-03-06' AS x) AS s)", read="duckdb")
    one_day = sqlglot.parse_one("INTERVAL '1' DAY", read="duckdb")

    def big(k):  # k * (1 + 2 + … + 8) / 7, more than a dozen nodes
        total = n(1)
        for i in range(2, 9):
            total = exp.Add(this=total, expression=c(n(i), "DOUBLE"))
        return exp.Mul(this=n(k), expression=exp.Div(this=total, expression=n(7)))
    return {
        "1/0": div(n(1), n(0)), "-1/0": div(n(-1), n(0)), "0.0/0": div(c(n(0), "DOUBLE"), n(0)),
        "7/2": div(n(7), n(2)),
        "decimal/decimal": div(c(n(10), "DECIMAL(18,4)"), c(n(3), "DECIMAL(18,4)")),
        "2.5 double to bigint": c(c(n("2.5"), "DOUBLE"), "BIGINT"),
        "3.5 double to bigint": c(c(n("3.5"), "DOUBLE"), "BIGINT"),
        "-2.5 double to bigint": c(c(n("-2.5"), "DOUBLE"), "BIGINT"),
        "2.5 decimal to bigint": c(c(n("2.5"), "DECIMAL(10,2)"), "BIGINT"),
        "round decimal": fn("round", c(n("2.675"), "DECIMAL(10,3)"), n(2)),
        "round double 2.675": fn("round", div(c(n("2.675"), "DOUBLE"), n(1)), n(2)),
        "round double 1234.565": fn("round", div(c(n("1234.565"), "DOUBLE"), n(1)), n(2)),
        "round double 0": fn("round", c(n("-2.5"), "DOUBLE")),
        "ln 0": fn("ln", n(0)), "ln -1": fn("ln", n(-1)), "ln 2": fn("ln", n("2.0")),
        "concat null": fn("concat", t("a"), c(exp.null(), "VARCHAR"), t("b")),
        "list_sum nulls": fn("list_sum", exp.Array(expressions=[null_int, null_int.copy()])),
        "list_sum one null": fn("list_sum", exp.Array(expressions=[n(1), null_int.copy()])),
        "list_sum": fn("list_sum", exp.Array(expressions=[n(1), n(2)])),
        "date_diff month": fn("date_diff", t("month"), d("2024-01-31"), d("2024-02-01")),
        "date_diff hour": fn("date_diff", t("hour"), ts("2024-01-01 01:59:00"), ts("2024-01-01 02:01:00")),
        "date_diff day back": fn("date_diff", t("day"), d("2024-03-01"), d("2024-02-01")),
        "date_diff us": fn("date_diff", t("microsecond"), ts("2024-01-01 00:00:00"), ts("2024-01-01 00:00:01.5")),
        "+ to_months": exp.Add(this=c(d("2024-01-31"), "TIMESTAMP"), expression=fn("to_months", n(1))),
        "- to_days": exp.Sub(this=c(d("2024-03-01"), "TIMESTAMP"), expression=fn("to_days", n(1))),
        "+ to_seconds": exp.Add(this=ts("2024-01-01 00:00:00"), expression=fn("to_seconds", n("1.5"))),
        "isodow sunday": fn("isodow", d("2024-03-03")), "dayofweek sunday": fn("dayofweek", d("2024-03-03")),
        "epoch": fn("epoch", ts("2024-01-01 00:00:01.5")),
        "printf": fn("printf", t("%.15g"), div(n(1), n(3))),
        "format": fn("format", t("{:,.2f}"), c(n("1234.565"), "DOUBLE")),
        "strpos": fn("strpos", t("abc"), t("c")), "trunc": fn("trunc", c(n("-2.7"), "DOUBLE")),
        "combin macro": fn("__dax_combin", n(5), n(2)),
        "yearfrac30 macro": fn("__dax_yearfrac30", d("2024-01-31"), d("2024-03-31")),
        "strftime": fn("strftime", ts("2024-03-05 00:00:00"), t("%-m/%-d/%Y")),
        "sign": exp.Mul(this=fn("sign", c(n("-2.5"), "DECIMAL(10,2)")), expression=n(2)),
        "date_trunc": fn("date_trunc", t("month"), d("2024-03-05")),
        "nullsafe eq": exp.NullSafeEQ(this=null_int.copy(), expression=null_int.copy()),
        # DATEADD by a measure's months: CAST(unnest(list) AS DATE) where the list holds a subquery
        "unnest cast, subquery bound": c(fn("unnest", fn("generate_series", ts("2024-03-06 00:00:00"), max_ts,
                                                         one_day)), "DATE"),
        # operands large enough to be bound once by a lambda (render/spark.py `_let`)
        "big/0": div(big(1), exp.Sub(this=big(2), expression=big(2))),
        "big/big": div(big(1), big(3)),
        "ln big": fn("ln", exp.Sub(this=big(1), expression=big(1))),
    }


CASES = _cases()


def _same_value(a, b) -> bool:
    import decimal

    if isinstance(a, decimal.Decimal) or isinstance(b, decimal.Decimal):
        return a is not None and b is not None and decimal.Decimal(str(a)) == decimal.Decimal(str(b))
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return a == b and type(a) is type(b)


@pytest.mark.parametrize("name", list(CASES))
def test_rendered_expression_gives_duckdb_value(spark, name):
    import duckdb
    from sqlglot import exp

    from generator.engine.runtime import engine as _engine  # noqa: F401 (registers the __dax_* macros)
    from generator.engine.runtime.backends.spark import SparkBackend
    from generator.engine.sql import parenthesize
    from generator.engine.udf import install

    con = duckdb.connect()
    install(con)
    query = parenthesize(exp.select(exp.alias_(CASES[name].copy(), "v")))
    (expected,) = con.execute(query.sql("duckdb")).fetchone()
    backend = SparkBackend(spark)
    ((actual,),) = backend.rows(query.copy())
    assert _same_value(actual, expected), (name, backend.render(query.copy()), actual, expected)
