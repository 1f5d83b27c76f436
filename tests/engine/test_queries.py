"""DAX queries (EVALUATE, DEFINE, ORDER BY, table functions), the Python API and the
`build.py query` / `build.py evaluate` commands. Expected values are worked out on the
reference model of dax-semantics.md §0 (Ann 30, Bob 30, Cid 40, Dan none)."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
import subprocess
import sys
from pathlib import Path

import pytest

from generator.engine import DaxCompileError, DaxEvalError
from tests.engine.fixtures import build_project, engine

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ref():
    return engine()


def rows(e, dax):
    return [tuple(r) for r in e.query(dax).itertuples(index=False, name=None)]


def test_define_measure_and_var(ref):
    dax = """
    DEFINE
        MEASURE Sales[Double] = [Sales] * 2
        VAR cities = {"Oslo"}
    EVALUATE
    SUMMARIZECOLUMNS(Customer[Name], TREATAS(cities, Customer[City]), "D", [Double])
    ORDER BY Customer[Name] DESC
    """
    assert rows(ref, dax) == [("Bob", 60.0), ("Ann", 60.0)]


def test_result_column_names(ref):
    frame = ref.query('EVALUATE ADDCOLUMNS(VALUES(Customer[City]), "S", [Sales])')
    assert list(frame.columns) == ["Customer[City]", "[S]"]


def test_topn_keeps_ties_and_orders(ref):
    got = rows(ref, "EVALUATE TOPN(2, VALUES(Customer[Name]), [Sales]) ORDER BY Customer[Name]")
    assert got == [("Ann",), ("Bob",), ("Cid",)]  # Cid 40, then Ann and Bob tie at 30


def test_calculatetable_filter_selectcolumns(ref):
    dax = """EVALUATE SELECTCOLUMNS(
        CALCULATETABLE(FILTER(Sales, Sales[Qty] >= 2), Customer[City] = "Oslo"),
        "Order", Sales[OrderID], "Twice", Sales[Qty] * 2)
    ORDER BY [Order]"""
    assert rows(ref, dax) == [(1, 4), (3, 10)]


def test_generate_datatable_and_constructors(ref):
    dax = """EVALUATE GENERATE(
        DATATABLE("k", INTEGER, {{1}, {2}}),
        ROW("sq", [k] * [k]))
    ORDER BY [k]"""
    assert rows(ref, dax) == [(1, 1), (2, 4)]
    assert rows(ref, 'EVALUATE {(1, "a"), (2, "b")} ORDER BY [Value1] DESC') == [(2, "b"), (1, "a")]


def test_in_and_containsrow(ref):
    assert ref.evaluate('CALCULATE([Sales], Customer[City] IN {"oslo", "Paris"})') == 60
    assert ref.evaluate('CONTAINSROW(VALUES(Customer[Name]), "dan")') is True


def test_values_as_scalar_errors_on_several_values(ref):
    assert ref.evaluate('CALCULATE(VALUES(Customer[City]), Customer[Name] = "Cid")') == "Rome"
    with pytest.raises(DaxEvalError, match="multiple values"):
        ref.evaluate("VALUES(Customer[City]) & \"\"")


def test_hasonevalue_selectedvalue_isinscope(ref):
    dax = """EVALUATE SUMMARIZECOLUMNS(ROLLUPADDISSUBTOTAL(Customer[City], "T"),
        "one", HASONEVALUE(Customer[City]), "sel", SELECTEDVALUE(Customer[City], "all"),
        "scope", ISINSCOPE(Customer[City]), "filtered", ISFILTERED(Customer[City]))
    ORDER BY Customer[City]"""
    assert rows(ref, dax) == [(None, True, False, "all", False, False), ("Oslo", False, True, "Oslo", True, True),
                              ("Rome", False, True, "Rome", True, True)]


def test_lookupvalue_and_concatenatex(ref):
    assert ref.evaluate('LOOKUPVALUE(Customer[City], Customer[Name], "Cid")') == "Rome"
    assert ref.evaluate('CONCATENATEX(VALUES(Customer[Name]), Customer[Name], ", ", Customer[Name], DESC)') \
        == "Dan, Cid, Bob, Ann"


def test_evaluate_measure_api(ref):
    assert ref.evaluate_measure("Sales") == 100
    assert ref.evaluate_measure("Sales", {"Customer[City]": "Rome"}) == 40
    assert ref.evaluate_measure("Sales", {"Customer[Name]": ["Ann", "Cid"]}) == 70
    assert ref.evaluate_measure("Sales", {"Customer[Name]": "Dan"}) is None
    with pytest.raises(DaxCompileError):
        ref.evaluate_measure("No Such Measure")


def test_dateadd_needs_contiguous_dates(ref):
    two_months = "TREATAS({DATE(2024, 1, 10), DATE(2024, 3, 1)}, 'Date'[Date])"
    with pytest.raises(DaxEvalError, match="contiguous"):
        ref.query(f'EVALUATE SUMMARIZECOLUMNS({two_months}, "x", '
                  f"CALCULATE([Sales], DATEADD('Date'[Date], -1, YEAR)))")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_project(tmp_path_factory.mktemp("out"), 2000)


def _cli(*args):
    return subprocess.run([sys.executable, str(REPO / "build.py"), *args], capture_output=True, text=True,
                          cwd=REPO, timeout=600)


def test_cli_query_json_and_csv(built):
    dax = 'EVALUATE TOPN(1, VALUES(Dim_Date[Date]), Dim_Date[Date], ASC)'
    done = _cli("query", "--out", str(built), "--format", "json", dax)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data == {"columns": ["Dim_Date[Date]"], "rows": [["2021-01-01"]]}
    dax = 'EVALUATE ROW("orders", [Total Orders], "none", CALCULATE([Total Orders], Dim_Date[Year] = 1900))'
    done = _cli("query", "--out", str(built), "--format", "csv", dax)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[orders],[none]", "2000,"]


def test_cli_query_reports_unsupported_function(built):
    done = _cli("query", "--out", str(built), 'EVALUATE ROW("x", COMBINEVALUES("|", "1", "2"))')
    assert done.returncode == 2
    assert "COMBINEVALUES is not supported" in done.stdout + done.stderr


def test_cli_evaluate_writes_every_visual(built):
    done = _cli("evaluate", "--out", str(built))
    assert done.returncode == 0, done.stdout + done.stderr
    files = sorted((built / "preview").glob("*.json"))
    count = sum(len(p.visuals) for p in __import__("generator.spec", fromlist=["load_project"]).load_project(REPO).pages)
    assert len(files) == count
    card = json.loads((built / "preview" / "Customer Snapshot__kpi_total_orders.json").read_text())
    assert card["columns"] == ["[Total Orders]"] and card["rows"] == [[2000]]


# ---------------------------------------------------------------- ROLLUPGROUP, table and matrix visuals
# Reference model: Oslo = Ann (10 + 20 = 30) and Bob (30), Rome = Cid (40); Dan has no sales.


def test_rollupgroup_rolls_columns_up_together(ref):
    dax = """EVALUATE SUMMARIZECOLUMNS(
        ROLLUPADDISSUBTOTAL(ROLLUPGROUP(Customer[City], Customer[Name]), "T"), "S", [Sales])
    ORDER BY Customer[City], Customer[Name]"""
    # one grand-total row and the cells; no (City) subtotal level
    assert rows(ref, dax) == [(None, None, True, 100), ("Oslo", "Ann", False, 30), ("Oslo", "Bob", False, 30),
                              ("Rome", "Cid", False, 40)]


def test_rollupgroup_as_one_level_after_a_column(ref):
    # levels: (City, Year, Month), (City), (): Year and Month never roll up separately.
    # Oslo: Jan 2024 10, Feb 2024 20 + 30; Rome: Feb 2023 40.
    dax = """EVALUATE SUMMARIZECOLUMNS(
        ROLLUPADDISSUBTOTAL(Customer[City], "TC", ROLLUPGROUP('Date'[Year], 'Date'[Month]), "TD"), "S", [Sales])
    ORDER BY Customer[City], 'Date'[Year], 'Date'[Month]"""
    assert rows(ref, dax) == [
        (None, None, None, True, True, 100),
        ("Oslo", None, None, False, True, 60), ("Oslo", 2024, 1, False, False, 10), ("Oslo", 2024, 2, False, False, 50),
        ("Rome", None, None, False, True, 40), ("Rome", 2023, 2, False, False, 40),
    ]


def test_rollupgroup_elsewhere_is_a_compile_error(ref):
    with pytest.raises(DaxCompileError, match="ROLLUPGROUP"):
        ref.query('EVALUATE ROW("x", COUNTROWS(ROLLUPGROUP(Customer[City])))')


def _visual(type_, *bindings):
    from generator.spec.model import Binding, Page, Visual
    from tests.engine.fixtures import P

    v = Visual(name="v", type=type_, pos=P,
               bindings=tuple(Binding(role=r, table=t, name=n, kind=k, pos=P) for r, t, n, k in bindings))
    return v, Page(id="p", name="p", order=0, visuals=(v,), pos=P)


def test_table_visual_has_one_total_row(ref):
    from generator.engine.visuals import evaluate_visual

    v, page = _visual("tableEx", ("values", "Customer", "City", "column"), ("values", "Customer", "Name", "column"),
                      ("values", "Sales", "Sales", "measure"))
    out = evaluate_visual(ref, v, page)
    assert out["rows"] == [[None, None, True, 100], ["Oslo", "Ann", False, 30], ["Oslo", "Bob", False, 30],
                           ["Rome", "Cid", False, 40]]
    assert sum(1 for r in out["rows"] if r[2]) == 1


def test_matrix_visual_keeps_subtotals_per_level(ref):
    from generator.engine.visuals import evaluate_visual

    v, page = _visual("pivotTable", ("rows", "Customer", "City", "column"), ("rows", "Customer", "Name", "column"),
                      ("values", "Sales", "Sales", "measure"))
    out = evaluate_visual(ref, v, page)
    assert out["rows"] == [[None, None, True, True, 100], ["Oslo", None, False, True, 60],
                           ["Oslo", "Ann", False, False, 30], ["Oslo", "Bob", False, False, 30],
                           ["Rome", None, False, True, 40], ["Rome", "Cid", False, False, 40]]


# ---------------------------------------------------------------- runtime: the scan cache


def _cache_tables(e) -> list[str]:
    return [r[0] for r in e.con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '__pbi_forge_se%' ORDER BY 1").fetchall()]


def test_compiling_never_writes_into_the_scan_cache():
    e = engine()
    stage = e.scan_cache.stage()
    (compiled,) = e.compile('EVALUATE SUMMARIZECOLUMNS(Customer[City], "S", [Sales])', stage)
    # the compile planned one pre-aggregation: staged, in the prelude, nowhere else
    assert [lay.name for lay in stage.staged] == ["__pbi_forge_se1"]
    assert compiled.prelude and "__pbi_forge_se1" in compiled.prelude[0].sql("duckdb")
    assert e.scan_cache.entries == {} and _cache_tables(e) == []
    e.sql('EVALUATE SUMMARIZECOLUMNS(Customer[City], "S", [Sales])')
    assert e.scan_cache.entries == {} and _cache_tables(e) == []


def test_a_failed_query_leaves_the_cache_as_it_was():
    e = engine()
    assert rows(e, 'EVALUATE SUMMARIZECOLUMNS(Customer[City], "S", [Sales]) ORDER BY Customer[City]') == [
        ("Oslo", 60), ("Rome", 40)]
    before = [lay.name for lay in e.scan_cache.entries.values()]
    assert before == ["__pbi_forge_se1"] == _cache_tables(e)
    # the first EVALUATE creates a new entry (per name), the second fails when run
    with pytest.raises(DaxEvalError, match="abc"):
        e.query('EVALUATE SUMMARIZECOLUMNS(Customer[Name], "N", [Orders]) EVALUATE ROW("v", VALUE("abc"))')
    assert [lay.name for lay in e.scan_cache.entries.values()] == before
    assert _cache_tables(e) == before  # the table the failed query created is dropped
    # the earlier entry still answers: no new scan of Sales
    assert rows(e, 'EVALUATE SUMMARIZECOLUMNS(Customer[City], "S", [Sales]) ORDER BY Customer[City]') == [
        ("Oslo", 60), ("Rome", 40)]
    assert 'FROM "Sales"' not in e.last_sql and "__pbi_forge_se1" in e.last_sql


# ---------------------------------------------------------------- runtime: result conversion


def _per_value(column, t):
    """The reference conversion, one value at a time: BLANK → None (object column),
    Decimal → float(Decimal), else the Python value; native dtype without BLANK."""
    import decimal

    import pandas as pd

    from generator.engine.runtime.results import _NATIVE

    values = [float(v) if isinstance(v, decimal.Decimal) else v for v in column.to_pylist()]
    if any(v is None for v in values) or t not in _NATIVE:
        return pd.Series(values, dtype="object")
    return pd.Series(values, dtype=_NATIVE[t])


def _same_series(a, b) -> bool:
    import math

    if str(a.dtype) != str(b.dtype) or len(a) != len(b):
        return False
    for x, y in zip(a.tolist(), b.tolist()):
        if type(x) is not type(y):
            return False
        if isinstance(x, float) and math.isnan(x):
            if not math.isnan(y):
                return False
        elif x != y:
            return False
    return True


CONVERSION_SQL = {
    "int with blank": ("SELECT CASE WHEN i % 3 = 0 THEN NULL ELSE i END FROM range(-5, 6) t(i)", "INT"),
    "int": ("SELECT i FROM range(-5, 6) t(i)", "INT"),
    "double with blank and nan": ("SELECT CASE WHEN i = 0 THEN NULL WHEN i = 1 THEN 'nan'::DOUBLE "
                                  "WHEN i = 2 THEN 'inf'::DOUBLE ELSE i / 7 END FROM range(0, 9) t(i)", "DOUBLE"),
    "double": ("SELECT i / 7 FROM range(0, 9) t(i)", "DOUBLE"),
    "bool with blank": ("SELECT CASE WHEN i = 1 THEN NULL ELSE i % 2 = 0 END FROM range(0, 5) t(i)", "BOOL"),
    "currency": ("SELECT (i * 1.0001)::DECIMAL(18,4) FROM range(0, 7) t(i)", "CURRENCY"),
    "currency with blank": ("SELECT CASE WHEN i = 2 THEN NULL ELSE (i / 3)::DECIMAL(18,4) END FROM range(0, 7) t(i)",
                            "CURRENCY"),
    "hugeint count": ("SELECT SUM(i)::HUGEINT FROM range(0, 7) t(i)", "INT"),
    # unscaled values beyond 2**53: the parsed-text path
    "wide decimal": ("SELECT (i * 123456789012345678.9)::DECIMAL(38,1) FROM range(0, 5) t(i)", "DOUBLE"),
    "beyond 64 bits": ("SELECT (i * 9999999999999999.0001)::DECIMAL(38,4) FROM range(0, 5) t(i)", "CURRENCY"),
    "wide decimal with blank": ("SELECT CASE WHEN i = 1 THEN NULL ELSE (i * 1234567890123456789.25)::DECIMAL(38,2) "
                                "END FROM range(0, 5) t(i)", "VARIANT"),
    "text with blank": ("SELECT CASE WHEN i = 2 THEN NULL ELSE 'v' || i END FROM range(0, 5) t(i)", "TEXT"),
    "text": ("SELECT 'é' || i FROM range(0, 5) t(i)", "TEXT"),
    "date with blank": ("SELECT CASE WHEN i = 1 THEN NULL ELSE DATE '2024-02-27' + i::INT END FROM range(0, 5) t(i)",
                        "DATETIME"),
    "timestamp": ("SELECT TIMESTAMP '2024-02-28 13:45:00' + INTERVAL (i) HOUR FROM range(0, 5) t(i)", "DATETIME"),
    "all blank": ("SELECT NULL FROM range(0, 3)", "VARIANT"),
    "int as variant": ("SELECT i FROM range(0, 3) t(i)", "VARIANT"),
}


@pytest.mark.parametrize("case", sorted(CONVERSION_SQL))
def test_columnwise_conversion_equals_the_per_value_reference(case):
    import duckdb

    from generator.engine.runtime.results import convert
    from generator.engine.types import DaxType

    sql, t = CONVERSION_SQL[case]
    con = duckdb.connect()
    column = con.sql(sql).to_arrow_table().column(0)
    got, want = convert(column, DaxType[t]), _per_value(column, DaxType[t])
    assert _same_series(got, want), (got.tolist(), want.tolist())


def test_conversion_keeps_blank_and_nan_apart_and_dates_exact():
    import datetime as dt

    import duckdb

    from generator.engine.runtime.results import convert
    from generator.engine.types import DaxType

    con = duckdb.connect()
    col = con.sql("SELECT * FROM (VALUES (NULL::DOUBLE), ('nan'::DOUBLE), (0.1::DOUBLE)) v(x)").to_arrow_table()
    got = convert(col.column(0), DaxType.DOUBLE).tolist()
    assert got[0] is None and got[1] != got[1] and got[2] == 0.1
    col = con.sql("SELECT * FROM (VALUES (DATE '2024-02-29'), (NULL)) v(d)").to_arrow_table()
    assert convert(col.column(0), DaxType.DATETIME).tolist() == [dt.date(2024, 2, 29), None]
    col = con.sql("SELECT 0.1::DECIMAL(18,4) + 0.2::DECIMAL(18,4)").to_arrow_table()
    assert convert(col.column(0), DaxType.CURRENCY).tolist() == [0.3]  # the decimal 0.3, not 0.1 + 0.2


# ---------------------------------------------------------------- runtime: DDL through sqlglot


def test_ddl_helpers_quote_names_and_values():
    from sqlglot import exp

    from generator.engine.sql import create_table, create_view, drop_table, render, select_all, set_option

    name = 'it\'s "x"'
    assert render(create_table(name, exp.select("1"), replace=True)) == \
        'CREATE OR REPLACE TEMPORARY TABLE "it\'s ""x""" AS SELECT 1'
    assert render(create_view(name, select_all("__calc0__t"))) == \
        'CREATE OR REPLACE VIEW "it\'s ""x""" AS SELECT * FROM "__calc0__t"'
    assert render(drop_table(name)) == 'DROP TABLE IF EXISTS "it\'s ""x"""'
    assert render(set_option("temp_directory", "/tmp/a'b")) == "SET temp_directory = '/tmp/a''b'"
    assert render(set_option("threads", 2)) == "SET threads = 2"


