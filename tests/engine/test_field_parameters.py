"""Field parameters: the table Desktop writes, its rows, and visuals bound to it.

Rules: a field parameter is a calculated table built from a table constructor of
("name", NAMEOF(field), order) rows (learn.microsoft.com/power-bi/create-reports/power-bi-field-parameters);
NAMEOF returns the fully qualified name 'Table'[Name], a measure with its home table
(learn.microsoft.com/dax/nameof-function-dax); a visual using the parameter shows the fields
its slicer selects, in the parameter's order, all of them when nothing is selected (the
slicer then filters nothing, so every row of the parameter table is in context).

Fixture (tests/engine/fixtures.py): customers Ann, Bob (Oslo), Cid, Dan (Rome); orders
1 Ann 10, 2 Ann 20, 3 Bob 30, 4 Cid 40. By city: Oslo 3 orders worth 60, Rome 1 worth 40.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from generator.engine import Engine
from generator.engine.visuals import evaluate_visual, shown_fields
from generator.spec import field_parameters
from generator.spec.model import (Binding, Column, FieldParameter, Model, Page, ParameterField, Pos, Source, Table,
                                  Visual)
from generator.source import ExprOrigin
from tests.engine.fixtures import CUSTOMER, CUSTOMERS, DATE, MEASURES, ORDERS, RELS, SALES, dates

P = Pos("semantic/field_parameters/Metric.yaml", 1, 7)
REPO = Path(__file__).resolve().parents[2]


def parameter(name: str, *fields: tuple[str, str, str, str]) -> Table:
    """A field parameter table as the loader builds it: fields (shown name, table, field, kind)."""
    items = tuple(ParameterField(n, t, f, k, i, P) for i, (n, t, f, k) in enumerate(fields))
    shown, names, order = field_parameters.column_names(name)
    columns = (Column(shown, "string", P, sort_by=order), Column(names, "string", P, hidden=True, sort_by=order),
               Column(order, "int64", P, hidden=True, format="0", summarize_by="sum"))
    return Table(name, Source("calculated", P), columns, P, expression=field_parameters.expression(items),
                 origin=ExprOrigin(P.file, 1, 7), field_parameter=FieldParameter(items))


METRIC = parameter("Metric", ("Amount", "Sales", "Sales", "measure"), ("Order count", "Sales", "Orders", "measure"))
GROUPING = parameter("Grouping", ("City", "Customer", "City", "column"), ("Customer", "Customer", "Name", "column"))


def engine() -> Engine:
    model = Model("Ref", "en-US", (CUSTOMER, SALES, DATE, METRIC, GROUPING), RELS, MEASURES, (), Path("."),
                  date_table="Date")
    return Engine(model, data={"Customer": CUSTOMERS, "Sales": ORDERS, "Date": dates()}, as_of="2024-12-31")


def _b(role: str, table: str, name: str, kind: str = "column") -> Binding:
    return Binding(role, table, name, kind, P)


def page(chart_bindings, slicers=()) -> Page:
    bindings = tuple(field_parameters.parameter_binding(b, {"metric": METRIC, "grouping": GROUPING}[b.table.lower()])
                     if field_parameters.is_parameter_column(
                         {"metric": METRIC, "grouping": GROUPING}.get(b.table.lower()), b.name) else b
                     for b in chart_bindings)
    chart = Visual("chart", "clusteredColumnChart", bindings, P)
    visuals = [chart]
    for table, selected in slicers:
        t = {"metric": METRIC, "grouping": GROUPING}[table.lower()]
        options = {**field_parameters.slicer_options(t), **({"selected": tuple(selected)} if selected else {})}
        visuals.append(Visual(f"slicer_{table}", "slicer", (_b("field", table, table),), P, options=options))
    return Page("p", "P", 0, tuple(visuals), P)


def test_the_parameter_table_is_desktops_constructor():
    # Desktop: { ("Customer", NAMEOF('Customer'[Customer]), 0), ("# Sales", NAMEOF([# Sales]), 10), ... }
    assert METRIC.expression == '{\n    ("Amount", NAMEOF([Sales]), 0),\n    ("Order count", NAMEOF([Orders]), 1)\n}'
    assert GROUPING.expression == ("{\n    (\"City\", NAMEOF('Customer'[City]), 0),\n"
                                   "    (\"Customer\", NAMEOF('Customer'[Name]), 1)\n}")


def test_the_engine_computes_the_rows_from_the_constructor():
    rows = engine().query("EVALUATE Metric ORDER BY Metric[Metric Order]").values.tolist()
    assert rows == [["Amount", "'Sales'[Sales]", 0], ["Order count", "'Sales'[Orders]", 1]]
    rows = engine().query("EVALUATE Grouping ORDER BY Grouping[Grouping Order]").values.tolist()
    assert rows == [["City", "'Customer'[City]", 0], ["Customer", "'Customer'[Name]", 1]]


def test_a_visual_shows_the_field_the_slicer_selects():
    p = page([_b("category", "Customer", "City"), _b("values", "Metric", "Metric")], [("Metric", ["Order count"])])
    result = evaluate_visual(engine(), p.visuals[0], p)
    assert result["columns"] == ["Customer[City]", "[Orders]"]
    assert result["rows"] == [["Oslo", 3], ["Rome", 1]]


def test_nothing_selected_shows_every_field_in_the_parameters_order():
    p = page([_b("category", "Customer", "City"), _b("values", "Metric", "Metric")], [("Metric", None)])
    result = evaluate_visual(engine(), p.visuals[0], p)
    assert result["columns"] == ["Customer[City]", "[Sales]", "[Orders]"]
    assert result["rows"] == [["Oslo", 60, 3], ["Rome", 40, 1]]


def test_a_posted_selection_overrides_the_saved_one():
    p = page([_b("category", "Customer", "City"), _b("values", "Metric", "Metric")], [("Metric", ["Order count"])])
    result = evaluate_visual(engine(), p.visuals[0], p, selections={"slicer_Metric": {"selected": ["Amount"]}})
    assert result["rows"] == [["Oslo", 60], ["Rome", 40]]


def test_a_parameter_of_columns_on_the_axis_regroups_the_visual():
    p = page([_b("category", "Grouping", "Grouping"), _b("values", "Sales", "Sales", "measure")],
             [("Grouping", ["Customer"])])
    result = evaluate_visual(engine(), p.visuals[0], p)
    assert result["columns"] == ["Customer[Name]", "[Sales]"]
    # Ann 10 + 20, Bob 30, Cid 40; Dan has no orders (no row)
    assert result["rows"] == [["Ann", 30], ["Bob", 30], ["Cid", 40]]
    assert [b.name for b in shown_fields(p.visuals[0], p).bindings] == ["Name", "Sales"]


# ------------------------------------------------------------------ YAML, TMDL and PBIR of the shipped model


def _build(project: Path, capsys) -> tuple[int, str]:
    from generator.cli import main

    code = main(["build", "--project", str(project), "--out", str(project / "out"), "--no-tom"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_shipped_field_parameter_tmdl_is_desktops(project):
    from generator.emit.tmdl import semantic_model_files
    from generator.spec import load_project

    text = semantic_model_files(load_project(project), "C:\\data\\", {})["tables/Metric.tmdl"]
    # the same shape as pbip-samples RuiRomano__pbip-demo Model01 tables/Field Parameter.tmdl
    assert "\tcolumn Metric\n\t\tlineageTag: " in text
    assert ("\t\tsummarizeBy: none\n\t\tsourceColumn: [Value1]\n\t\tsortByColumn: 'Metric Order'\n\n"
            "\t\trelatedColumnDetails\n\t\t\tgroupByColumn: 'Metric Fields'\n\n") in text
    assert ("\t\tsourceColumn: [Value2]\n\t\tsortByColumn: 'Metric Order'\n\n"
            "\t\textendedProperty ParameterMetadata =\n\t\t\t\t{\n\t\t\t\t  \"version\": 3,\n"
            "\t\t\t\t  \"kind\": 2\n\t\t\t\t}\n\n") in text
    assert "\tcolumn 'Metric Order'\n\t\tisHidden\n\t\tformatString: 0\n" in text
    assert ("\tpartition Metric = calculated\n\t\tmode: import\n\t\tsource =\n\t\t\t\t{\n"
            "\t\t\t\t    (\"Revenue\", NAMEOF([Total Revenue]), 0),\n") in text
    assert "dataType" not in text  # calculated table columns: Desktop writes no dataType


def test_shipped_visual_pbir_lists_the_selected_fields_and_the_parameter(project):
    from generator.emit.pbir import report_files
    from generator.spec import load_project
    import json

    files = report_files(load_project(project))
    chart = json.loads(files["definition/pages/demographics_geography/visuals/metric_by_channel/visual.json"])
    y = chart["visual"]["query"]["queryState"]["Y"]
    # the slicer saves Revenue: one projection, and fieldParameters index 0, length 1 (as Desktop)
    assert [p["queryRef"] for p in y["projections"]] == ["Fact_Orders.Total Revenue"]
    assert y["projections"][0]["nativeQueryRef"] == y["projections"][0]["displayName"] == "Revenue"
    assert y["fieldParameters"] == [{"parameterExpr": {"Column": {"Expression": {"SourceRef": {"Entity": "Metric"}},
                                                                  "Property": "Metric"}}, "index": 0, "length": 1}]
    slicer = json.loads(files["definition/pages/demographics_geography/visuals/slicer_metric/visual.json"])
    where = slicer["visual"]["objects"]["general"][0]["properties"]["filter"]["filter"]["Where"][0]["Condition"]["In"]
    # Desktop saves the selection on the hidden fields column, by NAMEOF text: '''Product''[Product]'
    assert where["Expressions"][0]["Column"]["Property"] == "Metric Fields"
    assert where["Values"] == [[{"Literal": {"Value": "'''Fact_Orders''[Total Revenue]'"}}]]


@pytest.mark.parametrize("edit, message", [
    (("'[Average Order Value]'", "'[Average Order Valu]'"),
     "field parameter 'Metric': [Average Order Valu] is neither a measure nor a column of the model"),
    (("{name: AOV,", "{name: Revenue,"), "field parameter 'Metric' lists the name 'Revenue' twice"),
])
def test_bad_field_parameter_is_refused_with_its_position(project, capsys, edit, message):
    f = project / "semantic" / "field_parameters" / "Metric.yaml"
    f.write_text(f.read_text().replace(*edit))
    code, out = _build(project, capsys)
    assert code == 2 and message in out and "Metric.yaml:" in out
    assert not (project / "out").exists()


def test_a_slicer_selecting_an_unknown_field_is_refused(project, capsys):
    f = project / "semantic" / "pages" / "07_demographics.yaml"
    f.write_text(f.read_text().replace("selected: [Revenue]", "selected: [Profit]"))
    code, out = _build(project, capsys)
    assert code == 2 and "field parameter 'Metric' has no field named 'Profit'" in out


def test_a_parameter_of_measures_on_an_axis_is_refused(project, capsys):
    f = project / "semantic" / "pages" / "07_demographics.yaml"
    f.write_text(f.read_text().replace("    category: Dim_Channel[Channel_Name]\n    values: 'Metric[Metric]'",
                                       "    category: Metric[Metric]\n    values: '[Total Revenue]'"))
    code, out = _build(project, capsys)
    assert code == 2
    assert "'category' of a column visual takes columns; the field parameter 'Metric' lists measures" in out
