"""The report as Desktop would open it: layout, drill state, slicers, theme, display names.

Checks read the emitted PBIR JSON (pbir.report_files), so they see exactly what Desktop
reads. Expected figures (sizes Desktop saves, distinct counts) are stated by hand or
computed from the data with pyarrow, never taken from the layout code.
"""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow.compute as pc
import pytest

from generator.cli import main
from generator.emit import pbir
from generator.spec import load_project
from generator.spec.model import Binding, Pos, Visual
from generator.synth import generate

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "customer_csv"
NAME = "CustomerIntelligence"
P = Pos("semantic/pages/t.yaml", 1, 1)

# A test project of our own: explicit positions between automatic visuals of every height.
TEST_PAGE = """name: Layout Test
order: 9
visuals:
  - {name: banner, type: card, field: '[Total Revenue]', position: {x: 16, y: 16, width: 1248, height: 80}}
  - {name: c1, type: card, field: '[Total Customers]'}
  - {name: c2, type: card, field: '[Total Orders]'}
  - {name: s1, type: slicer, mode: dropdown, field: 'Dim_Customer[Segment]'}
  - {name: s2, type: slicer, mode: between, field: 'Dim_Date[Date]'}
  - {name: side, type: card, field: '[Total Revenue]', position: {x: 900, y: 300, width: 364, height: 200}}
  - {name: ch1, type: column, category: 'Dim_Customer[Gender]', values: '[Total Customers]'}
  - {name: ch2, type: line, category: 'Dim_Date[Year]', values: '[Total Revenue]'}
  - {name: t1, type: table, values: ['Dim_Customer[Customer_ID]', '[Total Revenue]']}
"""


def _test_project(tmp_path: Path) -> Path:
    import shutil

    dest = tmp_path / "layout_project"
    for part in ("semantic", "measures"):
        shutil.copytree(REPO / part, dest / part)
    (dest / "semantic/pages/99_layout_test.yaml").write_text(TEST_PAGE)
    return dest


def _report(project: Path) -> dict[str, dict]:
    model = load_project(project)
    return {path: json.loads(text) for path, text in pbir.report_files(model).items() if path.endswith(".json")}


@pytest.fixture(scope="module")
def shipped() -> dict[str, dict]:
    return _report(REPO)


def _pages(files: dict[str, dict]) -> dict[str, tuple[dict, list[dict]]]:
    out = {}
    for path, doc in files.items():
        if path.endswith("/page.json"):
            folder = path[: -len("page.json")]
            visuals = [v for p, v in files.items() if p.startswith(folder + "visuals/")]
            out[doc["name"]] = (doc, visuals)
    return out


def _box(v: dict) -> tuple[float, float, float, float]:
    p = v["position"]
    return p["x"], p["y"], p["x"] + p["width"], p["y"] + p["height"]