def test_calculated_column_of_a_table_whose_name_needs_quoting():
    import datetime as dt

    from generator.engine import Engine
    from generator.spec.model import CalculatedColumn, ExprOrigin, Model, Relationship
    from tests.engine.fixtures import CUSTOMER, DATE, P, SALES, dates

    odd = 'Sa"les\'s'
    quoted = odd.replace("'", "''")
    big = CalculatedColumn("Big", "int64", f"IF('{quoted}'[Amount] > 15, 1, 0)", P, ExprOrigin("t.yaml", 1, 1))
    sales = replace(SALES, name=odd, calculated_columns=(big,))
    m = Model("Odd", "en-US", (CUSTOMER, sales, DATE),
              (Relationship(odd, "CustomerID", "Customer", "ID", P), Relationship(odd, "OrderDate", "Date", "Date", P)),
              (), (), Path("."), date_table="Date")
    orders = [(1, 1, dt.date(2024, 1, 10), 2, 10, "A", 1), (2, 2, dt.date(2024, 2, 5), 1, 20, None, None)]
    e = Engine(m, data={"Customer": [(1, "Ann", "Oslo"), (2, "Bob", "Oslo")], odd: orders, "Date": dates()})
    assert rows(e, f"EVALUATE SELECTCOLUMNS('{quoted}', \"id\", '{quoted}'[OrderID], \"big\", '{quoted}'[Big])"
                   f" ORDER BY [id]") == [(1, 0), (2, 1)]


