"""Calculated tables: YAML `calculated: <DAX>`, TMDL `partition … = calculated`, engine values.

Expected values are worked out by hand from the rows below; the rules:
- CALENDAR(start, end): every day from start to end, one column [Date]
  (https://learn.microsoft.com/dax/calendar-function-dax).
- CALENDARAUTO([fiscal_year_end_month]): whole (fiscal) years covering every date column of
  the model that is not a calculated column or in a calculated table
  (https://learn.microsoft.com/dax/calendarauto-function-dax).
- GENERATESERIES(start, end, increment): start, start + increment, … up to end, column [Value]
  (https://learn.microsoft.com/dax/generateseries-function-dax).
- A calculated table is refreshed from the model and can be related like any table
  (https://learn.microsoft.com/power-bi/transform-model/desktop-calculated-tables).
"""
from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from generator.emit.project import formatted_dax
from generator.emit.tmdl import table_tmdl
from generator.engine.runtime.engine import Engine
from generator.errors import ForgeError
from generator.spec import load_project
from generator.synth import generate

# Sales: order 1 on 30 January (10), orders 2 and 3 on 1 February (20 + 5).
FILES = {
    "semantic/model.yaml": """\
        name: Mini
        relationships:
          - from: Sales[OrderDate]
            to: Cal[Date]
        """,
    "semantic/tables/Sales.yaml": """\
        name: Sales
        source:
          generator: rows
          params:
            rows:
              - {OrderID: 1, OrderDate: '2024-01-30', Amount: 10}
              - {OrderID: 2, OrderDate: '2024-02-01', Amount: 20}
              - {OrderID: 3, OrderDate: '2024-02-01', Amount: 5}
        columns:
          - {name: OrderID, type: int64, key: true}
          - {name: OrderDate, type: date}
          - {name: Amount, type: double}
        calculated_columns:
          - {name: Cal_Days, type: int64, expression: COUNTROWS ( Cal )}
        """,
    "semantic/tables/Cal.yaml": """\
        name: Cal
        description: Four days around the turn of the month.
        calculated: |
          ADDCOLUMNS (
              CALENDAR ( DATE ( 2024, 1, 30 ), DATE ( 2024, 2, 2 ) ),
              "Month", MONTH ( [Date] )
          )
        columns:
          - {name: Date, type: date}
          - {name: Month, type: int64, format: '0', description: Month number.}
        calculated_columns:
          - {name: Is_Feb, type: boolean, expression: 'Cal[Month] = 2'}
        """,
    "measures/m.yaml": """\
        table: Sales
        measures:
          - {name: Total, expression: 'SUM ( Sales[Amount] )'}
          - {name: Days, expression: COUNTROWS ( Cal )}
        """,
}


def write_project(root: Path, **changes: str) -> Path:
    for rel, text in {**FILES, **changes}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    (root / "semantic" / "pages").mkdir(exist_ok=True)
    return root


@pytest.fixture
def mini(tmp_path: Path):
    return load_project(write_project(tmp_path))


@pytest.fixture
def engine(mini):
    return Engine(mini, data=generate(mini))


# ------------------------------------------------------------------ spec


def test_a_calculated_table_loads_with_its_expression_and_no_data(mini):
    cal = mini.table("Cal")
    assert cal.is_calculated and cal.source.kind == "calculated"
    assert cal.expression.startswith("ADDCOLUMNS (")
    assert [c.name for c in cal.columns] == ["Date", "Month"]
    assert "Cal" not in generate(mini)  # synth makes no rows for it, so no Parquet is written


def test_source_and_calculated_together_is_an_error(tmp_path):
    cal = FILES["semantic/tables/Cal.yaml"].replace("        columns:", "        source: {generator: rows}\n        columns:")
    with pytest.raises(ForgeError) as exc:
        load_project(write_project(tmp_path, **{"semantic/tables/Cal.yaml": cal}))
    text = str(exc.value)
    assert "semantic/tables/Cal.yaml:1:1" in text and "exactly one of 'source'" in text


def test_a_declared_column_the_expression_does_not_produce_is_an_error(tmp_path):
    cal = FILES["semantic/tables/Cal.yaml"].replace(
        "          - {name: Month,", "          - {name: Quarter, type: int64}\n          - {name: Month,")
    model = load_project(write_project(tmp_path, **{"semantic/tables/Cal.yaml": cal}))
    with pytest.raises(ForgeError) as exc:
        Engine(model, data=generate(model))
    problem = exc.value.problems[0]
    assert "column 'Quarter' of calculated table Cal is not produced by its expression" in problem.message
    assert (problem.pos.file, problem.pos.line, problem.pos.col) == ("semantic/tables/Cal.yaml", 10, 5)  # its item


def test_a_cycle_through_a_calculated_table_is_an_error(tmp_path):
    # Cal's Month reads [Days], and [Days] reads Cal
    cal = FILES["semantic/tables/Cal.yaml"].replace('"Month", MONTH ( [Date] )', '"Month", [Days]')
    measures = FILES["measures/m.yaml"].replace("COUNTROWS ( Cal )", "'MAX ( Cal[Month] )'")
    model = load_project(write_project(tmp_path, **{"semantic/tables/Cal.yaml": cal, "measures/m.yaml": measures}))
    with pytest.raises(ForgeError) as exc:
        Engine(model, data=generate(model))
    assert "refer to each other in a cycle" in str(exc.value)


# ------------------------------------------------------------------ TMDL


