"""`pbi-forge import`: a calculated table's columns are typed from its DAX expression.

Desktop writes no dataType for them (Power BI types them at refresh from the expression,
learn.microsoft.com/power-bi/transform-model/desktop-calculated-tables), so the importer
compiles each expression (importer/calc_types.py). The expected types are worked by hand
from the DAX rules, cited per case; the shipped project's own YAML (semantic/tables/) is the
independent truth for its round trip, and the two measures that failed on the imported copy
while Month_Offset[Months_Back] came back as text are checked against hand DuckDB SQL over
the Parquet files the build wrote, never against the engine.
"""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import yaml

from generator.cli import main
from generator.importer.project import import_files

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "powerbi" / "CustomerIntelligence.SemanticModel"
needs_shipped = pytest.mark.skipif(not (SHIPPED / "definition").is_dir(), reason="run python build.py first")

# name -> (calculated table expression, [(column, formatString or None)])
CALCULATED = {
    # GENERATESERIES: one column Value, Int64 when start, end and increment are whole numbers,
    # else Double (dax.guide/generateseries)
    "Series": ("GENERATESERIES ( 1, 5 )", [("Value", None)]),
    "Steps": ("GENERATESERIES ( 0, 1, 0.25 )", [("Value", None)]),
    # CALENDAR: one DateTime column Date (dax.guide/calendar); date-only when formatted as a date
    "Days": ("CALENDAR ( DATE ( 2024, 1, 1 ), DATE ( 2024, 1, 31 ) )", [("Date", None)]),
    "Dates": ("CALENDAR ( DATE ( 2024, 1, 1 ), DATE ( 2024, 1, 31 ) )", [("Date", "Short Date")]),
    # DATATABLE: the declared types, INTEGER Int64, DOUBLE, CURRENCY, BOOLEAN, DATETIME (dax.guide/datatable)
    "Rules": ('DATATABLE ( "Name", STRING, "Qty", INTEGER, "Rate", DOUBLE, "Price", CURRENCY, "Flag", BOOLEAN, '
              '"When", DATETIME, { { "a", 1, 0.5, 2.5, TRUE, "2024-01-01" } } )',
              [("Name", None), ("Qty", None), ("Rate", None), ("Price", None), ("Flag", None), ("When", None)]),
    # ADDCOLUMNS/SELECTCOLUMNS: each new column has its expression's type (dax.guide/addcolumns,
    # dax.guide/selectcolumns); / always gives a decimal number, Int64 * Int64 is Int64, & gives
    # text, a comparison TRUE/FALSE (learn.microsoft.com/dax/dax-operator-reference), CURRENCY
    # a fixed decimal (dax.guide/currency)
    "Derived": ('ADDCOLUMNS ( GENERATESERIES ( 1, 3 ), "Half", [Value] / 2, "Twice", [Value] * 2, '
                '"Label", "n" & [Value], "Big", [Value] > 1, "Money", CURRENCY ( [Value] ) )',
                [("Value", None), ("Half", None), ("Twice", None), ("Label", None), ("Big", None), ("Money", None)]),
    "Picked": ('SELECTCOLUMNS ( GENERATESERIES ( 1, 3 ), "N", [Value], "Ratio", [Value] / 4, "Text", FORMAT ( [Value], "0" ), '
               '"Odd", ISODD ( [Value] ) )', [("N", None), ("Ratio", None), ("Text", None), ("Odd", None)]),
    # UNION: the columns of its first table, rows of both (dax.guide/union); ROW's column has
    # its expression's type (dax.guide/row)
    "Both": ('UNION ( ROW ( "K", 1, "S", "x" ), ROW ( "K", 2, "S", "y" ) )', [("K", None), ("S", None)]),
    # reads the calculated table Series: typed after it, as Int64 (+ of two Int64 is Int64);
    # had Series[Value] stayed text, + would give a decimal number (operator reference above)
    "Next": ('SELECTCOLUMNS ( Series, "V", Series[Value] + 1 )', [("V", None)]),
    # GENERATEALL has no handler in the engine: string stays, the comment says why
    "Unknown": ('GENERATEALL ( GENERATESERIES ( 1, 2 ), ROW ( "X", 1 ) )', [("Value", None), ("X", None)]),
}
EXPECTED = {
    ("Series", "Value"): "int64", ("Steps", "Value"): "double",
    ("Days", "Date"): "datetime", ("Dates", "Date"): "date",
    ("Rules", "Name"): "string", ("Rules", "Qty"): "int64", ("Rules", "Rate"): "double",
    ("Rules", "Price"): "decimal", ("Rules", "Flag"): "boolean", ("Rules", "When"): "datetime",
    ("Derived", "Value"): "int64", ("Derived", "Half"): "double", ("Derived", "Twice"): "int64",
    ("Derived", "Label"): "string", ("Derived", "Big"): "boolean", ("Derived", "Money"): "decimal",
    ("Picked", "N"): "int64", ("Picked", "Ratio"): "double", ("Picked", "Text"): "string",
    ("Picked", "Odd"): "boolean",
    ("Both", "K"): "int64", ("Both", "S"): "string",
    ("Next", "V"): "int64",
    ("Unknown", "Value"): "string", ("Unknown", "X"): "string",
}


