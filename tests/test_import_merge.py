"""`import --merge`: edits made in Power BI Desktop come back into the YAML (issue #12 item 2).

Each test copies the shipped project, builds it, edits the generated files the way Desktop
saves them, runs `build.py import --merge`, and checks that:
- the YAML changed by exactly the expected lines (every other byte, comment and blank line kept);
- the next build accepts the files (no "changed since the last build" refusal) and writes,
  for the edited objects, what Desktop saved;
- the engine evaluates a new measure to the value computed independently (DuckDB over the
  Parquet the build wrote).

Desktop's shapes (learn.microsoft.com/power-bi/developer/projects/projects-dataset,
.../projects-report, and the Desktop-saved files in ../shared/pbip-samples): a measure is a
`measure 'Name' = DAX` block in tables/<Table>.tmdl with one-tab-deeper properties and a
random lineageTag GUID; a visual's place is visual.json `position` {x, y, z, height, width,
tabOrder}; a page's shown name is page.json `displayName`
(learn.microsoft.com/power-bi/developer/embedded/projects-enhanced-report-format).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from generator.emit.tmdl import lineage_tag
from generator.importer.tmdl_reader import parse_text

REPO = Path(__file__).resolve().parents[1]
NAME = "CustomerIntelligence"
TABLES = f"{NAME}.SemanticModel/definition/tables"
PAGE = f"{NAME}.Report/definition/pages/customer_snapshot"
NEW_MEASURE = "Revenue per Ordering Customer"
# Desktop's block: a `///` description, the DAX on the measure line, its properties one tab
# deeper, a random lineageTag (pbi-forge derives its own from names)
DESKTOP_GUID = "6f1c1b52-3a0e-4b8e-9d0a-2f4e5c7d8a91"
MEASURE_BLOCK = ("\t/// Revenue per ordering customer.\n"
                 f"\tmeasure '{NEW_MEASURE}' = DIVIDE ( [Total Revenue], [Total Customers] )\n"
                 "\t\tformatString: \\$#,0.00\n"
                 "\t\tdisplayFolder: KPIs\n"
                 f"\t\tlineageTag: {DESKTOP_GUID}\n\n")
# the same measure as our YAML writer formats it, appended to measures/kpis.yaml (home table
# Fact_Orders, display folder KPIs = the file's `folder:`, so no `folder:` of its own)
MEASURE_YAML = (f"  - name: {NEW_MEASURE}\n"
                "    expression: DIVIDE ( [Total Revenue], [Total Customers] )\n"
                "    format: \\$#,0.00\n"
                "    description: Revenue per ordering customer.\n")
MOVED = {"x": 20, "y": 360, "width": 380, "height": 260}  # gauge_repeat_rate, shrunk inside its cell


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "build.py", *args], cwd=REPO, capture_output=True, text=True)


@pytest.fixture(scope="module")
def built_once(tmp_path_factory) -> Path:
    project = tmp_path_factory.mktemp("merge") / "project"
    project.mkdir()
    for part in ("semantic", "measures"):
        shutil.copytree(REPO / part, project / part)
    done = run("build", "--project", str(project), "--no-tom")
    assert done.returncode == 0, done.stdout + done.stderr
    return project


@pytest.fixture()
def project(built_once: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(built_once, copy)
    return copy


def yaml_files(project: Path) -> dict[str, bytes]:
    return {p.relative_to(project).as_posix(): p.read_bytes()
            for part in ("semantic", "measures") for p in sorted((project / part).rglob("*")) if p.is_file()}


def out(project: Path) -> Path:
    return project / "powerbi"


def stamp_model(project: Path) -> None:
    """What every Desktop save adds to model.tmdl: its version and tooling annotations
    (as in ../shared/pbip-samples/RuiRomano__pbip-demo/src/Model03.SemanticModel)."""
    path = out(project) / f"{NAME}.SemanticModel/definition/model.tmdl"
    text = path.read_text("utf-8")
    at = text.index("annotation __PBI_TimeIntelligenceEnabled")
    path.write_bytes((text[:at] + "annotation PBIDesktopVersion = 2.144.331.0 (25.06)\n\n"
                      + text[at:].replace("\nref table", "\nannotation PBI_ProTooling = [\"DevMode\"]\n\nref table", 1)
                      ).encode("utf-8"))


def add_measure(project: Path) -> str:
    """Desktop adds [Revenue per Ordering Customer] to Fact_Orders after its last measure."""
    stamp_model(project)
    path = out(project) / TABLES / "Fact_Orders.tmdl"
    text = path.read_text("utf-8")
    at = text.rfind("\n\n", 0, text.index("\tcolumn ")) + 2
    path.write_bytes((text[:at] + MEASURE_BLOCK + text[at:]).encode("utf-8"))
    return path.read_text("utf-8")


def move_gauge(project: Path) -> str:
    path = out(project) / PAGE / "visuals" / "gauge_repeat_rate" / "visual.json"
    doc = json.loads(path.read_text("utf-8"))
    doc["position"].update(MOVED)
    path.write_bytes(json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8"))  # Desktop: 2 spaces, no EOL
    return path.read_text("utf-8")


def rename_page(project: Path) -> str:
    path = out(project) / PAGE / "page.json"
    doc = json.loads(path.read_text("utf-8"))
    doc["displayName"] = "Customer Overview"
    path.write_bytes(json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8"))
    return path.read_text("utf-8")


def position(project: Path, visual: str) -> dict:
    doc = json.loads((out(project) / PAGE / "visuals" / visual / "visual.json").read_text("utf-8"))
    return {k: doc["position"][k] for k in ("x", "y", "width", "height")}


def flow(p: dict) -> str:
    return f"{{x: {p['x']}, y: {p['y']}, width: {p['width']}, height: {p['height']}}}"


def insert_after(text: str, anchor: str, lines: str) -> str:
    assert text.count(anchor) == 1, anchor
    return text.replace(anchor, anchor + lines)


def merge(project: Path, *extra: str) -> subprocess.CompletedProcess:
    return run("import", "--merge", "--project", str(project), *extra)


def build(project: Path, *extra: str) -> subprocess.CompletedProcess:
    return run("build", "--project", str(project), *extra)


def measure_block(tmdl_text: str, name: str) -> str:
    table = parse_text(Path("t.tmdl"), tmdl_text).nodes[0]
    return next(m.raw for m in table.kids("measure") if m.name == name)


def expected_kpis(before: bytes) -> bytes:
    text = before.decode("utf-8")
    assert text.endswith("\n")
    return (text + MEASURE_YAML).encode("utf-8")


def check_measure_rebuilt(project: Path, desktop_text: str) -> None:
    rebuilt = (out(project) / TABLES / "Fact_Orders.tmdl").read_text("utf-8")
    ours = lineage_tag(NAME, "table", "Fact_Orders", "measure", NEW_MEASURE)  # IDs derive from names
    assert measure_block(rebuilt, NEW_MEASURE) == measure_block(desktop_text, NEW_MEASURE).replace(DESKTOP_GUID, ours)
    # the rest of the table is what Desktop saved (the other measures, the columns, the
    # partition); the new measure sits after the other measures of kpis.yaml, its YAML file,
    # where Desktop had appended it after the table's last one
    block = measure_block(rebuilt, NEW_MEASURE) + "\n"
    assert rebuilt.count(block) == 1 and desktop_text.count(MEASURE_BLOCK) == 1
    assert rebuilt.replace(block, "") == desktop_text.replace(MEASURE_BLOCK, "")


def check_engine(project: Path) -> None:
    """[Revenue per Ordering Customer] = DIVIDE(SUM(Revenue), DISTINCTCOUNT(Customer_ID)) over
    all orders (dax.guide/divide, dax.guide/distinctcount), computed here by hand SQL."""
    done = run("query", "--project", str(project), "--format", "json",
               f'EVALUATE ROW("v", [{NEW_MEASURE}])')
    assert done.returncode == 0, done.stderr
    value = json.loads(done.stdout)["rows"][0][0]
    parquet = out(project) / "data" / "Fact_Orders.parquet"
    con = duckdb.connect()
    revenue, customers = con.execute("SELECT SUM(Revenue), COUNT(DISTINCT Customer_ID) FROM read_parquet(?)",
                                     [str(parquet)]).fetchone()
    con.close()
    assert customers > 0
    assert value == pytest.approx(revenue / customers, abs=1e-4)


def test_new_measure(project: Path):
    before = yaml_files(project)
    desktop = add_measure(project)
    done = merge(project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"measure [{NEW_MEASURE}] added to measures/kpis.yaml" in done.stdout
    assert "model.tmdl: Desktop's own annotations" in done.stdout
    after = yaml_files(project)
    assert after["measures/kpis.yaml"] == expected_kpis(before["measures/kpis.yaml"])
    assert {k: v for k, v in after.items() if k != "measures/kpis.yaml"} == \
        {k: v for k, v in before.items() if k != "measures/kpis.yaml"}
    rebuilt = build(project, "--no-tom")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    check_measure_rebuilt(project, desktop)
    check_engine(project)


def test_changed_measure_expression_is_replaced_in_place(project: Path):
    before = yaml_files(project)["measures/kpis.yaml"].decode("utf-8")
    path = out(project) / TABLES / "Fact_Orders.tmdl"
    old = "\tmeasure 'Total Revenue' = SUM ( Fact_Orders[Revenue] )\n"
    new = "\tmeasure 'Total Revenue' = SUMX ( Fact_Orders, Fact_Orders[Revenue] )\n"
    text = path.read_text("utf-8")
    assert text.count(old) == 1
    path.write_bytes(text.replace(old, new).encode("utf-8"))
    done = merge(project)
    assert done.returncode == 0, done.stdout + done.stderr
    after = (project / "measures" / "kpis.yaml").read_text("utf-8")
    line = "    expression: SUM ( Fact_Orders[Revenue] )\n"
    assert before.count(line) == 1
    assert after == before.replace(line, "    expression: SUMX ( Fact_Orders, Fact_Orders[Revenue] )\n")
    rebuilt = build(project, "--no-tom")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert new in (out(project) / TABLES / "Fact_Orders.tmdl").read_text("utf-8")


def expected_page_after_move(project: Path, before: str) -> str:
    """The gauge gets Desktop's position. In the automatic layout (emit/pbir.py `layout`) an
    explicit position reserves its band and the other visuals are packed in rows around it,
    so the gauge's row mates and the next row would move: each is pinned where the previous
    build put it. customers_by_band and orders_vs_revenue would be laid as a row of their
    own below the gauge; segment_by_country and customers_by_segment would rise to 12 px
    under the gauge's new bottom (360 + 260) instead of 12 px under the old row (348 + 280).
    From revenue_time_intelligence on, the packing lands where it was (y 932, ...)."""
    text = insert_after(before, "    target: '[Repeat Purchase Target]'\n", f"    position: {flow(MOVED)}\n")
    for anchor, visual in (("    values: '[Customers in Band]'\n", "customers_by_band"),
                           ("    legend: Dim_Customer[Segment]\n", "orders_vs_revenue"),
                           ("      - {field: '[Repeat Purchase Rate]', label: Repeat Rate}\n", "segment_by_country"),
                           ("    tooltips: '[Prime Customer %]'\n", "customers_by_segment")):
        text = insert_after(text, anchor, f"    position: {flow(position(project, visual))}\n")
    return text


def test_moved_visual(project: Path):
    before = yaml_files(project)
    page_yaml = "semantic/pages/01_customer_snapshot.yaml"
    expected = expected_page_after_move(project, before[page_yaml].decode("utf-8"))
    unmoved = {d.name: (d / "visual.json").read_bytes() for d in (out(project) / PAGE / "visuals").iterdir()
               if d.name != "gauge_repeat_rate"}
    desktop = move_gauge(project)
    done = merge(project)
    assert done.returncode == 0, done.stdout + done.stderr
    after = yaml_files(project)
    assert after[page_yaml].decode("utf-8") == expected
    assert {k: v for k, v in after.items() if k != page_yaml} == {k: v for k, v in before.items() if k != page_yaml}
    rebuilt = build(project, "--no-tom")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert (out(project) / PAGE / "visuals" / "gauge_repeat_rate" / "visual.json").read_text("utf-8") == desktop
    for rel, text in unmoved.items():  # nothing else on the page moved
        assert (out(project) / PAGE / "visuals" / rel / "visual.json").read_bytes() == text, rel


def test_renamed_page(project: Path):
    before = yaml_files(project)
    page_yaml = "semantic/pages/01_customer_snapshot.yaml"
    desktop = rename_page(project)
    done = merge(project)
    assert done.returncode == 0, done.stdout + done.stderr
    after = yaml_files(project)
    # the new name, and the folder's id (it came from the old name) so the page folder stays
    old = before[page_yaml].decode("utf-8")
    assert old.startswith("name: Customer Snapshot\n")
    assert after[page_yaml].decode("utf-8") == \
        "name: Customer Overview\nid: customer_snapshot\n" + old[len("name: Customer Snapshot\n"):]
    assert {k: v for k, v in after.items() if k != page_yaml} == {k: v for k, v in before.items() if k != page_yaml}
    rebuilt = build(project, "--no-tom")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert (out(project) / PAGE / "page.json").read_text("utf-8") == desktop


def test_all_three_at_once(project: Path):
    before = yaml_files(project)
    page_yaml = "semantic/pages/01_customer_snapshot.yaml"
    expected_page = expected_page_after_move(project, before[page_yaml].decode("utf-8"))
    expected_page = "name: Customer Overview\nid: customer_snapshot\n" + \
        expected_page[len("name: Customer Snapshot\n"):]
    measure, visual, page = add_measure(project), move_gauge(project), rename_page(project)
    # without the merge, the build refuses the three files Desktop changed
    refused = build(project, "--no-tom")  # model.tmdl too: Desktop stamped its version into it
    assert refused.returncode == 2 and refused.stderr.count("changed since the last build") == 4, refused.stderr
    done = merge(project)
    assert done.returncode == 0, done.stdout + done.stderr
    after = yaml_files(project)
    assert after["measures/kpis.yaml"] == expected_kpis(before["measures/kpis.yaml"])
    assert after[page_yaml].decode("utf-8") == expected_page
    untouched = set(before) - {"measures/kpis.yaml", page_yaml}
    assert {k: after[k] for k in untouched} == {k: before[k] for k in untouched} and set(after) == set(before)
    rebuilt = build(project)  # with Microsoft's TOM check of the TMDL where it is installed
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    check_measure_rebuilt(project, measure)
    assert (out(project) / PAGE / "visuals" / "gauge_repeat_rate" / "visual.json").read_text("utf-8") == visual
    assert (out(project) / PAGE / "page.json").read_text("utf-8") == page
    check_engine(project)
    # merged and rebuilt: a second merge finds nothing to do
    again = merge(project)
    assert again.returncode == 0 and "nothing to merge" in again.stdout, again.stdout + again.stderr


def test_new_visual_is_kept_as_raw_pbir(project: Path):
    """A visual Desktop added is written back byte-for-byte from semantic/pbir/ (as `import` does)."""
    folder = out(project) / PAGE / "visuals" / "desktop_textbox"
    folder.mkdir()
    text = json.dumps({"$schema": "https://developer.microsoft.com/json-schemas/fabric/item/report/definition/"
                                  "visualContainer/2.0.0/schema.json",
                       "name": "desktop_textbox",
                       "position": {"x": 16, "y": 1600, "z": 17000, "height": 40, "width": 300, "tabOrder": 17000},
                       "visual": {"visualType": "textbox", "drillFilterOtherVisuals": True}}, indent=2)
    (folder / "visual.json").write_text(text, "utf-8")
    done = merge(project)
    assert done.returncode == 0, done.stdout + done.stderr
    kept = project / "semantic" / "pbir" / "pages" / "customer_snapshot" / "visuals" / "desktop_textbox" / "visual.json"
    assert kept.read_bytes() == text.encode("utf-8")
    rebuilt = build(project, "--no-tom")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert (folder / "visual.json").read_bytes() == text.encode("utf-8")


def manifest(project: Path) -> bytes:
    return (out(project) / ".pbi-forge-manifest.json").read_bytes()


def test_changed_relationship_is_refused_and_nothing_written(project: Path):
    before, record = yaml_files(project), manifest(project)
    add_measure(project)  # maps, but must not be written alone
    path = out(project) / f"{NAME}.SemanticModel/definition/relationships.tmdl"
    text = path.read_text("utf-8")
    assert "\tcrossFilteringBehavior: bothDirections\n" not in text.split("\n\n")[0]
    first, rest = text.split("\n", 1)
    path.write_bytes((first + "\n\tcrossFilteringBehavior: bothDirections\n" + rest).encode("utf-8"))
    done = merge(project)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{path}:1:1: error: changed since the last build" in done.stderr and "hint: make the change in the YAML" \
        in done.stderr and "Traceback" not in done.stderr
    assert yaml_files(project) == before and manifest(project) == record
    # --force merges what maps and leaves the relationship for the next build to refuse
    forced = merge(project, "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert f"measure [{NEW_MEASURE}] added" in forced.stdout and "not merged (--force)" in forced.stdout
    assert yaml_files(project)["measures/kpis.yaml"] == expected_kpis(before["measures/kpis.yaml"])
    refused = build(project, "--no-tom")
    assert refused.returncode == 2 and "relationships.tmdl: it changed since the last build" in refused.stderr \
        and "Fact_Orders.tmdl" not in refused.stderr, refused.stderr


def test_deleted_table_is_refused(project: Path):
    before, record = yaml_files(project), manifest(project)
    path = out(project) / TABLES / "Dim_Date.tmdl"
    path.unlink()
    done = merge(project)
    assert done.returncode == 2
    assert f"{path}:1:1: error: deleted in Desktop" in done.stderr and "nothing was written" in done.stderr
    assert yaml_files(project) == before and manifest(project) == record


def test_fractional_position_and_column_change_are_refused(project: Path):
    before = yaml_files(project)
    path = out(project) / PAGE / "visuals" / "gauge_repeat_rate" / "visual.json"
    doc = json.loads(path.read_text("utf-8"))
    doc["position"]["x"] = 20.5
    path.write_text(json.dumps(doc, indent=2), "utf-8")
    table = out(project) / TABLES / "Dim_Customer.tmdl"
    text = table.read_text("utf-8")
    line = next(n for n, ln in enumerate(text.split("\n"), 1) if ln.startswith("\tcolumn "))
    table.write_text(text.replace("\n\tcolumn ", "\n\tcolumn Added_In_Desktop\n\t\tdataType: string\n\n\tcolumn ", 1),
                     "utf-8")
    done = merge(project)
    assert done.returncode == 2
    assert "moved to a fractional position (x=20.5" in done.stderr
    assert f"{table}:{line}:2: error: table 'Dim_Customer' changed beyond its measures" in done.stderr, done.stderr
    assert yaml_files(project) == before


def test_nothing_to_merge_and_bad_path(project: Path):
    done = merge(project)
    assert done.returncode == 0 and "nothing to merge" in done.stdout
    missing = merge(project, str(project / "nowhere"))
    assert missing.returncode == 2 and "no such folder" in missing.stderr and "Traceback" not in missing.stderr
    no_path = run("import", "--project", str(project))
    assert no_path.returncode == 2 and "import needs a PATH" in no_path.stderr


def test_new_page_becomes_a_yaml_page_with_raw_visuals(project: Path):
    """Desktop adds a page (a 20-hex-digit folder, as Desktop names them) with a text box,
    lists it last in pages.json and opens it (activePageName)."""
    before = yaml_files(project)
    pages = out(project) / f"{NAME}.Report/definition/pages"
    page_id = "a1b2c3d4e5f60718293a"
    schema = json.loads((pages / "customer_snapshot" / "page.json").read_text("utf-8"))["$schema"]
    page_text = json.dumps({"$schema": schema, "name": page_id, "displayName": "Page 1",
                            "displayOption": "FitToPage", "height": 720, "width": 1280}, indent=2)
    (pages / page_id / "visuals" / "textbox1").mkdir(parents=True)
    (pages / page_id / "page.json").write_text(page_text, "utf-8")
    visual_text = json.dumps({"$schema": schema.replace("/page/", "/visualContainer/"), "name": "textbox1",
                              "position": {"x": 40, "y": 40, "z": 0, "height": 60, "width": 400, "tabOrder": 0},
                              "visual": {"visualType": "textbox", "drillFilterOtherVisuals": True}}, indent=2)
    (pages / page_id / "visuals" / "textbox1" / "visual.json").write_text(visual_text, "utf-8")
    order = json.loads((pages / "pages.json").read_text("utf-8"))
    order["pageOrder"].append(page_id)
    order["activePageName"] = page_id
    (pages / "pages.json").write_text(json.dumps(order, indent=2), "utf-8")
    done = merge(project)
    assert done.returncode == 0, done.stdout + done.stderr
    after = yaml_files(project)
    # seven YAML pages (order 1-7): the new one is the eighth; our writer would write its page.json
    # byte for byte (FitToPage for a 720 px page), so only its visual is raw PBIR
    new = {k: v for k, v in after.items() if k not in before}
    assert new == {
        "semantic/pages/08_Page_1.yaml": (  # named as `import` names pages (to_yaml.slug)
            "# Page added in Power BI Desktop, merged by `pbi-forge import --merge`; its visuals are kept as raw "
            f"PBIR in semantic/pbir/pages/{page_id}/ (written back byte-for-byte).\n"
            f"name: Page 1\nid: {page_id}\norder: 8\nwidth: 1280\nheight: 720\nvisuals: []\n").encode("utf-8"),
        f"semantic/pbir/pages/{page_id}/visuals/textbox1/visual.json": visual_text.encode("utf-8")}
    assert {k: after[k] for k in before} == before
    rebuilt = build(project, "--no-tom")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert (pages / page_id / "page.json").read_text("utf-8") == page_text
    assert (pages / page_id / "visuals" / "textbox1" / "visual.json").read_text("utf-8") == visual_text
    assert json.loads((pages / "pages.json").read_text("utf-8"))["pageOrder"] == order["pageOrder"]


def test_new_measures_of_a_table_without_measures_file(project: Path):
    """Dim_Channel has no measures/*.yaml: its two new measures go to one new file, written as
    `import` writes measures files (generator/importer/yaml_text.py)."""
    before = yaml_files(project)
    path = out(project) / TABLES / "Dim_Channel.tmdl"
    text = path.read_text("utf-8")
    blocks = ("\tmeasure Channels = COUNTROWS ( Dim_Channel )\n"
              "\t\tformatString: 0\n"
              "\t\tlineageTag: 0d5f7f0e-97a1-4a51-9a3e-1b2c3d4e5f60\n\n"
              "\tmeasure 'Highest Channel ID' =\n"
              "\t\t\tCALCULATE (\n"
              "\t\t\t    MAX ( Dim_Channel[Channel_ID] ),\n"
              "\t\t\t    ALL ( Dim_Channel )\n"
              "\t\t\t)\n"
              "\t\tdisplayFolder: Channels\n"
              "\t\tlineageTag: 0d5f7f0e-97a1-4a51-9a3e-1b2c3d4e5f61\n\n")
    at = text.index("\tcolumn ")
    path.write_bytes((text[:at] + blocks + text[at:]).encode("utf-8"))
    done = merge(project)
    assert done.returncode == 0, done.stdout + done.stderr
    after = yaml_files(project)
    assert {k: after[k] for k in before} == before
    assert {k: v.decode("utf-8") for k, v in after.items() if k not in before} == {"measures/Dim_Channel.yaml": (  # named as `import` names it
        "# Measures of Dim_Channel, merged from Power BI Desktop by `pbi-forge import --merge`.\n"
        "table: Dim_Channel\n"
        "measures:\n"
        "  - {name: Channels, expression: COUNTROWS ( Dim_Channel ), format: '0'}\n"
        # the DAX as `fmt` formats it: a call that fits on one line is written on one line
        "  - name: Highest Channel ID\n"
        "    expression: CALCULATE ( MAX ( Dim_Channel[Channel_ID] ), ALL ( Dim_Channel ) )\n"
        "    folder: Channels\n")}
    rebuilt = build(project, "--no-tom")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    # COUNTROWS counts the table's rows and MAX over ALL its highest key (dax.guide/countrows,
    # dax.guide/max, dax.guide/all): by hand SQL over the Parquet the build wrote
    done = run("query", "--project", str(project), "--format", "json",
               'EVALUATE ROW("n", [Channels], "m", [Highest Channel ID])')
    assert done.returncode == 0, done.stderr
    con = duckdb.connect()
    want = con.execute("SELECT COUNT(*), MAX(Channel_ID) FROM read_parquet(?)",
                       [str(out(project) / "data" / "Dim_Channel.parquet")]).fetchone()
    con.close()
    assert want[0] > 1 and json.loads(done.stdout)["rows"] == [list(want)]


def test_yaml_edits_keep_windows_line_ends_and_comments():
    """A YAML file saved with CRLF line ends keeps them in every merged line; a comment after a
    one-line value that becomes a block moves onto the `|-` line."""
    from generator.importer import yaml_edit as E

    text = ("# measures\r\ntable: T\r\nmeasures:\r\n"
            "  - name: A  # first\r\n    expression: SUM ( T[x] )  # keep me\r\n\r\n"
            "  # the last one\r\n  - {name: B, expression: '1'}\r\n")
    root = E.compose(text, "t.yaml")
    seq = E.get(root, "measures")
    first, last = seq.value
    edits = [E.replace(text, E.get(first, "expression"), 4, "VAR a = 1\nRETURN\n    a"),
             E.add_key(text, last, "format", "0"),
             E.append_item(text, seq, {"name": "C", "expression": "SUM ( T[y] )", "description": "a, b"})]
    new = E.apply(text, edits)
    assert new == ("# measures\r\ntable: T\r\nmeasures:\r\n"
                   "  - name: A  # first\r\n    expression: |- # keep me\r\n      VAR a = 1\r\n      RETURN\r\n"
                   "          a\r\n\r\n"
                   "  # the last one\r\n  - {name: B, expression: '1', format: '0'}\r\n"
                   # a value with a flow indicator ([ ] ,) keeps the item out of flow style (yaml_text._flow)
                   "  - name: C\r\n    expression: SUM ( T[y] )\r\n    description: a, b\r\n")
    import yaml
    assert yaml.safe_load(new)["measures"][0]["expression"] == "VAR a = 1\nRETURN\n    a"
