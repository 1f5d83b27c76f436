"""Model metadata in YAML and TMDL: perspectives, cultures (translations), data categories,
hierarchy properties and the model description.

Expected TMDL is written by hand from Desktop-saved files (../shared/pbip-samples:
RuiRomano__pbip-demo Model01 perspectives/Sales.tmdl and cultures/pt-PT.tmdl,
SM_SalesSense Customer.tmdl `dataCategory: City`) and checked against TOM's own
serializer where TOM is installed: our files must be what TmdlSerializer writes back.
Rules: learn.microsoft.com/analysis-services/tabular-models/perspectives-ssas-tabular,
learn.microsoft.com/analysis-services/tabular-models/translations-in-tabular-models-analysis-services,
learn.microsoft.com/analysis-services/tmdl/tmdl-overview.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from generator.cli import main
from generator.emit.tmdl import semantic_model_files
from generator.spec import load_project
from generator.validate import tom

REPO = Path(__file__).resolve().parents[1]


def _files(project: Path) -> dict[str, str]:
    return semantic_model_files(load_project(project), "C:\\data\\", {})


def _append_model(project: Path, text: str) -> None:
    f = project / "semantic" / "model.yaml"
    f.write_text(f.read_text() + textwrap.dedent(text))


def _build(project: Path, capsys) -> tuple[int, str]:
    code = main(["build", "--project", str(project), "--out", str(project / "out"), "--no-tom"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_shipped_perspective_lists_measures_then_columns_then_hierarchies(project):
    # Desktop/TOM order inside a perspectiveTable: perspectiveMeasure, perspectiveColumn,
    # perspectiveHierarchy (Model01 perspectives/Sales.tmdl), each entry after a blank line
    text = _files(project)["perspectives/Sales.tmdl"]
    fact = text.split("perspectiveTable Fact_Orders\n")[1].split("perspectiveTable")[0]
    assert [ln.strip() for ln in fact.splitlines() if ln.strip()] == [
        "perspectiveMeasure 'Total Customers'", "perspectiveMeasure 'Total Orders'",
        "perspectiveMeasure 'Total Revenue'", "perspectiveMeasure 'Average Order Value'",
        "perspectiveColumn Order_Date", "perspectiveColumn Quantity"]
    assert text.startswith("/// Orders, revenue and the calendar, without the customer scoring tables.\n"
                           "perspective Sales\n\n\tperspectiveTable Fact_Orders\n\n\t\tperspectiveMeasure 'Total Customers'\n")
    # `all`: every column of Dim_Date (hidden ones too) and its hierarchy
    date = text.split("perspectiveTable Dim_Date\n")[1].split("perspectiveTable")[0]
    assert "\t\tperspectiveColumn Weekday_Number\n" in date and date.rstrip().endswith("perspectiveHierarchy Calendar")


def test_shipped_culture_is_the_translations_block_desktop_writes(project):
    # cultures/pt-PT.tmdl of Model01: cultureInfo > translations > model Model > table >
    # caption/description, then its columns, measures, hierarchies (with levels)
    text = _files(project)["cultures/nb-NO.tmdl"]
    assert text == textwrap.dedent("""\
        cultureInfo nb-NO
        \ttranslations
        \t\tmodel Model
        \t\t\ttable Dim_Customer
        \t\t\t\tcaption: Kunde
        \t\t\t\tcolumn Country
        \t\t\t\t\tcaption: Land
        \t\t\ttable Dim_Date
        \t\t\t\tcaption: Dato
        \t\t\t\tcolumn Year
        \t\t\t\t\tcaption: År
        \t\t\t\tcolumn Month_Name
        \t\t\t\t\tcaption: Måned
        \t\t\t\thierarchy Calendar
        \t\t\t\t\tcaption: Kalender
        \t\t\t\t\tlevel Year
        \t\t\t\t\t\tcaption: År
        \t\t\t\t\tlevel Quarter
        \t\t\t\t\t\tcaption: Kvartal
        \t\t\t\t\tlevel Month_Name
        \t\t\t\t\t\tcaption: Måned
        \t\t\ttable Fact_Orders
        \t\t\t\tcaption: Ordrer
        \t\t\t\tdescription: Én rad per ordrelinje.
        \t\t\t\tmeasure 'Total Customers'
        \t\t\t\t\tcaption: Antall kunder
        \t\t\t\t\tdescription: Kunder med minst én ordre.
        \t\t\t\tmeasure 'Total Orders'
        \t\t\t\t\tcaption: Antall ordrer
        \t\t\t\tmeasure 'Total Revenue'
        \t\t\t\t\tcaption: Total omsetning
        \t\t\t\tmeasure 'Average Order Value'
        \t\t\t\t\tcaption: Gjennomsnittlig ordreverdi
        \t\t\tperspective Sales
        \t\t\t\tcaption: Salg
        """).replace("\\t", "\t")


def test_model_tmdl_refers_to_perspectives_and_every_culture(project):
    text = _files(project)["model.tmdl"]
    assert text.startswith("/// Customers, their orders and what they buy, for the Customer Snapshot dashboard.\n"
                           "model Model\n")
    assert text.endswith("ref role 'Sales Region'\n\nref perspective Sales\n\nref cultureInfo en-US\nref cultureInfo nb-NO\n")


def test_data_category_sits_between_lineage_tag_and_summarize_by(project):
    # SM_SalesSense Customer.tmdl: lineageTag, dataCategory: Country, summarizeBy
    text = _files(project)["tables/Dim_Customer.tmdl"]
    block = text.split("\tcolumn Country\n")[1].split("\n\n")[0]
    lines = [ln.strip().split(":")[0] for ln in block.splitlines()]
    assert lines == ["dataType", "lineageTag", "dataCategory", "summarizeBy", "sourceColumn"]
    assert "\t\tdataCategory: Country\n" in block + "\n"


def test_hierarchy_description_folder_hidden_and_level_description(project):
    f = project / "semantic" / "tables" / "Dim_Date.yaml"
    f.write_text(f.read_text().replace(
        "    levels: [Year, Quarter, Month_Name]",
        "    folder: Drill\n    hidden: true\n    levels:\n      - {name: Year, column: Year, description: Calendar year.}\n"
        "      - Quarter\n      - Month_Name"))
    text = _files(project)["tables/Dim_Date.tmdl"]
    h = text[text.index("\t/// Year, then quarter"):text.index("\tlevel Quarter")]
    assert h.splitlines()[:6] == [
        "\t/// Year, then quarter, then month, for drill-down on date axes.", "\thierarchy Calendar",
        "\t\tisHidden", "\t\tdisplayFolder: Drill", h.splitlines()[4], ""]
    assert h.splitlines()[4].startswith("\t\tlineageTag: ")
    assert "\t\t/// Calendar year.\n\t\tlevel Year\n" in h


@pytest.mark.parametrize("snippet, message", [
    ("""\
     perspectives:
       - {name: Extra, tables: {Nope: all}}
     """, "perspective 'Extra' names table 'Nope', which does not exist"),
    ("""\
     perspectives:
       - {name: Extra, tables: {Fact_Orders: [Total Revenue, Revenu]}}
     """, "perspective 'Extra': 'Revenu' is not a column, measure or hierarchy of table 'Fact_Orders'"),
    ("""\
     cultures:
       - name: de-DE
         tables: {Dim_Customer: {measures: {Total Revenue: Umsatz}}}
     """, "culture 'de-DE' translates measure 'Total Revenue', which is not a measure of table 'Dim_Customer'"),
    ("""\
     cultures:
       - name: de-DE
         tables: {Dim_Date: {hierarchies: {Calendar: {levels: {Week: Woche}}}}}
     """, "culture 'de-DE': hierarchy 'Calendar' has no level 'Week'"),
    ("""\
     cultures:
       - {name: en-US}
     """, "culture 'en-US' is defined twice (or is the model's own culture"),
])
def test_bad_references_are_refused_with_their_position(project, capsys, snippet, message):
    model = project / "semantic" / "model.yaml"
    text = model.read_text()
    # replace the shipped perspectives/cultures by the broken snippet
    text = text[:text.index("# A perspective for sales reporting")] + textwrap.dedent(snippet)
    model.write_text(text)
    code, out = _build(project, capsys)
    assert code == 2, out
    assert message in out
    assert "model.yaml:" in out and "Traceback" not in out
    assert not (project / "out").exists()


def test_unknown_translation_key_is_refused(project, capsys):
    _append_model(project, "")
    model = project / "semantic" / "model.yaml"
    model.write_text(model.read_text().replace("        caption: Ordrer\n", "        captoin: Ordrer\n"))
    code, out = _build(project, capsys)
    assert code == 2 and "unknown key 'captoin'" in out


_CANONICAL = """
import sys
from generator.validate import tom
ser, opt = tom._load(*tom.locate())
o = opt(); o.RaiseErrorOnUnresolvedLinks = True
ser.SerializeDatabaseToFolder(ser.DeserializeDatabaseFromFolder(sys.argv[1], o), sys.argv[2])
"""


@pytest.mark.skipif(not tom.available(), reason="TOM is not installed (see generator/validate/tom.py)")
def test_tom_writes_our_metadata_files_back_unchanged(project, tmp_path):
    """TmdlSerializer (what Desktop uses) reads our files and writes them back: the same text,
    up to the trailing blank line TOM ends every file with."""
    f = project / "semantic" / "tables" / "Dim_Date.yaml"
    f.write_text(f.read_text().replace("    levels: [Year, Quarter, Month_Name]",
                                       "    folder: Drill\n    hidden: true\n    levels:\n"
                                       "      - {name: Year, column: Year, description: Calendar year.}\n"
                                       "      - Quarter\n      - Month_Name"))
    model = project / "semantic" / "model.yaml"
    model.write_text(model.read_text().replace("# (after roles, so the positions", (
        "  - name: Marketing\n    object_security:\n      Dim_Customer: [Annual_Income, Birth_Date]\n"
        "      RFM_Rules: none\n# (after roles, so the positions")))
    files = _files(project)
    src = tmp_path / "definition"
    for rel, text in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text, encoding="utf-8")
    back = tmp_path / "back"
    proc = subprocess.run([sys.executable, "-c", _CANONICAL, str(src), str(back)], cwd=REPO,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for rel in ("perspectives/Sales.tmdl", "cultures/nb-NO.tmdl", "model.tmdl", "tables/Dim_Customer.tmdl",
                "roles/Marketing.tmdl", "roles/Sales Region.tmdl"):
        assert (back / rel).read_text(encoding="utf-8").rstrip("\n") == files[rel].rstrip("\n"), rel
    # the whole date table too: dataCategory: Time after lineageTag, the hierarchy's properties
    assert (back / "tables/Dim_Date.tmdl").read_text(encoding="utf-8").rstrip("\n") == \
        files["tables/Dim_Date.tmdl"].rstrip("\n")