def _intersect(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _visual(files: dict[str, dict], page: str, name: str) -> dict:
    return files[f"definition/pages/{page}/visuals/{name}/visual.json"]


def _projections(v: dict) -> list[dict]:
    return [p for role in v["visual"]["query"]["queryState"].values() for p in role["projections"]]


# --- every page of every project the tests build: no overlap, everything on the page ---

@pytest.mark.parametrize("which", ["shipped", "customer_csv", "layout_test"])
def test_no_two_visuals_intersect_and_all_lie_inside_the_page(which, tmp_path):
    project = {"shipped": REPO, "customer_csv": EXAMPLE}.get(which) or _test_project(tmp_path)
    pages = _pages(_report(project))
    assert pages
    for name, (page, visuals) in pages.items():
        boxes = {v["name"]: _box(v) for v in visuals}
        for a in boxes:
            x0, y0, x1, y1 = boxes[a]
            assert x0 >= 0 and y0 >= 0 and x1 <= page["width"] and y1 <= page["height"], (name, a, boxes[a])
            for b in boxes:
                assert a >= b or not _intersect(boxes[a], boxes[b]), (name, a, b)


def test_key_findings_reserves_its_band(shipped):
    _, visuals = _pages(shipped)["demographics_geography"]
    card = next(v for v in visuals if v["name"] == "key_findings")
    assert card["position"]["y"] == 16 and card["position"]["width"] == 1248
    bottom = card["position"]["y"] + card["position"]["height"]
    assert all(v["position"]["y"] >= bottom for v in visuals if v is not card)


# --- item 6: packed rows, page heights and display options ---

@pytest.mark.parametrize("which", ["shipped", "customer_csv", "layout_test"])
def test_automatic_rows_have_no_holes(which, tmp_path):
    """Each automatic row is one height and spans the page from margin to margin."""
    project = {"shipped": REPO, "customer_csv": EXAMPLE}.get(which) or _test_project(tmp_path)
    model = load_project(project)
    files = _report(project)
    for page in model.pages:
        rows: dict[float, list[dict]] = {}
        for v in page.visuals:
            if not v.position:
                doc = _visual(files, page.id, v.name)
                rows.setdefault(doc["position"]["y"], []).append(doc["position"])
        for y, row in rows.items():
            row.sort(key=lambda p: p["x"])
            assert len({p["height"] for p in row}) == 1, (page.id, y, row)
            assert row[0]["x"] == 16 and row[-1]["x"] + row[-1]["width"] == page.width - 16, (page.id, y)
            for a, b in zip(row, row[1:]):
                assert b["x"] - (a["x"] + a["width"]) == 12, (page.id, y)


def test_pages_fit_their_content_and_tall_pages_fit_to_width(shipped):
    for name, (page, visuals) in _pages(shipped).items():
        bottom = max(v["position"]["y"] + v["position"]["height"] for v in visuals)
        assert page["height"] == max(720, bottom + 16), name
        assert page["displayOption"] == ("FitToWidth" if page["height"] > 720 else "FitToPage"), name


def test_layout_test_page_packs_around_explicit_positions(tmp_path):
    files = _report(_test_project(tmp_path))
    pos = {n: _visual(files, "layout_test", n)["position"] for n in ("banner", "c1", "s1", "s2", "ch1", "side")}
    assert pos["c1"]["y"] == 16 + 80 + 12  # below the banner, not under it
    assert pos["s1"]["height"] in range(68, 79) and pos["s2"]["height"] in range(108, 117)
    assert pos["ch1"]["y"] >= 300 + 200 + 12  # the chart row cannot share the side card's band


# --- item 2: drill state as Desktop writes it ---

def test_line_chart_opens_at_year_with_quarter_and_month_inactive(shipped):
    v = _visual(shipped, "rfm_retention", "revenue_by_month")
    category = v["visual"]["query"]["queryState"]["Category"]["projections"]
    assert [(p["queryRef"], p["active"]) for p in category] == [
        ("Dim_Date.Year", True), ("Dim_Date.Quarter", False), ("Dim_Date.Month_Name", False)]
    assert "expansionStates" not in v["visual"]


def test_matrix_levels_stay_active():
    """A matrix shows every row level (expand/collapse), so Desktop marks each level active."""
    rows = [Binding("rows", "Dim_Date", "Year", "column", P), Binding("rows", "Dim_Date", "Quarter", "column", P)]
    v = Visual("m", "pivotTable", (*rows, Binding("values", "Fact_Orders", "Total Revenue", "measure", P)), P)
    assert [p["active"] for p in pbir.query_state(v)["Rows"]["projections"]] == [True, True]


# --- item 3: slicers sized and labelled as Desktop saves them ---

def test_slicers_have_desktop_heights_and_one_label(shipped):
    model = load_project(REPO)
    seen = set()
    for page in model.pages:
        for visual in page.visuals:
            if visual.type != "slicer":
                continue
            doc = _visual(shipped, page.id, visual.name)
            mode = doc["visual"]["objects"]["data"][0]["properties"]["mode"]["expr"]["Literal"]["Value"]
            height = doc["position"]["height"]
            if mode == "'Dropdown'":
                assert 68 <= height <= 78, (page.id, visual.name, height)
            if mode == "'Between'":
                assert 108 <= height <= 118, (page.id, visual.name, height)
            assert "visualContainerObjects" not in doc["visual"], (page.id, visual.name)
            (only,) = _projections(doc)
            assert only.get("displayName", only["nativeQueryRef"]) == visual.title
            seen.add(mode)
    assert seen == {"'Dropdown'", "'Between'"}


# --- item 4: our own, complete, custom theme ---

def test_no_file_pretends_to_be_microsofts_theme(shipped):
    files = pbir.report_files(load_project(REPO))
    assert not any("BaseThemes" in p or "CY26SU02" in Path(p).name for p in files)


def test_theme_is_registered_as_a_custom_theme_the_way_desktop_does(shipped):
    report = shipped["definition/report.json"]
    custom = report["themeCollection"]["customTheme"]
    assert custom["type"] == "RegisteredResources"
    package = next(p for p in report["resourcePackages"] if p["type"] == "RegisteredResources")
    item = next(i for i in package["items"] if i["name"] == custom["name"])
    assert item["type"] == "CustomTheme" and " " not in item["name"]
    theme = shipped[f"StaticResources/RegisteredResources/{item['path']}"]
    assert theme["name"] == "pbi-forge"
    # Every package item the report names is a file the report ships.
    for package in report["resourcePackages"]:
        folder = {"RegisteredResources": "RegisteredResources", "SharedResources": "SharedResources"}[package["type"]]
        for i in package["items"]:
            assert f"StaticResources/{folder}/{i['path']}" in shipped, i


def test_theme_is_complete_and_sized_for_our_cards(shipped):
    theme = shipped["StaticResources/RegisteredResources/pbi-forge.json"]
    for key in ("name", "dataColors", "foreground", "background", "tableAccent", "textClasses", "visualStyles"):
        assert key in theme, key
    assert len(theme["dataColors"]) >= 8 and all(c.startswith("#") and len(c) == 7 for c in theme["dataColors"])
    assert {"callout", "title", "header", "label"} <= set(theme["textClasses"])
    emitted = {v["visual"]["visualType"] for p, v in shipped.items() if p.endswith("visual.json")}
    assert emitted <= set(theme["visualStyles"]), emitted - set(theme["visualStyles"])
    # A callout line (pt -> px is 4/3, line ~1.35 em) plus the 11 pt category label fit a card.
    card_height = min(v["position"]["height"] for p, v in shipped.items()
                      if p.endswith("visual.json") and v["visual"]["visualType"] == "card")
    callout_px = theme["textClasses"]["callout"]["fontSize"] * 4 / 3 * 1.35
    label_px = theme["visualStyles"]["card"]["*"]["categoryLabels"][0]["fontSize"] * 4 / 3 * 1.35
    assert callout_px + label_px + 16 <= card_height


def test_key_findings_sentence_fits_its_card(shipped, capsys):
    """The sentence at the theme's card size, word-wrapped in the card's width (~0.55 em per char)."""
    assert main(["query", "EVALUATE ROW(\"k\", [Key Findings])", "--format", "json", "--project", str(REPO)]) == 0
    sentence = json.loads(capsys.readouterr().out)["rows"][0][0]
    theme = shipped["StaticResources/RegisteredResources/pbi-forge.json"]
    card = _visual(shipped, "demographics_geography", "key_findings")["position"]
    px = theme["visualStyles"]["card"]["*"]["labels"][0]["fontSize"] * 4 / 3
    lines = -(-len(sentence) * px * 0.55 // (card["width"] - 16))
    label_px = theme["visualStyles"]["card"]["*"]["categoryLabels"][0]["fontSize"] * 4 / 3 * 1.35
    assert lines * px * 1.35 + label_px + 16 <= card["height"], (len(sentence), lines)


# --- item 5: rows of customers grouped by their id ---

def test_customer_names_are_not_unique_so_visuals_group_by_id(shipped):
    data = generate(load_project(REPO), rows=20_000, seed=42)["Dim_Customer"]
    assert pc.count_distinct(data["Customer_Name"]).as_py() < data.num_rows  # names repeat
    for path, v in shipped.items():
        if not path.endswith("visual.json"):
            continue
        groups = [p["queryRef"] for p in _projections(v) if "active" in p]
        if "Dim_Customer.Customer_Name" in groups:
            assert "Dim_Customer.Customer_ID" in groups, path
    activity = _visual(shipped, "customer_health_activity", "monthly_activity")
    assert [p["queryRef"] for p in _projections(activity)][:3] == [
        "Dim_Customer.Customer_ID", "Dim_Customer.Customer_Name", "Dim_Date.Year"]


# --- item 7: display names, one label per card, a readable matrix ---

def test_raw_column_names_are_shown_with_spaces(shipped):
    names = {p["queryRef"]: p.get("displayName", p["nativeQueryRef"])
             for path, v in shipped.items() if path.endswith("visual.json") for p in _projections(v)}
    assert names["Dim_Customer.Engagement_Segment"] == "Engagement Segment"
    assert names["Dim_Customer.Customer_ID"] == "Customer ID"
    assert not [n for n in names.values() if "_" in n]


def test_a_yaml_label_names_the_field(shipped):
    matrix = _visual(shipped, "customer_snapshot", "segment_by_country")
    values = matrix["visual"]["query"]["queryState"]["Values"]["projections"]
    assert [(p["nativeQueryRef"], p.get("displayName")) for p in values] == [
        ("Total Customers", "Customers"), ("Total Revenue", "Revenue"), ("Repeat Purchase Rate", "Repeat Rate")]


def test_cards_label_their_value_once(shipped):
    for path, v in shipped.items():
        if path.endswith("visual.json") and v["visual"]["visualType"] == "card":
            assert "visualContainerObjects" not in v["visual"], path  # the category label names it


def test_segment_by_country_matrix_is_readable(shipped):
    """Value columns = distinct column-header values x measures (+ the totals), from the data."""
    data = generate(load_project(REPO), rows=20_000, seed=42)["Dim_Customer"]
    matrix = _visual(shipped, "customer_snapshot", "segment_by_country")["visual"]["query"]["queryState"]
    (column,) = matrix["Columns"]["projections"]
    measures = len(matrix["Values"]["projections"])
    distinct = pc.count_distinct(data[column["nativeQueryRef"]]).as_py()
    columns = distinct * measures + measures
    width = _visual(shipped, "customer_snapshot", "segment_by_country")["position"]["width"]
    assert width / (columns + 1) >= 70, (columns, width)  # ~70 px per column incl. the row header


def test_label_is_part_of_the_page_schema(project, capsys):
    page = project / "semantic/pages/03_health_overview.yaml"
    page.write_text(page.read_text().replace(
        "category: Dim_Customer[Engagement_Segment]\n    values: '[Total Customers]'",
        "category: {field: 'Dim_Customer[Engagement_Segment]', label: Engagement}\n    values: '[Total Customers]'", 1))
    model = load_project(project)
    visual = next(v for p in model.pages for v in p.visuals if v.name == "customers_by_engagement")
    assert [b.label for b in visual.bindings] == ["Engagement", None]
    page.write_text(page.read_text().replace("label: Engagement}", "label: Engagement, colour: red}"))
    assert main(["validate", "--project", str(project)]) == 2
    err = capsys.readouterr().err
    assert "03_health_overview.yaml:" in err and "colour" in err and "Traceback" not in err


def test_overlapping_explicit_positions_are_a_load_error(project, tmp_path, capsys):
    page = project / "semantic/pages/07_demographics.yaml"
    page.write_text(page.read_text().replace(
        "  - name: revenue_by_age_group\n",
        "  - {name: over, type: card, field: '[Total Revenue]', position: {x: 100, y: 50, width: 200, height: 96}}\n"
        "  - name: revenue_by_age_group\n", 1))
    out = tmp_path / "out"
    assert main(["build", "--project", str(project), "--out", str(out), "--no-tom", "--rows", "2000"]) == 2
    err = capsys.readouterr().err
    assert "07_demographics.yaml:6:" in err and "overlaps" in err and "Traceback" not in err
    assert not out.exists()
