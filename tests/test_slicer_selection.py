"""Slicer pre-selections: YAML `selected` / `range` → Desktop's saved filter → page filters in the engine."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from generator.cli import main
from generator.errors import ForgeError
from generator.spec import load_project
from generator.validate.schemas import validate_tree
from tests.conftest import shared_path

NAME = "CustomerIntelligence"
PAGE = "semantic/pages/01_customer_snapshot.yaml"


def _select(project: Path, segment: str = "selected: Prime", date: str = "range: {from: '2024-01-01', to: '2024-06-30'}"):
    p = project / PAGE
    text = p.read_text()
    if segment:
        text = text.replace("field: 'Dim_Customer[Segment]'}", f"field: 'Dim_Customer[Segment]', {segment}}}")
    if date:
        text = text.replace("field: 'Dim_Date[Date]'}", f"field: 'Dim_Date[Date]', {date}}}")
    p.write_text(text)


def _visual(out: Path, name: str) -> dict:
    return json.loads((out / f"{NAME}.Report/definition/pages/customer_snapshot/visuals/{name}/visual.json").read_text())


def test_selections_become_desktops_saved_slicer_filters(project, tmp_path):
    _select(project)
    out = tmp_path / "powerbi"
    assert main(["build", "--project", str(project), "--out", str(out), "--no-tom", "--rows", "3000"]) == 0
    segment = _visual(out, "slicer_segment")["visual"]["objects"]
    where = segment["general"][0]["properties"]["filter"]["filter"]["Where"][0]["Condition"]["In"]
    assert where["Values"] == [[{"Literal": {"Value": "'Prime'"}}]]
    assert where["Expressions"][0]["Column"]["Expression"] == {"SourceRef": {"Source": "s"}}
    date = _visual(out, "slicer_date")["visual"]["objects"]
    assert date["data"][0]["properties"]["startDate"] == {"expr": {"Literal": {"Value": "datetime'2024-01-01T00:00:00'"}}}
    both = date["general"][0]["properties"]["filter"]["filter"]["Where"][0]["Condition"]["And"]
    assert both["Left"]["Comparison"]["ComparisonKind"] == 2  # >= from
    assert both["Right"]["Comparison"]["ComparisonKind"] == 3  # < to + 1 day
    assert both["Right"]["Comparison"]["Right"] == {"Literal": {"Value": "datetime'2024-07-01T00:00:00'"}}
    # last: without ../shared/schemas the checks above still run, then this skips
    assert validate_tree(out, shared_path("schemas")) == {}


@pytest.mark.parametrize("segment,date,message", [
    ("selected: 7", "", "selected value 7 does not fit the string column Dim_Customer[Segment]"),
    ("range: {from: '2024-01-01', to: '2024-02-01'}", "",
     "'range' needs a slicer with mode: between on a date column"),
    ("selected: Prime", "selected: '2024-01-01'", "a between slicer takes 'range', not 'selected'"),
    ("selected: Prime", "range: {from: '2024-03-01', to: '2024-02-01'}", "range from 2024-03-01 is after to 2024-02-01"),
])
def test_bad_selections_are_load_errors(project, segment, date, message):
    _select(project, segment, date)
    with pytest.raises(ForgeError) as err:
        load_project(project)
    assert message in str(err.value)


def test_the_engine_applies_a_pages_slicer_selection_to_its_visuals(project, tmp_path):
    from generator.engine import Engine
    from generator.engine.visuals import evaluate_visual

    _select(project, date="")
    out = tmp_path / "powerbi"
    assert main(["build", "--project", str(project), "--out", str(out), "--no-tom", "--rows", "3000"]) == 0
    model = load_project(project)
    page = model.pages[0]
    engine = Engine(model, out=out)
    card = next(v for v in page.visuals if v.name == "kpi_total_revenue")
    result = evaluate_visual(engine, card, page)
    expected = duckdb.connect().execute(f"""
        SELECT sum(f.Revenue) FROM '{out}/data/Fact_Orders.parquet' f
        JOIN '{out}/data/Dim_Customer.parquet' c USING (Customer_ID) WHERE c.Segment = 'Prime'""").fetchone()[0]
    assert result["rows"][0][-1] == pytest.approx(expected, abs=0.005)


def test_the_engine_applies_a_date_range_selection(project, tmp_path):
    from generator.engine import Engine
    from generator.engine.visuals import evaluate_visual

    _select(project, segment="", date="range: {from: '2024-01-01', to: '2024-06-30'}")
    out = tmp_path / "powerbi"
    assert main(["build", "--project", str(project), "--out", str(out), "--no-tom", "--rows", "3000"]) == 0
    model = load_project(project)
    page = model.pages[0]
    card = next(v for v in page.visuals if v.name == "kpi_total_orders")
    result = evaluate_visual(Engine(model, out=out), card, page)
    expected = duckdb.connect().execute(f"""
        SELECT count(*) FROM '{out}/data/Fact_Orders.parquet'
        WHERE Order_Date BETWEEN DATE '2024-01-01' AND DATE '2024-06-30'""").fetchone()[0]
    assert result["rows"][0][-1] == expected