def _tmdl(name: str, expression: str, columns: list[tuple[str, str | None]]) -> str:
    out = f"table {name}\n"
    for col, fmt in columns:
        out += f"\tcolumn {col}\n" + (f"\t\tformatString: {fmt}\n" if fmt else "") + f"\t\tsourceColumn: [{col}]\n\n"
    return out + f"\tpartition {name} = calculated\n\t\tmode: import\n\t\tsource = {expression}\n"


def _model(tmp_path: Path, tables: dict) -> Path:
    folder = tmp_path / "Calc.SemanticModel" / "definition"
    (folder / "tables").mkdir(parents=True)
    (folder / "database.tmdl").write_text("database\n\tcompatibilityLevel: 1600\n")
    (folder / "model.tmdl").write_text("model Model\n\tculture: en-US\n")
    for name, (expression, columns) in tables.items():
        (folder / "tables" / f"{name}.tmdl").write_text(_tmdl(name, expression, columns))
    return folder.parent


def _columns(files: dict[str, str], table: str) -> dict[str, str]:
    return {c["name"]: c["type"] for c in yaml.safe_load(files[f"semantic/tables/{table}.yaml"])["columns"]}


def test_hand_worked_calculated_tables_get_their_expression_types(tmp_path):
    files = import_files(_model(tmp_path, CALCULATED)).result.files
    got = {(t, c): typ for t in CALCULATED for c, typ in _columns(files, t).items()}
    assert got == EXPECTED


def test_the_comment_says_how_each_type_was_found(tmp_path):
    files = import_files(_model(tmp_path, CALCULATED)).result.files
    series = files["semantic/tables/Series.yaml"]
    assert "# no dataType in the TMDL (typed at refresh): int64, the type (Int64) of its table's expression" in series
    unknown = files["semantic/tables/Unknown.yaml"]
    assert "string assumed (its table's expression was not typed: the function GENERATEALL is not supported by the engine)" \
        in unknown


def test_a_declared_data_type_is_kept(tmp_path):
    """A dataType in the TMDL wins over the expression (Desktop wrote it: the user changed it)."""
    folder = _model(tmp_path, {"Series": CALCULATED["Series"]})
    path = folder / "definition" / "tables" / "Series.tmdl"
    path.write_text(path.read_text().replace("\tcolumn Value\n", "\tcolumn Value\n\t\tdataType: double\n"))
    assert _columns(import_files(folder).result.files, "Series") == {"Value": "double"}


@needs_shipped
def test_shipped_calculated_tables_come_back_with_their_yaml_types():
    """Our build writes no dataType for calculated tables either: the import must find the
    types the shipped semantic/tables/*.yaml declare."""
    files = import_files(SHIPPED).result.files
    for table in ("Month_Offset", "Fiscal_Calendar"):
        want = {c["name"]: c["type"] for c in
                yaml.safe_load((REPO / "semantic" / "tables" / f"{table}.yaml").read_text("utf-8"))["columns"]}
        assert _columns(files, table) == want, table


@needs_shipped
def test_shipped_import_evaluates_every_measure():
    """The figure of docs/import.md's shipped row: every measure evaluates on the synthetic rows."""
    from generator.importer.report import synthetic_run

    run = synthetic_run(SHIPPED)
    assert run.errors == {} and run.evaluated == 47


def _sql(query: str) -> list[tuple]:
    con = duckdb.connect()
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


@needs_shipped
def test_previously_failing_measures_equal_hand_sql(tmp_path, capsys):
    """[Selected Months Back] = SELECTEDVALUE ( Month_Offset[Months_Back], 0 ): the one value
    filtered (dax.guide/selectedvalue); [Revenue N Months Earlier] = [Total Revenue] over
    DATEADD ( Dim_Date[Date], -N, MONTH ): the filtered dates, a whole month, shifted N months
    back give that whole earlier month (dax.guide/dateadd), and SUM adds Fact_Orders[Revenue]
    of the orders on those dates through Fact_Orders[Order_Date] -> Dim_Date[Date]
    (dax.guide/sum). Per N of 0..12 (GENERATESERIES ( 0, 12, 1 )) for March 2023."""
    project = tmp_path / "p"
    assert main(["import", str(SHIPPED), "--project", str(project), "--synthesize"]) == 0
    assert main(["build", "--project", str(project), "--no-tom"]) == 0
    capsys.readouterr()
    query = ("EVALUATE CALCULATETABLE ( SUMMARIZECOLUMNS ( Month_Offset[Months_Back], "
             "\"n\", [Selected Months Back], \"rev\", [Revenue N Months Earlier] ), "
             "DATESBETWEEN ( Dim_Date[Date], DATE ( 2023, 3, 1 ), DATE ( 2023, 3, 31 ) ) ) "
             "ORDER BY Month_Offset[Months_Back]")
    assert main(["query", "--project", str(project), "--format", "json", query]) == 0
    got = json.loads(capsys.readouterr().out)["rows"]
    fact = "read_parquet('" + str(project / "powerbi" / "data" / "Fact_Orders.parquet").replace("'", "''") + "')"
    want = _sql(f"""
        SELECT n, n, SUM(f.Revenue)
        FROM range(0, 13) AS r(n)
        LEFT JOIN {fact} f
          ON date_trunc('month', f.Order_Date) = DATE '2023-03-01' - to_months(CAST(n AS INTEGER))
        GROUP BY n ORDER BY n""")
    assert len(want) == 13 and sum(1 for *_, rev in want if rev) >= 10  # the data has orders in those months
    assert [(a, b, pytest.approx(float(c)) if c is not None else None) for a, b, c in want] == \
        [tuple(r) for r in got]
