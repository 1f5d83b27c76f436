"""Stage spec: YAML loading, positions, schema and cross-file checks."""
from __future__ import annotations

from pathlib import Path

import pytest

from generator.errors import ForgeError
from generator.spec import load_project, parse_field_ref
from generator.spec.yamlpos import load_yaml

REPO = Path(__file__).resolve().parents[1]


def test_shipped_model_loads_with_every_object():
    model = load_project(REPO)
    assert [t.name for t in model.tables] == ["Dim_Channel", "Dim_Customer", "Dim_Date", "Dim_Product",
                                             "Fact_Orders", "Fiscal_Calendar", "Income_Threshold", "Month_Offset", "Order_Frequency_Band",
                                             "Quadrant", "RFM_Rules", "Score_Threshold", "User_Country",
                                             "Time Intelligence", "Metric"]
    group = model.table("Time Intelligence").calculation_group
    assert (group.column, group.precedence, [i.name for i in group.items]) == (
        "Time Calculation", 10, ["Current", "PY", "YoY %", "YTD"])
    assert len(model.relationships) == 4
    names = {m.name for m in model.measures}
    for required in ["Total Customers", "Total Orders", "Total Revenue", "Average Order Value",
                     "Customer Lifetime Value", "Repeat Purchase Rate", "Prime Customer %", "Repeat Purchase Target",
                     "Orders per Customer", "Revenue per Customer", "Customers in Band"]:
        assert required in names
    assert all(m.description for m in model.measures)
    text_measures = {"Top Age Group", "Leading Country", "Key Findings"}
    assert [m.name for m in model.measures if not m.format] == sorted(text_measures, key=[
        m.name for m in model.measures].index)
    page = model.pages[0]
    assert (page.name, page.id, len(page.visuals)) == ("Customer Snapshot", "customer_snapshot", 17)
    assert [p.id for p in model.pages] == [
        "customer_snapshot", "income_vs_spending_segmentation", "customer_health_overview",
        "customer_health_activity", "customer_health_risk", "rfm_retention", "demographics_geography"]


def test_as_of_becomes_a_measure_in_the_date_table():
    as_of = load_project(REPO).measure("As Of Date")
    assert (as_of.table, as_of.folder) == ("Dim_Date", "Parameters")
    assert as_of.expression == "CALCULATE(MAX(Fact_Orders[Order_Date]), REMOVEFILTERS())"


def test_as_of_can_be_a_fixed_date(project):
    p = project / "semantic" / "model.yaml"
    p.write_text(p.read_text().replace("as_of: Fact_Orders[Order_Date]", "as_of: '2024-06-30'"))
    assert load_project(project).measure("As Of Date").expression == "DATE(2024, 6, 30)"


def test_sort_must_be_a_field_the_visual_shows(project):
    p = project / "semantic" / "pages" / "05_health_risk.yaml"
    p.write_text(p.read_text().replace("sort: {field: '[Revenue at Risk]'", "sort: {field: '[Total Orders]'"))
    assert "can only sort by a field it shows" in _problems(project)


@pytest.mark.parametrize("text,expected", [
    ("Fact_Orders[Customer_ID]", ("Fact_Orders", "Customer_ID")),
    ("'Dim Date'[Month Name]", ("Dim Date", "Month Name")),
    ("'It''s'[x]", ("It's", "x")),
    ("[Total Revenue]", (None, "Total Revenue")),
    ("Fact_Orders", None),
])
def test_field_references(text, expected):
    assert parse_field_ref(text) == expected


def test_block_scalar_origin_maps_dax_lines_to_yaml_lines(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text("measures:\n  - name: X\n    expression: |\n      SUM(\n          T[a]\n      )\n")
    doc = load_yaml(f, tmp_path)
    origin = doc["measures"][0].origins["expression"]
    # DAX line 2, column 5 is the "T" of T[a]: YAML line 5, column 11.
    pos = origin.to_yaml(2, 5)
    assert (pos.line, pos.col) == (5, 11)
    assert f.read_text().splitlines()[pos.line - 1][pos.col - 1] == "T"


def test_flow_scalar_origin_accounts_for_quotes(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text("expression: 'SUM(T[a])'\n")
    origin = load_yaml(f, tmp_path).origins["expression"]
    pos = origin.to_yaml(1, 5)
    assert f.read_text().splitlines()[0][pos.col - 1] == "T"


def _problems(project: Path) -> str:
    with pytest.raises(ForgeError) as exc:
        load_project(project)
    return "\n".join(str(p) for p in exc.value.problems)


def test_all_problems_are_reported_together(project):
    p = project / "semantic" / "model.yaml"
    p.write_text(p.read_text().replace("to: Dim_Customer[Customer_ID]", "to: Dim_Customer[Customer_Key]")
                 .replace("to: Dim_Product[Product_ID]", "to: Dim_Prodcut[Product_ID]"))
    text = _problems(project)
    assert "column 'Customer_Key' does not exist in table 'Dim_Customer'" in text
    assert "table 'Dim_Prodcut' does not exist" in text and "did you mean 'Dim_Product'" in text


def test_wrong_role_for_visual_type_is_an_error(project):
    p = project / "semantic" / "pages" / "01_customer_snapshot.yaml"
    p.write_text(p.read_text().replace("type: pie\n    title: Customers by Segment\n    category:",
                                       "type: pie\n    title: Customers by Segment\n    rows:"))
    text = _problems(project)
    assert "a pie visual has no 'rows' binding" in text
    assert "needs a binding for Category" in text


def test_measure_in_a_column_role_is_an_error(project):
    p = project / "semantic" / "pages" / "01_customer_snapshot.yaml"
    p.write_text(p.read_text().replace("category: Order_Frequency_Band[Band]", "category: '[Total Orders]'"))
    assert "takes a column, not the measure [Total Orders]" in _problems(project)


def test_sort_by_must_name_a_column_of_the_same_table(project):
    p = project / "semantic" / "tables" / "Dim_Date.yaml"
    p.write_text(p.read_text().replace("sort_by: Month_Number", "sort_by: Month_Numbr"))
    text = _problems(project)
    assert "semantic/tables/Dim_Date.yaml:" in text and "did you mean 'Month_Number'" in text


def test_duplicate_yaml_key_is_reported_with_position(project):
    p = project / "measures" / "kpis.yaml"
    p.write_text(p.read_text().replace("folder: KPIs\n", "folder: KPIs\nfolder: Again\n", 1))
    assert "measures/kpis.yaml:4:1: error: duplicate key 'folder'" in _problems(project)