# ---------------------------------------------------------------- build.py query: output
# Expected values are computed with pandas from the built Parquet files.


def _orders(built):
    import pandas as pd

    return pd.read_parquet(built / "data" / "Fact_Orders.parquet")


def _money(x: float, digits: int) -> str:
    from decimal import ROUND_HALF_UP, Decimal

    q = Decimal(repr(x)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"${q:,}"


def test_cli_query_json_never_crashes_on_decimals_dates_nan_inf(built):
    import pandas as pd

    customers = pd.read_parquet(built / "data" / "Dim_Customer.parquet")
    without_orders = len(set(customers["Customer_ID"]) - set(_orders(built)["Customer_ID"]))
    assert without_orders > 0  # the reported case: COUNTBLANK of a decimal column that has blanks
    dax = ('EVALUATE ROW("b", COUNTBLANK(Dim_Customer[Lifetime_Revenue]), "n", 0 / 0, "i", 1 / 0, "m", -1 / 0, '
           '"d", DATE(2024, 2, 29), "x", BLANK())')
    done = _cli("query", "--out", str(built), "--format", "json", dax)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert json.loads(done.stdout) == {"columns": ["[b]", "[n]", "[i]", "[m]", "[d]", "[x]"],
                                       "rows": [[without_orders, "NaN", "Infinity", "-Infinity", "2024-02-29", None]]}


def test_plain_value_of_every_kind():
    import datetime as dt
    from decimal import Decimal

    import numpy as np

    from generator.engine.runtime.results import plain_value

    assert [plain_value(v) for v in (Decimal("1.25"), np.int64(3), np.float64("nan"), float("-inf"), np.bool_(True),
                                     dt.date(2024, 2, 29), dt.datetime(2024, 2, 29, 13, 45), dt.datetime(2024, 1, 1),
                                     None, "s")] == \
        [1.25, 3, "NaN", "-Infinity", True, "2024-02-29", "2024-02-29T13:45:00", "2024-01-01", None, "s"]


def test_cli_query_row_column_keeps_its_name_in_every_format(built):
    dax = 'EVALUATE ROW("s", [Total Orders])'
    table = _cli("query", "--out", str(built), dax)
    assert table.returncode == 0, table.stderr
    header = next(line for line in table.stdout.splitlines() if "[s]" in line)  # rich markup ate it before
    assert "[s]" in header
    assert " 2000 " in table.stdout
    assert json.loads(_cli("query", "--out", str(built), "--format", "json", dax).stdout)["columns"] == ["[s]"]
    assert _cli("query", "--out", str(built), "--format", "csv", dax).stdout.splitlines()[0] == "[s]"


def test_cli_query_formatted_applies_format_strings(built):
    orders = _orders(built)
    revenue = int((orders["Revenue"] * 10000).round().sum()) / 10000  # DECIMAL(18,4) per order, summed exactly
    dax = ('EVALUATE ROW("rev", [Total Revenue], "n", [Total Orders], "aov", [Average Order Value], '
           '"raw", COUNTROWS(Fact_Orders))')
    done = _cli("query", "--out", str(built), "--format", "csv", "--formatted", dax)
    assert done.returncode == 0, done.stderr
    # $#,0 / #,0 / $#,0.00 from measures/kpis.yaml; a column that is no measure stays a number
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\n").writerows(
        [["[rev]", "[n]", "[aov]", "[raw]"], [_money(revenue, 0), "2,000", _money(revenue / 2000, 2), 2000]])
    assert done.stdout == expected.getvalue()
    first = orders["Order_Date"].min()
    dax = ('EVALUATE TOPN(1, SUMMARIZECOLUMNS(Fact_Orders[Order_Date], "r", [Total Revenue]), '
           'Fact_Orders[Order_Date], ASC)')
    done = _cli("query", "--out", str(built), "--format", "json", "--formatted", dax)
    day = orders[orders["Order_Date"] == first]["Revenue"]
    # the model column's own format (Short Date) and the measure's
    assert json.loads(done.stdout)["rows"] == [[f"{first.month}/{first.day}/{first.year}",
                                                _money(int((day * 10000).round().sum()) / 10000, 0)]]