def test_tmdl_is_a_calculated_partition_as_desktop_writes_it(mini):
    text = table_tmdl(mini, mini.table("Cal"), formatted_dax(mini))
    head, partition = text.split("\tpartition ")
    # Desktop: calculated-table columns carry no dataType, `isNameInferred`, `sourceColumn: [Name]`
    assert "\tcolumn Date\n" in head and "\t\tsourceColumn: [Date]\n" in head and "\t\tisNameInferred\n" in head
    assert "\tcolumn Month\n\t\tformatString: 0\n" in head
    column_part = head.split("\tcolumn Is_Feb")[0]
    assert "dataType" not in column_part
    assert "\tcolumn Is_Feb = Cal[Month] = 2\n\t\tdataType: boolean\n" in head  # a calculated column keeps its type
    assert partition == ("Cal = calculated\n\t\tmode: import\n\t\tsource = ADDCOLUMNS ( CALENDAR ( DATE ( 2024, 1, 30 ), "
                         'DATE ( 2024, 2, 2 ) ), "Month", MONTH ( [Date] ) )\n')
    assert "Parquet" not in text and "PBI_NavigationStepName" not in text


def test_tom_accepts_a_model_with_a_calculated_table(mini, tmp_path):
    from generator.emit.project import render
    from generator.validate import tom

    if not tom.available():
        pytest.skip("TOM not installed here: " + tom.INSTALL_HINT)
    stage = tmp_path / "out"
    render(mini, stage, data_folder="C:\\data\\")
    result = tom.check(stage / "Mini.SemanticModel" / "definition")
    assert result["ok"], result["errors"]
    assert result["summary"]["tables"] == 2 and result["summary"]["relationships"] == 1
    assert not (stage / "data" / "Cal.parquet").exists()


# ------------------------------------------------------------------ engine


def test_the_engine_computes_the_rows(engine):
    frame = engine.query("EVALUATE Cal ORDER BY Cal[Date]")
    assert list(frame["Cal[Date]"]) == [dt.date(2024, 1, 30), dt.date(2024, 1, 31),
                                                      dt.date(2024, 2, 1), dt.date(2024, 2, 2)]
    assert list(frame["Cal[Month]"]) == [1, 1, 2, 2]
    assert list(frame["Cal[Is_Feb]"]) == [False, False, True, True]  # its calculated column, computed after it


def test_a_relationship_to_a_calculated_table_filters(engine):
    frame = engine.query('EVALUATE SUMMARIZECOLUMNS(Cal[Month], "T", [Total]) ORDER BY Cal[Month]')
    assert frame.values.tolist() == [[1, 10.0], [2, 25.0]]  # 30 Jan: 10; 1 Feb: 20 + 5


def test_measures_and_calculated_columns_read_a_calculated_table(engine):
    assert engine.evaluate_measure("Days") == 4  # 30, 31 January, 1, 2 February
    assert engine.evaluate_measure("Days", {"Cal[Is_Feb]": True}) == 2
    # Sales[Cal_Days] is computed after Cal (dependency order): 4 on each of the 3 orders
    assert engine.evaluate("SUM(Sales[Cal_Days])") == 12


# ------------------------------------------------------------------ conformance


def test_calendar_is_every_day_from_start_to_end(engine):
    frame = engine.query("EVALUATE CALENDAR(DATE(2024, 2, 27), DATE(2024, 3, 1))")
    assert [d.date() for d in frame.iloc[:, 0]] == [dt.date(2024, 2, 27), dt.date(2024, 2, 28),
                                                    dt.date(2024, 2, 29), dt.date(2024, 3, 1)]  # a leap year


def test_calendar_with_start_after_end_is_an_error(engine):
    with pytest.raises(ForgeError):
        engine.query("EVALUATE CALENDAR(DATE(2024, 3, 2), DATE(2024, 3, 1))")


def test_calendarauto_spans_whole_years_of_the_non_calculated_dates(engine):
    # the only date column outside calculated tables: Sales[OrderDate], 30 Jan .. 1 Feb 2024
    # (Cal[Date], 2 Feb, is a calculated table's and does not count)
    row = engine.query('EVALUATE ROW("n", COUNTROWS(CALENDARAUTO()), "lo", MINX(CALENDARAUTO(), [Date]), '
                       '"hi", MAXX(CALENDARAUTO(), [Date]))').iloc[0].tolist()
    assert row[0] == 366 and row[1].date() == dt.date(2024, 1, 1) and row[2].date() == dt.date(2024, 12, 31)


def test_calendarauto_fiscal_year_end_month(engine):
    # year ending in March: 30 Jan 2024 lies in the fiscal year 1 Apr 2023 .. 31 Mar 2024
    row = engine.query('EVALUATE ROW("lo", MINX(CALENDARAUTO(3), [Date]), "hi", MAXX(CALENDARAUTO(3), [Date]))')
    lo, hi = row.iloc[0].tolist()
    assert (lo.date(), hi.date()) == (dt.date(2023, 4, 1), dt.date(2024, 3, 31))


def test_calendarauto_month_out_of_range_is_an_error(engine):
    with pytest.raises(ForgeError, match="fiscal_year_end_month"):
        engine.query("EVALUATE CALENDARAUTO(13)")


def test_generateseries(engine):
    assert engine.query("EVALUATE GENERATESERIES(1, 10, 3)").iloc[:, 0].tolist() == [1, 4, 7, 10]
    assert engine.query("EVALUATE GENERATESERIES(0, 0.3, 0.1)").iloc[:, 0].round(9).tolist() == [0, 0.1, 0.2, 0.3]
    assert engine.query("EVALUATE GENERATESERIES(5, 1)").empty  # end below start: no rows
    with pytest.raises(ForgeError):
        engine.query("EVALUATE GENERATESERIES(1, 5, 0)")  # the increment must be positive