def test_cli_query_has_only_its_own_options():
    done = _cli("query", "--help")
    assert done.returncode == 0
    assert "--formatted" in done.stdout and "--out" in done.stdout
    assert "--rows" not in done.stdout and "--seed" not in done.stdout
    bad = _cli("query", "--rows", "5", 'EVALUATE ROW("x", 1)')
    assert bad.returncode == 2 and "unrecognized arguments: --rows" in bad.stderr


# ---------------------------------------------------------------- runtime: memory limit

_BIG = "CROSSJOIN(VALUES('Date'[Date]), SELECTCOLUMNS(VALUES('Date'[Date]), \"D2\", 'Date'[Date]))"


def _limited(limit):
    from generator.engine import Engine
    from tests.engine.fixtures import CUSTOMERS, ORDERS, dates, model

    return Engine(model(), data={"Customer": CUSTOMERS, "Sales": list(ORDERS), "Date": dates()},
                  as_of="2024-12-31", memory_limit=limit)


def test_a_query_beyond_the_memory_limit_is_a_clear_error():
    e = _limited("16MB")
    assert e.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0].endswith("MiB")
    assert e.evaluate("[Sales]") == 100  # small queries run as usual
    # 731 x 731 dates concatenated: ~6 MB of text in one aggregate, which cannot spill
    with pytest.raises(DaxEvalError) as info:
        e.query(f'EVALUATE ROW("x", LEN(CONCATENATEX({_BIG}, [D2], ",")))')
    message = info.value.message
    assert "the query needs more memory than the engine's limit of 16MB" in message
    assert "--memory-limit" in message and "PBI_FORGE_MEMORY_LIMIT" in message
    assert e.evaluate("[Orders]") == 4  # the engine is still usable


def test_memory_limit_from_the_environment_and_bad_values(monkeypatch):
    from generator.errors import ForgeError

    monkeypatch.setenv("PBI_FORGE_MEMORY_LIMIT", "300MB")
    e = _limited(None)
    assert e.memory_limit == "300MB"
    assert e.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == "286.1 MiB"
    assert len(e.query(f"EVALUATE {_BIG}")) == 731 * 731  # fits: 534,361 rows
    monkeypatch.delenv("PBI_FORGE_MEMORY_LIMIT")
    with pytest.raises(ForgeError, match="invalid memory limit 'lots'"):
        _limited("lots")


def test_cli_query_memory_limit_error_has_no_traceback(built):
    done = _cli("query", "--out", str(built), "--memory-limit", "4MB", 'EVALUATE ROW("x", [Total Orders])')
    assert done.returncode == 2
    assert "needs more memory than the engine's limit of 4MB" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_format_accepts_the_model_number_formats(ref):
    """'#,0' and backslash-escaped literals ('\\$#,0.00'), the format strings of measures/*.yaml."""
    got = ref.query('EVALUATE ROW("a", FORMAT(1234.5, "#,0"), "b", FORMAT(-2.5, "#,0"), '
                    '"c", FORMAT(1234.5, "\\$#,0.00"), "d", FORMAT(1234567, "\\$#,0"))').values.tolist()
    assert got == [["1,235", "-3", "$1,234.50", "$1,234,567"]]
